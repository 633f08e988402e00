"""Profiles of territories: communes (or EPCI) clustered on need and offer.

Features per unit (before scaling):

- ``log_population``: log(1 + inhabitants);
- ``long_commuter_share``: long commuters / employed residents (0–1), where
  commuting flows cover the unit;
- ``fibre_share``: FTTH share (0–1), configured vintage (default latest);
- ``log_dist_nearest_space``: log(1 + km) from the unit's centroid
  (EPCI: population-weighted mean of its communes) to the nearest space;
- ``access_2sfca``: the access score of the access stage (when present);
- ``median_income`` (€ per consumption unit, INSEE Filosofi 2019 MED19) and
  ``poverty_rate`` (%, TP6019; statistical secrecy below 1,000 households, so
  known for about one commune in eight and usually dropped by the coverage rule)
  when the ``insee_filosofi_2019`` source is given (:func:`read_filosofi`).

Features known for fewer than half of the units are dropped (logged); the
others are median-imputed by :func:`coworking_geo.typology.clustering.scale_features`.
An optional spatially constrained variant uses Ward with a k-nearest-neighbour
connectivity graph of the centroids (scikit-learn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from coworking_geo.indicators.columns import SCORE_COL
from coworking_geo.geodesy import commune_centroids, nearest_km, to_ecef_km
from coworking_geo.log import get_logger
from coworking_geo.typology.siting import fibre_column
from coworking_geo.typology.space_models import dedupe_names

if TYPE_CHECKING:
    from coworking_geo.typology.clustering import ClusteringResult

LOG = get_logger(__name__)

FEATURES = ["log_population", "long_commuter_share", "fibre_share", "log_dist_nearest_space", "access_2sfca",
            "median_income", "poverty_rate"]
#: French qualifiers (feminine plural: they follow « Communes » or « Intercommunalités »)
PROFILE_LABELS = {
    "log_population": ("peu peuplées", "peuplées"),
    "long_commuter_share": ("à trajets domicile-travail courts", "à longs trajets domicile-travail"),
    "fibre_share": ("peu fibrées", "bien fibrées"),
    "log_dist_nearest_space": ("proches d’un espace", "éloignées d’un espace"),
    "access_2sfca": ("à faible accès aux espaces", "à bon accès aux espaces"),
    "median_income": ("aux revenus modestes", "aux revenus élevés"),
    "poverty_rate": ("à faible pauvreté", "à forte pauvreté"),
}
UNIT_WORDS = {"commune": "Communes", "epci": "Intercommunalités"}
AVERAGE_TERM = "dans la moyenne"
#: a feature's cluster mean must differ from the overall mean by this many standard deviations to name it
NAME_THRESHOLD_Z = 0.25


def read_filosofi(path: str, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """``insee_code`` (current COG), ``median_income`` (MED19, € per consumption unit) and ``poverty_rate``
    (TP6019, %) from INSEE's Filosofi 2019 base communale (``;``, COG 2021 codes).

    Codes go through the crosswalk (:func:`coworking_geo.territories.crosswalk.resolve_codes`).
    A commune whose own code is in the file keeps its row (Paris, Lyon and
    Marseille: the commune, not the arrondissements); a commune formed since
    2021 gets the mean of its former communes weighted by their fiscal
    population (NBPERSMENFISC19), NA when one of them is secret. Empty
    (secret) cells stay NA, never 0.
    """
    from coworking_geo.territories.crosswalk import resolve_codes
    from coworking_geo.io import read_csv_text

    df, _ = read_csv_text(path, required=["CODGEO", "MED19", "TP6019"])
    raw = df["CODGEO"].astype("string").str.strip()
    def num(col: str) -> np.ndarray:
        v = pd.to_numeric(df[col].astype("string").str.replace(",", "."), errors="coerce")
        return v.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)

    out = pd.DataFrame({"code": raw, "median_income": num("MED19"), "poverty_rate": num("TP6019"),
                        "weight": num("NBPERSMENFISC19") if "NBPERSMENFISC19" in df else np.nan})
    out["insee_code"] = resolve_codes(raw, crosswalk)["insee_code"].to_numpy()
    n_lost = int(out["insee_code"].isna().sum())
    if n_lost:
        LOG.info("filosofi: %d codes not resolved to a current commune (left out)", n_lost)
    out = out.dropna(subset=["insee_code"])
    own = out[out["code"] == out["insee_code"]].drop_duplicates("insee_code")
    rest = out[~out["insee_code"].isin(own["insee_code"])]
    rows = []
    for code, g in rest.groupby("insee_code", sort=True):
        w = g["weight"].fillna(0.0)
        rec = {"insee_code": code}
        for c in ("median_income", "poverty_rate"):
            rec[c] = float((g[c] * w).sum() / w.sum()) if g[c].notna().all() and w.sum() > 0 else np.nan
        rows.append(rec)
    merged = pd.DataFrame(rows, columns=["insee_code", "median_income", "poverty_rate"])
    res = pd.concat([own[["insee_code", "median_income", "poverty_rate"]], merged], ignore_index=True)
    LOG.info("filosofi: %d communes, median income known for %d, poverty rate for %d", len(res),
             int(res["median_income"].notna().sum()), int(res["poverty_rate"].notna().sum()))
    res[["median_income", "poverty_rate"]] = res[["median_income", "poverty_rate"]].astype("float64")
    return res.sort_values("insee_code", kind="mergesort").reset_index(drop=True)


def commune_table(communes: pd.DataFrame, indicators: pd.DataFrame, spaces: pd.DataFrame,
                  fibre_vintage: str = "latest", income: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per commune: code, name, dep_code, epci_code, territory_class, population, lon/lat of its
    centroid, long_commuters, employed_residents, flows_covered, fibre_share (0–1),
    access_2sfca, dist_nearest_space_km (great-circle km), and median_income / poverty_rate from ``income``
    (:func:`read_filosofi`; NA without it)."""
    com = pd.DataFrame(communes.drop(columns="geometry", errors="ignore"))
    keep = [c for c in ["insee_code", "name", "dep_code", "reg_code", "epci_code", "territory_class", "population",
                        "density_level"] if c in com.columns]
    df = com[keep].merge(commune_centroids(communes).reset_index(), on="insee_code", how="left")
    ind = indicators.copy()
    fib = fibre_column(ind.columns, fibre_vintage)
    LOG.info("fibre share column: %s", fib)
    ind["fibre_share"] = pd.to_numeric(ind[fib], errors="coerce") if fib else np.nan
    ind = ind.rename(columns={SCORE_COL: "access_2sfca"})  # places per 10,000 inhabitants
    cols = [c for c in ["insee_code", "fibre_share", "long_commuters", "employed_residents", "flows_covered",
                        "access_2sfca", "pop_weighted_dist_km"] if c in ind.columns]
    df = df.merge(ind[cols], on="insee_code", how="left")
    if income is not None:
        df = df.merge(income[["insee_code", "median_income", "poverty_rate"]], on="insee_code", how="left")
    else:
        df["median_income"], df["poverty_rate"] = np.nan, np.nan
    sp = spaces[["lon", "lat"]].astype(float)
    df["dist_nearest_space_km"] = nearest_km(df["lon"], df["lat"], sp["lon"], sp["lat"])
    df["population"] = pd.to_numeric(df["population"], errors="coerce").astype(float)
    if "flows_covered" not in df:
        df["flows_covered"] = df.get("long_commuters", pd.Series(np.nan, index=df.index)).notna()
    df["flows_covered"] = df["flows_covered"].fillna(False).astype(bool)
    return df.sort_values("insee_code", kind="mergesort").reset_index(drop=True)


