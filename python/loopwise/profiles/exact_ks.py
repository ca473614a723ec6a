"""The exact two-sample KS statistic from sorted, range-partitioned counts, with no engine.

An engine groups the union of both samples by value (counts per side), sorts the groups
into value ranges and calls :func:`ks_partial` on each range; :func:`ks_combine` puts the
ranges in order on the driver, offsets each range's running counts by the totals of the
ranges before it and takes the largest gap. D is computed as scipy's ``ks_2samp`` does
(``i / n - j / m`` from integer running counts), and the p-value by the same rule (exact
when both sizes are at most 10000, else the asymptotic Kolmogorov distribution)."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from .. import _core
from ..drift import _pvalues
from ..drift import statistics as st

__all__ = ["ks_partial", "ks_combine", "PARTIAL_COLUMNS"]

#: Columns of one partial: first value of the range, the range's totals per side, and the
#: running counts (lists) wherever the range's local gap is largest and smallest.
PARTIAL_COLUMNS = ["first", "total_a", "total_b", "hi_a", "hi_b", "lo_a", "lo_b"]
# Ties of the exact gap kept per range: each is evaluated in scipy's float expression on the
# driver, so the float maximum is the one scipy finds.
_MAX_TIES = 64


def _gap_keys(ca: np.ndarray, cb: np.ndarray, n: int, m: int) -> np.ndarray:
    """n m (F_a - F_b) at every value as exact integers (int64 while n m fits, else Python ints)."""
    if n * m < 2**62:
        return ca * np.int64(m) - cb * np.int64(n)
    return ca.astype(object) * m - cb.astype(object) * n


def ks_partial(chunk: pd.DataFrame, n: int, m: int) -> dict:
    """Summary of one value range: ``chunk`` has distinct values ``value`` and their counts
    ``count_a`` (reference) and ``count_b`` (current), in any row order.

    Examples
    --------
    >>> chunk = pd.DataFrame({"value": [1.0, 2.0], "count_a": [1, 0], "count_b": [0, 1]})
    >>> ks_partial(chunk, 1, 1)["hi_a"]
    [1]
    """
    values = chunk["value"].to_numpy(np.float64)
    order = np.argsort(values, kind="stable")
    ca = np.cumsum(chunk["count_a"].to_numpy(np.int64)[order])
    cb = np.cumsum(chunk["count_b"].to_numpy(np.int64)[order])
    keys = _gap_keys(ca, cb, n, m)
    top = np.flatnonzero(keys == keys.max())[:_MAX_TIES]
    bottom = np.flatnonzero(keys == keys.min())[:_MAX_TIES]
    return {"first": float(values[order[0]]), "total_a": int(ca[-1]), "total_b": int(cb[-1]),
            "hi_a": ca[top].tolist(), "hi_b": cb[top].tolist(), "lo_a": ca[bottom].tolist(),
            "lo_b": cb[bottom].tolist()}


def ks_combine(partials: Sequence[dict], n: int, m: int) -> st.TestResult:
    """The KS test from the partials of every value range (any order).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> a, b = np.array([1.0, 2.0, 3.0]), np.array([2.5, 3.5])
    >>> values = np.union1d(a, b)
    >>> chunk = pd.DataFrame({"value": values, "count_a": np.isin(values, a).astype(int),
    ...                       "count_b": np.isin(values, b).astype(int)})
    >>> parts = [ks_partial(chunk.iloc[:2], 3, 2), ks_partial(chunk.iloc[2:], 3, 2)]
    >>> ks_combine(parts, 3, 2).statistic
    0.6666666666666666
    """
    if n < 1 or m < 1:
        raise ValueError(f"both samples need at least one non-missing value, got {n} and {m}")
    ordered = sorted(partials, key=lambda p: p["first"])
    if sum(p["total_a"] for p in ordered) != n or sum(p["total_b"] for p in ordered) != m:
        raise ValueError("the partials do not add up to the sample sizes: a value range is missing or counted twice")
    before_a = before_b = 0
    top, bottom = 0.0, 0.0
    for p in ordered:
        for a, b in zip(p["hi_a"], p["hi_b"]):
            top = max(top, (before_a + int(a)) / n - (before_b + int(b)) / m)  # scipy's cdf1 - cdf2
        for a, b in zip(p["lo_a"], p["lo_b"]):
            bottom = min(bottom, (before_a + int(a)) / n - (before_b + int(b)) / m)
        before_a += p["total_a"]
        before_b += p["total_b"]
    d = float(max(min(-bottom, 1.0), top))  # scipy: max(clip(-min, 0, 1), max)
    if max(n, m) <= st.EXACT_KS_MAX_N:
        lcm = (n // math.gcd(n, m)) * m
        d = round(d * lcm) / lcm  # scipy's exact branch snaps D to the lattice h / lcm(n, m)
        p_value, method = float(_core.drift_ks_exact_pvalue(int(n), int(m), d)), "exact"
    else:
        p_value, method = float(_pvalues.ks_asymptotic_pvalue(d, n, m)), "asymp"
    if math.isnan(p_value):  # the core declines an exact p-value it cannot compute
        p_value, method = float(_pvalues.ks_asymptotic_pvalue(d, n, m)), "asymp"
    return st.TestResult("ks", d, p_value, method, {"n_reference": int(n), "n_current": int(m), "sort_based": True})
