"""Snakemake script: fibre.parquet and fibre_summary.csv (ARCEP FttH per commune)."""

from pathlib import Path

import pandas as pd

from coworking_geo.indicators.fibre import build_fibre, read_arcep_export, read_arcep_latest_share, read_arcep_workbook
from coworking_geo.io import write_csv, write_parquet
from coworking_geo.log import snakemake_script
from coworking_geo.sources.catalogue import load_sources, provenance

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    communes = pd.read_parquet(smk.input.communes, columns=["insee_code"])
    crosswalk = pd.read_parquet(smk.input.crosswalk)
    counts, shares = {}, {}
    for sid in smk.params.sources:
        files = smk.params.files[sid]
        if sid == "arcep_ftth_latest":
            shares["latest"] = read_arcep_latest_share(files[0])
        elif any(f.endswith(".xlsx") for f in files):  # the official quarterly workbook (online)
            wb = read_arcep_workbook(next(f for f in files if f.endswith(".xlsx")))
            last = sorted(c for c in wb.columns if c.startswith("ftth_"))[-1]
            counts[last.removeprefix("ftth_")] = wb[["code", "premises", last]].rename(columns={last: "ftth"})
        else:
            df, vintage = read_arcep_export(next(f for f in files if Path(f).name == "communes.csv"),
                                            next(f for f in files if Path(f).name == "ftthCommunes.csv"))
            counts[vintage] = df
    result = build_fibre(communes, crosswalk, counts, shares)
    for _, row in result.summary.iterrows():
        log.info("fibre %s: %s", row["vintage"], row.dropna().to_dict())
    prov = provenance(load_sources(smk.input.sources_yaml), list(smk.params.sources), smk.params.territory,
                      "Couverture FttH par commune (ARCEP)")
    write_parquet(result.table, smk.output.fibre, prov)
    write_csv(result.summary, smk.output.summary, prov)
