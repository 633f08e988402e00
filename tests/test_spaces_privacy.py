"""No personal data reaches data/processed/ or results/: planted in every source reader (demo run), and
scanned after a France run."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from coworking_geo.spaces.privacy import EMAIL_RE, PHONE_RE

#: what each reader receives inside free text (names, addresses, comments, web links)
PLANTED = {
    "email": "jeanne.martin@exemple-perso.fr",
    "phone": "06 12 34 56 78",
    "phone_intl": "+33 7 98 76 54 32",
    "url_token": "https://lieu.example/inscription?token=S3CR3T-9f8e7d&user=jmartin",
}
#: strings that must appear nowhere in the outputs (the token itself, the user name in the URL)
FORBIDDEN = ("jeanne.martin", "exemple-perso", "12 34 56 78", "98 76 54 32", "S3CR3T-9f8e7d", "jmartin")


def personal_strings(root: Path) -> list[tuple[str, str]]:
    """(file, match) of every e-mail or French phone number in the files under ``root``: the string cells
    of Parquet and GeoPackage tables, the text of every other file."""
    hits: list[tuple[str, str]] = []

    def scan(name: str, text: str) -> None:
        for rx in (EMAIL_RE, PHONE_RE):
            hits.extend((name, m.group(0)) for m in rx.finditer(text))
        hits.extend((name, f) for f in FORBIDDEN if f in text)

    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        if f.suffix == ".parquet":
            df = pd.read_parquet(f)
            cols = [c for c in df.columns if c != "geometry" and (df[c].dtype == object or str(df[c].dtype).startswith(
                ("str", "string")))]
            scan(str(f), "\n¦\n".join(df[c].map(lambda v: v if isinstance(v, str) else "").str.cat(sep="\n¦\n") for c in cols))
        elif f.suffix == ".gpkg":
            df = gpd.read_file(f)
            scan(str(f), df.drop(columns="geometry").astype("string").fillna("").to_csv(index=False))
        elif f.suffix in (".csv", ".json", ".html", ".txt", ".md", ".tsv", ".svg"):
            scan(str(f), f.read_text(encoding="utf-8", errors="replace"))
    return hits


def _snakemake(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=900, env=dict(os.environ))


def _rewrite_csv(path: Path, sep: str, edit) -> None:
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=sep))
    fields = list(rows[0].keys())
    for i, r in enumerate(rows[:4]):
        edit(i, r)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields, delimiter=sep, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _pii(i: int) -> str:
    return list(PLANTED.values())[i % len(PLANTED)]


@pytest.mark.slow
def test_planted_personal_data_reaches_no_output(repo_root: Path, tmp_path: Path) -> None:
    """E-mails, phone numbers and URL tokens planted in names, addresses and comments of the CGET list, the
    laureates, the 2023 and 2026 censuses and a user's CSV: none is in data/processed/ or results/."""
    wf = tmp_path / "wf"
    wf.mkdir()
    shutil.copy(repo_root / "Snakefile", wf / "Snakefile")
    for folder in ("config", "workflow", "profiles"):
        shutil.copytree(repo_root / folder, wf / folder)
    raw = wf / "data" / "raw" / "demo"
    res = _snakemake(["data/raw/demo/cget_tierslieux_2019/CGET_TiersLieux_2019.csv"], wf)
    assert res.returncode == 0, res.stderr[-3000:]

    def cget(i: int, r: dict[str, str]) -> None:
        r["NOM_TL"] += f" contact {_pii(i)}"
        r["ADRESSE"] += f" tél. {_pii(i + 1)}"
        r["WEB"] = PLANTED["url_token"]
    _rewrite_csv(raw / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv", ",", cget)
    codes = pd.read_csv(raw / "cget_tierslieux_2019" / "CGET_TiersLieux_2019.csv", dtype=str)["INSEECOM"].tolist()

    def census(i: int, r: dict[str, str]) -> None:
        r["NOM"] += f" {_pii(i + 2)}"
        r["ADRESSE"] += f" ({_pii(i + 3)})"
        r["NOM_STRC_GEST"] += f" — {_pii(i)}"
    _rewrite_csv(raw / "france_tierslieux_2026" / "bdftl-2026-01-fiche-identite.csv", ";", census)

    for sid, name in (("anct_fabriques_territoire", "fabt_geom.geojson"),
                      ("anct_manufactures_proximite", "manuprox_geom.geojson")):
        gj = json.loads((raw / sid / name).read_text(encoding="utf-8"))
        for i, feat in enumerate(gj["features"][:3]):
            feat["properties"]["lib_territoire"] += f" modifier mail {_pii(i)}"
        (raw / sid / name).write_text(json.dumps(gj, ensure_ascii=False), encoding="utf-8")

    c23 = raw / "france_tierslieux_2023"
    c23.mkdir()
    ident = ["ID_UNIQUE;NOM;Insee;ADRESSE;CODPOST;VILLE;INTERNET;COMMENTAIRE"]
    for i in range(4):
        ident.append(f"TL23-{i};Tiers-lieu {i} {_pii(i)};{codes[i]};{i} place de la Gare {_pii(i + 1)};;;"
                     f"{PLANTED['url_token']};Référent : {_pii(i + 2)}")
    (c23 / "bdftl-2023-01-fiche-identite.csv").write_text("\n".join(ident) + "\n", encoding="utf-8")
    (c23 / "bdftl-2023-04-activites.csv").write_text(
        "ID_UNIQUE;TYPE_ACT_NUMER;OFFRE_NUM_FABR;NOTE\n" + "".join(f"TL23-{i};1;0;{_pii(i)}\n" for i in range(4)),
        encoding="utf-8")
    user = wf / "mes_lieux.csv"
    user.write_text("nom,code,remarque\n" + "".join(f"Lieu perso {i} {_pii(i)},{codes[i + 4]},appeler {_pii(i + 1)}\n"
                                                     for i in range(4)), encoding="utf-8")
    (wf / "extra.yaml").write_text(
        "spaces:\n  sources:\n    - {id: cget_tierslieux_2019, kind: cget_2019}\n"
        "    - {id: france_tierslieux_2023, kind: ftl_census}\n"
        f"    - {{id: mes_lieux, kind: generic_csv, path: {user}, vintage: '2025', "
        "columns: {name: nom, insee: code}}\n", encoding="utf-8")

    res = _snakemake(["results/demo/tables/places.csv", "results/demo/atlas/spaces.html", "results/demo/report.html",
                      "results/demo/tables/mission_shares.csv", "--configfile", "extra.yaml"], wf)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    assert personal_strings(wf / "data" / "processed") == []
    assert personal_strings(wf / "results") == []
    # the scrubbing is counted, per source, one line per field
    fixes = pd.read_csv(wf / "results" / "demo" / "tables" / "spaces_fixes.csv", dtype=str)
    scrubbed = fixes[fixes["fix"].eq("pii_scrubbed")]
    per_source = scrubbed.groupby("source").size().to_dict()
    assert set(per_source) == {"cget_tierslieux_2019", "france_tierslieux_2023", "france_tierslieux_2026", "mes_lieux",
                               "anct_fabriques_territoire", "anct_manufactures_proximite"}
    assert per_source["cget_tierslieux_2019"] == 4 * 3 and per_source["france_tierslieux_2023"] == 4 * 4
    assert {d.split(":")[1] for d in scrubbed["detail"]} == {"email", "phone", "url_token"}
    places = pd.read_csv(wf / "results" / "demo" / "tables" / "places.csv", dtype=str)
    assert places["sources"].str.contains("france_tierslieux_2023").sum() >= 1
    assert places["name"].str.contains("Lieu perso", regex=False).sum() == 4


@pytest.mark.mirror
def test_no_personal_data_after_a_france_run(repo_root: Path) -> None:
    """After `snakemake --config territory=france`: no e-mail or French phone number under data/processed/france
    or results/france (the ANCT laureate whose name held an e-mail included)."""
    proc, res = repo_root / "data" / "processed" / "france", repo_root / "results" / "france"
    if not (proc / "spaces.parquet").exists() or not (res / "tables" / "places.csv").exists():
        pytest.skip("no France run: COWORKING_GEO_MIRROR=../shared/data snakemake --cores 2 --config territory=france")
    assert personal_strings(proc) == []
    assert personal_strings(res) == []
    atlas = [f for f in (res / "atlas").iterdir() if f.suffix in (".html", ".js", ".json")]
    assert atlas and all("scenenationale61" not in f.read_text(encoding="utf-8") for f in atlas)
    assert "SCENE NATIONALE 61" in (res / "tables" / "places.csv").read_text(encoding="utf-8")  # the place stays
