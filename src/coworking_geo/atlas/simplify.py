"""Light polygons for web maps: coverage simplification and coordinate rounding.

Communes tile the territory, so they are simplified together as a *coverage*
(``shapely.coverage_simplify``): a border shared by two communes is simplified
once and stays shared, leaving no gaps or slivers. The tolerance is in metres,
applied in a metric CRS (Lambert-93, EPSG:2154, for metropolitan France; the
local UTM zone for each overseas département). Output is EPSG:4326 with
coordinates rounded to a fixed number of decimals (4 decimals ≈ 11 m).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coworking_geo.log import get_logger

log = get_logger(__name__)

LAMBERT93 = 2154


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 UTM zone holding (lon, lat) in degrees."""
    zone = int((lon + 180) // 6) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def metric_crs_groups(dep_code: pd.Series, geometry: gpd.GeoSeries) -> pd.Series:
    """EPSG code (int) of the metric CRS used for each row.

    Metropolitan départements (codes not starting with ``97``) use Lambert-93;
    each overseas département uses the UTM zone of its mean centroid.
    """
    dep = dep_code.astype("string").fillna("")
    overseas = dep.str.startswith("97")
    out = pd.Series(LAMBERT93, index=dep.index, dtype="int64")
    if overseas.any():
        reps = shapely.point_on_surface(geometry[overseas].values)
        xy = pd.DataFrame({"dep": dep[overseas].values, "x": shapely.get_x(reps), "y": shapely.get_y(reps)})
        means = xy.groupby("dep")[["x", "y"]].mean()
        codes = {d: utm_epsg(r.x, r.y) for d, r in means.iterrows()}
        out[overseas] = dep[overseas].map(codes).astype("int64")
    return out


def round_coordinates(geoms: np.ndarray, precision: int) -> np.ndarray:
    """Round every coordinate to ``precision`` decimals (vectorised).

    Shared vertices round to the same value, so shared borders stay shared;
    unlike a precision grid, no polygon collapses to empty.
    """
    return shapely.transform(np.asarray(geoms), lambda c: np.round(c, precision))


def simplify_coverage(
    gdf: gpd.GeoDataFrame,
    tolerance_m: float,
    precision: int,
    group_col: str = "dep_code",
) -> gpd.GeoDataFrame:
    """Simplify a coverage of polygons (communes) with shared borders preserved.

    ``gdf`` may be in any CRS; each metric-CRS group (see
    :func:`metric_crs_groups`) is simplified on its own with ``tolerance_m``
    metres, then the result is returned in EPSG:4326 with coordinates rounded
    to ``precision`` decimals. Rows keep their order and attributes; a
    polygon that simplification would empty keeps its original shape.
    """
    if gdf.crs is None:
        raise ValueError("simplify_coverage: the GeoDataFrame has no CRS")
    out = gdf.to_crs(4326).copy()
    geoms = np.asarray(out.geometry.values, dtype=object).copy()
    groups = metric_crs_groups(out[group_col], out.geometry) if group_col in out else pd.Series(LAMBERT93, index=out.index)
    n_before = int(shapely.get_num_coordinates(geoms).sum())
    if tolerance_m > 0:
        for epsg, idx in groups.groupby(groups).groups.items():
            pos = out.index.get_indexer(idx)
            part = gpd.GeoSeries(geoms[pos], crs=4326).to_crs(int(epsg))
            orig = np.asarray(part.values, dtype=object)
            simple = shapely.coverage_simplify(orig, tolerance_m)
            bad = shapely.is_empty(simple) | shapely.is_missing(simple)
            simple[bad] = orig[bad]
            geoms[pos] = np.asarray(gpd.GeoSeries(simple, crs=int(epsg)).to_crs(4326).values, dtype=object)
    geoms = round_coordinates(geoms, precision)
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=4326))
    n_after = int(shapely.get_num_coordinates(geoms).sum())
    log.info("simplified %d polygons: %d -> %d vertices (tolerance %s m, %d decimals)",
             len(out), n_before, n_after, tolerance_m, precision)
    return out
