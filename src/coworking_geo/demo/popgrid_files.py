"""Demo file for the Eurostat GEOSTAT 1 km population grid: a GeoTIFF in EPSG:3035 (int32, 0 = no
population, nodata -1) whose cells add up exactly to the communes' populations (PL 2021)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine

from coworking_geo.demo.fmt import largest_remainder
from coworking_geo.demo.model import DemoTerritory
from coworking_geo.io import atomic_path

CELL = 1000.0
SPREAD_KM = {"central": 2.5, "medium": 2.0, "small_town": 1.2, "metro_inner": 2.0}


def population_grid(terr: DemoTerritory, rng: np.random.Generator) -> tuple[np.ndarray, tuple[float, float]]:
    """Cell counts (rows top to bottom) and the grid's top-left corner (EPSG:3035 metres).

    Each commune's population goes to the cells whose centre falls in it, weighted by a kernel around its
    centroid (dense towns, scattered villages); a commune without a cell centre gets its centroid's cell."""
    c = terr.communes.to_crs(3035)
    minx, miny, maxx, maxy = c.total_bounds
    x0, y1 = np.floor(minx / CELL) * CELL - 2 * CELL, np.ceil(maxy / CELL) * CELL + 2 * CELL
    x1, y0 = np.ceil(maxx / CELL) * CELL + 2 * CELL, np.floor(miny / CELL) * CELL - 2 * CELL
    ncol, nrow = int((x1 - x0) / CELL), int((y1 - y0) / CELL)
    cx = x0 + CELL * (np.arange(ncol) + 0.5)
    cy = y1 - CELL * (np.arange(nrow) + 0.5)
    gx, gy = np.meshgrid(cx, cy)
    px, py = gx.ravel(), gy.ravel()
    pts = gpd.GeoSeries(gpd.points_from_xy(px, py), crs=3035)
    left, right = c.sindex.query(pts, predicate="within")
    grid = np.zeros(nrow * ncol, dtype=np.int64)
    cent = c.geometry.centroid
    ccx, ccy = cent.x.to_numpy(), cent.y.to_numpy()
    kind = c["kind"].to_numpy()
    pop = c["pop2021"].to_numpy()
    order = np.argsort(right, kind="stable")
    left, right = left[order], right[order]
    starts = np.searchsorted(right, np.arange(len(c)))
    ends = np.searchsorted(right, np.arange(len(c)), side="right")
    for j in range(len(c)):
        cells = left[starts[j]:ends[j]]
        if len(cells) == 0:
            col = int((ccx[j] - x0) // CELL)
            row = int((y1 - ccy[j]) // CELL)
            grid[row * ncol + col] += pop[j]
            continue
        d = np.hypot(px[cells] - ccx[j], py[cells] - ccy[j]) / 1000
        s = SPREAD_KM.get(kind[j], 1.5)
        w = np.exp(-d / s) * rng.uniform(0.5, 1.5, len(cells))
        w[rng.random(len(cells)) < 0.2] *= 0.05  # forests and fields
        grid[cells] += largest_remainder(w, int(pop[j]))
    return grid.reshape(nrow, ncol), (float(x0), float(y1))


def write_popgrid(terr: DemoTerritory, rng: np.random.Generator, path: Path) -> np.ndarray:
    """eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif in the mirror's profile (tiled, deflate)."""
    grid, (x0, y1) = population_grid(terr, rng)
    profile = {"driver": "GTiff", "dtype": "int32", "nodata": -1, "width": grid.shape[1], "height": grid.shape[0],
               "count": 1, "crs": "EPSG:3035", "transform": Affine(CELL, 0.0, x0, 0.0, -CELL, y1), "tiled": True,
               "blockxsize": 256, "blockysize": 256, "compress": "deflate", "predictor": 2, "interleave": "band"}
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(grid.astype(np.int32), 1)
        dst.update_tags(source="coworking-geo synthetic demo (not Eurostat data); 0 = no population",
                        units="persons")
        tmp.chmod(0o644)
    return grid
