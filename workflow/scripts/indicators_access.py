"""Snakemake script: access.parquet, access_distance_km.tif and access_by_class.csv."""

import geopandas as gpd

from coworking_geo.access import access_by_class, compute_access, write_distance_tif
from coworking_geo.io import write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources import load_sources, provenance

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    communes = gpd.read_parquet(smk.input.communes, columns=["insee_code", "dep_code", "population",
                                                             "territory_class", "geometry"])
    spaces = gpd.read_parquet(smk.input.spaces, columns=["space_id", "geometry"])
    radii = [float(r) for r in smk.params.radii_km]
    result = compute_access(communes, spaces, smk.input.grid, radii, float(smk.params.catchment_km),
                            clip=bool(smk.params.clip))
    log.info("access statistics: %s", result.stats)
    prov = provenance(load_sources(smk.input.sources_yaml), [smk.params.grid_source], smk.params.territory,
                      "Accès aux tiers-lieux depuis la grille de population 1 km")
    write_parquet(result.table, smk.output.access, prov)
    write_distance_tif(result, smk.output.distance, prov)
    write_csv(access_by_class(result.table, communes, radii, result.stats), smk.output.by_class, prov)
