"""Generic clustering with model selection and bootstrap stability (geosnap-like).

Plain signature: a feature frame whose index is the unit's identifier (space_id,
insee_code, ...), a method name, a range of k and a seed. The result carries the
labels, the scores table, the chosen k and the reason it was chosen.

Choice of k, stability first: every k of the range is fitted and refitted on
bootstrap resamples; the chosen k is the largest whose mean adjusted Rand index
(ARI) with the full fit is at least ``STABLE_ARI`` (0.8), else the most stable k.
Silhouette, Calinski-Harabasz and Davies-Bouldin are reported per k beside it,
with each score's own best k. A partition whose ARI is below ``UNSTABLE_ARI``
(0.6) is flagged unstable.

Method ``gower`` is for mixed binary and continuous features: Gower distance
(each column scaled to [0, 1] by its range; binary columns count a mismatch as 1;
columns weighted, e.g. so that every feature group weighs the same) and k-medoids
(FasterPAM, ``kmedoids`` package). Above ``GOWER_FIT_MAX`` units the medoids are
fitted on a sample and every unit joins its nearest medoid (CLARA-like).

Determinism and canonical labels: rows are sorted by their identifier before
anything is fitted, and clusters are renumbered by decreasing size (ties broken
by the lexicographic order of their centroid in scaled units). Permuting the
input rows therefore changes no label, and a given seed always gives the same
answer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from coworking_geo.errors import ConfigError
from coworking_geo.log import get_logger
from coworking_geo.typology.agreement import adjusted_rand_index
from coworking_geo.typology.fit_cache import BOOT_COLUMNS, FitCache

# scikit-learn, kmedoids and scipy are imported in the functions that fit or score (2-3 CPU-seconds of
# start-up): a run whose fits are all read back from the cache needs none of them (issue 19).

LOG = get_logger(__name__)

METHODS = ("kmeans", "gmm", "ward", "hdbscan", "gower")
#: criteria used to choose k and whether larger is better
CRITERIA = {"silhouette": True, "calinski_harabasz": True, "davies_bouldin": False, "bic": False}
#: above this many rows k-means switches to MiniBatchKMeans and Ward is refused (O(n²) memory)
LARGE_N = 20_000
#: k is chosen as the largest k whose bootstrap ARI reaches this (default of typology.stability_threshold)
STABLE_ARI = 0.8
#: below this bootstrap ARI a typology is published as « instable »
UNSTABLE_ARI = 0.6
#: Gower k-medoids fits its medoids on at most this many units (the distance matrix is n² floats)
GOWER_FIT_MAX = 6000


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
    at_range_end: bool = False
    medoids: list[str] = field(default_factory=list)

    @property
    def unstable(self) -> bool:
        """True when the mean bootstrap ARI is below ``UNSTABLE_ARI`` (or could not be computed)."""
        ari = self.stability_ari
        return not (ari == ari and ari >= UNSTABLE_ARI)

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


def gower_space(features: pd.DataFrame, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Coordinates whose L1 (cityblock) distance is the weighted Gower distance (0–1).

    Missing values are imputed with the column median; each column is scaled to
    [0, 1] by its range (constant columns become 0) and multiplied by its weight
    divided by the sum of the weights (default: all equal).
    """
    X = features.astype("float64")
    empty = [c for c in X.columns if X[c].isna().all()]
    if empty:
        raise ConfigError(f"feature column(s) {empty} are entirely missing: drop them before clustering")
    X = X.fillna(X.median())
    rng = (X.max() - X.min()).replace(0.0, 1.0)
    w = pd.Series({c: float((weights or {}).get(c, 1.0)) for c in X.columns})
    if (w < 0).any() or w.sum() <= 0:
        raise ConfigError("Gower weights must be non-negative and not all zero")
    return (X - X.min()) / rng * (w / w.sum())


