"""Fill ``data/raw/{source_id}/`` from a mirror folder or from the official URLs.

A mirror (``COWORKING_GEO_MIRROR``) is laid out like ``../shared/data``: one
folder per source id. A file the mirror lacks is downloaded from its official
URL when it has one in this layout (online-only sources). Downloads have
connect and read timeouts, an overall deadline per file and retries. Every
file, copied or downloaded, is verified (:mod:`coworking_geo.sources.integrity`) on its
temporary copy before it is renamed into ``data/raw/``, so a damaged file never
reaches a reader. A ``MANIFEST.json`` beside the files records where each came
from, its size, SHA-256 and the checks it passed.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
import shutil
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3

from coworking_geo.sources import official
from coworking_geo.errors import CoworkingGeoError, RetrieveError
from coworking_geo.sources.integrity import sha256_of, verify_file
from coworking_geo.sources.official.datagouv import resolve_url
from coworking_geo.sources.official.mode import MIRROR_ENV
from coworking_geo.io import atomic_path, write_text
from coworking_geo.log import get_logger
from coworking_geo.sources.catalogue import Source, SourceFile

log = get_logger(__name__)

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 20.0
DEADLINE_S = 900.0
RETRIES = 3
BACKOFF_S = 0.5
CHUNK = 1 << 20
NO_RETRY_STATUS = (401, 403, 404, 410)


@dataclass(frozen=True)
class RetrieveSettings:
    """Network limits of one download, in seconds (``retrieve:`` in config/config.yaml)."""

    deadline_s: float = DEADLINE_S
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    read_timeout_s: float = READ_TIMEOUT_S

    @classmethod
    def from_config(cls, section: dict[str, Any] | None) -> RetrieveSettings:
        return cls(**{k: float(v) for k, v in (section or {}).items()})


WAYS_OUT = (f"  Either set {MIRROR_ENV} to a folder laid out like ../shared/data (one folder per source id), "
            f"e.g. {MIRROR_ENV}=../shared/data,\n"
            "  or run the offline demo: snakemake --cores 2 --config territory=demo")


def way_out(source: Source, url: str | None, reason: str) -> RetrieveError:
    """The one error message for a source that cannot be had, with the two ways out."""
    where = url or source.page
    return RetrieveError(f"cannot retrieve source '{source.id}' ({source.title}) from {where}: {reason}.\n{WAYS_OUT}")


class DeadlineError(RetrieveError):
    """A download went past its overall deadline."""


def download(url: str, target: Path, *, min_bytes: int = 0, sha256: str | None = None,
             timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S), deadline_s: float = DEADLINE_S,
             retries: int = RETRIES, backoff: float = BACKOFF_S,
             check: Callable[[Path], object] | None = None) -> Path:
    """Download ``url`` to ``target`` atomically, retrying transient failures.

    ``deadline_s`` bounds the whole file (all attempts), besides the
    (connect, read) ``timeout``. ``check`` runs on the complete temporary file
    before it is renamed onto ``target`` and raises to reject it. Raises
    :class:`RetrieveError` on an HTTP error status, a body shorter than its
    Content-Length or than ``min_bytes``, a checksum mismatch, a failed
    ``check``, a timeout or the deadline, once ``retries`` attempts have failed;
    nothing is left at ``target`` then. Neither a 401/403/404/410 nor the
    deadline is retried.
    """
    last = ""
    start = time.monotonic()
    for attempt in range(1, retries + 1):
        try:
            with atomic_path(target) as tmp:
                _fetch(url, tmp, timeout, start + deadline_s)
                size = tmp.stat().st_size
                if size < min_bytes:
                    raise RetrieveError(f"got {size} bytes, expected at least {min_bytes}")
                if sha256 and (got := sha256_of(tmp)) != sha256:
                    raise RetrieveError(f"checksum mismatch: sha256 {got}, expected {sha256}")
                if check is not None:
                    check(tmp)
            return target
        except requests.HTTPError as exc:
            last = f"HTTP {exc.response.status_code}"
            if exc.response.status_code in NO_RETRY_STATUS:
                break
        except DeadlineError as exc:
            last = (f"overall deadline of {deadline_s:g} s passed {exc} (the server sends too slowly; "
                    "raise retrieve.deadline_s in config/config.yaml)")
            break
        except (requests.RequestException, urllib3.exceptions.HTTPError, CoworkingGeoError, OSError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        log.warning("download %s failed (attempt %d/%d): %s", url, attempt, retries, last)
        if attempt < retries:
            time.sleep(backoff * 2 ** (attempt - 1))
    raise RetrieveError(last)


def _fetch(url: str, tmp: Path, timeout: tuple[float, float], deadline: float) -> None:
    """Stream ``url`` into ``tmp`` until ``deadline`` (monotonic s); one socket read at a time, so it is seen."""
    with requests.get(url, stream=True, timeout=timeout, headers={"User-Agent": "coworking-geo"}) as resp:
        resp.raise_for_status()
        expected = resp.headers.get("Content-Length")
        got = 0
        with tmp.open("wb") as fh:
            while block := resp.raw.read1(CHUNK, decode_content=True):
                fh.write(block)
                got += len(block)
                if time.monotonic() > deadline:
                    raise DeadlineError(f"after {got} bytes")
        if expected is not None and resp.headers.get("Content-Encoding") in (None, "identity") and got != int(expected):
            raise RetrieveError(f"truncated body: {got} of {expected} bytes")


def _convert(downloaded: Path, spec: SourceFile, out: Path) -> None:
    """Write into ``out`` the official download in the layout the readers expect."""
    if spec.convert_from == "xlsx":
        import pandas as pd  # only online, for the density grid workbook

        pd.read_excel(downloaded, sheet_name=0, skiprows=4, dtype=str).to_csv(out, index=False, encoding="utf-8")
    elif spec.convert_from == "zip":  # the official zip holds the file under its own name
        with zipfile.ZipFile(downloaded) as z, z.open(spec.name) as src, out.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    elif spec.compress_download == "gzip":
        with downloaded.open("rb") as src, gzip.open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        shutil.copyfile(downloaded, out)


def _download_format(spec: SourceFile) -> str:
    """Format of the file as published, before :func:`_convert` (``spec.format`` for an official converter,
    whose own reader checks the archive it opens)."""
    if spec.convert_from:
        return spec.convert_from
    if spec.compress_download == "gzip" and spec.format.endswith(".gz"):
        return spec.format[: -len(".gz")]
    return spec.format


def _converted(spec: SourceFile) -> bool:
    return bool(spec.convert or spec.convert_from or spec.compress_download)


def _download_verified(source: Source, spec: SourceFile, dest: Path, target: Path,
                       settings: RetrieveSettings) -> tuple[str, list[str]]:
    """Download ``spec.url`` into ``target``, verified before and after any conversion; the URL and checks passed.

    The ``sha256`` / ``size`` of sources.yaml describe the mirror's file, so a
    download is held to its structure, rows and totals, not to them. A publication
    that several files are converted from (an archive) is downloaded once, into
    ``dest/.official/``, removed when the source is complete.
    """
    assert spec.url
    url = resolve_url(spec.url, spec.resource) if spec.resource else spec.url
    net = {"timeout": (settings.connect_timeout_s, settings.read_timeout_s), "deadline_s": settings.deadline_s}
    shown = f"{url} (download of {source.id}/{spec.name})"
    checks: list[str] = []
    if not _converted(spec):
        download(url, target, **net,  # type: ignore[arg-type]
                 check=lambda p: checks.extend(verify_file(p, spec, shown, checksums=False)))
        return url, checks
    shared = bool(spec.convert) or spec.convert_from == "zip"  # several files of one archive: downloaded once
    staging = official.staging_path(dest, url) if shared else target.with_name(f".{target.name}.download.part")
    try:
        if not staging.exists():
            pre = None if spec.convert else (lambda p: verify_file(p, spec, shown, fmt=_download_format(spec),
                                                                     checksums=False, count=False))
            download(url, staging, **net, check=pre)  # type: ignore[arg-type]
        if spec.convert:  # the official converters write their target atomically themselves
            log.info("converting %s (official layout) into %s with '%s'", staging.name, target.name, spec.convert)
            official.convert(spec.convert, staging, target)
            try:
                checks = verify_file(target, spec, f"{target} (converted from {url})", checksums=False)
            except CoworkingGeoError:
                target.unlink(missing_ok=True)
                raise
        else:
            with atomic_path(target) as tmp:
                _convert(staging, spec, tmp)
                checks = verify_file(tmp, spec, f"{target} (converted from {url})", checksums=False)
    finally:
        if not shared:
            staging.unlink(missing_ok=True)
    done = f"download: converted by '{spec.convert}'" if spec.convert else f"download: {_download_format(spec)} structure ok"
    return url, [done, *checks]


def retrieve_file(source: Source, spec: SourceFile, dest: Path, mirror: Path | None,
                  settings: RetrieveSettings = RetrieveSettings()) -> dict[str, Any]:
    """Fetch one file of ``source`` into ``dest`` and verify it; return its manifest record.

    Order: a verified file already in ``dest``; else the mirror copy; else, when
    the file has an official URL in this layout, a download (also when a mirror
    is set but lacks it). Raises :class:`RetrieveError` or
    :class:`~coworking_geo.errors.InputFileError` naming the file.
    """
    target = dest / spec.name
    src = mirror / source.id / spec.name if mirror is not None else None
    if target.exists() and target.stat().st_size > 0:
        log.info("%s/%s already present, not fetched again", source.id, spec.name)
        checks = verify_file(target, spec, f"{target} (already present; delete it to fetch it again)",
                             checksums=not _converted(spec))
        origin = "already present"
    elif src is not None and src.is_file():
        log.info("copying %s from the mirror", src)
        with atomic_path(target) as tmp:
            shutil.copyfile(src, tmp)
            checks = verify_file(tmp, spec, f"{src} (mirror copy of {source.id}/{spec.name})")
        origin = f"mirror:{src}"
    elif spec.url and not spec.mirror_only:
        if src is not None:
            log.warning("%s is not in the mirror %s: downloading %s/%s from its official URL %s",
                        src, mirror, source.id, spec.name, spec.url)
        else:
            log.info("downloading %s", spec.url)
        try:
            origin, checks = _download_verified(source, spec, dest, target, settings)
        except RetrieveError as exc:
            if src is not None:
                raise RetrieveError(f"source '{source.id}': '{spec.name}' is not in the mirror {mirror} and its "
                                    f"download from {spec.url} failed: {exc}") from None
            raise way_out(source, spec.url, str(exc)) from None
    else:
        raise RetrieveError(unavailable_reason(source, spec, mirror))
    return {"file": spec.name, "origin": origin, "bytes": target.stat().st_size, "sha256": sha256_of(target),
            "verified": checks}


def unavailable_reason(source: Source, spec: SourceFile, mirror: Path | None) -> str:
    """Why ``spec`` can be had neither from ``mirror`` nor from an official URL in this layout."""
    if mirror is not None:
        return (f"source '{source.id}': {mirror / source.id / spec.name} is not in the mirror {mirror}, and "
                f"'{spec.name}' has no official download in this layout (official page: {source.page})")
    hint = f"; the official publication ({spec.url}) is laid out differently" if spec.url else ""
    return (f"source '{source.id}' ({source.title}): '{spec.name}' has no direct official download in this layout"
            f"{hint}; official page: {source.page}")


def remove_stale_parts(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary ``.*.part`` files an earlier, killed run left under ``folder``; return them."""
    root = Path(folder)
    stale = sorted(p for p in root.rglob(".*.part") if p.is_file()) if root.is_dir() else []
    for p in stale:
        log.warning("removing %s, a temporary file left by an interrupted run", p)
        p.unlink(missing_ok=True)
    return stale


