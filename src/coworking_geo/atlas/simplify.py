"""Light polygons for web maps: coverage simplification and coordinate rounding.

Communes tile the territory, so they are simplified together as a *coverage*
(``shapely.coverage_simplify``): a border shared by two communes is simplified
once and stays shared, leaving no gaps or slivers. The tolerance is in metres,
applied in a metric CRS (Lambert-93, EPSG:2154, for metropolitan France; the
local UTM zone for each overseas département). Output is EPSG:4326 with
coordinates rounded to a fixed number of decimals (4 decimals ≈ 11 m).
"""

from __future__ import annotations

from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coworking_geo.geodesy import METRO_METRIC_CRS, metric_crs_for
from coworking_geo.log import get_logger

log = get_logger(__name__)

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
    :func:`coworking_geo.geodesy.metric_crs_for`) is simplified on its own with ``tolerance_m``
    metres, then the result is returned in EPSG:4326 with coordinates rounded
    to ``precision`` decimals. Rows keep their order and attributes; a
    polygon that simplification would empty keeps its original shape.
    """
    return simplify_coverage_metric(gdf, tolerance_m, precision, group_col)[0]


def simplify_coverage_metric(
    gdf: gpd.GeoDataFrame,
    tolerance_m: float,
    precision: int,
    group_col: str = "dep_code",
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """:func:`simplify_coverage` and the same simplified polygons before they leave the metric CRS.

    The second item holds one geometry per row (same order), each in the metric CRS of its
    group (Lambert-93, EPSG:2154, for the mainland and Corsica; the UTM zone of an overseas
    département), in metres and unrounded: the static maps draw them as they are, with no
    Lambert-93 → WGS84 → Lambert-93 round trip.
    """
    if gdf.crs is None:
        raise ValueError("simplify_coverage: the GeoDataFrame has no CRS")
    out = gdf.to_crs(4326).copy()
    geoms = np.asarray(out.geometry.values, dtype=object).copy()
    metric = np.empty(len(geoms), dtype=object)
    groups = (out[group_col].astype(str).map(metric_crs_for) if group_col in out
              else pd.Series(METRO_METRIC_CRS, index=out.index))
    n_before = int(shapely.get_num_coordinates(geoms).sum())
    for epsg_key, idx in groups.groupby(groups).groups.items():
        epsg = int(cast(int, epsg_key))
        pos = out.index.get_indexer(idx)
        part = gpd.GeoSeries(geoms[pos], crs=4326).to_crs(epsg)
        orig = np.asarray(part.values, dtype=object)
        if tolerance_m > 0:
            simple = shapely.coverage_simplify(orig, tolerance_m)
            bad = shapely.is_empty(simple) | shapely.is_missing(simple)
            simple[bad] = orig[bad]
            geoms[pos] = gpd.GeoSeries(simple, crs=epsg).to_crs(4326).to_numpy()
            metric[pos] = simple
        else:
            metric[pos] = orig
    geoms = round_coordinates(geoms, precision)
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=4326))
    n_after = int(shapely.get_num_coordinates(geoms).sum())
    log.info("simplified %d polygons: %d -> %d vertices (tolerance %s m, %d decimals)",
             len(out), n_before, n_after, tolerance_m, precision)
    return out, metric
