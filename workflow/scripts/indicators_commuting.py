"""Snakemake script: gathers regions/*/commuting.parquet into commuting.parquet and commuting_summary.csv."""

import pandas as pd

from coworking_geo.commuting import gather_summary
from coworking_geo.io import write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.regions import gather
from coworking_geo.sources import load_sources, provenance

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    communes = pd.read_parquet(smk.input.communes, columns=["insee_code"])
    table = gather([pd.read_parquet(p) for p in smk.input.parts], communes)
    summary = gather_summary([pd.read_parquet(p) for p in smk.input.summaries], list(smk.params.sources))
    for _, row in summary.iterrows():
        log.info("commuting %s: %s", row["source"], row.dropna().to_dict())
    prov = provenance(load_sources(smk.input.sources_yaml), list(smk.params.sources), smk.params.territory,
                      "Navettes domicile-travail par commune (INSEE MOBPRO)")
    write_parquet(table, smk.output.commuting, prov)
    write_csv(summary, smk.output.summary, prov)
