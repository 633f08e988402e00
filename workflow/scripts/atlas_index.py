"""Rule atlas_index: the atlas home page, opened by the synthesis for policymakers."""

import datetime as dt
import json
from pathlib import Path

from coworking_geo.atlas.index import index_page
from coworking_geo.io import read_codes_csv, read_table, write_text
from coworking_geo.log import snakemake_script
from coworking_geo.report.portraits import territory_label
from coworking_geo.sources.catalogue import load_sources, provenance_line, title_for
from coworking_geo.report.synthesis import dated_line, register_label, synthesis, synthesis_html

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    p, i = smk.params, smk.input
    summary = json.loads(Path(i.summary).read_text(encoding="utf-8"))
    tables = {Path(f).name: read_codes_csv(f) for f in i.tables}
    label = territory_label(p.territory, read_table(i.departements), read_table(i.regions))
    sources = load_sources(i.sources_yaml)
    spaces_src = read_table(i.spaces)["source"].astype(str).unique().tolist()
    used = [sources[s] for s in dict.fromkeys(x for ids in p.source_ids.values() for x in ids) if s in sources]
    links = {k: f"atlas.html#{k}" for k in (x["key"] for x in summary["indicators"])}
    answers = synthesis(tables, register_label(used, spaces_src), links, tables_href="../tables/")
    now = dt.datetime.now(dt.timezone.utc)
    pngs = {Path(f).stem for f in i.pngs}
    page = index_page(title_for(f"Atlas des lieux de coworking et tiers-lieux — {label}", p.territory),
                      f"{len(summary['indicators'])} indicateurs sur une seule carte",
                      synthesis_html(answers, dated_line(now, label)), summary["indicators"], summary["bytes"],
                      provenance_line(summary["provenance"]), pngs)
    write_text(smk.output[0], page)
    log.info("atlas index: synthesis and %d indicators written to %s", len(summary["indicators"]), smk.output[0])
