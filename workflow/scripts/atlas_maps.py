"""Rule atlas_maps: one self-contained HTML map per theme, and a JSON summary for the index."""

import json
from pathlib import Path

from coworking_geo.atlas.build import build_map, load_inputs
from coworking_geo.io import read_table, write_text
from coworking_geo.log import snakemake_script
from coworking_geo.report.portraits import territory_label
from coworking_geo.sources.catalogue import load_sources

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    p = smk.params
    inp = load_inputs(dict(smk.input), p.coordinate_precision, p.long_commute_km)
    sources = load_sources(smk.input.sources_yaml)
    label = territory_label(p.territory, read_table(smk.input.departements), read_table(smk.input.regions))
    summaries = []
    for key in p.themes:
        page, summary = build_map(key, inp, p.tiles, p.territory, label, p.source_ids, sources)
        out = Path(smk.output.maps[0]).parent / f"{key}.html"
        write_text(out, page)
        write_text(out.with_name(out.name + ".meta.json"),
                   json.dumps(summary["provenance"], ensure_ascii=False, indent=2))
        summaries.append(summary)
        log.info("%s: %.2f MB, %d polygons, %d points", out, summary["bytes"] / 1e6, summary["polygons"],
                 summary["points"])
    write_text(smk.output.summary, json.dumps(summaries, ensure_ascii=False, indent=2))
