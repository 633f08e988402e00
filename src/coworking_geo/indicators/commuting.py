"""Home-to-work commuting per commune from INSEE MOBPRO flows (commune of residence → commune of work).

Flows are employed residents aged 15+ (``ACTOCC15P``, weighted, so fractional).
Distances are great-circle km between commune centroids (computed in a metric
CRS); a trip within the commune counts as 0 km. Each source covers a known set
of residence départements: a commune outside every source's coverage gets NA
and ``flows_covered = False``, never 0.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from coworking_geo.codes import dep_of, normalise_insee
from coworking_geo.errors import InputFileError
from coworking_geo.geodesy import commune_centroids, haversine_km
from coworking_geo.indicators.coverage import SOURCE_COVERAGE
from coworking_geo.indicators.join import carry_codes
from coworking_geo.io import read_csv_text
from coworking_geo.log import get_logger

log = get_logger(__name__)

BASE_FLUX_RE = re.compile(r"^NBFLUX_C(\d{2})_ACTOCC15P$")


@dataclass
class Flows:
    """Commune-pair flows of one source: ``res_code, work_code, flow`` (persons) on the source's COG."""

    source: str
    label: str
    pairs: pd.DataFrame
    coverage_deps: tuple[str, ...] | None
    note: str = ""
    dropped_out_of_coverage: float = 0.0


def _restrict(source: str, pairs: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, float]:
    cov = SOURCE_COVERAGE.get(source)
    bad = pairs["res_code"].isna()
    if bad.any():
        log.warning("%s: %d flow row(s) without a usable residence code dropped (%.0f persons)", path, int(bad.sum()),
                    pairs.loc[bad, "flow"].sum())
    pairs = pairs[~bad]
    if cov is None:
        return pairs, 0.0
    inside = pairs["res_code"].map(dep_of).isin(cov)
    out = float(pairs.loc[~inside, "flow"].sum())
    if (~inside).any():
        log.warning("%s: %d row(s) (%.0f persons) live outside the source's coverage %s and are left out",
                    path, int((~inside).sum()), out, list(cov))
    return pairs[inside], out


def _pairs(res: pd.Series, work: pd.Series, flow: pd.Series, path: Path) -> pd.DataFrame:
    r, _ = normalise_insee(res)
    w, _ = normalise_insee(work)
    f = pd.to_numeric(flow.astype("string").str.replace(",", ".", regex=False), errors="coerce")
    if f.isna().any():
        raise InputFileError(path, f"{int(f.isna().sum())} flow value(s) are not numbers, e.g. {flow[f.isna()].head(3).tolist()}")
    return pd.DataFrame({"res_code": r, "work_code": w.fillna(work.astype("string").str.strip()), "flow": f.astype("float64")})


def read_base_flux(path: str | os.PathLike[str], source: str = "insee_mobpro_national") -> Flows:
    """Read INSEE's "base flux de mobilité domicile - lieu de travail" (zip or csv;
    ``CODGEO;LIBGEO;DCLT;L_DCLT;NBFLUX_C{YY}_ACTOCC15P``); the census year comes from the column name."""
    p = Path(path)
    df, _ = read_csv_text(p)
    flux = [c for c in df.columns if BASE_FLUX_RE.match(c)]
    missing = [c for c in ("CODGEO", "DCLT") if c not in df.columns]
    if missing or not flux:
        raise InputFileError(p, f"not a MOBPRO base flux table: missing {missing or 'NBFLUX_C{YY}_ACTOCC15P'}; "
                                f"columns found: {list(df.columns)[:10]}")
    yy = BASE_FLUX_RE.sub(r"\1", flux[0])
    pairs, out = _restrict(source, _pairs(df["CODGEO"], df["DCLT"], df[flux[0]], p), p)
    note = ""
    if len(pairs) and pairs["flow"].min() >= 100:
        note = "only flows of 100 or more are published: employed residents are a lower bound"
    return Flows(source, f"MOBPRO base flux RP20{yy}", pairs, SOURCE_COVERAGE.get(source), note, out)


