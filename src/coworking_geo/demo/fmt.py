"""Byte-level writers for the demo's raw files: CSV text, GDAL-style GeoJSON, gzip, zip.

Nothing written here carries a timestamp, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from coworking_geo.io import atomic_path


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` atomically to ``path`` (parents created)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        tmp.chmod(0o644)
    return Path(path)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]], sep: str = ",",
             newline: str = "\n") -> str:
    """CSV text with minimal quoting (fields holding the separator or a quote are quoted)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()


def fmt_float(x: float, decimals: int) -> str:
    """'12.5000' → '12.5', '3.0' → '3' (the way spreadsheets export)."""
    s = f"{x:.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _gdal_coord(x: float) -> str:
    """GDAL's GeoJSON coordinate form: 15 decimals, trailing zeros trimmed."""
    return fmt_float(float(x), 15)


def geojson_text(name: str, features: Sequence[tuple[dict[str, str], tuple[float, float] | None]]) -> str:
    """A FeatureCollection of points laid out like GDAL's GeoJSON driver (one feature a line, CRS84
    member). A feature whose point is None gets an empty GeometryCollection, as in the ANCT files."""
    import json

    lines = ["{", '"type": "FeatureCollection",', f'"name": "{name}",',
             '"crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:OGC:1.3:CRS84" } },',
             '"features": [']
    feats = []
    for props, pt in features:
        p = ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
                      for k, v in props.items())
        if pt is None:
            geom = '{ "type": "GeometryCollection", "geometries": [ ] }'
        else:
            geom = f'{{ "type": "Point", "coordinates": [ {_gdal_coord(pt[0])}, {_gdal_coord(pt[1])} ] }}'
        feats.append(f'{{ "type": "Feature", "properties": {{ {p} }}, "geometry": {geom} }}')
    lines.append(",\n".join(feats))
    lines += ["]", "}", ""]
    return "\n".join(lines)


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no file name and a zero modification time (reproducible)."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def zip_bytes(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A deflated zip archive whose entries carry the fixed date 1980-01-01 (reproducible)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that add up exactly to ``total``."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    raw = w / w.sum() * total
    out = np.floor(raw).astype(np.int64)
    rest = int(total - out.sum())
    if rest > 0:
        out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out
