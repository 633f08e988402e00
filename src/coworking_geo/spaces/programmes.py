"""ANCT programme laureates (Fabriques de territoire, Manufactures de proximité) and their link to the register.

The published files give one feature per commune (its centroid, EPSG:4326), with
the laureates of that commune joined by ';' in ``id_territoire`` and
``lib_territoire``. Each laureate becomes one row, is linked to its current
commune (through the crosswalk) and, where spaces of the register sit in the
same commune, is either *matched* with one of them (names alike) or listed as
*distinct* from them.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coworking_geo.errors import InputFileError
from coworking_geo.spaces.dedup import normalise_name
from coworking_geo.spaces.locate import CommuneIndex, commune_points, resolve_declared

PROGRAMME_COLUMN = {"fabriques": "fabrique", "manufactures": "manufacture"}
PROGRAMME_LABEL = {"fabriques": "Fabrique de territoire", "manufactures": "Manufacture de proximité"}
REQUIRED = ("id_geo", "id_territoire", "lib_territoire")


def read_laureates(path: str | os.PathLike[str], kind: str) -> pd.DataFrame:
    """One row per laureate: ``programme_id, programme, name, declared_insee, lon, lat`` (commune centroid, WGS84)."""
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputFileError(path, f"cannot be read as GeoJSON ({exc})") from None
    missing = [c for c in REQUIRED if c not in gdf.columns]
    if missing:
        raise InputFileError(path, f"missing required column(s) {missing}; columns found: {list(gdf.columns)}")
    if gdf.empty:
        raise InputFileError(path, "the file has no features")
    gdf = gdf.to_crs(4326) if gdf.crs is not None else gdf.set_crs(4326)
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    geoms = np.where(empty.to_numpy(), None, gdf.geometry.to_numpy())
    pts = shapely.point_on_surface(geoms)  # points stay points; polygons → a point inside
    coords = shapely.get_coordinates(pts, include_z=False) if (~empty).any() else np.empty((0, 2))
    lon = pd.Series(np.nan, index=gdf.index)
    lat = pd.Series(np.nan, index=gdf.index)
    lon[~empty], lat[~empty] = coords[:, 0], coords[:, 1]
    ids = gdf["id_territoire"].astype("string").str.split(";")
    names = gdf["lib_territoire"].astype("string").fillna("").str.split(";")
    same_count = ids.str.len().eq(names.str.len())
    # When names and ids do not pair up, every laureate of the feature gets the whole label.
    names = names.where(same_count, pd.Series([[n] * k for n, k in zip(gdf["lib_territoire"].fillna(""),
                                                                        ids.str.len())], index=gdf.index))
    base = pd.DataFrame({"declared_insee": gdf["id_geo"].astype("string"), "lon": lon, "lat": lat,
                         "ids": ids, "names": names, "names_paired": same_count})
    out = base.explode(["ids", "names"], ignore_index=True)
    out["programme_id"] = out["ids"].astype("string").str.strip()
    out["name"] = out["names"].astype("string").str.replace(r"\s+", " ", regex=True).str.strip()
    out["programme"] = PROGRAMME_LABEL[kind]
    out["kind"] = kind
    return out[["programme_id", "programme", "kind", "name", "declared_insee", "lon", "lat", "names_paired"]]


def name_similarity(a: pd.Series, b: pd.Series) -> pd.Series:
    """Similarity 0–1 of two name columns: 1 when one normalised name contains the other, else token Jaccard."""
    na, nb = normalise_name(a), normalise_name(b)
    out = []
    for x, y in zip(na, nb):
        if not x or not y:
            out.append(0.0)
        elif (x in y or y in x) and min(len(x), len(y)) >= 4:
            out.append(1.0)
        else:
            tx, ty = set(x.split()), set(y.split())
            out.append(len(tx & ty) / len(tx | ty))
    return pd.Series(out, index=a.index, dtype="float64")


def link_laureates(laureates: pd.DataFrame, spaces: pd.DataFrame, index: CommuneIndex,
                   crosswalk: pd.DataFrame | None, min_similarity: float,
                   territory_codes: set[str] | None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Link each laureate to its commune and to the register.

    Returns ``programmes`` (GeoDataFrame, docs/contract.md columns) and ``links``:
    ``programme_id, programme, name, declared_insee, insee_code, status,
    matched_space_id, match_name, similarity, n_spaces_in_commune,
    distinct_space_ids``. ``status`` is 'matched', 'distinct' (spaces in the
    commune, none alike), 'no_space_in_commune' or 'commune_not_found'.
    Laureates outside the territory are left out of both.
    """
    lau = laureates.copy()
    code, cstatus = resolve_declared(lau["declared_insee"], crosswalk, index)
    lau["insee_code"] = code
    clon, clat = commune_points(code, index)
    lau["lon"], lau["lat"] = lau["lon"].fillna(clon), lau["lat"].fillna(clat)
    if territory_codes is not None:
        lau = lau[code.isna() | code.isin(list(territory_codes)).fillna(False)]
    lau = lau.reset_index(drop=True)

    sp = spaces[["space_id", "name", "insee_code"]].copy()
    pairs = lau.reset_index().merge(sp.rename(columns={"name": "space_name"}), on="insee_code", how="inner")
    pairs["similarity"] = name_similarity(pairs["name"], pairs["space_name"]).to_numpy()
    best = pairs.sort_values(["index", "similarity"], ascending=[True, False]).drop_duplicates("index").set_index("index")
    n_in = pairs.groupby("index").size()
    distinct = pairs[pairs["similarity"] < min_similarity].groupby("index")["space_id"].agg(";".join)

    links = lau[["programme_id", "programme", "name", "declared_insee", "insee_code"]].copy()
    links["n_spaces_in_commune"] = n_in.reindex(links.index).fillna(0).astype("int64")
    links["similarity"] = best["similarity"].reindex(links.index).round(3)
    ok = links["similarity"].ge(min_similarity).fillna(False)
    links["matched_space_id"] = best["space_id"].reindex(links.index).where(ok).astype("string")
    links["match_name"] = best["space_name"].reindex(links.index).where(ok).astype("string")
    links["distinct_space_ids"] = distinct.reindex(links.index).astype("string").fillna("")
    status = pd.Series("no_space_in_commune", index=links.index, dtype="string")
    status = status.mask(links["n_spaces_in_commune"].gt(0), "distinct").mask(ok, "matched")
    links["status"] = status.mask(links["insee_code"].isna(), "commune_not_found")

    programmes = gpd.GeoDataFrame(
        pd.DataFrame({"programme_id": lau["programme_id"], "programme": lau["programme"], "name": lau["name"],
                      "insee_code": lau["insee_code"], "matched_space_id": links["matched_space_id"]}),
        geometry=gpd.points_from_xy(lau["lon"], lau["lat"]), crs=4326)
    return programmes, links


def programme_labels(links: pd.DataFrame, laureates_kind: pd.Series, space_ids: pd.Series) -> pd.DataFrame:
    """Columns ``fabrique`` and ``manufacture`` for the given spaces: the ';'-joined ids of matched laureates."""
    out = pd.DataFrame(index=space_ids.index)
    m = links[links["matched_space_id"].notna()].assign(kind=laureates_kind.reindex(links.index))
    for kind, col in PROGRAMME_COLUMN.items():
        ids = m[m["kind"].eq(kind)].groupby("matched_space_id")["programme_id"].agg(";".join)
        out[col] = space_ids.map(ids).astype("string").fillna("")
    return out
