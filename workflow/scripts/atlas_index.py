"""Rule atlas_index: the atlas index page, from the maps' summary."""

import json

from coworking_geo.atlas.index import index_page
from coworking_geo.io import write_text
from coworking_geo.log import snakemake_script
from coworking_geo.sources import load_sources, provenance, provenance_line, title_for

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    p = smk.params
    files = [smk.input.summary] if isinstance(smk.input.summary, str) else list(smk.input.summary)
    summaries = [m for f in files for m in json.loads(open(f, encoding="utf-8").read())]
    order = {key: i for i, key in enumerate(p.themes)}
    summaries.sort(key=lambda m: order.get(m["key"], len(order)))
    ids = list(dict.fromkeys(i for ids in p.source_ids.values() for i in ids))
    sources = load_sources(smk.input.sources_yaml)
    prov = provenance(sources, [i for i in ids if i in sources], p.territory, "Atlas")
    title = title_for(f"Atlas des espaces de coworking et tiers-lieux — {p.territory_label}", p.territory)
    page = index_page(title, f"{len(summaries)} cartes interactives (cliquer pour ouvrir) et cartes statiques PNG",
                      summaries, provenance_line(prov))
    write_text(smk.output[0], page)
    log.info("index of %d maps written to %s", len(summaries), smk.output[0])
