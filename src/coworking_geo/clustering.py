"""Generic clustering with model selection and bootstrap stability (geosnap-like).

Plain signature: a feature frame whose index is the unit's identifier (space_id,
insee_code, ...), a method name, a range of k and a seed. The result carries the
labels, the scores table, the chosen k and the reason it was chosen.

Determinism and canonical labels: rows are sorted by their identifier before
anything is fitted, and clusters are renumbered by decreasing size (ties broken
by the lexicographic order of their centroid in scaled units). Permuting the
input rows therefore changes no label, and a given seed always gives the same
answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans, MiniBatchKMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture

from coworking_geo.errors import ConfigError
from coworking_geo.log import get_logger

LOG = get_logger(__name__)

METHODS = ("kmeans", "gmm", "ward", "hdbscan")
#: criteria used to choose k and whether larger is better
CRITERIA = {"silhouette": True, "calinski_harabasz": True, "davies_bouldin": False, "bic": False}
#: above this many rows k-means switches to MiniBatchKMeans and Ward is refused (O(n²) memory)
LARGE_N = 20_000


@dataclass
class ClusteringResult:
    """Outcome of :func:`cluster`.

    ``labels`` is indexed by the input identifiers (in input order); labels are
    0..k-1, and -1 marks HDBSCAN noise. ``scores`` has one row per k tried.
    ``stability`` has one row per bootstrap resample (``ari``).
    ``centers`` holds the cluster means in scaled units (rows = labels).
    """

    labels: pd.Series
    k: int
    method: str
    scores: pd.DataFrame
    reason: str
    stability: pd.DataFrame
    centers: pd.DataFrame
    seed: int
    scaled: pd.DataFrame = field(repr=False)

    @property
    def stability_ari(self) -> float:
        """Mean adjusted Rand index over the bootstrap resamples (NaN without resamples)."""
        return float(self.stability["ari"].mean()) if len(self.stability) else float("nan")

    def sizes(self) -> pd.Series:
        """Number of units per label."""
        return self.labels.value_counts().sort_index()


def scale_features(features: pd.DataFrame) -> pd.DataFrame:
    """Standardise every column (z-scores) after imputing missing values with the column median.

    Constant columns become 0. Units: standard deviations. Raises ConfigError
    when a column is entirely missing.
    """
    X = features.astype("float64")
    empty = [c for c in X.columns if X[c].isna().all()]
    if empty:
        raise ConfigError(f"feature column(s) {empty} are entirely missing: drop them before clustering")
    n_missing = int(X.isna().sum().sum())
    if n_missing:
        LOG.info("imputed %d missing feature values with the column median", n_missing)
    X = X.fillna(X.median())
    std = X.std(ddof=0).replace(0.0, 1.0)
    return (X - X.mean()) / std


def _check(method: str, n: int) -> None:
    if method not in METHODS:
        raise ConfigError(f"clustering method '{method}' is not one of {METHODS}")
    if method == "ward" and n > LARGE_N:
        raise ConfigError(f"Ward clustering of {n} units needs O(n²) memory: use kmeans or gmm above {LARGE_N} units")


def fit_labels(X: np.ndarray, method: str, k: int, seed: int, min_cluster_size: int = 10) -> np.ndarray:
    """Raw labels of one fit (not canonical). ``k`` is ignored by HDBSCAN."""
    _check(method, len(X))
    if method == "kmeans":
        if len(X) > LARGE_N:
            return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096).fit_predict(X)
        return KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(X)
    if method == "gmm":
        return GaussianMixture(n_components=k, random_state=seed, n_init=3, covariance_type="full",
                               reg_covar=1e-4).fit(X).predict(X)
    if method == "ward":
        return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
    return HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit_predict(X)


def canonical_labels(labels: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..k-1 by decreasing size, ties by lexicographic centroid; noise (-1) kept."""
    labels = np.asarray(labels)
    keys = []
    for lab in np.unique(labels[labels >= 0]):
        members = X[labels == lab]
        keys.append((-len(members), tuple(np.round(members.mean(axis=0), 9)), lab))
    order = {lab: new for new, (_, _, lab) in enumerate(sorted(keys))}
    return np.array([order.get(lab, -1) for lab in labels], dtype=int)


