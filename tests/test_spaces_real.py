"""The 'must show' numbers on the real CGET 2019 list and the ANCT laureates (mirror files)."""

from __future__ import annotations

import pandas as pd
import pytest

from coworking_geo.crosswalk import build_crosswalk, read_decoupage
from coworking_geo.spaces.locate import CommuneIndex, load_commune_polygons
from coworking_geo.spaces.mission import mission_shares
from coworking_geo.spaces.programmes import link_laureates, read_laureates
from coworking_geo.spaces.readers import read_cget_2019
from coworking_geo.spaces.register import RegisterParams, build_register


@pytest.fixture(scope="module")
def real(mirror):
    index = CommuneIndex(load_commune_polygons(mirror / "ign_admin_express_communes" / "communes_cog2024_simplifiees.gpkg"))
    cw = build_crosswalk(read_decoupage(mirror / "etalab_decoupage_administratif" / "communes_4.1.0_cog2024.json.gz"))
    df, notes = read_cget_2019([mirror / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv"], "cget_tierslieux_2019",
                               "2019-06")
    reg = build_register([df], index, cw, None, RegisterParams())
    return index, cw, df, notes, reg


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


def test_programmes_linked_to_communes(real, mirror):
    index, cw, _, _, reg = real
    lau = pd.concat([read_laureates(mirror / "anct_fabriques_territoire" / "fabt_geom.geojson", "fabriques"),
                     read_laureates(mirror / "anct_manufactures_proximite" / "manuprox_geom.geojson", "manufactures")],
                    ignore_index=True)
    assert (lau["kind"].value_counts().to_dict()) == {"fabriques": 382, "manufactures": 111}
    prog, links = link_laureates(lau, reg.spaces, index, cw, 0.5, None)
    assert len(prog) == 493 and prog["programme_id"].is_unique
    # Only Saint-Martin (97801, not a commune of the COG 2024 polygons) stays unlinked.
    assert links.loc[links["status"].eq("commune_not_found"), "declared_insee"].tolist() == ["97801"]
    # Every laureate sharing a commune with a space is either matched or listed as distinct.
    shared = links[links["n_spaces_in_commune"].gt(0)]
    assert shared["status"].isin(["matched", "distinct"]).all() and (shared["status"] == "matched").sum() >= 40
    assert links.set_index("programme_id").loc["fabt-130", "matched_space_id"] == "cget_tierslieux_2019:1403"
