"""Fast unit tests of the spaces stage on fixtures the tests write themselves (documented layouts)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from coworking_geo.errors import InputFileError
from coworking_geo.spaces.coordinates import repair_coordinates
from coworking_geo.spaces.dedup import normalise_name
from coworking_geo.spaces.locate import CommuneIndex
from coworking_geo.spaces.mission import mission_shares
from coworking_geo.spaces.places import list_changes, places_table
from coworking_geo.spaces.privacy import contains_personal, scrub_text
from coworking_geo.spaces.programmes import laureates_frame, programme_tables
from coworking_geo.spaces.readers import (
    read_cget_2019,
    read_ftl_census,
    read_generic_csv,
)
from coworking_geo.spaces.register import RegisterParams, build_register
from coworking_geo.spaces.titles import place_layers, places_title
from coworking_geo.spaces.vocabulary import TYPES, map_types

CGET_HEADER = ("ID,NOM_TL,ADRESSE,CP,COMINIT,INSEECOM,NOMCOM,WEB,TWITTER,FACEBOOK,TYPO,LAT,LONG,GEOCOD,PRECISION,"
               "CONTACT,MAIL,METRO,NOMMETRO,INSEEREG,NOMREG,INSEEMETRO,INSEEDEP,NOMCOMMETRO,POPCOM,COMCLASS,"
               "INSEE_ZE,NOM_ZE,CLASS_ZE,POP_ZE")


def cget_line(i, name, insee, lat, lon, typo="Tiers lieux à dominante coworking", prec="0.93"):
    return (f"{i},{name},1 rue X,61000,Alençon,{insee},Alençon,,,,{typo},{lat},{lon},geocod,{prec},"
            f"Jean Dupont,jean@example.org,0,,28,Normandie,,61,,,,,,,")


@pytest.fixture
def communes() -> gpd.GeoDataFrame:
    """Four 0.1° squares near Alençon (Orne) standing in for commune polygons: A | B on top, C | D below."""
    cells = {"61001": (0.0, 48.4), "61002": (0.1, 48.4), "61003": (0.0, 48.3), "61004": (0.1, 48.3)}
    return gpd.GeoDataFrame(
        {"insee_code": list(cells), "name": ["Aville", "Bville", "Cville", "Dville"]},
        geometry=[box(x, y, x + 0.1, y + 0.1) for x, y in cells.values()], crs=4326)


@pytest.fixture
def index(communes) -> CommuneIndex:
    return CommuneIndex(communes.copy())


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_vocabulary_maps_source_labels():
    got = map_types(pd.Series(["Tiers lieux à dominante coworking", "Tiers lieux à dominante fablab", None,
                               "Bureaux partagés / coworking, Tiers-lieu nourricier", "Salle des fêtes"]))
    assert got.tolist() == ["coworking", "fablab", "", "coworking;nourricier", "autre"]
    assert set(TYPES) >= {"coworking", "fablab", "atelier", "nourricier", "culturel", "numerique", "autre"}


def test_coordinate_repairs():
    r = repair_coordinates(pd.Series(["48,43", "0.15", "6834000", "12", "", "48.35"]),
                           pd.Series(["0,05", "48.35", "490000", "13", "", "0.05"]))
    assert r.fixes.tolist() == ["decimal_comma", "swapped", "lambert93", "outside_france", "missing", ""]
    assert r.lat[0] == pytest.approx(48.43) and r.lon[1] == pytest.approx(0.15) and r.lat[1] == pytest.approx(48.35)
    # Lambert-93 (490000, 6834000) is near Alençon: 0.153° E, 48.572° N.
    assert (r.lon[2], r.lat[2]) == (pytest.approx(0.1529, abs=1e-3), pytest.approx(48.5721, abs=1e-3))
    assert r.valid.tolist() == [True, True, True, False, False, True]


def test_name_normalisation():
    assert normalise_name(pd.Series(["Le Coworking Républic!", "COWORKING"])).tolist() == ["republic", "coworking"]


def test_cget_reader_drops_personal_data_and_rescales(tmp_path):
    f = write(tmp_path / "cget.csv", "\n".join([CGET_HEADER, cget_line(1, "Alpha", "61001", "48.45", "0.05"),
                                                cget_line(2, "Beta", "0", "48.45", "0.15", typo="", prec="9")]) + "\n")
    df, notes = read_cget_2019([f], "cget", "2019-06")
    assert notes["personal_columns_dropped"] == ["CONTACT", "MAIL"]
    assert not df.apply(lambda c: c.astype(str).str.contains("example.org|Dupont")).any().any()
    assert df["geocode_score"].tolist() == [0.93, 0.9] and df["precision_rescaled"].tolist() == [False, True]
    assert df["types"].tolist() == ["coworking", ""] and df["declared_insee"].tolist() == ["61001", "0"]


def test_ftl_2026_layout(tmp_path):
    f = write(tmp_path / "ftl26.csv",
              "ID_UNIQUE;NOM;ADRESSE;CODPOST;VILLE;DEPARTEMENT_TL;REGION_TL;LATITUDE;LONGITUDE;INTERNET;EMAIL;"
              "TELEPHONE;familles_tiers_lieux\n"
              "TL1;La Forge;2 rue Y;61000;Bville;Orne;Normandie;48,45;0,15;;a@b.fr;0601020304;"
              "Fablab / makerspace / hackerspace, Tiers-lieu culturel / lieu intermédiaire\n", "utf-8-sig")
    df, notes = read_ftl_census([f], "ftl26", "2026")
    assert notes["layout"] == "2026" and {"EMAIL", "TELEPHONE"} <= set(notes["personal_columns_dropped"])
    assert df.loc[0, "types"] == "fablab;culturel" and df.loc[0, "lat_raw"] == "48,45"
    assert pd.isna(df.loc[0, "declared_insee"]) and df.loc[0, "city"] == "Bville"


def test_ftl_2023_joins_activities(tmp_path):
    ident = write(tmp_path / "id.csv", "ID_UNIQUE;NOM;Insee;NOM_STRC_PORT;ADRESSE;CODPOST;VILLE;INTERNET\n"
                                       "A1;Le Lieu;61003;Asso;1 rue;61000;Cville;\nA2;Autre Lieu;61004;;;;;\n")
    act = write(tmp_path / "act.csv", "ID_UNIQUE;TYPE_ACT_NUMER;OFFRE_NUM_FABR;OFFRE_NUM_INCLU;OFFRE_NUM_MENUM;EQPT_NUM\n"
                                      "A1;1;1;0;0;1\nA2;0;0;0;0;0\n")
    df, notes = read_ftl_census([ident, act], "ftl23", "2023")
    assert notes["layout"] == "2023" and notes["activities_joined"] == 2
    assert df["types"].tolist() == ["fablab;numerique", ""] and df["declared_insee"].tolist() == ["61003", "61004"]


def test_generic_csv_with_mapping(tmp_path):
    f = write(tmp_path / "reseau.csv", "nom\tx\ty\tcommune\tmail\nTiers A\t0.05\t48.35\t61003\tz@z.fr\n")
    df, notes = read_generic_csv([f], "reseau", "2025", {"name": "nom", "lon": "x", "lat": "y", "insee": "commune"},
                                 types_default="coworking")
    assert notes["sep"] == "\t" and notes["personal_columns_dropped"] == ["mail"]
    assert df.loc[0, ["name", "types", "declared_insee", "lon_raw"]].tolist() == ["Tiers A", "coworking", "61003", "0.05"]


@pytest.mark.parametrize("content,encoding,problem", [
    ("", "utf-8", "the file is empty"),
    (CGET_HEADER.replace(",", ":") + "\n1:a\n", "utf-8", "separator"),
    ("ID,NOM_TL,LAT,LONG\n1,a,48.4,0.1\n", "utf-8", "missing required column(s) ['INSEECOM']"),
    (CGET_HEADER + "\n" + "\n".join(cget_line(i, "CafÃ© Ã©tÃ©", "61001", "48.4", "0.1") for i in range(10)) + "\n",
     "utf-8", "mis-encoded"),
    (CGET_HEADER + "\n" + cget_line(1, "Le Lieu", "61001", "48.4", "0.1"), "utf-8", "line 2: the last line has no end"),
])
def test_bad_files_give_one_clear_error(tmp_path, content, encoding, problem):
    f = write(tmp_path / "bad.csv", content, encoding)
    with pytest.raises(InputFileError) as err:
        read_cget_2019([f], "cget", "2019")
    assert str(f) in str(err.value) and problem in str(err.value)


def test_latin1_is_accepted_and_recorded(tmp_path):
    f = write(tmp_path / "l1.csv", CGET_HEADER + "\n" + cget_line(1, "Café de l'Été", "61001", "48.45", "0.05") + "\n",
              "latin-1")
    df, notes = read_cget_2019([f], "cget", "2019")
    assert notes["encoding"] == "cp1252" and df.loc[0, "name"] == "Café de l'Été"


def test_every_coordinate_invalid_is_an_error(tmp_path, index):
    f = write(tmp_path / "c.csv", CGET_HEADER + "\n" + cget_line(1, "A", "61001", "123", "456") + "\n"
              + cget_line(2, "B", "61001", "abc", "") + "\n")
    df, _ = read_cget_2019([f], "cget", "2019")
    with pytest.raises(InputFileError, match="every coordinate is invalid"):
        build_register([df], index, None, None, RegisterParams(), files={"cget": str(f)})


def test_register_accounting_border_duplicates_and_fallback(tmp_path, index):
    lines = [
        cget_line(1, "Alpha", "61001", "48.45", "0.05"),                 # in its commune
        cget_line(2, "Coworking Alpha", "61001", "48.4505", "0.0508"),   # same name, 70 m away: merged
        cget_line(3, "Border", "61001", "48.45", "0.105"),               # 370 m into B, declared A: kept as A
        cget_line(4, "Far", "61001", "48.35", "0.15"),                   # in D, 6.7 km from A: mismatch
        cget_line(5, "Swapped", "61004", "0.15", "48.35"),               # swapped axes → D
        cget_line(6, "Nowhere", "61003", "12.0", "13.0"),                # outside France → centroid of C
        cget_line(7, "Lost", "0", "", ""),                               # nothing usable: rejected
        cget_line(8, "Other dep", "61002", "48.45", '"0,15"'),             # decimal comma; outside the territory
    ]
    f = write(tmp_path / "c.csv", CGET_HEADER + "\n" + "\n".join(lines) + "\n")
    df, _ = read_cget_2019([f], "cget", "2019")
    reg = build_register([df], index, None, {"61001", "61003", "61004"}, RegisterParams())
    rows = reg.rows.set_index("row")
    assert rows["status"].to_dict() == {1: "kept", 2: "merged", 3: "kept", 4: "kept", 5: "kept", 6: "kept",
                                        7: "rejected", 8: "outside_territory"}
    assert rows.loc[3, "insee_code"] == "61001" and "near_border_declared_kept" in rows.loc[3, "qa_flags"]
    assert rows.loc[4, "insee_code"] == "61004" and "declared_mismatch" in rows.loc[4, "qa_flags"]
    assert rows.loc[4, "declared_distance_km"] == pytest.approx(6.68, abs=0.05)  # 3.7 km east, 5.6 km south
    assert rows.loc[5, "insee_code"] == "61004" and "swapped" in rows.loc[5, "qa_flags"]
    assert rows.loc[6, "location_precision"] == "commune" and rows.loc[6, "lat"] == pytest.approx(48.35)
    assert "decimal_comma" in rows.loc[8, "qa_flags"]
    q = reg.quality.set_index("source").loc["cget"]
    assert (q["input_rows"], q["kept"], q["merged"], q["rejected"], q["outside_territory"]) == (8, 5, 1, 1, 1)
    assert bool(q["balanced"]) and q["fix_swapped"] == 1 and q["fix_merged_into"] == 1
    assert reg.rejected["reason"].tolist() == ["no coordinates and an unknown commune code"]  # INSEECOM "0"
    assert list(reg.spaces.columns[:16]) == ["space_id", "source", "source_id", "name", "types", "address", "postcode",
                                             "declared_insee", "insee_code", "lon", "lat", "location_precision",
                                             "qa_flags", "fabrique", "manufacture", "vintage"]
    assert list(reg.spaces.columns[16:19]) == ["labels", "sources", "vintages"]
    assert reg.spaces["vintage"].tolist() == [2019] * 5 and reg.spaces["sources"].eq("cget").all()
    assert reg.spaces.crs.to_epsg() == 4326 and reg.spaces["space_id"].is_unique


def test_laureates_are_places_of_the_register(index, tmp_path):
    """One place per laureate at its commune's centroid; matched with a list place of its commune when the
    names are alike (one place, both labels); Manufacture = Fabrique of the same commune; unknown code rejected."""
    lines = [cget_line(1, "La Fabrique du Bocage", "61001", "48.41", "0.01"), cget_line(2, "Cowork B", "61001", "48.49", "0.09")]
    cg, _ = read_cget_2019([write(tmp_path / "c.csv", CGET_HEADER + "\n" + "\n".join(lines) + "\n")], "cget", "2019-06")
    lau = pd.DataFrame({"programme_id": ["fabt-1", "fabt-2", "fabt-3", "fabt-4"],
                        "kind": ["fabriques"] * 4, "name": ["Fabrique du Bocage", "Asso Z", "Atelier Q", "Lost"],
                        "declared_insee": ["61001", "61001", "61004", "97801"], "pii_scrubbed": ""})
    man = pd.DataFrame({"programme_id": ["manuprox-1"], "kind": ["manufactures"], "name": ["Atelier Q"],
                        "declared_insee": ["61004"], "pii_scrubbed": ""})
    frames = [cg, laureates_frame(lau, "anct_fabriques_territoire", "2024-09"),
              laureates_frame(man, "anct_manufactures_proximite", "2024-09")]
    reg = build_register(frames, index, None, None, RegisterParams())
    sp = reg.spaces.set_index("space_id")
    assert len(sp) == 2 + 2  # fabt-1 merged into cget:1, manuprox-1 into fabt-3, fabt-4 rejected
    assert sp.loc["cget:1", "labels"] == "fabrique" and sp.loc["cget:1", "fabrique"] == "fabt-1"
    assert sp.loc["cget:1", "sources"] == "cget;anct_fabriques_territoire" and sp.loc["cget:1", "vintages"] == "2019;2024"
    assert sp.loc["cget:1", "types"] == "coworking" and sp.loc["cget:1", "vintage"] == 2019  # list type unchanged
    q3 = sp.loc["anct_fabriques_territoire:fabt-3"]
    assert (q3["labels"], q3["manufacture"], q3["types"], q3["location_precision"]) == (
        "fabrique;manufacture", "manuprox-1", "tiers-lieu", "commune")
    assert (q3["lon"], q3["lat"]) == (pytest.approx(0.15), pytest.approx(48.35))  # centroid of 61004
    q = reg.quality.set_index("source")
    assert q.loc["anct_fabriques_territoire", ["input_rows", "kept", "merged", "rejected"]].tolist() == [4, 2, 1, 1]
    assert q["balanced"].all()
    assert reg.rejected["reason"].tolist() == [
        "no coordinates and an unknown commune code: 97801 is not a commune of the COG 2024 polygons"]
    prog, links = programme_tables(reg.rows)
    assert links["status"].tolist() == ["matched", "distinct", "no_space_in_commune", "commune_not_found", "with_fabrique"]
    assert links.loc[1, "distinct_space_ids"] == "cget:1;cget:2" and len(prog) == 4
    assert places_title(reg.spaces) == "Lieux recensés en 2019 (CGET) et lauréats 2024 des programmes de l\u2019ANCT"
    layers = {lay.name: int(lay.mask.sum()) for lay in place_layers(reg.spaces)}
    assert layers == {"Lieux recensés en 2019 (CGET)": 2, "Fabriques de territoire (lauréats 2024)": 3,
                      "Manufactures de proximité (lauréats 2024)": 1}


def test_change_between_two_vintages_of_lists(index, tmp_path):
    """CGET 2019 vs the 2026 census: counted once in the register, compared (not added up) in the change table."""
    lines = [cget_line(1, "La Forge", "61001", "48.45", "0.05"), cget_line(2, "Le Hangar", "61002", "48.45", "0.15")]
    cg, _ = read_cget_2019([write(tmp_path / "c.csv", CGET_HEADER + "\n" + "\n".join(lines) + "\n")], "cget_tierslieux_2019",
                           "2019-06")
    census = write(tmp_path / "ftl26.csv",
                   "ID_UNIQUE;NOM;ADRESSE;CODPOST;VILLE;LATITUDE;LONGITUDE;DATE_OUV\n"
                   "T1;La Forge;;61000;Aville;48,45;0,05;2017\n"          # the same place as CGET 1
                   "T2;Les Ateliers;;61000;Cville;48,35;0,05;2022\n"      # opened after 2019
                   "T3;Le Moulin;;61000;Dville;48,35;0,15;2012\n", "utf-8-sig")  # older, new to the list
    ftl, _ = read_ftl_census([census], "france_tierslieux_2026", "2026")
    reg = build_register([cg, ftl], index, None, None, RegisterParams())
    assert len(reg.spaces) == 4
    assert reg.spaces.set_index("space_id").loc["cget_tierslieux_2019:1", "vintages"] == "2019;2026"
    communes = pd.DataFrame({"insee_code": ["61001", "61002", "61003", "61004"], "name": ["A", "B", "C", "D"],
                             "reg_code": "28", "territory_class": ["petite_ville", "petite_ville", "rural", "rural"]})
    ch = list_changes(reg.rows, communes).set_index("territory_class")
    assert ch.loc["petite_ville", ["in_both", "only_older", "only_newer"]].tolist() == [1, 1, 0]
    assert ch.loc["rural", ["in_both", "only_older", "only_newer", "opened", "new_to_list"]].tolist() == [0, 0, 2, 1, 1]
    assert (ch["older"] + ">" + ch["newer"]).eq("cget_tierslieux_2019>france_tierslieux_2026").all()
    assert list_changes(reg.rows[reg.rows["source"].eq("cget_tierslieux_2019")], communes).empty
    places = places_table(reg.spaces, communes, {"cget_tierslieux_2019": "Licence Ouverte 2.0"})
    assert places.set_index("space_id").loc["cget_tierslieux_2019:1", "licence"] == "Licence Ouverte 2.0;licence non précisée"
    assert places.set_index("space_id").loc["cget_tierslieux_2019:2", "licence"] == "Licence Ouverte 2.0"
    assert places.set_index("space_id").loc["france_tierslieux_2026:T2", "licence"] == "licence non précisée"
    assert places.set_index("space_id").loc["france_tierslieux_2026:T2", "commune"] == "C"
    assert places_title(reg.spaces) == "Lieux recensés en 2019 (CGET) et recensement 2026 de France Tiers-Lieux"


@pytest.mark.parametrize("text, clean, kinds", [
    ("SCENE NATIONALE 61 bdd h.s = modifier mail alimoes@scenenationale61.fr", "SCENE NATIONALE 61 bdd h.s = modifier mail",
     ["email"]),
    ("Le Lieu, tél. 02 33 26 00 00", "Le Lieu, tél.", ["phone"]),
    ("Contact +33 6 12 34 56 78 / 0033 (0)1 23 45 67 89", "Contact", ["phone"]),
    ("https://lieu.fr/inscription?token=8f2a&user=jdupont", "https://lieu.fr/inscription", ["url_token"]),
    ("https://lieu.fr/agenda?page=2", "https://lieu.fr/agenda?page=2", []),
    ("BUROL@B, 12 rue de Paris 75001, SIRET 12345678901234, 48.0612345678", None, []),
    ("Accueil tél.0612345678", "Accueil tél.", ["phone"]),
    # a map element's random hex id (folium) is not a phone number
    ('<div id="map_c0131388751f4e2a"></div> circle_marker_a0131388751b', None, []),
])
def test_scrub_text(text, clean, kinds):
    out, got = scrub_text(text)
    assert got == kinds and out == (text if clean is None else clean)
    assert not contains_personal(out)


def test_mission_shares():
    spaces = pd.DataFrame({"source": "cget", "types": ["coworking", "coworking", "coworking", "fablab", ""],
                           "insee_code": ["A", "B", "B", "A", "A"]})
    communes = pd.DataFrame({"insee_code": ["A", "B"], "metropolis": [True, False]})
    t = mission_shares(spaces, communes, source="cget").set_index("indicator")
    assert t.loc["coworking_share_of_typed", "ours"] == 0.75 and t.loc["outside_metropolises_share", "numerator"] == 2