def profile_features(table: pd.DataFrame, unit: str = "commune") -> pd.DataFrame:
    """Feature frame (raw units) indexed by insee_code, or by epci_code when ``unit='epci'``; the income columns
    only where some value is known."""
    df = table.copy()
    for c in ("long_commuters", "employed_residents", "access_2sfca", "median_income", "poverty_rate"):
        if c not in df:
            df[c] = np.nan
    df.loc[~df["flows_covered"], ["long_commuters", "employed_residents"]] = np.nan
    if unit == "epci":
        df = df[df["epci_code"].notna()].copy()
        w = df["population"].fillna(0.0)
        df["_w"] = w
        for c in ("fibre_share", "dist_nearest_space_km", "access_2sfca", "median_income", "poverty_rate"):
            df[f"_wx_{c}"] = df[c] * w
            df[f"_wk_{c}"] = w.where(df[c].notna(), 0.0)
        g = df.groupby("epci_code", sort=True)
        agg = pd.DataFrame({"population": g["population"].sum(),
                            "long_commuters": g["long_commuters"].sum(min_count=1),
                            "employed_residents": g["employed_residents"].sum(min_count=1)})
        for c in ("fibre_share", "dist_nearest_space_km", "access_2sfca", "median_income", "poverty_rate"):
            agg[c] = g[f"_wx_{c}"].sum(min_count=1) / g[f"_wk_{c}"].sum().replace(0.0, np.nan)
        df = agg
        df.index.name = "epci_code"
    else:
        df = df.set_index("insee_code")
    out = pd.DataFrame(index=df.index)
    out["log_population"] = np.log1p(df["population"])
    out["long_commuter_share"] = df["long_commuters"] / df["employed_residents"].replace(0.0, np.nan)
    out["fibre_share"] = df["fibre_share"]
    out["log_dist_nearest_space"] = np.log1p(df["dist_nearest_space_km"])
    out["access_2sfca"] = df["access_2sfca"]
    out["median_income"] = df["median_income"]
    out["poverty_rate"] = df["poverty_rate"]
    out = out.apply(pd.to_numeric, errors="coerce").astype("float64")
    # without the income source (or outside its coverage) the income columns are left out
    return out.drop(columns=[c for c in ("median_income", "poverty_rate") if out[c].isna().all()])


