"""Rule atlas_static: one PNG map per theme (matplotlib), for slides."""

from pathlib import Path

from coworking_geo.atlas.build import build_static, load_inputs
from coworking_geo.io import read_table
from coworking_geo.log import snakemake_script
from coworking_geo.report.portraits import territory_label
from coworking_geo.sources.catalogue import load_sources

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    p = smk.params
    inp = load_inputs(dict(smk.input), p.coordinate_precision, p.long_commute_km)
    sources = load_sources(smk.input.sources_yaml)
    label = territory_label(p.territory, read_table(smk.input.departements), read_table(smk.input.regions))
    for key in p.themes:
        out = Path(smk.output.maps[0]).parent / f"{key}.png"
        build_static(key, inp, str(out), p.territory, label, p.source_ids, sources)
        log.info("%s: %d kB", out, out.stat().st_size // 1000)
