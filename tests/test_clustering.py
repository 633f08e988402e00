"""Generic clustering: k recovered on well-separated blobs, canonical labels, stability, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from coworking_geo.typology import clustering
from coworking_geo.typology.clustering import canonical_labels, choose_k, cluster, scale_features
from coworking_geo.errors import ConfigError


def blobs(n: int = 240, centers: int = 4, seed: int = 1, std: float = 0.6) -> tuple[pd.DataFrame, np.ndarray]:
    X, y = make_blobs(n_samples=n, centers=centers, n_features=3, cluster_std=std, random_state=seed)
    ids = [f"S{i:05d}" for i in range(n)]
    return pd.DataFrame(X, columns=["a", "b", "c"], index=pd.Index(ids, name="space_id")), y


@pytest.mark.parametrize("method", ["kmeans", "gmm", "ward"])
def test_blobs_recover_k_and_truth(method: str) -> None:
    df, y = blobs()
    res = cluster(df, method, 2, 7, seed=7, n_bootstrap=5)
    assert res.k == 4
    assert res.scores["k"].tolist() == [2, 3, 4, 5, 6, 7]
    assert res.scores.loc[res.scores["chosen"], "k"].tolist() == [4]
    # the partition is the generating one (ARI is permutation invariant)
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(y, res.labels.to_numpy()) == pytest.approx(1.0)
    assert res.stability_ari == pytest.approx(1.0)
    assert len(res.stability) == 5
    assert sorted(res.sizes().tolist()) == [60, 60, 60, 60]
    assert "k=4" in res.reason and "silhouette" in res.reason
    if method == "gmm":
        assert res.scores["bic"].notna().all() and "bic" in res.reason
    else:
        assert res.scores["bic"].isna().all()


def test_hdbscan_finds_the_blobs() -> None:
    df, _ = blobs(centers=3, std=0.4)
    res = cluster(df, "hdbscan", seed=1, n_bootstrap=3, min_cluster_size=15)
    assert res.k == 3
    assert len(res.scores) == 1 and "HDBSCAN" in res.reason


@pytest.mark.parametrize("method", ["kmeans", "gmm", "ward"])
def test_permuting_rows_changes_no_label(method: str) -> None:
    df, _ = blobs(n=300, centers=5, std=1.6, seed=3)  # overlapping: labels depend on the fit, not on the truth
    ref = cluster(df, method, 3, 6, seed=11, n_bootstrap=0)
    for s in (1, 2):
        shuffled = df.sample(frac=1.0, random_state=s)
        res = cluster(shuffled, method, 3, 6, seed=11, n_bootstrap=0)
        assert res.k == ref.k
        assert list(res.labels.index) == list(shuffled.index)  # returned in input order
        pd.testing.assert_series_equal(res.labels.reindex(df.index), ref.labels)
        pd.testing.assert_frame_equal(res.scores, ref.scores)


def test_labels_are_numbered_by_decreasing_size() -> None:
    X = np.array([[0.0], [0.1], [10.0], [10.1], [10.2], [5.0]])
    lab = canonical_labels(np.array([7, 7, 3, 3, 3, 9]), X)
    assert lab.tolist() == [1, 1, 0, 0, 0, 2]
    assert canonical_labels(np.array([2, -1, 2]), np.zeros((3, 1))).tolist() == [0, -1, 0]


def test_same_seed_same_answer_and_bootstrap_ari_below_one_when_unstable() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(200, 2)), index=[f"x{i:03d}" for i in range(200)], columns=["u", "v"])
    a = cluster(df, "kmeans", 3, 3, seed=5, n_bootstrap=8)
    b = cluster(df, "kmeans", 3, 3, seed=5, n_bootstrap=8)
    pd.testing.assert_frame_equal(a.stability, b.stability)
    assert a.stability_ari < 0.95  # no structure: resamples disagree


def test_fixed_k_is_used_and_scores_are_kept() -> None:
    df, _ = blobs()
    res = cluster(df, "kmeans", 2, 6, seed=1, n_bootstrap=0, k=3)
    assert res.k == 3 and res.labels.nunique() == 3
    assert len(res.scores) == 5
    assert res.reason.startswith("k=3 fixed by configuration; by stability alone: k=4: no resample: best silhouette")


def test_choose_k_largest_stable_k_and_each_scores_best_k() -> None:
    s = pd.DataFrame({"k": [2, 3, 4, 5], "silhouette": [0.5, 0.6, 0.4, 0.3],
                      "calinski_harabasz": [100.0, 90, 120, 80], "davies_bouldin": [0.8, 0.7, 0.9, 1.0],
                      "bic": [np.nan] * 4, "stability": [0.95, 0.9, 0.85, 0.5],
                      "cluster_jaccard": [0.9, 0.85, 0.7, 0.4]})
    k, reason = choose_k(s, 0.8)
    assert k == 3  # k=4 has a stable partition but a cluster that is not found again (Jaccard 0.7)
    assert s[["best_k_silhouette", "best_k_calinski_harabasz", "best_k_davies_bouldin"]].iloc[0].tolist() == [3, 4, 3]
    assert "largest k with bootstrap stability >= 0.80" in reason and "[k at" not in reason
    assert choose_k(s, 0.6)[0] == 4
    k, reason = choose_k(s, 0.99)  # nothing clears the threshold: the most stable k, flagged at the range end
    assert k == 2 and "no k reaches" in reason and "[k at the lower end of the range]" in reason
    u = pd.DataFrame({"k": [2, 3], "silhouette": [0.5, 0.4], "stability": [0.3, 0.5], "cluster_jaccard": [0.2, 0.5]})
    k, reason = choose_k(u)
    assert k == 3 and "[unstable: ARI below 0.60]" in reason


def planted_one_hot(n: int = 600, seed: int = 3, redraw: float = 0.1) -> tuple[pd.DataFrame, np.ndarray]:
    """Four planted groups among three one-hot categorical variables (4, 3 and 2 levels) plus one pure-noise
    continuous column; each categorical value is redrawn at random with probability ``redraw``."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 4, n)
    protos, levels, cols = [[0, 0, 0], [1, 1, 0], [2, 0, 1], [3, 2, 1]], [4, 3, 2], {}
    for v, n_lev in enumerate(levels):
        val = np.array([protos[x][v] for x in g])
        r = rng.random(n) < redraw
        val[r] = rng.integers(0, n_lev, int(r.sum()))
        for lev in range(n_lev):
            cols[f"v{v}_{lev}"] = (val == lev).astype(float)
    df = pd.DataFrame(cols, index=pd.Index([f"s{i:04d}" for i in range(n)], name="space_id"))
    df["noise"] = rng.normal(size=n)
    return df, g


