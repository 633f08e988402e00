"""Agreement between two partitions of the same units: the adjusted Rand index (Hubert & Arabie 1985).

The same pair-counting formula as scikit-learn's ``adjusted_rand_score`` (in exact integer arithmetic, so
the two agree to the last bit: tests/test_clustering.py compares them), without importing scikit-learn,
whose start-up (1-2 CPU-seconds) a run that reads its fits back from the cache does not need (issue 19).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def adjusted_rand_index(labels_a: Any, labels_b: Any) -> float:
    """Adjusted Rand index of two labelings of the same units (1 = same partition, about 0 = chance).

    Labels may be of any hashable type (codes, names, integers); -1 is a label like any other.
    """
    a = pd.factorize(np.asarray(labels_a), use_na_sentinel=False)[0]
    b = pd.factorize(np.asarray(labels_b), use_na_sentinel=False)[0]
    if len(a) != len(b):
        raise ValueError(f"the two labelings have {len(a)} and {len(b)} units")
    n = len(a)
    if n == 0:
        return 1.0
    nb = int(b.max()) + 1
    # contingency table in Python integers: no overflow, exact sums
    table = np.bincount(a * nb + b, minlength=(int(a.max()) + 1) * nb).reshape(-1, nb).astype(object)
    sum_squares = int((table ** 2).sum())
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    tp = sum_squares - n  # pairs together in both (counted twice, like scikit-learn's pair confusion matrix)
    fp = int((table.dot(cols)).sum()) - sum_squares
    fn = int((table.T.dot(rows)).sum()) - sum_squares
    tn = n * n - fp - fn - sum_squares
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
