"""Fill ``data/raw/{source_id}/`` from a mirror folder or from the official URLs.

A mirror (``COWORKING_GEO_MIRROR``) is laid out like ``../shared/data``: one
folder per source id. Without it, files are downloaded over HTTPS with a
timeout, retries, and a size / checksum check. Files are written atomically and
a file already present is not fetched again. A ``MANIFEST.json`` beside the
files records where each came from, its size and SHA-256.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from coworking_geo.errors import RetrieveError
from coworking_geo.io import atomic_path, write_csv, write_text
from coworking_geo.log import get_logger
from coworking_geo.sources import Source, SourceFile

log = get_logger(__name__)

MIRROR_ENV = "COWORKING_GEO_MIRROR"
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 20.0
RETRIES = 3
BACKOFF_S = 0.5
CHUNK = 1 << 20


def mirror_dir() -> Path | None:
    """The mirror folder named by ``COWORKING_GEO_MIRROR``, or None."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


def way_out(source: Source, url: str | None, reason: str) -> RetrieveError:
    """The one error message for a source that cannot be had, with the two ways out."""
    where = url or source.page
    return RetrieveError(
        f"cannot retrieve source '{source.id}' ({source.title}) from {where}: {reason}.\n"
        f"  Either set {MIRROR_ENV} to a folder laid out like ../shared/data (one folder per source id), "
        f"e.g. {MIRROR_ENV}=../shared/data,\n"
        "  or run the offline demo: snakemake --cores 2 --config territory=demo"
    )


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, target: Path, *, min_bytes: int = 0, sha256: str | None = None,
             timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
             retries: int = RETRIES, backoff: float = BACKOFF_S) -> Path:
    """Download ``url`` to ``target`` atomically, retrying transient failures.

    Raises :class:`RetrieveError` on an HTTP error status, a body shorter than its
    Content-Length or than ``min_bytes``, a checksum mismatch, or a timeout,
    once ``retries`` attempts have failed. A 404 is not retried.
    """
    last = ""
    for attempt in range(1, retries + 1):
        try:
            with atomic_path(target) as tmp:
                _fetch(url, tmp, timeout)
                size = tmp.stat().st_size
                if size < min_bytes:
                    raise RetrieveError(f"got {size} bytes, expected at least {min_bytes}")
                if sha256 and (got := sha256_of(tmp)) != sha256:
                    raise RetrieveError(f"checksum mismatch: sha256 {got}, expected {sha256}")
            return target
        except requests.HTTPError as exc:
            last = f"HTTP {exc.response.status_code}"
            if exc.response.status_code in (401, 403, 404, 410):
                break
        except (requests.RequestException, RetrieveError, OSError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        log.warning("download %s failed (attempt %d/%d): %s", url, attempt, retries, last)
        if attempt < retries:
            time.sleep(backoff * 2 ** (attempt - 1))
    raise RetrieveError(last)


def _fetch(url: str, tmp: Path, timeout: tuple[float, float]) -> None:
    with requests.get(url, stream=True, timeout=timeout, headers={"User-Agent": "coworking-geo"}) as resp:
        resp.raise_for_status()
        expected = resp.headers.get("Content-Length")
        got = 0
        with tmp.open("wb") as fh:
            for block in resp.iter_content(CHUNK):
                fh.write(block)
                got += len(block)
        if expected is not None and resp.headers.get("Content-Encoding") in (None, "identity") and got != int(expected):
            raise RetrieveError(f"truncated body: {got} of {expected} bytes")


def _convert(downloaded: Path, spec: SourceFile, target: Path) -> None:
    """Bring an official download into the layout the readers expect."""
    if spec.convert_from == "xlsx":
        df = pd.read_excel(downloaded, sheet_name=0, skiprows=4, dtype=str)
        write_csv(df, target)
    elif spec.convert_from == "zip":  # the official zip holds the file under its own name
        with zipfile.ZipFile(downloaded) as z, z.open(spec.name) as src, atomic_path(target) as tmp, \
                open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        downloaded.unlink(missing_ok=True)
    elif spec.compress_download == "gzip":
        with atomic_path(target) as tmp, downloaded.open("rb") as src, gzip.open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        os.replace(downloaded, target)


def retrieve_file(source: Source, spec: SourceFile, dest: Path, mirror: Path | None) -> dict[str, Any]:
    """Fetch one file of ``source`` into ``dest``; return its manifest record."""
    target = dest / spec.name
    if target.exists() and target.stat().st_size > 0:
        log.info("%s/%s already present, not fetched again", source.id, spec.name)
        origin = "already present"
    elif mirror is not None:
        src = mirror / source.id / spec.name
        if not src.exists():
            raise RetrieveError(
                f"source '{source.id}': {src} is not in the mirror {mirror}. "
                f"Official page: {source.page}"
                + (f" (download: {spec.url})" if spec.url else "")
                + f". Unset {MIRROR_ENV} to download it, or choose another source in config/config.yaml."
            )
        log.info("copying %s from the mirror", src)
        with atomic_path(target) as tmp:
            shutil.copyfile(src, tmp)
        origin = f"mirror:{src}"
    else:
        if spec.mirror_only or not spec.url:
            raise way_out(source, spec.url, f"'{spec.name}' has no direct official download in this layout "
                                            "(the official publication is laid out differently)")
        log.info("downloading %s", spec.url)
        staging = target.with_name(target.name + ".download")
        try:
            download(spec.url, staging, min_bytes=spec.min_bytes, sha256=spec.sha256)
        except RetrieveError as exc:
            raise way_out(source, spec.url, str(exc)) from None
        _convert(staging, spec, target)
        staging.unlink(missing_ok=True)
        origin = spec.url
    return {"file": spec.name, "origin": origin, "bytes": target.stat().st_size, "sha256": sha256_of(target)}


def retrieve_source(source: Source, raw_root: str | os.PathLike[str], mirror: Path | None = None) -> Path:
    """Fetch every file of ``source`` into ``raw_root/{source.id}/`` and write its MANIFEST.json."""
    dest = Path(raw_root) / source.id
    dest.mkdir(parents=True, exist_ok=True)
    records = [retrieve_file(source, spec, dest, mirror) for spec in source.files]
    manifest = {**source.citation(), "files": records,
                "retrieved_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    return write_text(dest / "MANIFEST.json", json.dumps(manifest, ensure_ascii=False, indent=2))
