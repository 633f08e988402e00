"""ANCT programme lists as data.gouv.fr publishes them (CSV, one row per commune or laureate).

ANCT's tables use its usual field names: ``insee_com`` (commune code, COG of the
list), ``lib_com``, an identifier ``id_<programme>`` (``id_fabt`` for the
*Fabriques de territoire*, ``id_manup`` for the *Manufactures de proximité*,
``id_acv``, ``id_pvd``…), and sometimes ``lon``/``lat``. Separator and encoding
vary between resources (``;`` or ``,``; UTF-8 with or without a BOM), so both
are detected. The converters write the layouts the mirror holds (the ANCT
cartography repositories' files): laureate GeoJSON grouped by commune,
programme-territory GeoJSON with ``liste_geo`` = "Name (code)", or a commune CSV.
Where the CSV gives no coordinates the geometry is left empty; the pipeline
places such rows at their commune.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from coworking_geo.errors import InputFileError
from coworking_geo.io import parse_decimal, read_csv_text, write_csv, write_text

CODE_COLUMN = "insee_com"
NAME_CANDIDATES = ("lib_{p}", "nom_{p}", "lib_territoire", "nom_territoire", "lib_structure", "nom_structure",
                   "nom", "lib_com")
LON_CANDIDATES = ("lon", "longitude", "x")
LAT_CANDIDATES = ("lat", "latitude", "y")


def read_programme_csv(path: Path) -> tuple[pd.DataFrame, str]:
    """The CSV (every cell text) and its identifier column ``id_*`` ('' when there is none)."""
    df, _ = read_csv_text(path, required=[CODE_COLUMN])
    df = df[df[CODE_COLUMN].astype("string").str.strip().fillna("").ne("")].reset_index(drop=True)
    if df.empty:
        raise InputFileError(path, f"no row with a '{CODE_COLUMN}' code")
    df[CODE_COLUMN] = df[CODE_COLUMN].astype("string").str.strip().str.zfill(5)
    ids = [c for c in df.columns if re.fullmatch(r"id_\w+", c, re.IGNORECASE) and c.lower() != "id_geo"]
    return df, (ids[0] if ids else "")


def _first(df: pd.DataFrame, candidates: tuple[str, ...], prog: str = "") -> str | None:
    lower = {c.lower(): c for c in df.columns}
    return next((lower[c.format(p=prog)] for c in candidates if c.format(p=prog) in lower), None)


def _points(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    lon, lat = _first(df, LON_CANDIDATES), _first(df, LAT_CANDIDATES)
    if lon is None or lat is None:
        nan = pd.Series(float("nan"), index=df.index)
        return nan, nan
    return parse_decimal(df[lon]), parse_decimal(df[lat])


def _feature(props: dict[str, object], lon: float, lat: float) -> dict[str, object]:
    geom = None if pd.isna(lon) or pd.isna(lat) else {"type": "Point", "coordinates": [float(lon), float(lat)]}
    return {"type": "Feature", "properties": props, "geometry": geom}


def _write_geojson(features: list[dict[str, object]], target: Path) -> None:
    write_text(target, json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))


def write_laureates(path: Path, target: Path) -> None:
    """Laureates grouped by commune: ``id_geo, lib_geo, id_territoire, lib_territoire, liste_geo`` (ids and
    names joined by '; '), at the mean of the laureates' coordinates when the CSV gives them."""
    df, id_col = read_programme_csv(path)
    if not id_col:
        raise InputFileError(path, "no laureate identifier column (id_fabt, id_manup…)")
    name_col = _first(df, NAME_CANDIDATES[:-1], id_col[3:].lower()) or id_col
    lib_com = _first(df, ("lib_com", "nom_com", "commune"))
    df["_lon"], df["_lat"] = _points(df)
    features = []
    for code, g in df.groupby(CODE_COLUMN, sort=True):
        name = str(g[lib_com].iloc[0]) if lib_com else ""
        features.append(_feature({
            "id_geo": code, "lib_geo": name,
            "id_territoire": "; ".join(g[id_col].astype(str).str.strip()),
            "lib_territoire": "; ".join(g[name_col].fillna("").astype(str).str.strip()),
            "liste_geo": f"{name} ({code})",
        }, g["_lon"].mean(), g["_lat"].mean()))
    _write_geojson(features, target)


def write_programme_territories(path: Path, target: Path) -> None:
    """One feature per row: ``id_territoire, lib_territoire, liste_geo`` ("Name (code)"), point when given."""
    df, id_col = read_programme_csv(path)
    lib_com = _first(df, ("lib_com", "nom_com", "commune"))
    names = df[lib_com].fillna("").astype(str) if lib_com else pd.Series("", index=df.index)
    lon, lat = _points(df)
    codes = df[CODE_COLUMN].astype(str)
    ids = df[id_col].astype(str) if id_col else codes
    features = [_feature({"id_territoire": ids[i], "lib_territoire": names[i], "liste_geo": f"{names[i]} ({codes[i]})"},
                         lon[i], lat[i]) for i in df.index]
    _write_geojson(features, target)


def write_programme_communes(path: Path, target: Path) -> None:
    """The commune list as a comma-separated UTF-8 CSV, ``insee_com`` first, other columns kept."""
    df, _ = read_programme_csv(path)
    write_csv(df[[CODE_COLUMN, *[c for c in df.columns if c != CODE_COLUMN]]], target)
