"""Time the indicators stage for a territory on real data (default: all of France).

    python benchmarks/bench_indicators.py [territory]

Reads data/processed/{territory}/{communes,spaces}.parquet, data/processed/national/commune_crosswalk.parquet and the
raw files in data/raw/, runs fibre, commuting, access and the join in-process
(no Snakemake overhead, no writing) and prints the wall time of each step. The
issue's target: under 90 s for France on the project machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coworking_geo.indicators.access import compute_access
from coworking_geo.indicators.commuting import build_commuting, read_flows, read_places
from coworking_geo.indicators.fibre import build_fibre, read_arcep_export, read_arcep_latest_share
from coworking_geo.indicators.join import join_indicators

TARGET_S = 90.0


def main(territory: str = "france") -> int:
    proc, raw = Path("data/processed") / territory, Path("data/raw")
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    communes = gpd.read_parquet(proc / "communes.parquet")
    crosswalk = pd.read_parquet(Path("data/processed/national") / "commune_crosswalk.parquet")
    spaces = gpd.read_parquet(proc / "spaces.parquet")
    times["read inputs"] = time.perf_counter() - t0

    t = time.perf_counter()
    df, v = read_arcep_export(raw / "arcep_ftth_2018t1/export/communes.csv", raw / "arcep_ftth_2018t1/export/ftthCommunes.csv")
    latest = read_arcep_latest_share(raw / "arcep_ftth_latest/arcep_ftth_pct_communes_latest.csv")
    fibre = build_fibre(communes, crosswalk, {v: df}, {"latest": latest}).table
    times["fibre"] = time.perf_counter() - t

    t = time.perf_counter()
    places = read_places(raw / "ign_admin_express_communes/communes_cog2024_simplifiees.gpkg")
    flows = [read_flows("insee_mobpro_idf_rp2014", [str(raw / "insee_mobpro_idf_rp2014/flows_idf_rp2014_total.csv")]),
             read_flows("insee_mobpro_orne", [str(raw / "insee_mobpro_orne/fd_mobpro_orne_records.csv")])]
    commuting, _ = build_commuting(communes, flows, crosswalk, places, 20.0)
    times["commuting"] = time.perf_counter() - t

    t = time.perf_counter()
    access = compute_access(communes, spaces, raw / "eurostat_popgrid_1km/eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif",
                            [5.0, 10.0, 20.0], 20.0, clip=territory.startswith(("dep-", "reg-")))
    times["access (KD-tree, 2SFCA)"] = time.perf_counter() - t

    t = time.perf_counter()
    out = join_indicators(communes, fibre, commuting, access.table)
    times["join"] = time.perf_counter() - t
    total = time.perf_counter() - t0
    for k, s in times.items():
        print(f"{k:<26} {s:7.2f} s")
    print(f"{'total':<26} {total:7.2f} s   ({len(out)} communes, {len(spaces)} spaces, "
          f"{access.stats.get('raster_populated_cells', 0)} populated cells); target < {TARGET_S:.0f} s")
    return 0 if total < TARGET_S else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("territory", nargs="?", default="france", help="territory built under data/processed/")
    sys.exit(main(parser.parse_args().territory))
