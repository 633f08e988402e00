"""One reader per kind of spaces source, each returning the same *standard frame*.

Standard frame columns (strings unless said): ``row`` (1-based data row in the
file, int), ``source``, ``source_id``, ``name``, ``types`` (vocabulary of
:mod:`.vocabulary`), ``address``, ``postcode``, ``city``, ``declared_insee`` (as
the source gives it), ``lat_raw``, ``lon_raw`` (as written: decimal commas,
Lambert-93 metres or swapped axes are repaired later by :mod:`.coordinates`),
``geocode_score`` (float 0–1, NA when unknown), ``vintage``, ``metro_source``
(the source's own 'inside a metropolis' flag, CGET only), ``label`` (programme
label of a laureate, '' for a list of places), ``opened`` (opening year when the
source gives it), ``pii_scrubbed`` (the ``column:kind`` of the fields scrubbed).

Personal data is removed right after reading, before anything else sees the
frame: contact columns are dropped by name, and e-mails, French phone numbers and
personal URL tokens are scrubbed from every remaining text field
(:mod:`.privacy`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from coworking_geo.errors import ConfigError, InputFileError
from coworking_geo.io import parse_decimal, read_csv_text
from coworking_geo.log import get_logger
from coworking_geo.spaces.privacy import scrub_frame
from coworking_geo.spaces.vocabulary import TYPES, join_type_flags, map_types

log = get_logger(__name__)

STANDARD_COLUMNS: tuple[str, ...] = (
    "row", "source", "source_id", "name", "types", "address", "postcode", "city", "declared_insee",
    "lat_raw", "lon_raw", "geocode_score", "vintage", "metro_source", "label", "opened", "pii_scrubbed",
)
PII_COLUMN = "_pii_scrubbed"   # per-row scrub record carried from read_source_csv to _standard

PERSONAL_RE = re.compile(r"(?i)(mail|courriel|t[eé]l[eé]phone|^t[eé]l(_|$)|phone|portable|mobile|contact|pr[eé]nom|referent)")
MOJIBAKE_RE = re.compile("Ã[\u0080-\u00bf]|â€|\ufffd|Â[\u00a0-\u00bf]")

MOJIBAKE_MAX_ROWS = 5          # a few garbled cells are repaired and counted ...
MOJIBAKE_MAX_SHARE = 0.02      # ... more than this share of rows is a wrongly encoded file: error
CGET_REQUIRED = ("ID", "NOM_TL", "INSEECOM", "LAT", "LONG")
FTL_2026_REQUIRED = ("ID_UNIQUE", "NOM", "LATITUDE", "LONGITUDE")
FTL_2023_REQUIRED = ("ID_UNIQUE", "NOM", "Insee")

# France Tiers-Lieux 2023 activity flags → vocabulary types (a flag is true when 1/oui/true/x).
FTL_ACTIVITY_TYPES: dict[str, str] = {
    "OFFRE_NUM_FABR": "fablab",
    "TYPE_ACT_NUMER": "numerique",
    "OFFRE_NUM_INCLU": "numerique",
    "OFFRE_NUM_MENUM": "numerique",
}
TRUTHY = {"1", "true", "vrai", "oui", "yes", "x", "o", "1.0"}


def drop_personal(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop contact names, e-mails and phone numbers; returns the frame and the dropped column names."""
    dropped = [c for c in df.columns if PERSONAL_RE.search(str(c))]
    return df.drop(columns=dropped), dropped


def repair_mojibake(text: str) -> str:
    """Undo one round of UTF-8-read-as-latin-1 ('CafÃ©' → 'Café'); else drop stray 'Â' before a blank."""
    try:
        return text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return re.sub("Â(?=[\u00a0 ])", "", text).replace("\u00a0", " ")


