"""Space models: features with known values, naming rule, cross-table, census economic features."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from coworking_geo.typology.clustering import cluster
from coworking_geo.typology.economic_models import (
    economic_features,
    economic_group,
    economic_weights,
    link_spaces,
    name_economic_models,
    read_census,
)
from coworking_geo.errors import ConfigError, InputFileError
from coworking_geo.typology.space_models import (
    feature_groups,
    fit_models,
    fit_sentences,
    group_weights,
    model_features,
    name_models,
    reject_territory_features,
    space_features,
    with_employed,
)


def synthetic(n_side: int = 10) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """Contract-shaped communes (0.1° squares from 2°E 47°N), indicators and spaces.

    The 2×2 block in the south-west corner is a metropolis; 12 coworking spaces
    sit in it, 0.01° apart; 8 fab-labs sit alone in rural communes of the north-east.
    """
    rows = []
    for i in range(n_side):
        for j in range(n_side):
            metro = i < 2 and j < 2
            rows.append({"insee_code": f"{i:02d}{j:03d}",
                         "name": f"Commune {i}-{j}", "dep_code": "99", "reg_code": "99",
                         "epci_code": f"2000000{i // 5}{j // 5}",
                         "population": 50_000 if metro else 400, "density_level": 1 if metro else 6,
                         "metropolis": metro, "territory_class": "metropole" if metro else "rural_autonome_tres_peu_dense",
                         "geometry": box(2 + 0.1 * j, 47 + 0.1 * i, 2.1 + 0.1 * j, 47.1 + 0.1 * i)})
    communes = gpd.GeoDataFrame(rows, crs=4326)
    ind = pd.DataFrame({"insee_code": communes["insee_code"],
                        "ftth_share_2018t1": np.where(communes["metropolis"], 0.6, 0.05),
                        "ftth_share_latest": np.where(communes["metropolis"], 0.99, 0.7),
                        "ftth_share_change": 0.1,
                        "share_outside": np.where(communes["metropolis"], 0.3, 0.8),
                        "employed_residents": np.where(communes["metropolis"], 20_000.0, 150.0),
                        "long_commuters": np.where(communes["metropolis"], 2_000.0, 60.0),
                        "flows_covered": True,
                        "access_2sfca": np.where(communes["metropolis"], 1.0, 0.1)})
    sp = []
    for n in range(12):
        sp.append({"space_id": f"SP{n:03d}", "insee_code": "00000", "lon": 2.02 + 0.01 * (n % 6),
                   "lat": 47.02 + 0.01 * (n // 6), "types": "coworking", "fabrique": False, "manufacture": False})
    for n in range(8):
        i, j = 5 + (n // 4) * 4, (n % 4) * 3
        sp.append({"space_id": f"SP{100 + n:03d}", "insee_code": f"{i:02d}{j:03d}",
                   "lon": 2.05 + 0.1 * j, "lat": 47.05 + 0.1 * i, "types": "fablab;atelier",
                   "fabrique": n < 2, "manufacture": False})
    spaces = pd.DataFrame(sp)
    spaces["source"], spaces["source_id"] = "cget_tierslieux_2019", spaces["space_id"]
    return communes, ind, spaces


def test_space_features_known_values() -> None:
    communes, ind, spaces = synthetic()
    f = space_features(spaces, with_employed(communes, ind), around_km=5)
    assert len(f) == 20 and f.index.is_monotonic_increasing
    # never the territory: no class, density, fibre or metropolis feature
    assert not [c for c in f.columns if c.startswith("class_") or c in ("density_level", "fibre_share",
                                                                         "log_dist_metropolis", "share_outside")]
    a = f.loc["SP000"]
    # nearest other space 0.01° of longitude at 47.02°N: 111.195 km × cos(47.02°) × 0.01
    assert np.expm1(a["log_dist_other_space"]) == pytest.approx(111.19508 * np.cos(np.radians(47.02)) * 0.01, rel=1e-3)
    assert a["type_coworking"] == 1 and a["type_fablab"] == 0 and a["fabrique"] == 0
    assert a["territory_class"] == "metropole" and a["types"] == "coworking"
    assert np.expm1(a["log_pop_around"]) == pytest.approx(50_000)
    r = f.loc["SP100"]  # commune 05000, centroid (2.05, 47.55)
    assert r["type_fablab"] == 1 and r["type_atelier"] == 1 and r["fabrique"] == 1
    assert np.expm1(r["log_pop_around"]) == pytest.approx(400)  # its own commune only (neighbours 7.6 km away)
    assert np.expm1(r["log_employed_around"]) == pytest.approx(150)
    assert feature_groups(model_features(f).columns) == {
        "type_atelier": "activity", "type_coworking": "activity", "type_fablab": "activity", "fabrique": "labels",
        "log_pop_around": "market", "log_employed_around": "market", "log_dist_other_space": "market"}
    w = group_weights(model_features(f).columns)
    assert sum(w.values()) == pytest.approx(1.0) and w["fabrique"] == pytest.approx(1 / 3)
    assert w["type_fablab"] == pytest.approx(1 / 9)


def test_territory_class_as_a_feature_is_rejected() -> None:
    communes, ind, spaces = synthetic()
    f = space_features(spaces, with_employed(communes, ind), around_km=5)
    X = model_features(f)
    leaky = X.assign(class_metropole=f["territory_class"].eq("metropole").astype(float),
                     density_level=np.where(f["territory_class"].eq("metropole"), 1.0, 6.0))
    kept, eta = reject_territory_features(leaky, f["territory_class"])
    assert eta["class_metropole"] == pytest.approx(1.0) and eta["density_level"] == pytest.approx(1.0)
    assert "class_metropole" not in kept and "density_level" not in kept
    # what a place does is never rejected, even where it goes with the class (all fab-labs are rural here)
    assert eta["type_fablab"] == pytest.approx(1.0) and "type_fablab" in kept
    with pytest.raises(ConfigError, match="restates the territory class"):
        reject_territory_features(leaky[["class_metropole", "density_level"]], f["territory_class"])


def test_fit_models_flags_a_collapse_and_drops_market_features() -> None:
    rng = np.random.default_rng(0)
    n = 120
    cls = np.where(np.arange(n) < 60, "metropole", "rural")
    f = pd.DataFrame({"type_coworking": rng.integers(0, 2, n).astype(float),
                      # a market feature that, without restating the class exactly (eta2 < 0.5), splits on it
                      "log_dist_other_space": np.where(cls == "rural", 3.0, 0.5) + rng.normal(0, 1.3, n)},
                     index=pd.Index([f"S{i:03d}" for i in range(n)], name="space_id"))
    f["fabrique"] = 0.0
    f["territory_class"] = cls
    f["types"] = np.where(f["type_coworking"] > 0, "coworking", "")
    run = fit_models(f, cluster_kwargs={"method": "gower", "k_min": 2, "k_max": 4, "seed": 1, "n_bootstrap": 5},
                     max_class_ari=0.05)
    checks = run.checks.set_index("check")
    assert checks.loc["eta2:log_dist_other_space", "value"] < 0.5
    assert not checks.loc["market_features", "passed"] and checks.loc["market_features", "note"].startswith("dropped")
    assert "log_dist_other_space" not in run.profiles["features"].iloc[0]
    assert checks.loc["ari_territory_class", "value"] < 0.05


def test_models_named_from_what_they_do_and_fit_by_class() -> None:
    communes, ind, spaces = synthetic()
    spaces["fabrique"] = False  # two clear groups only
    f = space_features(spaces, with_employed(communes, ind), around_km=5)
    run = fit_models(f, cluster_kwargs={"method": "gower", "k_min": 2, "k_max": 4, "seed": 1, "n_bootstrap": 5},
                     max_class_ari=1.01, max_class_type_ari=1.01)
    prof = run.profiles
    # the market features follow the class exactly here (eta2 = 1): rejected, the models are named on activity only
    assert set(run.checks.loc[run.checks["note"].eq("rejected"), "check"]) == {
        "eta2:log_pop_around", "eta2:log_employed_around", "eta2:log_dist_other_space"}
    assert prof["model_name"].tolist() == ["Coworking", "Tiers-lieu multi-activités"]
    assert prof["n_spaces"].tolist() == [12, 8]
    assert not prof["model_name"].str.contains("class_|type_|_").any()
    assert prof["description"].iloc[1] == ("8 lieux (40 %) : 100 % de ateliers partagés, 100 % de fab-labs ; en médiane "
                                           "400 habitants alentour et un autre lieu à 22,4 km ; surreprésentés en rural "
                                           "autonome très peu dense (2,5 fois la part attendue).")
    fit = run.fit.set_index(["model_id", "territory_class"])
    # 12 of 20 places are in the metropolis: the 12 coworkings are 20/12 = 1.67 times as frequent there
    assert fit.loc[(1, "metropole"), "n_places"] == 12 and fit.loc[(1, "metropole"), "lift"] == pytest.approx(20 / 12)
    assert fit.loc[(2, "rural_autonome_tres_peu_dense"), "lift"] == pytest.approx(20 / 8) and fit.loc[(2, "metropole"), "n_places"] == 0
    assert fit["chi2_p"].iloc[0] < 0.001 and fit["cramers_v"].iloc[0] == pytest.approx(1.0)
    text = fit_sentences(run.fit)
    assert text[1].startswith("Les lieux du modèle « Tiers-lieu multi-activités » sont 2,5 fois "
                              "plus fréquents en rural autonome très peu dense (8 lieux")
    assert text[-1].startswith("Limites")
    assert run.checks.set_index("check").loc["ari_territory_class", "value"] == pytest.approx(1.0)


def test_duplicate_names_get_a_distinctive_feature() -> None:
    communes, ind, spaces = synthetic()
    f = space_features(spaces, with_employed(communes, ind), around_km=5)
    res = cluster(model_features(f), "gower", 3, 3, seed=1, n_bootstrap=0)
    names = name_models(f, res)["model_name"]
    assert names.is_unique and len(names) == 3


def test_missing_columns_name_the_file() -> None:
    communes, ind, spaces = synthetic()
    with pytest.raises(InputFileError, match="spaces.parquet.*types"):
        space_features(spaces.drop(columns="types"), communes, spaces_path="data/processed/x/spaces.parquet")


def census_fixture(tmp_path):
    """A 2026-layout identity file (documented columns) and a 2023-layout activities file."""
    n = 40
    assoc = np.arange(n) < 24
    ident = pd.DataFrame({
        "ID_UNIQUE": [f"TL{i:04d}" for i in range(n)], "NOM": [f"Lieu {i}" for i in range(n)],
        "ADRESSE": "1 rue X", "CODPOST": "61000", "VILLE": "Alençon", "LATITUDE": "48,43", "LONGITUDE": "0,09",
        "EMAIL": "", "TELEPHONE": "", "DATE_OUV": np.where(assoc, [f"{2014 + i % 3}" for i in range(n)], [f"01/09/{2020 + i % 3}" for i in range(n)]),
        "NOM_STRC_GEST": "", "TYPE_STRUCTURE_GEST": np.where(assoc, "Association", "SCIC"),
        "familles_tiers_lieux": np.where(assoc, "Atelier de fabrication numérique, Culture",
                                         "Espace de coworking"),
        "initiative_origine": np.where(assoc, "Collectif citoyen", "Collectivité"),
        "état du projet": "Ouvert"})
    act = pd.DataFrame({"ID_UNIQUE": ident["ID_UNIQUE"], "TYPE_ACT_NUMER": np.where(assoc, "Oui", "Non"),
                        "OFFRE_NUM_FABR": np.where(assoc, "1", "0"), "OFFRE_NUM_INCLU": np.where(assoc, "1", "0"),
                        "OFFRE_NUM_MENUM": "0", "EQPT_NUM": np.where(assoc, "1", "")})
    p1, p2 = tmp_path / "bdftl-2026-01-fiche-identite.csv", tmp_path / "bdftl-2023-04-activites.csv"
    ident.to_csv(p1, sep=";", index=False, encoding="utf-8-sig")
    act.to_csv(p2, sep=";", index=False)
    return p1, p2


def test_census_economic_features_and_models(tmp_path) -> None:
    p1, p2 = census_fixture(tmp_path)
    census = read_census(str(p1), str(p2))
    feats, groups = economic_features(census, census_year=2026)
    assert groups["group"].tolist() == ["legal_form", "governance", "state", "activities", "activity_flags", "age"]
    assert feats.loc["TL0000", "legal_form=Association"] == 1.0 and feats.loc["TL0039", "legal_form=SCIC"] == 1.0
    assert feats.loc["TL0000", "activity=Atelier de fabrication numérique"] == 1.0
    assert feats.loc["TL0000", "flag=TYPE_ACT_NUMER"] == 1.0 and feats.loc["TL0039", "flag=TYPE_ACT_NUMER"] == 0.0
    assert np.isnan(feats.loc["TL0039", "flag=EQPT_NUM"])  # empty = unknown, not "no"
    assert feats.loc["TL0000", "years_open"] == 12 and feats.loc["TL0039", "years_open"] == 6
    w = economic_weights(feats.columns, groups)  # 6 groups weigh the same whatever their number of columns
    by_group = pd.Series(w).groupby(lambda c: economic_group(c)).sum()
    assert len(by_group) == 6 and by_group.round(12).eq(round(1 / 6, 12)).all()
    spaces = pd.DataFrame({"space_id": ["A1", "A2"], "source": "france_tierslieux_2026", "source_id": ["TL0000", "TL0001"]})
    linked = link_spaces(feats, spaces, "france_tierslieux_2026")
    assert linked.index[:3].tolist() == ["A1", "A2", "france_tierslieux_2026:TL0002"]
    X = model_features(linked)
    # 6 distinct rows (2 groups × 3 opening years): every k up to 6 is stable, so k is fixed at the 2 groups
    res = cluster(X, "kmeans", 2, 5, seed=1, n_bootstrap=3, k=2)
    assert res.k == 2 and res.stability_ari == pytest.approx(1.0)
    prof = name_economic_models(X, res)
    assert prof["n_spaces"].tolist() == [24, 16]
    assert prof["model_name"].tolist() == ["Atelier de fabrication numérique (Association)", "Espace de coworking (SCIC)"]


def test_census_without_economic_columns_is_refused(tmp_path) -> None:
    p = tmp_path / "id.csv"
    pd.DataFrame({"ID_UNIQUE": ["a"], "NOM": ["x"]}).to_csv(p, sep=";", index=False)
    with pytest.raises(InputFileError, match="no economic or governance column"):
        economic_features(read_census(str(p)), path=str(p))


def test_space_models_ignore_row_order() -> None:
    communes, ind, spaces = synthetic()
    f1 = space_features(spaces, with_employed(communes, ind), around_km=5)
    f2 = space_features(spaces.sample(frac=1.0, random_state=9),
                        with_employed(communes.sample(frac=1.0, random_state=2), ind.sample(frac=1.0, random_state=4)),
                        around_km=5)
    pd.testing.assert_frame_equal(f1, f2)
    r1 = cluster(model_features(f1), "gower", 2, 5, seed=3, n_bootstrap=0)
    r2 = cluster(model_features(f2).sample(frac=1.0, random_state=1), "gower", 2, 5, seed=3, n_bootstrap=0)
    pd.testing.assert_series_equal(r1.labels, r2.labels.reindex(r1.labels.index))


def test_unstable_profiles_are_titled_instable_on_the_map() -> None:
    from coworking_geo.atlas.themes import profiles_layer

    communes = pd.DataFrame({"insee_code": ["01001", "01002", "01003"]})
    prof = pd.DataFrame({"insee_code": ["01001", "01002", "01003"], "profile_id": [1, 2, 2],
                         "profile_name": ["Communes peuplées (typologie instable)",
                                          "Communes peu peuplées (typologie instable)"] + ["Communes peu peuplées "
                                                                                           "(typologie instable)"]})
    layer = profiles_layer(communes, prof)
    assert layer.title == "Profils de territoires (typologie instable)"
    assert all("instable" in item.label for item in layer.legend)
    stable = prof.assign(profile_name=prof["profile_name"].str.replace(" (typologie instable)", "", regex=False))
    assert profiles_layer(communes, stable).title == "Profils de territoires"


def test_census_fields_are_features_of_the_space_models(tmp_path) -> None:
    """With the France Tiers-Lieux census configured, its fields join the place's features, one group each."""
    communes, ind, _ = synthetic()
    p1, p2 = census_fixture(tmp_path)
    feats_c, _ = economic_features(read_census(str(p1), str(p2)), census_year=2026)
    n = 40
    spaces = pd.DataFrame({"space_id": [f"france_tierslieux_2026:TL{i:04d}" for i in range(n)],
                           "source": "france_tierslieux_2026", "source_id": [f"TL{i:04d}" for i in range(n)],
                           "insee_code": [f"{i % 10:02d}{(i // 10) * 3:03d}" for i in range(n)],
                           "lon": [2.05 + 0.1 * ((i // 10) * 3) for i in range(n)],
                           "lat": [47.05 + 0.1 * (i % 10) for i in range(n)],
                           "types": np.where(np.arange(n) < 24, "fablab", "coworking")})
    linked = link_spaces(feats_c, spaces, "france_tierslieux_2026")
    f = space_features(spaces, with_employed(communes, ind), around_km=5, census=linked)
    assert f.loc["france_tierslieux_2026:TL0000", "census:legal_form=Association"] == 1.0
    X = model_features(f)
    groups = feature_groups(X.columns)
    assert groups["census:legal_form=Association"] == "census_legal_form"
    assert groups["census:flag=TYPE_ACT_NUMER"] == "census_activity_flags" and groups["census:years_open"] == "census_age"
    w = pd.Series(group_weights(X.columns)).groupby(groups).sum()
    assert w.round(12).nunique() == 1  # every group, census ones included, weighs the same
    kept, _ = reject_territory_features(X, f["territory_class"])
    assert [c for c in X.columns if c.startswith("census:")] == [c for c in kept.columns if c.startswith("census:")]


def test_tests_of_independence_equal_scipy_stats() -> None:
    """Pearson's χ² equals scipy.stats.chi2_contingency to the last bit and Fisher's two-sided p-value
    fisher_exact to 1e-9 (relative), on random tables from 2 × 2 to 7 × 9 and counts from 0 to 2,000."""
    from scipy.stats import chi2_contingency, fisher_exact

    from coworking_geo.typology.independence import chi2_independence, fisher_two_sided

    rng = np.random.default_rng(7)
    for _ in range(500):
        t = rng.integers(0, int(rng.choice([5, 50, 2000])), (2, 2))
        assert fisher_two_sided(t) == pytest.approx(fisher_exact(t)[1], rel=1e-9, abs=1e-300)
    for _ in range(100):
        t = rng.integers(1, 300, (int(rng.integers(2, 8)), int(rng.integers(2, 10))))
        stat, p, dof, _ = chi2_contingency(t, correction=False)
        assert chi2_independence(t) == (stat, p, dof)
    assert fisher_two_sided(np.array([[3, 1], [1, 3]])) == pytest.approx(0.4857142857)  # R: fisher.test
    assert fisher_two_sided(np.array([[0, 0], [4, 5]])) == 1.0
