"""Assemble the register: repair, locate, fall back or reject, de-duplicate, filter, account.

Every input row ends in exactly one status — ``kept`` (in ``spaces.parquet``),
``merged`` (a duplicate of a kept row), ``rejected`` (with a reason) or
``outside_territory`` — so that input rows = kept + merged + rejected +
outside territory, per source.

Sources are lists of places (CGET 2019, France Tiers-Lieux censuses, a user's CSV)
and programme laureates (rows with a ``label``: ``fabrique`` / ``manufacture``).
Places of the lists are de-duplicated by :func:`.dedup.find_duplicates`; a laureate,
located at its commune's centroid, merges with the place of its commune whose name
is alike (:func:`.programmes.match_laureates`), so that a place is counted once
and carries every label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coworking_geo.errors import InputFileError
from coworking_geo.log import get_logger
from coworking_geo.spaces.coordinates import repair_coordinates
from coworking_geo.spaces.dedup import find_duplicates
from coworking_geo.spaces.locate import (
    CommuneIndex,
    commune_from_city,
    commune_points,
    distance_to_commune_km,
    point_in_commune,
    resolve_declared,
)
from coworking_geo.spaces.programmes import match_laureates
from coworking_geo.spaces.vocabulary import union_types

log = get_logger(__name__)

SPACE_COLUMNS: tuple[str, ...] = (
    "space_id", "source", "source_id", "name", "types", "address", "postcode", "declared_insee", "insee_code",
    "lon", "lat", "location_precision", "qa_flags", "fabrique", "manufacture", "vintage",
    "labels", "sources", "vintages",
)
#: programme labels a place can carry, in this order in ``labels``
LABELS: tuple[str, ...] = ("fabrique", "manufacture")
STATUSES = ("kept", "merged", "rejected", "outside_territory")


@dataclass(frozen=True)
class RegisterParams:
    """Thresholds (config ``spaces:``): metres, and the geocoder score of a well-geocoded row."""

    duplicate_distance_m: float = 150.0
    duplicate_same_commune_m: float = 1000.0
    border_tolerance_m: float = 1500.0
    offshore_tolerance_m: float = 5000.0
    well_geocoded_precision: float = 0.8
    street_precision: float = 0.5
    programme_name_similarity: float = 0.5


@dataclass
class Register:
    """The register (kept rows) and its accounting tables.

    ``context`` holds the register's places plus the de-duplicated, located places
    outside the territory: distances to the nearest space must see a space just
    across the territory's border.
    """

    spaces: gpd.GeoDataFrame
    context: gpd.GeoDataFrame
    rows: pd.DataFrame          # every input row, with status, reason, flags
    rejected: pd.DataFrame      # row, source, source_id, name, reason
    fixes: pd.DataFrame         # source, row, source_id, space_id, fix, detail
    quality: pd.DataFrame       # one line per source (+ total)


def _flag(flags: pd.Series, mask: pd.Series | np.ndarray, label: str | pd.Series) -> pd.Series:
    mask = pd.Series(mask, index=flags.index).fillna(False).astype(bool)
    return flags.mask(mask, flags.where(flags.eq(""), flags + ";") + label)


def locate_rows(df: pd.DataFrame, index: CommuneIndex, crosswalk: pd.DataFrame | None,
                params: RegisterParams, files: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Repair coordinates, resolve the declared commune, assign the current one; set location or reject reason.

    Adds ``lon, lat, insee_code, location_precision, qa_flags, reject_reason,
    declared_code, declared_distance_km, in_declared, well_geocoded``.
    Raises :class:`InputFileError` when a source with coordinate columns has not
    a single usable coordinate.
    """
    df = df.copy()
    rep = repair_coordinates(df["lat_raw"], df["lon_raw"])
    flags = pd.Series("", index=df.index, dtype="string")
    for fx in ("decimal_comma", "lambert93", "swapped"):
        flags = _flag(flags, rep.fixes.str.contains(fx, regex=False), fx)
    flags = _flag(flags, df.get("precision_rescaled", pd.Series(False, index=df.index)), "precision_rescaled")
    flags = _flag(flags, df["pii_scrubbed"].fillna("").ne(""), "pii_scrubbed")

    # Every coordinate invalid in a source that has coordinate columns: a wrong file, say so.
    has_xy = df["lat_raw"].notna() | df["lon_raw"].notna()
    for src, g in df[has_xy].groupby("source"):
        if not rep.valid[g.index].any() and len(g) >= 1:
            path = (files or {}).get(str(src), str(src))
            ex = f"{g['lat_raw'].iloc[0]!r}, {g['lon_raw'].iloc[0]!r}"
            raise InputFileError(path, f"every coordinate is invalid ({len(g)} rows, e.g. lat/lon {ex}): "
                                       "none lies in France, even after fixing decimal commas, "
                                       "swapped axes and Lambert-93 metres")

    declared, dstatus = resolve_declared(df["declared_insee"], crosswalk, index)
    from_city = declared.isna() & df["declared_insee"].isna() & df["city"].notna()
    if from_city.any():
        city_code = commune_from_city(df["postcode"], df["city"], index)
        declared = declared.mask(from_city, city_code)
        dstatus = dstatus.mask(from_city & city_code.notna(), "from_city")
    flags = _flag(flags, dstatus.isin(["invalid", "unknown"]), "declared_" + dstatus.astype(str))
    flags = _flag(flags, dstatus.isin(["arrondissement", "merged", "delegated", "associated", "recoded"]),
                  "declared_" + dstatus.astype(str))

    lon, lat = rep.lon.where(rep.valid), rep.lat.where(rep.valid)
    pip, how = point_in_commune(lon, lat, rep.zone, index, params.border_tolerance_m)
    dist = distance_to_commune_km(lon, lat, declared, index)
    # Off every (simplified) polygon — islands, coasts — but close to the declared commune: keep the point.
    offshore = lon.notna() & pip.isna() & dist.le(params.offshore_tolerance_m / 1000.0).fillna(False)
    pip = pip.mask(offshore, declared)
    flags = _flag(flags, offshore, "off_polygon_declared_kept")
    outside = lon.notna() & pip.isna()          # in a box but in no commune nor near one
    lon, lat, dist = lon.mask(outside), lat.mask(outside), dist.mask(outside)
    flags = _flag(flags, how.eq("nearest"), "snapped_to_nearest_commune")
    coord_outside = rep.fixes.str.contains("outside_france", regex=False) | outside

    tol_km = params.border_tolerance_m / 1000.0
    same = pip.eq(declared).fillna(False)
    border = ~same & declared.notna() & pip.notna() & dist.le(tol_km).fillna(False)
    mismatch = ~same & declared.notna() & pip.notna() & dist.gt(tol_km).fillna(False)
    flags = _flag(flags, border, "near_border_declared_kept")
    flags = _flag(flags, mismatch, "declared_mismatch")
    insee = pip.mask(border, declared)

    score = df["geocode_score"].astype("float64")
    prec = pd.Series("unknown", index=df.index, dtype="string")
    prec = prec.mask(score.ge(params.well_geocoded_precision), "address")
    prec = prec.mask(score.lt(params.well_geocoded_precision) & score.ge(params.street_precision), "street")
    prec = prec.mask(score.lt(params.street_precision), "approximate")

    # No usable point: the declared commune's centroid, else reject.
    fallback = lon.isna() & declared.notna()
    clon, clat = commune_points(declared.where(fallback), index)
    lon, lat = lon.mask(fallback, clon), lat.mask(fallback, clat)
    insee = insee.mask(fallback, declared)
    prec = prec.mask(fallback, "commune").mask(lon.isna(), pd.NA)
    flags = _flag(flags, fallback & coord_outside, "outside_france_coordinates")
    flags = _flag(flags, fallback, "commune_centroid")

    reason = pd.Series(pd.NA, index=df.index, dtype="string")
    no_loc = lon.isna()
    reason = reason.mask(no_loc & coord_outside, "coordinates outside France and no usable commune code")
    reason = reason.mask(no_loc & ~coord_outside & dstatus.isin(["invalid", "unknown"]),
                         "no coordinates and an unknown commune code")
    unknown_code = no_loc & ~coord_outside & dstatus.eq("unknown") & df["declared_insee"].notna()
    reason = reason.mask(unknown_code, "no coordinates and an unknown commune code: "
                         + df["declared_insee"].astype("string") + " is not a commune of the COG 2024 polygons")
    reason = reason.mask(no_loc & reason.isna(), "no coordinates and no commune code")
    reason = reason.mask(df["name"].isna() & no_loc, "empty row (no name, no location)")

    df["lon"], df["lat"], df["insee_code"] = lon, lat, insee
    df["location_precision"], df["qa_flags"], df["reject_reason"] = prec, flags, reason
    df["declared_code"], df["declared_status"] = declared, dstatus
    df["declared_distance_km"] = dist.round(3)
    df["well_geocoded"] = score.ge(params.well_geocoded_precision).fillna(False) & ~fallback & lon.notna()
    df["in_declared"] = (same | border).where(declared.notna() & pip.notna())
    df["coord_fixes"] = rep.fixes
    df["pip_code"] = pip
    return df


