"""The 'must show' numbers on the real CGET 2019 list and the ANCT laureates (mirror files)."""

from __future__ import annotations

import pandas as pd
import pytest

from coworking_geo.territories.crosswalk import build_crosswalk, read_decoupage
from coworking_geo.spaces.locate import CommuneIndex, load_commune_polygons
from coworking_geo.spaces.mission import mission_shares
from coworking_geo.spaces.privacy import contains_personal
from coworking_geo.spaces.programmes import laureates_frame, programme_tables, read_laureates
from coworking_geo.spaces.readers import read_cget_2019
from coworking_geo.spaces.register import RegisterParams, build_register
from coworking_geo.spaces.titles import places_title


@pytest.fixture(scope="module")
def real(mirror):
    index = CommuneIndex(load_commune_polygons(mirror / "ign_admin_express_communes" / "communes_cog2024_simplifiees.gpkg"))
    cw = build_crosswalk(read_decoupage(mirror / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz"))
    df, notes = read_cget_2019([mirror / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv"], "cget_tierslieux_2019",
                               "2019-06")
    reg = build_register([df], index, cw, None, RegisterParams())
    return index, cw, df, notes, reg


@pytest.fixture(scope="module")
def full(real, mirror):
    """The France register as the workflow builds it: the CGET list, then the two programmes' laureates."""
    index, cw, df, _, _ = real
    lau = [read_laureates(mirror / "anct_fabriques_territoire" / "fabt_geom.geojson", "fabriques"),
           read_laureates(mirror / "anct_manufactures_proximite" / "manuprox_geom.geojson", "manufactures")]
    frames = [df, laureates_frame(lau[0], "anct_fabriques_territoire", "2024-09"),
              laureates_frame(lau[1], "anct_manufactures_proximite", "2024-09")]
    return lau, build_register(frames, index, cw, None, RegisterParams())


def test_cget_counts_and_accounting(real):
    _, _, df, notes, reg = real
    assert len(df) == 1512 and notes["personal_columns_dropped"] == ["CONTACT", "MAIL"]
    q = reg.quality.set_index("source").loc["cget_tierslieux_2019"]
    assert (q["kept"], q["merged"], q["rejected"], q["outside_territory"]) == (1500, 12, 0, 0)
    assert q["kept"] + q["merged"] + q["rejected"] + q["outside_territory"] == 1512
    assert q["fix_declared_invalid"] == 157 and q["fix_precision_rescaled"] == 81
    assert q["well_geocoded_rows"] > 1000 and q["in_declared_share"] >= 0.97
    # The one far disagreement: SICTIAM, declared 14327 (Calvados) but placed in Sophia Antipolis (Valbonne, 06152).
    far = reg.fixes[reg.fixes["fix"].eq("declared_mismatch")]
    assert far["source_id"].tolist() == ["1460"] and "06152" in far["detail"].iloc[0]


def test_cget_known_duplicates_merged(real):
    rows = real[4].rows
    merged = rows[rows["status"].eq("merged")]
    assert {"Coworking Republic", "Yelloworking"} <= set(merged["name"])
    assert merged.loc[merged["name"].eq("Coworking Republic"), "merged_into_id"].item() == "cget_tierslieux_2019:730"
    # Paris arrondissement codes resolve to Paris; overseas rows (INSEECOM '0') are located by their point.
    assert rows.loc[rows["declared_insee"].eq("75103"), "insee_code"].eq("75056").all()
    over = rows[rows["insee_code"].str.startswith("97").fillna(False)]
    assert len(over) == 6 and set(over["insee_code"].str.slice(0, 3)) == {"971", "972", "973", "974"}


def test_mission_shares_recomputed(real, mirror):
    reg = real[4]
    app = pd.read_csv(mirror / "insee_appartenance_geo" / "table_appartenance_geo_communes_cog2023.csv", dtype=str)
    communes = pd.DataFrame({"insee_code": app["CODGEO"], "metropolis": app["NATURE_EPCI"].isin(["ME", "METLYON"])})
    t = mission_shares(reg.spaces, communes).set_index("indicator")
    assert t.loc["coworking_share_of_typed", "ours"] == pytest.approx(0.76, abs=0.01)
    assert t.loc["outside_metropolises_share", "ours"] == pytest.approx(674 / 1463, abs=0.01)
    assert t.loc["coworking_share_of_typed", "denominator"] == 1454  # 1,463 typed minus 9 merged duplicates


def test_laureates_are_places_once(full):
    lau, reg = full
    assert [len(x) for x in lau] == [382, 111]
    q = reg.quality.set_index("source")
    for src, n in (("anct_fabriques_territoire", 382), ("anct_manufactures_proximite", 111),
                   ("cget_tierslieux_2019", 1512)):
        assert q.loc[src, "input_rows"] == n == q.loc[src, ["kept", "merged", "rejected", "outside_territory"]].sum()
    assert q.loc["cget_tierslieux_2019", "kept"] == 1500          # the list itself is unchanged
    # Saint-Martin (97801, empty geometry, not a COG 2024 commune) is the only laureate rejected, with its reason.
    rej = reg.rejected[reg.rejected["source"].str.startswith("anct_")]
    assert rej["source_id"].tolist() == ["fabt-364"]
    assert "97801 is not a commune of the COG 2024 polygons" in rej["reason"].item()
    sp = reg.spaces
    assert sp["space_id"].is_unique and len(sp) == q.loc["total", "kept"]
    n_fab = sp["labels"].str.split(";").map(lambda x: "fabrique" in x).sum()
    assert n_fab >= 300 and n_fab == sp["fabrique"].ne("").sum()
    # every laureate id is carried by exactly one place
    ids = sp["fabrique"][sp["fabrique"].ne("")].str.split(";").explode()
    assert ids.is_unique and len(ids) == 381
    alone = sp[sp["source"].str.startswith("anct_")]
    assert alone["location_precision"].eq("commune").all() and alone["types"].eq("tiers-lieu").all()
    assert alone["vintage"].eq(2024).all() and sp.loc[sp["source"].eq("cget_tierslieux_2019"), "vintage"].eq(2019).all()
    # a laureate matched with a CGET place: one place with both (fabt-130 is the CGET place 1403)
    both = sp.set_index("space_id").loc["cget_tierslieux_2019:1403"]
    assert "fabt-130" in both["fabrique"].split(";") and both["sources"].startswith("cget_tierslieux_2019;anct_")
    prog, links = programme_tables(reg.rows)
    assert links["status"].eq("matched").sum() >= 40 and len(links) == 493 and len(prog) == 492
    assert places_title(sp) == "Lieux recensés en 2019 (CGET) et lauréats 2024 des programmes de l\u2019ANCT"


def test_no_personal_data_in_the_register(full):
    """ANCT wrote an e-mail inside a laureate's name: scrubbed at reading, counted in the fixes."""
    _, reg = full
    text = reg.spaces[["name", "address"]].astype("string").fillna("")
    assert not text.map(contains_personal).any().any()
    fx = reg.fixes[reg.fixes["fix"].eq("pii_scrubbed")]
    fab = fx[fx["source"].eq("anct_fabriques_territoire")]
    assert fab["detail"].tolist() == ["lib_territoire:email"]
    name = reg.spaces.set_index("space_id").loc["anct_fabriques_territoire:" + fab["source_id"].item(), "name"]
    assert name.startswith("SCENE NATIONALE 61") and "@" not in name
    assert reg.quality.set_index("source").loc["total", "fix_pii_scrubbed"] == len(fx)


def test_mission_shares_on_cget_rows_unchanged_by_laureates(real, full, mirror):
    app = pd.read_csv(mirror / "insee_appartenance_geo" / "table_appartenance_geo_communes_cog2023.csv", dtype=str)
    communes = pd.DataFrame({"insee_code": app["CODGEO"], "metropolis": app["NATURE_EPCI"].isin(["ME", "METLYON"])})
    alone = mission_shares(real[4].spaces, communes)
    with_laureates = mission_shares(full[1].spaces, communes)
    pd.testing.assert_frame_equal(alone, with_laureates)
    assert with_laureates.set_index("indicator").loc["coworking_share_of_typed", "denominator"] == 1454
