"""Readers of the official publications: fixtures written in the publishers' layouts, converted into the
mirror's files, then read by the pipeline's own readers."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import py7zr
import pyogrio
import pytest
import rasterio
import shapely
import yaml
from openpyxl import Workbook

from coworking_geo.territories import communes as cm
from coworking_geo.sources import official
from coworking_geo.indicators.access import read_grid
from coworking_geo.errors import ConfigError, RetrieveError
from coworking_geo.indicators.fibre import read_arcep_export, read_arcep_latest_share
from coworking_geo.sources.official.datagouv import pick_resource, quarter_of
from coworking_geo.sources.official.mirror import build_mirror
from coworking_geo.sources.official.mode import apply_data_mode, resolve_data_mode
from coworking_geo.sources.retrieve import retrieve_source
from coworking_geo.sources.catalogue import Source, SourceFile, load_sources
from coworking_geo.spaces.programmes import read_laureates

# ---------------------------------------------------------------- IGN ADMIN EXPRESS (7z of shapefiles)

AE_ROOT = "ADMIN-EXPRESS-COG-CARTO_3-2__SHP_LAMB93_FXX_2024-02-22/ADMIN-EXPRESS-COG-CARTO/1_DONNEES_LIVRAISON_2024-02-00156"



def _reply(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
    """Answer with ``body`` (200), or 404 when it is empty."""
    handler.send_response(200 if body else 404)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A 127.0.0.1 server on a free port, serving in a thread; the server and its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"

def _square(x: float, y: float, size: float) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def _write_shp(gdf: gpd.GeoDataFrame, folder: Path, layer: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(gdf, folder / f"{layer}.shp", encoding="UTF-8")


def write_admin_express_7z(path: Path, metro: gpd.GeoDataFrame, reunion: gpd.GeoDataFrame) -> Path:
    """A 7z laid out like IGN's projected edition: one folder per territory (Lambert-93, RGR92 UTM 40S)."""
    staging = path.parent / "ae_src"
    for gdf, edition in ((metro, "ADECOGC_3-2_SHP_LAMB93_FXX-ED2024-02-22"),
                         (reunion, "ADECOGC_3-2_SHP_RGR92UTM40S_REU-ED2024-02-22")):
        folder = staging / AE_ROOT / edition
        _write_shp(gdf, folder, "COMMUNE")
        deps = gdf.dissolve("INSEE_DEP", aggfunc="first").reset_index()
        deps["NOM"] = deps["INSEE_DEP"].map({"61": "Orne", "72": "Sarthe", "974": "La Réunion"})
        _write_shp(deps[["INSEE_DEP", "INSEE_REG", "NOM", "geometry"]], folder, "DEPARTEMENT")
        regs = gdf.dissolve("INSEE_REG", aggfunc="first").reset_index()
        regs["NOM"] = regs["INSEE_REG"].map({"28": "Normandie", "52": "Pays de la Loire", "04": "La Réunion"})
        _write_shp(regs[["INSEE_REG", "NOM", "geometry"]], folder, "REGION")
    with py7zr.SevenZipFile(path, "w") as z:
        z.writeall(staging / AE_ROOT.split("/")[0], AE_ROOT.split("/")[0])
    return path


def _communes(rows: list[tuple[str, str, str, str, int, shapely.Polygon]], crs: int) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows, columns=["INSEE_COM", "NOM", "INSEE_DEP", "INSEE_REG", "POPULATION", "geometry"])
    df["ID"] = ["COMMUNE_" + c for c in df["INSEE_COM"]]
    df["NOM_M"] = df["NOM"].str.upper()
    df["STATUT"] = "Commune simple"
    df["INSEE_ARR"], df["INSEE_CAN"] = "1", "01"
    df["SIREN_EPCI"] = "246100663"
    return gpd.GeoDataFrame(df, geometry="geometry", crs=crs)


