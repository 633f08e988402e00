"""territory_class rule and density classes: synthetic cases for each step, and named real communes."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from coworking_geo.classify import (
    TERRITORY_CLASSES,
    density_class,
    is_metropolis,
    territory_class,
)

RULES = {"large_aav_min_population": 50000, "pole_categories": [11, 12], "couronne_categories": [20],
         "small_town_density_levels": [3]}


def _frame(rows):
    cols = ["metropolis", "acv", "pvd", "aav_category", "aav_size_class", "density_level"]
    df = pd.DataFrame(rows, columns=cols)
    for c in cols[3:]:
        df[c] = df[c].astype("Int64")
    return df


def test_rule_order_and_thresholds():
    df = _frame([
        (True, True, True, 11, 5, 1),      # metropolis first, even if ACV
        (False, True, False, 30, 0, 6),    # ACV → ville_moyenne
        (False, False, False, 12, 2, 2),   # pôle of an AAV ≥ 50k → ville_moyenne
        (False, False, True, 11, 3, 1),    # PVD but pôle of a large AAV: ville_moyenne comes first
        (False, False, True, 30, 0, 6),    # PVD → petite_ville
        (False, False, False, 11, 1, 4),   # pôle of a small AAV → petite_ville
        (False, False, False, 30, 0, 3),   # density level 3 → petite_ville
        (False, False, False, 20, 2, 4),   # couronne of a large AAV → periurbain
        (False, False, False, 20, 1, 6),   # couronne of a small AAV → rural
        (False, False, False, 13, 4, 5),   # secondary pôle (13) is not a pôle by default → rural
        (False, False, False, None, None, None),  # nothing known → rural, never NA
    ])
    assert territory_class(df, RULES).tolist() == [
        "metropole", "ville_moyenne", "ville_moyenne", "ville_moyenne", "petite_ville", "petite_ville",
        "petite_ville", "periurbain", "rural", "rural", "rural"]
    # thresholds come from config: with 200,000 the AAV of size class 2 is "smaller"
    stricter = territory_class(df, {**RULES, "large_aav_min_population": 200000})
    assert stricter.tolist()[2] == "petite_ville" and stricter.tolist()[7] == "rural"
    # secondary pôles counted as pôles when configured
    assert territory_class(df, {**RULES, "pole_categories": [11, 12, 13]}).tolist()[9] == "ville_moyenne"


def test_density_class_and_metropolis():
    lv = pd.Series([1, 2, 3, 4, 5, 6, 7, None], dtype="Int64")
    assert density_class(lv).tolist()[:7] == ["dense"] + ["intermediate"] * 3 + ["rural"] * 3
    assert pd.isna(density_class(lv).iloc[7])
    assert is_metropolis(pd.Series(["ME", "METLYON", "CU", None], dtype="string")).tolist() == [True, True, False, False]


def test_config_defaults_match_the_documented_rule(repo_root):
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
    assert cfg["territories"]["classification"] == RULES


@pytest.fixture(scope="module")
def france(france_build):
    return france_build[0].drop(columns="geometry").set_index("insee_code")


@pytest.mark.parametrize("code, name, expected", [
    ("69123", "Lyon", "metropole"),                          # Métropole de Lyon (METLYON)
    ("75056", "Paris", "metropole"),
    ("58194", "Nevers", "ville_moyenne"),                    # ACV, pôle of an AAV of 50–200k
    ("48095", "Mende", "ville_moyenne"),                     # ACV (its AAV is under 50k)
    ("61214", "L'Aigle", "petite_ville"),                    # PVD, pôle of a small AAV
    ("61397", "Saint-Germain-du-Corbéis", "periurbain"),     # couronne of Alençon (50–200k)
    ("61017", "Les Authieux-du-Puits", "rural"),             # village outside the attraction of cities
])
def test_named_communes(france, code, name, expected):
    row = france.loc[code]
    assert row["name"] == name
    assert row["territory_class"] == expected


def test_france_class_counts(france):
    counts = france["territory_class"].value_counts()
    assert set(counts.index) == set(TERRITORY_CLASSES) and counts.sum() == 34935
    assert counts["metropole"] == 970  # communes of the 22 metropolises
    mende = france.loc["48095"]
    assert mende["aav_category"] == 11 and mende["aav_size_class"] == 1 and mende["acv"]
    # without ACV, Mende would be the pôle of a smaller AAV: petite_ville
    assert territory_class(france.loc[["48095"]].assign(acv=False), RULES).iloc[0] == "petite_ville"
