"""Communes table: readers on small written fixtures (bad inputs) and the real France build from the mirror."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from coworking_geo.territories import communes as cm
from coworking_geo.errors import InputFileError

BOWTIE = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])  # self-intersecting


def _gpkg(tmp_path, codes, geoms=None, name="communes.gpkg"):
    n = len(codes)
    gdf = gpd.GeoDataFrame({
        "INSEE_COM": codes, "NOM": [f"C{i}" for i in range(n)], "INSEE_DEP": [c.zfill(5)[:2] for c in codes],
        "INSEE_REG": ["84"] * n, "SIREN_EPCI": ["200000001/200000002"] + ["NR"] * (n - 1),
        "POPULATION": list(range(100, 100 + n)),
    }, geometry=geoms or [box(i, 0, i + 1, 1) for i in range(n)], crs="EPSG:4326")
    p = tmp_path / name
    gdf.to_file(p, layer="communes", driver="GPKG")
    return p


def _crosswalk(codes, extra=()):
    rows = [{"old_code": c, "insee_code": c, "relation": "identity"} for c in codes]
    rows += [{"old_code": o, "insee_code": n, "relation": "merged"} for o, n in extra]
    df = pd.DataFrame(rows)
    df["summable"] = True
    df["source"] = "test"
    return df


def test_read_communes_repairs_and_pads(tmp_path):
    p = _gpkg(tmp_path, ["1001", "01002", "01004"], [BOWTIE, box(1, 0, 2, 1), box(2, 0, 3, 1)])
    out, issues, stats = cm.read_communes(p)
    assert out["insee_code"].tolist() == ["01001", "01002", "01004"]
    assert stats["geometries_repaired"] == 1 and out.geometry.is_valid.all()
    assert out.geometry.iloc[0].geom_type in ("MultiPolygon", "Polygon")
    assert issues[["code", "status"]].values.tolist() == [["1001", "fixed"]]
    assert out["epci_code"].tolist()[0] == "200000001" and out["epci_code"].isna().sum() == 2
    assert out["population"].sum() == 303


def test_read_communes_duplicate_code_is_an_error(tmp_path):
    p = _gpkg(tmp_path, ["01001", "01002", "1001"])
    with pytest.raises(InputFileError, match=r"duplicate commune code.*01001"):
        cm.read_communes(p)


def test_empty_and_truncated_geometry_files(tmp_path):
    empty = tmp_path / "empty.gpkg"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty"):
        cm.read_communes(empty)
    good = _gpkg(tmp_path, ["01001", "01002"])
    trunc = tmp_path / "trunc.gpkg"
    trunc.write_bytes(good.read_bytes()[:3000])
    with pytest.raises(InputFileError, match="truncated or corrupt") as err:
        cm.read_communes(trunc)
    assert "trunc.gpkg" in str(err.value)
    with pytest.raises(InputFileError, match="not found"):
        cm.read_communes(tmp_path / "missing.gpkg")


def test_density_codes_matched_or_listed(tmp_path):
    current = pd.Series(["01001", "01002", "01004", "01005"], dtype="string")
    xw = _crosswalk(current, extra=[("01003", "01002")])
    csv = tmp_path / "grille.csv"
    csv.write_text("CODGEO;LIBGEO;DENS\n1001;A;6\n01002;B;3\n01002;B bis;4\n01003;Old;5\n99999;X;2\n01004;D;9\n",
                   encoding="latin-1")
    dens, issues = cm.read_density(csv, current, xw)
    got = dens.set_index("insee_code")["density_level"]
    assert got["01001"] == 6 and got["01002"] == 3  # first row kept, old code 01003 not duplicated in
    assert pd.isna(got["01004"])  # 9 is not a level
    status = {(r.code, r.status) for r in issues.itertuples()}
    assert ("1001", "fixed") in status
    assert ("01002", "duplicate") in status and ("01003", "duplicate") in status
    assert ("99999", "unmatched") in status
    assert ("01004", "missing_value") in status and ("01005", "missing_value") in status
    # every input row is matched or appears in the issues
    assert len(dens.dropna()) + issues["status"].isin(["duplicate", "unmatched"]).sum() + 1 == 6


def test_programme_codes_from_liste_geo(tmp_path):
    gdf = gpd.GeoDataFrame({"liste_geo": ["Bouillante (97106)", "Château-Chinon (Ville) (58062)",
                                          "A (01001), B (2A004)", "no code"]},
                           geometry=gpd.points_from_xy([0, 1, 2, 3], [0, 1, 2, 3]), crs="EPSG:4326")
    p = tmp_path / "pvd.geojson"
    gdf.to_file(p, driver="GeoJSON")
    codes = cm.programme_codes_geojson(p)
    assert codes.tolist() == ["97106", "58062", "01001", "2A004"]
    current = pd.Series(["97106", "58062", "01001", "01002"], dtype="string")
    member, issues = cm.programme_membership(codes, current, _crosswalk(current), "pvd")
    assert member.to_dict() == {"97106": True, "58062": True, "01001": True, "01002": False}
    assert issues[["code", "status"]].values.tolist() == [["2A004", "unmatched"]]


def test_france_communes(france_build):
    out, issues, stats = france_build
    assert len(out) == 34935 and out["insee_code"].is_unique
    assert list(out.columns) == cm.COMMUNE_COLUMNS
    assert out["territory_class"].notna().all()
    assert out["population"].sum() == 67651945  # the IGN file's total (populations légales 2021)
    assert out["density_level"].notna().all() and out["density_class"].notna().all()
    assert out.loc[out["metropolis"], "epci_code"].nunique() == 22
    assert out["acv"].sum() == 244 and out["pvd"].sum() == 1645 and out["village_avenir"].sum() == 2497
    assert out.geometry.is_valid.all() and out.crs.to_epsg() == 4326
    lyon = out.set_index("insee_code").loc["69123"]
    assert lyon["epci_nature"] == "METLYON" and lyon["aav_name"] == "Lyon" and lyon["density_class"] == "dense"
    # every issue is explained; nothing unmatched in these sources
    assert (issues["status"] == "unmatched").sum() == 0
    assert set(issues.loc[issues["status"] == "missing_value", "code"]) == {"60694", "85165", "85212"}
    assert issues.loc[issues["status"] == "fixed", "code"].tolist() == ["86231"]


def test_admin_layers(mirror):
    deps = cm.read_admin_layer(mirror / "ign_admin_express_communes" / "departements_cog2024_from_communes.gpkg",
                               "departements")
    regs = cm.read_admin_layer(mirror / "ign_admin_express_communes" / "regions_cog2024_from_communes.gpkg", "regions")
    assert len(deps) == 101 and len(regs) == 18
    assert deps.set_index("dep_code").loc["61", "dep_name"] == "Orne"
    assert deps.set_index("dep_code").loc["2A", "reg_code"] == "94"
    assert regs.set_index("reg_code").loc["93", "reg_name"] == "Provence-Alpes-Côte d'Azur"