def test_admin_express_7z_to_mirror_layout(tmp_path: Path) -> None:
    metro = _communes([("61001", "Alençon", "61", "28", 26000, _square(490000, 6820000, 5000)),
                       ("61002", "Ablon", "61", "28", 300, _square(495000, 6820000, 5000)),
                       ("72001", "Aillières", "72", "52", 200, _square(490000, 6815000, 5000))], 2154)
    reunion = _communes([("97411", "Saint-Denis", "974", "04", 150000, _square(338000, 7680000, 8000))], 2975)
    archive = write_admin_express_7z(tmp_path / "ae.7z", metro, reunion)
    out = tmp_path / "out"
    out.mkdir()
    for name, conv in [("communes_cog2024_simplifiees.gpkg", "admin_express_communes"),
                       ("departements_cog2024_from_communes.gpkg", "admin_express_departements"),
                       ("regions_cog2024_from_communes.gpkg", "admin_express_regions")]:
        official.convert(conv, archive, out / name)
    com, issues, _ = cm.read_communes(out / "communes_cog2024_simplifiees.gpkg")
    assert com["insee_code"].tolist() == ["61001", "61002", "72001", "97411"]
    assert com["population"].sum() == 176500
    # reprojected from each territory's CRS to EPSG:4326: Alençon near 0.1°E 48.4°N, Saint-Denis near 55.4°E 20.9°S
    c = com.set_index("insee_code").geometry.representative_point()
    assert 0.0 < c["61001"].x < 0.3 and 48.3 < c["61001"].y < 48.6
    assert 55.2 < c["97411"].x < 55.6 and -21.0 < c["97411"].y < -20.8
    assert com.geometry.is_valid.all() and issues.empty
    deps = cm.read_admin_layer(out / "departements_cog2024_from_communes.gpkg", "departements")
    assert deps[["dep_code", "dep_name", "reg_code"]].values.tolist() == [
        ["61", "Orne", "28"], ["72", "Sarthe", "52"], ["974", "La Réunion", "04"]]
    regs = cm.read_admin_layer(out / "regions_cog2024_from_communes.gpkg", "regions")
    assert regs["reg_name"].tolist() == ["La Réunion", "Normandie", "Pays de la Loire"]
    # the département polygon is the union of its communes (two 5 km squares side by side)
    orne = deps.set_index("dep_code").to_crs(2154).loc["61", "geometry"]
    assert orne.area == pytest.approx(2 * 5000 * 5000, rel=1e-3)


def test_admin_express_on_real_orne_communes(mirror: Path, tmp_path: Path) -> None:
    """The mirror's Orne communes, written as IGN's Lambert-93 shapefile edition, read back unchanged."""
    src = pyogrio.read_dataframe(mirror / "ign_admin_express_communes" / "communes_cog2024_simplifiees.gpkg",
                                 where="INSEE_DEP = '61'")
    empty = _communes([], 2975)
    archive = write_admin_express_7z(tmp_path / "ae.7z", src.to_crs(2154).drop(columns=["geom_source"]), empty)
    target = tmp_path / "communes_cog2024_simplifiees.gpkg"
    official.convert("admin_express_communes", archive, target)
    got, _, _ = cm.read_communes(target)
    want, _, _ = cm.read_communes(mirror / "ign_admin_express_communes" / "communes_cog2024_simplifiees.gpkg")
    want = want[want["dep_code"].eq("61")].reset_index(drop=True)
    assert len(got) == len(want) == 385
    assert got["population"].sum() == want["population"].sum()
    assert (got["insee_code"] == want["insee_code"]).all()
    assert got.loc[got["insee_code"].eq("61001"), "name"].item() == "Alençon"


# ---------------------------------------------------------------- INSEE table d'appartenance (zipped xlsx)

def _sheet(wb: Workbook, title: str, titles: list[str], df: pd.DataFrame) -> None:
    ws = wb.create_sheet(title)
    for t in titles + [""] * (5 - len(titles)):
        ws.append([t])
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append(list(row))


def write_appartenance_zip(path: Path, com: pd.DataFrame, zones: pd.DataFrame, year: int = 2024) -> Path:
    """INSEE's layout: sheets COM, ARM, Zones_supra_communales, each after 5 title rows; zipped."""
    wb = Workbook()
    wb.remove(wb.active)
    titles = ["Table d'appartenance géographique des communes", f"Découpage communal en vigueur au 1er janvier {year}",
              "Source : Insee, Code officiel géographique"]
    _sheet(wb, "COM", titles, com)
    _sheet(wb, "ARM", titles, com.iloc[:0])
    _sheet(wb, "Zones_supra_communales", titles, zones)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"table-appartenance-geo-communes-{year % 100}.xlsx", buf.getvalue())
    return path


COM_COLUMNS = ["CODGEO", "LIBGEO", "DEP", "REG", "EPCI", "NATURE_EPCI", "ARR", "CV", "ZE2020", "UU2020", "TUU2017",
               "TDUU2017", "AAV2020", "TAAV2017", "TDAAV2017", "CATEAAV2020", "BV2022"]