def test_gower_kmedoids_recovers_planted_one_hot_groups() -> None:
    from sklearn.metrics import adjusted_rand_score
    df, g = planted_one_hot()
    res = cluster(df, "gower", 2, 8, seed=1, n_bootstrap=10)
    assert res.k == 4 and not res.at_range_end and not res.unstable
    assert adjusted_rand_score(g, res.labels.to_numpy()) > 0.8
    assert res.stability_ari > 0.9 and len(res.medoids) == 4
    # the scores alone would not have given 4: silhouette prefers the top of the range
    assert int(res.scores["best_k_silhouette"].iloc[0]) == 8


def test_gower_weights_change_what_counts() -> None:
    df, g = planted_one_hot()
    heavy = {c: (50.0 if c == "noise" else 1.0) for c in df.columns}  # the noise column dominates the distance
    from sklearn.metrics import adjusted_rand_score
    res = cluster(df, "gower", 4, 4, seed=1, n_bootstrap=0, weights=heavy)
    assert adjusted_rand_score(g, res.labels.to_numpy()) < 0.2


def test_scaling_imputes_and_handles_constants() -> None:
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [2.0, 2.0, 2.0]})
    z = scale_features(df)
    assert z["a"].tolist() == pytest.approx([-1.2247449, 0.0, 1.2247449])
    assert z["b"].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ConfigError, match="entirely missing"):
        scale_features(pd.DataFrame({"a": [np.nan, np.nan]}))


def test_large_inputs_use_minibatch_and_refuse_ward(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clustering, "LARGE_N", 100)
    df, _ = blobs(n=400, centers=3, std=0.5)
    res = cluster(df, "kmeans", 2, 4, seed=2, n_bootstrap=2, sample_size=150, bootstrap_max_points=200)
    assert res.k == 3 and res.stability["n_points"].eq(200).all()
    with pytest.raises(ConfigError, match="Ward"):
        cluster(df, "ward", 2, 4)


def test_bad_inputs_raise() -> None:
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]}, index=["a", "b", "a", "c"])
    with pytest.raises(ConfigError, match="duplicated"):
        cluster(df)
    with pytest.raises(ConfigError, match="not one of"):
        cluster(df.reset_index(drop=True), "spectral")