def read_idf_flows(path: str | os.PathLike[str], source: str = "insee_mobpro_idf_rp2014") -> Flows:
    """Read the Île-de-France RP2014 flow table (``CODGEO_RES, CODGEO_TRAV, NB_ACTOCC15P``); both ends are in IdF."""
    p = Path(path)
    df, _ = read_csv_text(p, ["CODGEO_RES", "CODGEO_TRAV", "NB_ACTOCC15P"])
    pairs, out = _restrict(source, _pairs(df["CODGEO_RES"], df["CODGEO_TRAV"], df["NB_ACTOCC15P"], p), p)
    return Flows(source, "MOBPRO Île-de-France RP2014", pairs, SOURCE_COVERAGE.get(source),
                 "Île-de-France → Île-de-France only: residents working outside the region are missing", out)


def read_fd_records(path: str | os.PathLike[str], source: str = "insee_mobpro_orne") -> Flows:
    """Aggregate MOBPRO individual records (``COMMUNE, DCLT, IPONDI``) to commune pairs weighted by IPONDI."""
    p = Path(path)
    df, _ = read_csv_text(p, ["COMMUNE", "DCLT", "IPONDI"])
    pairs = _pairs(df["COMMUNE"], df["DCLT"], df["IPONDI"], p)
    pairs = pairs.groupby(["res_code", "work_code"], as_index=False, dropna=False).agg(flow=("flow", "sum"))
    pairs, out = _restrict(source, pairs, p)
    return Flows(source, "MOBPRO fichier détail (Orne)", pairs, SOURCE_COVERAGE.get(source), "", out)


def read_flows(source: str, files: list[str]) -> Flows:
    """Dispatch on the source id to the reader of its layout."""
    if source == "insee_mobpro_idf_rp2014":
        return read_idf_flows(next(f for f in files if "flows" in Path(f).name), source)
    if source == "insee_mobpro_orne":
        return read_fd_records(files[0], source)
    return read_base_flux(files[0], source)


