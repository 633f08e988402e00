"""territory_class on INSEE's density grid × AAV 2020: synthetic cases per step, and the official record on France."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from coworking_geo import communes as cm
from coworking_geo.classify import (
    RURAL_CLASSES,
    TERRITORY_CLASSES,
    density_class,
    in_metropolis,
    is_rural,
    territory_class,
    territory_class_vs_official,
)
from coworking_geo.errors import InputFileError

RULES = {"rural_density_levels": [5, 6, 7], "very_sparse_density_levels": [6, 7],
         "metropole_aav_min_population": 200000, "pole_categories": [11, 12], "couronne_categories": [20],
         "suburb_density_levels": [4], "medium_city_min_population": 10000, "max_unknown_share": 0.001}


def _frame(rows):
    cols = ["aav_category", "aav_size_class", "density_level", "population"]
    df = pd.DataFrame(rows, columns=cols)
    for c in cols:
        df[c] = df[c].astype("Int64")
    return df


def test_rule_order_and_thresholds():
    df = _frame([
        (11, 5, 1, 500000),    # pôle of Paris's AAV → metropole
        (12, 3, 2, 40000),     # pôle of a 200–700k AAV → metropole
        (11, 2, 2, 30000),     # centre of a 50–200k AAV → ville_moyenne
        (11, 1, 3, 12000),     # centre of a small AAV, 10,000+ → ville_moyenne
        (11, 1, 3, 8000),      # … under 10,000 → petite_ville
        (20, 4, 4, 9000),      # urban couronne → periurbain
        (30, 0, 4, 3000),      # ceinture urbaine outside any AAV → periurbain
        (13, 5, 1, 22000),     # dense secondary pôle of Paris → ville_moyenne, never rural
        (20, 3, 6, 400),       # density-rural in a couronne → rural_sous_influence
        (11, 2, 5, 2500),      # rural pôle commune → autonomous, peu dense
        (30, 0, 7, 100),       # outside the AAVs, very sparse → très peu dense
        (11, 5, 6, 2000),      # rural, even in the pôle of a 700k+ AAV: never metropole
        (None, None, 3, 5000),  # urban, no AAV category → unknown
        (20, 2, None, 500),    # no density level → unknown
        (None, None, 6, 300),  # rural, no AAV category: rural, sub-type not known
    ])
    assert territory_class(df, RULES).tolist() == [
        "metropole", "metropole", "ville_moyenne", "ville_moyenne", "petite_ville", "periurbain", "periurbain",
        "ville_moyenne", "rural_sous_influence", "rural_autonome_peu_dense", "rural_autonome_tres_peu_dense",
        "rural_autonome_tres_peu_dense", "unknown", "unknown", "rural_influence_inconnue"]
    # thresholds come from config
    stricter = territory_class(df, {**RULES, "metropole_aav_min_population": 700000}).tolist()
    assert stricter[1] == "ville_moyenne" and stricter[0] == "metropole"
    assert territory_class(df, {**RULES, "medium_city_min_population": 5000}).tolist()[4] == "ville_moyenne"


def test_density_class_rural_and_metropolis():
    lv = pd.Series([1, 2, 3, 4, 5, 6, 7, None], dtype="Int64")
    assert density_class(lv).tolist()[:7] == ["dense"] + ["intermediate"] * 3 + ["rural"] * 3
    assert pd.isna(density_class(lv).iloc[7])
    assert is_rural(lv).tolist() == [False] * 4 + [True] * 3 + [False]
    assert in_metropolis(pd.Series(["ME", "METLYON", "CU", None], dtype="string")).tolist() == [True, True, False, False]


def test_config_defaults_match_the_documented_rule(repo_root):
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text(encoding="utf-8"))
    assert cfg["territories"]["classification"] == RULES


def test_unknown_beyond_the_share_fails_naming_the_file(tmp_path):
    df = _frame([(11, 2, 2, 30000)] * 998 + [(None, None, 2, 100)] * 2).assign(
        insee_code=[f"{i:05d}" for i in range(1000)])
    df["territory_class"] = territory_class(df, RULES)
    issues = cm.unclassified(df, tmp_path / "dens.csv", tmp_path / "aav.csv", max_share=0.01)
    assert issues["status"].eq("unclassified").sum() == 2
    with pytest.raises(InputFileError, match=r"aav\.csv.*2 communes \(0\.20% of communes"):
        cm.unclassified(df, tmp_path / "dens.csv", tmp_path / "aav.csv", max_share=0.001)


@pytest.fixture(scope="module")
def france(france_build):
    return france_build[0].drop(columns="geometry").set_index("insee_code")


@pytest.mark.parametrize("code, name, expected", [
    ("69123", "Lyon", "metropole"),                          # pôle of Lyon's AAV (700k+)
    ("75056", "Paris", "metropole"),
    ("58194", "Nevers", "ville_moyenne"),                    # centre of a 50–200k AAV
    ("48095", "Mende", "ville_moyenne"),                     # centre of a small AAV, 12,316 inhabitants
    ("78646", "Versailles", "metropole"),                    # pôle of Paris's AAV, outside the MGP
    ("95127", "Cergy", "metropole"),
    ("61397", "Saint-Germain-du-Corbéis", "periurbain"),     # couronne of Alençon
    ("61017", "Les Authieux-du-Puits", "rural_autonome_tres_peu_dense"),
])
def test_named_communes(france, code, name, expected):
    row = france.loc[code]
    assert row["name"] == name
    assert row["territory_class"] == expected


def test_named_communes_across_the_two_axes(france):
    dammarie = france.loc["77152"]  # dense secondary pôle (CATEAAV 13) of Paris's AAV
    assert dammarie["name"] == "Dammarie-les-Lys" and dammarie["aav_category"] == 13
    assert dammarie["territory_class"] not in RURAL_CLASSES and not dammarie["rural"]
    dalmas = france.loc["06119"]  # density-rural commune of Nice Côte d'Azur métropole
    assert dalmas["name"] == "Saint-Dalmas-le-Selvage" and dalmas["metropolis"]
    assert dalmas["territory_class"] in RURAL_CLASSES and dalmas["rural"]
    assert france.loc["61017", "rural"]


def test_france_rural_is_insee_rural(france):
    """INSEE 2021: rural = density levels 5–7; every such commune in a rural class, no other."""
    level = france["density_level"]
    in_rural_class = france["territory_class"].isin(RURAL_CLASSES)
    assert (in_rural_class == level.isin([5, 6, 7])).all()
    assert (france["rural"] == level.isin([5, 6, 7])).all()
    pop = france.loc[in_rural_class, "population"].sum()
    assert pop == pytest.approx(22.0e6, abs=0.1e6)
    assert int(in_rural_class.sum()) == 30743
    # density-rural communes of a metropolis EPCI are rural, and keep their metropolis flag
    assert int((in_rural_class & france["metropolis"]).sum()) >= 200
    assert not france.loc[france["territory_class"].eq("metropole"), "rural"].any()


def test_france_classes_and_unknown(france):
    counts = france["territory_class"].value_counts()
    assert counts.sum() == 34935 and set(counts.index) <= set(TERRITORY_CLASSES)
    # only the three 2024 communes without CATEAAV2020 in the derived AAV table (all three density-rural)
    assert sorted(france.index[france["territory_class"].eq("rural_influence_inconnue")]) == ["60694", "85165", "85212"]
    assert not france["territory_class"].eq("unknown").any()
    # the mission's 22 metropolises stay a flag: 970 communes
    assert int(france["metropolis"].sum()) == 970


def test_class_vs_official_table(france, mirror):
    ruralite = cm.read_ruralite(mirror / "anct_typologies_communes" / "ruralite.csv")
    tab = territory_class_vs_official(france.reset_index(), ruralite)
    anct = tab[tab["reference"].eq("anct_ruralite")]
    assert anct["communes"].sum() == 34935
    # ANCT's rural typology covers the mainland rural communes: it agrees with INSEE's rural for 99 % of them
    comparable = anct[anct["agreement"].ne("not comparable")]
    assert comparable.loc[comparable["agreement"].eq("yes"), "communes"].sum() / comparable["communes"].sum() > 0.99
    dens = tab[tab["reference"].eq("insee_density_level")]
    assert dens["communes"].sum() == 34935
    rural_cells = dens[dens["official"].isin(["5", "6", "7"])]
    assert set(rural_cells["territory_class"]) <= set(RURAL_CLASSES) and rural_cells["agreement"].eq("yes").all()
    assert dens["agreement"].eq("yes").all()
    assert dens.loc[dens["official"].isin(["5", "6", "7"]), "population"].sum() == pytest.approx(22.0e6, abs=0.1e6)


@pytest.mark.slow
def test_a_cut_aav_table_stops_the_run_naming_it(repo_root, mirror, tmp_path):
    """Through the real rule: half of the AAV table gone → non-zero exit, the file and the share named."""
    import os
    import shutil
    import subprocess
    import sys

    wf = tmp_path / "wf"
    wf.mkdir()
    shutil.copy(repo_root / "Snakefile", wf / "Snakefile")
    for folder in ("config", "workflow"):
        shutil.copytree(repo_root / folder, wf / folder)
    # without the declared sizes and row counts (docs/integrity.md), which would stop the retrieve step first:
    # this test shows the classification's own guard
    yml = wf / "config" / "sources.yaml"
    yml.write_text(re.sub(r"(?m)^\s+(sha256|size|rows|totals): .*\n", "", yml.read_text(encoding="utf-8")),
                   encoding="utf-8")
    cut = tmp_path / "mirror"
    cut.mkdir()
    for d in mirror.iterdir():
        (cut / d.name).symlink_to(d)
    (cut / "insee_appartenance_geo").unlink()
    (cut / "insee_appartenance_geo").mkdir()
    for f in (mirror / "insee_appartenance_geo").iterdir():
        (cut / "insee_appartenance_geo" / f.name).symlink_to(f)
    name = "aav2020_uu2020_communes_cog2024.csv"
    lines = (mirror / "insee_appartenance_geo" / name).read_bytes().splitlines(keepends=True)
    (cut / "insee_appartenance_geo" / name).unlink()
    (cut / "insee_appartenance_geo" / name).write_bytes(b"".join(lines[: len(lines) // 2]))
    env = {**os.environ, "COWORKING_GEO_MIRROR": str(cut), "PYTHONPATH": str(repo_root / "src")}
    res = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--config", "territory=dep-61",
                          "--", "data/processed/dep-61/communes.parquet"], cwd=wf, env=env,
                         capture_output=True, text=True, timeout=900)
    assert res.returncode != 0
    log = (wf / "logs" / "dep-61" / "territories" / "communes.log")
    text = res.stdout + res.stderr + (log.read_text(encoding="utf-8") if log.exists() else "")
    assert name in text
    share = re.search(r"(\d+) communes \(([\d.]+)% of communes, ([\d.]+)% of the population\) are left without", text)
    assert share is not None, text[-3000:]
    assert int(share.group(1)) > 17000 and 48 < float(share.group(2)) < 52
    assert not (wf / "data" / "processed" / "dep-61" / "communes.parquet").exists()
