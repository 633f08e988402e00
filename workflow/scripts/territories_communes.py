"""Snakemake script: the communes table of the territory (polygons, attributes, territory_class) and its summaries."""

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
    crosswalk = read_table(smk.input.crosswalk)

    communes, issues, stats = cm.read_communes(smk.input.communes)
    current = communes["insee_code"]
    density, i_dens = cm.read_density(smk.input.density, current, crosswalk)
    aav, i_aav = cm.read_aav(smk.input.aav, smk.input.aav_labels, current, crosswalk, smk.params.cog_year)
    nature = cm.read_epci_nature(smk.input.appartenance)
    acv, i_acv = cm.programme_membership(cm.programme_codes_csv(smk.input.acv), current, crosswalk,
                                         "anct_action_coeur_de_ville")
    pvd, i_pvd = cm.programme_membership(cm.programme_codes_geojson(smk.input.pvd), current, crosswalk,
                                         "anct_petites_villes_de_demain")
    va, i_va = cm.programme_membership(cm.programme_codes_geojson(smk.input.va), current, crosswalk,
                                       "anct_villages_avenir")
    out = cm.assemble_communes(communes, density, aav, nature, {"acv": acv, "pvd": pvd, "village_avenir": va},
                               smk.params.population_year, smk.params.classification)

    unclassified = cm.unclassified(out, smk.input.density, smk.input.aav,
                                   smk.params.classification["max_unknown_share"])
    mask = territory.select(out["dep_code"], out["reg_code"])
    out = out[mask.to_numpy()].reset_index(drop=True)
    source_total = int(communes.loc[mask.to_numpy(), "population"].sum())
    if int(out["population"].sum()) != source_total:
        raise AssertionError("population total differs from the source")
    log.info("%s: %d communes, population %d (source total %d), %d without a class; %d polygons repaired",
             territory.spec, len(out), int(out["population"].sum()), source_total,
             int(out["territory_class"].eq("unknown").sum()), stats["geometries_repaired"])
    log.info("territory_class: %s", out["territory_class"].value_counts().to_dict())

    # Issues of the territory only (codes whose département is in it; all of them for france / demo).
    issues = pd.concat([issues, i_dens, i_aav, i_acv, i_pvd, i_va, unclassified], ignore_index=True)
    dep_reg = communes.drop_duplicates("dep_code").set_index("dep_code")["reg_code"]
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
