"""Rule portraits: one HTML portrait per département of the territory, and their index."""

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coworking_geo.io import read_codes_csv, write_text
from coworking_geo.log import snakemake_script
from coworking_geo.report.portraits import PortraitData, build_portraits, territory_label
from coworking_geo.report.synthesis import MONTHS_FR

with snakemake_script(snakemake) as log:  # noqa: F821
    smk = snakemake  # noqa: F821
    i, p = smk.input, smk.params
    deps = gpd.read_parquet(i.departements)
    regions = pd.read_parquet(i.regions, columns=["reg_code", "reg_name"])
    data = PortraitData(
        communes=pd.read_parquet(i.communes, columns=["insee_code", "name", "dep_code", "reg_code", "population",
                                                      "territory_class"]),
        departements=deps, regions=regions,
        spaces=pd.read_parquet(i.spaces, columns=["space_id", "insee_code", "name", "types"]),
        space_models=pd.read_parquet(i.space_models), indicators=pd.read_parquet(i.indicators),
        priority=read_codes_csv(i.priority), sites=read_codes_csv(i.sites), long_commute_km=p.long_commute_km)
    now = dt.datetime.now(dt.timezone.utc)
    label = territory_label(p.territory, deps, regions)
    pages = build_portraits(data, label, f"chiffres du {now.day} {MONTHS_FR[now.month - 1]} {now.year}")
    out = Path(smk.output[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, page in pages.items():
        write_text(out / name, page)
    log.info("%d portraits written to %s", len(pages) - 1, out)
