"""Snakemake script: the communes table of the territory (a selection of the national table) and its summaries."""

import geopandas as gpd
import pandas as pd

from coworking_geo.territories import communes as cm
from coworking_geo.territories.classify import DENSITY_CLASSES, TERRITORY_CLASSES, territory_class_vs_official
from coworking_geo.codes import dep_of
from coworking_geo.io import read_table, write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance
from coworking_geo.territories.territory import parse_territory

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    sources = load_sources(smk.input.sources_yaml)
    territory = parse_territory(smk.params.territory)
    national = gpd.read_parquet(smk.input.national)
    mask = territory.select(national["dep_code"], national["reg_code"])
    out = national[mask.to_numpy()].reset_index(drop=True)
    log.info("%s: %d communes, population %d, %d without a class", territory.spec, len(out),
             int(out["population"].sum()), int(out["territory_class"].eq("unknown").sum()))
    log.info("territory_class: %s", out["territory_class"].value_counts().to_dict())

    # Issues of the territory only (codes whose département is in it; all of them for france / demo).
    issues = pd.read_parquet(smk.input.issues)
    dep_reg = national.drop_duplicates("dep_code").set_index("dep_code")["reg_code"]
    code5 = issues["code"].fillna("").str.strip().str.zfill(5)
    idep = code5.map(dep_of)
    keep = territory.select(idep, idep.map(dep_reg).fillna(""))
    issues = issues[keep.to_numpy()].drop_duplicates().reset_index(drop=True)
    log.info("issues: %s", issues.groupby(["source", "status"]).size().to_dict())

    ids = ["ign_admin_express_communes", "insee_grille_densite", "insee_appartenance_geo",
           "anct_action_coeur_de_ville", "anct_petites_villes_de_demain", "anct_villages_avenir",
           "etalab_decoupage_administratif"]
    spec = territory.spec
    write_parquet(out, smk.output.communes, provenance(sources, ids, spec, "Communes and their classification"))
    regions = read_table(smk.input.regions).set_index("reg_code")["reg_name"].rename("reg_name")
    tables = {
        "by_class": cm.counts_by(out, "territory_class", TERRITORY_CLASSES),
        "by_density": cm.counts_by(out, "density_class", DENSITY_CLASSES),
        "by_region": cm.counts_by(out, "reg_code", sorted(out["reg_code"].dropna().unique()), regions),
    }
    ruralite = cm.read_ruralite(smk.input.ruralite) if smk.input.ruralite else None
    tables["official"] = territory_class_vs_official(out, ruralite)
    for key, title in [("by_class", "Communes and population by territory class"),
                       ("official", "Territory class against INSEE's density levels and ANCT's ruralité typology"),
                       ("by_density", "Communes and population by density class"),
                       ("by_region", "Communes and population by région")]:
        write_csv(tables[key], smk.output[key], provenance(sources, ids, spec, title))
    write_csv(issues, smk.output.unmatched,
              provenance(sources, ids, spec, "Source codes not matched, fixed or missing"))
