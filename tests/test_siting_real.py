"""Siting on the real mirror: our maximal covering against PySAL spopt's MCLP on the same Orne instance, and the
default number of sites, priorities and overseas rows on the France tables built from the mirror."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coworking_geo.indicators.access import demand_points
from coworking_geo.geodesy import EARTH_RADIUS_KM, commune_centroids, to_ecef_km
from coworking_geo.typology.siting import allocate

sys.path.insert(0, str(Path(__file__).parent))
from standins_indicators import communes_standin, spaces_standin  # noqa: E402

GRID = Path("eurostat_popgrid_1km") / "eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif"


def _gc_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    chord = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / (2 * EARTH_RADIUS_KM), 0, 1))


def test_siting_matches_spopt_mclp_on_the_orne(mirror: Path) -> None:
    """Demand: the Orne's populated 1 km cells; candidates: its 385 commune centroids; the real places fixed."""
    import pulp
    from spopt.locate import MCLP

    communes, spaces = communes_standin(mirror), spaces_standin(mirror)
    orne = communes[communes["dep_code"].eq("61")]
    pts = demand_points(orne, spaces, mirror / GRID, 16, clip=True)
    assert pts["point"].eq("cell").sum() > 3000 and pts["population"].sum() == pytest.approx(275_000, rel=0.05)
    cent = commune_centroids(orne).reset_index()
    cand = orne[["insee_code"]].merge(cent, on="insee_code")
    coverage, n_new = 10.0, 6
    far = pts[pts["dist_km"] > coverage].assign(weight=lambda d: d["population"])
    res, sites = allocate(cand, far, n_new, coverage)
    ours = float(pts.loc[pts["dist_km"] <= coverage, "population"].sum()) + res.covered

    cell_xyz = to_ecef_km(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    sp_xyz = to_ecef_km(spaces["lon"].to_numpy(), spaces["lat"].to_numpy())
    near = (_gc_km(cell_xyz, sp_xyz) <= coverage).any(axis=0)  # existing places reaching the Orne
    fac_xyz = np.vstack([sp_xyz[near], to_ecef_km(cand["lon"].to_numpy(), cand["lat"].to_numpy())])
    fixed = np.r_[np.ones(near.sum(), bool), np.zeros(len(cand), bool)]
    model = MCLP.from_cost_matrix(_gc_km(cell_xyz, fac_xyz), pts["population"].to_numpy(float), coverage,
                                  p_facilities=int(near.sum()) + n_new, predefined_facilities_arr=fixed)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    theirs = float(model.problem.objective.value())
    assert near.sum() >= 4 and len(sites) == n_new and res.status == "optimal"
    assert ours >= theirs - 1e-6 * ours
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert sites["new_population_served"].sum() == pytest.approx(res.covered)


REAL = "data/processed"


def _siting_outputs(repo_root: Path, territory: str) -> dict[str, pd.DataFrame]:
    base = Path(repo_root) / "results" / territory / "tables"
    files = ["priority_territories.csv", "proposed_sites.csv", "proposed_sites_summary.csv"]
    if not all((base / f).exists() for f in files):
        pytest.skip(f"results/{territory} siting tables not built: run snakemake --config territory={territory}")
    return {f: pd.read_csv(base / f, dtype={"insee_code": str, "dep_code": str}, comment="#") for f in files}


@pytest.mark.mirror
def test_france_and_orne_sites_and_priorities(repo_root: Path) -> None:
    """On the tables the workflow built from the mirror for France and the Orne (skipped when absent)."""
    from coworking_geo.territories.classify import TERRITORY_CLASSES

    fr, orne = _siting_outputs(repo_root, "france"), _siting_outputs(repo_root, "dep-61")
    n_fr, n_orne = len(fr["proposed_sites.csv"]), len(orne["proposed_sites.csv"])
    assert n_fr != n_orne and n_orne >= 1
    prio = fr["priority_territories.csv"]
    assert len(prio) == 50 and prio["rank"].tolist() == list(range(1, 51))
    communes = pd.read_parquet(Path(repo_root) / REAL / "france" / "communes.parquet")
    # rural: INSEE 2021 (density levels 5-7, column ``rural`` once the classes are rebuilt), or a rural class
    rural = communes["rural"] if "rural" in communes else communes["density_level"].ge(5)
    rural_codes = set(communes.loc[rural.fillna(False).astype(bool), "insee_code"])
    rural_classes = [c for c in TERRITORY_CLASSES if c.startswith("rural")]
    assert prio["insee_code"].isin(rural_codes).any() or prio["territory_class"].isin(rural_classes).any()
    assert prio["dep_code"].str.startswith("97").sum() >= 5  # overseas rows are in the table
    # rural population is the one left uncovered (access_by_class: population minus population within 10 km):
    # the rural classes get their proportional share of the 50 rows (Sainte-Laguë), each sub-class present
    acc = pd.read_csv(Path(repo_root) / "results" / "france" / "tables" / "access_by_class.csv", comment="#")
    acc = acc[acc["territory_class"].ne("all")].set_index("territory_class")
    far = acc["population"] - acc["pop_within_10km"]
    big_rural = [c for c in rural_classes if far.get(c, 0) / far.sum() > 1 / 50]
    rural_share = far[far.index.isin(rural_classes)].sum() / far.sum()
    assert rural_share > 0.5  # measured 70.8 % on the mirror
    rows_rural = prio["territory_class"].isin(rural_classes).mean()
    assert abs(rows_rural - rural_share) <= 0.05, (rows_rural, rural_share)
    assert set(big_rural) <= set(prio["territory_class"]) and len(big_rural) == 3
    assert prio.loc[prio["rank"].le(10), "territory_class"].isin(rural_classes).sum() >= 5  # the head too
    sites = fr["proposed_sites.csv"]
    assert sites["dep_code"].str.startswith("97").any() and (sites["new_population_served"] > 0).all()
    s = fr["proposed_sites_summary.csv"].iloc[0]
    assert s["text"].startswith(f"{n_fr} sites proposés") and "vol d\u2019oiseau" in s["text"]