def preflight(sources: Iterable[Source], raw_root: str | os.PathLike[str], mirror: Path | None) -> None:
    """Before any job: one :class:`RetrieveError` naming every source file that cannot be had, and why.

    A file is missing when it is absent from ``raw_root/{id}/``, the mirror (when
    set) lacks it and it has no official download in this layout. Network
    failures are not foreseen here; they fail the source's own retrieve job.
    """
    problems = [unavailable_reason(s, f, mirror) for s in sources for f in s.files
                if not (Path(raw_root) / s.id / f.name).exists()
                and not (mirror is not None and (mirror / s.id / f.name).is_file())
                and not (f.url and not f.mirror_only)]
    if problems:
        raise RetrieveError(f"{len(problems)} raw file(s) cannot be retrieved, so the run stops before any job:\n"
                            + "\n".join(f"- {p}" for p in problems) + "\n" + WAYS_OUT)


def failure_report(log_dir: str | os.PathLike[str], since: float) -> str | None:
    """One message naming every source whose retrieve log (written after ``since``, epoch s) ends in an error."""
    failed = []
    for log_file in sorted(Path(log_dir).glob("*.log")):
        if log_file.stat().st_mtime < since:
            continue
        records = re.split(r"(?m)^(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ )", log_file.read_text(encoding="utf-8"))
        errors = [r.split(": ", 1)[-1].strip() for r in records if re.match(r"\S+ \S+ ERROR ", r)]
        if errors:
            failed.append(f"- {log_file.stem}: " + errors[-1].replace("\n", "\n    "))
    if not failed:
        return None
    return f"retrieve failed for {len(failed)} source(s) in this run:\n" + "\n".join(failed)