def _space_ids(df: pd.DataFrame) -> pd.Series:
    sid = df["source_id"].astype("string").fillna("r" + df["row"].astype("string"))
    base = df["source"].astype("string") + ":" + sid
    dup = base.duplicated(keep="first")
    return base.mask(dup, base + "-r" + df["row"].astype("string"))


def build_register(frames: Sequence[pd.DataFrame], index: CommuneIndex, crosswalk: pd.DataFrame | None,
                   territory_codes: set[str] | None, params: RegisterParams,
                   files: Mapping[str, str] | None = None) -> Register:
    """Harmonised register from the standard frames of :mod:`.readers` (config order = priority order).

    ``territory_codes``: the current commune codes of the territory (None = keep all).
    """
    df = pd.concat(list(frames), ignore_index=True)
    source_order = list(dict.fromkeys(df["source"]))
    df = locate_rows(df, index, crosswalk, params, files)
    df["space_id"] = _space_ids(df)
    df["qa_flags"] = _flag(df["qa_flags"], df["space_id"].ne(df["source"] + ":" + df["source_id"].fillna("")),
                           "duplicate_source_id")

    ok = df["reject_reason"].isna()
    laureate = df["label"].fillna("").ne("")
    listed = ok & ~laureate
    shared = df[listed].duplicated(["lon", "lat"], keep=False) & df.loc[listed, "location_precision"].ne("commune")
    df["qa_flags"] = _flag(df["qa_flags"], shared.reindex(df.index, fill_value=False), "shared_coordinates")
    into = find_duplicates(df[listed], params.duplicate_distance_m, params.duplicate_same_commune_m, source_order)
    df["merged_into"] = pd.Series(pd.NA, index=df.index, dtype="object")
    df.loc[into.index, "merged_into"] = into
    places = df[listed & df["merged_into"].isna()]
    lau = match_laureates(df[ok & laureate], places, params.programme_name_similarity)
    df.loc[lau.index, "merged_into"] = lau["into"]
    for c in ("similarity", "n_places_in_commune", "distinct_ids"):
        df[c] = lau[c].reindex(df.index)
    merged = df["merged_into"].notna()

    # The kept row absorbs the types of its duplicates (not the laureates' generic type) and notes
    # how many it absorbed.
    if merged.any():
        keep_lbl = df.loc[merged, "merged_into"].astype("int64")
        from_list = ~laureate[merged]
        absorbed = df.loc[merged & ~laureate, "types"].groupby(keep_lbl[from_list].to_numpy()).agg(lambda s: ";".join(s))
        k = absorbed.index
        df.loc[k, "types"] = union_types(df.loc[k, "types"], pd.Series(absorbed.to_numpy(), index=k, dtype="string"))
        n = keep_lbl.value_counts()
        df.loc[n.index, "qa_flags"] = _flag(df.loc[n.index, "qa_flags"], pd.Series(True, index=n.index),
                                            "merged_duplicates")
        src_diff = df.loc[merged, "source"].to_numpy() != df.loc[keep_lbl.to_numpy(), "source"].to_numpy()
        df.loc[keep_lbl.to_numpy()[src_diff], "qa_flags"] = _flag(
            df.loc[keep_lbl.to_numpy()[src_diff], "qa_flags"], pd.Series(True, index=keep_lbl.to_numpy()[src_diff]),
            "in_several_sources")
        df.loc[merged, "merged_into_id"] = df.loc[keep_lbl.to_numpy(), "space_id"].to_numpy()
    else:
        df["merged_into_id"] = pd.Series(pd.NA, index=df.index, dtype="string")
    place_labels(df, source_order)

    status = pd.Series("kept", index=df.index, dtype="string")
    status = status.mask(~ok, "rejected").mask(merged, "merged")
    if territory_codes is not None:
        inside = df["insee_code"].isin(list(territory_codes)).fillna(False)
        keeper_inside = inside.copy()
        if merged.any():
            keeper_inside[merged] = inside[df.loc[merged, "merged_into"].astype("int64")].to_numpy()
        status = status.mask(ok & ~keeper_inside, "outside_territory")
    df["status"] = status

    kept = df[status.eq("kept")].copy()
    spaces = gpd.GeoDataFrame(kept[list(SPACE_COLUMNS)].reset_index(drop=True),
                              geometry=gpd.points_from_xy(kept["lon"], kept["lat"]), crs=4326)
    near = df[status.eq("outside_territory") & df["merged_into"].isna()]
    context = pd.concat([spaces, gpd.GeoDataFrame(
        near[["space_id", "insee_code", "lon", "lat", "types"]].reset_index(drop=True),
        geometry=gpd.points_from_xy(near["lon"], near["lat"]), crs=4326)], ignore_index=True)
    context["in_territory"] = context.index < len(spaces)
    rejected = df.loc[status.eq("rejected"), ["row", "source", "source_id", "name", "reject_reason"]].rename(
        columns={"reject_reason": "reason"}).reset_index(drop=True)
    fixes = fixes_table(df)
    quality = quality_table(df, fixes)
    for s, q in quality.set_index("source").iterrows():
        log.info("%s: %d input rows = %d kept + %d merged + %d rejected + %d outside territory", s,
                 q["input_rows"], q["kept"], q["merged"], q["rejected"], q["outside_territory"])
    return Register(spaces, context[["space_id", "insee_code", "lon", "lat", "types", "in_territory", "geometry"]],
                    df, rejected, fixes, quality)


