"""Commuting (INSEE MOBPRO): readers of the three layouts, per-commune indicators, coverage, and the
real Île-de-France and Orne numbers."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coworking_geo.indicators.commuting import (
    Flows,
    build_commuting,
    places_from_communes,
    read_base_flux,
    read_fd_records,
    read_flows,
)
from coworking_geo.errors import InputFileError
from coworking_geo.geodesy import haversine_km

sys.path.insert(0, str(Path(__file__).parent))
from standins_indicators import communes_standin, crosswalk_standin  # noqa: E402

# Three communes on a meridian 0.1° apart (11.12 km), plus one far away (Caen).
PLACES = pd.DataFrame({"lon": [0.0, 0.0, 0.0, -0.37], "lat": [48.0, 48.1, 48.2, 49.18],
                       "name": ["A", "B", "C", "Caen"]}, index=pd.Index(["61001", "61002", "61003", "14118"], name="insee_code"))
_CURRENT = ["61001", "61002", "61003", "61004", "72181", "14118"]
CW = pd.DataFrame({"old_code": ["61099", *_CURRENT], "insee_code": ["61003", *_CURRENT],
                   "relation": ["merged"] + ["identity"] * len(_CURRENT), "summable": True})


def test_great_circle() -> None:
    assert haversine_km(0.0, 48.0, 0.0, 48.1) == pytest.approx(11.119, abs=0.01)
    assert haversine_km(2.3522, 48.8566, -0.3707, 49.1829) == pytest.approx(201.3, abs=1.0)  # Paris-Caen


def test_commune_indicators_and_coverage() -> None:
    pairs = pd.DataFrame({"res_code": ["61001", "61001", "61001", "61001", "61099", "61002"],
                          "work_code": ["61001", "61002", "14118", "99134", "61003", "61002"],
                          "flow": [50.0, 30.0, 20.0, 4.0, 10.0, 7.0]})
    fl = Flows("insee_mobpro_orne", "test", pairs, ("61",))
    communes = pd.DataFrame({"insee_code": ["61001", "61002", "61003", "61004", "72181"],
                             "dep_code": ["61", "61", "61", "61", "72"]})
    out, summary = build_commuting(communes, [fl], CW, PLACES, long_km=20)
    t = out.set_index("insee_code")
    a = t.loc["61001"]
    assert a["employed_residents"] == 104 and a["share_outside"] == pytest.approx(54 / 104)
    d_caen = haversine_km(0.0, 48.0, -0.37, 49.18)
    # Distances over the 100 located workers (4 work abroad: no distance): 50×0, 30×11.12, 20×Caen.
    assert a["commute_mean_km"] == pytest.approx((30 * 11.119 + 20 * d_caen) / 100, rel=1e-3)
    assert a["commute_median_km"] == 0.0 and a["long_commuters"] == 20
    assert a["main_destination"] == "61002" and a["main_destination_name"] == "B"
    assert t.loc["61003", "employed_residents"] == 10 and t.loc["61003", "commute_mean_km"] == 0.0  # merged code: intra
    assert t.loc["61002", "share_outside"] == 0 and pd.isna(t.loc["61002", "main_destination"])
    assert t.loc["61004", "employed_residents"] == 0 and t.loc["61004", "commuting_flags"] == "absent_from_flows"
    assert not t.loc["72181", "flows_covered"] and pd.isna(t.loc["72181", "employed_residents"])  # NA, never 0
    assert t.loc["72181", "commuting_flags"] == "outside_flows_coverage"
    assert summary.set_index("source").loc["insee_mobpro_orne", "flows_destination_unlocated"] == 4


def test_base_flux_zip_latin1(tmp_path: Path) -> None:
    text = ("CODGEO;LIBGEO;DCLT;L_DCLT;NBFLUX_C19_ACTOCC15P\n61001;Alençon;61001;Alençon;6000,5\n"
            "61001;Alençon;14118;Caen;120\n")
    path = tmp_path / "base-flux.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("base-flux-mobilite-domicile-lieu-travail-2019.csv", text.encode("latin-1"))
        z.writestr("notice.txt", "x")
    fl = read_base_flux(path)
    assert fl.label == "MOBPRO base flux RP2019" and fl.pairs["flow"].sum() == 6120.5 and fl.coverage_deps is None
    bad = tmp_path / "bad.csv"
    bad.write_text("CODGEO;DCLT;FLUX\n61001;61001;3\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="NBFLUX"):
        read_base_flux(bad)


def test_real_idf_flows_match_commune_totals(mirror: Path) -> None:
    src = mirror / "insee_mobpro_idf_rp2014"
    fl = read_flows("insee_mobpro_idf_rp2014", [str(src / "flows_idf_rp2014_total.csv")])
    assert fl.pairs["flow"].sum() == pytest.approx(5_323_745, abs=1)
    communes = communes_standin(mirror)
    out, summary = build_commuting(communes[communes["reg_code"].eq("11")], [fl], crosswalk_standin(mirror),
                                   places_from_communes(communes), long_km=20)
    t = out.set_index("insee_code")
    truth = pd.read_csv(src / "communes_idf_rp2014_totals.csv", dtype={"CODGEO": str}).set_index("CODGEO")
    # Communes unchanged since RP2014 (same code in both files, not Paris); totals are "within rounding"
    # for the region; per commune the truth file was aggregated differently (see docs/indicators.md).
    common = truth.index.intersection(t.index)
    assert len(common) > 1200
    assert t["employed_residents"].sum() == pytest.approx(truth["ACTOCC_RESIDENTS"].sum(), rel=0.001)  # 5.32 M
    rel = (t.loc[common, "employed_residents"] / truth.loc[common, "ACTOCC_RESIDENTS"] - 1).abs()
    assert rel.median() < 0.03 and (rel < 0.10).mean() > 0.85
    big = truth.loc[common, "ACTOCC_RESIDENTS"] > 20_000
    assert rel[big].median() < 0.02
    diff = (t.loc[common, "share_outside"] - truth.loc[common, "PART_HORS_COMMUNE"]).abs()
    assert diff.median() < 0.005 and (diff < 0.05).mean() > 0.85
    assert t.loc["75056", "employed_residents"] == pytest.approx(truth.filter(regex="^751", axis=0)["ACTOCC_RESIDENTS"].sum(), rel=0.02)
    assert t.loc["75056", "share_outside"] < 0.35  # arrondissement → arrondissement trips are inside Paris
    assert summary.set_index("source").loc["insee_mobpro_idf_rp2014", "flows_total"] == pytest.approx(5_323_745, abs=1)


def test_real_base_flux_layout_and_orne_records(mirror: Path) -> None:
    bf = read_base_flux(mirror / "insee_mobpro_idf_rp2014" / "base_flux_idf_rp2014_ge100.csv", "insee_mobpro_idf_rp2014")
    assert bf.label == "MOBPRO base flux RP2014" and len(bf.pairs) == 7905 and bf.pairs["flow"].sum() == 2_318_072
    assert "100 or more" in bf.note
    fd = read_fd_records(mirror / "insee_mobpro_orne" / "fd_mobpro_orne_records.csv")
    assert fd.pairs["flow"].sum() + fd.dropped_out_of_coverage == pytest.approx(111_236, abs=1)
    communes = communes_standin(mirror)
    out, _ = build_commuting(communes[communes["dep_code"].eq("61")], [fd], crosswalk_standin(mirror),
                             places_from_communes(communes), long_km=20)
    t = out.set_index("insee_code")
    assert t["flows_covered"].all()
    alencon = t.loc["61001"]
    assert alencon["employed_residents"] == pytest.approx(9082.2, abs=0.1)
    assert alencon["share_outside"] == pytest.approx(1 - 6258.47 / 9082.22, abs=1e-3)
    assert np.isfinite(t["commute_mean_km"].dropna()).all() and (t["main_destination"].eq("14118")).any()  # flows to Caen located
