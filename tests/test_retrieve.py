"""The acquisition step: HTTP downloads against a local server, the mirror, and the offline message."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from coworking_geo.errors import CoworkingGeoError, RetrieveError
from coworking_geo.sources.integrity import verify_file
from coworking_geo.sources.retrieve import RetrieveSettings, download, preflight, remove_stale_parts, retrieve_source
from coworking_geo.sources.catalogue import Source, SourceFile, load_sources

BODY = ("CODGEO;LIBGEO\n" + "".join(f"{i:05d};Commune {i}\n" for i in range(1000, 1400))).encode()
HITS: dict[str, int] = {}
SERVED: dict[str, bytes] = {}  # extra bodies a test puts up


class FixtureHandler(http.server.BaseHTTPRequestHandler):
    """Serves fixture bodies, a 404, a truncated body, a stalled response and a flaky endpoint."""

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _send(self, body: bytes, length: int | None = None, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        HITS[self.path] = HITS.get(self.path, 0) + 1
        if self.path == "/ok.csv":
            self._send(BODY)
        elif self.path == "/truncated.csv":
            self._send(BODY[:100], length=len(BODY))
            self.close_connection = True
        elif self.path == "/stall.csv":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY[:10])
            self.wfile.flush()
            time.sleep(3)
        elif self.path == "/cut-no-length.csv":  # cut mid-row, no Content-Length: the connection just ends
            self.send_response(200)
            self.end_headers()
            self.wfile.write(BODY[: len(BODY) // 2 + 3])
            self.close_connection = True
        elif self.path == "/trickle.csv":  # one byte every 0.1 s: never idle long enough for the read timeout
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            for byte in BODY[:60]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
            self.close_connection = True
        elif self.path == "/portal.csv":
            self._send(b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Revenez plus tard</body></html>")
        elif self.path in SERVED:
            self._send(SERVED[self.path])
        elif self.path == "/bundle.zip":  # an official zip holding the file under its own name (INSEE Filosofi)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr("data.csv", BODY)
                z.writestr("meta.csv", b"COD_VAR;LIB_VAR\n")
            self._send(buf.getvalue())
        elif self.path == "/flaky.csv":
            if HITS[self.path] == 1:
                self._send(b"busy", status=503)
            else:
                self._send(BODY)
        else:
            self._send(b"not found", status=404)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FixtureHandler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_ok_checks_size_and_checksum(server: str, tmp_path: Path) -> None:
    target = tmp_path / "ok.csv"
    download(f"{server}/ok.csv", target, min_bytes=100, sha256=hashlib.sha256(BODY).hexdigest())
    assert target.read_bytes() == BODY
    assert [p.name for p in tmp_path.iterdir()] == ["ok.csv"]  # no temp file left behind


def test_download_404_is_not_retried(server: str, tmp_path: Path) -> None:
    HITS.pop("/absent.csv", None)
    with pytest.raises(RetrieveError, match="HTTP 404"):
        download(f"{server}/absent.csv", tmp_path / "absent.csv", backoff=0.01)
    assert HITS["/absent.csv"] == 1
    assert list(tmp_path.iterdir()) == []


def test_download_truncated_body_fails_and_leaves_nothing(server: str, tmp_path: Path) -> None:
    with pytest.raises(RetrieveError):
        download(f"{server}/truncated.csv", tmp_path / "t.csv", retries=2, backoff=0.01)
    assert list(tmp_path.iterdir()) == []


def test_download_stalled_response_times_out(server: str, tmp_path: Path) -> None:
    """The server stalls 3 s; the 0.5 s read timeout ends the attempt (the error says so, not a clock)."""
    with pytest.raises(RetrieveError, match="(?i)timed? ?out|Read"):
        download(f"{server}/stall.csv", tmp_path / "s.csv", timeout=(1.0, 0.5), retries=1)
    assert list(tmp_path.iterdir()) == []


def test_download_retries_a_transient_error(server: str, tmp_path: Path) -> None:
    HITS.pop("/flaky.csv", None)
    download(f"{server}/flaky.csv", tmp_path / "f.csv", backoff=0.01)
    assert HITS["/flaky.csv"] == 2
    assert (tmp_path / "f.csv").read_bytes() == BODY


def test_download_checksum_mismatch(server: str, tmp_path: Path) -> None:
    with pytest.raises(RetrieveError, match="checksum mismatch"):
        download(f"{server}/ok.csv", tmp_path / "x.csv", sha256="0" * 64, retries=1)


def _source(url: str, **file_kw: object) -> Source:
    return Source(id="fixture_source", title="Fixture", publisher="Tests", vintage="2024", licence="LO 2.0",
                  page="https://example.invalid/page", theme="tests",
                  files=(SourceFile(name="data.csv", url=url, **file_kw),))  # type: ignore[arg-type]


def test_retrieve_source_downloads_once_and_writes_manifest(server: str, tmp_path: Path) -> None:
    HITS.pop("/ok.csv", None)
    source = _source(f"{server}/ok.csv")
    manifest = json.loads(retrieve_source(source, tmp_path).read_text())
    assert manifest["files"][0]["sha256"] == hashlib.sha256(BODY).hexdigest()
    assert manifest["licence"] == "LO 2.0"
    retrieve_source(source, tmp_path)
    assert HITS["/ok.csv"] == 1  # the second call found the file and did not fetch it again


def test_retrieve_gzips_when_asked(server: str, tmp_path: Path) -> None:
    source = _source(f"{server}/ok.csv", compress_download="gzip")
    retrieve_source(source, tmp_path)
    assert gzip.decompress((tmp_path / "fixture_source" / "data.csv").read_bytes()) == BODY


def test_retrieve_extracts_its_file_from_an_official_zip(server: str, tmp_path: Path) -> None:
    source = _source(f"{server}/bundle.zip", convert_from="zip")
    retrieve_source(source, tmp_path)
    assert (tmp_path / "fixture_source" / "data.csv").read_bytes() == BODY
    assert sorted(p.name for p in (tmp_path / "fixture_source").iterdir()) == ["MANIFEST.json", "data.csv"]


def test_failed_download_names_source_url_and_ways_out(server: str, tmp_path: Path) -> None:
    source = _source(f"{server}/absent.csv")
    with pytest.raises(RetrieveError) as err:
        retrieve_source(source, tmp_path)
    msg = str(err.value)
    assert "fixture_source" in msg and f"{server}/absent.csv" in msg
    assert "COWORKING_GEO_MIRROR" in msg and "territory=demo" in msg


def test_files_of_one_failed_archive_are_not_downloaded_again(server: str, tmp_path: Path) -> None:
    """Three files taken from one official zip that answers 404: one request, one error per file, the later
    two naming the first."""
    HITS.pop("/gone.zip", None)
    files = tuple(SourceFile(name=n, url=f"{server}/gone.zip", convert_from="zip") for n in ("a.csv", "b.csv", "c.csv"))
    source = Source(id="fixture_source", title="Fixture", publisher="Tests", vintage="2024", licence="LO 2.0",
                    page="https://example.invalid/page", theme="tests", files=files)
    with pytest.raises(RetrieveError) as err:
        retrieve_source(source, tmp_path)
    msg = str(err.value)
    assert msg.startswith("3 files of source 'fixture_source' failed:") and HITS["/gone.zip"] == 1
    assert msg.count("not downloaded again") == 2 and f"the same {server}/gone.zip as 'a.csv'" in msg


def test_mirror_copy(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror" / "fixture_source"
    mirror.mkdir(parents=True)
    (mirror / "data.csv").write_bytes(BODY)
    retrieve_source(_source("https://example.invalid/x.csv"), tmp_path / "raw", tmp_path / "mirror")
    assert (tmp_path / "raw" / "fixture_source" / "data.csv").read_bytes() == BODY


def test_missing_from_mirror_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "mirror").mkdir()
    with pytest.raises(RetrieveError, match="is not in the mirror .* no official download in this layout"):
        retrieve_source(_source("https://example.invalid/x.csv", mirror_only=True), tmp_path / "raw", tmp_path / "mirror")


CSV_SPEC = {"format": "csv", "rows": (400, 400)}


def test_body_cut_short_without_content_length_fails_its_check(server: str, tmp_path: Path) -> None:
    source = _source(f"{server}/cut-no-length.csv", **CSV_SPEC)
    with pytest.raises(RetrieveError) as err:
        retrieve_source(source, tmp_path, settings=RetrieveSettings(deadline_s=30))
    assert "data.csv" in str(err.value) and "cut short" in str(err.value)
    assert [p.name for p in (tmp_path / "fixture_source").iterdir()] == []  # nothing left in data/raw


def test_trickling_server_hits_the_overall_deadline(server: str, tmp_path: Path) -> None:
    HITS.pop("/trickle.csv", None)
    with pytest.raises(RetrieveError, match="overall deadline of 1 s passed"):
        download(f"{server}/trickle.csv", tmp_path / "t.csv", timeout=(1.0, 1.0), deadline_s=1.0, backoff=0.01)
    assert HITS["/trickle.csv"] == 1  # the deadline is for the file: not retried
    assert list(tmp_path.iterdir()) == []


def test_html_page_with_status_200_is_not_the_file(server: str, tmp_path: Path) -> None:
    with pytest.raises(RetrieveError, match="is an HTML page, not a csv file"):
        retrieve_source(_source(f"{server}/portal.csv", **CSV_SPEC), tmp_path, settings=RetrieveSettings(deadline_s=30))
    assert list((tmp_path / "fixture_source").iterdir()) == []


def test_mirror_lacking_an_online_source_downloads_it_and_says_so(server: str, tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "mirror").mkdir()
    with caplog.at_level("WARNING"):
        manifest = json.loads(retrieve_source(_source(f"{server}/ok.csv", **CSV_SPEC), tmp_path / "raw",
                                              tmp_path / "mirror").read_text())
    assert manifest["files"][0]["origin"] == f"{server}/ok.csv"
    assert "400 records, expected 400" in manifest["files"][0]["verified"]
    assert "is not in the mirror" in caplog.text and "downloading fixture_source/data.csv from its official URL" in caplog.text


def test_mirror_copy_failing_its_checksum_is_refused(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror" / "fixture_source"
    mirror.mkdir(parents=True)
    (mirror / "data.csv").write_bytes(BODY.replace(b"Commune 1200", b"Commune 1201"))
    source = _source("https://example.invalid/x.csv", mirror_only=True, format="csv",
                     sha256=hashlib.sha256(BODY).hexdigest(), size=len(BODY))
    with pytest.raises(CoworkingGeoError) as err:
        retrieve_source(source, tmp_path / "raw", tmp_path / "mirror")
    assert f"{mirror / 'data.csv'} (mirror copy of fixture_source/data.csv): checksum mismatch" in str(err.value)
    assert list((tmp_path / "raw" / "fixture_source").iterdir()) == []


def test_stale_part_file_of_a_killed_run_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / "raw" / "fixture_source" / ".data.csv.k3j2x.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(BODY[:10])
    mirror = tmp_path / "mirror" / "fixture_source"
    mirror.mkdir(parents=True)
    (mirror / "data.csv").write_bytes(BODY)
    assert remove_stale_parts(tmp_path / "raw") == [stale]
    stale.write_bytes(BODY[:10])
    retrieve_source(_source("https://example.invalid/x.csv"), tmp_path / "raw", tmp_path / "mirror")
    assert sorted(p.name for p in stale.parent.iterdir()) == ["MANIFEST.json", "data.csv"]


def test_preflight_names_every_source_that_cannot_be_had(tmp_path: Path) -> None:
    a = Source(id="src_a", title="A", publisher="T", vintage="1", licence="LO", page="https://example.invalid/a",
               theme="t", files=(SourceFile(name="a.csv", mirror_only=True),))
    b = Source(id="src_b", title="B", publisher="T", vintage="1", licence="LO", page="https://example.invalid/b",
               theme="t", files=(SourceFile(name="b.gpkg"), SourceFile(name="b2.csv", url="https://example.invalid/b2")))
    online = _source("https://example.invalid/x.csv")
    with pytest.raises(RetrieveError) as err:
        preflight([a, b, online], tmp_path, None)
    msg = str(err.value)
    assert msg.startswith("2 raw file(s) cannot be retrieved")
    assert "source 'src_a' (A): 'a.csv'" in msg and "source 'src_b' (B): 'b.gpkg'" in msg
    assert "b2.csv" not in msg and "fixture_source" not in msg  # downloadable: not foreseen as failing
    (tmp_path / "mirror" / "src_a").mkdir(parents=True)
    (tmp_path / "mirror" / "src_a" / "a.csv").write_text("x\n1\n")
    with pytest.raises(RetrieveError, match="^1 raw file") as err:
        preflight([a, b], tmp_path, tmp_path / "mirror")
    assert "is not in the mirror" in str(err.value) and "src_b" in str(err.value)


def test_every_mirror_file_passes_its_declared_checks(repo_root: Path, mirror: Path) -> None:
    sources = load_sources(repo_root / "config" / "sources.yaml")
    checked = 0
    for sid, src in sources.items():
        for f in src.files:
            if (mirror / sid / f.name).exists():
                assert f.sha256 and f.size, f"{sid}/{f.name}: no checksum declared"
                verify_file(mirror / sid / f.name, f, f"{sid}/{f.name}")
                checked += 1
    assert checked == sum(len(s.files) for s in sources.values() if not s.online_only)
    assert sources["cget_tierslieux_2019"].files[0].rows == (1512, 1512)
    assert sources["insee_grille_densite"].files[0].rows == (34935, 34935)
    assert sources["ign_admin_express_communes"].files[0].rows == (34935, 34935)


def test_catalogue_covers_every_mirror_folder(repo_root: Path, mirror: Path) -> None:
    sources = load_sources(repo_root / "config" / "sources.yaml")
    folders = {p.name for p in mirror.iterdir() if p.is_dir()}
    assert folders <= set(sources), folders - set(sources)
    for sid, src in sources.items():
        if src.online_only:
            assert all(f.url and f.url.startswith("https://") for f in src.files), sid
        else:
            for f in src.files:
                assert (mirror / sid / f.name).exists(), f"{sid}/{f.name} missing from the mirror"


def test_converted_downloads_are_checked_before_and_after(server: str, tmp_path: Path) -> None:
    import io

    import pandas as pd

    buf = io.BytesIO()
    grid = pd.DataFrame({"CODGEO": ["61001", "61002", "61003"], "DENS": ["5", "6", "3"]})
    with pd.ExcelWriter(buf) as xl:
        pd.DataFrame([["Grille communale de densité"], [""], [""], [""]]).to_excel(xl, index=False, header=False)
        grid.to_excel(xl, index=False, startrow=4)
    SERVED["/grille.xlsx"] = buf.getvalue()
    SERVED["/grille-cut.xlsx"] = buf.getvalue()[:2000]
    SERVED["/communes.json"] = json.dumps([{"code": "61001"}, {"code": "61002"}]).encode()
    ok = _source(f"{server}/grille.xlsx", convert_from="xlsx", format="csv", rows=(3, 3))
    manifest = json.loads(retrieve_source(ok, tmp_path / "a").read_text())
    assert manifest["files"][0]["verified"][0] == "download: xlsx structure ok"
    assert "3 records, expected 3" in manifest["files"][0]["verified"]
    with pytest.raises(RetrieveError, match="not a complete zip archive"):
        retrieve_source(_source(f"{server}/grille-cut.xlsx", convert_from="xlsx", format="csv"), tmp_path / "b")
    assert list((tmp_path / "b" / "fixture_source").iterdir()) == []
    with pytest.raises(RetrieveError, match=r"2 records where sources.yaml expects 3"):
        retrieve_source(_source(f"{server}/communes.json", compress_download="gzip", format="json.gz", rows=(3, 3)),
                        tmp_path / "c")
    assert list((tmp_path / "c" / "fixture_source").iterdir()) == []
