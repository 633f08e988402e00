"""Geometry of the synthetic territory: outline, commune seeds and Voronoi polygons.

All metric work is in EPSG:2154 (Lambert-93, metres). The territory sits in
central France around lon 3.5°, lat 46.4° (EPSG:4326), inside lon 2.5–4.5 and
lat 45.8–47.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

CENTRE_LONLAT = (3.5, 46.4)
KM = 1000.0


@dataclass(frozen=True)
class Seeds:
    """Commune seed points (EPSG:2154, metres) and the role each seed was drawn for."""

    xy: np.ndarray  # (n, 2)
    role: np.ndarray  # str: central, metro_inner, metro_outer, medium, medium_ring, other
    group: np.ndarray  # int: index of the medium city for medium/medium_ring, else -1
    outline: shapely.Polygon
    radius_m: float  # scale of the cities, their rings and couronnes (≤ 120 km)
    extent_m: float = 0.0  # mean radius of the outline (equal to radius_m up to 1,500 communes)


def to_l93() -> Transformer:
    """EPSG:4326 → EPSG:2154 transformer (lon, lat order)."""
    return Transformer.from_crs(4326, 2154, always_xy=True)


def outline_polygon(rng: np.random.Generator, radius_m: float) -> shapely.Polygon:
    """A compact, irregular outline (EPSG:2154) of mean radius ``radius_m`` around the centre."""
    cx, cy = to_l93().transform(*CENTRE_LONLAT)
    theta = np.linspace(0.0, 2 * np.pi, 96, endpoint=False)
    phases = rng.uniform(0, 2 * np.pi, 3)
    r = radius_m * (1 + 0.10 * np.sin(2 * theta + phases[0]) + 0.06 * np.sin(3 * theta + phases[1])
                    + 0.03 * np.sin(5 * theta + phases[2]))
    ring = np.column_stack([cx + 1.15 * r * np.cos(theta), cy + 0.95 * r * np.sin(theta)])
    return shapely.Polygon(ring)


def _ring(rng: np.random.Generator, centre: np.ndarray, n: int, radius: float, jitter: float) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(0, 2 * np.pi)
    rr = radius * (1 + rng.uniform(-jitter, jitter, n))
    aa = angles + rng.uniform(-jitter, jitter, n) * (np.pi / n)
    return centre + np.column_stack([rr * np.cos(aa), rr * np.sin(aa)])


def draw_seeds(rng: np.random.Generator, n_communes: int) -> Seeds:
    """Seed points: the metropolis (a central city and two rings), 2–3 medium cities with a ring, and a
    jittered hexagonal grid elsewhere, all inside the outline. Exactly ``n_communes`` seeds.

    The outline grows with ``n_communes`` (mean radius 53 km × √(n/300), about 570 km for 35,000
    communes); the cities and their rings keep a scale of at most 120 km, so that a France-sized
    territory still has compact cities."""
    extent = 53 * KM * min(1.0, np.sqrt(n_communes / 300)) if n_communes <= 1500 else 53 * KM * np.sqrt(
        n_communes / 300)
    radius = min(extent, 120 * KM)
    outline = outline_polygon(rng, extent)
    c = np.array(outline.centroid.coords[0])
    ang_m = rng.uniform(0, 2 * np.pi)
    metro = c + 0.15 * radius * np.array([np.cos(ang_m), np.sin(ang_m)])
    n_metro = int(np.clip(round(0.065 * n_communes), 15, 25)) - 1
    n_inner = 6
    pts = [metro[None, :], _ring(rng, metro, n_inner, 0.085 * radius, 0.25),
           _ring(rng, metro, n_metro - n_inner, 0.19 * radius, 0.2)]
    role = ["central"] + ["metro_inner"] * n_inner + ["metro_outer"] * (n_metro - n_inner)
    group = [-1] * (1 + n_metro)
    n_medium = 3 if n_communes >= 200 else 2
    base = ang_m + np.pi + rng.uniform(-0.4, 0.4)
    spread = np.linspace(-1.1, 1.1, n_medium) if n_medium == 3 else np.array([-0.8, 0.8])
    for k, a in enumerate(base + spread):
        city = c + 0.62 * extent * np.array([1.1 * np.cos(a), 0.9 * np.sin(a)])
        ring = _ring(rng, city, 6, 0.09 * radius, 0.25)
        pts += [city[None, :], ring]
        role += ["medium"] + ["medium_ring"] * 6
        group += [k] * 7
    special = np.vstack(pts)
    n_rest = n_communes - len(special)
    # jittered hexagonal grid, spacing shrunk until enough points fall in the outline
    area = outline.area - np.pi * (0.22 * radius) ** 2 - n_medium * np.pi * (0.12 * radius) ** 2
    spacing = np.sqrt(2 * max(area, 1.0) / (np.sqrt(3) * max(n_rest, 1)))
    inner = outline.buffer(-0.02 * extent)
    minx, miny, maxx, maxy = outline.bounds
    while True:
        ys = np.arange(miny, maxy, spacing * np.sqrt(3) / 2)
        xs = np.arange(minx, maxx, spacing)
        gx, gy = np.meshgrid(xs, ys)
        gx = gx + (np.arange(len(ys))[:, None] % 2) * spacing / 2
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        grid = grid + rng.uniform(-0.3, 0.3, grid.shape) * spacing
        keep = shapely.contains_xy(inner, grid[:, 0], grid[:, 1])
        d = cKDTree(special).query(grid)[0] if len(grid) > 20000 else np.sqrt(
            ((grid[:, None, :] - special[None, :, :]) ** 2).sum(-1)).min(1)
        grid = grid[keep & (d > 0.75 * spacing)]
        if len(grid) >= n_rest:
            break
        spacing *= 0.96
    grid = grid[np.sort(rng.choice(len(grid), n_rest, replace=False))]
    xy = np.vstack([special, grid])
    role += ["other"] * n_rest
    group += [-1] * n_rest
    return Seeds(xy=xy, role=np.array(role), group=np.array(group), outline=outline, radius_m=float(radius),
                 extent_m=float(extent))


def voronoi_cells(seeds: Seeds) -> np.ndarray:
    """One polygon per seed (EPSG:2154): Voronoi cells clipped to the outline, in seed order."""
    mp = shapely.MultiPoint(seeds.xy)
    cells = shapely.voronoi_polygons(mp, extend_to=seeds.outline.buffer(5 * KM), ordered=True)
    polys = np.array(shapely.get_parts(cells))
    clipped = shapely.intersection(polys, seeds.outline)
    return shapely.set_precision(clipped, 1.0)