FIX_KINDS: tuple[str, ...] = (
    "decimal_comma", "lambert93", "swapped", "precision_rescaled", "snapped_to_nearest_commune",
    "near_border_declared_kept", "off_polygon_declared_kept", "declared_mismatch", "commune_centroid", "outside_france_coordinates",
    "declared_arrondissement", "declared_merged", "declared_invalid", "declared_unknown", "merged_into",
    "pii_scrubbed",
)


def source_year(vintage: pd.Series) -> pd.Series:
    """The year a source describes, from its vintage text ('2019-06' → 2019; NA when none)."""
    return pd.to_numeric(vintage.astype("string").str.extract(r"((?:19|20)\d{2})")[0], errors="coerce").astype("Int64")


def place_labels(df: pd.DataFrame, source_order: list[str]) -> None:
    """Set, on every row, the place-level columns its kept row will carry (in place).

    ``fabrique`` / ``manufacture``: ';'-joined laureate ids of the place (its own row and the rows
    merged into it); ``labels``: the :data:`LABELS` it carries; ``sources`` and ``vintages``:
    the sources of its rows in config order and their years, ';'-joined; ``vintage``: the year of
    the kept row's source.
    """
    ok = df["reject_reason"].isna()
    group = df["merged_into"].where(df["merged_into"].notna(), pd.Series(df.index, index=df.index)).astype("int64")
    g = df[ok].assign(group=group[ok], year=source_year(df.loc[ok, "vintage"]).astype("string"))
    order = {s: i for i, s in enumerate(source_order)}
    g = g.assign(src_rank=g["source"].map(order)).sort_values(["group", "src_rank", "row"], kind="stable")
    for lab in LABELS:
        ids = g[g["label"].eq(lab)].groupby("group")["source_id"].agg(lambda s: ";".join(s.astype(str)))
        df[lab] = ids.reindex(df.index).astype("string").fillna("")
    first = g.drop_duplicates(["group", "source"])
    df["sources"] = first.groupby("group")["source"].agg(";".join).reindex(df.index).astype("string")
    df["vintages"] = first.groupby("group")["year"].agg(lambda s: ";".join(s.fillna(""))).reindex(df.index).astype("string")
    labels = pd.Series("", index=df.index, dtype="string")
    for lab in LABELS:
        labels = labels.mask(df[lab].ne(""), labels.where(labels.eq(""), labels + ";") + lab)
    df["labels"] = labels
    df["vintage"] = source_year(df["vintage"])