def score_partition(X: np.ndarray, labels: np.ndarray, seed: int, sample_size: int | None = None) -> dict[str, float]:
    """Silhouette (on at most ``sample_size`` points), Calinski-Harabasz and Davies-Bouldin of a partition.

    Noise points (-1) are left out. NaN when fewer than two clusters remain.
    """
    keep = labels >= 0
    Xk, lk = X[keep], labels[keep]
    nan = {"silhouette": np.nan, "calinski_harabasz": np.nan, "davies_bouldin": np.nan}
    if len(np.unique(lk)) < 2 or len(np.unique(lk)) >= len(lk):
        return nan
    size = sample_size if sample_size and sample_size < len(Xk) else None
    return {
        "silhouette": float(silhouette_score(Xk, lk, sample_size=size, random_state=seed)),
        "calinski_harabasz": float(calinski_harabasz_score(Xk, lk)),
        "davies_bouldin": float(davies_bouldin_score(Xk, lk)),
    }


def score_k_range(X: np.ndarray, method: str, ks: list[int], seed: int,
                  sample_size: int | None = None) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """Scores table (one row per k) and the canonical labels of every fit."""
    rows, fits = [], {}
    for k in ks:
        labels = canonical_labels(fit_labels(X, method, k, seed), X)
        row: dict[str, float] = {"k": k, **score_partition(X, labels, seed, sample_size)}
        if method == "gmm":
            row["bic"] = float(GaussianMixture(n_components=k, random_state=seed, n_init=3,
                                               reg_covar=1e-4).fit(X).bic(X))
        else:
            row["bic"] = np.nan
        row["n_clusters"] = int(len(np.unique(labels[labels >= 0])))
        row["n_noise"] = int((labels < 0).sum())
        rows.append(row)
        fits[k] = labels
    return pd.DataFrame(rows), fits


def choose_k(scores: pd.DataFrame) -> tuple[int, str]:
    """Choose k by the mean rank over the available criteria (silhouette, CH, DB, BIC); ties → smaller k.

    Returns k and a sentence giving the reason. Adds ``rank_*``, ``mean_rank``
    and ``chosen`` columns to ``scores`` in place.
    """
    used = [c for c, _ in CRITERIA.items() if c in scores and scores[c].notna().any()]
    if not used:
        k = int(scores["k"].iloc[0])
        scores["mean_rank"] = np.nan
        scores["chosen"] = scores["k"].eq(k)
        return k, f"k={k}: the only partition (no criterion could be computed)"
    for c in used:
        scores[f"rank_{c}"] = scores[c].rank(ascending=not CRITERIA[c], method="min")
    scores["mean_rank"] = scores[[f"rank_{c}" for c in used]].mean(axis=1)
    best = scores.sort_values(["mean_rank", "k"]).iloc[0]
    k = int(best["k"])
    scores["chosen"] = scores["k"].eq(k)
    parts = []
    for c in used:
        top = int(scores.loc[scores[c].idxmax() if CRITERIA[c] else scores[c].idxmin(), "k"])
        parts.append(f"{c} {best[c]:.3f} (rank {int(best[f'rank_{c}'])}, best k={top})")
    reason = (f"k={k} has the best mean rank ({best['mean_rank']:.2f}) over {len(used)} criteria among "
              f"k={int(scores['k'].min())}..{int(scores['k'].max())}: " + "; ".join(parts))
    if len(scores) > 1 and k == int(scores["k"].max()):
        reason += " (k is the upper end of the range: a larger k_max may score better)"
    return k, reason


