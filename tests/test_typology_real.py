"""Models of places and territory profiles on the real mirror data (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from coworking_geo.io import read_table
from coworking_geo.typology.space_models import fit_models, space_features, with_employed

REAL = Path("data/processed/france")


@pytest.fixture(scope="module")
def france_tables(repo_root: Path) -> dict[str, pd.DataFrame]:
    base = repo_root / REAL
    need = ["spaces.parquet", "communes.parquet", "indicators.parquet", "spaces_context.parquet"]
    if not all((base / n).exists() for n in need):
        pytest.skip("data/processed/france not built: run snakemake --config territory=france first")
    return {n.split(".")[0]: read_table(base / n) for n in need}


def _kwargs(repo_root: Path) -> dict:
    t = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))["typology"]
    return {"method": t["method"], "k_min": t["k_min"], "k_max": t["k_max"], "seed": t["seed"],
            "n_bootstrap": t["bootstrap"], "k": t.get("space_k"), "stability_threshold": t["stability_threshold"]}


@pytest.mark.mirror
def test_france_models_do_not_restate_the_territory_class(france_tables, repo_root: Path) -> None:
    """The ARI is computed against whatever ``territory_class`` the communes table holds (old or new classes)."""
    t = france_tables
    feats = space_features(t["spaces"], with_employed(t["communes"], t["indicators"]), around_km=10)
    n = len(t["spaces"])  # 1,500 places of the 2019 register (more once programme laureates are rows)
    assert len(feats) == n >= 1500 and not [c for c in feats.columns if c.startswith("class_")]
    run = fit_models(feats, cluster_kwargs=_kwargs(repo_root))
    checks = run.checks.set_index("check")
    assert checks.loc["ari_territory_class", "value"] < 0.3
    assert checks.loc["ari_class_x_type", "value"] < 0.5
    # population within 10 km follows the class (eta2 > 0.5): rejected as a feature
    assert checks.loc["eta2:log_pop_around", "note"] == "rejected" and checks.loc["eta2:log_pop_around", "value"] > 0.5
    res = run.result
    assert 3 <= res.k <= 8 and res.stability_ari >= 0.8 and not res.unstable
    chosen = run.scores[run.scores["chosen"]].iloc[0]
    assert chosen["stability"] >= 0.8 and chosen["cluster_jaccard"] >= 0.8
    assert (run.scores[run.scores["k"] > res.k][["stability", "cluster_jaccard"]].min(axis=1) < 0.8).all()
    prof = run.profiles
    assert prof["n_spaces"].sum() == n and prof["model_name"].is_unique
    assert not prof["model_name"].str.contains("_").any() and prof["description"].str.endswith(".").all()
    fit = run.fit
    assert fit.groupby("model_id")["n_places"].sum().sum() == n
    assert fit.groupby("model_id")["share"].sum().round(9).eq(1.0).all()
    # the places of every class are in the table, as many as in the register
    by_class = feats["territory_class"].value_counts()
    assert fit.groupby("territory_class")["n_places"].sum().sort_index().tolist() == by_class.sort_index().tolist()
    # the tests of independence equal scipy.stats' (χ² to the last bit, Fisher to 1e-9) on the France table
    from scipy.stats import chi2_contingency, fisher_exact

    tab = fit.pivot(index="model_id", columns="territory_class", values="n_places").reindex(
        index=pd.unique(fit["model_id"]), columns=pd.unique(fit["territory_class"]))  # the table's own order
    chi2, p, dof, _ = chi2_contingency(tab.to_numpy(), correction=False)
    assert (fit["chi2"].iloc[0], fit["chi2_p"].iloc[0], fit["chi2_dof"].iloc[0]) == (chi2, p, dof)
    m_n, c_n = tab.sum(axis=1), tab.sum(axis=0)
    for r in fit.itertuples():
        a, m, c = int(r.n_places), int(m_n[r.model_id]), int(c_n[r.territory_class])
        assert r.fisher_p == pytest.approx(fisher_exact([[a, m - a], [c - a, n - m - c + a]])[1], rel=1e-9, abs=1e-300)


@pytest.mark.mirror
def test_small_territory_gets_national_models(france_tables, repo_root: Path) -> None:
    """Three places (as in Corse-du-Sud): they keep the model fitted on every located place of France."""
    t = france_tables
    ids = t["spaces"]["space_id"].sort_values().head(3)
    few = t["spaces"][t["spaces"]["space_id"].isin(ids)]
    feats = space_features(few, with_employed(t["communes"], t["indicators"]), around_km=10)
    kw = _kwargs(repo_root) | {"n_bootstrap": 5}
    run = fit_models(feats, t["spaces_context"], cluster_kwargs=kw)
    assert run.profiles["models_scope"].eq("national").all()
    assert run.profiles["n_spaces"].sum() == t["spaces_context"]["space_id"].nunique() >= 1500
    assert run.profiles["n_spaces_territory"].sum() == 3 and len(run.assignments) == 3
    assert run.checks.set_index("check").loc["scope", "note"].startswith("national models")


@pytest.mark.mirror
def test_filosofi_income_through_the_crosswalk(mirror: Path) -> None:
    from coworking_geo.territories.crosswalk import build_crosswalk, read_decoupage
    from coworking_geo.typology.territory_profiles import read_filosofi

    xw = build_crosswalk(read_decoupage(mirror / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz"))
    inc = read_filosofi(str(mirror / "insee_filosofi_2019" / "cc_filosofi_2019_COM.CSV"), xw).set_index("insee_code")
    assert inc.loc["75056"].tolist() == [28570.0, 15.0]  # Paris, the commune row (not its arrondissements)
    assert inc.loc["61001"].tolist() == [18430.0, 27.0]  # Alençon
    assert inc.loc["97411"].tolist() == [17270.0, 34.0]  # Saint-Denis (La Réunion)
    assert inc.index.is_unique and not inc.index.str.startswith("751").any()
    assert not (inc["median_income"] == 0).any() and not (inc["poverty_rate"] == 0).any()  # secret is NA, never 0
    assert 31_000 < inc["median_income"].notna().sum() <= 31_358
    assert 4_000 < inc["poverty_rate"].notna().sum() <= 4_368


@pytest.mark.mirror
def test_stored_commune_centroids_are_the_polygons_centroids(france_tables) -> None:
    """The ``lon, lat`` columns of communes.parquet (computed once by the national communes rule) are the
    centroids of the commune polygons in their metric CRS: Paris, Ajaccio and Saint-Denis (La Réunion) named."""
    from coworking_geo.geodesy import centroids_of_polygons

    com = france_tables["communes"]
    if not {"lon", "lat"} <= set(com.columns):
        pytest.skip("data/processed/france built before the centroids were stored: rebuild it")
    fresh = centroids_of_polygons(com)
    assert (fresh["insee_code"].to_numpy() == com["insee_code"].to_numpy()).all()
    assert (fresh["lon"].to_numpy() == com["lon"].to_numpy()).all() and (fresh["lat"].to_numpy() == com["lat"].to_numpy()).all()
    at = com.set_index("insee_code")
    assert at.loc["75056", ["lon", "lat"]].round(2).tolist() == [2.34, 48.86]      # Paris
    assert at.loc["2A004", ["lon", "lat"]].round(1).tolist() == [8.7, 41.9]        # Ajaccio
    assert at.loc["97411", ["lon", "lat"]].round(1).tolist() == [55.4, -20.9]      # Saint-Denis, La Réunion