def read_places(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Every commune of the national layer (GeoPackage of polygons): ``insee_code`` index, ``name, lon, lat``
    (centroid in the commune's metric CRS, returned in EPSG:4326)."""
    g = gpd.read_file(path, columns=["INSEE_COM", "NOM", "INSEE_DEP"])
    g = g.rename(columns={"INSEE_COM": "insee_code", "NOM": "name", "INSEE_DEP": "dep_code"})
    cent = commune_centroids(g)
    return cent.join(g.set_index("insee_code")["name"])


def places_from_communes(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Same as :func:`read_places` from a communes GeoDataFrame (``insee_code, name, dep_code, geometry``)."""
    return commune_centroids(communes).join(communes.set_index("insee_code")["name"])


def _weighted_median(keys: pd.Series, values: pd.Series, weights: pd.Series) -> pd.Series:
    """Weighted median of ``values`` per key (vectorised: sort, cumulative weight, first row past half)."""
    df = pd.DataFrame({"k": keys.to_numpy(), "v": values.to_numpy(), "w": weights.to_numpy()}).dropna()
    df = df.sort_values(["k", "v"], kind="mergesort")
    cum = df.groupby("k")["w"].cumsum()
    total = df.groupby("k")["w"].transform("sum")
    return df[cum >= total / 2].groupby("k")["v"].first()


def commune_commuting(flows: Flows, crosswalk: pd.DataFrame, places: pd.DataFrame, long_km: float,
                      residents: pd.Series | None = None) -> tuple[pd.DataFrame, dict]:
    """Per residence commune (today's codes) of one source: employed residents, share working outside,
    mean and median distance (km), long commuters (> ``long_km``), main destination outside the commune.

    ``residents`` (today's codes) keeps only the flows of those communes' residents, wherever they work (a
    région partition); the source-wide statistics (rows, totals, unmatched residence codes) stay whole."""
    current = pd.Series(places.index, dtype="string")
    res = carry_codes(flows.pairs["res_code"], crosswalk, current)["insee_code"]
    p = pd.DataFrame({"res": res.to_numpy(), "work": flows.pairs["work_code"].to_numpy(), "flow": flows.pairs["flow"].to_numpy()})
    lost_res = p["res"].isna()
    stats = {"source": flows.source, "label": flows.label, "rows": len(flows.pairs),
             "flows_total": float(p["flow"].sum()), "out_of_coverage_dropped": flows.dropped_out_of_coverage,
             "residence_codes_unmatched": int(lost_res.sum()), "flows_residence_unmatched": float(p.loc[lost_res, "flow"].sum()),
             "note": flows.note}
    if lost_res.any():
        log.warning("%s: %d pair(s) (%.0f persons) have a residence code matching no current commune: %s", flows.source,
                    int(lost_res.sum()), p.loc[lost_res, "flow"].sum(), flows.pairs.loc[lost_res.to_numpy(), "res_code"].unique()[:8].tolist())
    p = p[~lost_res]
    if residents is not None:
        p = p[p["res"].isin(pd.Series(residents, dtype="string"))]
    p = p.assign(work=carry_codes(p["work"].astype("string").reset_index(drop=True), crosswalk, current)["insee_code"].to_numpy())
    unlocated = p["work"].isna()
    stats["flows_destination_unlocated"] = float(p.loc[unlocated, "flow"].sum())
    if unlocated.any():
        log.info("%s: %.0f persons work in %d place(s) outside the national commune list (abroad or unknown): no distance",
                 flows.source, p.loc[unlocated, "flow"].sum(), int(unlocated.sum()))
    p = p.fillna({"work": "_unlocated"}).groupby(["res", "work"], as_index=False).agg(flow=("flow", "sum"))
    p["work"] = p["work"].replace("_unlocated", pd.NA)
    lon_r, lat_r = places["lon"].reindex(p["res"]).to_numpy(), places["lat"].reindex(p["res"]).to_numpy()
    lon_w, lat_w = places["lon"].reindex(p["work"].fillna("")).to_numpy(), places["lat"].reindex(p["work"].fillna("")).to_numpy()
    d = haversine_km(lon_r, lat_r, lon_w, lat_w)
    same = p["res"].eq(p["work"]).fillna(False).to_numpy()
    d = np.where(same, 0.0, d)
    p["dist"] = d
    g = p.groupby("res")
    employed = g["flow"].sum()
    outside = p[~same].groupby("res")["flow"].sum().reindex(employed.index, fill_value=0.0)
    located = p[p["dist"].notna()]
    mean = (located["flow"] * located["dist"]).groupby(located["res"]).sum() / located.groupby("res")["flow"].sum()
    median = _weighted_median(located["res"], located["dist"], located["flow"])
    long_ = located.loc[located["dist"] > long_km].groupby("res")["flow"].sum().reindex(employed.index, fill_value=0.0)
    away = p[~same & p["work"].notna()].sort_values(["res", "flow"], ascending=[True, False], kind="mergesort")
    main = away.drop_duplicates("res").set_index("res")["work"]
    out = pd.DataFrame({
        "employed_residents": employed, "share_outside": outside / employed.where(employed > 0),
        "commute_median_km": median.reindex(employed.index), "commute_mean_km": mean.reindex(employed.index),
        "long_commuters": long_, "main_destination": main.reindex(employed.index).astype("string"),
    })
    out.index.name = "insee_code"
    out["main_destination_name"] = places["name"].reindex(out["main_destination"].fillna("")).astype("string").to_numpy()
    return out.reset_index(), stats


def build_commuting(communes: pd.DataFrame, flows_list: list[Flows], crosswalk: pd.DataFrame,
                    places: pd.DataFrame, long_km: float, restrict: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``commuting.parquet`` for ``communes`` (``insee_code, dep_code``) and the summary table.

    ``restrict`` processes only the flows of ``communes``' residents (a région partition: the
    rows are the same as in the territory-wide run; see :func:`gather_summary`).

    The first source (in the given order) covering a commune's département
    provides its row; communes covered by no source get NA and
    ``flows_covered = False``. A covered commune absent from the flows gets 0
    employed residents and the flag ``absent_from_flows``.
    """
    base = pd.DataFrame({"insee_code": communes["insee_code"].astype("string").to_numpy(),
                         "dep_code": communes["dep_code"].astype("string").to_numpy()})
    parts, summary = [], []
    assigned = pd.Series(False, index=base.index)
    for fl in flows_list:
        table, stats = commune_commuting(fl, crosswalk, places, long_km, residents=base["insee_code"] if restrict else None)
        covered = ~assigned & (base["dep_code"].isin(fl.coverage_deps) if fl.coverage_deps is not None else True)
        sub = base.loc[covered, ["insee_code"]].merge(table, on="insee_code", how="left")
        sub["commuting_flags"] = pd.Series("", index=sub.index, dtype="string").mask(sub["employed_residents"].isna(), "absent_from_flows")
        sub = sub.fillna({"employed_residents": 0.0, "long_commuters": 0.0})
        sub["flows_source"] = fl.label + (f" ({fl.note})" if fl.note else "")
        parts.append(sub)
        assigned |= covered
        stats.update({"communes_covered": int(covered.sum()), "communes_absent_from_flows": int(sub["commuting_flags"].ne("").sum()),
                      "employed_residents": float(sub["employed_residents"].sum()),
                      "share_outside": float((sub["employed_residents"] * sub["share_outside"]).sum() / sub["employed_residents"].sum())
                      if sub["employed_residents"].sum() else np.nan,
                      "long_commuters": float(sub["long_commuters"].sum())})
        summary.append(stats)
    cols = ["employed_residents", "share_outside", "commute_median_km", "commute_mean_km", "long_commuters",
            "main_destination", "main_destination_name", "flows_source", "commuting_flags"]
    rest = base.loc[~assigned, ["insee_code"]].assign(commuting_flags="outside_flows_coverage")
    out = pd.concat([*parts, rest], ignore_index=True) if parts else rest
    out = base[["insee_code"]].merge(out, on="insee_code", how="left")
    out.insert(1, "flows_covered", base["insee_code"].isin(pd.concat([x["insee_code"] for x in parts]) if parts else []).to_numpy())
    dtypes = {"employed_residents": "float64", "share_outside": "float64", "commute_median_km": "float64",
              "commute_mean_km": "float64", "long_commuters": "float64", "main_destination": "string",
              "main_destination_name": "string", "flows_source": "string", "commuting_flags": "string"}
    for c in cols:
        if c not in out.columns:  # no source read (e.g. a région partition no source covers)
            out[c] = pd.Series(np.nan if dtypes[c] == "float64" else pd.NA, index=out.index, dtype=dtypes[c])
    out = out[["insee_code", "flows_covered", *cols]]
    out = out.astype(dtypes)
    n_out = int((~out["flows_covered"]).sum())
    if n_out:
        log.info("%d commune(s) outside every commuting source's coverage: NA, flows_covered=False", n_out)
    summary.append({"source": "none", "label": "outside coverage", "communes_covered": n_out})
    return out, pd.DataFrame(summary)


SUMMARY_SOURCE_WIDE = ["label", "rows", "flows_total", "out_of_coverage_dropped", "residence_codes_unmatched",
                       "flows_residence_unmatched", "note"]
SUMMARY_ADDITIVE = ["flows_destination_unlocated", "communes_covered", "communes_absent_from_flows",
                    "employed_residents", "long_commuters"]


def gather_summary(parts: list[pd.DataFrame], sources: list[str]) -> pd.DataFrame:
    """The territory's ``commuting_summary`` from the région partitions' summaries.

    Source-wide statistics are the same in every partition that read the source (first one kept);
    commune counts, persons and unlocated destinations are added; ``share_outside`` is re-weighted by
    employed residents. Sources in the order of ``sources``, then the "none" (outside coverage) row.
    A configured source that no région read (it covers none of the territory's régions) gets a row
    with 0 communes covered and a note."""
    df = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else pd.DataFrame(
        {"source": pd.Series([], dtype="string")})
    for c in [*SUMMARY_SOURCE_WIDE, *SUMMARY_ADDITIVE, "share_outside"]:
        if c not in df.columns:
            df[c] = np.nan
    df["_out"] = df["employed_residents"] * df["share_outside"]
    g = df.groupby("source", sort=False)
    first = g[SUMMARY_SOURCE_WIDE].first()
    summed = g[[*SUMMARY_ADDITIVE, "_out"]].sum(min_count=1)
    out = first.join(summed)
    out["share_outside"] = out["_out"] / out["employed_residents"].where(out["employed_residents"] > 0)
    out = out.drop(columns="_out")
    rows = []
    for s in sources:
        if s in out.index:
            rows.append({"source": s, **out.loc[s].to_dict()})
        else:
            rows.append({"source": s, "communes_covered": 0, "note": "covers none of the territory's régions: not read"})
    if "none" in out.index:
        rows.append({"source": "none", "label": "outside coverage", "communes_covered": out.loc["none", "communes_covered"]})
    cols = ["source", "label", "rows", "flows_total", "out_of_coverage_dropped", "residence_codes_unmatched",
            "flows_residence_unmatched", "note", "flows_destination_unlocated", "communes_covered",
            "communes_absent_from_flows", "employed_residents", "share_outside", "long_commuters"]
    res = pd.DataFrame(rows)
    return res[[c for c in cols if c in res.columns]]
