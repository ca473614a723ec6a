"""Per-column test results of :func:`loopwise.drift.compare`: one report-row dict per
column from its counts or sorted values, and the multiple-testing adjustment."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from .. import _core
from . import _high_cardinality as hc
from . import statistics as st

__all__ = ["adjust", "distinct_at_most", "categorical_row", "numeric_row"]


def adjust(p_values: np.ndarray, correction: Optional[str]) -> np.ndarray:
    """Bonferroni or Benjamini-Hochberg adjusted p-values (NaN entries ignored)."""
    adjusted = np.full_like(p_values, np.nan)
    valid = ~np.isnan(p_values)
    p = p_values[valid]
    if correction is None or p.size == 0:
        adjusted[valid] = p
    elif correction == "bonferroni":
        adjusted[valid] = np.minimum(p * p.size, 1.0)
    else:  # Benjamini-Hochberg step-up
        order = np.argsort(p)
        scaled = p[order] * p.size / np.arange(1, p.size + 1)
        stepped = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
        out = np.empty_like(p)
        out[order] = stepped
        adjusted[valid] = out
    return adjusted


def distinct_at_most(sorted_values: np.ndarray, k: int) -> bool:
    if sorted_values.size == 0:
        return True
    return int(np.count_nonzero(sorted_values[1:] != sorted_values[:-1])) + 1 <= k


def categorical_row(test: str, p: np.ndarray, q: np.ndarray, psi_epsilon: float, js_base: float) -> dict:
    if test == "high_cardinality":
        return hc.high_cardinality_row(p, q)
    if test == "z":
        if int(((p + q) > 0).sum()) > 2:
            raise ValueError(f"the z-test needs at most 2 distinct values, got {int(((p + q) > 0).sum())}; use chi2")
        keep = (p + q) > 0
        statistic, p_value = st.proportion_z(p[keep], q[keep])
        return {"statistic": statistic, "p_value": p_value, "method": "pooled two-proportion z-test"}
    if test in ("chi2", "g_test"):
        statistic, p_value, dof = st.contingency_test(p, q, log_likelihood=test == "g_test")
        return {"statistic": statistic, "p_value": p_value, "method": f"dof={dof}, unseen={int(((p == 0) & (q > 0)).sum())}"}
    psi_value, js_value, hellinger_value = _core.drift_count_divergences(p, q, psi_epsilon, js_base)
    value = {"psi": psi_value, "jensen_shannon": js_value, "hellinger": hellinger_value}[test]
    return {"statistic": value, "method": "category frequencies"}


def numeric_row(test: str, s: dict, sa: np.ndarray, sb: np.ndarray) -> dict:
    if test == "ks":
        result = st._ks_result(s["ks"], s["ks_exact_pvalue"], sa.size, sb.size)
        return {"statistic": result.statistic, "p_value": result.p_value, "method": result.method}
    if test == "cvm":
        if sa.size < 2 or sb.size < 2:
            return {"method": "too few values"}
        exact = np.nan
        if max(sa.size, sb.size) <= 20:
            exact = _core.drift_cvm_exact_pvalue(s["cvm_u"], sa.size, sb.size)
        result = st._cvm_result(s["cvm_u"], exact, sa.size, sb.size)
        return {"statistic": result.statistic, "p_value": result.p_value, "method": result.method}
    if test == "anderson":
        if sa.size + sb.size < 4:
            return {"method": "too few values"}
        result = st._anderson_result(s["anderson_a2akn"], sa, sb)
        return {"statistic": result.statistic, "p_value": result.p_value, "method": result.method}
    scale = max(s["reference_std"], st.STD_FLOOR)
    if test == "wasserstein":
        return {"statistic": s["wasserstein"] / scale, "method": "normalized by max(reference std, 0.001)"}
    if test == "energy":
        return {"statistic": s["energy"] / math.sqrt(scale), "method": "normalized by sqrt(reference std)"}
    return {"statistic": s[test], "method": "reference-quantile bins"}