def test_appartenance_zip_to_mirror_layout(tmp_path: Path) -> None:
    com = pd.DataFrame([
        ["61001", "Alençon", "61", "28", "246100663", "CA", "611", "6101", "2806", "61501", "4", "42", "125", "2",
         "21", "11", "61001"],
        ["61483", "Saint-Germain-du-Corbéis", "61", "28", "246100663", "CA", "611", "6101", "2806", "61501", "4",
         "42", "125", "2", "21", "12", "61001"],
        ["69123", "Lyon", "69", "84", "200046977", "METLYON", "691", "6999", "8214", "00758", "7", "72", "002",
         "4", "43", "11", "69123"],
    ], columns=COM_COLUMNS)
    zones = pd.DataFrame([["AAV2020", "125", "Alençon", "48"], ["AAV2020", "002", "Lyon", "398"],
                          ["UU2020", "61501", "Alençon", "3"], ["UU2020", "00758", "Lyon", "124"],
                          ["EPCI", "200046977", "Métropole de Lyon", "59"]], columns=["NIVGEO", "CODGEO", "LIBGEO", "NB_COM"])
    archive = write_appartenance_zip(tmp_path / "table-appartenance-geo-communes-24.zip", com, zones)
    files = {"table.csv": "appartenance_communes", "aav.csv": "appartenance_aav_uu", "labels.csv": "appartenance_zones"}
    for name, conv in files.items():
        official.convert(conv, archive, tmp_path / name)
    nature = cm.read_epci_nature(tmp_path / "table.csv")
    assert nature.to_dict() == {"246100663": "CA", "200046977": "METLYON"}
    current = pd.Series(["61001", "61483", "69123"], dtype="string")
    xw = pd.DataFrame({"old_code": current, "insee_code": current, "relation": "identity", "summable": True,
                       "source": "test"})
    aav, issues = cm.read_aav(tmp_path / "aav.csv", tmp_path / "labels.csv", current, xw, 2024)
    a = aav.set_index("insee_code")
    assert a.loc["61001", "aav_name"] == "Alençon" and a.loc["61483", "aav_category"] == 12
    assert a.loc["69123", "aav_size_class"] == 4 and a.loc["69123", "uu_code"] == "00758"
    labels = pd.read_csv(tmp_path / "labels.csv", dtype=str)
    assert set(labels["COG"]) == {"2024"}


@pytest.mark.slow
def test_appartenance_on_real_table(mirror: Path, tmp_path: Path) -> None:
    """The mirror's COG 2023 table written in INSEE's workbook layout gives the same 22 metropolises."""
    ag = mirror / "insee_appartenance_geo"
    com = pd.read_csv(ag / "table_appartenance_geo_communes_cog2023.csv", dtype=str).fillna("")
    lab = pd.read_csv(ag / "libelles_zonages_supracommunaux_cog2023_2024.csv", dtype=str)
    zones = lab[lab["COG"].eq("2023")].drop(columns="COG")
    archive = write_appartenance_zip(tmp_path / "t.zip", com, zones, year=2023)
    official.convert("appartenance_communes", archive, tmp_path / "table.csv")
    got = cm.read_epci_nature(tmp_path / "table.csv")
    want = cm.read_epci_nature(ag / "table_appartenance_geo_communes_cog2023.csv")
    assert len(pd.read_csv(tmp_path / "table.csv", dtype=str)) == 34945
    assert got.sort_index().equals(want.sort_index())
    assert int(got.isin(["ME", "METLYON"]).sum()) == 22


# ---------------------------------------------------------------- ANCT programme CSVs (data.gouv.fr)

def test_fabriques_csv_to_laureates(tmp_path: Path) -> None:
    csv = tmp_path / "fabriques.csv"
    # ANCT's layout: comma-separated UTF-8 (here with a BOM), insee_com + id_fabt
    csv.write_bytes("\ufeffid_fabt,nom_fabt,insee_com,lib_com,insee_dep\n"
                    "fabt-001,La Fabrique du Pays d'Alençon,61001,Alençon,61\n"
                    "fabt-002,Le Bocal,61001,Alençon,61\n"
                    "fabt-003,Tiers-lieu de Mende,48095,Mende,48\n".encode("utf-8"))
    official.convert("anct_laureates", csv, tmp_path / "fabt_geom.geojson")
    lau = read_laureates(tmp_path / "fabt_geom.geojson", "fabriques")
    assert lau["programme_id"].tolist() == ["fabt-003", "fabt-001", "fabt-002"]
    assert lau.loc[lau["programme_id"].eq("fabt-002"), "name"].item() == "Le Bocal"
    assert lau["declared_insee"].tolist() == ["48095", "61001", "61001"]
    assert "lon" not in lau  # no coordinates in the CSV: the register places laureates at their commune


def test_programme_csvs_to_codes(tmp_path: Path) -> None:
    pvd = tmp_path / "pvd.csv"
    pvd.write_text("insee_com,lib_com,id_pvd,date_signature\n61214,L'Aigle,PVD0001,2021-03-01\n"
                   "1053,Bourg-en-Bresse,PVD0002,2021-04-01\n", encoding="utf-8")
    official.convert("anct_programme_territories", pvd, tmp_path / "pvd_geom.geojson")
    assert cm.programme_codes_geojson(tmp_path / "pvd_geom.geojson").tolist() == ["61214", "01053"]
    acv = tmp_path / "acv.csv"
    # a re-saved copy (semicolons, Windows-1252, decimal commas) is read too
    acv.write_bytes("id_acv;insee_com;lib_com;lon;lat\nACV150;58194;Nevers;3,159;46,99\n".encode("cp1252"))
    official.convert("anct_programme_communes", acv, tmp_path / "acv_communes_2024.csv")
    assert cm.programme_codes_csv(tmp_path / "acv_communes_2024.csv").tolist() == ["58194"]


# ---------------------------------------------------------------- ARCEP quarterly workbooks

