"""Rule publish: the pages of a territory, from tables read once — the one-page atlas and its home page,
the report with the synthesis, and one portrait per département (one job: start-up paid once, issue 19)."""

import datetime as dt
import json
from pathlib import Path

from coworking_geo.atlas.build import load_inputs, provenance_short
from coworking_geo.atlas.index import index_page
from coworking_geo.atlas.single import atlas_files, atlas_summary
from coworking_geo.io import read_codes_csv, read_table, write_text
from coworking_geo.log import snakemake_script
from coworking_geo.report.page import headline_figures, mission_comparison, render_report
from coworking_geo.report.portraits import PortraitData, build_portraits, territory_label
from coworking_geo.report.synthesis import MONTHS_FR, dated_line, register_label, synthesis, synthesis_html
from coworking_geo.sources.catalogue import load_sources, provenance, provenance_line, title_for
from coworking_geo.spaces.titles import places_title

ATLAS_KEYS = ("atlas_communes", "atlas_departements", "indicators", "spaces", "space_models", "programmes",
              "profiles", "priority", "sites")

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    p, i, o = smk.params, smk.input, smk.output
    sources = load_sources(i.sources_yaml)
    deps, regions = read_table(i.departements), read_table(i.regions)
    label = territory_label(p.territory, deps, regions)
    inp = load_inputs({k: i[k] for k in ATLAS_KEYS}, p.coordinate_precision, p.long_commute_km)
    communes = read_table(i.communes, geometry=False)
    tables = {Path(f).name: read_codes_csv(f) for f in i.tables}
    ids = [s for s in dict.fromkeys(x for ids in p.source_ids.values() for x in ids) if s in sources]
    used = [sources[s] for s in ids]
    register = register_label(used, inp.spaces["source"].astype(str).unique().tolist())
    now = dt.datetime.now(dt.timezone.utc)
    dated = dated_line(now, label)

    # the one-page atlas (atlas.html and data.js; communes.js comes from atlas_geometry) and its summary
    prov = provenance(sources, ids, p.territory, "Atlas")
    atlas_title = title_for(f"Atlas des lieux de coworking et tiers-lieux — {label}", p.territory)
    files = atlas_files(inp, atlas_title, p.tiles, provenance_line(prov), provenance_short(prov))
    for name, text in files.items():
        write_text(Path(o.atlas).parent / name, text)
    summary = atlas_summary(files, Path(i.geometry_js).stat().st_size, label, prov)
    write_text(o.atlas_summary, json.dumps(summary, ensure_ascii=False, indent=2))
    log.info("atlas: %.2f MB in %d files, %d indicators, %d places", summary["bytes"] / 1e6, len(files),
             len(summary["indicators"]), summary["places"])

    # the atlas home page: the synthesis and one card per indicator
    links = {k: f"atlas.html#{k}" for k in (x["key"] for x in summary["indicators"])}
    write_text(o.index, index_page(
        atlas_title,
        f"{len(summary['indicators'])} indicateurs sur une seule carte",
        synthesis_html(synthesis(tables, register, links, tables_href="../tables/"), dated),
        summary["indicators"], summary["bytes"], provenance_line(summary["provenance"]),
        {Path(f).stem for f in i.pngs}))

    # the report, opened by the synthesis
    spaces = inp.spaces.drop(columns="geometry", errors="ignore")
    figures = headline_figures(communes, spaces, inp.indicators, inp.programmes,
                               tables.get("priority_territories.csv"), tables.get("proposed_sites.csv"),
                               p.radius_km)
    answers = synthesis(tables, register, p.atlas_links)
    write_text(o.report, render_report(
        f"Diagnostic des espaces de coworking et tiers-lieux — {label}", p.territory, figures,
        mission_comparison(spaces, communes, tables.get("mission_shares.csv")), tables, used,
        generated=now.strftime("%d/%m/%Y %H:%M UTC"), territory_label=label,
        synthesis=synthesis_html(answers, dated),
        downloads=[("tables/places.csv", f"{places_title(spaces)} : tableau des lieux (CSV)"),
                   ("tables/places.gpkg", "les mêmes lieux pour QGIS (GeoPackage, EPSG:4326)")]))
    log.info("report: synthesis of %d questions (%d figures), %d figures, %d tables, %d sources", len(answers),
             sum(a.html_figures() for a in answers), len(figures), len(tables), len(used))

    # one portrait per département, and their index
    data = PortraitData(communes=communes, departements=deps, regions=regions, spaces=spaces,
                        space_models=inp.space_models, indicators=inp.indicators, priority=inp.priority,
                        sites=inp.sites, long_commute_km=p.long_commute_km)
    pages = build_portraits(data, label, f"chiffres du {now.day} {MONTHS_FR[now.month - 1]} {now.year}")
    Path(o.portraits).mkdir(parents=True, exist_ok=True)
    for name, page in pages.items():
        write_text(Path(o.portraits) / name, page)
    log.info("%d portraits written to %s", len(pages) - 1, o.portraits)
