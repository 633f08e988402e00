"""Rule atlas_single: the one-page atlas (atlas.html, communes.js, data.js) and its summary."""

import json
from pathlib import Path

from coworking_geo.atlas.build import load_inputs, provenance_short
from coworking_geo.atlas.single import atlas_files, read_js
from coworking_geo.io import read_table, write_text
from coworking_geo.log import snakemake_script
from coworking_geo.report.portraits import territory_label
from coworking_geo.sources.catalogue import load_sources, provenance, provenance_line, title_for

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    p = smk.params
    paths = {k: v for k, v in dict(smk.input).items() if k not in ("sources_yaml", "regions")}
    inp = load_inputs(paths, p.coordinate_precision, p.long_commute_km)
    label = territory_label(p.territory, read_table(smk.input.departements), read_table(smk.input.regions))
    sources = load_sources(smk.input.sources_yaml)
    ids = list(dict.fromkeys(i for ids in p.source_ids.values() for i in ids))
    prov = provenance(sources, [i for i in ids if i in sources], p.territory, "Atlas")
    files = atlas_files(inp, title_for(f"Atlas des lieux de coworking et tiers-lieux — {label}", p.territory),
                        p.tiles, provenance_line(prov), provenance_short(prov), p.atlas_precision)
    out = Path(smk.output.html).parent
    for name, text in files.items():
        write_text(out / name, text)
    data = read_js(files["data.js"])
    summary = {"title": label, "bytes": sum(len(t.encode("utf-8")) for t in files.values()),
               "files": {k: len(v.encode("utf-8")) for k, v in files.items()},
               "indicators": [{"key": i["key"], "title": i["title"], "note": i.get("note", "")}
                              for i in data["indicators"]],
               "places": len(data["places"]["rows"]), "provenance": prov}
    write_text(smk.output.summary, json.dumps(summary, ensure_ascii=False, indent=2))
    log.info("atlas: %.2f MB in %d files, %d indicators, %d places", summary["bytes"] / 1e6, len(files),
             len(summary["indicators"]), summary["places"])
