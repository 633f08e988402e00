"""Population access to coworking spaces from the 1 km population grid (EPSG:3035).

For every populated cell: great-circle distance (km) from the cell centre to the
nearest space, found with a KD-tree on Earth-centred coordinates (vectorised,
valid for metropolitan and overseas points alike). Per commune, through a
rasterised commune grid (cell centre inside the polygon): the
population-weighted distance, the population within each radius of a space and
a two-step floating catchment (2SFCA) score, spaces per 10,000 inhabitants.
Communes the grid does not reach (overseas, or too small to hold a cell centre)
fall back to their centroid weighted by their legal population
(``access_method = "centroid"``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from pyproj import Transformer
from rasterio.features import rasterize
from rasterio.windows import Window, from_bounds
from scipy.spatial import cKDTree

from coworking_geo.errors import InputFileError
from coworking_geo.geodesy import (
    arc_to_chord_km,
    chord_to_arc_km,
    commune_centroids,
    to_ecef_km,
)
from coworking_geo.io import atomic_path
from coworking_geo.log import get_logger
from coworking_geo.regions import in_region

log = get_logger(__name__)

GRID_CRS = 3035
DIST_NODATA = -1.0
PER_INHABITANTS = 10_000


def radius_label(r: float) -> str:
    """5 → '5', 7.5 → '7.5' (for column names ``pop_within_{r}km``)."""
    return f"{r:g}"


@dataclass
class Grid:
    """A window of the population grid: populations (inhabitants, 0 where none) and its georeference."""

    pop: np.ndarray
    transform: rasterio.Affine
    crs: rasterio.crs.CRS
    total_in_file: float


def read_grid(path: str | os.PathLike[str], bounds_3035: tuple[float, float, float, float] | None = None) -> Grid:
    """Read the population raster (EPSG:3035; nodata and negatives → 0), clipped to ``bounds_3035`` when given."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "population grid not found")
    with rasterio.open(p) as src:
        if src.crs is None or src.crs.to_epsg() != GRID_CRS:
            raise InputFileError(p, f"population grid must be EPSG:{GRID_CRS}, found {src.crs}")
        full = src.read(1, masked=True)
        total = float(full.filled(0).clip(min=0).sum())
        if bounds_3035 is None:
            window = Window(0, 0, src.width, src.height)
        else:
            window = from_bounds(*bounds_3035, transform=src.transform).round_offsets().round_lengths()
            window = window.intersection(Window(0, 0, src.width, src.height))
        arr = src.read(1, window=window, masked=True).filled(0).astype("float64").clip(min=0)
        return Grid(arr, src.window_transform(window), src.crs, total)


@dataclass
class AccessResult:
    """Per-commune table, the distance raster (km, float32, nodata where unpopulated) and run statistics."""

    table: pd.DataFrame
    distance: np.ndarray | None
    grid: Grid | None
    stats: dict = field(default_factory=dict)