def test_bootstrap_redraws_resamples_too_small_for_k_without_sklearn_warning() -> None:
    """Four units, k=3: a resample with two distinct points cannot hold three clusters (sklearn's
    ConvergenceWarning in a real run); it is drawn again, so every fit sees at least k distinct points."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from coworking_geo.typology.clustering import bootstrap_stability

    X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        boot = bootstrap_stability(X, np.array([0, 0, 1, 2]), "kmeans", 3, 20, 0)
    assert len(boot) == 20 and boot["ari"].notna().all()


def test_resampling_stops_at_the_first_stable_k_from_the_top() -> None:
    """Resampled from k = 7 down, the scan stops at the first stable k (4 planted blobs): the k chosen and the
    stabilities computed equal those of the full scan; the smaller k are not resampled."""
    df, _ = blobs()
    X = clustering.gower_space(df)
    full, _, _ = clustering.score_k_range(X.to_numpy(), "gower", [2, 3, 4, 5, 6, 7], 7, n_bootstrap=5)
    early, _, boots = clustering.score_k_range(X.to_numpy(), "gower", [2, 3, 4, 5, 6, 7], 7, n_bootstrap=5,
                                               stop_at=0.8)
    assert choose_k(full.copy())[0] == choose_k(early.copy())[0] == 4
    assert sorted(boots) == [4, 5, 6, 7]
    assert early["stability"].isna().tolist() == [True, True, False, False, False, False]
    pd.testing.assert_frame_equal(early[early["k"] >= 4], full[full["k"] >= 4])
    # a k fixed by configuration below the stable one is resampled too
    _, _, boots = clustering.score_k_range(X.to_numpy(), "gower", [2, 3, 4, 5, 6, 7], 7, n_bootstrap=5, stop_at=0.8,
                                           also=2)
    assert sorted(boots) == [2, 4, 5, 6, 7]


def test_fits_kept_between_runs_give_the_same_answer_without_refitting(tmp_path, monkeypatch) -> None:
    """A second run on the same features reads every fit and resampling back (nothing is refitted) and gives
    the same result; a narrower k range reuses them; other features are fitted afresh."""
    df, _ = blobs()
    first = cluster(df, "kmeans", 2, 7, seed=7, n_bootstrap=5, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("fit-*.npz"))) == 6 and len(list(tmp_path.glob("boot-*.npz"))) == 4

    def refit(*args, **kwargs):
        raise AssertionError("refitted")
    monkeypatch.setattr(clustering, "fit_labels", refit)
    monkeypatch.setattr(clustering, "bootstrap_stability", refit)
    again = cluster(df, "kmeans", 2, 7, seed=7, n_bootstrap=5, cache_dir=tmp_path)
    pd.testing.assert_series_equal(again.labels, first.labels)
    pd.testing.assert_frame_equal(again.scores, first.scores)
    pd.testing.assert_frame_equal(again.stability, first.stability)
    narrower = cluster(df, "kmeans", 2, 6, seed=7, n_bootstrap=5, cache_dir=tmp_path)
    assert narrower.k == first.k == 4
    with pytest.raises(AssertionError, match="refitted"):  # one value changed: a new key, a new fit
        cluster(df.assign(a=df["a"].where(df.index != df.index[0], 99.0)), "kmeans", 2, 7, seed=7, n_bootstrap=5,
                cache_dir=tmp_path)


def test_adjusted_rand_index_equals_scikit_learn_to_the_last_bit() -> None:
    """The project's ARI (no scikit-learn import) gives scikit-learn's value exactly, on integer and string
    labels, noise (-1) included."""
    from sklearn.metrics import adjusted_rand_score

    from coworking_geo.typology.agreement import adjusted_rand_index

    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(2, 2000))
        a = rng.integers(-1, int(rng.integers(1, 9)), n)
        b = np.where(rng.random(n) < 0.7, a, rng.integers(0, 6, n))
        assert adjusted_rand_index(a, b) == adjusted_rand_score(a, b)
    names = np.array(["rural", "metropole", "rural", "periurbain", "metropole", "rural"])
    models = np.array([1, 2, 1, 1, 2, 3])
    assert adjusted_rand_index(names, models) == adjusted_rand_score(names, models) == pytest.approx(7 / 22)
    assert adjusted_rand_index([0, 0, 1, 1], [5, 5, 7, 7]) == 1.0


def test_a_cached_refit_imports_no_scikit_learn(tmp_path) -> None:
    """With every fit and resampling of the range read back from the cache, clustering imports neither
    scikit-learn nor kmedoids (their start-up is most of a re-run after a k range change, issue 19)."""
    import subprocess
    import sys

    code = f"""
import sys
import numpy as np, pandas as pd
from coworking_geo.typology.clustering import cluster
rng = np.random.default_rng(0)
X = pd.DataFrame(np.vstack([rng.normal(c, 0.3, (50, 2)) for c in (0, 4, 8)]), columns=["a", "b"])
X.index = [f"u{{i:03d}}" for i in range(len(X))]
first = cluster(X, "kmeans", 2, 5, seed=1, n_bootstrap=4, cache_dir={str(tmp_path)!r})
assert "sklearn" in sys.modules
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    again = f"""
import sys
import numpy as np, pandas as pd
from coworking_geo.typology.clustering import cluster
rng = np.random.default_rng(0)
X = pd.DataFrame(np.vstack([rng.normal(c, 0.3, (50, 2)) for c in (0, 4, 8)]), columns=["a", "b"])
X.index = [f"u{{i:03d}}" for i in range(len(X))]
res = cluster(X, "kmeans", 2, 4, seed=1, n_bootstrap=4, cache_dir={str(tmp_path)!r})
assert res.k == 3, res.reason
heavy = sorted(m for m in ("sklearn", "kmedoids", "scipy.spatial") if m in sys.modules)
assert not heavy, heavy
"""
    subprocess.run([sys.executable, "-c", again], check=True)
