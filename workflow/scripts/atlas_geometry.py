"""Rule atlas_geometry: the communes and départements of the territory simplified once for every atlas map,
and encoded once for the one-page atlas (communes.js)."""

from coworking_geo.atlas.simplify import COMMUNE_COLUMNS, atlas_layer
from coworking_geo.atlas.single import geometry_file
from coworking_geo.io import read_table, write_parquet, write_text
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    p = smk.params
    prov = provenance(load_sources(smk.input.sources_yaml), ["ign_admin_express_communes"], p.territory,
                      "Communes et départements simplifiés pour l\u2019atlas")
    communes = atlas_layer(read_table(smk.input.communes), p.simplify_tolerance_m, p.coordinate_precision,
                           COMMUNE_COLUMNS)
    deps = atlas_layer(read_table(smk.input.departements), p.simplify_tolerance_m, p.coordinate_precision)
    write_parquet(communes, smk.output.communes, prov)
    write_parquet(deps, smk.output.departements, prov)
    write_text(smk.output.geometry_js, geometry_file(communes, deps, p.atlas_precision))
    log.info("atlas layers: %d communes, %d départements", len(communes), len(deps))
