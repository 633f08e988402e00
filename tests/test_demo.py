"""The synthetic demo: determinism, every expected file, layouts equal to the mirror's, and invariants."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio

from coworking_geo.codes import INSEE_RE
from coworking_geo.demo import DEMO_FILES, build_territory, write_demo_sources
from coworking_geo.sources.catalogue import load_sources

SEED = 20180601
N = 300


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_a")
    write_demo_sources(out, seed=SEED, n_communes=N)
    return out


def _sha(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _csv(path: Path, **kw) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kw)


def _lines(path: Path, n: int) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)[:n]


def _communes(root: Path) -> pd.DataFrame:
    return pyogrio.read_dataframe(root / "ign_admin_express_communes" / "communes_cog2024_simplifiees.gpkg")


def _etalab(root: Path) -> list[dict]:
    path = root / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))


def _flows(root: Path) -> pd.DataFrame:
    z = root / "insee_mobpro_national" / "base-flux-mobilite-domicile-lieu-travail-2022_csv.zip"
    with zipfile.ZipFile(z) as zf:
        data = zf.read("base-flux-mobilite-domicile-lieu-travail-2022.csv")
    df = pd.read_csv(io.BytesIO(data), sep=";", dtype=str, keep_default_na=False)
    return df.assign(flow=df["NBFLUX_C22_ACTOCC15P"].astype(float))


# --- files, determinism, speed ----------------------------------------------------------------------


def test_every_catalogue_file_is_written(root: Path, repo_root: Path) -> None:
    sources = load_sources(repo_root / "config" / "sources.yaml")
    smk = (repo_root / "workflow" / "rules" / "common.smk").read_text(encoding="utf-8")
    block = smk[smk.index("DEMO_SOURCES = ["):]
    listed = re.findall(r'"([a-z0-9_]+)"', block[: block.index("]")])
    assert sorted(listed) == sorted(DEMO_FILES)
    for sid, names in DEMO_FILES.items():
        assert names == [f.name for f in sources[sid].files], sid
        for name in names:
            p = root / sid / name
            assert p.is_file() and p.stat().st_size > 300, p
    assert len(_sha(root)) == 22  # nothing else is written


def test_same_seed_gives_identical_bytes(root: Path, tmp_path: Path) -> None:
    write_demo_sources(tmp_path / "b", seed=SEED, n_communes=N)
    assert _sha(tmp_path / "b") == _sha(root)
    write_demo_sources(tmp_path / "c", seed=SEED + 1, n_communes=80)
    other = _sha(tmp_path / "c")
    assert other["cget_tierslieux_2019/CGET_TiersLieux_2019.csv"] != _sha(root)[
        "cget_tierslieux_2019/CGET_TiersLieux_2019.csv"]
    assert len(_communes(tmp_path / "c")) == 80


# --- layouts equal to the real files ----------------------------------------------------------------

SAME_HEAD = {  # source file → number of leading lines (title lines + header) that must be byte-identical
    "cget_tierslieux_2019/CGET_TiersLieux_2019.csv": 1,
    "insee_grille_densite/grille_densite_7_niveaux_2024.csv": 1,
    "insee_appartenance_geo/table_appartenance_geo_communes_cog2023.csv": 1,
    "insee_appartenance_geo/aav2020_uu2020_communes_cog2024.csv": 1,
    "insee_appartenance_geo/libelles_zonages_supracommunaux_cog2023_2024.csv": 1,
    "anct_action_coeur_de_ville/acv_communes_2024.csv": 1,
    "arcep_ftth_2018t1/export/communes.csv": 5,
    "arcep_ftth_2018t1/export/ftthCommunes.csv": 5,
    "arcep_ftth_latest/arcep_ftth_pct_communes_latest.csv": 1,
}


@pytest.mark.mirror
@pytest.mark.parametrize("rel", sorted(SAME_HEAD))
def test_csv_title_and_header_lines_equal_the_mirror(root: Path, mirror: Path, rel: str) -> None:
    n = SAME_HEAD[rel]
    assert _lines(root / rel, n) == _lines(mirror / rel, n)


@pytest.mark.mirror
def test_csv_columns_and_cell_formats_follow_the_mirror(root: Path, mirror: Path) -> None:
    for rel in SAME_HEAD:
        skip = SAME_HEAD[rel] - 1
        ours, real = _csv(root / rel, skiprows=skip, nrows=50), _csv(mirror / rel, skiprows=skip, nrows=50)
        assert list(ours.columns) == list(real.columns)
        if rel.startswith("insee_appartenance_geo/libelles"):
            continue  # zone codes of several levels in one column
        for col in ours.columns:  # same field widths for codes (leading zeros kept)
            if col in ("CODGEO", "DEP", "REG", "EPCI", "AAV2020", "UU2020", "TDUU2017", "TDAAV2017", "BV2022",
                       "insee_com", "code_insee", "code_dep", "Code commune", "ZE2020", "CV", "ARR"):
                assert set(ours[col].str.len()) <= set(real[col].str.len()) | {5}, (rel, col)
    grille = (root / "insee_grille_densite/grille_densite_7_niveaux_2024.csv").read_bytes()
    assert grille.count(b"\r\n") == grille.count(b"\n")  # CRLF like the mirror
    arcep = _csv(root / "arcep_ftth_2018t1/export/communes.csv", skiprows=4)
    assert arcep["Logements"].str.fullmatch(r" (\d{1,3}( \d{3})*|-)    ").all()
    assert set(arcep["Zones très denses"]) <= {" 1    ", " -    "}


@pytest.mark.mirror
@pytest.mark.parametrize("rel", ["anct_fabriques_territoire/fabt_geom.geojson",
                                 "anct_manufactures_proximite/manuprox_geom.geojson",
                                 "anct_petites_villes_de_demain/pvd_geom.geojson",
                                 "anct_villages_avenir/va_geom.geojson"])
def test_geojson_layout_equals_the_mirror(root: Path, mirror: Path, rel: str) -> None:
    assert _lines(root / rel, 5) == _lines(mirror / rel, 5)
    ours, real = json.loads((root / rel).read_bytes()), json.loads((mirror / rel).read_bytes())
    assert list(ours["features"][0]["properties"]) == list(real["features"][0]["properties"])
    assert (root / rel).read_bytes().endswith(b"\n]\n}\n")
    assert {f["geometry"]["type"] for f in ours["features"]} <= {"Point", "GeometryCollection"}


@pytest.mark.mirror
def test_geopackages_equal_the_mirror(root: Path, mirror: Path) -> None:
    for name in DEMO_FILES["ign_admin_express_communes"]:
        ours = root / "ign_admin_express_communes" / name
        real = mirror / "ign_admin_express_communes" / name
        assert pyogrio.list_layers(ours).tolist() == pyogrio.list_layers(real).tolist()
        a, b = pyogrio.read_info(ours), pyogrio.read_info(real)
        for key in ("crs", "geometry_type", "geometry_name"):
            assert a[key] == b[key], (name, key)
        assert a["fields"].tolist() == b["fields"].tolist()
        assert a["dtypes"].tolist() == b["dtypes"].tolist()


@pytest.mark.mirror
def test_etalab_entries_use_the_real_keys(root: Path, mirror: Path) -> None:
    real = json.loads(gzip.decompress(
        (mirror / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz").read_bytes()))
    real_keys = {tuple(e) for e in real}
    ours = _etalab(root)
    assert {tuple(e) for e in ours} <= real_keys
    raw = gzip.decompress((root / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz").read_bytes())
    assert raw.startswith(b'[\n{"code":"') and raw.endswith(b"}\n]\n")


@pytest.mark.mirror
def test_raster_profile_equals_the_mirror(root: Path, mirror: Path) -> None:
    name = DEMO_FILES["eurostat_popgrid_1km"][0]
    with rasterio.open(root / "eurostat_popgrid_1km" / name) as a, \
            rasterio.open(mirror / "eurostat_popgrid_1km" / name) as b:
        assert a.crs == b.crs and a.crs.to_epsg() == 3035
        assert a.dtypes == b.dtypes == ("int32",)
        assert a.nodata == b.nodata == -1
        assert a.res == b.res == (1000.0, 1000.0)
        assert a.transform.c % 1000 == 0 and a.transform.f % 1000 == 0
        for key in ("tiled", "compress", "blockxsize"):
            assert a.profile[key] == b.profile[key]
        assert set(a.tags()) >= {"units", "source"}


@pytest.mark.mirror
def test_mobpro_layout_follows_the_official_base_flux(root: Path, mirror: Path) -> None:
    real = _lines(mirror / "insee_mobpro_idf_rp2014" / "base_flux_idf_rp2014_ge100.csv", 1)[0]
    z = root / "insee_mobpro_national" / "base-flux-mobilite-domicile-lieu-travail-2022_csv.zip"
    with zipfile.ZipFile(z) as zf:
        assert zf.namelist() == ["base-flux-mobilite-domicile-lieu-travail-2022.csv"]
        head = zf.read(zf.namelist()[0]).splitlines(keepends=True)[0]
    assert head == real.replace(b"C14", b"C22")


def test_census_2026_layout(root: Path) -> None:
    raw = (root / "france_tierslieux_2026" / "bdftl-2026-01-fiche-identite.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfID_UNIQUE;NOM;ADRESSE;CODPOST;VILLE;DEPARTEMENT_TL;REGION_TL;LATITUDE;LONGITUDE;"
                          b"INTERNET;EMAIL;TELEPHONE;")
    df = pd.read_csv(io.BytesIO(raw), sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(df.columns)[-3:] == ["familles_tiers_lieux", "initiative_origine", "état du projet"]
    assert df["LATITUDE"].str.fullmatch(r"4[5-7],\d+").all() and df["LONGITUDE"].str.fullmatch(r"[2-4],\d+").all()
    assert (df["EMAIL"] == "demo@example.invalid").all() and (df["TELEPHONE"] == "00 00 00 00 00").all()
    assert 50 <= len(df) <= 70


# --- the territory ----------------------------------------------------------------------------------


def test_communes_codes_and_classes(root: Path) -> None:
    com = _communes(root)
    assert len(com) == N and com["INSEE_COM"].is_unique
    assert com["INSEE_COM"].str.fullmatch(INSEE_RE.pattern).all()
    assert (com["INSEE_COM"].str[:2] == com["INSEE_DEP"]).all()
    assert com["INSEE_DEP"].nunique() == 3 and set(com["INSEE_REG"]) == {"84"}
    lon, lat = com.geometry.representative_point().x, com.geometry.representative_point().y
    assert lon.between(2.5, 4.5).all() and lat.between(45.8, 47.0).all()
    assert com.geometry.is_valid.all() and (com.to_crs(2154).geometry.area > 1e6).all()
    app = _csv(root / "insee_appartenance_geo" / "aav2020_uu2020_communes_cog2024.csv")
    t23 = _csv(root / "insee_appartenance_geo" / "table_appartenance_geo_communes_cog2023.csv")
    assert set(app["CODGEO"]) == set(com["INSEE_COM"])
    # one metropolis of 15–25 communes around a ~300k central city (préfecture de région)
    me = t23[t23["NATURE_EPCI"] == "ME"]
    assert me["EPCI"].nunique() == 1 and 15 <= len(me) <= 25
    assert set(t23["NATURE_EPCI"]) == {"ME", "CA", "CC"}
    central = com.loc[com["STATUT"] == "Préfecture de région"].iloc[0]
    assert central["NOM"] == "Synthèse" and 250_000 <= central["POPULATION"] <= 350_000
    assert central["SIREN_EPCI"] == me["EPCI"].iloc[0]
    # populations: heavy tail
    pop = com["POPULATION"]
    assert pop.max() / pop.median() > 200 and (pop < 200).sum() >= 10
    # medium cities: in ACV, pôles (11) of AAVs of 50k or more
    acv = _csv(root / "anct_action_coeur_de_ville" / "acv_communes_2024.csv")
    cities = app[app["CODGEO"].isin(acv["insee_com"]) & (app["CATEAAV2020"] == "11")]
    assert 2 <= len(cities) <= 3 and (cities["TAAV2017"].astype(int) >= 2).all()
    assert acv["id_acv"].nunique() == len(cities)
    # small towns in PVD are density level 3 and pôles of small AAVs
    pvd = json.loads((root / "anct_petites_villes_de_demain" / "pvd_geom.geojson").read_bytes())
    pvd_codes = [re.search(r"\((\w{5})\)", f["properties"]["liste_geo"]).group(1) for f in pvd["features"]]
    dens = _csv(root / "insee_grille_densite" / "grille_densite_7_niveaux_2024.csv").set_index("CODGEO")
    assert len(pvd_codes) >= 8 and (dens.loc[pvd_codes, "DENS"] == "3").all()
    assert set(dens["DENS"]) == {str(i) for i in range(1, 8)}
    assert (dens["PMUN21"].astype(int).to_numpy() == com.set_index("INSEE_COM").loc[dens.index, "POPULATION"]).all()
    shares = dens[[f"P{i}" for i in range(1, 8)]].astype(float).sum(axis=1)
    assert np.allclose(shares, 100, atol=0.011)
    # category codes consistent with size classes
    assert set(app["CATEAAV2020"]) == {"11", "12", "20", "30"}
    assert ((app["AAV2020"] == "000") == (app["CATEAAV2020"] == "30")).all()
    assert (app["TDAAV2017"].str[0] == app["TAAV2017"]).all()
    assert (app["TDUU2017"].str[0] == app["TUU2017"]).all()
    va = json.loads((root / "anct_villages_avenir" / "va_geom.geojson").read_bytes())
    assert len(va["features"]) >= 10


def test_etalab_arrondissements_and_communes_nouvelles(root: Path) -> None:
    e = _etalab(root)
    actual = {x["code"]: x for x in e if x["type"] == "commune-actuelle"}
    assert len(actual) == N
    arr = [x for x in e if x["type"] == "arrondissement-municipal"]
    assert len(arr) == 6 and {x["commune"] for x in arr} == {_central_code(root)}
    assert arr[0]["nom"] == "Synthèse 1er Arrondissement"
    assert sum(x["population"] for x in arr) == pytest.approx(actual[_central_code(root)]["population"], abs=6)
    nouvelles = [x for x in actual.values() if "anciensCodes" in x]
    assert len(nouvelles) >= 3
    deleg = [x for x in e if x["type"] == "commune-deleguee"]
    assert {x["chefLieu"] for x in deleg} == {x["code"] for x in nouvelles}
    olds = {c for x in nouvelles for c in x["anciensCodes"]}
    assert not olds & set(actual)
    # the commune nouvelle created in 2024 is still its former communes in the COG 2023 table
    t23 = _csv(root / "insee_appartenance_geo" / "table_appartenance_geo_communes_cog2023.csv")
    assert len(t23) > N and olds & set(t23["CODGEO"])


def _central_code(root: Path) -> str:
    com = _communes(root)
    return com.loc[com["STATUT"] == "Préfecture de région", "INSEE_COM"].iloc[0]


def test_population_grid_adds_up_to_the_communes(root: Path) -> None:
    name = DEMO_FILES["eurostat_popgrid_1km"][0]
    with rasterio.open(root / "eurostat_popgrid_1km" / name) as src:
        a = src.read(1)
    total = int(_communes(root)["POPULATION"].sum())
    assert abs(int(a[a > 0].sum()) - total) / total < 0.02
    assert (a == 0).sum() > 0 and a.min() >= 0 and a.max() > 5000


def test_cget_messy_rows_are_planted(root: Path) -> None:
    df = _csv(root / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv")
    assert 140 <= len(df) <= 160 and df["ID"].is_unique
    typo = df["TYPO"].value_counts()
    assert typo["Tiers lieux à dominante coworking"] > 2 * typo["Tiers lieux à dominante fablab"] > 0
    assert 3 <= (df["TYPO"] == "").sum() <= 10
    lat = pd.to_numeric(df["LAT"], errors="coerce")
    lon = pd.to_numeric(df["LONG"], errors="coerce")
    assert (df["LAT"] == "").sum() == 3
    assert ((lat < 10) & (lon > 40)).sum() == 2  # swapped
    assert (lat > 1e5).sum() == 1  # Lambert-93 pair
    assert df["LAT"].str.contains(",").sum() == 1  # decimal comma
    assert (df["INSEECOM"] == "0").sum() >= 3
    central = _central_code(root)
    arr_rows = df[df["INSEECOM"].str.startswith(central[:2] + "38")]
    assert len(arr_rows) >= 20 and (arr_rows["INSEEMETRO"] == central).all()
    olds = {c for x in _etalab(root) if "anciensCodes" in x for c in x["anciensCodes"]}
    assert df["INSEECOM"].isin(olds).sum() >= 1
    assert (df["MAIL"] == "demo@example.invalid").sum() == 1
    # two duplicate places: same name, 10–30 m apart
    dup = df[df["NOM_TL"].duplicated(keep=False)].sort_values(["NOM_TL", "ID"])
    assert len(dup) == 4
    for _, g in dup.groupby("NOM_TL"):
        la, lo = g["LAT"].astype(float).to_numpy(), g["LONG"].astype(float).to_numpy()
        d = np.hypot((la[0] - la[1]) * 111_200, (lo[0] - lo[1]) * 111_200 * np.cos(np.radians(la[0])))
        assert 10 < d < 30
    # a good half of the places are inside the metropolis
    assert 0.35 < (df["METRO"] == "1").mean() < 0.65


def test_census_twins_and_laureates(root: Path) -> None:
    import unicodedata

    def norm(s: str) -> str:
        s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn").lower()
        return re.sub(r"[^a-z0-9]+", " ", s).strip()

    cget = _csv(root / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv")
    cen = pd.read_csv(root / "france_tierslieux_2026" / "bdftl-2026-01-fiche-identite.csv", sep=";", dtype=str,
                      encoding="utf-8-sig", keep_default_na=False)
    names = dict(zip(cget["NOM_TL"].map(norm), zip(cget["LAT"], cget["LONG"], strict=True), strict=True))
    twins = 0
    for _, r in cen.iterrows():
        key = norm(r["NOM"])
        if key in names:
            la, lo = float(names[key][0]), float(names[key][1])
            d = np.hypot((la - float(r["LATITUDE"].replace(",", "."))) * 111_200,
                         (lo - float(r["LONGITUDE"].replace(",", "."))) * 76_000)
            assert d < 150
            twins += 1
    assert 20 <= twins <= 30
    fab = json.loads((root / "anct_fabriques_territoire" / "fabt_geom.geojson").read_bytes())["features"]
    ids = [i for f in fab for i in f["properties"]["id_territoire"].split("; ")]
    assert len(ids) == 12 and all(re.fullmatch(r"fabt-\d+", i) for i in ids)
    assert sum(f["geometry"]["type"] == "GeometryCollection" for f in fab) == 1
    assert any("; " in f["properties"]["lib_territoire"] for f in fab)
    man = json.loads((root / "anct_manufactures_proximite" / "manuprox_geom.geojson").read_bytes())["features"]
    assert sum(len(f["properties"]["id_territoire"].split("; ")) for f in man) == 5
    assert set(cget["NOM_TL"]) & {n for f in fab for n in f["properties"]["lib_territoire"].split("; ")}


def test_fibre_vintages(root: Path) -> None:
    com = _csv(root / "arcep_ftth_2018t1/export/communes.csv", skiprows=4)
    ftth = _csv(root / "arcep_ftth_2018t1/export/ftthCommunes.csv", skiprows=4)
    assert list(ftth["Champ"].unique()) == ["Locaux Raccordables", "Catégorie"]
    olds = {c for x in _etalab(root) if "anciensCodes" in x for c in x["anciensCodes"]}
    assert com["Code commune"].isin(olds).sum() >= 2  # COG 2018: pre-merger codes
    n = pd.to_numeric(com["Logements"].str.replace(" ", "").replace("-", "0")) + pd.to_numeric(
        com["Établissements"].str.replace(" ", "").replace("-", "0"))
    locaux = pd.Series(n.to_numpy(), index=com["Code commune"])
    t1 = ftth[ftth["Champ"] == "Locaux Raccordables"].set_index("Code commune")["T1 2018"].astype(int)
    share = t1 / locaux.loc[t1.index]
    assert 3 <= (share > 1).sum() <= 10
    latest = _csv(root / "arcep_ftth_latest/arcep_ftth_pct_communes_latest.csv")
    assert (latest["fibre_pct"] == "").sum() == 1  # the central city, published by arrondissement
    pct = pd.to_numeric(latest["fibre_pct"], errors="coerce")
    assert pct.max() <= 100 and pct.mean() > 100 * share.clip(upper=1).mean() + 20


def test_commuting_flows(root: Path) -> None:
    f = _flows(root)
    assert 3000 <= len(f) <= 5000
    assert f[["CODGEO", "DCLT"]].apply(lambda s: s.str.fullmatch(INSEE_RE.pattern)).all().all()
    central = _central_code(root)
    arr = f["CODGEO"].str.startswith(central[:2] + "38")
    assert arr.any() and not (f["CODGEO"] == central).any() and not (f["DCLT"] == central).any()
    com = _communes(root)
    inside = set(com["INSEE_COM"]) | set(f.loc[arr, "CODGEO"])
    assert set(f["CODGEO"]) <= inside
    outside = f[~f["DCLT"].isin(inside)]
    assert outside["DCLT"].nunique() >= 2 and outside["flow"].sum() > 0
    assert (f["CODGEO"] == f["DCLT"]).sum() > 200  # intra-commune flows
    assert 0.36 < f["flow"].sum() / com["POPULATION"].sum() < 0.47
    between = f[f["CODGEO"] != f["DCLT"]]
    app = _csv(root / "insee_appartenance_geo" / "aav2020_uu2020_communes_cog2024.csv")
    poles = set(app.loc[app["CATEAAV2020"] == "11", "CODGEO"]) | set(f.loc[arr, "CODGEO"])
    assert between.loc[between["DCLT"].isin(poles), "flow"].sum() / between["flow"].sum() > 0.4


def test_build_territory_is_pure_and_scales() -> None:
    a, b = build_territory(7, 120), build_territory(7, 120)
    pd.testing.assert_frame_equal(a.communes.drop(columns="geometry"), b.communes.drop(columns="geometry"))
    assert len(a.communes) == 120 and (a.communes["epci_nature"] == "ME").sum() >= 15
    with pytest.raises(ValueError, match="n_communes"):
        build_territory(7, 50_000)


# --- large territories (the France-scale stress case, here at 4,000 communes) -----------------------


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_large")
    write_demo_sources(out, seed=7, n_communes=4000, n_spaces=3500, n_flows=60_000)
    return out


def test_large_territory_spreads_over_departements_and_regions(large: Path) -> None:
    root = large
    com = _communes(root)
    assert len(com) == 4000 and com["INSEE_COM"].is_unique
    assert com["INSEE_COM"].str.fullmatch(INSEE_RE.pattern).all()
    assert (com["INSEE_COM"].str[:2] == com["INSEE_DEP"]).all()
    # about 380 communes per département, never the codes of the communes outside the territory
    per_dep = com.groupby("INSEE_DEP").size()
    assert len(per_dep) == 11 and per_dep.max() < 989
    assert not set(per_dep.index) & {"58", "69", "71", "20"}
    assert com.groupby("INSEE_DEP")["INSEE_REG"].nunique().max() == 1 and com["INSEE_REG"].nunique() == 2
    central = com.loc[com["STATUT"] == "Préfecture de région"].iloc[0]
    assert central["NOM"] == "Synthèse" and central["INSEE_DEP"] == "63" and central["INSEE_REG"] == "84"
    assert com.geometry.is_valid.all()
    deps = pyogrio.read_dataframe(root / "ign_admin_express_communes" / "departements_cog2024_from_communes.gpkg")
    regs = pyogrio.read_dataframe(root / "ign_admin_express_communes" / "regions_cog2024_from_communes.gpkg")
    assert len(deps) == 11 and deps["NOM_DEP"].is_unique and len(regs) == 2
    assert regs["POPULATION"].sum() == com["POPULATION"].sum()
    # every département has a préfecture; AAV and UU codes keep their official widths
    prefs = com[com["STATUT"].str.startswith("Préfecture")].groupby("INSEE_DEP").size()
    assert set(prefs.index) == set(per_dep.index)
    app = _csv(root / "insee_appartenance_geo" / "aav2020_uu2020_communes_cog2024.csv")
    assert (app["AAV2020"].str.len() == 3).all() and (app["UU2020"].str.len() == 5).all()
    t23 = _csv(root / "insee_appartenance_geo" / "table_appartenance_geo_communes_cog2023.csv")
    assert t23["EPCI"].str.fullmatch(r"\d{9}").all()
    # the requested numbers of spaces and commuting pairs
    cget = _csv(root / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv")
    census = _csv(root / "france_tierslieux_2026" / "bdftl-2026-01-fiche-identite.csv", sep=";",
                  encoding="utf-8-sig")
    assert len(cget) + len(census) == 3500 and len(cget) == 2500  # split 5:2, duplicates included
    flows = _flows(root)
    assert 0.9 * 60_000 <= len(flows) <= 60_000
    assert flows["CODGEO"].isin(com["INSEE_COM"]).mean() > 0.95 and (flows["flow"] > 0).all()
    with rasterio.open(root / "eurostat_popgrid_1km" / "eurostat_geostat_popgrid_1km_FR_2021_epsg3035.tif") as src:
        assert int(src.read(1).sum()) == int(com["POPULATION"].sum())
