"""Fibre (ARCEP FttH): readers of the export and workbook layouts, carrying counts to today's communes,
and the real 2018 T1 totals."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from coworking_geo.errors import InputFileError
from coworking_geo.indicators.fibre import (
    build_fibre,
    quarter_label,
    read_arcep_export,
    read_arcep_latest_share,
    read_arcep_workbook,
)

sys.path.insert(0, str(Path(__file__).parent))
from standins_indicators import communes_standin, crosswalk_standin  # noqa: E402

TITLE = "Réseaux en fibre optique jusqu'à l'abonné (FttH),,,,\nInformations,,,,\n,,,,\n,,,,\n"


def _export(tmp_path: Path) -> tuple[Path, Path]:
    com = tmp_path / "communes.csv"
    com.write_text(TITLE + "Code commune,Nom commune,Logements,Établissements\n"
                   "75101,Paris 1er, 1 000    , 200    \n75102,Paris 2e, 500    , -    \n"
                   "1001,L'Abergement, 343    , 10    \n61001,Alençon, 90    , 10    \n", encoding="utf-8")
    ft = tmp_path / "ftthCommunes.csv"
    ft.write_text(TITLE + "Code commune,Champ,T4 2017,T1 2018\n75101,Locaux Raccordables,1000,1100\n75101,Catégorie,1,1\n"
                  "75102,Locaux Raccordables,400,450\n01001,Locaux Raccordables,0,-\n61001,Locaux Raccordables,100,120\n",
                  encoding="utf-8")
    return com, ft


COMMUNES = pd.DataFrame({"insee_code": ["75056", "01001", "61001", "69123"]})
_CURRENT = COMMUNES["insee_code"].tolist()
CROSSWALK = pd.DataFrame({"old_code": ["75101", "75102", *_CURRENT], "insee_code": ["75056", "75056", *_CURRENT],
                          "relation": ["arrondissement"] * 2 + ["identity"] * len(_CURRENT), "summable": True})


def test_quarter_labels() -> None:
    assert quarter_label("T1 2018") == "2018T1"
    assert quarter_label("2023 T4") == "2023T4"
    assert quarter_label("Logements") is None


def test_export_reader_and_carry(tmp_path: Path) -> None:
    df, vintage = read_arcep_export(*_export(tmp_path))
    assert vintage == "2018T1"
    row = df.set_index("code")
    assert row.loc["75101", "premises"] == 1200 and row.loc["75102", "premises"] == 500  # '-' = none
    assert row.loc["01001", "premises"] == 353 and row.loc["01001", "ftth"] == 0      # zero re-padded
    latest = pd.DataFrame({"code": ["01001", "61001"], "share": [0.969, 1.0]})
    res = build_fibre(COMMUNES, CROSSWALK, {vintage: df}, {"latest": latest})
    t = res.table.set_index("insee_code")
    assert t.loc["75056", "premises_2018T1"] == 1700 and t.loc["75056", "ftth_2018T1"] == 1550  # arrondissements summed
    assert t.loc["61001", "ftth_share_2018T1"] == pytest.approx(1.2)                           # > 100 % kept
    assert bool(t.loc["61001", "ftth_share_over_100_2018T1"]) is True
    assert t.loc["61001", "ftth_share_change"] == pytest.approx(-0.2)
    assert pd.isna(t.loc["75056", "ftth_share_latest"]) and "plm_published_by_arrondissement_latest" in t.loc["75056", "fibre_flags"]
    assert pd.isna(t.loc["69123", "premises_2018T1"]) and "not_in_source_2018T1" in t.loc["69123", "fibre_flags"]
    s = res.summary.set_index("vintage")
    assert s.loc["2018T1", "shares_over_100"] == 1 and s.loc["2018T1", "premises"] == 1700 + 353 + 100


def test_export_reader_names_missing_column(tmp_path: Path) -> None:
    com, ft = _export(tmp_path)
    com.write_text(TITLE + "Code commune,Nom commune\n01001,X\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="Logements"):
        read_arcep_export(com, ft)


def test_official_workbook_layout(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Communes"
    ws.append(["Observatoire du haut et très haut débit : déploiements"])
    ws.append(["Données au 30 septembre 2023"])
    ws.append([])
    ws.append([])
    ws.append(["Code commune", "Nom commune", "Meilleure estimation des locaux à date", "T2 2023", "T3 2023"])
    ws.append(["01001", "L'Abergement-Clémenciat", 400, 380, 390])
    ws.append([1004, "Ambérieu-en-Bugey", "9 500", 9000, "-"])
    wb.create_sheet("Départements")
    path = tmp_path / "2023t3-obs-hd-thd-deploiement.xlsx"
    wb.save(path)
    df = read_arcep_workbook(path).set_index("code")
    assert list(df.columns) == ["premises", "ftth_2023T2", "ftth_2023T3"]
    assert df.loc["01001", "ftth_2023T3"] == 390 and df.loc["01004", "premises"] == 9500
    assert pd.isna(df.loc["01004", "ftth_2023T3"])
    with pytest.raises(InputFileError, match="Communes"):
        read_arcep_workbook(path, sheet="Communes 2")


def test_real_2018t1_totals_and_named_communes(mirror: Path) -> None:
    src = mirror / "arcep_ftth_2018t1"
    df, vintage = read_arcep_export(src / "export" / "communes.csv", src / "export" / "ftthCommunes.csv")
    communes, crosswalk = communes_standin(mirror), crosswalk_standin(mirror)
    latest = read_arcep_latest_share(mirror / "arcep_ftth_latest" / "arcep_ftth_pct_communes_latest.csv")
    res = build_fibre(communes, crosswalk, {vintage: df}, {"latest": latest})
    s = res.summary.set_index("vintage").loc["2018T1"]
    # The source's national totals, all accounted for: our 34,935 communes + the 4 COM codes (975, 977, 978).
    assert s["source_premises"] == 36_782_590 and s["source_ftth"] == 10_965_667
    assert s["premises"] + s["source_premises_outside_communes"] == 36_782_590
    assert s["ftth"] + s["source_ftth_outside_communes"] == 10_965_667
    assert s["premises"] == 36_756_661 and s["ftth"] == 10_965_524 and s["source_codes_unmatched"] == 4
    assert s["source_shares_over_100"] == 689 and s["shares_over_100"] == 679
    truth = pd.read_csv(src / "arcep_ftth_communes_2018T1.csv", dtype={"code_commune": str}, low_memory=False).set_index("code_commune")
    t = res.table.set_index("insee_code")
    for code in ("35238", "61001", "33063"):  # Rennes, Alençon, Bordeaux
        assert t.loc[code, "premises_2018T1"] == truth.loc[code, "locaux_estimes"]
        assert t.loc[code, "ftth_2018T1"] == truth.loc[code, "ftth_locaux_raccordables_2018T1"]
    assert t.loc["35238", "ftth_share_2018T1"] == pytest.approx(79_976 / 127_804)
    assert res.summary.set_index("vintage").loc["latest", "plm_missing"] == 3
