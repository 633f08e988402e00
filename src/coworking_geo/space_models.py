"""Models of spaces: one feature row per space, and the rule that names each cluster.

Features (per space, before scaling):

- ``density_level`` (INSEE 1–7 of its commune) and one-hot ``class_<territory_class>``;
- ``log_pop_around`` and ``log_employed_around``: log(1 + inhabitants / employed
  residents of the communes whose centroid lies within
  ``around_km`` km of the space);
- ``share_outside``: share (0–1) of the employed residents of its commune who
  work in another commune;
- ``fibre_share``: FTTH share (0–1) of its commune, configured vintage (default latest);
- ``log_dist_other_space`` and ``log_dist_metropolis``: log(1 + km) to the nearest
  other space and to the nearest commune of one of the 22 metropolises (0 inside);
- ``type_<t>``: 1 when the space has type t; ``programme``: 1 for a Fabrique de
  territoire or Manufacture de proximité laureate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from coworking_geo.classify import TERRITORY_CLASSES
from coworking_geo.clustering import ClusteringResult
from coworking_geo.errors import InputFileError
from coworking_geo.geodesy import (
    arc_to_chord_km,
    commune_centroids,
    nearest_km,
    to_ecef_km,
)
from coworking_geo.log import get_logger
from coworking_geo.siting import fibre_column

LOG = get_logger(__name__)

#: French place qualifier of each territory class (agrees with a masculine singular noun)
PLACE_WORDS = {"metropole": "métropolitain", "ville_moyenne": "de ville moyenne", "petite_ville": "de petite ville",
               "periurbain": "périurbain", "rural_sous_influence": "rural", "rural_autonome_peu_dense": "rural",
               "rural_autonome_tres_peu_dense": "rural", "rural_influence_inconnue": "rural"}
MIXED_PLACE = "multi-territoires"
#: function word (singular, plural) of a model
FUNCTION_WORDS = {"coworking": ("Coworking", "coworking"), "fablab": ("Fab-lab", "fab-labs"),
                  "programme": ("Tiers-lieu labellisé", "tiers-lieux labellisés"),
                  "tiers_lieu": ("Tiers-lieu", "tiers-lieux")}
NOISE_NAME = "Espaces atypiques (non classés)"
FEATURE_LABELS = {
    "density_level": ("commune moins dense", "commune plus dense"),
    "log_pop_around": ("entourage peu peuplé", "entourage très peuplé"),
    "log_employed_around": ("peu d’actifs alentour", "nombreux actifs alentour"),
    "share_outside": ("peu de navetteurs sortants", "nombreux navetteurs sortants"),
    "fibre_share": ("peu fibré", "bien fibré"),
    "log_dist_other_space": ("espaces proches", "espaces éloignés"),
    "log_dist_metropolis": ("près d’une métropole", "loin des métropoles"),
    "programme": ("sans label de l’État", "lauréats des programmes de l’État"),
}
#: dominance thresholds of the naming rule
CLASS_DOMINANCE = 0.5
TYPE_DOMINANCE = 0.6
PROGRAMME_DOMINANCE = 0.5
#: a cluster whose median distance to the nearest other space is at most this is a "hub" (km)
HUB_KM = 2.0
#: … and at least this, "isolated" (km)
ISOLATED_KM = 15.0


def is_metropolis(values: pd.Series) -> pd.Series:
    """True for communes in a metropolis, whether the column is boolean, a 0/1 code or a name."""
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(values):
        return values.fillna(0).astype(float) > 0
    s = values.astype("string").str.strip().str.lower()
    return (s.notna() & ~s.isin(["", "0", "false", "non", "no", "none", "nan"])).fillna(False).astype(bool)


def commune_points(communes: pd.DataFrame) -> pd.DataFrame:
    """insee_code, lon, lat of each commune's centroid (degrees, EPSG:4326; computed in its metric CRS)."""
    if "lon" in communes and "lat" in communes:
        return communes[["insee_code", "lon", "lat"]].copy()
    cent = commune_centroids(communes)
    return cent.reset_index().rename(columns={cent.index.name or "index": "insee_code"})


def sum_within_km(lon: pd.Series, lat: pd.Series, pts: pd.DataFrame, values: pd.Series, radius_km: float) -> np.ndarray:
    """Sum of ``values`` (aligned with ``pts``) over the points within ``radius_km`` of each origin.

    NaN values are skipped; the result is NaN when every point in range is NaN
    or the origin has no coordinates.
    """
    out = np.full(len(lon), np.nan)
    ok = np.isfinite(np.asarray(lon, float)) & np.isfinite(np.asarray(lat, float))
    v = np.asarray(values, float)
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