def retrieve_source(source: Source, raw_root: str | os.PathLike[str], mirror: Path | None = None,
                    settings: RetrieveSettings = RetrieveSettings()) -> Path:
    """Fetch and verify every file of ``source`` into ``raw_root/{source.id}/``; write its MANIFEST.json.

    Every file is tried; the error raised at the end names each one that failed. Files taken from one
    official archive share its download: once it has failed, the others are not downloaded again.
    """
    dest = Path(raw_root) / source.id
    dest.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(dest)
    records, failures = [], []
    failed_urls: dict[str, str] = {}  # official URL -> the first file whose download from it failed
    for spec in source.files:
        downloads = bool(spec.url) and not (dest / spec.name).exists() and not (
            mirror is not None and (mirror / source.id / spec.name).is_file())
        if downloads and spec.url in failed_urls:
            failures.append(f"'{spec.name}': not downloaded again, it comes from the same {spec.url} as "
                            f"'{failed_urls[spec.url]}'")
            continue
        try:
            records.append(retrieve_file(source, spec, dest, mirror, settings))
        except CoworkingGeoError as exc:
            failures.append(str(exc))
            if downloads and spec.url:
                failed_urls.setdefault(spec.url, spec.name)
    official.clear_staging(dest)
    if failures:
        raise RetrieveError("\n".join(failures) if len(failures) == 1 else
                            f"{len(failures)} files of source '{source.id}' failed:\n" + "\n".join(failures))
    manifest = {**source.citation(), "files": records,
                "retrieved_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    return write_text(dest / "MANIFEST.json", json.dumps(manifest, ensure_ascii=False, indent=2))
