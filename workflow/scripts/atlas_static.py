"""Rule atlas_static: one PNG map per theme (matplotlib), for slides."""

from pathlib import Path

from coworking_geo.atlas.build import build_static, load_inputs
from coworking_geo.log import snakemake_script
from coworking_geo.sources import load_sources

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    p = smk.params
    inp = load_inputs(dict(smk.input), p.simplify_tolerance_m, p.coordinate_precision, p.long_commute_km)
    sources = load_sources(smk.input.sources_yaml)
    for key in p.themes:
        out = Path(smk.output.maps[0]).parent / f"{key}.png"
        build_static(key, inp, str(out), p.territory, p.territory_label, p.source_ids, sources)
        log.info("%s: %d kB", out, out.stat().st_size // 1000)
