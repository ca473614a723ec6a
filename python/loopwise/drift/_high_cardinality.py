"""A drift test for categorical columns with many distinct values (ids, free text, zip codes).

A chi-squared test over thousands of sparse cells is invalid (tiny expected counts) and a
frequency distance over them is biased upward even without drift. Instead two tests,
each valid under "no drift" (reference and current rows exchangeable), are combined:

1. **Top categories**: a chi-squared homogeneity test over the most frequent categories
   plus one "other" bucket. The categories are chosen from the *pooled* counts (the same
   under any relabelling of rows as reference or current, so the choice does not bias the
   test), and only those with an expected count >= 5 on both sides get their own cell.
2. **New categories**: the share of current rows whose category never occurs in the
   reference. Given the pooled count c of a category, the chance that all c rows land in
   current is hypergeometric; the null distribution of the number of such rows is the sum
   over categories, computed exactly by convolution treating categories as independent
   (their true dependence is negative, which makes the tail smaller: conservative).

The column p-value is Bonferroni's min(1, 2 min(p1, p2)).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal, special

from . import statistics as st

__all__ = ["HIGH_CARDINALITY", "TOP_K", "is_high_cardinality", "new_category_test", "top_k_test",
           "high_cardinality_row"]

#: More distinct values than this (reference and current together) make a categorical
#: column high-cardinality under ``tests="auto"``.
HIGH_CARDINALITY = 50
#: Categories that get their own chi-squared cell (at most).
TOP_K = 20
_MIN_EXPECTED = 5.0
_NEGLIGIBLE = 1e-15


def is_high_cardinality(n_distinct: int, n_distinct_reference: int, n_reference: int) -> bool:
    """More than 50 distinct values, or most reference values unique (with more than 5 of them)."""
    return n_distinct > HIGH_CARDINALITY or (n_distinct_reference > 5 and n_distinct_reference > 0.5 * n_reference)


def _all_in_current(c: np.ndarray, m: int, total: int) -> np.ndarray:
    """P(all c rows of a category are current rows) when m of the total pooled rows are current."""
    c = np.asarray(c, dtype=np.float64)
    out = np.zeros_like(c)
    ok = c <= m
    cc = c[ok]
    out[ok] = np.exp(special.gammaln(m + 1) - special.gammaln(m - cc + 1)
                     - special.gammaln(total + 1) + special.gammaln(total - cc + 1))
    return out


def new_category_test(p: np.ndarray, q: np.ndarray) -> tuple[float, float, float]:
    """Observed share of current rows in categories absent from the reference, its
    expected value without drift, and the one-sided p-value (more new rows than chance).

    ``p`` and ``q`` are reference and current counts over the same categories.
    """
    p = np.asarray(p, dtype=np.int64)
    q = np.asarray(q, dtype=np.int64)
    n, m = int(p.sum()), int(q.sum())
    total = n + m
    observed = int(q[p == 0].sum())
    pooled = (p + q)[(p + q) > 0]
    sizes, groups = np.unique(pooled, return_counts=True)
    chance = _all_in_current(sizes, m, total)
    expected = float((sizes * groups * chance).sum())
    if observed == 0:
        return 0.0, expected / m, 1.0
    # pmf of the null count on 0 .. observed-1 (larger values cannot reach back below it).
    pmf = np.zeros(observed)
    pmf[0] = 1.0
    leftover = 0.0
    for c, count, prob in zip(sizes.tolist(), groups.tolist(), chance.tolist()):
        if prob == 0.0:
            continue
        if count * prob < _NEGLIGIBLE:
            leftover += count * prob  # union bound: counted as if it always reached the tail
            continue
        k = np.arange(0, min(count, (observed - 1) // c) + 1)
        factor = np.zeros(int(k[-1]) * c + 1)
        factor[k * c] = np.exp(special.gammaln(count + 1) - special.gammaln(k + 1) - special.gammaln(count - k + 1)
                               + k * math.log(prob) + (count - k) * math.log1p(-prob))
        pmf = signal.fftconvolve(pmf, factor)[:observed] if factor.size > 64 else np.convolve(pmf, factor)[:observed]
        np.clip(pmf, 0.0, None, out=pmf)
    p_value = min(1.0, max(0.0, 1.0 - float(pmf.sum())) + leftover)
    return observed / m, expected / m, p_value


def top_k_test(p: np.ndarray, q: np.ndarray, k: int = TOP_K) -> tuple[float, float, int]:
    """Chi-squared homogeneity test over the (at most ``k``) most frequent pooled categories
    with an expected count >= 5 on both sides, plus one "other" bucket.

    Returns the statistic, the p-value and the number of categories kept.
    """
    p = np.asarray(p, dtype=np.int64)
    q = np.asarray(q, dtype=np.int64)
    pooled = p + q
    n, m = int(p.sum()), int(q.sum())
    eligible = np.flatnonzero(pooled * min(n, m) / max(n + m, 1) >= _MIN_EXPECTED)
    top = eligible[np.argsort(-pooled[eligible], kind="stable")[:k]]
    rest = np.ones(p.size, dtype=bool)
    rest[top] = False
    cells_p = np.append(p[top], p[rest].sum())
    cells_q = np.append(q[top], q[rest].sum())
    statistic, p_value, _ = st.contingency_test(cells_p, cells_q, log_likelihood=False)
    return statistic, p_value, int(top.size)


def high_cardinality_row(p: np.ndarray, q: np.ndarray) -> dict:
    """Report-row fields of the combined high-cardinality test (statistic: new-category share)."""
    chi, p_chi, kept = top_k_test(p, q)
    share, expected, p_new = new_category_test(p, q)
    combined = min(1.0, 2.0 * min(p_chi, p_new))
    method = (f"high cardinality ({int(((p + q) > 0).sum())} categories): top-{kept} + other chi2 p={p_chi:.3g}; "
              f"new-category share {share:.3f} (expected {expected:.3f} without drift) p={p_new:.3g}; "
              "Bonferroni-combined")
    return {"statistic": share, "p_value": combined, "method": method}