def spatial_labels(features_scaled: pd.DataFrame, points: pd.DataFrame, k: int, n_neighbors: int = 8) -> pd.Series:
    """Spatially constrained Ward labels (canonical): connectivity = k nearest centroids."""
    from sklearn.cluster import AgglomerativeClustering  # imported here: commune_table (siting) needs no sklearn
    from sklearn.neighbors import kneighbors_graph

    from coworking_geo.typology.clustering import canonical_labels

    pts = points.reindex(features_scaled.index)
    xyz = to_ecef_km(pts["lon"].fillna(0), pts["lat"].fillna(0))
    conn = kneighbors_graph(xyz, n_neighbors=min(n_neighbors, len(xyz) - 1), include_self=False)
    X = features_scaled.to_numpy()
    lab = AgglomerativeClustering(n_clusters=k, linkage="ward", connectivity=conn).fit_predict(X)
    return pd.Series(canonical_labels(lab, X), index=features_scaled.index, name="label")


def fit_profiles(features: pd.DataFrame, k_min: int, **cluster_kwargs: Any) -> ClusteringResult:
    """Profiles of the territory's units: :func:`~coworking_geo.typology.clustering.cluster`, or one profile
    holding every unit when there are fewer than ``2 × k_min`` (e.g. Paris, one commune), said in its reason."""
    from coworking_geo.typology.clustering import cluster, one_group

    if len(features) < 2 * k_min:
        return one_group(features, f"{len(features)} unité(s) seulement : trop peu pour une typologie (il en faut "
                                   f"au moins {2 * k_min}) ; un seul profil, sans choix du nombre de groupes")
    return cluster(features, k_min=k_min, **cluster_kwargs)


def name_profiles(feats: pd.DataFrame, result: ClusteringResult) -> pd.DataFrame:
    """Summary per profile: size, feature means (raw units) and a name.

    Naming rule: « Communes » (or « Intercommunalités » when the units are EPCI)
    followed by the features whose mean z-score is at least 0.25 in absolute
    value, strongest first, at most three, each read through ``PROFILE_LABELS``
    (e.g. « Communes peu peuplées, éloignées d'un espace, à faible accès aux
    espaces »); none → « Communes dans la moyenne ». Repeated names get further
    features in parentheses.
    """
    lab = result.labels.reindex(feats.index)
    unit_word = UNIT_WORDS["epci" if feats.index.name == "epci_code" else "commune"]
    rows = []
    for lid, g in feats.groupby(lab, sort=True):
        center = cast(pd.Series, result.centers.loc[lid]) if lid in result.centers.index else pd.Series(dtype=float)
        strong = center[center.abs() >= NAME_THRESHOLD_Z].abs().sort_values(ascending=False, kind="mergesort")
        terms = [PROFILE_LABELS[c][int(center[c] > 0)] for c in strong.index[:3] if c in PROFILE_LABELS]
        row = {"profile_id": int(lid) + 1, "profile_name": f"{unit_word} {', '.join(terms) or AVERAGE_TERM}",
               "n_units": len(g), "share": len(g) / len(feats),
               "mean_population": float(np.expm1(g["log_population"]).mean()),
               "mean_long_commuter_share": float(g["long_commuter_share"].mean()),
               "mean_fibre_share": float(g["fibre_share"].mean()),
               "median_dist_nearest_space_km": float(np.expm1(g["log_dist_nearest_space"]).median()),
               "mean_access_2sfca": float(g["access_2sfca"].mean()),
               "mean_median_income": float(g["median_income"].mean()) if "median_income" in g else np.nan,
               "mean_poverty_rate": float(g["poverty_rate"].mean()) if "poverty_rate" in g else np.nan}
        for c, v in center.items():
            row[f"z_{c}"] = float(v)
        rows.append(row)
    prof = pd.DataFrame(rows)
    dedupe_names(prof, result, "profile_id", "profile_name", PROFILE_LABELS)
    return prof
