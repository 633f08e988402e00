"""The register published for download (``places.csv`` / ``places.gpkg``), and the change between lists.

``places`` is one row per place of ``spaces.parquet`` with its commune's name and
the licence of each of its sources (EPSG:4326 points). When two vintages of the
same kind of list are read (the CGET 2019 list and a France Tiers-Lieux census, or
two censuses), :func:`list_changes` says what changed between them rather than
adding them up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coworking_geo.spaces.titles import source_kind

PLACE_COLUMNS: tuple[str, ...] = (
    "space_id", "name", "types", "labels", "fabrique", "manufacture", "sources", "vintages", "vintage", "address",
    "postcode", "insee_code", "commune", "lon", "lat", "location_precision", "licence",
)
#: the kinds of national lists of places whose vintages are compared (not the laureates, not a user's list)
INVENTORY_KINDS = ("cget", "census")


def places_table(spaces: gpd.GeoDataFrame, communes: pd.DataFrame, licences: Mapping[str, str]) -> gpd.GeoDataFrame:
    """One row per place: :data:`PLACE_COLUMNS`; ``licence`` lists the licence of each source of the place
    (';'-joined, in the order of ``sources``; 'licence non précisée' when unknown)."""
    names = communes.drop_duplicates("insee_code").set_index("insee_code")["name"]
    out = pd.DataFrame(spaces.drop(columns="geometry", errors="ignore")).copy()
    out["commune"] = out["insee_code"].map(names).astype("string")
    out["licence"] = out["sources"].astype("string").fillna("").map(
        lambda s: ";".join(dict.fromkeys(licences.get(x, "licence non précisée") for x in s.split(";") if x)))
    return gpd.GeoDataFrame(out[list(PLACE_COLUMNS)], geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs=4326)


def write_gpkg(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], layer: str = "places") -> None:
    """Write a one-layer GeoPackage atomically (temporary file beside it, then rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.part.gpkg")  # the driver wants a .gpkg name
    try:
        tmp.unlink(missing_ok=True)
        gdf.to_file(tmp, driver="GPKG", layer=layer)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def list_changes(rows: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """Between each older and the newest list of places of a kind (one row per class × région × pair).

    ``rows``: the register's rows (status, merged_into, source, vintage, opened, insee_code); a place
    is one group of kept + merged rows. Columns: ``older, newer, older_year, newer_year,
    territory_class, reg_code, in_both`` (in both lists), ``only_older`` (closed, or not surveyed
    again), ``only_newer``, of which ``opened`` (opening year after the older list's year, when the
    newer list gives it) and ``new_to_list`` (the rest). Empty when fewer than two lists are read.
    """
    cols = ["older", "newer", "older_year", "newer_year", "territory_class", "reg_code", "in_both", "only_older",
            "only_newer", "opened", "new_to_list"]
    live = rows[rows["status"].isin(["kept", "merged"])].copy()
    pairs = live[["source", "vintage"]].drop_duplicates("source")
    srcs = [(str(s), y) for s, y in pairs.itertuples(index=False, name=None) if source_kind(str(s)) in INVENTORY_KINDS]
    srcs.sort(key=lambda sy: -1 if pd.isna(sy[1]) else int(sy[1]))
    if len(srcs) < 2:
        return pd.DataFrame(columns=cols)
    live["place"] = live["merged_into"].where(live["merged_into"].notna(), pd.Series(live.index, index=live.index))
    keeper_code = rows["insee_code"]
    live["place_code"] = live["place"].astype("int64").map(keeper_code)
    com = communes.drop_duplicates("insee_code").set_index("insee_code")
    out = []
    newer, ny = srcs[-1]
    for older, oy in srcs[:-1]:
        in_old = live[live["source"].eq(older)].groupby("place").size()
        new_rows = live[live["source"].eq(newer)]
        in_new = new_rows.groupby("place").size()
        opened_year = pd.to_numeric(new_rows.groupby("place")["opened"].first(), errors="coerce")
        places = pd.Index(in_old.index.union(in_new.index))
        t = pd.DataFrame(index=places)
        t["old"], t["new"] = places.isin(in_old.index), places.isin(in_new.index)
        t["opened"] = t["new"] & ~t["old"] & opened_year.reindex(places).gt(float(oy) if pd.notna(oy) else 0.0).fillna(False)
        code = live.drop_duplicates("place").set_index("place")["place_code"].reindex(places)
        t["territory_class"] = code.map(com["territory_class"]).fillna("unknown").to_numpy() \
            if "territory_class" in com else "unknown"
        t["reg_code"] = code.map(com["reg_code"]).to_numpy() if "reg_code" in com else pd.NA
        g = t.groupby(["territory_class", "reg_code"], dropna=False)
        agg = pd.DataFrame({"in_both": g.apply(lambda d: int((d["old"] & d["new"]).sum())),
                            "only_older": g.apply(lambda d: int((d["old"] & ~d["new"]).sum())),
                            "only_newer": g.apply(lambda d: int((~d["old"] & d["new"]).sum())),
                            "opened": g["opened"].sum().astype(int)}).reset_index()
        agg["new_to_list"] = agg["only_newer"] - agg["opened"]
        agg.insert(0, "older", older)
        agg.insert(1, "newer", newer)
        agg.insert(2, "older_year", oy)
        agg.insert(3, "newer_year", ny)
        out.append(agg)
    return pd.concat(out, ignore_index=True)[cols]
