"""Tests of independence of a contingency table: Pearson's χ² and Fisher's exact test of a 2 × 2 table.

Both from ``scipy.special`` (log-gamma and the χ² survival function), as ``scipy.stats`` computes them,
without importing ``scipy.stats`` (0.7 CPU-second of start-up in every run of the space models, issue 19).
tests/test_space_models.py compares them with ``scipy.stats.chi2_contingency`` (equal to the last bit) and
``fisher_exact`` (equal to 1e-9) on the France table and on random tables.
"""

from __future__ import annotations

import numpy as np

#: a table as likely as the observed one within this relative difference counts as equally likely (R's fisher.test)
FISHER_REL_TOL = 1e-7


def chi2_independence(table: np.ndarray) -> tuple[float, float, int]:
    """Pearson's χ² statistic of independence of a two-way table of counts, its p-value and degrees of
    freedom (no continuity correction; ``scipy.stats.chi2_contingency(table, correction=False)``)."""
    from scipy.special import chdtrc

    observed = np.asarray(table, dtype="float64")
    expected = observed.sum(axis=1)[:, None] * observed.sum(axis=0)[None, :] / observed.sum()
    dof = int(expected.size - sum(expected.shape) + expected.ndim - 1)
    stat = float(((observed - expected) ** 2 / expected).sum())
    return stat, float(chdtrc(dof, stat)), dof


def fisher_two_sided(table: np.ndarray) -> float:
    """Two-sided p-value of Fisher's exact test of a 2 × 2 table of counts ``[[a, b], [c, d]]``: the
    probability, under the hypergeometric law of the margins, of every table no more likely than the
    observed one (within :data:`FISHER_REL_TOL`). 1 when a row or a column is empty."""
    from scipy.special import gammaln

    t = np.asarray(table, dtype="int64")
    if (t < 0).any() or t.shape != (2, 2):
        raise ValueError(f"a 2 x 2 table of non-negative counts is needed, got {t.tolist()}")
    if 0 in t.sum(axis=0) or 0 in t.sum(axis=1):
        return 1.0
    row1, row2, col1 = int(t[0].sum()), int(t[1].sum()), int(t[:, 0].sum())
    x = np.arange(max(0, col1 - row2), min(col1, row1) + 1)
    log_pmf = (gammaln(row1 + 1) - gammaln(x + 1) - gammaln(row1 - x + 1) + gammaln(row2 + 1)
               - gammaln(col1 - x + 1) - gammaln(row2 - col1 + x + 1)
               - gammaln(row1 + row2 + 1) + gammaln(col1 + 1) + gammaln(row1 + row2 - col1 + 1))
    pmf = np.exp(log_pmf)
    observed = pmf[int(t[0, 0]) - int(x[0])]
    return float(min(1.0, pmf[pmf <= observed * (1 + FISHER_REL_TOL)].sum()))