def read_source_csv(path: str | os.PathLike[str], required: Sequence[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a spaces CSV (any encoding/separator), drop personal data, check the text decoded cleanly.

    Latin-1/Windows-1252 files are accepted and the encoding is recorded in the
    returned notes; a file whose text shows mojibake (UTF-8 read twice, or bytes
    that decode to replacement characters) raises :class:`InputFileError`.
    """
    try:
        df, info = read_csv_text(path, required=required)
    except pd.errors.ParserError as exc:
        raise InputFileError(path, f"malformed CSV, rows with too many fields "
                                   f"(an unquoted separator, e.g. a decimal comma in a comma-separated file?): {exc}") from None
    df, dropped = drop_personal(df)
    df, scrubbed = scrub_frame(df)
    notes: dict[str, Any] = {"file": str(path), **info, "personal_columns_dropped": dropped,
                             "personal_fields_scrubbed": int(scrubbed.str.count(":").sum())}
    if notes["personal_fields_scrubbed"]:
        log.warning("%s: scrubbed personal data from %d text fields", path, notes["personal_fields_scrubbed"])
    if dropped:
        log.info("%s: dropped personal-data columns %s", path, dropped)
    if info["encoding"] not in ("utf-8", "utf-8-sig"):
        log.warning("%s: not UTF-8, decoded as %s (accepted, recorded)", path, info["encoding"])
    text_cols = [c for c in df.columns if df[c].dtype == object or str(df[c].dtype).startswith("str")]
    garbled = pd.DataFrame({c: df[c].astype("string").str.contains(MOJIBAKE_RE, regex=True).fillna(False)
                            for c in text_cols}, index=df.index)
    n_bad = int(garbled.any(axis=1).sum()) if text_cols else 0
    if n_bad > max(MOJIBAKE_MAX_ROWS, MOJIBAKE_MAX_SHARE * len(df)):
        col = str(garbled.sum().idxmax())
        example = df.loc[garbled[col], col].iloc[0]
        raise InputFileError(path, f"garbled text in {n_bad} of {len(df)} rows (e.g. column '{col}': {example!r}): "
                                   f"the file was decoded as {info['encoding']} but its text is mis-encoded "
                                   "(UTF-8 saved as latin-1?); re-save it as UTF-8")
    for c in text_cols:
        if garbled[c].any():
            df.loc[garbled[c], c] = df.loc[garbled[c], c].map(repair_mojibake)
    notes["mojibake_repaired"] = n_bad
    if n_bad:
        log.warning("%s: repaired mis-encoded text in %d rows", path, n_bad)
    if df.empty:
        raise InputFileError(path, "the file has a header but no data rows")
    df[PII_COLUMN] = scrubbed
    return df, notes


def _standard(df: pd.DataFrame, source: str, vintage: str, **cols: pd.Series | str | float | None) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    out["row"] = pd.Series(range(1, len(df) + 1), index=df.index, dtype="int64")
    out["source"] = source
    for c in STANDARD_COLUMNS:
        if c in ("row", "source"):
            continue
        v = cols.get(c)
        if c == "geocode_score":
            out[c] = v if isinstance(v, pd.Series) else pd.Series(float("nan"), index=df.index)
        elif isinstance(v, pd.Series):
            out[c] = v.astype("string").str.strip()
        else:
            out[c] = pd.Series(v, index=df.index, dtype="string")
    out["vintage"] = out["vintage"].fillna(vintage)
    out["types"] = out["types"].fillna("")
    out["label"] = out["label"].fillna("")
    if PII_COLUMN in df and not isinstance(cols.get("pii_scrubbed"), pd.Series):
        out["pii_scrubbed"] = df[PII_COLUMN].astype("string")
    out["pii_scrubbed"] = out["pii_scrubbed"].fillna("")
    return out.reset_index(drop=True)


def rescale_score(score: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Geocoder scores on a 0–1 scale; scores written on a 0–10 scale (8, 9…) are divided by 10.

    Returns the scores and a boolean 'was rescaled' mask.
    """
    s = parse_decimal(score)
    big = s.gt(1) & s.le(10)
    s = s.mask(big, s / 10).mask(s.gt(10) | s.lt(0))
    return s, big


def read_cget_2019(files: Sequence[str | os.PathLike[str]], source: str, vintage: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """CGET 2019 mission list (``CGET_TiersLieux_2019.csv``): 1,512 rows, TYPO → coworking / fablab."""
    path = files[0]
    df, notes = read_source_csv(path, CGET_REQUIRED)
    score, rescaled = rescale_score(df["PRECISION"]) if "PRECISION" in df else (pd.Series(float("nan"), index=df.index), None)
    notes["precision_rescaled"] = int(rescaled.sum()) if rescaled is not None else 0
    geocod = df.get("GEOCOD", pd.Series(pd.NA, index=df.index)).astype("string")
    notes["placed_by_hand"] = int(geocod.eq("PLACE A LA MAIN").sum())
    out = _standard(
        df, source, vintage,
        source_id=df["ID"], name=df["NOM_TL"], types=map_types(df.get("TYPO", pd.Series(pd.NA, index=df.index))),
        address=df.get("ADRESSE"), postcode=df.get("CP"), city=df.get("NOMCOM", df.get("COMINIT")),
        declared_insee=df["INSEECOM"], lat_raw=df["LAT"], lon_raw=df["LONG"], geocode_score=score,
        metro_source=df.get("METRO"),
    )
    out["precision_rescaled"] = rescaled.to_numpy() if rescaled is not None else False
    return out, notes


def _truthy(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().str.lower().isin(TRUTHY).fillna(False)


def read_ftl_census(files: Sequence[str | os.PathLike[str]], source: str, vintage: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """France Tiers-Lieux census, 2023 or 2026 layout (detected from the identity file's columns).

    2026: ``LATITUDE``/``LONGITUDE`` with decimal commas, no INSEE code (located by
    point-in-polygon; ``CODPOST``/``VILLE`` kept). 2023: ``Insee`` and no
    coordinates (commune-centroid fallback); types come from ``familles_tiers_lieux``
    when present and from the activities file (joined on ``ID_UNIQUE``).
    """
    path = Path(files[0])
    head, _ = read_csv_text(path)
    layout = "2026" if {"LATITUDE", "LONGITUDE"} <= set(head.columns) else "2023"
    df, notes = read_source_csv(path, FTL_2026_REQUIRED if layout == "2026" else FTL_2023_REQUIRED)
    notes["layout"] = layout
    fam = df["familles_tiers_lieux"] if "familles_tiers_lieux" in df else pd.Series(pd.NA, index=df.index)
    types = map_types(fam)
    if layout == "2023" and len(files) > 1:
        act, act_notes = read_source_csv(files[1], ("ID_UNIQUE",))
        notes["activities_file"] = act_notes
        flags = pd.DataFrame({t: False for t in TYPES}, index=act.index)
        for col, t in FTL_ACTIVITY_TYPES.items():
            if col in act:
                flags[t] = flags[t] | _truthy(act[col])
        act_types = pd.Series(join_type_flags(flags).values, index=act["ID_UNIQUE"].astype("string").str.strip())
        act_types = act_types[~act_types.index.duplicated()]
        joined = df["ID_UNIQUE"].astype("string").str.strip().map(act_types).fillna("")
        from coworking_geo.spaces.vocabulary import union_types
        types = union_types(types, joined.astype("string"))
        notes["activities_joined"] = int(df["ID_UNIQUE"].astype("string").str.strip().isin(act_types.index).sum())
    out = _standard(
        df, source, vintage,
        source_id=df["ID_UNIQUE"], name=df["NOM"], types=types, address=df.get("ADRESSE"),
        postcode=df.get("CODPOST"), city=df.get("VILLE"),
        declared_insee=df.get("Insee", df.get("INSEE")),
        lat_raw=df.get("LATITUDE"), lon_raw=df.get("LONGITUDE"),
        opened=df["DATE_OUV"].astype("string").str.extract(r"((?:19|20)\d{2})")[0] if "DATE_OUV" in df else None,
    )
    return out, notes


GENERIC_FIELDS = ("source_id", "name", "types", "address", "postcode", "insee", "lon", "lat", "precision")


def read_generic_csv(files: Sequence[str | os.PathLike[str]], source: str, vintage: str,
                     columns: Mapping[str, str] | None = None, types_default: str | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A user's own list (e.g. a regional network's directory) with a column mapping.

    ``columns`` maps our field names (:data:`GENERIC_FIELDS`) to the file's
    column names; ``name`` is required, and either ``lat``+``lon`` or ``insee``.
    ``types_default`` (a vocabulary label) applies where the file gives no type.
    """
    columns = dict(columns or {})
    unknown = set(columns) - set(GENERIC_FIELDS)
    if unknown:
        raise ConfigError(f"spaces source '{source}': unknown field(s) in columns: {sorted(unknown)}")
    if "name" not in columns or not ({"lat", "lon"} <= set(columns) or "insee" in columns):
        raise ConfigError(f"spaces source '{source}': the column mapping needs 'name' and either 'lat'+'lon' or 'insee'")
    df, notes = read_source_csv(files[0], tuple(columns.values()))

    def col(field: str) -> pd.Series | None:
        return df[columns[field]] if field in columns else None

    types = map_types(df[columns["types"]]) if "types" in columns else pd.Series("", index=df.index, dtype="string")
    if types_default:
        default = map_types(pd.Series(types_default, index=df.index))
        types = types.mask(types.eq(""), default)
    score = rescale_score(df[columns["precision"]])[0] if "precision" in columns else None
    sid = col("source_id") if "source_id" in columns else pd.Series(range(1, len(df) + 1), index=df.index).astype("string")
    out = _standard(df, source, vintage, source_id=sid, name=col("name"), types=types, address=col("address"),
                    postcode=col("postcode"), declared_insee=col("insee"), lat_raw=col("lat"), lon_raw=col("lon"),
                    geocode_score=score)
    return out, notes


def read_spaces_source(entry: Mapping[str, Any], files: Sequence[str | os.PathLike[str]], vintage: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Dispatch on ``entry['kind']`` (cget_2019 | ftl_census | generic_csv)."""
    kind, source = entry["kind"], entry["id"]
    if kind == "cget_2019":
        return read_cget_2019(files, source, vintage)
    if kind == "ftl_census":
        return read_ftl_census(files, source, vintage)
    if kind == "generic_csv":
        return read_generic_csv(files, source, entry.get("vintage", vintage), entry.get("columns"), entry.get("types_default"))
    raise ConfigError(f"spaces source '{source}': unknown kind '{kind}' (cget_2019, ftl_census, generic_csv)")