def fixes_table(df: pd.DataFrame) -> pd.DataFrame:
    """One line per (row, fix): ``source, row, source_id, space_id, fix, detail``; for ``pii_scrubbed``,
    one line per scrubbed field (detail ``column:kind``, the kind being email, phone or url_token)."""
    parts = []
    for kind in FIX_KINDS:
        if kind == "pii_scrubbed":
            m = df["pii_scrubbed"].fillna("").ne("")
            fields = df.loc[m, "pii_scrubbed"].str.split(";").explode()
            if len(fields):
                sub = df.loc[fields.index]
                parts.append(pd.DataFrame({"source": sub["source"], "row": sub["row"], "source_id": sub["source_id"],
                                           "space_id": sub["space_id"], "fix": kind,
                                           "detail": fields.astype("string")}))
            continue
        if kind == "merged_into":
            m = df["merged_into"].notna()
            detail = df.loc[m, "merged_into_id"] if "merged_into_id" in df else pd.Series(dtype="string")
        else:
            m = df["qa_flags"].str.split(";").map(lambda fl, k=kind: k in fl).astype(bool)
            detail = pd.Series("", index=df.index[m], dtype="string")
            if kind in ("declared_mismatch", "near_border_declared_kept"):
                detail = ("declared " + df.loc[m, "declared_code"].astype("string") + ", point in "
                          + df.loc[m, "insee_code"].fillna("").astype("string") + ", "
                          + df.loc[m, "declared_distance_km"].round(2).astype("string") + " km")
            elif kind in ("declared_arrondissement", "declared_merged"):
                detail = (df.loc[m, "declared_insee"].astype("string") + " -> " + df.loc[m, "declared_code"].astype("string"))
        if m.any():
            parts.append(pd.DataFrame({"source": df.loc[m, "source"], "row": df.loc[m, "row"],
                                       "source_id": df.loc[m, "source_id"], "space_id": df.loc[m, "space_id"],
                                       "fix": kind, "detail": detail.astype("string")}))
    if not parts:
        return pd.DataFrame(columns=["source", "row", "source_id", "space_id", "fix", "detail"])
    return pd.concat(parts, ignore_index=True).sort_values(["source", "row", "fix"], kind="stable").reset_index(drop=True)