def _fit_medoids(X: np.ndarray, k: int, seed: int, init: str = "build") -> tuple[np.ndarray, np.ndarray]:
    """Labels of every row and the row numbers of the k medoids (k-medoids on the L1 distance of ``X``)."""
    import kmedoids
    from scipy.spatial.distance import cdist

    n = len(X)
    fit = np.arange(n) if n <= GOWER_FIT_MAX else np.sort(
        np.random.default_rng(seed).choice(n, GOWER_FIT_MAX, replace=False))
    D = cdist(X[fit], X[fit], "cityblock")
    res = kmedoids.fasterpam(D, k, init=init, random_state=seed, n_cpu=1)
    med = fit[np.asarray(res.medoids, dtype=int)]
    labels = np.argmin(cdist(X, X[med], "cityblock"), axis=1)
    return labels, med


def _check(method: str, n: int) -> None:
    if method not in METHODS:
        raise ConfigError(f"clustering method '{method}' is not one of {METHODS}")
    if method == "ward" and n > LARGE_N:
        raise ConfigError(f"Ward clustering of {n} units needs O(n²) memory: use kmeans or gmm above {LARGE_N} units")


def fit_labels(X: np.ndarray, method: str, k: int, seed: int, min_cluster_size: int = 10) -> np.ndarray:
    """Raw labels of one fit (not canonical). ``k`` is ignored by HDBSCAN."""
    from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans, MiniBatchKMeans
    from sklearn.mixture import GaussianMixture

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
    if method == "gower":
        return _fit_medoids(X, k, seed)[0]
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


