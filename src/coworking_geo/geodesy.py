"""Great-circle distances, Earth-centred coordinates and commune centroids.

Distances are kilometres on a sphere of radius :data:`EARTH_RADIUS_KM` (the
mean Earth radius); at commune scale the error against the ellipsoid is below
0.5 %. Coordinates in and out are longitude/latitude in degrees (EPSG:4326).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

if TYPE_CHECKING:
    import geopandas as gpd

EARTH_RADIUS_KM = 6371.0088

# Metric CRS used to compute polygon centroids: Lambert-93 in metropolitan
# France, the local UTM zone (RGAF09 / RGFG95 / RGR92 / RGM04) overseas.
METRIC_CRS_BY_DEP = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
METRO_METRIC_CRS = 2154


def haversine_km(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (vectorised, broadcasting)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype="float64")) for a in (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def to_ecef_km(lon: npt.ArrayLike, lat: npt.ArrayLike) -> np.ndarray:
    """Unit-sphere Earth-centred coordinates scaled to km, shape (n, 3); chord distances between
    them convert to great-circle distances with :func:`chord_to_arc_km`."""
    lon_r, lat_r = np.radians(np.asarray(lon, dtype="float64")), np.radians(np.asarray(lat, dtype="float64"))
    cos_lat = np.cos(lat_r)
    return EARTH_RADIUS_KM * np.column_stack([cos_lat * np.cos(lon_r), cos_lat * np.sin(lon_r), np.sin(lat_r)])


def chord_to_arc_km(chord_km: np.ndarray) -> np.ndarray:
    """Great-circle distance (km) for a straight-line chord length (km) through the sphere."""
    c = np.asarray(chord_km, dtype="float64")
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(c / (2 * EARTH_RADIUS_KM), 0.0, 1.0))


def arc_to_chord_km(arc_km: float) -> float:
    """Chord length (km) of a great-circle distance (km): the radius to give a KD-tree on ECEF points."""
    return float(2 * EARTH_RADIUS_KM * np.sin(min(arc_km / (2 * EARTH_RADIUS_KM), np.pi / 2)))


def nearest_km(from_lon: pd.Series, from_lat: pd.Series, to_lon: pd.Series, to_lat: pd.Series,
               exclude_self: bool = False) -> np.ndarray:
    """Great-circle km from each origin to the nearest target (NaN for missing coordinates).

    ``exclude_self``: origins and targets are the same points; each point's own
    entry is skipped (a different point at the same place still counts, 0 km).
    """
    out = np.full(len(from_lon), np.nan)
    tgt = np.isfinite(np.asarray(to_lon, float)) & np.isfinite(np.asarray(to_lat, float))
    org = np.isfinite(np.asarray(from_lon, float)) & np.isfinite(np.asarray(from_lat, float))
    need = 2 if exclude_self else 1
    if tgt.sum() < need or not org.any():
        return out
    from scipy.spatial import cKDTree  # imported here: the report and the atlas read this module without it

    tree = cKDTree(to_ecef_km(np.asarray(to_lon)[tgt], np.asarray(to_lat)[tgt]))
    d, _ = tree.query(to_ecef_km(np.asarray(from_lon)[org], np.asarray(from_lat)[org]), k=need)
    out[org] = chord_to_arc_km(d[:, 1] if exclude_self else d)
    return out


def metric_crs_for(dep_code: str) -> int:
    """EPSG code of the metric CRS used for a département (Lambert-93 or the overseas UTM zone)."""
    return METRIC_CRS_BY_DEP.get(str(dep_code), METRO_METRIC_CRS)


def commune_centroids(communes: pd.DataFrame, code_col: str = "insee_code") -> pd.DataFrame:
    """Centroid ``lon, lat`` (degrees, EPSG:4326) of every commune, indexed by commune code.

    A table of ``communes.parquet`` carries them (computed once, by the national communes rule, with
    :func:`centroids_of_polygons`); any other frame of polygons has them computed here.
    """
    if {"lon", "lat"} <= set(communes.columns):
        return pd.DataFrame({"lon": communes["lon"].to_numpy(dtype="float64"),
                             "lat": communes["lat"].to_numpy(dtype="float64")},
                            index=pd.Index(communes[code_col].to_numpy(), name=code_col))
    return centroids_of_polygons(communes, code_col).set_index(code_col)


def centroids_of_polygons(communes: gpd.GeoDataFrame, code_col: str = "insee_code",
                          dep_col: str = "dep_code") -> pd.DataFrame:
    """``code_col, lon, lat`` of the centroid of each polygon (in the row order of ``communes``), each computed
    in the metric CRS of its département (Lambert-93 or the overseas UTM zone) and given in EPSG:4326
    degrees. Empty geometries get NaN."""
    gdf = communes[[code_col, dep_col, communes.geometry.name]].reset_index(drop=True)
    crs_of = gdf[dep_col].astype(str).map(metric_crs_for)
    lon = np.full(len(gdf), np.nan)
    lat = np.full(len(gdf), np.nan)
    for epsg, idx in crs_of.groupby(crs_of).groups.items():  # at most 5 groups: one per metric CRS
        cent = gdf.geometry.loc[idx].to_crs(epsg).centroid.to_crs(4326)
        lon[np.asarray(idx)], lat[np.asarray(idx)] = cent.x.to_numpy(), cent.y.to_numpy()
    return pd.DataFrame({code_col: gdf[code_col].to_numpy(), "lon": lon, "lat": lat})
