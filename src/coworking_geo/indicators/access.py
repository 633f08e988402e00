"""Population access to coworking spaces from the 1 km population grid (EPSG:3035).

Distances are great-circle ("à vol d'oiseau") kilometres, found with KD-trees
on Earth-centred coordinates, never road distances. Places serve only the
*zone* they stand in: mainland France, Corsica (its own zone unless
``corsica_own_zone`` is false) and each overseas département (971–976), so no
distance crosses the sea; a zone with no place gives NA distances ("aucun lieu
dans le territoire"). Per commune, through a rasterised commune grid (cell
centre inside the polygon): the population-weighted distance, the population
within each radius of a place and an APL-style two-step floating catchment
score (2SFCA with distance decay, ``access_2sfca_per_10k``: places per 10,000
inhabitants). The Eurostat grid covers mainland France and Corsica only:
overseas communes, and communes too small to hold a cell centre, use their
centroid weighted by their legal population (``access_method = "centroid"``).
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
import shapely
from pyproj import Transformer
from rasterio.features import rasterize
from rasterio.windows import Window, from_bounds
from scipy.spatial import cKDTree

from coworking_geo.errors import ConfigError, InputFileError
from coworking_geo.indicators.columns import SCORE_COL
from coworking_geo.geodesy import (
    arc_to_chord_km,
    chord_to_arc_km,
    commune_centroids,
    to_ecef_km,
)
from coworking_geo.io import atomic_path
from coworking_geo.log import get_logger
from coworking_geo.territories.partition import in_region

log = get_logger(__name__)

GRID_CRS = 3035
DIST_NODATA = -1.0
PER_INHABITANTS = 10_000
MAINLAND, CORSICA = "metropole", "corse"
GRID_ZONES = (MAINLAND, CORSICA)  # zones the Eurostat 1 km grid covers
# Zone boxes (lon_min, lat_min, lon_max, lat_max, degrees) of the points (grid cells, places): each island or
# overseas département alone in its box; a point in none of them belongs to the mainland zone when inside its box,
# else to a zone of its own ("ailleurs", reaching no commune).
ZONE_BOXES: dict[str, tuple[float, float, float, float]] = {
    CORSICA: (8.4, 41.32, 9.7, 43.1),
    "971": (-61.95, 15.75, -60.95, 16.6), "972": (-61.3, 14.3, -60.7, 14.95), "973": (-54.7, 2.0, -51.4, 6.0),
    "974": (55.1, -21.5, 56.0, -20.8), "976": (44.9, -13.1, 45.4, -12.5),
    MAINLAND: (-6.0, 41.0, 10.5, 51.6),
}
ELSEWHERE = "ailleurs"


def radius_label(r: float) -> str:
    """5 → '5', 7.5 → '7.5' (for column names ``pop_within_{r}km``)."""
    return f"{r:g}"


def commune_zones(dep_code: pd.Series, corsica_own_zone: bool = True) -> np.ndarray:
    """Access zone of each commune from its département: 'metropole', 'corse' (2A, 2B) or the overseas code."""
    dep = dep_code.astype("string").fillna("")
    zone = np.where(dep.str.startswith("97"), dep, MAINLAND).astype(object)
    if corsica_own_zone:
        zone[dep.isin(["2A", "2B"]).to_numpy()] = CORSICA
    return zone


def point_zones(lon: np.ndarray, lat: np.ndarray, corsica_own_zone: bool = True) -> np.ndarray:
    """Access zone of points (degrees) from :data:`ZONE_BOXES`; the mainland box is tested last."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    zone = np.full(len(lon), ELSEWHERE, dtype=object)
    free = np.ones(len(lon), bool)
    for name, (x0, y0, x1, y1) in ZONE_BOXES.items():
        hit = free & (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        zone[hit] = MAINLAND if (name == CORSICA and not corsica_own_zone) else name
        free &= ~hit
    return zone


@dataclass(frozen=True)
class Decay:
    """Distance decay of the 2SFCA: weight (0–1) of a place at ``d`` km (great-circle) from the population.

    ``kind='steps'``: ``weights[k]`` for d ≤ ``steps_km[k]`` (first step that holds d), 0 beyond the last step
    (the DREES APL uses 1 / 0.66 / 0.33 for 0–10 / 10–15 / 15–20 minutes by road); ``'gaussian'``:
    exp(−d² / 2σ²) up to ``catchment_km``; ``'none'``: 1 up to ``catchment_km`` (the classic 2SFCA). Steps and
    the Gaussian are those of PySAL ``access.weights.step_fn`` and ``gaussian``.
    """

    kind: str = "none"
    catchment_km: float = 20.0
    steps_km: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()
    sigma_km: float = 10.0

    def __post_init__(self) -> None:
        if self.kind not in ("steps", "gaussian", "none"):
            raise ConfigError(f"access decay '{self.kind}' is not steps, gaussian or none")
        if self.kind == "steps":
            s = np.asarray(self.steps_km, float)
            if len(s) == 0 or len(s) != len(self.weights) or (np.diff(s) <= 0).any() or s[-1] > self.catchment_km:
                raise ConfigError(f"access decay steps {self.steps_km} / weights {self.weights}: need as many "
                                  f"increasing steps as weights, the last at most catchment_km={self.catchment_km}")
        if self.kind == "gaussian" and self.sigma_km <= 0:
            raise ConfigError("access decay sigma_km must be positive")

    @property
    def reach_km(self) -> float:
        """Largest distance with a positive weight (km)."""
        return float(self.steps_km[-1]) if self.kind == "steps" else float(self.catchment_km)

    def __call__(self, d_km: np.ndarray) -> np.ndarray:
        d = np.asarray(d_km, float)
        if self.kind == "steps":
            k = np.searchsorted(np.asarray(self.steps_km, float), d, side="left")
            w = np.r_[np.asarray(self.weights, float), 0.0]
            return w[k]
        inside = d <= self.catchment_km
        if self.kind == "gaussian":
            return np.where(inside, np.exp(-d * d / (2 * self.sigma_km ** 2)), 0.0)
        return inside.astype(float)


def decay_from_config(ind: dict) -> Decay:
    """:class:`Decay` from the ``indicators:`` config (``catchment_km`` and ``access_decay``)."""
    d = dict(ind.get("access_decay") or {"kind": "none"})
    return Decay(kind=str(d.get("kind", "none")), catchment_km=float(ind["catchment_km"]),
                 steps_km=tuple(float(x) for x in d.get("steps_km", ())),
                 weights=tuple(float(x) for x in d.get("weights", ())), sigma_km=float(d.get("sigma_km", 10.0)))


@dataclass
class Grid:
    """A window of the population grid: populations (inhabitants, 0 where none) and its georeference."""

    pop: np.ndarray
    transform: rasterio.Affine
    crs: rasterio.crs.CRS
    total_in_file: float


def read_grid(path: str | os.PathLike[str], bounds_3035: tuple[float, float, float, float] | None = None) -> Grid:
    """Read the population raster (EPSG:3035; nodata and negatives → 0), on ``bounds_3035`` (m) when given.

    The window keeps the file's 1 km cells, cut to the file's extent; a window wholly beyond the file (an
    overseas territory) is kept as it is and holds no cell, instead of falling back to the mainland grid."""
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
            arr = full.filled(0)
        else:
            window = from_bounds(*bounds_3035, transform=src.transform).round_offsets().round_lengths()
            window = Window(window.col_off, window.row_off, max(int(window.width), 1), max(int(window.height), 1))
            try:  # cut to the file's extent; a window beyond the file (overseas) is kept and holds no cell
                window = window.intersection(Window(0, 0, src.width, src.height))
            except rasterio.errors.WindowError:
                pass
            arr = src.read(1, window=window, boundless=True, fill_value=0, masked=True).filled(0)
        return Grid(arr.astype("float64").clip(min=0), src.window_transform(window), src.crs, total)


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
    """Grid window (EPSG:3035 bounds, m) of the territory's raster work, None for the whole file.

    ``clip`` (département/région territories): the bounding box of the communes on the grid (mainland and
    Corsica) padded by 2 × ``catchment_km`` + 1 km, so every cell within the catchment of every place that
    reaches the territory is read and the 2SFCA denominators equal a whole-grid run's. A territory with no
    commune on the grid (overseas) gets its own communes' box, which holds no cell of the file."""
    if not clip or not len(communes):
        return None
    on_grid = communes[~_is_overseas(communes)]
    b = (on_grid if len(on_grid) else communes).to_crs(GRID_CRS).total_bounds
    pad = 2 * catchment_km * 1000 + 1000
    return (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)


@dataclass
class _Cells:
    """Populated cells of a window that lie in the territory's zones."""

    grid: Grid
    rows: np.ndarray
    cols: np.ndarray
    pop: np.ndarray
    xyz: np.ndarray
    zone: np.ndarray
    lon: np.ndarray
    lat: np.ndarray


def _zoned_cells(grid: Grid, zones: set[str], corsica_own_zone: bool) -> _Cells:
    """Keep the populated cells of ``grid`` whose zone is one of ``zones``; the others are set to 0 in ``grid``."""
    rows, cols = np.nonzero(grid.pop > 0)
    lon, lat = _cell_centres(grid, rows, cols)
    zone = point_zones(lon, lat, corsica_own_zone)
    keep = np.isin(zone, list(zones))
    grid.pop[rows[~keep], cols[~keep]] = 0.0
    rows, cols, lon, lat, zone = rows[keep], cols[keep], lon[keep], lat[keep], zone[keep]
    return _Cells(grid, rows, cols, grid.pop[rows, cols], to_ecef_km(lon, lat).reshape(-1, 3), zone, lon, lat)


def _cell_communes(cells: _Cells, on_grid: gpd.GeoDataFrame) -> np.ndarray:
    """Row position (in the communes frame) of the commune holding each cell centre, −1 outside every commune."""
    g3035 = on_grid.to_crs(GRID_CRS)
    if not len(g3035):
        return np.full(len(cells.rows), -1, dtype="int64")
    ids = rasterize(((g, i + 1) for i, g in zip(g3035.index, g3035.geometry) if g is not None and not g.is_empty),
                    out_shape=cells.grid.pop.shape, transform=cells.grid.transform, fill=0, all_touched=False,
                    dtype="int32")
    return ids[cells.rows, cells.cols].astype("int64") - 1


def _spaces(spaces: gpd.GeoDataFrame, corsica_own_zone: bool,
            supply_col: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Places as (ECEF km, zone, supply weight); supply is 1 per place unless ``supply_col`` names a column."""
    sp = spaces.to_crs(4326)
    sp = sp[~sp.geometry.is_empty & ~shapely.is_missing(sp.geometry.array)]
    x, y = sp.geometry.x.to_numpy(), sp.geometry.y.to_numpy()
    if supply_col:
        if supply_col not in sp.columns:
            raise ConfigError(f"access supply_weight column '{supply_col}' is not a column of the places table")
        supply = pd.to_numeric(sp[supply_col], errors="coerce").fillna(0).clip(lower=0).to_numpy(float)
    else:
        supply = np.ones(len(sp))
    return to_ecef_km(x, y).reshape(-1, 3), point_zones(x, y, corsica_own_zone), supply


def nearest_in_zone(sp_xyz: np.ndarray, sp_zone: np.ndarray, xyz: np.ndarray, zone: np.ndarray,
                    threads: int = 1) -> np.ndarray:
    """Great-circle km from each point to the nearest place of its own zone (NaN when the zone has none).

    ``threads``: KD-tree query workers (default 1, so that parallel jobs never oversubscribe the cores)."""
    out = np.full(len(xyz), np.nan)
    for z in np.unique(zone):
        m = zone == z
        s = sp_zone == z
        if s.any():
            out[m] = chord_to_arc_km(cKDTree(sp_xyz[s]).query(xyz[m], k=1, workers=threads)[0])
    return out


def _pairs(sp_xyz: np.ndarray, sp_zone: np.ndarray, xyz: np.ndarray, zone: np.ndarray,
           decay: Decay) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(place index, point index, decay weight) of the place–point pairs of one zone within the decay's reach."""
    if not len(sp_xyz) or not len(xyz):
        e = np.array([], dtype="int64")
        return e, e, np.array([])
    pr = cKDTree(sp_xyz).sparse_distance_matrix(cKDTree(xyz), arc_to_chord_km(decay.reach_km), output_type="ndarray")
    i, j = pr["i"].astype("int64"), pr["j"].astype("int64")
    w = decay(chord_to_arc_km(pr["v"]))
    same = (sp_zone[i] == zone[j]) & (w > 0)
    return i[same], j[same], w[same]


def place_ratios(sp_xyz: np.ndarray, sp_zone: np.ndarray, supply: np.ndarray, dem_xyz: np.ndarray,
                 dem_zone: np.ndarray, dem_pop: np.ndarray, decay: Decay) -> np.ndarray:
    """Step 1 of the 2SFCA: R_i = S_i / Σ_k w(d_ik) P_k over the demand points k of place i's zone
    (places per inhabitant; 0 for a place with no demand within reach). Points in ECEF km (:func:`to_ecef_km`)."""
    return ratios_from_pairs(_pairs(sp_xyz, sp_zone, dem_xyz, dem_zone, decay), supply, dem_pop)


def ratios_from_pairs(pairs: tuple[np.ndarray, np.ndarray, np.ndarray], supply: np.ndarray,
                      dem_pop: np.ndarray) -> np.ndarray:
    """Step 1 of the 2SFCA from the (place, demand point, weight) pairs of :func:`_pairs`: R_i = S_i / Σ_k w_ik P_k
    (places per inhabitant; 0 for a place with no demand within reach)."""
    i, j, w = pairs
    supply = np.asarray(supply, float)
    P = np.bincount(i, weights=w * dem_pop[j], minlength=len(supply))
    return np.divide(supply, P, out=np.zeros(len(supply)), where=P > 0)


def scores_from_pairs(pairs: tuple[np.ndarray, np.ndarray, np.ndarray], ratios: np.ndarray,
                      n_points: int) -> np.ndarray:
    """Step 2 of the 2SFCA from (place, point, weight) pairs: 10,000 × Σ_i w_ik R_i at points 0..n_points−1
    (places per 10,000 inhabitants); pairs of points beyond ``n_points`` are ignored."""
    a, b, w = pairs
    keep = b < n_points
    return PER_INHABITANTS * np.bincount(b[keep], weights=(w * ratios[a])[keep], minlength=n_points)


def fca_scores(sp_xyz: np.ndarray, sp_zone: np.ndarray, ratios: np.ndarray, xyz: np.ndarray, zone: np.ndarray,
               decay: Decay) -> np.ndarray:
    """Step 2 of the 2SFCA: 10,000 × Σ_i w(d_ik) R_i at each point k (places per 10,000 inhabitants)."""
    return scores_from_pairs(_pairs(sp_xyz, sp_zone, xyz, zone, decay), ratios, len(xyz))


def compute_access(communes: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame, grid_path: str | os.PathLike[str] | None,
                   radii_km: list[float], catchment_km: float | None = None, clip: bool = True,
                   bounds_3035: BoundsType | None = None, report: np.ndarray | None = None,
                   decay: Decay | None = None, corsica_own_zone: bool = True,
                   supply_col: str | None = None, threads: int = 1) -> AccessResult:
    """Access indicators for ``communes`` (``insee_code, dep_code, population``, polygons) to ``spaces`` (points).

    ``decay`` (default: binary within ``catchment_km``) sets the 2SFCA: R_i = S_i / Σ_k w(d_ik) P_k over the
    demand points k of place i's zone (populated cells, and the centroids of the overseas communes), S_i the
    place's supply (1, or ``supply_col``); a point's score = 10,000 × Σ_i w(d_ik) R_i (places per 10,000
    inhabitants), population-weighted per commune. ``clip`` limits the raster work to
    :func:`territory_window`; ``bounds_3035`` (EPSG:3035, m) sets that window explicitly. Distances are
    great-circle km within the zone. ``report`` (boolean, one per commune) keeps only those communes' rows:
    the others only claim their grid cells (see :func:`compute_access_region`). ``threads``: KD-tree query
    workers (default 1).
    """
    if decay is None:
        if catchment_km is None:
            raise ValueError("compute_access needs catchment_km or decay")
        decay = Decay("none", float(catchment_km))
    communes = communes.to_crs(4326).reset_index(drop=True)
    sp_xyz, sp_zone, supply = _spaces(spaces, corsica_own_zone, supply_col)
    n_sp = len(sp_xyz)
    zone = commune_zones(communes["dep_code"], corsica_own_zone)
    zones = set(zone)
    stats: dict = {"spaces": n_sp, "communes": len(communes), "decay": decay.kind, "reach_km": decay.reach_km}

    overseas = _is_overseas(communes)
    grid = None
    cells = None
    cell_commune = np.array([], dtype="int64")
    dist_raster = None
    if grid_path is not None and len(communes):
        window = bounds_3035 if bounds_3035 is not None else territory_window(communes, decay.catchment_km, clip)
        grid = read_grid(grid_path, window)
        cells = _zoned_cells(grid, zones, corsica_own_zone)
        cell_commune = _cell_communes(cells, communes[~overseas])
        dist_raster = np.full(grid.pop.shape, DIST_NODATA, dtype="float32")
        stats.update({"raster_total_population_file": grid.total_in_file, "raster_window_population": float(cells.pop.sum()),
                      "raster_populated_cells": int(len(cells.pop)),
                      "raster_population_in_communes": float(cells.pop[cell_commune >= 0].sum()),
                      "raster_cells_outside_communes": int((cell_commune < 0).sum()),
                      "raster_population_outside_communes": float(cells.pop[cell_commune < 0].sum())})
    cell_xyz = cells.xyz if cells is not None else np.empty((0, 3))
    cell_pop = cells.pop if cells is not None else np.empty(0)
    cell_zone = cells.zone if cells is not None else np.empty(0, dtype=object)
    # Demand points: populated cells, plus overseas commune centroids (the grid stops at the mainland and Corsica).
    cent = commune_centroids(communes).reindex(communes["insee_code"])
    c_xyz = to_ecef_km(cent["lon"].to_numpy(), cent["lat"].to_numpy())
    c_pop = pd.to_numeric(communes["population"], errors="coerce").fillna(0).to_numpy(dtype="float64")
    ov = overseas & np.isfinite(c_xyz[:, 0])
    dem_xyz = np.vstack([cell_xyz, c_xyz[ov]])
    dem_pop = np.concatenate([cell_pop, c_pop[ov]])
    dem_zone = np.concatenate([cell_zone, zone[ov]])

    # the place–point pairs within reach, searched once: step 1 over every demand point, step 2 at the cells
    # (the first len(cell_pop) demand points) reuses them
    dem_pairs = _pairs(sp_xyz, sp_zone, dem_xyz, dem_zone, decay)
    R = ratios_from_pairs(dem_pairs, supply, dem_pop)
    stats["spaces_without_population_in_catchment"] = int((R == 0).sum())

    def score_at(xyz: np.ndarray, z: np.ndarray) -> np.ndarray:
        return fca_scores(sp_xyz, sp_zone, R, xyz, z, decay)

    labels = [radius_label(r) for r in radii_km]
    out = pd.DataFrame({"insee_code": communes["insee_code"].astype("string").to_numpy()})
    out["access_zone"] = pd.array(zone, dtype="string")
    out["access_population"] = np.nan
    out["pop_weighted_dist_km"] = np.nan
    for lab in labels:
        out[f"pop_within_{lab}km"] = np.nan
    out[SCORE_COL] = np.nan
    out["access_method"] = pd.Series(pd.NA, index=out.index, dtype="string")

    if len(cell_pop):
        cell_d = nearest_in_zone(sp_xyz, sp_zone, cell_xyz, cell_zone, threads)
        cell_s = scores_from_pairs(dem_pairs, R, len(cell_pop))
        assert cells is not None and dist_raster is not None  # populated cells come from the grid
        dist_raster[cells.rows, cells.cols] = cell_d.astype("float32")
        inside = cell_commune >= 0
        k, wp, d, s = cell_commune[inside], cell_pop[inside], cell_d[inside], cell_s[inside]
        n = len(communes)
        pop = np.bincount(k, weights=wp, minlength=n)
        has = pop > 0
        known = np.bincount(k, weights=wp * np.isfinite(d), minlength=n)  # population with a place in its zone
        dsum = np.bincount(k, weights=wp * np.nan_to_num(d), minlength=n)
        out.loc[has, "access_population"] = pop[has]
        out.loc[has, "pop_weighted_dist_km"] = np.where(known > 0, dsum / np.where(known > 0, known, 1), np.nan)[has]
        for r, lab in zip(radii_km, labels):
            out.loc[has, f"pop_within_{lab}km"] = np.bincount(k, weights=wp * (np.nan_to_num(d, nan=np.inf) <= r),
                                                              minlength=n)[has]
        out.loc[has, SCORE_COL] = (np.bincount(k, weights=wp * s, minlength=n) / np.where(has, pop, 1))[has]
        out.loc[has, "access_method"] = "raster"
    fb = out["access_method"].isna().to_numpy() & np.isfinite(c_xyz[:, 0])
    if fb.any():
        d = nearest_in_zone(sp_xyz, sp_zone, c_xyz[fb], zone[fb], threads)
        out.loc[fb, "access_population"] = c_pop[fb]
        out.loc[fb, "pop_weighted_dist_km"] = d
        for r, lab in zip(radii_km, labels):
            out.loc[fb, f"pop_within_{lab}km"] = np.where(np.nan_to_num(d, nan=np.inf) <= r, c_pop[fb], 0.0)
        out.loc[fb, SCORE_COL] = score_at(c_xyz[fb], zone[fb])
        out.loc[fb, "access_method"] = "centroid"
    if report is not None:
        keep = np.asarray(report, dtype=bool)
        out, overseas = out[keep].reset_index(drop=True), overseas[keep]
        stats["communes"] = len(out)
        stats["raster_population_in_communes"] = float(out.loc[out["access_method"].eq("raster"), "access_population"].sum())
    no_place = sorted(set(out["access_zone"].dropna()) - set(sp_zone))
    stats["zones_without_place"] = no_place
    stats["communes_raster"] = int(out["access_method"].eq("raster").sum())
    stats["communes_centroid_overseas"] = int((out["access_method"].eq("centroid") & overseas).sum())
    stats["communes_centroid_no_cell"] = int((out["access_method"].eq("centroid") & ~overseas).sum())
    log.info("access: %d communes through the grid, %d overseas and %d mainland/Corsica communes (no cell centre "
             "inside) through their centroid; zones without a place: %s", stats["communes_raster"],
             stats["communes_centroid_overseas"], stats["communes_centroid_no_cell"], no_place or "none")
    return AccessResult(out, dist_raster, grid, stats)


def compute_access_region(communes: gpd.GeoDataFrame, reg: str, spaces: gpd.GeoDataFrame,
                          grid_path: str | os.PathLike[str] | None, radii_km: list[float],
                          catchment_km: float | None = None, clip: bool = True, decay: Decay | None = None,
                          corsica_own_zone: bool = True, supply_col: str | None = None,
                          threads: int = 1) -> AccessResult:
    """:func:`compute_access` for the communes of région ``reg`` only, equal to the territory-wide run for them.

    ``communes``: all the territory's communes (``reg_code`` besides the usual
    columns) in the territory's order; ``spaces``: every space the territory
    sees (``spaces_context``), so spaces across the région's border count.
    The grid window is the région's mainland/Corsica communes' box plus a halo of
    2 × catchment + 1 km (every cell within the catchment of a space
    that reaches the région), cut to the territory's window when ``clip``, so
    the 2SFCA denominators are those of the territory-wide run. Communes of
    other régions inside the window are rasterised too (same burn order, so a
    cell on a slightly overlapping border goes to the same commune) but not
    reported.
    """
    if decay is None:
        if catchment_km is None:
            raise ValueError("compute_access_region needs catchment_km or decay")
        decay = Decay("none", float(catchment_km))
    communes = communes.to_crs(4326).reset_index(drop=True)
    mine = in_region(communes["reg_code"], reg).to_numpy()
    overseas = _is_overseas(communes)
    metro_mine = communes[mine & ~overseas]
    bounds = None
    keep = mine.copy()
    if grid_path is not None and len(metro_mine):
        b = metro_mine.to_crs(GRID_CRS).total_bounds
        halo = 2 * decay.catchment_km * 1000 + 1000
        bounds = (b[0] - halo, b[1] - halo, b[2] + halo, b[3] + halo)
        terr = territory_window(communes, decay.catchment_km, clip)
        if terr is not None:
            bounds = (max(bounds[0], terr[0]), max(bounds[1], terr[1]), min(bounds[2], terr[2]), min(bounds[3], terr[3]))
        cb = communes[~overseas].to_crs(GRID_CRS).bounds
        near = ((cb["minx"] <= bounds[2]) & (cb["maxx"] >= bounds[0]) & (cb["miny"] <= bounds[3]) & (cb["maxy"] >= bounds[1]))
        keep[np.flatnonzero(~overseas)[near.to_numpy()]] = True
    log.info("access région %s: %d communes, %d more claiming grid cells in the window %s", reg, int(mine.sum()),
             int(keep.sum() - mine.sum()), None if bounds is None else tuple(round(v) for v in bounds))
    return compute_access(communes[keep], spaces, grid_path, radii_km, clip=True, bounds_3035=bounds,
                          report=mine[keep], decay=decay, corsica_own_zone=corsica_own_zone, supply_col=supply_col,
                          threads=threads)


def distance_raster(communes: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame, grid_path: str | os.PathLike[str],
                    catchment_km: float, clip: bool = True, corsica_own_zone: bool = True) -> AccessResult:
    """The territory's nearest-place distance raster (great-circle km, within each cell's zone) and window stats.

    Same window and zones as :func:`compute_access` (so the gathered ``access_distance_km.tif`` equals the
    territory-wide one): only cells of the territory's zones are populated (dep-2A: Corsica's; an overseas
    territory: none, the Eurostat grid stops at Europe). NaN where the zone has no place; ``table`` is empty.
    Stats: ``raster_total_population_file``, ``raster_window_population``, ``raster_populated_cells``."""
    communes = communes.to_crs(4326)
    grid = read_grid(grid_path, territory_window(communes, catchment_km, clip))
    cells = _zoned_cells(grid, set(commune_zones(communes["dep_code"], corsica_own_zone)), corsica_own_zone)
    sp_xyz, sp_zone, _ = _spaces(spaces, corsica_own_zone, None)
    dist = np.full(grid.pop.shape, DIST_NODATA, dtype="float32")
    dist[cells.rows, cells.cols] = nearest_in_zone(sp_xyz, sp_zone, cells.xyz, cells.zone).astype("float32")
    stats = {"raster_total_population_file": grid.total_in_file, "raster_window_population": float(cells.pop.sum()),
             "raster_populated_cells": int(len(cells.rows))}
    return AccessResult(pd.DataFrame(), dist, grid, stats)


def demand_points(communes: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame, grid_path: str | os.PathLike[str] | None,
                  catchment_km: float, clip: bool = True, corsica_own_zone: bool = True) -> pd.DataFrame:
    """The territory's population as points, with the great-circle km to the nearest place of their zone.

    One row per populated 1 km cell whose centre lies in one of ``communes`` (same window and zones as
    :func:`compute_access`), plus one per commune the grid does not reach (overseas, or no cell centre inside),
    at its centroid with its legal population. Columns: ``insee_code, zone, lon, lat, population, dist_km``
    (NaN: no place in the zone) and ``point`` (``cell`` or ``centroid``)."""
    communes = communes.to_crs(4326).reset_index(drop=True)
    zone = commune_zones(communes["dep_code"], corsica_own_zone)
    sp_xyz, sp_zone, _ = _spaces(spaces, corsica_own_zone, None)
    overseas = _is_overseas(communes)
    parts = []
    reached = np.zeros(len(communes), bool)
    if grid_path is not None and len(communes):
        cells = _zoned_cells(read_grid(grid_path, territory_window(communes, catchment_km, clip)), set(zone),
                             corsica_own_zone)
        k = _cell_communes(cells, communes[~overseas])
        inside = k >= 0
        reached[np.unique(k[inside])] = True
        parts.append(pd.DataFrame({"insee_code": communes["insee_code"].astype("string").to_numpy()[k[inside]],
                                   "zone": cells.zone[inside], "lon": cells.lon[inside], "lat": cells.lat[inside],
                                   "population": cells.pop[inside],
                                   "dist_km": nearest_in_zone(sp_xyz, sp_zone, cells.xyz[inside], cells.zone[inside]),
                                   "point": "cell"}))
    cent = commune_centroids(communes).reindex(communes["insee_code"])
    fb = ~reached & cent["lon"].notna().to_numpy()
    if fb.any():
        lon, lat = cent["lon"].to_numpy()[fb], cent["lat"].to_numpy()[fb]
        parts.append(pd.DataFrame({"insee_code": communes["insee_code"].astype("string").to_numpy()[fb],
                                   "zone": zone[fb], "lon": lon, "lat": lat,
                                   "population": pd.to_numeric(communes["population"], errors="coerce").fillna(0)
                                   .to_numpy(float)[fb],
                                   "dist_km": nearest_in_zone(sp_xyz, sp_zone, to_ecef_km(lon, lat), zone[fb]),
                                   "point": "centroid"}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["insee_code", "zone", "lon", "lat", "population", "dist_km", "point"])
    log.info("demand points: %d cells and %d commune centroids, %.0f inhabitants", int(out["point"].eq("cell").sum()),
             int(out["point"].eq("centroid").sum()), out["population"].sum())
    return out


TIME_COLS = ("origin", "destination", "minutes")


def read_time_matrix(path: str | os.PathLike[str], codes: pd.Series) -> pd.DataFrame:
    """A user's commune-to-commune road travel-time matrix: CSV ``origin, destination, minutes``.

    Codes are 5-character COG codes (leading zeros kept); every origin must be one of ``codes`` (the
    territory's communes; destinations may lie outside it); minutes are finite and ≥ 0; a pair appears once.
    A commune's own row (origin = destination) is added at 0 minutes when absent. Raises
    :class:`InputFileError` naming the first offending rows."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "travel-time matrix not found")
    df = pd.read_csv(p, dtype={"origin": "string", "destination": "string"}, sep=None, engine="python")
    missing = [c for c in TIME_COLS if c not in df.columns]
    if missing:
        raise InputFileError(p, f"travel-time matrix needs columns {list(TIME_COLS)}; missing {missing}")
    df = df[list(TIME_COLS)].copy()
    for c in ("origin", "destination"):
        df[c] = df[c].str.strip().str.zfill(5)
        bad = ~df[c].str.fullmatch(r"[0-9][0-9AB][0-9]{3}").fillna(False).astype(bool)
        if bad.any():
            raise InputFileError(p, f"{int(bad.sum())} row(s) with an invalid {c} code, e.g. {df.loc[bad, c].head(3).tolist()}")
    df["minutes"] = pd.to_numeric(df["minutes"], errors="coerce")
    bad = ~np.isfinite(df["minutes"]) | (df["minutes"] < 0)
    if bad.any():
        raise InputFileError(p, f"{int(bad.sum())} row(s) with missing, negative or non-numeric minutes, "
                                f"e.g. {df.loc[bad].head(3).to_dict('records')}")
    known = set(codes.astype("string"))
    unknown = ~df["origin"].isin(known)
    if unknown.any():
        raise InputFileError(p, f"{int(unknown.sum())} row(s) whose origin is not a commune of the territory (COG 2024), "
                                f"e.g. {df.loc[unknown, 'origin'].head(3).tolist()}")
    dup = df.duplicated(["origin", "destination"])
    if dup.any():
        raise InputFileError(p, f"{int(dup.sum())} repeated origin-destination pair(s), e.g. "
                                f"{df.loc[dup, ['origin', 'destination']].head(3).to_dict('records')}")
    own = pd.DataFrame({"origin": sorted(known), "destination": sorted(known), "minutes": 0.0}).astype(
        {"origin": "string", "destination": "string"})
    have = set(zip(df["origin"], df["destination"]))
    own = own[[(o, o) not in have for o in own["origin"]]]
    return pd.concat([df, own], ignore_index=True)


def travel_time_access(communes: pd.DataFrame, spaces: pd.DataFrame, matrix: pd.DataFrame, decay: Decay,
                       supply_col: str | None = None) -> pd.DataFrame:
    """Access by road from a travel-time matrix (:func:`read_time_matrix`), per commune of ``communes``.

    Demand: each commune's legal population at its origin; supply: the places of each destination commune
    (``spaces.insee_code``; 1 each or ``supply_col``). ``decay`` is applied to minutes (e.g. steps 10 / 15 / 20
    min, the APL's). Returns ``insee_code, time_nearest_place_min`` (NaN when no place is listed within the
    matrix) and ``access_2sfca_time_per_10k`` (places per 10,000 inhabitants)."""
    pop = pd.Series(pd.to_numeric(communes["population"], errors="coerce").fillna(0).to_numpy(float),
                    index=communes["insee_code"].astype("string"))
    sup = (pd.to_numeric(spaces[supply_col], errors="coerce").fillna(0) if supply_col else pd.Series(1.0, index=spaces.index))
    supply = sup.groupby(spaces["insee_code"].astype("string")).sum()
    m = matrix[matrix["destination"].isin(supply.index)].copy()
    m["w"] = decay(m["minutes"].to_numpy(float))
    m = m[m["w"] > 0]
    m["pop"] = m["origin"].map(pop).fillna(0.0).to_numpy(float)
    P = (m["pop"] * m["w"]).groupby(m["destination"]).sum()
    R = (supply.reindex(P.index) / P.where(P > 0)).fillna(0.0)
    score = (m["w"] * m["destination"].map(R)).groupby(m["origin"]).sum() * PER_INHABITANTS
    nearest = matrix[matrix["destination"].isin(supply.index)].groupby("origin")["minutes"].min()
    codes = communes["insee_code"].astype("string")
    return pd.DataFrame({"insee_code": codes.to_numpy(), "time_nearest_place_min": codes.map(nearest).to_numpy(float),
                         "access_2sfca_time_per_10k": codes.map(score).fillna(0.0).to_numpy(float)})


def gather_access_stats(table: pd.DataFrame, raster: AccessResult) -> dict:
    """Territory-wide statistics for :func:`access_by_class` from the gathered table and :func:`distance_raster`."""
    stats = dict(raster.stats)
    inside = float(table.loc[table["access_method"].eq("raster"), "access_population"].sum())
    stats["raster_population_in_communes"] = inside
    stats["raster_population_outside_communes"] = stats["raster_window_population"] - inside
    return stats


def write_distance_tif(result: AccessResult, path: str | os.PathLike[str], provenance: dict | None = None) -> Path:
    """Write the nearest-place distance (km, float32, nodata −1 where unpopulated) as a GeoTIFF, atomically."""
    if result.grid is None or result.distance is None:
        raise ValueError("no raster: no population grid was read")
    h, w = result.distance.shape
    profile = {"driver": "GTiff", "dtype": "float32", "count": 1, "height": h, "width": w, "crs": result.grid.crs,
               "transform": result.grid.transform, "nodata": DIST_NODATA, "compress": "deflate", "tiled": True,
               "blockxsize": 256, "blockysize": 256}
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(result.distance, 1)
            dst.update_tags(units="km", description="great-circle (straight-line, 'à vol d'oiseau') distance from the "
                            "cell centre to the nearest place of the same zone (mainland, Corsica, each overseas "
                            "département); NaN: no place in the zone",
                            provenance=json.dumps(provenance or {}, ensure_ascii=False))
    return Path(path)


def access_by_class(access: pd.DataFrame, communes: pd.DataFrame, radii_km: list[float], stats: dict) -> pd.DataFrame:
    """Population within each radius of a place, by ``territory_class``, with a total row and the raster's totals.

    ``pop_weighted_dist_km`` (great-circle km) is averaged over the population that has a place in its zone;
    ``population_no_place_in_zone`` counts the others ("aucun lieu dans le territoire", e.g. Mayotte)."""
    df = access.merge(communes[["insee_code", "territory_class"]].astype({"insee_code": "string"}), on="insee_code", how="left")
    df["territory_class"] = df["territory_class"].astype("string").fillna("unclassified")
    df["_no_place"] = df["access_population"].where(df["pop_weighted_dist_km"].isna(), 0.0)
    labels = [radius_label(r) for r in radii_km]
    agg = {"communes": ("insee_code", "size"), "communes_centroid": ("access_method", lambda s: int(s.eq("centroid").sum())),
           "population": ("access_population", "sum"), "population_no_place_in_zone": ("_no_place", "sum")}
    agg.update({f"pop_within_{lab}km": (f"pop_within_{lab}km", "sum") for lab in labels})
    g = df.groupby("territory_class").agg(**agg).reset_index()
    tot = df.assign(territory_class="all").groupby("territory_class").agg(**agg).reset_index()
    out = pd.concat([g, tot], ignore_index=True)
    for lab in labels:
        out[f"share_within_{lab}km"] = out[f"pop_within_{lab}km"] / out["population"]
    known = df["pop_weighted_dist_km"].notna()
    pw = (df["access_population"] * df["pop_weighted_dist_km"])[known].groupby(df.loc[known, "territory_class"]).sum()
    pk = df.loc[known, "access_population"].groupby(df.loc[known, "territory_class"]).sum()
    pw["all"], pk["all"] = pw.sum(), pk.sum()
    out["pop_weighted_dist_km"] = out["territory_class"].map(pw).astype("float64") / out["territory_class"].map(pk).astype("float64")
    for key in ("raster_total_population_file", "raster_window_population", "raster_population_in_communes",
                "raster_population_outside_communes"):
        out[key] = stats.get(key, np.nan)
    return out