def space_features(spaces: pd.DataFrame, communes: pd.DataFrame, indicators: pd.DataFrame,
                   around_km: float = 10.0, spaces_path: str = "spaces.parquet",
                   fibre_vintage: str = "latest") -> pd.DataFrame:
    """Feature table indexed by space_id (raw units; see the module docstring), plus ``territory_class``.

    Raises InputFileError when spaces lack space_id, insee_code, lon, lat or types.
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
    n_nocoord = int((sp["lon"].isna() | sp["lat"].isna()).sum())
    if n_nocoord:
        LOG.warning("%d spaces without coordinates: their distance features are imputed", n_nocoord)
    pts = commune_points(communes)
    cols = ["insee_code", "territory_class", "density_level", "population"]
    meta = com[cols].merge(pts, on="insee_code", how="left")
    meta["metropolis"] = is_metropolis(com["metropolis"]).to_numpy() if "metropolis" in com else False
    ind = indicators.copy()
    fib = fibre_column(ind.columns, fibre_vintage)
    ind["fibre_share"] = ind[fib] if fib else np.nan
    meta = meta.merge(ind[[c for c in ["insee_code", "fibre_share", "share_outside", "employed_residents"]
                           if c in ind.columns]], on="insee_code", how="left")
    df = sp[["space_id", "insee_code", "lon", "lat", "types"]].merge(
        meta.drop(columns=["lon", "lat"]), on="insee_code", how="left")
    unmatched = int(df["territory_class"].isna().sum())
    if unmatched:
        LOG.warning("%d spaces have a commune code absent from communes.parquet: their commune features are imputed",
                    unmatched)
    lon, lat = df["lon"].astype(float), df["lat"].astype(float)
    feats = pd.DataFrame(index=pd.Index(df["space_id"].astype(str), name="space_id"))
    feats["density_level"] = pd.to_numeric(df["density_level"], errors="coerce").to_numpy()
    for c in TERRITORY_CLASSES:
        feats[f"class_{c}"] = df["territory_class"].eq(c).fillna(False).to_numpy(dtype=float)
    feats["log_pop_around"] = np.log1p(sum_within_km(lon, lat, meta, meta["population"], around_km))
    emp = meta["employed_residents"] if "employed_residents" in meta else pd.Series(np.nan, index=meta.index)
    feats["log_employed_around"] = np.log1p(sum_within_km(lon, lat, meta, emp, around_km))
    feats["share_outside"] = pd.to_numeric(df.get("share_outside"), errors="coerce").to_numpy(dtype=float)
    feats["fibre_share"] = pd.to_numeric(df["fibre_share"], errors="coerce").to_numpy(dtype=float)
    feats["log_dist_other_space"] = np.log1p(nearest_km(lon, lat, lon, lat, exclude_self=True))
    metro = meta[meta["metropolis"]]
    d_metro = nearest_km(lon, lat, metro["lon"], metro["lat"])
    d_metro[df["metropolis"].fillna(False).astype(bool).to_numpy()] = 0.0
    feats["log_dist_metropolis"] = np.log1p(d_metro)
    types = df["types"].astype("string").fillna("").str.lower()
    present = sorted({t.strip() for v in types for t in str(v).split(";") if t.strip()})
    for t in present:
        feats[f"type_{t}"] = types.str.split(";").apply(lambda xs, t=t: t in [x.strip() for x in xs]).to_numpy(float)
    prog = np.zeros(len(df))
    for c in ("fabrique", "manufacture"):
        if c in sp.columns:
            prog = np.maximum(prog, _flag(sp[c], len(sp)))
    feats["programme"] = prog
    feats["territory_class"] = df["territory_class"].astype("string").to_numpy()
    LOG.info("space features: %d spaces, %d features, types %s", len(feats), feats.shape[1] - 1, present)
    return feats


def model_features(feats: pd.DataFrame, min_coverage: float = 0.5) -> pd.DataFrame:
    """The numeric columns to cluster: constant columns and those known for < ``min_coverage`` of rows dropped."""
    num = feats.drop(columns=["territory_class"], errors="ignore").astype(float)
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
    """Profiles (size, dominant class, type shares, feature means) and a name per cluster.

    Naming rule, from the members of each cluster:

    1. place qualifier from the dominant ``territory_class`` (share ≥ 50 %):
       « métropolitain », « de ville moyenne », « de petite ville », « périurbain »,
       « rural »; else « multi-territoires »;
    2. function: « Coworking » or « Fab-lab » when that type covers ≥ 60 % of the
       members, « Tiers-lieu labellisé » when ≥ 50 % are Fabrique/Manufacture
       laureates, else « Tiers-lieu »;
    3. « Pôle de <function, plural> <place> » when the median distance to the nearest
       other space is at most ``HUB_KM`` (2 km); « <Function> <place> isolé » when it
       is at least ``ISOLATED_KM`` (15 km); else « <Function> <place> »
       (e.g. « Pôle de coworking métropolitain », « Fab-lab rural isolé »,
       « Tiers-lieu de ville moyenne »);
    4. names that repeat get, in parentheses, the French label of their most
       distinctive feature (largest |mean z-score|) not yet used.
    """
    labels = result.labels.reindex(feats.index)
    df = feats.assign(model_id=labels.to_numpy() + 1)
    num = df.drop(columns=["territory_class"]).astype(float)
    rows = []
    for mid, g in num.groupby("model_id", sort=True):
        cls = df.loc[g.index, "territory_class"].value_counts(normalize=True)
        top_cls, top_share = (cls.index[0], float(cls.iloc[0])) if len(cls) else ("unknown", 0.0)
        place = PLACE_WORDS.get(top_cls, MIXED_PLACE) if top_share >= CLASS_DOMINANCE else MIXED_PLACE
        cow = g["type_coworking"].mean() if "type_coworking" in g else 0.0
        fab = g["type_fablab"].mean() if "type_fablab" in g else 0.0
        if cow >= TYPE_DOMINANCE:
            func = "coworking"
        elif fab >= TYPE_DOMINANCE:
            func = "fablab"
        elif g["programme"].mean() >= PROGRAMME_DOMINANCE:
            func = "programme"
        else:
            func = "tiers_lieu"
        d = float(np.expm1(g["log_dist_other_space"]).median())
        name = model_name_fr(func, place, d)
        row = {"model_id": int(mid), "model_name": name if mid > 0 else NOISE_NAME,
               "n_spaces": len(g), "share": len(g) / len(num), "dominant_territory_class": top_cls,
               "dominant_class_share": top_share, "share_coworking": cow, "share_fablab": fab,
               "median_dist_other_space_km": d,
               "median_dist_metropolis_km": float(np.expm1(g["log_dist_metropolis"]).median()),
               "mean_pop_around": float(np.expm1(g["log_pop_around"]).mean()),
               "mean_fibre_share": float(g["fibre_share"].mean()),
               "mean_share_outside": float(g["share_outside"].mean()),
               "mean_density_level": float(g["density_level"].mean())}
        rows.append(row)
    prof = pd.DataFrame(rows)
    dedupe_names(prof, result, "model_id", "model_name", FEATURE_LABELS)
    for c in result.centers.columns:
        prof[f"z_{c}"] = prof["model_id"].map(lambda m, c=c: result.centers[c].get(m - 1, np.nan))
    return prof


def model_name_fr(func: str, place: str, median_dist_km: float) -> str:
    """French model name from its function key, place qualifier and median distance to the next space (km)."""
    one, many = FUNCTION_WORDS[func]
    if median_dist_km <= HUB_KM:
        return f"Pôle de {many} {place}"
    if median_dist_km >= ISOLATED_KM:
        return f"{one} {place} isolé"
    return f"{one} {place}"


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
            mid = int(prof.at[i, id_col])
            found = _distinctive(result.centers.loc[mid - 1], used[mid], labels)
            if found is None:
                continue
            used[mid].add(found[0])
            extra[mid].append(found[1])
    names = base + prof[id_col].map(lambda m: f" ({', '.join(extra[int(m)])})" if extra[int(m)] else "")
    prof[name_col] = names.where(~names.duplicated(keep=False), names + " – groupe " + prof[id_col].astype(str))


def cross_table(feats: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Counts of spaces by model (rows) × territory_class (columns), with totals."""
    df = assignments.merge(feats[["territory_class"]].reset_index(), on="space_id", how="left")
    df["territory_class"] = df["territory_class"].fillna("unknown")
    tab = pd.crosstab(df["model_id"], df["territory_class"])
    tab = tab[[c for c in (*TERRITORY_CLASSES, "unknown") if c in tab.columns]]
    tab["total"] = tab.sum(axis=1)
    names = assignments.drop_duplicates("model_id").set_index("model_id")["model_name"]
    tab.insert(0, "model_name", names.reindex(tab.index).to_numpy())
    tab = tab.reset_index()
    total = tab.drop(columns=["model_id", "model_name"]).sum().to_frame().T
    total.insert(0, "model_name", "total")
    total.insert(0, "model_id", pd.NA)
    tab["model_id"] = tab["model_id"].astype("Int64")
    return pd.concat([tab, total.astype({"model_id": "Int64"})], ignore_index=True)
