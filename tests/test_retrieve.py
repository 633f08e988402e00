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

from coworking_geo.errors import RetrieveError
from coworking_geo.retrieve import download, retrieve_source
from coworking_geo.sources import Source, SourceFile, load_sources

BODY = ("CODGEO;LIBGEO\n" + "".join(f"{i:05d};Commune {i}\n" for i in range(1000, 1400))).encode()
HITS: dict[str, int] = {}


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
    start = time.monotonic()
    with pytest.raises(RetrieveError, match="(?i)timed? ?out|Read"):
        download(f"{server}/stall.csv", tmp_path / "s.csv", timeout=(1.0, 0.5), retries=1)
    assert time.monotonic() - start < 3
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


def test_mirror_copy(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror" / "fixture_source"
    mirror.mkdir(parents=True)
    (mirror / "data.csv").write_bytes(BODY)
    retrieve_source(_source("https://example.invalid/x.csv"), tmp_path / "raw", tmp_path / "mirror")
    assert (tmp_path / "raw" / "fixture_source" / "data.csv").read_bytes() == BODY


def test_missing_from_mirror_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "mirror").mkdir()
    with pytest.raises(RetrieveError, match="is not in the mirror"):
        retrieve_source(_source("https://example.invalid/x.csv"), tmp_path / "raw", tmp_path / "mirror")


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
