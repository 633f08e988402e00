"""Snakemake script: indicators.parquet, one row per current commune (fibre + commuting + access)."""

import pandas as pd

from coworking_geo.indicators.join import join_indicators
from coworking_geo.io import write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    communes = pd.read_parquet(smk.input.communes, columns=["insee_code"])
    tables = [pd.read_parquet(p) for p in (smk.input.fibre, smk.input.commuting, smk.input.access)]
    out = join_indicators(communes, *tables)
    log.info("indicators: %d communes × %d columns", len(out), out.shape[1])
    prov = provenance(load_sources(smk.input.sources_yaml), list(smk.params.sources), smk.params.territory,
                      "Indicateurs communaux : fibre, navettes, accès")
    write_parquet(out, smk.output.indicators, prov)
