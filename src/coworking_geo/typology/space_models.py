"""Models of places from what they are and do, and which model fits which territory.

Features (per place, before scaling), in groups weighted equally by the Gower
k-medoids clustering (:func:`feature_groups`):

- ``activity``: ``type_<t>`` = 1 when the place has type t (multi-hot, the
  register's vocabulary);
- ``labels``: ``fabrique`` / ``manufacture`` = 1 for a laureate of the State
  programme (Fabrique de territoire, Manufacture de proximité), and
  ``label_<x>`` for each value of a ``labels`` column (``;``-joined) when the
  register has one;
- ``market`` (the place's surroundings, kept only when the models do not
  collapse onto the territory class, :func:`collapse_checks`):
  ``log_pop_around`` and ``log_employed_around`` (log(1 + inhabitants / employed
  residents of the communes whose centroid lies within ``around_km`` km)) and
  ``log_dist_other_space`` (log(1 + km) to the nearest other place);
- ``census_<group>`` (when the France Tiers-Lieux census is configured): its
  activity, governance and economic fields (legal form, governance, activities,
  opening, jobs, revenue mix; :mod:`coworking_geo.typology.economic_models`), columns
  ``census:<feature>``, one group per census group, kept where known for enough
  places (``min_feature_coverage``).

The territory class, density level, fibre or distance to a metropolis of the
place's commune are never features: they describe the territory, which the
models are then crossed with (:func:`model_fit_by_class`). A feature too close
to the territory class (correlation ratio η² ≥ ``MAX_CLASS_ETA2``) is rejected
(:func:`territory_association`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from coworking_geo.territories.classify import TERRITORY_CLASSES
from coworking_geo.errors import ConfigError, InputFileError
from coworking_geo.geodesy import (
    arc_to_chord_km,
    commune_centroids,
    nearest_km,
    to_ecef_km,
)
from coworking_geo.labels import TERRITORY_CLASS_FR
from coworking_geo.log import get_logger
from coworking_geo.typology.agreement import adjusted_rand_index
from coworking_geo.typology.independence import chi2_independence, fisher_two_sided

if TYPE_CHECKING:  # scikit-learn (through clustering) is imported by the functions that fit
    from coworking_geo.typology.clustering import ClusteringResult

LOG = get_logger(__name__)

MARKET_FEATURES = ["log_pop_around", "log_employed_around", "log_dist_other_space"]
#: a feature whose correlation ratio with the territory class reaches this is rejected
MAX_CLASS_ETA2 = 0.5
#: the models must agree with the territory class below this ARI, and with class × type below the next
MAX_CLASS_ARI = 0.3
MAX_CLASS_TYPE_ARI = 0.5
#: French name of each activity type (singular, plural)
TYPE_WORDS = {"coworking": ("Coworking", "coworkings"), "fablab": ("Fab-lab", "fab-labs"),
              "atelier": ("Atelier partagé", "ateliers partagés"),
              "nourricier": ("Tiers-lieu nourricier", "tiers-lieux nourriciers"),
              "culturel": ("Tiers-lieu culturel", "tiers-lieux culturels"),
              "numerique": ("Lieu de médiation numérique", "lieux de médiation numérique"),
              "autre": ("Tiers-lieu", "tiers-lieux")}
MIXED_WORDS = ("Tiers-lieu multi-activités", "tiers-lieux multi-activités")
UNTYPED_WORDS = ("Lieu sans activité déclarée", "lieux sans activité déclarée")
LABEL_WORDS = {"fabrique": "Fabrique de territoire", "manufacture": "Manufacture de proximité"}
NOISE_NAME = "Espaces atypiques (non classés)"
FEATURE_LABELS = {
    "log_pop_around": ("entourage peu peuplé", "entourage très peuplé"),
    "log_employed_around": ("peu d’actifs alentour", "nombreux actifs alentour"),
    "log_dist_other_space": ("autres lieux proches", "autres lieux éloignés"),
    "fabrique": ("sans label Fabrique", "Fabriques de territoire"),
    "manufacture": ("sans label Manufacture", "Manufactures de proximité"),
}
#: dominance thresholds of the naming rule
TYPE_DOMINANCE = 0.6
LABEL_DOMINANCE = 0.5
#: a model whose median distance to the nearest other place is at most this is « en pôle » (km)
HUB_KM = 2.0
#: … and at least this, « isolé » (km)
ISOLATED_KM = 15.0
#: a model whose mean z-score of the population around is beyond ± this is « en zone dense / peu peuplée »
POP_Z = 0.5
#: a cell needs this many places before the report reads its lift
MIN_CELL = 5


def sum_within_km(lon: pd.Series, lat: pd.Series, pts: pd.DataFrame, values: pd.Series, radius_km: float) -> np.ndarray:
    """Sum of ``values`` (aligned with ``pts``) over the points within ``radius_km`` of each origin.

    NaN values are skipped; the result is NaN when every point in range is NaN
    or the origin has no coordinates.
    """
    out = np.full(len(lon), np.nan)
    ok = np.isfinite(np.asarray(lon, float)) & np.isfinite(np.asarray(lat, float))
    v = np.asarray(values, float)
    from scipy.spatial import cKDTree  # scipy is imported where it is used: the report reads this module

    tree = cKDTree(to_ecef_km(pts["lon"], pts["lat"]))
    lists = tree.query_ball_point(to_ecef_km(np.asarray(lon)[ok], np.asarray(lat)[ok]), r=arc_to_chord_km(radius_km))
    sums = [np.nansum(v[ix]) if len(ix) and np.isfinite(v[ix]).any() else np.nan for ix in lists]
    out[ok] = sums
    return out


def _flag(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:
        return np.zeros(n)
    s = series.astype("string").str.strip().str.lower()
    return (s.notna() & ~s.isin(["", "0", "false", "non", "no", "nan", "<na>"])).to_numpy(dtype=float)


def space_features(spaces: pd.DataFrame, communes: pd.DataFrame, around_km: float = 10.0,
                   spaces_path: str = "spaces.parquet", market: bool = True,
                   census: pd.DataFrame | None = None) -> pd.DataFrame:
    """Feature table indexed by space_id (raw units; see the module docstring), plus ``territory_class``
    and ``types`` (not features: what the models are crossed with).

    ``market=False`` leaves out the market features (e.g. when the communes around
    are not all known). ``census``: census features indexed by space_id
    (:func:`coworking_geo.typology.economic_models.link_spaces`), joined as ``census:<feature>``
    (NA for places not in the census). Raises InputFileError when spaces lack space_id, insee_code,
    lon, lat or types.
    """
    need = ["space_id", "insee_code", "lon", "lat", "types"]
    missing = [c for c in need if c not in spaces.columns]
    if missing:
        raise InputFileError(spaces_path, f"missing column(s) {missing} needed by the space models")
    sp = pd.DataFrame(spaces.drop(columns="geometry", errors="ignore")).copy()
    sp = sp.sort_values("space_id", kind="mergesort").reset_index(drop=True)
    com = pd.DataFrame(communes.drop(columns="geometry", errors="ignore"))
    if com["insee_code"].duplicated().any():
        dup = com.loc[com["insee_code"].duplicated(), "insee_code"].head(5).tolist()
        raise InputFileError("communes.parquet", f"duplicated insee_code {dup}: the key must be unique")
    feats = pd.DataFrame(index=pd.Index(sp["space_id"].astype(str), name="space_id"))
    types = sp["types"].astype("string").fillna("").str.lower()
    present = sorted({t.strip() for v in types for t in str(v).split(";") if t.strip()})
    for t in present:
        feats[f"type_{t}"] = types.str.split(";").apply(lambda xs, t=t: t in [x.strip() for x in xs]).to_numpy(float)
    for c in ("fabrique", "manufacture"):
        feats[c] = _flag(sp[c], len(sp)) if c in sp.columns else 0.0
    if "labels" in sp.columns:
        labs = sp["labels"].astype("string").fillna("").str.lower()
        for lab in sorted({x.strip() for v in labs for x in str(v).split(";") if x.strip()}):
            if lab not in feats:
                feats[f"label_{lab}"] = labs.str.split(";").apply(
                    lambda xs, lab=lab: lab in [x.strip() for x in xs]).to_numpy(float)
    if market:
        n_nocoord = int((sp["lon"].isna() | sp["lat"].isna()).sum())
        if n_nocoord:
            LOG.warning("%d spaces without coordinates: their market features are imputed", n_nocoord)
        pts = commune_centroids(communes).reset_index()
        meta = com[["insee_code", "population"]].merge(pts, on="insee_code", how="left")
        if "employed_residents" in com:
            meta["employed_residents"] = com["employed_residents"].to_numpy()
        lon, lat = sp["lon"].astype(float), sp["lat"].astype(float)
        feats["log_pop_around"] = np.log1p(sum_within_km(lon, lat, meta, meta["population"], around_km))
        emp = meta["employed_residents"] if "employed_residents" in meta else pd.Series(np.nan, index=meta.index)
        feats["log_employed_around"] = np.log1p(sum_within_km(lon, lat, meta, emp, around_km))
        feats["log_dist_other_space"] = np.log1p(nearest_km(lon, lat, lon, lat, exclude_self=True))
    if census is not None:
        cen = census.add_prefix("census:").reindex(feats.index)
        LOG.info("census features: %d of %d places are in the census", int(cen.notna().any(axis=1).sum()), len(cen))
        feats = pd.concat([feats, cen.astype("float64")], axis=1)
    cls = sp[["insee_code"]].merge(com[["insee_code", "territory_class"]], on="insee_code", how="left")
    unmatched = int(cls["territory_class"].isna().sum())
    if unmatched:
        LOG.warning("%d spaces have a commune code absent from communes.parquet: territory class unknown", unmatched)
    feats["territory_class"] = cls["territory_class"].astype("string").fillna("unknown").to_numpy()
    feats["types"] = types.to_numpy()
    LOG.info("space features: %d spaces, %d features, types %s", len(feats), feats.shape[1] - 2, present)
    return feats


def national_features(context: pd.DataFrame, path: str = "spaces_context.parquet") -> pd.DataFrame:
    """Features of every located place of the context table (the territory's and all others): activity types
    and log(1 + km) to the nearest other place, indexed by space_id, plus ``in_territory``.

    Used when the territory has too few places for its own typology (national models).
    Raises InputFileError when the context table has no ``types`` column.
    """
    need = ["space_id", "lon", "lat", "types", "in_territory"]
    missing = [c for c in need if c not in context.columns]
    if missing:
        raise InputFileError(path, f"missing column(s) {missing} needed by the national models: rebuild it")
    ctx = pd.DataFrame(context.drop(columns="geometry", errors="ignore")).sort_values("space_id", kind="mergesort")
    ctx = ctx.drop_duplicates("space_id").reset_index(drop=True)
    feats = pd.DataFrame(index=pd.Index(ctx["space_id"].astype(str), name="space_id"))
    types = ctx["types"].astype("string").fillna("").str.lower()
    for t in sorted({t.strip() for v in types for t in str(v).split(";") if t.strip()}):
        feats[f"type_{t}"] = types.str.split(";").apply(lambda xs, t=t: t in [x.strip() for x in xs]).to_numpy(float)
    lon, lat = ctx["lon"].astype(float), ctx["lat"].astype(float)
    feats["log_dist_other_space"] = np.log1p(nearest_km(lon, lat, lon, lat, exclude_self=True))
    feats["in_territory"] = ctx["in_territory"].fillna(False).astype(bool).to_numpy()
    return feats


def with_employed(communes: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """``communes`` with the ``employed_residents`` column of the indicators table (when it has one)."""
    com = pd.DataFrame(communes.drop(columns="geometry", errors="ignore"))
    if "employed_residents" in indicators and "employed_residents" not in com:
        com = com.merge(indicators[["insee_code", "employed_residents"]], on="insee_code", how="left")
    if "geometry" in communes and not {"lon", "lat"} <= set(com.columns):
        pts = commune_centroids(communes).reset_index()
        com = com.merge(pts, on="insee_code", how="left")
    return com


def feature_groups(columns: list[str] | pd.Index) -> dict[str, str]:
    """Group of each feature column: ``activity`` (type_*), ``labels`` (programme labels), ``market``,
    ``census_<group>`` (census:*), else ``other``."""
    from coworking_geo.typology.economic_models import economic_group

    out = {}
    for c in columns:
        if c.startswith("census:"):
            out[c] = "census_" + economic_group(c.removeprefix("census:"))
        elif c.startswith("type_"):
            out[c] = "activity"
        elif c in LABEL_WORDS or c.startswith("label_"):
            out[c] = "labels"
        elif c in MARKET_FEATURES:
            out[c] = "market"
        else:
            out[c] = "other"
    return out


def group_weights(columns: list[str] | pd.Index) -> dict[str, float]:
    """Weight of each column so that every feature group weighs the same (1 / groups / columns in the group)."""
    groups = feature_groups(columns)
    n_groups = len(set(groups.values()))
    size = pd.Series(groups).value_counts()
    return {c: 1.0 / n_groups / float(size[g]) for c, g in groups.items()}


def territory_association(X: pd.DataFrame, territory_class: pd.Series) -> pd.Series:
    """Correlation ratio η² (0–1) of every feature with the territory class: the share of its variance
    that the class explains (1 for a one-hot of the class itself)."""
    cls = territory_class.reindex(X.index).astype("string").fillna("unknown")
    out = {}
    for c in X.columns:
        v = X[c].astype(float)
        ok = v.notna()
        v, g = v[ok], cls[ok]
        total = float(((v - v.mean()) ** 2).sum())
        between = float((v.groupby(g).transform("mean") - v.mean()).pow(2).sum())
        out[c] = between / total if total > 0 else 0.0
    return pd.Series(out, name="eta2", dtype=float)


def reject_territory_features(X: pd.DataFrame, territory_class: pd.Series,
                              max_eta2: float = MAX_CLASS_ETA2) -> tuple[pd.DataFrame, pd.Series]:
    """``X`` without the features that restate the territory class (η² ≥ ``max_eta2``), and the η² of each.

    Only features that describe the surroundings (market and unknown groups) can
    be rejected: what a place does (activity, labels, census fields) is never the
    territory, even where the two go together. Raises ConfigError when every feature would be rejected.
    """
    eta = territory_association(X, territory_class)
    groups = feature_groups(X.columns)
    bad = [c for c in eta.index if eta[c] >= max_eta2 and groups[c] in ("market", "other")]
    for c in bad:
        LOG.warning("feature %s rejected: it restates the territory class (eta2 %.2f >= %.2f)", c, eta[c], max_eta2)
    if len(bad) == X.shape[1]:
        raise ConfigError(f"every feature restates the territory class (eta2 >= {max_eta2}): {bad}")
    return X.drop(columns=bad), eta


def collapse_checks(labels: pd.Series, feats: pd.DataFrame) -> dict[str, float]:
    """ARI of the model labels with the territory class and with the crossing class × type (0 = unrelated)."""
    lab = labels.reindex(feats.index).to_numpy()
    cls = feats["territory_class"].astype(str).to_numpy()
    cross = (feats["territory_class"].astype(str) + "|" + feats["types"].astype(str)).to_numpy()
    return {"ari_territory_class": adjusted_rand_index(cls, lab),
            "ari_class_x_type": adjusted_rand_index(cross, lab)}


def model_features(feats: pd.DataFrame, min_coverage: float = 0.5) -> pd.DataFrame:
    """The numeric columns to cluster: constant columns and those known for < ``min_coverage`` of rows dropped."""
    num = feats.drop(columns=["territory_class", "types"], errors="ignore").astype(float)
    keep = []
    for c in num.columns:
        cov = num[c].notna().mean()
        if cov < min_coverage:
            LOG.warning("feature %s dropped: known for %.0f %% of units only", c, 100 * cov)
        elif num[c].nunique(dropna=True) <= 1:
            LOG.info("feature %s dropped: constant", c)
        else:
            keep.append(c)
    return num[keep]


def _distinctive(center: pd.Series, used: set[str], labels: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """(feature, label) of the largest |mean z-score| among the labelled features not yet used."""
    for c in center.abs().sort_values(ascending=False, kind="mergesort").index:
        if c in labels and c not in used:
            return c, labels[c][int(center[c] > 0)]
    return None


def name_models(feats: pd.DataFrame, result: ClusteringResult) -> pd.DataFrame:
    """Profiles (size, type and label shares, market medians) and a French name per model.

    Naming rule, from the members of each model (never from the territory class):

    1. activity: the French word of the type held by ≥ 60 % of the members
       (« Coworking », « Fab-lab », …); several types each held by ≥ 60 % →
       « Tiers-lieu multi-activités »; no type → « Lieu sans activité déclarée »;
       else « Tiers-lieu »;
    2. label: « labellisé Fabrique de territoire » (or Manufacture de proximité)
       when ≥ 50 % of the members are laureates;
    3. surroundings (market features, when used): « en pôle » when the median
       distance to the nearest other place is at most 2 km, « isolé » when at
       least 15 km; « en zone dense » / « en zone peu peuplée » when the model's
       mean z-score of the population around is beyond ± 0.5;
    4. names that repeat get, in parentheses, the French label of their most
       distinctive feature not yet used.
    """
    labels = result.labels.reindex(feats.index)
    num = model_features(feats, 0.0).reindex(columns=[c for c in feats.columns if c not in ("territory_class", "types")])
    df = num.assign(model_id=labels.to_numpy() + 1)
    type_cols = [c for c in num.columns if c.startswith("type_")]
    rows = []
    for key, g in df.groupby("model_id", sort=True):
        mid = int(cast(int, key))
        shares = {c[5:]: float(g[c].mean()) for c in type_cols}
        dom = [t for t, v in sorted(shares.items(), key=lambda kv: -kv[1]) if v >= TYPE_DOMINANCE]
        if len(dom) > 1:
            func = MIXED_WORDS[0]
        elif dom:
            func = TYPE_WORDS.get(dom[0], (dom[0].capitalize(),))[0]
        elif not any(v > 0 for v in shares.values()) or feats.loc[g.index, "types"].eq("").mean() >= TYPE_DOMINANCE:
            func = UNTYPED_WORDS[0]
        else:
            func = TYPE_WORDS["autre"][0]
        parts = [func]
        for lab, word in LABEL_WORDS.items():
            if lab in g and g[lab].mean() >= LABEL_DOMINANCE:
                parts.append(f"labellisé {word}")
        d = float(np.expm1(g["log_dist_other_space"]).median()) if "log_dist_other_space" in g else np.nan
        zc = result.centers.loc[mid - 1] if mid - 1 in result.centers.index else pd.Series(dtype=float)
        if "log_dist_other_space" in result.centers.columns:
            if d <= HUB_KM:
                parts.append("en pôle")
            elif d >= ISOLATED_KM:
                parts.append("isolé")
        if "log_pop_around" in result.centers.columns and len(zc):
            if zc["log_pop_around"] >= POP_Z:
                parts.append("en zone dense")
            elif zc["log_pop_around"] <= -POP_Z:
                parts.append("en zone peu peuplée")
        row = {"model_id": int(mid), "model_name": " ".join(parts) if mid > 0 else NOISE_NAME,
               "n_spaces": len(g), "share": len(g) / len(df)}
        for t in sorted(shares):
            row[f"share_{t}"] = shares[t]
        for lab in LABEL_WORDS:
            row[f"share_{lab}"] = float(g[lab].mean()) if lab in g else 0.0
        row["median_pop_around"] = (float(np.expm1(g["log_pop_around"]).median()) if "log_pop_around" in g
                                    else np.nan)
        row["median_dist_other_space_km"] = d
        rows.append(row)
    prof = pd.DataFrame(rows)
    dedupe_names(prof, result, "model_id", "model_name", FEATURE_LABELS)
    for c in result.centers.columns:
        prof[f"z_{c}"] = prof["model_id"].map(lambda m, c=c: result.centers[c].get(m - 1, np.nan))
    return prof


def dedupe_names(prof: pd.DataFrame, result: ClusteringResult, id_col: str, name_col: str,
                 labels: dict[str, tuple[str, str]]) -> None:
    """Make ``name_col`` unique in place: repeated names get their most distinctive feature's label."""
    base = prof[name_col].copy()
    extra: dict[int, list[str]] = {int(m): [] for m in prof[id_col]}
    used: dict[int, set[str]] = {int(m): set() for m in prof[id_col]}
    for _ in range(4):
        names = base + prof[id_col].map(lambda m: f" ({', '.join(extra[int(m)])})" if extra[int(m)] else "")
        dup = names.duplicated(keep=False) & prof[id_col].gt(0)
        if not dup.any():
            break
        for i in prof.index[dup]:
            mid = int(cast(int, prof.at[i, id_col]))
            found = _distinctive(cast(pd.Series, result.centers.loc[mid - 1]), used[mid], labels)
            if found is None:
                continue
            used[mid].add(found[0])
            extra[mid].append(found[1])
    names = base + prof[id_col].map(lambda m: f" ({', '.join(extra[int(m)])})" if extra[int(m)] else "")
    prof[name_col] = names.where(~names.duplicated(keep=False), names + " – groupe " + prof[id_col].astype(str))


def model_fit_by_class(feats: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Which model fits which territory: one row per model × territory class.

    Columns: ``model_id, model_name, territory_class, n_places`` (places of the
    model in the class), ``share`` (of the model's places), ``class_share`` (the
    class's share of all places), ``expected`` (model size × class share),
    ``lift`` (observed / expected: 2 = twice as frequent as among all places),
    ``fisher_p`` (two-sided Fisher exact test of the 2 × 2 table model / class),
    and, on every row, the test of independence of the whole table: ``chi2``,
    ``chi2_dof``, ``chi2_p`` and ``cramers_v`` (0 = models spread like the places).
    Classes come from :data:`coworking_geo.territories.classify.TERRITORY_CLASSES` (+ ``unknown``).
    """
    df = assignments.merge(feats[["territory_class"]].reset_index(), on="space_id", how="left")
    df["territory_class"] = df["territory_class"].fillna("unknown")
    classes = [c for c in (*TERRITORY_CLASSES, "unknown") if c in set(df["territory_class"])]
    tab = pd.crosstab(df["model_id"], df["territory_class"]).reindex(columns=classes, fill_value=0)
    n = int(tab.to_numpy().sum())
    names = assignments.drop_duplicates("model_id").set_index("model_id")["model_name"]
    if tab.shape[0] > 1 and tab.shape[1] > 1:
        chi2, p, dof = chi2_independence(tab.to_numpy())
        v = float(np.sqrt(chi2 / n / (min(tab.shape) - 1)))
    else:
        chi2, p, dof, v = np.nan, np.nan, 0, np.nan
    rows = []
    for mid in tab.index:
        m_n = int(tab.loc[mid].sum())
        for c in classes:
            obs = int(cast(int, tab.at[mid, c]))
            c_n = int(tab[c].sum())
            expected = m_n * c_n / n
            fp = fisher_two_sided(np.array([[obs, m_n - obs], [c_n - obs, n - m_n - c_n + obs]]))
            rows.append({"model_id": int(mid), "model_name": names.get(mid), "territory_class": c, "n_places": obs,
                         "share": obs / m_n, "class_share": c_n / n, "expected": expected,
                         "lift": obs / expected if expected else np.nan, "fisher_p": float(fp)})
    out = pd.DataFrame(rows)
    out["chi2"], out["chi2_dof"], out["chi2_p"], out["cramers_v"] = float(chi2), int(dof), float(p), v
    return out


def _fr(x: Any, nd: int = 1) -> str:
    return f"{float(x):.{nd}f}".replace(".", ",")


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in rec.items()} for rec in df.to_dict("records")]


def _class_fr(code: Any) -> str:
    return TERRITORY_CLASS_FR.get(str(code), str(code)).lower()


def fit_sentences(fit: pd.DataFrame, alpha: float = 0.05) -> list[str]:
    """French sentences of the fit table: for each model, the classes where it is significantly over-represented
    (Fisher p < ``alpha``, lift > 1, at least ``MIN_CELL`` places), then the overall test and the limits."""
    out: list[str] = []
    if fit.empty:
        return out
    for _, g in fit.groupby("model_id", sort=True):
        name = str(g["model_name"].iloc[0])
        over = g[(g["lift"] > 1) & (g["fisher_p"] < alpha) & (g["n_places"] >= MIN_CELL)].sort_values(
            "lift", ascending=False)
        if len(over):
            parts = [f"{_fr(r['lift'])} fois plus fréquents en {_class_fr(r['territory_class'])} "
                     f"({int(r['n_places'])} lieux, {_fr(100 * r['share'], 0)} % du modèle contre "
                     f"{_fr(100 * r['class_share'], 0)} % de l’ensemble)" for r in _records(over)]
            out.append(f"Les lieux du modèle « {name} » sont " + " ; ".join(parts) + ".")
        else:
            out.append(f"Les lieux du modèle « {name} » se répartissent entre les classes de territoire sans "
                       "écart significatif à l’ensemble des lieux.")
    r = _records(fit.head(1))[0]
    if r["chi2_p"] == r["chi2_p"]:
        sig = "significative" if r["chi2_p"] < alpha else "non significative"
        pv = "p < 0,001" if r["chi2_p"] < 0.001 else f"p = {_fr(r['chi2_p'], 3)}"
        out.append(f"Dans l’ensemble, l’association entre modèles et classes de territoire est {sig} "
                   f"(test du khi² : {pv} ; V de Cramér = {_fr(r['cramers_v'], 2)}, "
                   "de 0 = aucune association à 1 = un modèle par classe).")
    out.append("Limites : ces rapports décrivent les lieux recensés, pas les besoins ; une sur-représentation n’est "
               "pas une preuve qu’un modèle réussit mieux dans ce territoire ; les cases de moins de "
               f"{MIN_CELL} lieux ne sont pas commentées et plusieurs tests sont faits à la fois "
               "(un résultat isolé proche de p = 0,05 peut être dû au hasard).")
    return out


def describe_models(prof: pd.DataFrame, fit: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.Series:
    """One French sentence per model (index model_id) for a non-statistician: what the places do, who is
    around, where they are over-represented."""
    out: dict[int, str] = {}
    for r in _records(prof):
        shares = {c[6:]: float(r[c]) for c in prof.columns if c.startswith("share_") and c[6:] in TYPE_WORDS}
        acts = [f"{_fr(100 * v, 0)} % de {TYPE_WORDS[t][1]}" for t, v in
                sorted(shares.items(), key=lambda kv: -kv[1]) if v >= 0.1]
        labs = [f"{_fr(100 * r[f'share_{k}'], 0)} % de lauréats {w}" for k, w in
                (("fabrique", "Fabrique de territoire"), ("manufacture", "Manufacture de proximité"))
                if r.get(f"share_{k}", 0) >= 0.05]
        s = f"{int(r['n_spaces'])} lieux ({_fr(100 * r['share'], 0)} %) : " + (", ".join(acts + labs) or
                                                                                "sans activité déclarée dans le registre")
        pop = float(r["median_pop_around"])
        if pop == pop:
            s += (f" ; en médiane {int(round(pop, -2)):,} habitants alentour".replace(",", " ")
                  + f" et un autre lieu à {_fr(r['median_dist_other_space_km'])} km")
        if fit is not None and len(fit):
            g = fit[(fit["model_id"] == r["model_id"]) & (fit["lift"] > 1) & (fit["fisher_p"] < alpha)
                    & (fit["n_places"] >= MIN_CELL)].sort_values("lift", ascending=False)
            if len(g):
                top = _records(g.head(1))[0]
                s += f" ; surreprésentés en {_class_fr(top['territory_class'])} ({_fr(top['lift'])} fois la part attendue)"
        out[int(r["model_id"])] = s + "."
    return pd.Series(out, name="description", dtype="string")


@dataclass
class ModelRun:
    """Every table of the space models stage (see :func:`fit_models`)."""

    assignments: pd.DataFrame
    scores: pd.DataFrame
    profiles: pd.DataFrame
    stability: pd.DataFrame
    fit: pd.DataFrame
    checks: pd.DataFrame
    result: ClusteringResult
    note: str


FIT_COLUMNS = ["model_id", "model_name", "territory_class", "n_places", "share", "class_share", "expected", "lift",
               "fisher_p", "chi2", "chi2_dof", "chi2_p", "cramers_v"]


def fit_models(feats: pd.DataFrame, context: pd.DataFrame | None = None, *, cluster_kwargs: dict,
               min_coverage: float = 0.5, max_class_ari: float = MAX_CLASS_ARI,
               max_class_type_ari: float = MAX_CLASS_TYPE_ARI, max_eta2: float = MAX_CLASS_ETA2,
               context_path: str = "spaces_context.parquet") -> ModelRun:
    """Cluster the places of ``feats`` (from :func:`space_features`) into named models, with every check.

    Territory models: features that restate the territory class are rejected
    (:func:`reject_territory_features`), groups are weighted equally, and when the
    models agree with the territory class at ARI ≥ ``max_class_ari`` (or with
    class × type at ≥ ``max_class_type_ari``) the market features are dropped and
    the models refitted. With ``context`` (the territory has too few places), the
    models are national: fitted on every located place of the context table
    (:func:`national_features`) and the territory's places keep their national model.
    """
    from coworking_geo.typology.clustering import cluster

    checks: list[dict[str, Any]] = []
    if context is not None:
        nat = national_features(context, context_path)
        X = model_features(nat.drop(columns="in_territory"), min_coverage)
        res = cluster(X, weights=group_weights(X.columns), **cluster_kwargs)
        named = X.assign(territory_class=feats["territory_class"].reindex(X.index).fillna("unknown"),
                         types=context.drop_duplicates("space_id").set_index("space_id")["types"].astype("string")
                         .fillna("").str.lower().reindex(X.index).to_numpy())
        prof = name_models(named, res)
        inside = feats.index[feats.index.isin(X.index)]
        lost = len(feats) - len(inside)
        if lost:
            LOG.warning("%d places of the territory are not in the context table: left without a model", lost)
        labels = res.labels.reindex(inside)
        scope = "national"
        note = (f"national models: {len(feats)} places in the territory (< minimum), models fitted on the "
                f"{len(X)} located places of the context table")
        checks.append({"check": "scope", "value": float(len(feats)), "threshold": np.nan, "passed": False,
                       "note": "national models (too few places in the territory)"})
    else:
        if len(feats) < 3:
            raise ConfigError(f"{len(feats)} places: a typology needs at least 3 (give the context table)")
        X = model_features(feats, min_coverage)
        X, eta = reject_territory_features(X, feats["territory_class"], max_eta2)
        for c, v in eta.items():
            checks.append({"check": f"eta2:{c}", "value": float(v), "threshold": max_eta2, "passed": c in X.columns,
                           "note": "kept" if c in X.columns else "rejected"})
        res = cluster(X, weights=group_weights(X.columns), **cluster_kwargs)
        ari = collapse_checks(res.labels, feats)
        market = [c for c in X.columns if c in MARKET_FEATURES]
        collapsed = ari["ari_territory_class"] >= max_class_ari or ari["ari_class_x_type"] >= max_class_type_ari
        checks.append({"check": "market_features", "value": float(len(market)), "threshold": np.nan,
                       "passed": not collapsed,
                       "note": (f"dropped: with them ARI class {ari['ari_territory_class']:.3f}, class x type "
                                f"{ari['ari_class_x_type']:.3f}") if collapsed and market else
                       "kept" if market else "none left (rejected or too sparse)"})
        if collapsed and market:
            LOG.warning("models collapse onto the territory class with the market features (%s): refitted without",
                        ari)
            X = X.drop(columns=market)
            res = cluster(X, weights=group_weights(X.columns), **cluster_kwargs)
            ari = collapse_checks(res.labels, feats)
        for key, thr in (("ari_territory_class", max_class_ari), ("ari_class_x_type", max_class_type_ari)):
            checks.append({"check": key, "value": ari[key], "threshold": thr, "passed": ari[key] < thr, "note": ""})
        prof = name_models(feats, res)
        labels = res.labels
        scope = "territory"
        note = f"territory models: {len(feats)} places; {ari}"
    if res.unstable:
        prof["model_name"] = prof["model_name"] + " (typologie instable)"
    assign = pd.DataFrame({"space_id": labels.index.astype(str), "model_id": labels.to_numpy().astype(int) + 1})
    assign = assign.merge(prof[["model_id", "model_name"]], on="model_id", how="left")
    assign["model_id"] = assign["model_id"].astype("int64")
    fit = model_fit_by_class(feats, assign) if len(assign) else pd.DataFrame(columns=FIT_COLUMNS)
    prof.insert(2, "description", prof["model_id"].map(describe_models(prof, fit if scope == "territory" else None)))
    prof.insert(2, "chosen_k", res.k)
    prof.insert(3, "k_reason", res.reason)
    prof["n_spaces_territory"] = prof["model_id"].map(assign["model_id"].value_counts()).fillna(0).astype(int)
    prof["features"] = ";".join(X.columns)
    prof["stability_ari"] = res.stability_ari
    prof["models_scope"] = scope
    prof["typology_unstable"] = res.unstable
    for chk in checks:
        if chk["check"] in ("ari_territory_class", "ari_class_x_type"):
            prof[chk["check"]] = chk["value"]
    scores = res.scores.copy()
    scores["reason"] = scores["chosen"].map({True: res.reason, False: ""})
    stab = res.stability.copy()
    stab.insert(0, "method", res.method)
    stab.insert(1, "k", res.k)
    return ModelRun(assign, scores, prof, stab, fit, pd.DataFrame(checks, columns=["check", "value", "threshold",
                                                                                  "passed", "note"]), res,
                    note + f"; k={res.k}: {res.reason}")
