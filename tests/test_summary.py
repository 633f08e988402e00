"""The diagnosis by territory class and by région."""

from __future__ import annotations

import pandas as pd
import pytest

from coworking_geo.report.summary import diagnosis_by

COMMUNES = pd.DataFrame({
    "insee_code": ["69123", "58194", "61001", "61002"],
    "territory_class": ["metropole", "ville_moyenne", "rural", "rural"],
    "population": [500_000, 33_000, 300, 700],
})
SPACES = pd.DataFrame({"space_id": ["a", "b", "c"], "insee_code": ["69123", "69123", "58194"]})
INDICATORS = pd.DataFrame({
    "insee_code": ["69123", "58194", "61001", "61002"],
    "ftth_share_latest": [1.0, 0.8, None, 0.5],
    "pop_within_10km": [480_000.0, 30_000.0, 0.0, 100.0],
    "access_population": [500_000.0, 33_000.0, 300.0, 700.0],
    "long_commuters": [None, None, 40.0, 60.0],
    "flows_covered": [False, False, True, True],
})


def test_diagnosis_by_class_counts_and_weights() -> None:
    t = diagnosis_by(COMMUNES, SPACES, INDICATORS, "territory_class").set_index("territory_class")
    assert t.index.tolist() == ["metropole", "ville_moyenne", "rural", "total"]
    assert t.loc["metropole", "spaces"] == 2 and t.loc["metropole", "spaces_per_100k"] == pytest.approx(0.4)
    assert t.loc["rural", "spaces"] == 0 and t.loc["rural", "communes_with_space"] == 0
    # fibre weighted by population over communes with a value: only 61002 (0.5) in the rural class
    assert t.loc["rural", "fibre_share"] == pytest.approx(0.5)
    assert t.loc["rural", "population_share_within_10km"] == pytest.approx(0.1)
    assert t.loc["rural", "long_commuters"] == 100 and t.loc["rural", "communes_with_flows"] == 2
    # commuting is unknown outside the flows' coverage: NA, never 0
    assert pd.isna(t.loc["metropole", "long_commuters"])
    assert t.loc["total", "communes"] == 4 and t.loc["total", "population"] == 534_000
    assert t.loc["total", "fibre_share"] == pytest.approx((500_000 + 0.8 * 33_000 + 0.5 * 700) / 533_700, abs=1e-4)