def _workbook(path: Path, sheets: dict[str, tuple[list[str], list[str], list[list[object]]]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, (titles, header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        for t in titles + [""] * (4 - len(titles)):
            ws.append([t] if t else [None])
        ws.append(header)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_arcep_2018t1_workbook_to_export(tmp_path: Path) -> None:
    wb = _workbook(tmp_path / "2018t1-obs-hd-thd-deploiement.xlsx", {
        "Communes": (["Réseaux en fibre optique jusqu'à l'abonné (FttH)", "Informations à l'échelle de la commune"],
                     ["Code commune", "Nom commune", "Code région", "Code département", "Siren EPCI", "Logements",
                      "Établissements", "OI 2018 T1"],
                     [["61001", "Alençon", 28, 61, "246100663", 15000, 1500, None],
                      ["1001", "L'Abergement-Clémenciat", 84, 1, "200069193", 400, "-", None]]),
        "FttH Communes": (["Réseaux en fibre optique jusqu'à l'abonné (FttH)", "Déploiement par Commune"],
                          ["Code commune", "Champ", "T3 2017", "T4 2017", "T1 2018"],
                          [["61001", "Locaux Raccordables", 1000, 4000, 8250], ["61001", "Catégorie", 1, 1, 2],
                           ["1001", "Locaux Raccordables", 0, 0, 0]]),
    })
    official.convert("arcep_sheet_communes", wb, tmp_path / "communes.csv")
    official.convert("arcep_sheet_ftth_communes", wb, tmp_path / "ftthCommunes.csv")
    df, vintage = read_arcep_export(tmp_path / "communes.csv", tmp_path / "ftthCommunes.csv")
    assert vintage == "2018T1"
    d = df.set_index("code")
    assert d.loc["61001", "premises"] == 16500 and d.loc["61001", "ftth"] == 8250
    assert d.loc["01001", "premises"] == 400


def test_arcep_latest_workbook_to_share(tmp_path: Path) -> None:
    wb = _workbook(tmp_path / "2025t3-obs-hd-thd-deploiement.xlsx", {
        "Communes": (["Déploiements FttH par commune"],
                     ["Code commune", "Nom commune", "Meilleure estimation des locaux à date", "T2 2025", "T3 2025"],
                     [["61001", "Alençon", 17000, 16000, 16830], ["48095", "Mende", 8000, 8000, 8400]]),
    })
    official.convert("arcep_latest_share", wb, tmp_path / "latest.csv")
    share = read_arcep_latest_share(tmp_path / "latest.csv").set_index("code")["share"]
    assert share["61001"] == pytest.approx(0.99)
    assert share["48095"] == pytest.approx(1.05)  # above 100 % kept as published, not capped
    assert set(pd.read_csv(tmp_path / "latest.csv", dtype=str)["trimestre"]) == {"2025T3"}


def test_datagouv_resource_selection() -> None:
    dataset = {"resources": [
        {"title": "2018t1-obs-hd-thd-deploiement.xlsx", "format": "xlsx", "url": "https://x/2018t1.xlsx"},
        {"title": "2025t2-obs-hd-thd-deploiement-vf.xlsx", "format": "xlsx", "url": "https://x/2025t2.xlsx"},
        {"title": "2025t3-obs-hd-thd-deploiement.xlsx", "format": "xlsx", "url": "https://x/2025t3.xlsx"},
        {"title": "2025t3-obs-hd-thd-deploiement.csv", "format": "csv", "url": "https://x/2025t3.csv"},
        {"title": "Communes 2025 T3 (shapefile)", "format": "zip", "url": "https://x/com.zip"},
    ]}
    sel = {"title": "obs-hd-thd-deploiement", "format": "xlsx"}
    assert pick_resource(dataset, {**sel, "period": "2018T1"})["url"] == "https://x/2018t1.xlsx"
    assert pick_resource(dataset, {**sel, "period": "latest"})["url"] == "https://x/2025t3.xlsx"
    assert [quarter_of(t) for t in ("Observatoire T1 2018 (xlsx)", "2020t3-obs.xlsx", "2024_T4", "rapport 2019")] == [
        "2018T1", "2020T3", "2024T4", None]
    # the older ARCEP naming, as linked from public projects (OPEN_DATA__deploiements-THD_2017_T4.xlsx):
    # the configured selector of config/sources.yaml finds its 2018 T1 workbook too
    older = {"resources": [
        {"title": "OPEN_DATA__deploiements-THD_2017_T4.xlsx", "format": "xlsx", "url": "https://x/2017t4.xlsx"},
        {"title": "OPEN_DATA__deploiements-THD_2018_T1.xlsx", "format": "xlsx", "url": "https://x/2018_t1.xlsx"},
    ]}
    sources = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "sources.yaml").read_text(encoding="utf-8"))
    configured = sources["arcep_ftth_2018t1"]["files"][0]["resource"]
    assert pick_resource(older, configured)["url"] == "https://x/2018_t1.xlsx"


# ---------------------------------------------------------------- Eurostat GISCO census grid

def test_gisco_grid_clipped_to_france(tmp_path: Path) -> None:
    # two cells in France (Paris, Alençon areas), one in Germany (outside the France extent), one secret (-9999)
    corners = [(2889000, 3760000, 21000, "FR"), (2830000, 3505000, 950, "FR"), (3100000, 4250000, 100, "FR"),
               (3000000, 4500000, 5000, "DE"), (2600000, 3500000, -9999, "FR")]
    gdf = gpd.GeoDataFrame({
        "GRD_ID": [f"CRS3035RES1000mN{n}E{e}" for n, e, _, _ in corners],
        "T": [t for *_, t, _ in corners], "CNTR_ID": [c for *_, c in corners]},
        geometry=[_square(e, n, 1000) for n, e, _, _ in corners], crs=3035)
    gpkg = tmp_path / "ESTAT_Census_2021_V2.gpkg"
    pyogrio.write_dataframe(gdf, gpkg, layer="ESTAT_Census_2021_V2")
    archive = tmp_path / "Eurostat_Census-GRID_2021_V2.2.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(gpkg, "Eurostat_Census-GRID_2021_V2.2/ESTAT_Census_2021_V2.gpkg")
    official.convert("gisco_grid_france", archive, tmp_path / "grid.tif")
    grid = read_grid(tmp_path / "grid.tif")
    assert grid.pop.shape == (1108, 1075)
    assert grid.total_in_file == 21000 + 950 + 100
    # the Paris cell is where its GRD_ID says: south-west corner N2889000 E3760000
    row, col = (3137000 - 2889000) // 1000 - 1, (3760000 - 3210000) // 1000
    assert grid.pop[row, col] == 21000
    assert np.count_nonzero(grid.pop) == 3


def test_every_converter_named_in_sources_exists(repo_root: Path) -> None:
    data = yaml.safe_load((repo_root / "config" / "sources.yaml").read_text(encoding="utf-8"))
    named = {f["convert"] for e in data.values() for f in e["files"] if f.get("convert")}
    assert named and named <= set(official.CONVERTERS)
    assert json.dumps(sorted(named))  # the registry is the only place converters are looked up


# ---------------------------------------------------------------- mirror built from official URLs (127.0.0.1)

def test_build_mirror_from_official_urls_then_run_offline(tmp_path: Path) -> None:


    fabriques = ("id_fabt;nom_fabt;insee_com;lib_com\nfabt-001;La Fabrique;61001;Alençon\n"
                 + "".join(f"fabt-{i:03d};Fabrique {i};{48000 + i};Commune {i}\n" for i in range(2, 60))).encode()
    density = b"CODGEO;LIBGEO;DENS\n61001;Alencon;2\n" * 50
    bodies: dict[str, bytes] = {"/r/fabt.csv": fabriques, "/grille.csv": density}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/api/1/datasets/fabriques/":
                body = json.dumps({"resources": [
                    {"title": "Fabriques de territoire (CSV)", "format": "csv", "url": f"{base}/r/fabt.csv",
                     "last_modified": "2024-09-01"}]}).encode()
            else:
                body = bodies.get(self.path, b"")
            _reply(self, body)

    httpd, base = _serve(Handler)
    try:
        common = {"publisher": "ANCT", "vintage": "2024", "licence": "Licence Ouverte 2.0", "page": base, "theme": "x"}
        sources = {
            "anct_fabriques_territoire": Source(id="anct_fabriques_territoire", title="Fabriques", **common, files=(
                SourceFile(name="fabt_geom.geojson", url=f"{base}/api/1/datasets/fabriques/",
                           resource={"format": "csv"}, convert="anct_laureates"),)),
            "insee_grille_densite": Source(id="insee_grille_densite", title="Grille", **common, files=(
                SourceFile(name="grille.csv", url=f"{base}/grille.csv", min_bytes=100),)),
            "orne_extract": Source(id="orne_extract", title="Mirror-only extract", **common, files=(
                SourceFile(name="x.csv", mirror_only=True),)),
        }
        mirror = tmp_path / "mirror"
        summary = json.loads(build_mirror(sources, mirror).read_text(encoding="utf-8"))
        assert sorted(summary["sources"]) == ["anct_fabriques_territoire", "insee_grille_densite"]
        assert list(summary["skipped"]) == ["orne_extract"]
        manifest = json.loads((mirror / "insee_grille_densite" / "MANIFEST.json").read_text(encoding="utf-8"))
        rec = manifest["files"][0]
        assert rec["origin"] == f"{base}/grille.csv" and rec["bytes"] == len(density)
        assert rec["sha256"] == hashlib.sha256(density).hexdigest() and manifest["retrieved_at"]
        fab = json.loads((mirror / "anct_fabriques_territoire" / "MANIFEST.json").read_text(encoding="utf-8"))
        assert fab["files"][0]["origin"] == f"{base}/r/fabt.csv"  # the resource the API record pointed to
        assert not (mirror / "anct_fabriques_territoire" / ".official").exists()
        assert len(read_laureates(mirror / "anct_fabriques_territoire" / "fabt_geom.geojson", "fabriques")) == 59

        # a failing source is named, with the others still fetched
        bad = {**sources, "broken": Source(id="broken", title="Broken", **common, files=(
            SourceFile(name="b.csv", url=f"{base}/absent.csv"),))}
        with pytest.raises(RetrieveError, match=r"(?s)1 source\(s\) failed.*broken"):
            build_mirror(bad, tmp_path / "mirror2", ["broken", "orne_extract"])
        # offline after: the server is gone, the run copies from the mirror
        httpd.shutdown()
        raw = tmp_path / "raw"
        retrieve_source(sources["anct_fabriques_territoire"], raw, mirror)
        assert (raw / "anct_fabriques_territoire" / "fabt_geom.geojson").read_bytes() == \
            (mirror / "anct_fabriques_territoire" / "fabt_geom.geojson").read_bytes()

    finally:
        httpd.shutdown()


def test_data_mode_chooses_online_sources() -> None:

    assert resolve_data_mode("auto", False, {"COWORKING_GEO_MIRROR": "/m"}) == "mirror"
    assert resolve_data_mode("auto", False, {}) == "online"
    assert resolve_data_mode("online", True, {}) == "demo"
    with pytest.raises(ConfigError, match="COWORKING_GEO_MIRROR"):
        resolve_data_mode("mirror", False, {})
    config = {"spaces": {"sources": [{"id": "cget_tierslieux_2019", "kind": "cget_2019"}]},
              "indicators": {"commuting_sources": ["insee_mobpro_orne"]},
              "online": {"spaces_sources": [{"id": "france_tierslieux_2023", "kind": "ftl_census"}],
                         "commuting_sources": ["insee_mobpro_national"]}}
    assert apply_data_mode(config, "mirror") == {}
    apply_data_mode(config, "online")
    assert config["spaces"]["sources"][0]["id"] == "france_tierslieux_2023"
    assert config["indicators"]["commuting_sources"] == ["insee_mobpro_national"]


# ---------------------------------------------------------------- the default France run, online

def _dry_run_retrieve_jobs(repo_root: Path, env: dict[str, str], *config: str) -> set[str]:
    """The retrieve jobs of a dry run in a clean copy of the workflow (nothing in data/raw yet)."""
    import tempfile

    full = {k: v for k, v in os.environ.items() if k != "COWORKING_GEO_MIRROR"} | env
    full["PYTHONPATH"] = str(repo_root / "src")
    with tempfile.TemporaryDirectory(prefix="dry-run-") as tmp:
        wf = Path(tmp)
        shutil.copy(repo_root / "Snakefile", wf / "Snakefile")
        for folder in ("config", "workflow", "profiles"):
            shutil.copytree(repo_root / folder, wf / folder)
        res = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--config", *config],
                             cwd=wf, env=full, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return set(re.findall(r"^retrieve_(\w+)\s+\d+\s*$", res.stdout, re.MULTILINE))


def test_default_france_run_online_needs_no_mirror_only_source(repo_root: Path) -> None:

    needed = _dry_run_retrieve_jobs(repo_root, {}, "territory=france")
    assert {"france_tierslieux_2023", "insee_mobpro_national", "cget_tierslieux_2019",
            "ign_admin_express_communes", "eurostat_popgrid_1km"} <= needed
    assert not needed & {"insee_mobpro_orne", "insee_mobpro_idf_rp2014"}
    sources = load_sources(repo_root / "config" / "sources.yaml")
    for sid in needed:
        src = sources[sid]
        assert src.publisher and src.vintage and src.licence, sid
        for f in src.files:
            assert f.url and f.url.startswith("https://") and not f.mirror_only, f"{sid}/{f.name}"


def test_census_and_national_mobpro_beside_the_mirror(repo_root: Path, mirror: Path) -> None:
    needed = _dry_run_retrieve_jobs(repo_root, {"COWORKING_GEO_MIRROR": str(mirror)},
                                    "territory=france", "data_mode=online")
    assert {"france_tierslieux_2023", "insee_mobpro_national"} <= needed
    mirror_default = _dry_run_retrieve_jobs(repo_root, {"COWORKING_GEO_MIRROR": str(mirror)}, "territory=dep-61")
    assert "insee_mobpro_orne" in mirror_default and "france_tierslieux_2023" not in mirror_default


@pytest.mark.slow
def test_gisco_csv_on_real_cells_rebuilds_the_mirror_raster(mirror: Path, tmp_path: Path) -> None:
    """The mirror's 2021 cells, in GISCO's CSV layout (GRD_ID, T, CNTR_ID), give the mirror's raster back."""

    cells = pd.read_csv(mirror / "eurostat_popgrid_1km" / "eurostat_geostat_popgrid_1km_FR_2006-2021_epsg3035.csv.gz",
                        dtype={"CNTR_ID": str}, usecols=["grd_id", "CNTR_ID", "pop_2021"])
    archive = tmp_path / "Eurostat_Census-GRID_2021_V3.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Eurostat_Census-GRID_2021_V3/ESTAT_Census_2021_V3.csv",
                   cells.rename(columns={"grd_id": "GRD_ID", "pop_2021": "T"}).to_csv(index=False))
    official.convert("gisco_grid_france", archive, tmp_path / "grid.tif")
    with rasterio.open(tmp_path / "grid.tif") as got, \
            rasterio.open(mirror / "eurostat_popgrid_1km" / "eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif") as want:
        a, b = got.read(1), want.read(1)
        assert got.transform == want.transform and got.crs == want.crs
    assert int(a.clip(min=0).sum()) == int(b.clip(min=0).sum()) == 66_319_444
    assert ((a > 0) == (b > 0)).all()