def _predict_nearest(X_fit: np.ndarray, labels_fit: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Assign every row of ``X`` to the nearest centroid of the partition ``labels_fit`` of ``X_fit``."""
    labs = np.unique(labels_fit[labels_fit >= 0])
    centers = np.vstack([X_fit[labels_fit == lab].mean(axis=0) for lab in labs])
    d = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return labs[np.argmin(d, axis=1)]


def bootstrap_stability(X: np.ndarray, reference: np.ndarray, method: str, k: int, n_boot: int,
                        seed: int, max_points: int | None = None) -> pd.DataFrame:
    """Adjusted Rand index between the reference labels and fits on bootstrap resamples.

    Each resample draws n rows with replacement (at most ``max_points``), refits
    the method with the same k, assigns every unit to the nearest resample
    centroid (HDBSCAN: the resample's own labels on the drawn rows) and
    compares with ``reference`` by ARI (1 = identical partition, ~0 = chance).
    """
    rng = np.random.default_rng(seed)
    n = len(X)
    m = min(n, max_points) if max_points else n
    rows = []
    for b in range(n_boot):
        idx = rng.choice(n, size=m, replace=True)
        lab_b = fit_labels(X[idx], method, k, seed + b + 1)
        if method == "hdbscan":
            ari = adjusted_rand_score(reference[idx], lab_b)
        elif len(np.unique(lab_b[lab_b >= 0])) < 1:
            ari = np.nan
        else:
            ari = adjusted_rand_score(reference, _predict_nearest(X[idx], lab_b, X))
        rows.append({"resample": b, "n_points": m, "ari": float(ari)})
    return pd.DataFrame(rows, columns=["resample", "n_points", "ari"])


def cluster(features: pd.DataFrame, method: str = "kmeans", k_min: int = 2, k_max: int = 8, *,
            seed: int = 0, n_bootstrap: int = 20, k: int | None = None, sample_size: int | None = 5000,
            bootstrap_max_points: int | None = 5000, min_cluster_size: int = 10,
            scale: bool = True) -> ClusteringResult:
    """Scale ``features`` (index = unit identifier), choose k in [k_min, k_max] and cluster.

    ``k`` fixes the number of clusters (scores are still computed over the range
    for the record). HDBSCAN chooses its own number of clusters. Silhouette is
    computed on at most ``sample_size`` points (it is O(n²)).
    """
    if features.index.has_duplicates:
        dup = features.index[features.index.duplicated()].unique()[:5].tolist()
        raise ConfigError(f"clustering needs unique identifiers; duplicated: {dup}")
    _check(method, len(features))
    if k_min > k_max:
        raise ConfigError(f"k_min={k_min} is greater than k_max={k_max}")
    order = features.sort_index(kind="mergesort")
    scaled = scale_features(order) if scale else order.astype("float64")
    X = scaled.to_numpy()
    n = len(X)
    if n < 3:
        raise ConfigError(f"clustering needs at least 3 units, got {n}")
    if method == "hdbscan":
        labels = canonical_labels(fit_labels(X, method, 0, seed, min_cluster_size), X)
        k_found = int(len(np.unique(labels[labels >= 0])))
        scores = pd.DataFrame([{"k": k_found, **score_partition(X, labels, seed, sample_size), "bic": np.nan,
                                "n_clusters": k_found, "n_noise": int((labels < 0).sum())}])
        scores["chosen"] = True
        k_used = k_found
        reason = (f"HDBSCAN (min_cluster_size={min_cluster_size}) found {k_found} clusters and "
                  f"{int((labels < 0).sum())} noise points; k is not chosen by scores")
    else:
        ks = [kk for kk in range(k_min, k_max + 1) if kk < n]
        if k is not None and k not in ks:
            ks = sorted({*ks, k})
        scores, fits = score_k_range(X, method, ks, seed, sample_size)
        best_k, reason = choose_k(scores)
        if k is not None:
            scores["chosen"] = scores["k"].eq(k)
            reason = f"k={k} fixed by configuration; by the scores alone: {reason}"
            k_used = k
        else:
            k_used = best_k
        labels = fits[k_used]
    scores.insert(0, "method", method)
    stability = (bootstrap_stability(X, labels, method, k_used, n_bootstrap, seed, bootstrap_max_points)
                 if n_bootstrap > 0 else pd.DataFrame(columns=["resample", "n_points", "ari"]))
    labs = np.unique(labels[labels >= 0])
    centers = pd.DataFrame([X[labels == lab].mean(axis=0) for lab in labs], index=labs, columns=scaled.columns)
    out = pd.Series(labels, index=order.index, name="label").reindex(features.index)
    LOG.info("%s: %d units, k=%d (%s); bootstrap ARI %.3f over %d resamples", method, n, k_used, reason,
             stability["ari"].mean() if len(stability) else float("nan"), len(stability))
    return ClusteringResult(labels=out, k=k_used, method=method, scores=scores, reason=reason,
                            stability=stability, centers=centers, seed=seed, scaled=scaled.reindex(features.index))
