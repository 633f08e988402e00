"""No silent data loss (issue #16): damaged sources stop the real workflow with the file named.

Each test copies the workflow into a tmp dir, builds a mirror there whose files
link to the real mirror except one damaged copy, and runs snakemake for a cheap
target (the dep-61 communes table or spaces register, or a retrieve job). The
run must exit non-zero and name the damaged file. Some runs strip the checksums
from the copied sources.yaml, to show that the structural checks catch the
damage by themselves (as for a download whose publisher gives no checksum).
"""

from __future__ import annotations

import http.server
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coworking_geo.errors import InputFileError
from coworking_geo.io import read_csv_text

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
CGET = ("cget_tierslieux_2019", "CGET_TiersLieux_2019.csv")
AAV = ("insee_appartenance_geo", "aav2020_uu2020_communes_cog2024.csv")
GPKG = ("ign_admin_express_communes", "communes_cog2024_simplifiees.gpkg")
COMMUNES = "data/processed/dep-61/communes.parquet"
SPACES = "data/processed/dep-61/spaces.parquet"
MOBPRO_URL = "https://www.insee.fr/fr/statistiques/fichier/8582949/base-flux-mobilite-domicile-lieu-travail-2022_csv.zip"
FTL_URL = ("https://static.data.gouv.fr/resources/recensement-des-tiers-lieux-en-france-2023/20241219-093636/"
           "bdftl-2023-01-fiche-identite.csv")


def stray_quote(raw: bytes) -> bytes:
    """``sed '101s/^100,/100,"/'``: one stray quote at the start of line 101's second field."""
    lines = raw.split(b"\n")
    assert lines[100].startswith(b"100,")
    lines[100] = b'100,"' + lines[100][4:]
    return b"\n".join(lines)


def cut_mid_row(raw: bytes) -> bytes:
    """``head -c 290847``: the file ends inside a row."""
    return raw[:290847]


def cut_at_line(raw: bytes) -> bytes:
    """The first 34,000 lines, whole: a clean cut at a line boundary."""
    return b"".join(raw.splitlines(keepends=True)[:34000])


def cut_half(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _workflow(repo: Path, dest: Path, strip_checksums: bool = False, urls: dict[str, str] | None = None) -> Path:
    """A copy of the workflow in ``dest``; optionally without checksums or with URLs replaced."""
    dest.mkdir(parents=True)
    shutil.copy(repo / "Snakefile", dest / "Snakefile")
    for folder in ("config", "workflow"):
        shutil.copytree(repo / folder, dest / folder)
    yaml_path = dest / "config" / "sources.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    if strip_checksums:
        text = re.sub(r"(?m)^\s+(sha256|size): .*\n", "", text)
    for old, new in (urls or {}).items():
        assert old in text
        text = text.replace(old, new)
    yaml_path.write_text(text, encoding="utf-8")
    return dest


def _mirror(real: Path, dest: Path, damaged: dict[tuple[str, str], Callable[[bytes], bytes] | None]) -> Path:
    """A mirror in ``dest`` linking to ``real``'s files, with the files in ``damaged`` altered (None: left out)."""
    for folder in real.iterdir():
        if not folder.is_dir():
            continue
        for f in folder.rglob("*"):
            if f.is_dir():
                continue
            key = (folder.name, str(f.relative_to(folder)))
            out = dest / folder.name / key[1]
            out.parent.mkdir(parents=True, exist_ok=True)
            if key in damaged:
                change = damaged[key]
                if change is not None:
                    out.write_bytes(change(f.read_bytes()))
            else:
                out.symlink_to(f)
    return dest


def _run(wf: Path, target: str, mirror: Path | None, timeout: int = 600) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "COWORKING_GEO_MIRROR"}
    env.update({"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"})
    if mirror is not None:
        env["COWORKING_GEO_MIRROR"] = str(mirror)
    res = subprocess.run(SNAKEMAKE + [target, "--cores", "1", "--config", "territory=dep-61"], cwd=wf, env=env,
                         capture_output=True, text=True, timeout=timeout)
    return res.returncode, res.stdout + res.stderr


def _nothing_in_raw(wf: Path, sid: str, name: str) -> None:
    assert not (wf / "data" / "raw" / sid / name).exists()
    assert not list((wf / "data" / "raw").rglob("*.part"))


# -- the readers themselves: strict CSV on the real CGET file ------------------------------------------------