@pytest.mark.slow
def test_arcep_2018t1_on_real_sheets(mirror: Path, tmp_path: Path) -> None:
    """The mirror's 2018 T1 sheets put back in a workbook, converted: ARCEP's published national totals."""
    _arcep_2018_workbook(mirror / "arcep_ftth_2018t1" / "export", tmp_path / "2018t1-obs-hd-thd-deploiement.xlsx")
    official.convert("arcep_sheet_communes", tmp_path / "2018t1-obs-hd-thd-deploiement.xlsx", tmp_path / "communes.csv")
    official.convert("arcep_sheet_ftth_communes", tmp_path / "2018t1-obs-hd-thd-deploiement.xlsx",
                     tmp_path / "ftthCommunes.csv")
    df, vintage = read_arcep_export(tmp_path / "communes.csv", tmp_path / "ftthCommunes.csv")
    assert vintage == "2018T1"
    assert len(df) == 35361
    assert int(df["premises"].sum()) == 36_782_590 and int(df["ftth"].sum()) == 10_965_667


# ---------------------------------------------------------------- an online run, end to end, on 127.0.0.1

def _arcep_2018_workbook(export: Path, path: Path, keep: str | None = None) -> Path:
    """The mirror's 2018 T1 export put back into workbook sheets (title rows kept); rows of département ``keep``."""
    wb = Workbook(write_only=True)
    for sheet, name in (("Communes", "communes.csv"), ("FttH Communes", "ftthCommunes.csv")):
        ws = wb.create_sheet(sheet)
        rows = pd.read_csv(export / name, header=None, dtype=str, keep_default_na=False)
        if keep:
            rows = pd.concat([rows.iloc[:5], rows.iloc[5:][rows.iloc[5:, 0].str.startswith(keep)]])
        for row in rows.itertuples(index=False):
            ws.append([v.strip() or None for v in row])
    wb.save(path)
    return path


