"""Access on the real mirror: zones (no distance across the sea), windows right by construction, the island and
overseas territories, the APL-style decay against PySAL's ``access`` and the order of the classes in France."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from pyproj import Transformer

from coworking_geo.indicators.access import (
    CORSICA,
    MAINLAND,
    SCORE_COL,
    Decay,
    access_by_class,
    commune_zones,
    compute_access,
    decay_from_config,
    distance_raster,
    fca_scores,
    place_ratios,
    point_zones,
    read_grid,
    territory_window,
)
from coworking_geo.territories.classify import TERRITORY_CLASSES
from coworking_geo.geodesy import commune_centroids, to_ecef_km

sys.path.insert(0, str(Path(__file__).parent))
from standins_indicators import communes_standin, spaces_standin  # noqa: E402

GRID = Path("eurostat_popgrid_1km") / "eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif"
RADII = [5.0, 10.0, 20.0]


def _default_decay(repo_root: Path) -> Decay:
    return decay_from_config(yaml.safe_load((repo_root / "config" / "config.yaml").read_text())["indicators"])


def test_decay_matches_pysal_weights() -> None:
    from access import weights

    d = np.r_[np.linspace(0, 20, 401), 7.999999, 8.0, 8.000001, 16.0, 16.5]
    steps = Decay("steps", 16, (8, 12, 16), (1.0, 0.66, 0.33))
    ref = weights.step_fn({8: 1.0, 12: 0.66, 16: 0.33})
    np.testing.assert_array_equal(steps(d), [ref(x) for x in d])
    gauss = Decay("gaussian", 30, sigma_km=8)
    np.testing.assert_allclose(gauss(d), weights.gaussian(8)(d), rtol=0, atol=1e-15)
    with pytest.raises(Exception, match="steps"):
        Decay("steps", 10, (8, 12), (1.0, 0.5))  # last step beyond the catchment


def test_zone_boxes_hold_their_communes(mirror: Path) -> None:
    communes = communes_standin(mirror)
    cent = commune_centroids(communes).reindex(communes["insee_code"])
    for own in (True, False):
        by_dep = commune_zones(communes["dep_code"], own)
        by_box = point_zones(cent["lon"].to_numpy(), cent["lat"].to_numpy(), own)
        assert (by_dep == by_box).all(), communes.loc[by_dep != by_box, ["insee_code", "dep_code"]].head()
    z = pd.Series(commune_zones(communes["dep_code"])).value_counts()
    assert z[CORSICA] == 360 and z["976"] == 17 and z["974"] == 24 and len(z) == 7


@pytest.fixture(scope="module")
def france_access(mirror: Path, france_build, repo_root: Path):
    communes = france_build[0]
    res = compute_access(communes, spaces_standin(mirror), mirror / GRID, RADII, clip=False,
                         decay=_default_decay(repo_root))
    return communes, res


def test_france_mayotte_has_no_place_and_classes_are_ordered(france_access) -> None:
    communes, res = france_access
    legal = communes[["insee_code", "dep_code", "population"]].rename(columns={"population": "population_legal"})
    t = res.table.merge(legal, on="insee_code")
    mayotte = t[t["dep_code"].eq("976")]
    assert len(mayotte) == 17 and mayotte["pop_weighted_dist_km"].isna().all()
    assert (mayotte["pop_within_20km"] == 0).all() and (mayotte[SCORE_COL] == 0).all()
    assert res.stats["zones_without_place"] == ["976"]
    others = t[~t["dep_code"].eq("976") & t["access_population"].gt(0)]
    assert others["pop_weighted_dist_km"].notna().all()
    # no distance across the sea: every overseas commune is served from its own island (Guyane: its own land)
    far = t[t["dep_code"].str.startswith("97")].groupby("dep_code")["pop_weighted_dist_km"].max()
    assert far[["971", "972", "974"]].max() < 100 and far["973"] < 450
    assert t.loc[t["dep_code"].isin(["2A", "2B"]), "pop_weighted_dist_km"].max() < 100
    cls = access_by_class(res.table, communes, RADII, res.stats).set_index("territory_class")
    assert cls.loc["all", "population_no_place_in_zone"] == pytest.approx(mayotte["population_legal"].sum())
    d = cls["pop_weighted_dist_km"]
    metropolis, medium = TERRITORY_CLASSES[0], "ville_moyenne"
    rural = [c for c in TERRITORY_CLASSES if c.startswith("rural")]
    assert rural and all(c in d.index for c in [metropolis, medium, *rural])
    assert d[metropolis] < d[medium] < min(d[c] for c in rural)
    assert 0 < d[metropolis] < 5 and d["all"] < 12


def test_clipped_territory_equals_whole_grid(mirror: Path, repo_root: Path) -> None:
    """The Orne, clipped, with the real places and one more just outside it (near La Loupe, Eure-et-Loir):
    every place reaching the Orne gets the denominator of a whole-grid run."""
    communes, spaces = communes_standin(mirror), spaces_standin(mirror)
    extra = gpd.GeoDataFrame({"space_id": ["outside"], "lon": [1.05], "lat": [48.45]},
                             geometry=gpd.points_from_xy([1.05], [48.45]), crs=4326)
    spaces = pd.concat([spaces, extra], ignore_index=True)
    orne = communes[communes["dep_code"].eq("61")]
    decay = _default_decay(repo_root)
    clipped = compute_access(orne, spaces, mirror / GRID, RADII, clip=True, decay=decay)
    whole = compute_access(orne, spaces, mirror / GRID, RADII, clip=False, decay=decay)
    assert clipped.stats["raster_populated_cells"] < whole.stats["raster_populated_cells"] / 10
    a, b = clipped.table.set_index("insee_code"), whole.table.set_index("insee_code")
    assert len(a) == 385 and (a["access_method"] == b["access_method"]).all()
    for c in ["access_population", "pop_weighted_dist_km", "pop_within_5km", "pop_within_10km", SCORE_COL]:
        np.testing.assert_allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-9, atol=1e-12)
    assert (a[SCORE_COL] > 0).sum() > 100
    # the former pad (one catchment + 1 km) misses part of that place's catchment: it moves the Orne's scores
    win = territory_window(orne, decay.catchment_km / 2, True)
    narrow = compute_access(orne, spaces, mirror / GRID, RADII, bounds_3035=win, decay=decay).table
    moved = np.abs(narrow[SCORE_COL].to_numpy(float) - b[SCORE_COL].to_numpy(float)) / b[SCORE_COL].to_numpy(float)
    assert np.nanmax(moved) > 0.01


@pytest.mark.parametrize("dep", ["2A", "974"])
def test_island_territories_read_only_their_own_cells(mirror: Path, dep: str, repo_root: Path) -> None:
    communes, spaces = communes_standin(mirror), spaces_standin(mirror)
    terr = communes[communes["dep_code"].eq(dep)]
    decay = _default_decay(repo_root)
    ras = distance_raster(terr, spaces, mirror / GRID, decay.catchment_km, clip=True)
    rows, cols = np.nonzero(ras.distance >= 0)
    x, y = rasterio.transform.xy(ras.grid.transform, rows, cols, offset="center")
    lon, lat = Transformer.from_crs(3035, 4326, always_xy=True).transform(np.asarray(x), np.asarray(y))
    zones = set(point_zones(np.asarray(lon), np.asarray(lat)))
    res = compute_access(terr, spaces, mirror / GRID, RADII, clip=True, decay=decay)
    t = res.table
    if dep == "2A":
        assert zones == {CORSICA} and len(rows) > 1000 and ras.stats["raster_window_population"] < 400_000
        assert np.nanmax(ras.distance) < 100 and t["access_method"].eq("raster").sum() > 100
    else:  # the Eurostat grid stops at Europe: no cell, every commune through its centroid, on its own island
        assert len(rows) == 0 and ras.stats["raster_window_population"] == 0 and MAINLAND not in zones
        assert t["access_method"].eq("centroid").all() and len(t) == 24
        assert t["pop_weighted_dist_km"].notna().all() and t["pop_weighted_dist_km"].max() < 80


def test_decay_score_matches_pysal_access(mirror: Path, repo_root: Path) -> None:
    """Same grid (the Orne's populated cells and its window), same places, same weights: same scores."""
    from access import fca, weights

    communes, spaces = communes_standin(mirror), spaces_standin(mirror)
    orne = communes[communes["dep_code"].eq("61")]
    decay = _default_decay(repo_root)
    grid = read_grid(mirror / GRID, territory_window(orne, decay.catchment_km, True))
    rows, cols = np.nonzero(grid.pop > 0)
    x, y = rasterio.transform.xy(grid.transform, rows, cols, offset="center")
    lon, lat = Transformer.from_crs(3035, 4326, always_xy=True).transform(np.asarray(x), np.asarray(y))
    cell_xyz, pop = to_ecef_km(lon, lat), grid.pop[rows, cols]
    sp = spaces.cx[-1.5:1.5, 47.5:49.5]
    sp_xyz = to_ecef_km(sp["lon"].to_numpy(), sp["lat"].to_numpy())
    zone_c, zone_s = np.full(len(pop), MAINLAND), np.full(len(sp), MAINLAND)
    supply = np.arange(1, len(sp) + 1, dtype=float) % 3 + 1  # supply weights 1, 2, 3
    ours = fca_scores(sp_xyz, zone_s, place_ratios(sp_xyz, zone_s, supply, cell_xyz, zone_c, pop, decay),
                      cell_xyz, zone_c, decay)
    d = 2 * 6371.0088 * np.arcsin(np.clip(np.linalg.norm(cell_xyz[:, None, :] - sp_xyz[None, :, :], axis=2)
                                          / (2 * 6371.0088), 0, 1))
    o, s = np.nonzero(d <= decay.reach_km)
    cost = pd.DataFrame({"origin": o, "dest": s, "cost": d[o, s]})
    ref = fca.two_stage_fca(pd.DataFrame({"demand": pop}), pd.DataFrame({"supply": supply}), cost,
                            max_cost=decay.catchment_km, demand_index=True, weight_fn=weights.step_fn(
                                dict(zip(decay.steps_km, decay.weights))))
    theirs = np.zeros(len(pop))
    theirs[ref.index.to_numpy(int)] = ref.to_numpy(float) * 10_000
    assert len(sp) > 20 and (ours > 0).sum() > 1000
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
