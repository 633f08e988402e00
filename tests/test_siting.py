"""Siting: great-circle distances, priority ranking, demand fallback, maximal covering with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from coworking_geo.typology.clustering import cluster
from coworking_geo.geodesy import nearest_km
from coworking_geo.typology.siting import (
    allocate,
    demand_column,
    exact_mclp,
    greedy_mclp,
    latest_fibre_column,
    highest_averages,
    priority_territories,
)
from coworking_geo.typology.territory_profiles import (
    commune_table,
    name_profiles,
    profile_features,
)


def test_nearest_km_is_great_circle() -> None:
    d = nearest_km(pd.Series([2.0, 55.5]), pd.Series([47.0, -21.0]), pd.Series([2.0, 55.5]), pd.Series([48.0, -21.1]))
    assert d == pytest.approx([111.195, 11.1195], rel=1e-4)  # 1° and 0.1° of latitude, metropole and Réunion
    same = nearest_km(pd.Series([2.0, 2.0, 3.0]), pd.Series([47.0, 47.0, 47.0]),
                      pd.Series([2.0, 2.0, 3.0]), pd.Series([47.0, 47.0, 47.0]), exclude_self=True)
    assert same[:2].tolist() == [0.0, 0.0] and same[2] == pytest.approx(75.83, rel=1e-3)
    assert np.isnan(nearest_km(pd.Series([np.nan]), pd.Series([47.0]), pd.Series([2.0]), pd.Series([47.0]))[0])


def test_latest_fibre_column() -> None:
    cols = ["insee_code", "ftth_share_2018t1", "ftth_share_latest", "ftth_share_change", "ftth_share_over_100_2018t1"]
    assert latest_fibre_column(cols) == "ftth_share_latest"
    assert latest_fibre_column(["ftth_share_2018t1", "ftth_share_2024t4"]) == "ftth_share_2024t4"
    assert latest_fibre_column(["x"]) is None


def test_demand_falls_back_to_scaled_population() -> None:
    df = pd.DataFrame({"population": [1000.0, 2000.0, 500.0], "long_commuters": [100.0, 300.0, np.nan],
                       "flows_covered": [True, True, False]})
    d, src, note = demand_column(df, "long_commuters", min_flow_coverage=0.5)
    assert d.tolist() == pytest.approx([100.0, 300.0, 500 * 400 / 3000])
    assert src.tolist() == ["long_commuters", "long_commuters", "population_scaled"]
    assert "0,1333" in note and note.startswith("navetteurs de longue distance dans les 2 communes")
    d2, src2, note2 = demand_column(df.assign(flows_covered=[True, False, False]), "long_commuters", 0.5)
    assert d2.tolist() == [1000.0, 2000.0, 500.0] and set(src2) == {"population"}  # 1 of 3 covered < 50 %
    assert note2.startswith("population : les flux domicile-travail lus ne couvrent que 1 des 3 communes")


def line_communes() -> pd.DataFrame:
    """Communes on the 47°N parallel every 0.1° of longitude (7.58 km); one space at 2.0°E."""
    n = 30
    return pd.DataFrame({"insee_code": [f"99{i:03d}" for i in range(n)], "name": [f"C{i}" for i in range(n)],
                         "population": [1000.0 + 100 * i for i in range(n)],
                         "long_commuters": [100.0 + 10 * i for i in range(n)], "flows_covered": True,
                         "fibre_share": [0.9 if i % 5 else 0.2 for i in range(n)],
                         "lon": [2.0 + 0.1 * i for i in range(n)], "lat": 47.0,
                         "dist_nearest_space_km": [7.5824 * i for i in range(n)]})


def line_points(com: pd.DataFrame) -> pd.DataFrame:
    """Each line commune as one demand point at its centroid, at its distance from the space."""
    return pd.DataFrame({"insee_code": com["insee_code"], "zone": "metropole", "lon": com["lon"], "lat": com["lat"],
                         "population": com["population"], "dist_km": com["dist_nearest_space_km"], "point": "centroid"})


def test_priority_territories_filter_and_rank() -> None:
    com = line_communes()
    pr = priority_territories(com, line_points(com), uncovered_km=10, min_fibre_share=0.5, objective="long_commuters",
                              top_n=5, quota_by=None)
    # communes 2..29 are > 10 km from the space; multiples of 5 lack fibre; score = long commuters × fibre share
    assert pr["insee_code"].tolist() == ["99029", "99028", "99027", "99026", "99024"]
    assert pr["rank"].tolist() == [1, 2, 3, 4, 5]
    assert pr.loc[0, "score"] == pytest.approx(390 * 0.9) and pr.loc[0, "uncovered_population"] == 3900
    # half of commune 99029's inhabitants close to a place: half its demand
    pts = pd.concat([line_points(com), line_points(com.tail(1)).assign(dist_km=3.0)], ignore_index=True)
    pts.loc[29, "population"] = pts.loc[30, "population"] = 1950.0
    pr2 = priority_territories(com, pts, 10, 0.5, "long_commuters", 30, quota_by=None)
    assert pr2.loc[pr2["insee_code"].eq("99029"), "score"].iloc[0] == pytest.approx(195 * 0.9)


def test_highest_averages_is_sainte_lague() -> None:
    # weights 53 / 24 / 23 for 7 seats: the quotients w / (2 s + 1) in decreasing order are a 53, b 24, c 23,
    # a 17.7, a 10.6, b 8, c 7.67 (before a 7.57): Sainte-Laguë gives 3 / 2 / 2 (D'Hondt would give 4 / 2 / 1)
    order = highest_averages(pd.Series({"a": 53.0, "b": 24.0, "c": 23.0}), pd.Series({"a": 9, "b": 9, "c": 9}), 7)
    assert order == ["a", "b", "c", "a", "a", "b", "c"]
    # a group with fewer members than its share gives its seats to the others; no member left: stop
    short = highest_averages(pd.Series({"a": 90.0, "b": 10.0}), pd.Series({"a": 2, "b": 5}), 10)
    assert short == ["a", "a", "b", "b", "b", "b", "b"]


def test_priority_quota_gives_many_small_communes_their_share() -> None:
    # 10 towns of 20,000 uncovered inhabitants (200,000) and 300 villages of 1,000 (300,000): by score alone the
    # top 10 are the towns; with the quota by class, 6 of 10 rows are villages (60 % of the uncovered people)
    n_t, n_v = 10, 300
    com = pd.DataFrame({"insee_code": [f"{i:05d}" for i in range(n_t + n_v)],
                        "name": [f"T{i}" for i in range(n_t)] + [f"V{i}" for i in range(n_v)],
                        "population": [20000.0] * n_t + [1000.0 + i for i in range(n_v)], "fibre_share": 1.0,
                        "territory_class": ["ville_moyenne"] * n_t + ["rural_sous_influence"] * n_v})
    pts = pd.DataFrame({"insee_code": com["insee_code"], "population": com["population"], "dist_km": 30.0})
    plain = priority_territories(com, pts, 10, 0.5, "population", 10, quota_by=None)
    assert set(plain["territory_class"]) == {"ville_moyenne"}
    pr = priority_territories(com, pts, 10, 0.5, "population", 10)
    assert pr["territory_class"].value_counts().to_dict() == {"rural_sous_influence": 6, "ville_moyenne": 4}
    assert pr["rank"].tolist() == list(range(1, 11))
    rural = pr[pr["territory_class"].eq("rural_sous_influence")]
    assert rural["name"].tolist() == ["V299", "V298", "V297", "V296", "V295", "V294"]  # largest villages first
    assert rural["group_rank"].tolist() == [1, 2, 3, 4, 5, 6]
    share = pts.population.groupby(com.territory_class).sum() / pts.population.sum()
    assert rural["group_share"].iloc[0] == pytest.approx(share["rural_sous_influence"])
    assert pr.loc[0, "territory_class"] == "rural_sous_influence"  # the larger group enters first


def test_greedy_and_exact_on_a_known_instance() -> None:
    # 3 candidates; demand 0..4. c0 covers {0,1,2} (w 10), c1 covers {2,3} (w 9), c2 covers {3,4} (w 9)
    A = sparse.csr_matrix(np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 1, 1]], dtype=bool))
    w = np.array([3.0, 3.0, 4.0, 5.0, 4.0])
    g = greedy_mclp(A, w, 2)
    assert g.chosen == [0, 2] and g.covered == 19.0 and g.marginal == [10.0, 9.0]
    assert g.upper_bound >= 19.0
    # greedy is not optimal here: weights where the greedy first pick blocks the best pair
    w2 = np.array([1.0, 1.0, 8.0, 7.5, 0.1])
    g2 = greedy_mclp(A, w2, 1)
    assert g2.chosen == [1] and g2.covered == 15.5
    A3 = sparse.csr_matrix(np.array([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1]], dtype=bool))
    w3 = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    g3 = greedy_mclp(A3, w3, 2)
    assert g3.covered == 5.0 and g3.gap > 0  # greedy picks c0 first
    e3 = exact_mclp(A3, w3, 2, 30, g3)
    assert sorted(e3.chosen) == [1, 2] and e3.covered == 6.0 and e3.gap == 0.0 and e3.status == "optimal"


def test_allocate_covers_the_far_end_and_is_order_free() -> None:
    com = line_communes()
    com["weight"] = com["long_commuters"]
    dem = com[com["dist_nearest_space_km"] > 10]
    cand = com[(com["dist_nearest_space_km"] > 10) & (com["fibre_share"] >= 0.5)]
    res, sites = allocate(cand, dem, n_sites=2, coverage_km=10)
    assert res.status == "optimal" and res.gap == 0.0
    # each site covers itself and its two neighbours (7.58 km); 28 demand points, 6 covered
    assert sites["n_points_covered"].tolist() == [3, 3]
    assert sites["marginal_demand"].sum() == pytest.approx(res.covered)
    assert sites["new_population_served"].tolist() == [(3700 + 3800 + 3900), (3300 + 3400 + 3500)]
    assert res.covered == pytest.approx((370 + 380 + 390) + (330 + 340 + 350))  # sites 28 and 24
    assert sites["insee_code"].tolist() == ["99028", "99024"]
    res2, sites2 = allocate(cand.sample(frac=1, random_state=3), dem.sample(frac=1, random_state=4), 2, 10)
    assert sites2["insee_code"].tolist() == sites["insee_code"].tolist()


def test_greedy_bound_when_exact_is_skipped() -> None:
    com = line_communes()
    com["weight"] = com["long_commuters"]
    res, sites = allocate(com, com, n_sites=3, coverage_km=10, exact_max_candidates=0)
    assert res.method == "greedy" and res.upper_bound >= res.covered and 0 <= res.gap < 0.5
    assert len(sites) == 3 and sites["cumulative_demand"].iloc[-1] == pytest.approx(res.covered)


def test_number_of_sites_follows_the_target() -> None:
    com = line_communes()
    com["weight"] = com["population"]
    dem = com[com["dist_nearest_space_km"] > 10]
    total = dem["weight"].sum()
    counts = []
    for share in (0.1, 0.3, 0.6):
        res, sites = allocate(com, dem, None, 10, target_share=share, max_sites=50)
        counts.append(len(sites))
        assert res.covered >= share * total - 1e-6
        if len(sites) > 1:  # one site fewer (greedy) would miss the target
            assert sites["cumulative_demand"].iloc[-2] < share * total or res.method != "greedy"
    assert counts[0] < counts[1] < counts[2]
    res, sites = allocate(com, dem, None, 10, target_share=1.0, max_sites=4)
    assert len(sites) == 4  # capped


def test_territory_profiles_on_contract_frames() -> None:
    import geopandas as gpd
    from shapely.geometry import box

    rows = []
    for i in range(12):
        for j in range(12):
            big = i < 4 and j < 4
            rows.append({"insee_code": f"{i:02d}{j:03d}", "name": f"C{i}-{j}", "dep_code": "99", "epci_code": f"E{i // 4}{j // 4}",
                         "territory_class": "metropole" if big else "rural", "population": 40_000 if big else 300,
                         "geometry": box(2 + 0.1 * j, 47 + 0.1 * i, 2.1 + 0.1 * j, 47.1 + 0.1 * i)})
    communes = gpd.GeoDataFrame(rows, crs=4326)
    big = communes["population"].gt(1000).to_numpy()
    ind = pd.DataFrame({"insee_code": communes["insee_code"], "ftth_share_latest": np.where(big, 0.95, 0.3),
                        "long_commuters": np.where(big, 4000.0, 90.0), "employed_residents": np.where(big, 20000.0, 120.0),
                        "flows_covered": True, "access_2sfca": np.where(big, 1.0, 0.05)})
    spaces = pd.DataFrame({"space_id": ["A", "B"], "lon": [2.15, 2.25], "lat": [47.15, 47.25]})
    table = commune_table(communes, ind, spaces)
    assert table.loc[table["insee_code"] == "01001", "dist_nearest_space_km"].iloc[0] == pytest.approx(0.0, abs=0.01)
    feats = profile_features(table, "commune")
    # k fixed: the distance to the nearest space also splits the rural communes stably (k=3 by stability)
    res = cluster(feats, "kmeans", 2, 4, seed=1, n_bootstrap=2, k=2)
    assert res.k == 2
    prof = name_profiles(feats, res)
    assert prof["n_units"].tolist() == [128, 16]
    # every feature separates the two groups: three terms each, all from the right side
    rural = {"peu peuplées", "à longs trajets domicile-travail", "peu fibrées", "éloignées d’un espace",
             "à faible accès aux espaces"}
    urban = {"peuplées", "à trajets domicile-travail courts", "bien fibrées", "proches d’un espace",
             "à bon accès aux espaces"}
    assert all(n.startswith("Communes ") for n in prof["profile_name"])
    names = [set(n.removeprefix("Communes ").split(", ")) for n in prof["profile_name"]]
    assert len(names[0]) == 3 and names[0] <= rural and len(names[1]) == 3 and names[1] <= urban
    epci = profile_features(table, "epci")
    assert len(epci) == 9 and epci.index.name == "epci_code"
    assert epci.loc["E00", "long_commuter_share"] == pytest.approx(0.2)


def test_spatially_constrained_profiles_are_contiguous() -> None:
    from coworking_geo.typology.clustering import scale_features
    from coworking_geo.typology.territory_profiles import spatial_labels

    # features without structure on a line of points: Ward with kNN connectivity cuts the line in two segments
    n = 80
    rng = np.random.default_rng(0)
    pts = pd.DataFrame({"lon": np.linspace(2, 7, n), "lat": 47.0}, index=[f"{i:05d}" for i in range(n)])
    feats = pd.DataFrame({"x": rng.normal(size=n) + np.linspace(0, 3, n), "y": rng.normal(size=n)}, index=pts.index)
    lab = spatial_labels(scale_features(feats), pts, k=2, n_neighbors=2)  # a path graph
    assert lab.nunique() == 2
    assert int((lab.diff().fillna(0) != 0).sum()) == 1  # one change point along the line: contiguous


REAL = "data/processed/france"


@pytest.mark.mirror
def test_france_models_on_the_processed_register(repo_root) -> None:
    """On the France tables built from the mirror (skipped when the upstream stages have not run)."""
    from pathlib import Path

    from coworking_geo.io import read_table
    from coworking_geo.typology.space_models import model_features, name_models, space_features, with_employed

    base = Path(repo_root) / REAL
    if not (base / "indicators.parquet").exists() or not (base / "spaces.parquet").exists():
        pytest.skip("data/processed/france not built: run snakemake --config territory=france first")
    spaces, communes = read_table(base / "spaces.parquet"), read_table(base / "communes.parquet")
    ind = read_table(base / "indicators.parquet")
    f = space_features(spaces, with_employed(communes, ind), around_km=10)
    # the register: the 1,500 CGET places plus the programme laureates that are places of their own
    assert spaces["source"].eq("cget_tierslieux_2019").sum() == 1500 and len(f) == len(spaces) >= 1500 + 300
    res = cluster(model_features(f), "gower", 3, 8, seed=42, n_bootstrap=3)
    prof = name_models(f, res)
    assert 3 <= res.k <= 8 and prof["n_spaces"].sum() == len(spaces) and prof["model_name"].is_unique
    assert prof.loc[0, "model_name"].startswith("Coworking") and prof.loc[0, "n_spaces"] == prof["n_spaces"].max()
    table = commune_table(communes, ind, spaces)
    assert len(table) == 34935
    # priorities and sites on the France outputs: tests/test_siting_real.py