def quality_table(df: pd.DataFrame, fixes: pd.DataFrame) -> pd.DataFrame:
    """Per source: input rows, kept, merged, rejected, outside territory, fixes by kind, and the
    share of well-geocoded rows (kept or merged) that lie in their declared commune."""
    rows: list[dict[str, Any]] = []
    for src, g in list(df.groupby("source", sort=False)) + [("total", df)]:
        counts = g["status"].value_counts()
        in_terr = g["status"].isin(["kept", "merged"])
        wg = g[in_terr & g["well_geocoded"] & g["in_declared"].notna()]
        rec: dict[str, Any] = {"source": src, "input_rows": len(g)}
        rec.update({s: int(counts.get(s, 0)) for s in STATUSES})
        rec["balanced"] = rec["input_rows"] == sum(rec[s] for s in STATUSES)
        f = fixes if src == "total" else fixes[fixes["source"].eq(src)]
        fc = f["fix"].value_counts()
        rec.update({f"fix_{k}": int(fc.get(k, 0)) for k in FIX_KINDS})
        rec["well_geocoded_rows"] = len(wg)
        rec["well_geocoded_in_declared"] = int(wg["in_declared"].astype(bool).sum())
        rec["in_declared_share"] = round(rec["well_geocoded_in_declared"] / len(wg), 4) if len(wg) else np.nan
        strict = wg["pip_code"].eq(wg["declared_code"]).fillna(False)
        rec["in_declared_share_strict"] = round(strict.sum() / len(wg), 4) if len(wg) else np.nan
        prec = g.loc[g["status"].eq("kept"), "location_precision"].value_counts()
        rec.update({f"precision_{p}": int(prec.get(p, 0)) for p in ("address", "street", "approximate", "unknown", "commune")})
        rows.append(rec)
    return pd.DataFrame(rows).rename(columns={"outside_territory": "outside_territory"})


def read_sources(entries: Sequence[Mapping[str, Any]]) -> tuple[list[pd.DataFrame], dict[str, dict[str, Any]]]:
    """Read every configured source. Each entry: ``id, kind, files, vintage`` (+ generic_csv keys).

    Returns the standard frames and, per source id, the reading notes
    (file, encoding, separator, personal columns dropped, repairs).
    """
    from coworking_geo.spaces.readers import read_spaces_source

    frames, notes = [], {}
    for e in entries:
        df, n = read_spaces_source(e, list(e["files"]), str(e.get("vintage", "")))
        frames.append(df)
        notes[str(e["id"])] = n
        log.info("%s: read %d rows from %s (%s, '%s')", e["id"], len(df), n["file"], n.get("encoding"), n.get("sep"))
    return frames, notes
