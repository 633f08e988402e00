"""Snakemake script: gathers regions/*/commuting.parquet into commuting.parquet and commuting_summary.csv.

Régions no commuting source covers have no job: their communes get the "outside coverage" rows here."""

import pandas as pd

from coworking_geo.indicators.commuting import build_commuting, gather_summary
from coworking_geo.io import write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.territories.partition import check_partition, gather
from coworking_geo.sources.catalogue import load_sources, provenance

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    communes = pd.read_parquet(smk.input.communes, columns=["insee_code", "dep_code", "reg_code"])
    check_partition(communes, smk.params.regions)
    parts = [pd.read_parquet(p) for p in smk.input.parts]
    summaries = [pd.read_parquet(p) for p in smk.input.summaries]
    done = pd.concat([p["insee_code"] for p in parts]) if parts else pd.Series([], dtype="string")
    rest = communes[~communes["insee_code"].isin(done)]
    if len(rest):
        table, summary = build_commuting(rest, [], pd.DataFrame(), pd.DataFrame(), 0.0, restrict=True)
        parts.append(table)
        summaries.append(summary)
    log.info("commuting: %d communes from %d région job(s), %d in régions no source covers",
             len(communes) - len(rest), len(smk.input.parts), len(rest))
    table = gather(parts, communes)
    summary = gather_summary(summaries, list(smk.params.sources))
    for _, row in summary.iterrows():
        log.info("commuting %s: %s", row["source"], row.dropna().to_dict())
    prov = provenance(load_sources(smk.input.sources_yaml), list(smk.params.sources), smk.params.territory,
                      "Navettes domicile-travail par commune (INSEE MOBPRO)")
    write_parquet(table, smk.output.commuting, prov)
    write_csv(summary, smk.output.summary, prov)
