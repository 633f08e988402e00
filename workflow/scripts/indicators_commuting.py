"""Snakemake script: commuting.parquet and commuting_summary.csv (INSEE MOBPRO flows per commune)."""

import pandas as pd

from coworking_geo.commuting import build_commuting, read_flows, read_places
from coworking_geo.io import write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources import load_sources, provenance

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    communes = pd.read_parquet(smk.input.communes, columns=["insee_code", "dep_code"])
    crosswalk = pd.read_parquet(smk.input.crosswalk)
    places = read_places(smk.input.national_communes)
    flows = [read_flows(s, list(smk.params.files[s])) for s in smk.params.sources]
    table, summary = build_commuting(communes, flows, crosswalk, places, float(smk.params.long_km))
    for _, row in summary.iterrows():
        log.info("commuting %s: %s", row["source"], row.dropna().to_dict())
    prov = provenance(load_sources(smk.input.sources_yaml), list(smk.params.sources), smk.params.territory,
                      "Navettes domicile-travail par commune (INSEE MOBPRO)")
    write_parquet(table, smk.output.commuting, prov)
    write_csv(summary, smk.output.summary, prov)
