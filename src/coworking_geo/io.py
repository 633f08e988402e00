"""Atomic writers and robust readers shared by every stage.

Every writer goes through a temporary file in the target folder followed by
``os.replace``, so an interrupted run never leaves a half-written output.
Tables carry their provenance (sources, vintages, licences): inside Parquet's
schema metadata, and in a ``<name>.meta.json`` sidecar for CSV and HTML files.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from coworking_geo.errors import InputFileError

if TYPE_CHECKING:
    import geopandas as gpd

PROVENANCE_KEY = b"coworking_geo:provenance"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        tmp_path.chmod(0o644)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def _write_sidecar(path: Path, provenance: dict[str, Any] | None) -> None:
    if provenance is None:
        return
    write_text(path.with_name(path.name + ".meta.json"), json.dumps(provenance, ensure_ascii=False, indent=2))


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], provenance: dict[str, Any] | None = None) -> Path:
    """Write a UTF-8, comma-separated table atomically, with a provenance sidecar."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8")
    _write_sidecar(Path(path), provenance)
    return Path(path)


def write_parquet(
    df: pd.DataFrame | gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Write (Geo)Parquet atomically; provenance goes into the schema metadata."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
        if provenance is not None:
            table = pq.read_table(tmp)
            meta = dict(table.schema.metadata or {})
            meta[PROVENANCE_KEY] = json.dumps(provenance, ensure_ascii=False).encode()
            pq.write_table(table.replace_schema_metadata(meta), tmp)
    return Path(path)


def read_provenance(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Provenance stored by :func:`write_parquet` or a CSV/HTML sidecar, or None."""
    p = Path(path)
    if p.suffix == ".parquet":
        meta = pq.read_schema(p).metadata or {}
        raw = meta.get(PROVENANCE_KEY)
        return json.loads(raw) if raw else None
    side = p.with_name(p.name + ".meta.json")
    return json.loads(side.read_text(encoding="utf-8")) if side.exists() else None


def read_table(path: str | os.PathLike[str], geometry: bool = True) -> pd.DataFrame | gpd.GeoDataFrame:
    """Read a Parquet table written by :func:`write_parquet`, as GeoDataFrame when it has geometry.

    ``geometry=False`` reads the attributes only, as a DataFrame (no polygon is decoded, geopandas is not
    imported)."""
    schema = pq.read_schema(path)
    geo = (schema.metadata or {}).get(b"geo")
    if geo is None:
        return pd.read_parquet(path)
    if not geometry:
        geometry_columns = set(json.loads(geo).get("columns", {}))
        return pd.read_parquet(path, columns=[c for c in schema.names if c not in geometry_columns])
    import geopandas as gpd

    return gpd.read_parquet(path)


def _decode(raw: bytes) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM), else Windows-1252, else latin-1."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def read_nonempty_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file's bytes; :class:`InputFileError` naming it when it is missing or empty."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "file not found")
    raw = p.read_bytes()
    if not raw.strip():
        raise InputFileError(p, "the file is empty")
    return raw


def _zip_member(path: Path) -> bytes:
    """Bytes of the largest ``.csv`` member of a zip archive."""
    with zipfile.ZipFile(path) as z:
        members = [m for m in z.infolist() if m.filename.lower().endswith(".csv")]
        if not members:
            raise InputFileError(path, f"no .csv file inside the zip: {z.namelist()[:10]}")
        return z.read(max(members, key=lambda m: m.file_size))


def sniff_separator(header_line: str) -> str:
    """The separator of a CSV header line: ``;``, ``,``, tab or ``|`` (``,`` when unclear)."""
    try:
        return csv.Sniffer().sniff(header_line, delimiters=";,\t|").delimiter
    except csv.Error:
        return ","


def check_csv_text(path: str | os.PathLike[str], text: str, sep: str, skiprows: int = 0) -> int:
    """Check that ``text`` (the decoded file at ``path``) is well-formed CSV; return its number of data rows.

    The check uses pyarrow's CSV parser, which, unlike pandas', rejects rows with
    too few fields as well as too many. Raises :class:`InputFileError` naming the
    file, the line and the problem for: a last line without its end of line (a
    file cut short), a row whose field count differs from the header's (an
    unbalanced quote merges rows; a cut row is short) and a quote left open at
    the end of the file. Quoted fields may hold line breaks.
    """
    if text and not text.endswith(("\n", "\r")):
        last = text.count("\n") + 1
        raise InputFileError(path, f"line {last}: the last line has no end of line (the file is cut short?): "
                                f"{text[-80:].splitlines()[-1]!r}")
    lines = text.splitlines()
    if len(lines) <= skiprows:
        raise InputFileError(path, f"the file has {len(lines)} lines, fewer than the {skiprows} title lines expected")
    n_fields = len(next(csv.reader([lines[skiprows]], delimiter=sep)))
    names = [f"f{i}" for i in range(n_fields)]
    bad: list[Any] = []

    def on_bad_row(row: Any) -> str:
        bad.append(row)
        return "error"

    body = text.split("\n", skiprows + 1)[-1] if skiprows + 1 <= text.count("\n") else ""
    if not body.strip("\r\n"):
        return 0  # a header and no data rows: well-formed (readers decide whether rows are required)
    try:
        table = pacsv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}),
        )
    except pa.ArrowInvalid as exc:
        if bad:
            row = bad[0]
            where = body.find(row.text) if row.text else -1
            line = skiprows + 2 + body.count("\n", 0, where) if where >= 0 else None
            at = f"line {line}" if line else "a row"
            raise InputFileError(path, f"{at}: {row.actual_columns} fields where the header has {row.expected_columns} "
                                    f"(an unbalanced quote or a row cut short): {row.text[:80]!r}") from None
        raise InputFileError(path, f"not well-formed '{sep}'-separated text: {exc}") from None
    return int(table.num_rows)


def decode_csv(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The decoded text of a CSV file (or of a zip's largest ``.csv`` member) and its encoding."""
    p = Path(path)
    raw = read_nonempty_bytes(p)
    if zipfile.is_zipfile(p):
        raw = _zip_member(p)
    return _decode(raw)


def read_csv_text(
    path: str | os.PathLike[str],
    required: Sequence[str] = (),
    *,
    skiprows: int = 0,
    dtype: Any = str,
    sep: str | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read a CSV whatever its encoding (UTF-8, BOM, latin-1) and separator (``,``, ``;``, tab).

    A zip archive is read through its largest ``.csv`` member (INSEE ships tables so).

    All columns are read as strings unless ``dtype`` says otherwise, so that
    commune codes keep their leading zeros. Returns the frame and a dict saying
    which encoding and separator were found.

    The text is first checked strictly (:func:`check_csv_text`): a stray quote,
    a row with the wrong number of fields or a file cut short is an error, never
    merged or padded rows. Raises :class:`InputFileError` naming the file for
    those, an empty file, a missing required column, or a separator that leaves
    a single column.
    """
    p = Path(path)
    text, encoding = decode_csv(p)
    lines = text.splitlines()
    if len(lines) <= skiprows:
        raise InputFileError(p, f"the file has {len(lines)} lines, fewer than the {skiprows} title lines expected")
    if sep is None:
        sep = sniff_separator(lines[skiprows])
    check_csv_text(p, text, sep, skiprows)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, skiprows=skiprows, dtype=dtype,
                         keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(p, f"cannot be parsed as '{sep}'-separated text: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    if required:
        missing = [c for c in required if c not in df.columns]
        if missing:
            hint = ""
            if len(df.columns) == 1:
                hint = f" (a single column was read: the separator '{sep}' does not match the file)"
            raise InputFileError(p, f"missing required column(s) {missing}{hint}; columns found: {list(df.columns)[:12]}")
    return df, {"encoding": encoding, "sep": sep}


def parse_decimal(series: pd.Series) -> pd.Series:
    """Numbers written with a decimal comma, spaces as thousand separators or '-' for none → float."""
    s = series.astype("string").str.strip()
    s = s.str.replace("\u202f", "", regex=False).str.replace("\xa0", "", regex=False).str.replace(" ", "", regex=False)
    s = s.mask(s.isin(["-", "", "NA", "nan", "None"]))
    s = s.str.replace(",", ".", regex=False)
    return pd.to_numeric(s, errors="coerce").astype("float64")


def inherited_provenance(paths: Sequence[str | os.PathLike[str]], title: str, territory: str) -> dict[str, Any]:
    """Provenance of an output derived from ``paths``: the union of their cited sources, in order."""
    from coworking_geo.sources.catalogue import provenance

    cited: dict[str, dict[str, str]] = {}
    for path in paths:
        for src in (read_provenance(path) or {}).get("sources", []):
            cited.setdefault(src["id"], src)
    prov = provenance({}, [], territory, title)
    if territory != "demo":
        prov["sources"] = list(cited.values())
    return prov


def read_codes_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a results CSV keeping commune/EPCI codes as text (5-character commune codes)."""
    codes = ("insee_code", "epci_code", "dep_code", "reg_code", "main_destination")
    df, _ = read_csv_text(path, dtype={c: str for c in codes})
    if "insee_code" in df:
        df["insee_code"] = df["insee_code"].str.zfill(5)
    return df
