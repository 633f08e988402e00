"""Région partition: the région lists known before the graph runs, the gather checks, and per-région access and
commuting equal to the territory-wide runs (small grid, and real data for Normandie 28 and Île-de-France 11)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coworking_geo.indicators.access import SCORE_COL, compute_access, compute_access_region
from coworking_geo.indicators.commuting import (
    build_commuting,
    gather_summary,
    places_from_communes,
    read_flows,
)
from coworking_geo.territories.partition import check_partition, gather, in_region
from coworking_geo.territories.regions import ALL_REGIONS, REGION_DEPARTEMENTS, REGION_OF_DEP, territory_regions
from coworking_geo.territories.territory import parse_territory

sys.path.insert(0, str(Path(__file__).parent))
from standins_indicators import communes_standin, crosswalk_standin, spaces_standin  # noqa: E402
from test_access import _grid, _inputs  # noqa: E402

ACCESS_COLS = ["access_population", "pop_weighted_dist_km", "pop_within_5km", "pop_within_10km", "pop_within_20km",
               SCORE_COL]


def test_region_lists_per_territory() -> None:
    assert len(REGION_DEPARTEMENTS) == 18 and len(REGION_OF_DEP) == 101  # 96 metropolitan + 5 overseas départements
    assert territory_regions(parse_territory("france")) == list(REGION_DEPARTEMENTS)
    metro = territory_regions(parse_territory("metropole"))
    assert len(metro) == 13 and "04" not in metro and "94" in metro
    assert territory_regions(parse_territory("reg-28")) == ["28"]
    assert territory_regions(parse_territory("dep-61")) == ["28"]
    assert territory_regions(parse_territory("dep-2A")) == ["94"] and territory_regions(parse_territory("dep-974")) == ["04"]
    assert territory_regions(parse_territory("demo"), 300) == ["84"]
    big = territory_regions(parse_territory("demo"), 35_000)
    assert len(big) == 13 and big[0] == "84"


def test_gather_orders_and_refuses_lost_or_repeated_communes() -> None:
    communes = pd.DataFrame({"insee_code": ["61001", "75056", "14118"], "reg_code": ["28", "11", "28"]})
    a = pd.DataFrame({"insee_code": ["61001", "14118"], "x": [1.0, 3.0]})
    b = pd.DataFrame({"insee_code": ["75056"], "x": [2.0]})
    out = gather([a, b.iloc[0:0], b], communes)
    assert out["insee_code"].tolist() == ["61001", "75056", "14118"] and out["x"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="missing"):
        gather([a], communes)
    with pytest.raises(ValueError, match="more than one"):
        gather([a, b, b], communes)
    check_partition(communes, ["11", "28"])
    with pytest.raises(ValueError, match="1 commune"):
        check_partition(communes, ["28"])
    assert in_region(pd.Series(["28", None, "11"], dtype="string"), "28").tolist() == [True, False, False]
    assert in_region(pd.Series(["28", None, "11"], dtype="string"), ALL_REGIONS).tolist() == [True, True, True]


def test_region_access_equals_whole_on_small_grid(tmp_path: Path) -> None:
    communes, spaces = _inputs()
    communes["reg_code"] = ["24", "27", "24", "04"]  # two metropolitan régions side by side, Réunion
    grid = _grid(tmp_path)
    whole = compute_access(communes, spaces, grid, [5, 10], catchment_km=8).table.set_index("insee_code")
    parts = [compute_access_region(communes, r, spaces, grid, [5, 10], catchment_km=8).table for r in ("24", "27", "04")]
    got = gather(parts, communes).set_index("insee_code")
    pd.testing.assert_frame_equal(got, whole)
    # indicators.partition: none -> the one part "all" is the whole run
    one = compute_access_region(communes, ALL_REGIONS, spaces, grid, [5, 10], catchment_km=8).table
    pd.testing.assert_frame_equal(gather([one], communes).set_index("insee_code"), whole)
    assert got.loc["18002", SCORE_COL] == pytest.approx(50 / 60 * 10_000 / 150, rel=1e-9)


def _compare_access(whole: pd.DataFrame, part: pd.DataFrame) -> None:
    w = whole.set_index("insee_code").loc[part["insee_code"]]
    p = part.set_index("insee_code")
    assert (w["access_method"] == p["access_method"]).all()
    for c in ACCESS_COLS:
        np.testing.assert_allclose(p[c].to_numpy(dtype=float), w[c].to_numpy(dtype=float), rtol=1e-9, atol=1e-9)


def test_real_region_access_equals_france(mirror: Path) -> None:
    communes, spaces = communes_standin(mirror), spaces_standin(mirror)
    grid = mirror / "eurostat_popgrid_1km" / "eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif"
    radii = [5.0, 10.0, 20.0]
    whole = compute_access(communes, spaces, grid, radii, catchment_km=20, clip=False).table
    for reg, n in (("28", 2651), ("11", 1267)):
        part = compute_access_region(communes, reg, spaces, grid, radii, catchment_km=20, clip=False).table
        assert len(part) == n and part["insee_code"].isin(communes.loc[communes["reg_code"].eq(reg), "insee_code"]).all()
        _compare_access(whole, part)
    # a clipped territory (dep-61): the région job stays inside the territory's window, same numbers
    orne = communes[communes["dep_code"].eq("61")]
    whole61 = compute_access(orne, spaces, grid, radii, catchment_km=20, clip=True).table
    part61 = compute_access_region(orne, "28", spaces, grid, radii, catchment_km=20, clip=True).table
    assert len(part61) == len(orne)
    _compare_access(whole61, part61)


def test_real_region_commuting_equals_whole(mirror: Path) -> None:
    communes = communes_standin(mirror)
    terr = communes[communes["reg_code"].isin(["11", "28"])]
    fl = [read_flows("insee_mobpro_idf_rp2014", [str(mirror / "insee_mobpro_idf_rp2014" / "flows_idf_rp2014_total.csv")]),
          read_flows("insee_mobpro_orne", [str(mirror / "insee_mobpro_orne" / "fd_mobpro_orne_records.csv")])]
    xw, places = crosswalk_standin(mirror), places_from_communes(communes)
    whole, whole_summary = build_commuting(terr, fl, xw, places, 20)
    parts, summaries = [], []
    for reg in ("11", "28"):  # région 28 reads only the Orne file (it covers none of Île-de-France)
        sub = terr[in_region(terr["reg_code"], reg)]
        t, s = build_commuting(sub, [fl[0]] if reg == "11" else [fl[1]], xw, places, 20, restrict=True)
        parts.append(t)
        summaries.append(s)
    got = gather(parts, terr)
    pd.testing.assert_frame_equal(got, whole.reset_index(drop=True), check_exact=False, rtol=1e-9)
    assert got.set_index("insee_code").loc["61001", "employed_residents"] == pytest.approx(9082.2, abs=0.1)
    summary = gather_summary(summaries, ["insee_mobpro_idf_rp2014", "insee_mobpro_orne"]).set_index("source")
    ws = whole_summary.set_index("source")
    for c in ("rows", "flows_total", "communes_covered", "communes_absent_from_flows", "employed_residents",
              "share_outside", "long_commuters", "flows_destination_unlocated"):
        np.testing.assert_allclose(summary[c].astype(float), ws.loc[summary.index, c].astype(float), rtol=1e-9)
    assert summary.loc["none", "communes_covered"] == ws.loc["none", "communes_covered"] == 2651 - 385  # Normandie but the Orne


def test_commuting_of_a_region_no_source_covers() -> None:
    communes = pd.DataFrame({"insee_code": ["44109", "49007"], "dep_code": ["44", "49"]})
    out, summary = build_commuting(communes, [], pd.DataFrame(columns=["old_code", "insee_code", "relation", "summable"]),
                                   pd.DataFrame(), 20, restrict=True)
    assert (~out["flows_covered"]).all() and out["employed_residents"].isna().all()
    assert out["commuting_flags"].eq("outside_flows_coverage").all() and out["employed_residents"].dtype == "float64"
    assert summary["source"].tolist() == ["none"] and summary["communes_covered"].tolist() == [2]
