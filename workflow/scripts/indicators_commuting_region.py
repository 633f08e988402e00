"""Snakemake script: regions/{reg}/commuting.parquet and its summary (MOBPRO flows of one région's residents, or all)."""

import pandas as pd

from coworking_geo.indicators.commuting import build_commuting, read_flows
from coworking_geo.io import write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.territories.partition import in_region
from coworking_geo.sources.catalogue import load_sources, provenance

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    communes = pd.read_parquet(smk.input.communes, columns=["insee_code", "dep_code", "reg_code"])
    communes = communes[in_region(communes["reg_code"], smk.wildcards.reg)]
    sources = list(smk.params.sources)
    crosswalk = pd.read_parquet(smk.input.crosswalk)
    places = pd.read_parquet(smk.input.places).set_index("insee_code") if sources else pd.DataFrame()
    flows = [read_flows(s, list(smk.params.files[s])) for s in sources]
    table, summary = build_commuting(communes, flows, crosswalk, places, float(smk.params.long_km), restrict=True)
    log.info("commuting région %s: %d communes, sources %s", smk.wildcards.reg, len(table), sources)
    prov = provenance(load_sources(smk.input.sources_yaml), sources, smk.params.territory,
                      f"Navettes domicile-travail par commune (INSEE MOBPRO, région {smk.wildcards.reg})")
    write_parquet(table, smk.output.commuting, prov)
    write_parquet(summary, smk.output.summary, prov)