def score_partition(X: np.ndarray, labels: np.ndarray, seed: int, sample_size: int | None = None,
                    metric: str = "euclidean") -> dict[str, float]:
    """Silhouette (on at most ``sample_size`` points, with ``metric``), Calinski-Harabasz and Davies-Bouldin.

    Noise points (-1) are left out. NaN when fewer than two clusters remain.
    Calinski-Harabasz and Davies-Bouldin are Euclidean in the coordinates ``X``.
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    keep = labels >= 0
    Xk, lk = X[keep], labels[keep]
    nan = {"silhouette": np.nan, "calinski_harabasz": np.nan, "davies_bouldin": np.nan}
    if len(np.unique(lk)) < 2 or len(np.unique(lk)) >= len(lk):
        return nan
    size = sample_size if sample_size and sample_size < len(Xk) else None
    return {
        "silhouette": float(silhouette_score(Xk, lk, metric=metric, sample_size=size, random_state=seed)),
        "calinski_harabasz": float(calinski_harabasz_score(Xk, lk)),
        "davies_bouldin": float(davies_bouldin_score(Xk, lk)),
    }


def no_resample() -> pd.DataFrame:
    """An empty bootstrap table (a k not resampled)."""
    return pd.DataFrame(columns=BOOT_COLUMNS)


def _fit_of_k(X: np.ndarray, method: str, k: int, seed: int, sample_size: int | None,
              cache: FitCache | None) -> tuple[np.ndarray, dict[str, float], bool]:
    """Canonical labels and scores of the fit of ``k`` (read back from ``cache`` when an earlier run made
    it), and whether it was computed here."""
    key = cache.key(X, step="fit", method=method, k=k, seed=seed, sample_size=sample_size) if cache else ""
    stored = cache.load_fit(key) if cache else None
    if stored is not None:
        return stored[0], stored[1], False
    from sklearn.mixture import GaussianMixture

    labels = canonical_labels(fit_labels(X, method, k, seed), X)
    row = score_partition(X, labels, seed, sample_size, "cityblock" if method == "gower" else "euclidean")
    row["bic"] = (float(GaussianMixture(n_components=k, random_state=seed, n_init=3, reg_covar=1e-4).fit(X).bic(X))
                  if method == "gmm" else np.nan)
    if cache:
        cache.save_fit(key, labels, row)
    return labels, row, True


def _resampling_of_k(X: np.ndarray, labels: np.ndarray, method: str, k: int, seed: int, sample_size: int | None,
                     n_bootstrap: int, max_points: int | None, cache: FitCache | None) -> tuple[pd.DataFrame, bool]:
    """Bootstrap table of ``k`` (:func:`bootstrap_stability`, read back from ``cache`` when an earlier run
    made it), and whether it was computed here."""
    key = cache.key(X, step="resample", method=method, k=k, seed=seed, sample_size=sample_size,
                    n_bootstrap=n_bootstrap, max_points=max_points) if cache else ""
    stored = cache.load_boot(key) if cache else None
    if stored is not None:
        return stored, False
    boot = bootstrap_stability(X, labels, method, k, n_bootstrap, seed, max_points)
    if cache:
        cache.save_boot(key, boot)
    return boot, True


def score_k_range(X: np.ndarray, method: str, ks: list[int], seed: int, sample_size: int | None = None,
                  n_bootstrap: int = 0, max_points: int | None = None, stop_at: float | None = None,
                  also: int | None = None, cache: FitCache | None = None,
                  ) -> tuple[pd.DataFrame, dict[int, np.ndarray], dict[int, pd.DataFrame]]:
    """Scores table (one row per k, with ``stability`` = mean bootstrap ARI), the canonical labels of every
    fit and the bootstrap table of every k resampled.

    Resampling goes from the largest k down. With ``stop_at`` (the stability threshold of
    :func:`choose_k`), it stops at the first k whose ARI and worst-cluster Jaccard both reach it: that k
    is the one chosen, and the smaller k are left unresampled (NaN stability), since they cannot be chosen.
    Each k draws its resamples from ``seed`` alone, so the values computed do not depend on where the scan
    stops. ``also`` (a k fixed by configuration) is resampled in any case. With ``cache``, the fit and the
    resampling of a k computed by an earlier run on the same features and settings are read back."""
    fits, scores, boots = {}, {}, {}
    n_computed = [0, 0]  # fits, resamplings computed in this call (the others were read back)
    for k in ks:
        fits[k], scores[k], computed = _fit_of_k(X, method, k, seed, sample_size, cache)
        n_computed[0] += computed
    stable = False
    for k in sorted(ks, reverse=True):
        if n_bootstrap <= 0 or (stable and k != also):
            continue
        boots[k], computed = _resampling_of_k(X, fits[k], method, k, seed, sample_size, n_bootstrap, max_points,
                                              cache)
        n_computed[1] += computed
        stable = stable or (stop_at is not None and
                            min(boots[k]["ari"].mean(), boots[k]["min_jaccard"].mean()) >= stop_at)
    if cache:
        LOG.info("%d of %d fits and %d of %d resamplings read back from %s (computed by an earlier run)",
                 len(ks) - n_computed[0], len(ks), len(boots) - n_computed[1], len(boots), cache.folder)
    rows = []
    for k in ks:
        labels, row, boot = fits[k], scores[k], boots.get(k, no_resample())
        rows.append({"k": k, "silhouette": row["silhouette"], "calinski_harabasz": row["calinski_harabasz"],
                     "davies_bouldin": row["davies_bouldin"],
                     "stability": float(boot["ari"].mean()) if len(boot) else np.nan,
                     "stability_min": float(boot["ari"].min()) if len(boot) else np.nan,
                     "cluster_jaccard": float(boot["min_jaccard"].mean()) if len(boot) else np.nan,
                     "bic": row["bic"], "n_clusters": int(len(np.unique(labels[labels >= 0]))),
                     "n_noise": int((labels < 0).sum())})
    return pd.DataFrame(rows), fits, boots


def choose_k(scores: pd.DataFrame, threshold: float = STABLE_ARI) -> tuple[int, str]:
    """Choose k from stability first: the largest stable k.

    A k is stable when its mean bootstrap ARI (``stability``) and its mean
    worst-cluster Jaccard index (``cluster_jaccard``: every cluster is found
    again, not only the partition as a whole) are both ≥ ``threshold``. When no
    k is stable, the k with the best min(ARI, Jaccard) (ties → smaller k).
    Without resamples, the k of the best silhouette. Adds, in place,
    ``best_k_<score>`` (each score's own best k, as geosnap's find_k) and
    ``chosen``. Returns k and an English sentence giving the reason.
    """
    best = best_k_by_score(scores)
    for c, kk in best.items():
        scores[f"best_k_{c}"] = kk
    lo, hi = int(scores["k"].min()), int(scores["k"].max())
    nan = pd.Series(np.nan, index=scores.index)
    stab = scores["stability"] if "stability" in scores else nan
    jac = scores["cluster_jaccard"] if "cluster_jaccard" in scores else nan
    if stab.notna().any():
        both = pd.Series(np.fmin(stab.to_numpy(float), jac.fillna(stab).to_numpy(float)), index=scores.index)
        ok = scores[both >= threshold]
        if len(ok):
            k = int(ok["k"].max())
            why = f"largest k with bootstrap stability >= {threshold:.2f} (ARI and worst-cluster Jaccard)"
        else:
            k = int(scores["k"].to_numpy()[int(np.nanargmax(both.to_numpy()))])
            why = f"no k reaches bootstrap stability {threshold:.2f}: most stable k"
        ari = float(stab[scores["k"].eq(k)].iloc[0])
    elif best:
        k = best.get("silhouette", next(iter(best.values())))
        why, ari = "no resample: best silhouette", float("nan")
    else:
        k, why, ari = lo, "the only partition (no criterion could be computed)", float("nan")
    scores["chosen"] = scores["k"].eq(k)
    tops = ", ".join(f"{c} {kk}" for c, kk in best.items())
    reason = f"k={k}: {why} (ARI {ari:.2f}) among k={lo}..{hi}; best k by {tops or 'no score'}"
    if hi > lo and k in (lo, hi):
        reason += f" [k at the {'lower' if k == lo else 'upper'} end of the range]"
    if ari == ari and ari < UNSTABLE_ARI:
        reason += f" [unstable: ARI below {UNSTABLE_ARI:.2f}]"
    return k, reason


def best_k_by_score(scores: pd.DataFrame) -> dict[str, int]:
    """Each available criterion's own best k (silhouette, Calinski-Harabasz, Davies-Bouldin, BIC)."""
    out: dict[str, int] = {}
    ks = scores["k"].to_numpy()
    for c, larger in CRITERIA.items():
        if c in scores and scores[c].notna().any():
            v = scores[c].to_numpy(float)
            out[c] = int(ks[int(np.nanargmax(v) if larger else np.nanargmin(v))])
    return out


