"""Snakemake script: the 2018 mission's published shares next to ours."""

import geopandas as gpd
import pandas as pd

from coworking_geo.io import write_csv
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance
from coworking_geo.spaces.mission import mission_shares

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    spaces = gpd.read_parquet(smk.input.spaces)
    communes = pd.read_parquet(smk.input.communes, columns=["insee_code", "metropolis"])
    table = mission_shares(spaces, communes, territory=smk.params.territory)
    log.info("mission shares:\n%s", table.to_string(index=False))
    prov = provenance(load_sources(smk.input.sources_yaml), ["cget_tierslieux_2019"], smk.params.territory,
                      "Mission Coworking 2018: published shares recomputed")
    write_csv(table, smk.output[0], prov)
