"""Access to spaces from the population grid: nearest distance, population within radii, 2SFCA,
centroid fallback, the distance GeoTIFF, and the real France run."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import Point, box

from coworking_geo.indicators.access import SCORE_COL, access_by_class, compute_access, write_distance_tif

sys.path.insert(0, str(Path(__file__).parent))
from standins_indicators import communes_standin, spaces_standin  # noqa: E402

X0, Y0 = 3_700_000.0, 2_800_000.0  # top-left corner of the 10 × 10 km test grid (EPSG:3035, central France)


def _grid(tmp_path: Path) -> Path:
    pop = np.zeros((10, 10), dtype="int32")
    pop[1, 1], pop[1, 8], pop[8, 8] = 100, 50, 10
    pop[9, 0] = -1  # nodata
    path = tmp_path / "grid.tif"
    with rasterio.open(path, "w", driver="GTiff", height=10, width=10, count=1, dtype="int32", crs="EPSG:3035",
                       transform=rasterio.transform.from_origin(X0, Y0, 1000, 1000), nodata=-1) as dst:
        dst.write(pop, 1)
    return path


def _cell(row: int, col: int) -> Point:
    return Point(X0 + 1000 * col + 500, Y0 - 1000 * row - 500)


def _inputs() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    polys = [box(X0, Y0 - 10_000, X0 + 5000, Y0), box(X0 + 5000, Y0 - 10_000, X0 + 10_000, Y0),
             box(X0 + 2100, Y0 - 4900, X0 + 2400, Y0 - 4600)]  # the last one holds no cell centre
    metro = gpd.GeoDataFrame({"insee_code": ["18001", "18002", "18003"], "dep_code": ["18"] * 3,
                              "population": [90, 70, 12], "territory_class": ["rural", "petite_ville", "rural"]},
                             geometry=polys, crs=3035).to_crs(4326)
    reunion = gpd.GeoDataFrame({"insee_code": ["97411"], "dep_code": ["974"], "population": [1000],
                                "territory_class": ["metropole"]},
                               geometry=[Point(55.45, -20.88).buffer(0.01)], crs=4326)
    communes = pd.concat([metro, reunion], ignore_index=True)
    space_pts = gpd.GeoSeries([_cell(1, 1)], crs=3035).to_crs(4326).tolist() + [Point(55.45, -20.88 + 3 / 111.2)]
    spaces = gpd.GeoDataFrame({"space_id": ["s1", "s2"]}, geometry=space_pts, crs=4326)
    return communes, spaces


def test_access_on_a_small_grid(tmp_path: Path) -> None:
    communes, spaces = _inputs()
    res = compute_access(communes, spaces, _grid(tmp_path), [5, 10], catchment_km=8)
    t = res.table.set_index("insee_code")
    w, e, tiny, reu = t.loc["18001"], t.loc["18002"], t.loc["18003"], t.loc["97411"]
    assert w["access_method"] == "raster" and w["access_population"] == 100
    assert w["pop_weighted_dist_km"] < 0.05 and w["pop_within_5km"] == 100
    assert e["access_population"] == 60
    assert e["pop_weighted_dist_km"] == pytest.approx((50 * 7 + 10 * np.hypot(7, 7)) / 60, rel=0.01)
    assert e["pop_within_5km"] == 0 and e["pop_within_10km"] == 60
    # 2SFCA: the space reaches 150 inhabitants within 8 km → 10,000 / 150 per inhabitant reached.
    assert w[SCORE_COL] == pytest.approx(10_000 / 150, rel=1e-6)
    assert e[SCORE_COL] == pytest.approx(50 / 60 * 10_000 / 150, rel=1e-6)
    assert tiny["access_method"] == "centroid" and tiny["access_population"] == 12
    assert tiny["pop_weighted_dist_km"] == pytest.approx(np.hypot(0.75, 3.25), abs=0.05)
    assert reu["access_method"] == "centroid" and reu["pop_weighted_dist_km"] == pytest.approx(3.0, abs=0.1)
    assert reu["pop_within_5km"] == 1000 and reu[SCORE_COL] == pytest.approx(10.0)
    assert res.stats["raster_populated_cells"] == 3 and res.stats["communes_centroid_overseas"] == 1
    out = write_distance_tif(res, tmp_path / "results" / "access_distance_km.tif", {"title": "test"})
    with rasterio.open(out) as src:
        d = src.read(1)
        assert src.crs.to_epsg() == 3035 and src.dtypes[0] == "float32" and src.nodata == -1
        assert d[1, 8] == pytest.approx(7.0, rel=0.01) and d[0, 0] == -1 and (d >= 0).sum() == 3
    cls = access_by_class(res.table, communes, [5, 10], res.stats).set_index("territory_class")
    assert cls.loc["all", "population"] == 100 + 60 + 12 + 1000
    assert cls.loc["rural", "pop_within_5km"] == 100 + 12 and cls.loc["petite_ville", "share_within_10km"] == 1.0


def test_no_space_gives_na_distance(tmp_path: Path) -> None:
    communes, spaces = _inputs()
    res = compute_access(communes, spaces.iloc[0:0], _grid(tmp_path), [5], catchment_km=8)
    assert res.table["pop_weighted_dist_km"].isna().all() and (res.table[SCORE_COL] == 0).all()


def test_real_france_grid(mirror: Path) -> None:
    communes, spaces = communes_standin(mirror), spaces_standin(mirror)
    grid = mirror / "eurostat_popgrid_1km" / "eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif"
    res = compute_access(communes, spaces, grid, [5, 10, 20], catchment_km=20, clip=False)
    s = res.stats
    assert s["raster_total_population_file"] == 66_319_444 and s["raster_populated_cells"] == 376_608
    assert 64.5e6 < s["raster_population_in_communes"] < 65.5e6
    assert s["communes_centroid_overseas"] == 129
    t = res.table.set_index("insee_code")
    assert t.loc["75056", "pop_within_5km"] == t.loc["75056", "access_population"] > 2.0e6
    assert (t["pop_within_5km"] <= t["pop_within_10km"]).all() and (t["pop_within_10km"] <= t["pop_within_20km"]).all()
    cls = access_by_class(res.table, communes, [5, 10, 20], s).set_index("territory_class")
    assert 0.4 < cls.loc["all", "share_within_5km"] < cls.loc["all", "share_within_20km"] < 0.95


def _time_inputs(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    communes = pd.DataFrame({"insee_code": ["61001", "61002", "61003", "61004"], "population": [1000, 500, 200, 50]})
    spaces = pd.DataFrame({"space_id": ["a", "b", "c"], "insee_code": ["61001", "61001", "61003"],
                           "desks": [10.0, 5.0, 3.0]})
    rows = [("61001", "61002", 8), ("61002", "61001", 8), ("61001", "61003", 14), ("61003", "61001", 14),
            ("61002", "61003", 12), ("61003", "61002", 12), ("61004", "61003", 19), ("61004", "61001", 35)]
    path = tmp_path / "times.csv"
    pd.DataFrame(rows, columns=["origin", "destination", "minutes"]).to_csv(path, index=False)
    return communes, spaces, path


def test_travel_time_matrix_matches_pysal_access(tmp_path: Path) -> None:
    from access import fca, weights

    from coworking_geo.indicators.access import Decay, read_time_matrix, travel_time_access

    communes, spaces, path = _time_inputs(tmp_path)
    m = read_time_matrix(path, communes["insee_code"])
    assert len(m) == 8 + 4  # each commune's own row added at 0 min
    decay = Decay("steps", 20, (10, 15, 20), (1.0, 0.66, 0.33))
    for supply_col in (None, "desks"):
        got = travel_time_access(communes, spaces, m, decay, supply_col).set_index("insee_code")
        sup = (spaces[supply_col] if supply_col else pd.Series(1.0, index=spaces.index)).groupby(spaces["insee_code"]).sum()
        ref = fca.two_stage_fca(communes.set_index("insee_code").rename(columns={"population": "demand"}),
                                sup.rename("supply").to_frame(), m.rename(columns={"minutes": "cost"}),
                                max_cost=20, demand_index=True, cost_dest="destination",
                                weight_fn=weights.step_fn({10: 1.0, 15: 0.66, 20: 0.33}))
        np.testing.assert_allclose(got.loc[ref.index, "access_2sfca_time_per_10k"], ref * 10_000, rtol=1e-9, atol=1e-12)
    assert got.loc["61004", "time_nearest_place_min"] == 19 and got.loc["61002", "time_nearest_place_min"] == 8
    assert got.loc["61001", "time_nearest_place_min"] == 0


def test_travel_time_matrix_is_validated(tmp_path: Path) -> None:
    from coworking_geo.indicators.access import read_time_matrix
    from coworking_geo.errors import InputFileError

    communes, _, path = _time_inputs(tmp_path)
    good = pd.read_csv(path, dtype=str)
    cases = {"columns": good.rename(columns={"minutes": "min"}), "minutes": good.assign(minutes=["-1"] + ["5"] * 7),
             "not a commune": good.assign(origin=["75056"] + good["origin"].tolist()[1:]),
             "repeated": pd.concat([good, good.head(1)]), "invalid origin": good.assign(origin=["6100X"] * 8)}
    for words, bad in cases.items():
        bad.to_csv(tmp_path / "bad.csv", index=False)
        with pytest.raises(InputFileError, match=words):
            read_time_matrix(tmp_path / "bad.csv", communes["insee_code"])