def _predict_nearest(X_fit: np.ndarray, labels_fit: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Assign every row of ``X`` to the nearest centroid of the partition ``labels_fit`` of ``X_fit``."""
    labs = np.unique(labels_fit[labels_fit >= 0])
    centers = np.vstack([X_fit[labels_fit == lab].mean(axis=0) for lab in labs])
    d = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return labs[np.argmin(d, axis=1)]


def min_jaccard(reference: np.ndarray, other: np.ndarray) -> float:
    """Smallest, over the reference clusters, Jaccard index with their best-matching cluster of ``other``."""
    out = 1.0
    for lab in np.unique(reference[reference >= 0]):
        ref = reference == lab
        best = max((np.sum(ref & (other == o)) / np.sum(ref | (other == o)) for o in np.unique(other[other >= 0])),
                   default=0.0)
        out = min(out, float(best))
    return out


def bootstrap_stability(X: np.ndarray, reference: np.ndarray, method: str, k: int, n_boot: int,
                        seed: int, max_points: int | None = None) -> pd.DataFrame:
    """Agreement between the reference labels and fits on bootstrap resamples, one row per resample.

    Each resample draws n rows with replacement (at most ``max_points``), refits
    the method with the same k, assigns every unit to the nearest resample
    centroid (gower: nearest medoid; HDBSCAN: the resample's own labels on the
    drawn rows) and compares with ``reference``: ``ari`` (adjusted Rand index,
    1 = identical partition, ~0 = chance) and ``min_jaccard`` (the worst-recovered
    reference cluster's Jaccard index, as in Hennig's clusterboot). A resample
    with fewer than k distinct points is drawn again (k clusters cannot be refitted on it).
    """
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(seed)
    n = len(X)
    m = min(n, max_points) if max_points else n
    rows = []
    row_id = np.unique(X, axis=0, return_inverse=True)[1].ravel()  # equal rows share an id
    n_distinct = int(row_id.max()) + 1
    for b in range(n_boot):
        idx = rng.choice(n, size=m, replace=True)
        for _ in range(100):  # a resample needs k distinct points to be refitted with k clusters: draw again
            if n_distinct < k or len(np.unique(row_id[idx])) >= k:
                break
            idx = rng.choice(n, size=m, replace=True)
        if method == "gower":
            _, med = _fit_medoids(X[idx], k, seed + b + 1, init="random")
            ref, pred = reference, np.argmin(cdist(X, X[idx][med], "cityblock"), axis=1)
        else:
            lab_b = fit_labels(X[idx], method, k, seed + b + 1)
            if method == "hdbscan":
                ref, pred = reference[idx], lab_b
            else:
                ref, pred = reference, _predict_nearest(X[idx], lab_b, X)
        rows.append({"resample": b, "n_points": m, "ari": adjusted_rand_index(ref, pred),
                     "min_jaccard": min_jaccard(ref, pred)})
    return pd.DataFrame(rows, columns=BOOT_COLUMNS)


def one_group(features: pd.DataFrame, reason: str) -> ClusteringResult:
    """A single group holding every unit, for a territory with too few units for a typology (nothing is chosen)."""
    zscores = scale_features(features.sort_index(kind="mergesort"))
    return ClusteringResult(
        labels=pd.Series(0, index=features.index), k=1, method="none",
        scores=pd.DataFrame(columns=["method", "k", "chosen"]), reason=reason,
        stability=pd.DataFrame(columns=["ari"]), centers=pd.DataFrame([zscores.mean()], index=[0]),
        seed=0, scaled=zscores)


def cluster(features: pd.DataFrame, method: str = "kmeans", k_min: int = 2, k_max: int = 8, *,
            seed: int = 0, n_bootstrap: int = 20, k: int | None = None, sample_size: int | None = 5000,
            bootstrap_max_points: int | None = 5000, min_cluster_size: int = 10,
            scale: bool = True, weights: dict[str, float] | None = None,
            stability_threshold: float = STABLE_ARI, threads: int = 1,
            cache_dir: str | os.PathLike[str] | None = None) -> ClusteringResult:
    """Scale ``features`` (index = unit identifier), choose k in [k_min, k_max] and cluster.

    ``threads`` caps the BLAS and OpenMP threads of every fit (threadpoolctl; default 1), so that
    two jobs on two cores never oversubscribe them.

    k is chosen from stability first (:func:`choose_k`: every k is refitted on
    ``n_bootstrap`` resamples). ``k`` fixes the number of clusters (scores and
    stability are still computed over the range for the record). HDBSCAN chooses
    its own number of clusters. ``weights`` (per column) are used by ``gower``
    only. Silhouette is computed on at most ``sample_size`` points (it is O(n²)).
    ``centers`` are the cluster means of the z-scored features whatever the method. ``cache_dir`` keeps
    the fit and the resampling of every k for later runs (:mod:`coworking_geo.typology.fit_cache`).
    """
    cache = FitCache(Path(cache_dir)) if cache_dir is not None else None
    with threadpool_limits(limits=max(1, int(threads))):
        return _cluster(features, method, k_min, k_max, seed, n_bootstrap, k, sample_size, bootstrap_max_points,
                        min_cluster_size, scale, weights, stability_threshold, cache)


def _cluster(features: pd.DataFrame, method: str, k_min: int, k_max: int, seed: int, n_bootstrap: int,
             k: int | None, sample_size: int | None, bootstrap_max_points: int | None, min_cluster_size: int,
             scale: bool, weights: dict[str, float] | None, stability_threshold: float,
             cache: FitCache | None) -> ClusteringResult:
    if features.index.has_duplicates:
        dup = features.index[features.index.duplicated()].unique()[:5].tolist()
        raise ConfigError(f"clustering needs unique identifiers; duplicated: {dup}")
    _check(method, len(features))
    if k_min > k_max:
        raise ConfigError(f"k_min={k_min} is greater than k_max={k_max}")
    order = features.sort_index(kind="mergesort")
    if len(order) < 3:
        raise ConfigError(f"clustering needs at least 3 units, got {len(order)}")
    zscores = scale_features(order)
    if method == "gower":
        scaled = gower_space(order, weights)
    else:
        scaled = zscores if scale else order.astype("float64")
    X = scaled.to_numpy()
    n = len(X)
    at_end = False
    if method == "hdbscan":
        labels = canonical_labels(fit_labels(X, method, 0, seed, min_cluster_size), X)
        k_found = int(len(np.unique(labels[labels >= 0])))
        scores = pd.DataFrame([{"k": k_found, **score_partition(X, labels, seed, sample_size), "bic": np.nan,
                                "n_clusters": k_found, "n_noise": int((labels < 0).sum())}])
        scores["chosen"] = True
        k_used = k_found
        reason = (f"HDBSCAN (min_cluster_size={min_cluster_size}) found {k_found} clusters and "
                  f"{int((labels < 0).sum())} noise points; k is not chosen by scores")
        stability = (bootstrap_stability(X, labels, method, k_used, n_bootstrap, seed, bootstrap_max_points)
                     if n_bootstrap > 0 else no_resample())
    else:
        n_distinct = len(np.unique(X, axis=0))
        ks = [kk for kk in range(k_min, k_max + 1) if kk < n and kk <= n_distinct] or [min(k_min, n_distinct, n - 1)]
        if k is not None and k not in ks:
            ks = sorted({*ks, k})
        scores, fits, boots = score_k_range(X, method, ks, seed, sample_size, n_bootstrap, bootstrap_max_points,
                                            stop_at=stability_threshold, also=k, cache=cache)
        best_k, reason = choose_k(scores, stability_threshold)
        if k is not None:
            scores["chosen"] = scores["k"].eq(k)
            reason = f"k={k} fixed by configuration; by stability alone: {reason}"
            k_used = k
        else:
            k_used = best_k
            at_end = len(ks) > 1 and k_used in (min(ks), max(ks))
        labels = fits[k_used]
        stability = boots.get(k_used, no_resample())
    scores.insert(0, "method", method)
    labs = np.unique(labels[labels >= 0])
    Z = zscores.to_numpy()
    centers = pd.DataFrame([Z[labels == lab].mean(axis=0) for lab in labs], index=labs, columns=zscores.columns)
    medoids: list[str] = []
    if method == "gower":
        from scipy.spatial.distance import cdist

        for lab in labs:
            members = np.flatnonzero(labels == lab)
            within = cdist(X[members], X[members], "cityblock").sum(axis=1) if len(members) <= GOWER_FIT_MAX else \
                np.abs(X[members] - np.median(X[members], axis=0)).sum(axis=1)
            medoids.append(str(order.index[members[int(np.argmin(within))]]))
    out = pd.Series(labels, index=order.index, name="label").reindex(features.index)
    LOG.info("%s: %d units, k=%d (%s); bootstrap ARI %.3f over %d resamples", method, n, k_used, reason,
             stability["ari"].mean() if len(stability) else float("nan"), len(stability))
    return ClusteringResult(labels=out, k=k_used, method=method, scores=scores, reason=reason,
                            stability=stability, centers=centers, seed=seed, scaled=scaled.reindex(features.index),
                            at_range_end=at_end, medoids=medoids)