@pytest.mark.parametrize(("damage", "problem"), [
    (stray_quote, "line 101: 29 fields where the header has 30"),
    (cut_mid_row, "line 920: the last line has no end of line"),
])
def test_strict_csv_reader_refuses_damaged_cget(mirror: Path, tmp_path: Path, damage: Callable[[bytes], bytes],
                                                problem: str) -> None:
    path = tmp_path / CGET[1]
    path.write_bytes(damage((mirror / CGET[0] / CGET[1]).read_bytes()))
    with pytest.raises(InputFileError) as err:
        read_csv_text(path)
    assert str(err.value).startswith(f"{path}: {problem}")
    intact, _ = read_csv_text(mirror / CGET[0] / CGET[1])
    assert len(intact) == 1512


# -- through the real rules, from a damaged mirror ----------------------------------------------------------


@pytest.mark.parametrize(("key", "damage", "target", "problem"), [
    (CGET, stray_quote, SPACES, "line 101: 29 fields where the header has 30"),
    (CGET, cut_mid_row, SPACES, "line 920: the last line has no end of line"),
    (AAV, cut_at_line, COMMUNES, "33999 records where sources.yaml expects 34935"),
    (GPKG, cut_half, COMMUNES, "GeoPackage cut short: 8175616 bytes, its header says 16351232"),
], ids=["stray-quote", "cut-mid-row", "aav-cut-at-line", "gpkg-truncated"])
def test_damaged_mirror_file_stops_the_run_by_its_structure(repo_root: Path, mirror: Path, tmp_path: Path,
                                                            key: tuple[str, str], damage: Callable[[bytes], bytes],
                                                            target: str, problem: str) -> None:
    wf = _workflow(repo_root, tmp_path / "wf", strip_checksums=True)
    fake = _mirror(mirror, tmp_path / "mirror", {key: damage})
    code, out = _run(wf, target, fake)
    assert code != 0
    assert f"{fake / key[0] / key[1]} (mirror copy of {key[0]}/{key[1]}): {problem}" in out, out[-3000:]
    _nothing_in_raw(wf, *key)
    assert not (wf / target).exists()


def one_letter(raw: bytes) -> bytes:
    """One letter changed: same size, same structure."""
    return raw.replace(b"Coworking", b"Coworkinx", 1)


def last_row_twice(raw: bytes) -> bytes:
    """The last row repeated: well-formed, one row more."""
    return raw + raw.splitlines(keepends=True)[-1]


@pytest.mark.parametrize(("damage", "problem"), [
    (stray_quote, "line 101: 29 fields where the header has 30"),
    (last_row_twice, "484952 bytes where sources.yaml declares 484746"),
    (one_letter, "checksum mismatch: sha256 "),
], ids=["structure", "size", "sha256"])
def test_damaged_mirror_file_fails_its_declared_size_or_checksum(repo_root: Path, mirror: Path, tmp_path: Path,
                                                                 damage: Callable[[bytes], bytes], problem: str) -> None:
    wf = _workflow(repo_root, tmp_path / "wf")
    fake = _mirror(mirror, tmp_path / "mirror", {CGET: damage})
    code, out = _run(wf, SPACES, fake)
    assert code != 0
    assert f"{fake / CGET[0] / CGET[1]} (mirror copy of {CGET[0]}/{CGET[1]}): {problem}" in out
    _nothing_in_raw(wf, *CGET)


def test_damaged_file_already_in_data_raw_stops_the_reader(repo_root: Path, mirror: Path, tmp_path: Path) -> None:
    """A file put in data/raw by hand (no retrieve job runs) still meets the strict readers (crosswalk, spaces)."""
    wf = _workflow(repo_root, tmp_path / "wf")
    raw = wf / "data" / "raw" / CGET[0]
    raw.mkdir(parents=True)
    (raw / CGET[1]).write_bytes(stray_quote((mirror / CGET[0] / CGET[1]).read_bytes()))
    (raw / "MANIFEST.json").write_text("{}")
    code, out = _run(wf, SPACES, mirror)
    assert code != 0
    assert f"data/raw/{CGET[0]}/{CGET[1]}: line 101: 29 fields where the header has 30" in out, out[-3000:]
    assert re.search(r"Error in rule (territories_crosswalk|spaces_register)", out)


