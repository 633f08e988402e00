"""Snakemake script: regions/{reg}/access.parquet (access indicators of one région's communes)."""

import geopandas as gpd

from coworking_geo.indicators.access import compute_access_region, decay_from_config
from coworking_geo.io import write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    p = smk.params
    communes = gpd.read_parquet(smk.input.communes, columns=["insee_code", "dep_code", "reg_code", "population", "geometry"])
    spaces = gpd.read_parquet(smk.input.spaces)
    decay = decay_from_config({"catchment_km": p.catchment_km, "access_decay": p.access_decay})
    result = compute_access_region(communes, smk.wildcards.reg, spaces, smk.input.grid,
                                   [float(r) for r in p.radii_km], clip=bool(p.clip), decay=decay,
                                   corsica_own_zone=bool(p.corsica_own_zone), supply_col=p.supply_weight,
                                   threads=smk.threads)
    log.info("access région %s statistics: %s", smk.wildcards.reg, result.stats)
    prov = provenance(load_sources(smk.input.sources_yaml), [p.grid_source], p.territory,
                      f"Accès aux tiers-lieux depuis la grille de population 1 km (région {smk.wildcards.reg})")
    write_parquet(result.table, smk.output.access, prov)
