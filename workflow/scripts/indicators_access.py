"""Snakemake script: gathers regions/*/access.parquet into access.parquet; access_distance_km.tif, access_by_class.csv."""

import geopandas as gpd
import pandas as pd

from coworking_geo.indicators.access import (
    Decay,
    access_by_class,
    distance_raster,
    gather_access_stats,
    read_time_matrix,
    travel_time_access,
    write_distance_tif,
)
from coworking_geo.io import write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.territories.partition import gather
from coworking_geo.sources.catalogue import load_sources, provenance

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    communes = gpd.read_parquet(smk.input.communes,
                                columns=["insee_code", "dep_code", "territory_class", "population", "geometry"])
    spaces = gpd.read_parquet(smk.input.spaces)
    table = gather([pd.read_parquet(p) for p in smk.input.parts], communes)
    if smk.input.time_matrix:  # optional: access by road from the user's commune-to-commune matrix
        tt = smk.params.travel_time
        decay = Decay("steps", float(max(tt["steps_min"])), tuple(tt["steps_min"]), tuple(tt["weights"]))
        matrix = read_time_matrix(smk.input.time_matrix[0], communes["insee_code"])
        table = table.merge(travel_time_access(communes, spaces, matrix, decay, smk.params.supply_weight),
                            on="insee_code", how="left")
        log.info("travel-time matrix: %d pairs; %d communes with a place within %s min", len(matrix),
                 int(table["time_nearest_place_min"].le(max(tt["steps_min"])).sum()), max(tt["steps_min"]))
    log.info("access: %d communes gathered from %d région partition(s)", len(table), len(smk.input.parts))
    raster = distance_raster(communes, spaces, smk.input.grid, float(smk.params.catchment_km), clip=bool(smk.params.clip),
                             corsica_own_zone=bool(smk.params.corsica_own_zone))
    stats = gather_access_stats(table, raster)
    log.info("access statistics: %s", stats)
    radii = [float(r) for r in smk.params.radii_km]
    prov = provenance(load_sources(smk.input.sources_yaml), [smk.params.grid_source], smk.params.territory,
                      "Accès aux tiers-lieux depuis la grille de population 1 km")
    write_parquet(table, smk.output.access, prov)
    write_distance_tif(raster, smk.output.distance, prov)
    write_csv(access_by_class(table, communes, radii, stats), smk.output.by_class, prov)
