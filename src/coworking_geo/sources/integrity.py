"""Verify a raw file before any reader sees it: checksum, size, structure and record count.

:func:`verify_file` runs on every file the retrieve step puts in ``data/raw/``,
downloaded or copied from a mirror, on the temporary copy before it is renamed
into place. What it checks depends on what ``config/sources.yaml`` declares for
the file (``sha256``, ``size``, ``min_bytes``, ``rows``) and on its format
(docs/integrity.md). Every failure raises :class:`InputFileError` naming the
file and both the expected and the found value; the checks passed are returned
as short English phrases for the MANIFEST.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
import zipfile
import zlib
from pathlib import Path
from typing import Any

from coworking_geo.errors import InputFileError
from coworking_geo.io import check_csv_text, decode_csv, parse_decimal, read_csv_text, sniff_separator
from coworking_geo.sources.catalogue import SourceFile

CHUNK = 1 << 20
SQLITE_MAGIC = b"SQLite format 3\x00"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def verify_file(path: Path, spec: SourceFile, shown: str, *, fmt: str | None = None,
                checksums: bool = True, count: bool = True) -> list[str]:
    """Check the file at ``path`` (named ``shown`` in messages) against ``spec``; return the checks passed.

    ``fmt`` overrides ``spec.format`` (a download verified before its conversion);
    ``checksums=False`` skips ``sha256``/``size`` (a file this package converted,
    whose bytes differ from the publisher's); ``count=False`` skips ``rows``.
    """
    fmt = (fmt if fmt is not None else spec.format).lower()
    size = path.stat().st_size
    done: list[str] = []
    if size == 0:
        raise InputFileError(shown, "the file is empty")
    _not_html(path, shown, fmt)
    n, what = _structure(path, shown, fmt, spec.skip_lines)
    if what:
        done.append(what)
    if size < spec.min_bytes:
        raise InputFileError(shown, f"{size} bytes, fewer than the {spec.min_bytes} declared as a minimum in sources.yaml")
    if checksums and spec.size is not None:
        if size != spec.size:
            raise InputFileError(shown, f"{size} bytes where sources.yaml declares {spec.size}")
        done.append(f"size {size} bytes as declared")
    if checksums and spec.sha256:
        got = sha256_of(path)
        if got != spec.sha256:
            raise InputFileError(shown, f"checksum mismatch: sha256 {got}, sources.yaml declares {spec.sha256}")
        done.append("sha256 as declared")
    if count and spec.rows is not None and n is not None:
        low, high = spec.rows
        if not low <= n <= high:
            expected = f"{low}" if low == high else f"between {low} and {high}"
            raise InputFileError(shown, f"{n} records where sources.yaml expects {expected}")
        done.append(f"{n} records, expected {low}" + ("" if low == high else f"-{high}"))
    if count and spec.totals:
        got_totals = _column_totals(path, shown, fmt, spec)
        for column, expected_total in spec.totals:
            if got_totals[column] != expected_total:
                raise InputFileError(shown, f"column {column} sums to {got_totals[column]} "
                                            f"where sources.yaml expects {expected_total}")
            done.append(f"{column} sums to {expected_total} as declared")
    return done


def _column_totals(path: Path, shown: str, fmt: str, spec: SourceFile) -> dict[str, int]:
    """Sums (rounded to integers) of the ``totals`` columns of a CSV or of a GeoPackage's first feature layer."""
    columns = [c for c, _ in spec.totals]
    if fmt == "csv":
        df, _ = read_csv_text(path, required=columns, skiprows=spec.skip_lines)
        return {c: int(round(parse_decimal(df[c]).sum())) for c in columns}
    if fmt == "gpkg":
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            layer = con.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features' "
                                "ORDER BY table_name").fetchone()[0]
            sums = con.execute("SELECT " + ", ".join(f'TOTAL("{c}")' for c in columns) + f' FROM "{layer}"').fetchone()
        except sqlite3.DatabaseError as exc:
            raise InputFileError(shown, f"cannot sum columns {columns}: {exc}") from None
        finally:
            con.close()
        return {c: int(round(v)) for c, v in zip(columns, sums, strict=True)}
    raise InputFileError(shown, f"totals are checked for csv and gpkg files, not {fmt}")


def _not_html(path: Path, shown: str, fmt: str) -> None:
    """An HTML page (a portal, login or error page served with status 200) is not the data file."""
    if fmt in ("html", "htm"):
        return
    with path.open("rb") as fh:
        head = fh.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        raise InputFileError(shown, f"is an HTML page, not a {fmt or 'data'} file "
                                    "(the server answered with a web page instead of the file)")