def _cell_centres(grid: Grid, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = rasterio.transform.xy(grid.transform, rows, cols, offset="center")
    lon, lat = Transformer.from_crs(GRID_CRS, 4326, always_xy=True).transform(np.asarray(x), np.asarray(y))
    return np.asarray(lon), np.asarray(lat)


BoundsType = tuple[float, float, float, float]


def _is_overseas(communes: pd.DataFrame) -> np.ndarray:
    return communes["dep_code"].astype("string").str.startswith("97").fillna(False).to_numpy(dtype=bool)


def territory_window(communes: gpd.GeoDataFrame, catchment_km: float, clip: bool) -> BoundsType | None:
    """Grid window (EPSG:3035 bounds, m) of the territory's raster work: the metropolitan communes' bounding box
    plus ``catchment_km`` + 1 km when ``clip``, else None (the whole file)."""
    metro = communes[~_is_overseas(communes)]
    if not clip or not len(metro):
        return None
    b = metro.to_crs(GRID_CRS).total_bounds
    pad = catchment_km * 1000 + 1000
    return (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)


def _space_points(spaces: gpd.GeoDataFrame) -> np.ndarray:
    sp = spaces.to_crs(4326)
    sp = sp[~sp.geometry.is_empty & sp.geometry.notna()]
    return to_ecef_km(sp.geometry.x.to_numpy(), sp.geometry.y.to_numpy())


def compute_access(communes: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame, grid_path: str | os.PathLike[str] | None,
                   radii_km: list[float], catchment_km: float, clip: bool = True,
                   bounds_3035: BoundsType | None = None, report: np.ndarray | None = None) -> AccessResult:
    """Access indicators for ``communes`` (``insee_code, dep_code, population``, polygons) to ``spaces`` (points).

    ``clip`` limits the raster work to the communes' bounding box plus the
    catchment (for département/région territories); ``bounds_3035`` (EPSG:3035,
    m) sets that window explicitly. Distances in km; 2SFCA score = 10,000 ×
    Σ 1/P_i over spaces i within ``catchment_km`` of the cell, P_i being the
    population within ``catchment_km`` of space i (cells of the window plus
    overseas centroids), population-weighted per commune. ``report`` (boolean,
    one per commune) keeps only those communes' rows in the table: the others
    only claim their grid cells (see :func:`compute_access_region`).
    """
    communes = communes.to_crs(4326).reset_index(drop=True)
    sp_xyz = _space_points(spaces)
    n_sp = len(sp_xyz)
    sp_tree = cKDTree(sp_xyz) if n_sp else None
    chord_c = arc_to_chord_km(catchment_km)
    stats: dict = {"spaces": n_sp, "communes": len(communes)}

    overseas = _is_overseas(communes)
    metro = communes[~overseas]
    grid = None
    cell_commune = np.array([], dtype="int64")
    cell_pop = cell_xyz = np.empty(0)
    dist_raster = None
    if grid_path is not None and len(metro):
        m3035 = metro.to_crs(GRID_CRS)
        grid = read_grid(grid_path, bounds_3035 if bounds_3035 is not None else territory_window(communes, catchment_km, clip))
        ids = rasterize(((g, i + 1) for i, g in zip(m3035.index, m3035.geometry) if g is not None and not g.is_empty),
                        out_shape=grid.pop.shape, transform=grid.transform, fill=0, all_touched=False, dtype="int32")
        rows, cols = np.nonzero(grid.pop > 0)
        cell_pop = grid.pop[rows, cols]
        lon, lat = _cell_centres(grid, rows, cols)
        cell_xyz = to_ecef_km(lon, lat)
        cell_commune = ids[rows, cols].astype("int64") - 1  # -1: outside the territory's communes
        dist_raster = np.full(grid.pop.shape, DIST_NODATA, dtype="float32")
        stats.update({"raster_total_population_file": grid.total_in_file, "raster_window_population": float(cell_pop.sum()),
                      "raster_populated_cells": int(len(cell_pop)),
                      "raster_population_in_communes": float(cell_pop[cell_commune >= 0].sum()),
                      "raster_cells_outside_communes": int((cell_commune < 0).sum()),
                      "raster_population_outside_communes": float(cell_pop[cell_commune < 0].sum())})
    # Demand points: populated cells, plus overseas commune centroids (the grid stops at the metropole).
    cent = commune_centroids(communes).reindex(communes["insee_code"])
    c_xyz = to_ecef_km(cent["lon"].to_numpy(), cent["lat"].to_numpy())
    c_pop = pd.to_numeric(communes["population"], errors="coerce").fillna(0).to_numpy(dtype="float64")
    dem_xyz = np.vstack([cell_xyz.reshape(-1, 3), c_xyz[overseas]]) if overseas.any() else cell_xyz.reshape(-1, 3)
    dem_pop = np.concatenate([cell_pop, c_pop[overseas]])

    # Step 1 of 2SFCA: R_i = 1 / population within the catchment of space i.
    if n_sp and len(dem_pop):
        dem_tree = cKDTree(dem_xyz)
        pairs = sp_tree.sparse_distance_matrix(dem_tree, chord_c, output_type="ndarray")
        P = np.bincount(pairs["i"], weights=dem_pop[pairs["j"]], minlength=n_sp)
        R = np.divide(1.0, P, out=np.zeros(n_sp), where=P > 0)
        stats["spaces_without_population_in_catchment"] = int((P == 0).sum())
    else:
        R = np.zeros(n_sp)

    def score_at(xyz: np.ndarray) -> np.ndarray:
        if not n_sp or not len(xyz):
            return np.zeros(len(xyz))
        pr = sp_tree.sparse_distance_matrix(cKDTree(xyz), chord_c, output_type="ndarray")
        return PER_INHABITANTS * np.bincount(pr["j"], weights=R[pr["i"]], minlength=len(xyz))

    def nearest(xyz: np.ndarray) -> np.ndarray:
        if not n_sp:
            return np.full(len(xyz), np.nan)
        d, _ = sp_tree.query(xyz, k=1, workers=-1)
        return chord_to_arc_km(d)

    labels = [radius_label(r) for r in radii_km]
    out = pd.DataFrame({"insee_code": communes["insee_code"].astype("string").to_numpy()})
    out["access_population"] = np.nan
    out["pop_weighted_dist_km"] = np.nan
    for lab in labels:
        out[f"pop_within_{lab}km"] = np.nan
    out["access_2sfca"] = np.nan
    out["access_method"] = pd.Series(pd.NA, index=out.index, dtype="string")

    if len(cell_pop):
        cell_d = nearest(cell_xyz)
        cell_s = score_at(cell_xyz)
        dist_raster[rows, cols] = cell_d.astype("float32")
        inside = cell_commune >= 0
        k, w, d, s = cell_commune[inside], cell_pop[inside], cell_d[inside], cell_s[inside]
        n = len(communes)
        pop = np.bincount(k, weights=w, minlength=n)
        has = pop > 0
        out.loc[has, "access_population"] = pop[has]
        out.loc[has, "pop_weighted_dist_km"] = (np.bincount(k, weights=w * d, minlength=n) / np.where(has, pop, 1))[has]
        for r, lab in zip(radii_km, labels):
            out.loc[has, f"pop_within_{lab}km"] = np.bincount(k, weights=w * (d <= r), minlength=n)[has]
        out.loc[has, "access_2sfca"] = (np.bincount(k, weights=w * s, minlength=n) / np.where(has, pop, 1))[has]
        out.loc[has, "access_method"] = "raster"
    fb = out["access_method"].isna().to_numpy() & np.isfinite(c_xyz[:, 0])
    if fb.any():
        d = nearest(c_xyz[fb])
        out.loc[fb, "access_population"] = c_pop[fb]
        out.loc[fb, "pop_weighted_dist_km"] = d
        for r, lab in zip(radii_km, labels):
            out.loc[fb, f"pop_within_{lab}km"] = np.where(d <= r, c_pop[fb], 0.0)
        out.loc[fb, "access_2sfca"] = score_at(c_xyz[fb])
        out.loc[fb, "access_method"] = "centroid"
    if report is not None:
        keep = np.asarray(report, dtype=bool)
        out, overseas = out[keep].reset_index(drop=True), overseas[keep]
        stats["communes"] = len(out)
        stats["raster_population_in_communes"] = float(out.loc[out["access_method"].eq("raster"), "access_population"].sum())
    stats["communes_raster"] = int(out["access_method"].eq("raster").sum())
    stats["communes_centroid_overseas"] = int((out["access_method"].eq("centroid") & overseas).sum())
    stats["communes_centroid_no_cell"] = int((out["access_method"].eq("centroid") & ~overseas).sum())
    log.info("access: %d communes through the grid, %d overseas and %d metropolitan communes (no cell centre inside) "
             "through their centroid", stats["communes_raster"], stats["communes_centroid_overseas"], stats["communes_centroid_no_cell"])
    return AccessResult(out, dist_raster, grid, stats)


def compute_access_region(communes: gpd.GeoDataFrame, reg: str, spaces: gpd.GeoDataFrame,
                          grid_path: str | os.PathLike[str] | None, radii_km: list[float], catchment_km: float,
                          clip: bool = True) -> AccessResult:
    """:func:`compute_access` for the communes of région ``reg`` only, equal to the territory-wide run for them.

    ``communes``: all the territory's communes (``reg_code`` besides the usual
    columns) in the territory's order; ``spaces``: every space the territory
    sees (``spaces_context``), so spaces across the région's border count.
    The grid window is the région's metropolitan communes' box plus a halo of
    2 × ``catchment_km`` + 1 km (every cell within the catchment of a space
    that reaches the région), cut to the territory's window when ``clip``, so
    the 2SFCA denominators P_i are those of the territory-wide run. Communes of
    other régions inside the window are rasterised too (same burn order, so a
    cell on a slightly overlapping border goes to the same commune) but not
    reported.
    """
    communes = communes.to_crs(4326).reset_index(drop=True)
    mine = in_region(communes["reg_code"], reg).to_numpy()
    overseas = _is_overseas(communes)
    metro_mine = communes[mine & ~overseas]
    bounds = None
    keep = mine.copy()
    if grid_path is not None and len(metro_mine):
        b = metro_mine.to_crs(GRID_CRS).total_bounds
        halo = 2 * catchment_km * 1000 + 1000
        bounds = (b[0] - halo, b[1] - halo, b[2] + halo, b[3] + halo)
        terr = territory_window(communes, catchment_km, clip)
        if terr is not None:
            bounds = (max(bounds[0], terr[0]), max(bounds[1], terr[1]), min(bounds[2], terr[2]), min(bounds[3], terr[3]))
        cb = communes[~overseas].to_crs(GRID_CRS).bounds
        near = ((cb["minx"] <= bounds[2]) & (cb["maxx"] >= bounds[0]) & (cb["miny"] <= bounds[3]) & (cb["maxy"] >= bounds[1]))
        keep[np.flatnonzero(~overseas)[near.to_numpy()]] = True
    log.info("access région %s: %d communes, %d more claiming grid cells in the window %s", reg, int(mine.sum()),
             int(keep.sum() - mine.sum()), None if bounds is None else tuple(round(v) for v in bounds))
    return compute_access(communes[keep], spaces, grid_path, radii_km, catchment_km, clip=True, bounds_3035=bounds,
                          report=mine[keep])


def distance_raster(communes: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame, grid_path: str | os.PathLike[str],
                    catchment_km: float, clip: bool = True) -> AccessResult:
    """The territory's nearest-space distance raster (km) and window statistics, without the per-commune table.

    Same window as :func:`compute_access` (so the gathered
    ``access_distance_km.tif`` equals the territory-wide one); ``table`` is
    empty. Stats: ``raster_total_population_file``, ``raster_window_population``,
    ``raster_populated_cells``."""
    communes = communes.to_crs(4326)
    grid = read_grid(grid_path, territory_window(communes, catchment_km, clip))
    sp_xyz = _space_points(spaces)
    rows, cols = np.nonzero(grid.pop > 0)
    dist = np.full(grid.pop.shape, DIST_NODATA, dtype="float32")
    if len(rows):  # NaN where there is no space at all, as in compute_access
        lon, lat = _cell_centres(grid, rows, cols)
        d = cKDTree(sp_xyz).query(to_ecef_km(lon, lat), k=1, workers=-1)[0] if len(sp_xyz) else np.full(len(rows), np.inf)
        dist[rows, cols] = np.where(np.isfinite(d), chord_to_arc_km(d), np.nan).astype("float32")
    stats = {"raster_total_population_file": grid.total_in_file, "raster_window_population": float(grid.pop[rows, cols].sum()),
             "raster_populated_cells": int(len(rows))}
    return AccessResult(pd.DataFrame(), dist, grid, stats)


def gather_access_stats(table: pd.DataFrame, raster: AccessResult) -> dict:
    """Territory-wide statistics for :func:`access_by_class` from the gathered table and :func:`distance_raster`."""
    stats = dict(raster.stats)
    inside = float(table.loc[table["access_method"].eq("raster"), "access_population"].sum())
    stats["raster_population_in_communes"] = inside
    stats["raster_population_outside_communes"] = stats["raster_window_population"] - inside
    return stats


def write_distance_tif(result: AccessResult, path: str | os.PathLike[str], provenance: dict | None = None) -> Path:
    """Write the nearest-space distance (km, float32, nodata −1 where unpopulated) as a GeoTIFF, atomically."""
    if result.grid is None or result.distance is None:
        raise ValueError("no raster: the territory has no commune on the population grid")
    h, w = result.distance.shape
    profile = {"driver": "GTiff", "dtype": "float32", "count": 1, "height": h, "width": w, "crs": result.grid.crs,
               "transform": result.grid.transform, "nodata": DIST_NODATA, "compress": "deflate", "tiled": True,
               "blockxsize": 256, "blockysize": 256}
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(result.distance, 1)
            dst.update_tags(units="km", description="great-circle distance from the cell centre to the nearest space",
                            provenance=json.dumps(provenance or {}, ensure_ascii=False))
    return Path(path)


def access_by_class(access: pd.DataFrame, communes: pd.DataFrame, radii_km: list[float], stats: dict) -> pd.DataFrame:
    """Population within each radius of a space, by ``territory_class``, with a total row and the raster's totals."""
    df = access.merge(communes[["insee_code", "territory_class"]].astype({"insee_code": "string"}), on="insee_code", how="left")
    df["territory_class"] = df["territory_class"].astype("string").fillna("unclassified")
    labels = [radius_label(r) for r in radii_km]
    agg = {"communes": ("insee_code", "size"), "communes_centroid": ("access_method", lambda s: int(s.eq("centroid").sum())),
           "population": ("access_population", "sum")}
    agg.update({f"pop_within_{lab}km": (f"pop_within_{lab}km", "sum") for lab in labels})
    g = df.groupby("territory_class").agg(**agg).reset_index()
    tot = df.assign(territory_class="all").groupby("territory_class").agg(**agg).reset_index()
    out = pd.concat([g, tot], ignore_index=True)
    for lab in labels:
        out[f"share_within_{lab}km"] = out[f"pop_within_{lab}km"] / out["population"]
    pw = (df["access_population"] * df["pop_weighted_dist_km"]).groupby(df["territory_class"]).sum()
    pw["all"] = pw.sum()
    out["pop_weighted_dist_km"] = out["territory_class"].map(pw).astype("float64") / out["population"]
    for key in ("raster_total_population_file", "raster_window_population", "raster_population_in_communes",
                "raster_population_outside_communes"):
        out[key] = stats.get(key, np.nan)
    return out