def test_mirror_lacking_mirror_only_files_fails_once_naming_them_all(repo_root: Path, mirror: Path,
                                                                    tmp_path: Path) -> None:
    wf = _workflow(repo_root, tmp_path / "wf")
    rural, central = ("anct_typologies_communes", "ruralite.csv"), ("anct_typologies_communes", "centralite.csv")
    fake = _mirror(mirror, tmp_path / "mirror", {rural: None, central: None})
    code, out = _run(wf, COMMUNES, fake)
    assert code != 0
    assert "2 raw file(s) cannot be retrieved, so the run stops before any job" in out
    assert f"{fake / rural[0] / rural[1]} is not in the mirror" in out
    assert f"{fake / central[0] / central[1]} is not in the mirror" in out
    assert out.count("cannot be retrieved") == 1
    assert "Error in rule" not in out  # no job ran


# -- through the retrieve rule, online-only sources served from 127.0.0.1 -----------------------------------


def _zip_body() -> bytes:
    rows = "".join(f"61{i % 900:03d};61{(i * 7) % 900:03d};{i % 50}\n" for i in range(120_000))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("base-flux-mobilite-domicile-lieu-travail-2022.csv", "CODGEO;DCLT;NBFLUX_C22_ACTOCC15P\n" + rows)
    return buf.getvalue()


ZIP = _zip_body()