def _structure(path: Path, shown: str, fmt: str, skip_lines: int) -> tuple[int | None, str]:
    """Format-specific check: (number of records or None, phrase for the MANIFEST)."""
    if fmt == "csv":
        text, _ = decode_csv(path)
        lines = text.splitlines()
        header = lines[skip_lines] if len(lines) > skip_lines else ""
        n = check_csv_text(shown, text, sniff_separator(header), skip_lines)
        return n, "CSV well-formed (every row has the header's field count, last line ends)"
    if fmt in ("geojson", "json"):
        return _json_records(path.read_bytes(), shown, fmt)
    if fmt.endswith(".gz") or fmt == "gzip":
        try:
            raw = gzip.decompress(path.read_bytes())
        except (EOFError, OSError, zlib.error) as exc:
            raise InputFileError(shown, f"the gzip stream is incomplete or corrupt ({exc})") from None
        inner = fmt[: -len(".gz")] if fmt.endswith(".gz") else ""
        if inner in ("json", "geojson"):
            items, what = _json_records(raw, shown, inner)
            return items, f"gzip stream complete; {what}"
        return None, "gzip stream complete"
    if fmt in ("zip", "xlsx"):
        return _zip(path, shown, fmt)
    if fmt == "gpkg":
        return _gpkg(path, shown)
    if fmt == "7z":
        return _sevenzip(path, shown)
    if fmt in ("tif", "tiff"):
        return _raster(path, shown)
    return None, ""


def _json_records(raw: bytes, shown: str, fmt: str) -> tuple[int | None, str]:
    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(shown, f"not valid JSON (cut short?): {exc}") from None
    if fmt == "geojson":
        if not isinstance(data, dict) or not isinstance(data.get("features"), list):
            raise InputFileError(shown, "not a GeoJSON FeatureCollection (no 'features' list)")
        return len(data["features"]), "GeoJSON parsed"
    return (len(data) if isinstance(data, list) else None), "JSON parsed"


def _zip(path: Path, shown: str, fmt: str) -> tuple[int | None, str]:
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            names = z.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise InputFileError(shown, f"not a complete zip archive (no central directory: cut short?): {exc}") from None
    if bad is not None:
        raise InputFileError(shown, f"zip member {bad!r} fails its CRC check")
    if fmt == "xlsx":
        import openpyxl

        try:
            with path.open("rb") as fh:  # a file object: openpyxl refuses a temporary name not ending in .xlsx
                wb = openpyxl.load_workbook(fh, read_only=True)
                sheets = wb.sheetnames
                wb.close()
        except Exception as exc:  # openpyxl raises KeyError, ValueError… for a damaged workbook
            raise InputFileError(shown, f"not a readable xlsx workbook: {exc}") from None
        if not sheets:
            raise InputFileError(shown, "the workbook has no sheet")
        return None, f"zip CRCs ok; xlsx sheets {sheets}"
    return None, f"zip CRCs ok ({len(names)} members)"


def _gpkg(path: Path, shown: str) -> tuple[int | None, str]:
    with path.open("rb") as fh:
        header = fh.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise InputFileError(shown, "not a GeoPackage (no SQLite header)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size = path.stat().st_size
    if pages and size < pages * page_size:
        raise InputFileError(shown, f"GeoPackage cut short: {size} bytes, its header says {pages * page_size}")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()[0]
            layers = [r[0] for r in con.execute(
                "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name")]
            if result != "ok":
                raise InputFileError(shown, f"GeoPackage fails SQLite's integrity check: {result}")
            if not layers:
                raise InputFileError(shown, "GeoPackage has no feature layer")
            n = int(con.execute(f'SELECT COUNT(*) FROM "{layers[0]}"').fetchone()[0])
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise InputFileError(shown, f"GeoPackage is damaged: {exc}") from None
    return n, f"SQLite integrity ok; layer {layers[0]!r}"


def _sevenzip(path: Path, shown: str) -> tuple[int | None, str]:
    """A 7z archive keeps its directory at the end: a copy cut short has none."""
    import py7zr

    try:
        with py7zr.SevenZipFile(path) as z:
            names = z.getnames()
    except (py7zr.exceptions.ArchiveError, EOFError, OSError, ValueError) as exc:
        raise InputFileError(shown, f"not a complete 7z archive (cut short?): {exc}") from None
    return None, f"7z directory read ({len(names)} members)"


def _raster(path: Path, shown: str) -> tuple[int | None, str]:
    import rasterio

    try:
        with rasterio.open(path) as ds:
            ds.read(1)
            shape = (ds.height, ds.width)
    except rasterio.errors.RasterioError as exc:
        raise InputFileError(shown, f"not a readable raster (cut short?): {exc}") from None
    return None, f"raster read ({shape[0]} x {shape[1]})"