def _anct_csv(geojson: Path, id_col: str) -> bytes:
    """An ANCT-style CSV (insee_com, lib_com, id_…) from a programme-territory GeoJSON of the mirror."""
    g = pyogrio.read_dataframe(geojson, read_geometry=False)
    pairs = g.assign(c=g["liste_geo"].str.findall(r"([^;(]+?)\s*\((\d{5}|2[AB]\d{3})\)")).explode("c").dropna(subset=["c"])
    return pd.DataFrame({"insee_com": pairs["c"].str[1], "lib_com": pairs["c"].str[0].str.strip(),
                         id_col: pairs["id_territoire"]}).to_csv(index=False).encode("utf-8")


@pytest.mark.slow
def test_online_run_of_orne_matches_the_mirror_run(mirror: Path, repo_root: Path, tmp_path: Path, france_build) -> None:
    """Every territories source served in its official layout from 127.0.0.1, no mirror: the Orne communes
    table the workflow builds is the one the mirror gives (385 communes, same class for each)."""

    www = tmp_path / "www"
    www.mkdir()
    orne = pyogrio.read_dataframe(mirror / "ign_admin_express_communes" / "communes_cog2024_simplifiees.gpkg",
                                  where="INSEE_DEP = '61'").drop(columns=["geom_source"])
    write_admin_express_7z(www / "ae.7z", orne.to_crs(2154), _communes([], 2975))
    ag = mirror / "insee_appartenance_geo"
    com = pd.read_csv(ag / "table_appartenance_geo_communes_cog2023.csv", dtype=str).fillna("")
    lab = pd.read_csv(ag / "libelles_zonages_supracommunaux_cog2023_2024.csv", dtype=str)
    write_appartenance_zip(www / "appartenance.zip", com[com["DEP"].eq("61")],
                           lab[lab["COG"].eq("2023")].drop(columns="COG"), year=2023)
    _arcep_2018_workbook(mirror / "arcep_ftth_2018t1" / "export", www / "2018t1-obs-hd-thd-deploiement.xlsx", "61")
    files = {
        "ae.7z": (www / "ae.7z").read_bytes(), "appartenance.zip": (www / "appartenance.zip").read_bytes(),
        "2018t1.xlsx": (www / "2018t1-obs-hd-thd-deploiement.xlsx").read_bytes(),
        "grille.xlsx": (mirror / "insee_grille_densite" / "grille_densite_7_niveaux_2024.xlsx").read_bytes(),
        "communes.json": gzip.decompress((mirror / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz").read_bytes()),
        "cget.csv": (mirror / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv").read_bytes(),
        "acv.csv": (mirror / "anct_action_coeur_de_ville" / "acv_communes_2024.csv").read_bytes(),
        "pvd.csv": _anct_csv(mirror / "anct_petites_villes_de_demain" / "pvd_geom.geojson", "id_pvd"),
        "va.csv": _anct_csv(mirror / "anct_villages_avenir" / "va_geom.geojson", "id_va"),
    }
    records = {"le-marche-du-haut-et-tres-haut-debit-fixe-deploiements": ("2018t1.xlsx", "xlsx")}
    files |= {"api/r/8b6f422b-cbdf-459a-9a16-d6be4b92d91a": files["acv.csv"],
              "api/r/1fa831ec-d912-4277-8b95-a8b998bf951e": files["pvd.csv"],
              "api/r/fbef04bb-3df9-4d6d-a23f-0a0034f6a3f8": files["va.csv"]}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            m = re.fullmatch(r"/api/([\w-]+)/", self.path)  # a data.gouv.fr dataset record
            if m and m.group(1) in records:
                name, fmt = records[m.group(1)]
                body = json.dumps({"resources": [
                    {"title": "2018t1-obs-hd-thd-deploiement.xlsx" if fmt == "xlsx" else name, "format": fmt,
                     "url": f"{base}/{name}"}, {"title": "notice", "format": "pdf", "url": f"{base}/x.pdf"}]}).encode()
            else:
                body = files.get(self.path.lstrip("/"), b"")
            _reply(self, body)

    httpd, base = _serve(Handler)
    try:
        wf = tmp_path / "wf"
        wf.mkdir()
        shutil.copy(repo_root / "Snakefile", wf / "Snakefile")
        for folder in ("config", "workflow", "profiles"):
            shutil.copytree(repo_root / folder, wf / folder)
        yml = (wf / "config" / "sources.yaml").read_text(encoding="utf-8")
        yml = re.sub(r"https://www\.data\.gouv\.fr/api/1/datasets/([a-z0-9-]+)/", rf"{base}/api/\1/", yml)
        for official_url, name in (
                ("https://data.geopf.fr/telechargement/download/ADMIN-EXPRESS-COG-CARTO/ADMIN-EXPRESS-COG-CARTO_3-2__"
                 "SHP_WGS84G_FRA_2024-02-22/ADMIN-EXPRESS-COG-CARTO_3-2__SHP_WGS84G_FRA_2024-02-22.7z", "ae.7z"),
                ("https://www.insee.fr/fr/statistiques/fichier/2560452/table-appartenance-geo-communes-24.zip",
                 "appartenance.zip"),
                ("https://www.insee.fr/fr/statistiques/fichier/6439600/grille_densite_7_niveaux_2024.xlsx", "grille.xlsx"),
                ("https://unpkg.com/@etalab/decoupage-administratif@4.1.0/data/communes.json", "communes.json"),
                ("https://raw.githubusercontent.com/anct-carto/mission_coworking/"
                 "f228a034e88183f315ece63d2f4a90decbdfd017/CGET_TiersLieux_2019.csv", "cget.csv")):
            assert official_url in yml
            yml = yml.replace(official_url, f"{base}/{name}")
        # the fixture publications hold the Orne only: no national floors, row counts or totals
        yml = re.sub(r"(?m)^\s+(rows|totals): .*\n", "", re.sub(r"min_bytes: \d+", "min_bytes: 0", yml))
        (wf / "config" / "sources.yaml").write_text(yml, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "COWORKING_GEO_MIRROR"}
        env["NO_PROXY"] = "127.0.0.1"
        res = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--config", "territory=dep-61",
                              "--", "data/processed/dep-61/communes.parquet"],
                             cwd=wf, env=env, capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    finally:
        httpd.shutdown()
    got = pd.read_parquet(wf / "data" / "processed" / "dep-61" / "communes.parquet")
    want = france_build[0]
    want = want[want["dep_code"].eq("61")]
    assert len(got) == len(want) == 385
    assert int(got["population"].sum()) == int(want["population"].sum())
    joined = got.merge(pd.DataFrame(want.drop(columns="geometry")), on="insee_code", suffixes=("", "_mirror"))
    for col in ("territory_class", "density_level", "aav_category", "epci_nature", "pvd", "acv", "village_avenir"):
        assert (joined[col].astype(str) == joined[f"{col}_mirror"].astype(str)).all(), col
    assert got.set_index("insee_code").loc["61214", "territory_class"] == "petite_ville"  # L'Aigle
    manifest = json.loads((wf / "data" / "raw" / "ign_admin_express_communes" / "MANIFEST.json").read_text())
    assert {f["origin"] for f in manifest["files"]} == {f"{base}/ae.7z"}
