"""Commune-code crosswalk: synthetic decoupage files, bad inputs, and the real ARCEP 2018 / CGET 2019 codes."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from coworking_geo.territories import crosswalk as cw
from coworking_geo.errors import InputFileError

COMMUNES = [
    # a commune nouvelle 01015 that absorbed 01340; its delegated communes 01015 and 01340
    {"code": "01015", "nom": "Arboys en Bugey", "type": "commune-actuelle", "zone": "metro", "departement": "01",
     "region": "84", "siren": "200053668", "rangChefLieu": 0, "anciensCodes": ["01340"]},
    {"code": "01015", "nom": "Arbignieu", "type": "commune-deleguee", "zone": "metro", "departement": "01",
     "region": "84", "chefLieu": "01015"},
    {"code": "01340", "nom": "Saint-Bois", "type": "commune-deleguee", "zone": "metro", "departement": "01",
     "region": "84", "chefLieu": "01015"},
    {"code": "01001", "nom": "L'Abergement-Clémenciat", "type": "commune-actuelle", "zone": "metro",
     "departement": "01", "region": "84", "siren": "210100012", "rangChefLieu": 0},
    {"code": "75056", "nom": "Paris", "type": "commune-actuelle", "zone": "metro", "departement": "75",
     "region": "11", "siren": "217500016", "rangChefLieu": 0},
    {"code": "75101", "nom": "Paris 1er", "type": "arrondissement-municipal", "zone": "metro",
     "departement": "75", "region": "11", "commune": "75056"},
    {"code": "55245", "nom": "Heudicourt", "type": "commune-actuelle", "zone": "metro", "departement": "55",
     "region": "44", "siren": "1", "rangChefLieu": 0, "anciensCodes": ["55273"]},
    {"code": "55386", "nom": "Nonsard-Lamarche", "type": "commune-actuelle", "zone": "metro",
     "departement": "55", "region": "44", "siren": "2", "rangChefLieu": 0},
    {"code": "55273", "nom": "Lamarche-en-Woëvre", "type": "commune-associee", "zone": "metro",
     "departement": "55", "region": "44", "chefLieu": "55386"},
    {"code": "97501", "nom": "Miquelon-Langlade", "type": "commune-actuelle", "zone": "com",
     "departement": "975", "region": "975"},
]


@pytest.fixture()
def deco_path(tmp_path):
    p = tmp_path / "communes.json.gz"
    p.write_bytes(gzip.compress(json.dumps(COMMUNES).encode()))
    return p


@pytest.fixture()
def crosswalk(deco_path):
    return cw.build_crosswalk(cw.read_decoupage(deco_path))


def test_crosswalk_relations(crosswalk):
    cx = crosswalk.set_index("old_code")
    assert crosswalk["old_code"].is_unique
    assert list(crosswalk.columns) == cw.CROSSWALK_COLUMNS
    # identity rows for every current commune (the COM 97501 is not one)
    assert set(cx.index[cx["relation"] == "identity"]) == {"01015", "01001", "75056", "55245", "55386"}
    assert cx.loc["01340", ["insee_code", "relation"]].tolist() == ["01015", "delegated"]
    assert cx.loc["75101", ["insee_code", "relation"]].tolist() == ["75056", "arrondissement"]
    # 55273 is an associated commune of 55386 and a former code of 55245: split, not summable
    assert cx.loc["55273", "relation"] == "split"
    assert not cx.loc["55273", "summable"]
    assert cx.loc["55273", "insee_code"] == "55386"  # the chef-lieu link wins
    assert cx.loc[cx.index != "55273", "summable"].all()
    assert "97501" not in cx.index


def test_resolve_codes_bad_inputs(deco_path, crosswalk):
    com = cw.non_commune_codes(cw.read_decoupage(deco_path))
    codes = pd.Series(["1001", "99999", "97501", "", None, "75101", "abc", "01340"], index=list("abcdefgh"))
    res = cw.resolve_codes(codes, crosswalk, non_communes=com)
    assert list(res.index) == list("abcdefgh")
    assert res.loc["a", ["insee_code", "fix", "relation"]].tolist() == ["01001", "zero_padded", "identity"]
    assert pd.isna(res.loc["b", "insee_code"]) and res.loc["b", "reason"].startswith("unknown code")
    assert "overseas collectivity" in res.loc["c", "reason"]
    assert res.loc["d", "reason"] == "empty code" and res.loc["e", "reason"] == "empty code"
    assert res.loc["f", "insee_code"] == "75056"
    assert res.loc["g", "reason"].startswith("not a valid commune code")
    assert res.loc["h", ["insee_code", "relation"]].tolist() == ["01015", "delegated"]


def test_fallback_column(crosswalk):
    res = cw.resolve_with_fallback(pd.Series(["0", "01001"]), pd.Series(["75056", pd.NA]), crosswalk,
                                   fallback_name="INSEEMETRO")
    assert res["insee_code"].tolist() == ["75056", "01001"]
    assert res["fix"].tolist() == ["fallback_INSEEMETRO", ""]
    summary, unresolved = cw.resolution_summary({"x": res})
    assert summary.loc[0, ["rows", "resolved", "share"]].tolist() == [2, 2, 1.0]
    assert unresolved.empty


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (gzip.compress(json.dumps(COMMUNES).encode())[:200], "truncated"),
    (b'[{"code": "01001", "nom"', "not valid JSON"),
    (b'{"a": 1}', "non-empty JSON list"),
])
def test_bad_decoupage_files(tmp_path, content, message):
    p = tmp_path / "communes.json.gz"
    p.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as err:
        cw.read_decoupage(p)
    assert str(p) in str(err.value)


def test_real_crosswalk_resolves_arcep_2018_and_cget_2019(mirror):
    deco = cw.read_decoupage(mirror / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz")
    cx = cw.build_crosswalk(deco)
    assert (cx["relation"] == "identity").sum() == 34935
    assert cx["old_code"].is_unique
    lut = cx.set_index("old_code")["insee_code"]
    assert lut["75101"] == "75056" and lut["69381"] == "69123" and lut["13201"] == "13055"
    assert lut["01340"] == "01015"
    assert set(cx.loc[cx["relation"] == "split", "old_code"]) == {"55273", "60455"}
    com = cw.non_commune_codes(deco)
    arcep = cw.resolve_codes(cw.arcep_2018_codes(mirror / "arcep_ftth_2018t1" / "export" / "communes.csv"),
                             cx, non_communes=com)
    primary, fallback = cw.cget_2019_codes(mirror / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv")
    cget = cw.resolve_with_fallback(primary, fallback, cx, fallback_name="INSEEMETRO", non_communes=com)
    summary, unresolved = cw.resolution_summary({"arcep": arcep, "cget": cget})
    s = summary.set_index("source")
    assert s.loc["arcep", "rows"] == 35361 and s.loc["arcep", "resolved"] == 35357
    assert s.loc["cget", "rows"] == 1512 and s.loc["cget", "resolved"] == 1512
    assert (s["share"] >= 0.995).all()
    assert (cget["fix"] == "fallback_INSEEMETRO").sum() == 157  # INSEECOM is "0" there
    assert set(unresolved["code"]) == {"97501", "97502", "97701", "97801"}
    assert unresolved["reason"].str.contains("overseas collectivity").all()
