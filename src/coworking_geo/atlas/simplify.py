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


#: the commune attributes the atlas maps show (the layer of :func:`atlas_layer` keeps only these)
COMMUNE_COLUMNS = ["insee_code", "name", "dep_code", "reg_code", "epci_code", "population", "metropolis",
                   "territory_class"]
#: column of :func:`atlas_layer` holding each row's simplified polygon in its metric CRS (WKB, metres)
METRIC_WKB = "geometry_metric_wkb"


def atlas_layer(gdf: gpd.GeoDataFrame, tolerance_m: float, precision: int,
                columns: list[str] | None = None) -> gpd.GeoDataFrame:
    """The layer every atlas map draws, simplified once per territory (rule ``atlas_geometry``):
    ``columns`` (default: all) and the geometry of :func:`simplify_coverage` (EPSG:4326, rounded),
    plus :data:`METRIC_WKB`, the same polygons in their metric CRS (see :func:`simplify_coverage_metric`)."""
    keep = [c for c in (columns or list(gdf.columns)) if c in gdf and c != gdf.geometry.name]
    out, metric = simplify_coverage_metric(gdf[keep + [gdf.geometry.name]], tolerance_m, precision)
    out[METRIC_WKB] = shapely.to_wkb(metric)
    return out


def split_atlas_layer(layer: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """An :func:`atlas_layer` read back: the EPSG:4326 layer and its metric polygons (one per row)."""
    return layer.drop(columns=METRIC_WKB), shapely.from_wkb(layer[METRIC_WKB].to_numpy())