class Publisher(http.server.BaseHTTPRequestHandler):
    """/flux.zip: the whole zip; /flux-cut.zip: half of it, no Content-Length; /portal.csv: an HTML page."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        if self.path == "/flux.zip":
            self.send_header("Content-Length", str(len(ZIP)))
            self.end_headers()
            self.wfile.write(ZIP)
        elif self.path == "/flux-cut.zip":
            self.end_headers()
            self.wfile.write(ZIP[: len(ZIP) // 2])
            self.close_connection = True
        else:
            body = b"<!DOCTYPE html>\n<html><body><h1>data.gouv.fr</h1>Page en maintenance</body></html>"
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture(scope="module")
def publisher() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Publisher)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


MOBPRO_MANIFEST = "data/raw/insee_mobpro_national/MANIFEST.json"


def test_online_only_source_missing_from_the_mirror_is_downloaded(repo_root: Path, mirror: Path, tmp_path: Path,
                                                                  publisher: str) -> None:
    wf = _workflow(repo_root, tmp_path / "wf", urls={MOBPRO_URL: f"{publisher}/flux.zip"})
    code, out = _run(wf, MOBPRO_MANIFEST, mirror)
    assert code == 0, out[-3000:]
    log = (wf / "logs" / "retrieve" / "insee_mobpro_national.log").read_text()
    assert "is not in the mirror" in log and f"from its official URL {publisher}/flux.zip" in log
    got = wf / "data" / "raw" / "insee_mobpro_national" / "base-flux-mobilite-domicile-lieu-travail-2022_csv.zip"
    assert got.read_bytes() == ZIP
    assert "zip CRCs ok (1 members)" in (wf / MOBPRO_MANIFEST).read_text()


def test_truncated_zip_download_fails_and_leaves_nothing(repo_root: Path, mirror: Path, tmp_path: Path,
                                                         publisher: str) -> None:
    wf = _workflow(repo_root, tmp_path / "wf", urls={MOBPRO_URL: f"{publisher}/flux-cut.zip"})
    code, out = _run(wf, MOBPRO_MANIFEST, mirror)
    assert code != 0
    assert (f"{publisher}/flux-cut.zip (download of insee_mobpro_national/"
            "base-flux-mobilite-domicile-lieu-travail-2022_csv.zip): not a complete zip archive") in out
    _nothing_in_raw(wf, "insee_mobpro_national", "base-flux-mobilite-domicile-lieu-travail-2022_csv.zip")


def test_html_page_instead_of_the_census_fails(repo_root: Path, mirror: Path, tmp_path: Path, publisher: str) -> None:
    wf = _workflow(repo_root, tmp_path / "wf", urls={FTL_URL: f"{publisher}/portal.csv"})
    code, out = _run(wf, "data/raw/france_tierslieux_2023/MANIFEST.json", mirror)
    assert code != 0
    assert f"{publisher}/portal.csv (download of france_tierslieux_2023/bdftl-2023-01-fiche-identite.csv)" in out
    assert "is an HTML page, not a csv file" in out
    _nothing_in_raw(wf, "france_tierslieux_2023", "bdftl-2023-01-fiche-identite.csv")


def test_failed_run_ends_with_one_report_naming_every_failed_source(repo_root: Path, mirror: Path, tmp_path: Path,
                                                                    publisher: str) -> None:
    wf = _workflow(repo_root, tmp_path / "wf", urls={MOBPRO_URL: f"{publisher}/flux-cut.zip",
                                                      FTL_URL: f"{publisher}/portal.csv"})
    env = {**os.environ, "COWORKING_GEO_MIRROR": str(mirror), "NO_PROXY": "127.0.0.1",
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    res = subprocess.run(SNAKEMAKE + [MOBPRO_MANIFEST, "data/raw/france_tierslieux_2023/MANIFEST.json", "--keep-going",
                                      "--cores", "2", "--config", "territory=dep-61"],
                         cwd=wf, env=env, capture_output=True, text=True, timeout=600)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    report = out[out.index("retrieve failed for 2 source(s) in this run:"):]
    assert "- france_tierslieux_2023: " in report and "is an HTML page, not a csv file" in report
    assert "- insee_mobpro_national: " in report and "not a complete zip archive" in report
    assert out.count("retrieve failed for") == 1


def test_stale_temporary_files_of_a_killed_run_go_at_the_next_start(repo_root: Path, mirror: Path,
                                                                   tmp_path: Path) -> None:
    wf = _workflow(repo_root, tmp_path / "wf")
    stale = [wf / "data" / "raw" / CGET[0] / f".{CGET[1]}.x1y2z3.part",
             wf / "data" / "processed" / "dep-61" / ".communes.parquet.a1b2c3.part"]
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half a file")
    code, out = _run(wf, f"data/raw/{CGET[0]}/MANIFEST.json", mirror)
    assert code == 0, out[-3000:]
    for p in stale:
        assert not p.exists()
        assert f"removing {p.relative_to(wf)}, a temporary file left by an interrupted run" in out
    assert '"sha256 as declared"' in (wf / "data" / "raw" / CGET[0] / "MANIFEST.json").read_text()


# -- key totals and 7z archives (verify_file on its own) ----------------------------------------------------


def test_a_changed_population_fails_the_declared_total(repo_root: Path, mirror: Path, tmp_path: Path) -> None:
    import dataclasses

    from coworking_geo.sources.integrity import verify_file
    from coworking_geo.sources.catalogue import load_sources

    spec = load_sources(repo_root / "config" / "sources.yaml")["insee_grille_densite"].files[0]
    assert dict(spec.totals) == {"PMUN21": 67664570}
    unchecked = dataclasses.replace(spec, sha256=None, size=None)  # as for a download converted from the xlsx
    grid = tmp_path / spec.name
    lines = (mirror / "insee_grille_densite" / spec.name).read_bytes().splitlines(keepends=True)
    paris = next(i for i, line in enumerate(lines) if line.startswith(b"75056,"))
    fields = lines[paris].split(b",")
    pmun = lines[0].split(b",").index(b"PMUN21")
    fields[pmun] = str(int(fields[pmun]) + 1000).encode()
    lines[paris] = b",".join(fields)  # Paris 1,000 inhabitants more: well-formed, same row count
    grid.write_bytes(b"".join(lines))
    with pytest.raises(InputFileError, match=r"column PMUN21 sums to 67665570 where sources.yaml expects 67664570"):
        verify_file(grid, unchecked, str(grid))


def test_a_7z_archive_cut_short_is_refused(tmp_path: Path) -> None:
    import py7zr

    from coworking_geo.sources.integrity import verify_file
    from coworking_geo.sources.catalogue import SourceFile

    archive = tmp_path / "ADMIN-EXPRESS-COG.7z"
    with py7zr.SevenZipFile(archive, "w") as z:
        z.writestr(CGET_TEXT, "COMMUNE.csv")
    spec = SourceFile(name=archive.name, format="7z")
    assert verify_file(archive, spec, archive.name) == ["7z directory read (1 members)"]
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(InputFileError, match="ADMIN-EXPRESS-COG.7z: not a complete 7z archive"):
        verify_file(archive, spec, archive.name)


CGET_TEXT = ("ID,NOM\n" + "".join(f"{i},Lieu {i}\n" for i in range(5000))).encode()


def test_a_header_only_csv_is_well_formed_with_no_rows(tmp_path: Path) -> None:
    from coworking_geo.io import read_csv_text

    p = tmp_path / "places_change.csv"
    p.write_text("older,newer,in_both\n", encoding="utf-8")
    df, _ = read_csv_text(p, required=["older"])
    assert len(df) == 0 and list(df.columns) == ["older", "newer", "in_both"]
