"""Rule report: the HTML report from the processed tables and results tables, opened by the synthesis."""

import datetime as dt
from pathlib import Path

from coworking_geo.io import read_codes_csv, read_table, write_text
from coworking_geo.log import snakemake_script
from coworking_geo.report.portraits import territory_label
from coworking_geo.report.page import headline_figures, mission_comparison, render_report
from coworking_geo.sources.catalogue import load_sources
from coworking_geo.spaces.titles import places_title
from coworking_geo.report.synthesis import dated_line, register_label, synthesis, synthesis_html

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    p = smk.params
    i = smk.input
    communes, spaces = read_table(i.communes), read_table(i.spaces)
    label = territory_label(p.territory, read_table(i.departements), read_table(i.regions))
    tables = {Path(f).name: read_codes_csv(f) for f in i.tables}
    figures = headline_figures(communes, spaces, read_table(i.indicators), read_table(i.programmes),
                               tables.get("priority_territories.csv"), tables.get("proposed_sites.csv"),
                               p.radius_km)
    mission = mission_comparison(spaces, communes, tables.get("mission_shares.csv"))
    sources = load_sources(i.sources_yaml)
    used = [sources[s] for s in dict.fromkeys(x for ids in p.source_ids.values() for x in ids) if s in sources]
    now = dt.datetime.now(dt.timezone.utc)
    answers = synthesis(tables, register_label(used, spaces["source"].astype(str).unique().tolist()), p.atlas_links)
    page = render_report(f"Diagnostic des espaces de coworking et tiers-lieux — {label}", p.territory,
                         figures, mission, tables, used, generated=now.strftime("%d/%m/%Y %H:%M UTC"),
                         territory_label=label,
                         synthesis=synthesis_html(answers, dated_line(now, label)),
                         downloads=[("tables/places.csv", f"{places_title(spaces)} : tableau des lieux (CSV)"),
                                    ("tables/places.gpkg", "les mêmes lieux pour QGIS (GeoPackage, EPSG:4326)")])
    write_text(smk.output[0], page)
    log.info("report: synthesis of %d questions (%d figures), %d figures, %d tables, %d sources", len(answers),
             sum(a.html_figures() for a in answers), len(figures), len(tables), len(used))
