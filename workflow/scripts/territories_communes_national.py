"""Snakemake script: the national communes table (polygons, attributes, territory_class) and the codes not matched."""

import pandas as pd

from coworking_geo.territories import communes as cm
from coworking_geo.io import read_table, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    sources = load_sources(smk.input.sources_yaml)
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
    if int(out["population"].sum()) != int(communes["population"].sum()):
        raise AssertionError("population total differs from the source")
    log.info("national: %d communes, population %d, %d without a class; %d polygons repaired", len(out),
             int(out["population"].sum()), int(out["territory_class"].eq("unknown").sum()),
             stats["geometries_repaired"])
    issues = pd.concat([issues, i_dens, i_aav, i_acv, i_pvd, i_va, unclassified], ignore_index=True)
    ids = ["ign_admin_express_communes", "insee_grille_densite", "insee_appartenance_geo",
           "anct_action_coeur_de_ville", "anct_petites_villes_de_demain", "anct_villages_avenir",
           "etalab_decoupage_administratif"]
    write_parquet(out, smk.output.communes, provenance(sources, ids, smk.params.territory,
                                                       "Communes and their classification"))
    write_parquet(issues.astype("string"), smk.output.issues,
                  provenance(sources, ids, smk.params.territory, "Source codes not matched, fixed or missing"))
