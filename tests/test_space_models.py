"""Space models: features with known values, naming rule, cross-table, census economic features."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from coworking_geo.clustering import cluster
from coworking_geo.economic_models import (
    economic_features,
    link_spaces,
    name_economic_models,
    read_census,
)
from coworking_geo.errors import InputFileError
from coworking_geo.space_models import (
    cross_table,
    model_features,
    name_models,
    space_features,
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
    f = space_features(spaces, communes, ind, around_km=5)
    assert len(f) == 20 and f.index.is_monotonic_increasing
    a = f.loc["SP000"]
    # nearest other space 0.01° of longitude at 47.02°N: 111.195 km × cos(47.02°) × 0.01
    assert np.expm1(a["log_dist_other_space"]) == pytest.approx(111.19508 * np.cos(np.radians(47.02)) * 0.01, rel=1e-3)
    assert np.expm1(a["log_dist_metropolis"]) == 0.0  # inside the metropolis
    assert a["fibre_share"] == 0.99  # latest vintage preferred
    assert a["share_outside"] == 0.3 and a["density_level"] == 1 and a["class_metropole"] == 1
    assert a["type_coworking"] == 1 and a["type_fablab"] == 0 and a["programme"] == 0
    # the 4 metropolis communes have centroids within 5 km of (2.02, 47.02)? only (2.05, 47.05) is (4.1 km)
    assert np.expm1(a["log_pop_around"]) == pytest.approx(50_000)
    r = f.loc["SP100"]  # commune 05000, centroid (2.05, 47.55)
    assert r["type_fablab"] == 1 and r["type_atelier"] == 1 and r["programme"] == 1
    assert np.expm1(r["log_pop_around"]) == pytest.approx(400)  # its own commune only (neighbours 7.6 km away)
    assert np.expm1(r["log_employed_around"]) == pytest.approx(150)
    # nearest metropolis commune centroid is (2.05, 47.15), 44.5 km south
    from coworking_geo.geodesy import haversine_km
    assert np.expm1(r["log_dist_metropolis"]) == pytest.approx(float(haversine_km(2.05, 47.55, 2.05, 47.15)), rel=1e-3)


def test_models_named_by_the_rule_and_cross_table() -> None:
    communes, ind, spaces = synthetic()
    spaces["fabrique"] = False  # two clear groups only
    f = space_features(spaces, communes, ind, around_km=5)
    X = model_features(f)
    assert "class_ville_moyenne" not in X.columns  # constant columns dropped
    res = cluster(X, "kmeans", 2, 4, seed=1, n_bootstrap=3)
    assert res.k == 2
    prof = name_models(f, res)
    assert prof["model_name"].tolist() == ["Pôle de coworking métropolitain", "Fab-lab rural isolé"]
    assert prof["n_spaces"].tolist() == [12, 8]
    assign = pd.DataFrame({"space_id": f.index, "model_id": res.labels.to_numpy() + 1})
    assign = assign.merge(prof[["model_id", "model_name"]], on="model_id")
    tab = cross_table(f, assign)
    assert tab.set_index("model_name").loc["Fab-lab rural isolé", "rural_autonome_tres_peu_dense"] == 8
    assert tab.set_index("model_name").loc["total", "total"] == 20


def test_duplicate_names_get_a_distinctive_feature() -> None:
    communes, ind, spaces = synthetic()
    f = space_features(spaces, communes, ind, around_km=5)
    res = cluster(model_features(f), "kmeans", 3, 3, seed=1, n_bootstrap=0)
    names = name_models(f, res)["model_name"]
    assert names.is_unique and len(names) == 3


def test_missing_columns_name_the_file() -> None:
    communes, ind, spaces = synthetic()
    with pytest.raises(InputFileError, match="spaces.parquet.*types"):
        space_features(spaces.drop(columns="types"), communes, ind, spaces_path="data/processed/x/spaces.parquet")


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
    spaces = pd.DataFrame({"space_id": ["A1", "A2"], "source": "france_tierslieux_2026", "source_id": ["TL0000", "TL0001"]})
    linked = link_spaces(feats, spaces, "france_tierslieux_2026")
    assert linked.index[:3].tolist() == ["A1", "A2", "france_tierslieux_2026:TL0002"]
    X = model_features(linked)
    res = cluster(X, "kmeans", 2, 5, seed=1, n_bootstrap=3)
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
    f1 = space_features(spaces, communes, ind, around_km=5)
    f2 = space_features(spaces.sample(frac=1.0, random_state=9), communes.sample(frac=1.0, random_state=2),
                        ind.sample(frac=1.0, random_state=4), around_km=5)
    pd.testing.assert_frame_equal(f1, f2)
    r1 = cluster(model_features(f1), "kmeans", 2, 5, seed=3, n_bootstrap=0)
    r2 = cluster(model_features(f2).sample(frac=1.0, random_state=1), "kmeans", 2, 5, seed=3, n_bootstrap=0)
    pd.testing.assert_series_equal(r1.labels, r2.labels.reindex(r1.labels.index))
