"""Distances between two KLL sketches, each read as the weighted sample it retains:
Wasserstein-1 and the largest CDF gap (a KS statistic estimate with its rank-error bound)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _sketches

__all__ = ["cdf_gaps", "wasserstein", "ks_estimate"]


def cdf_gaps(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Union of both sketches' retained items (sorted) and F_a(x) - F_b(x) at each."""
    xa, wa = _sketches.kll_points(a)
    xb, wb = _sketches.kll_points(b)
    support = np.union1d(xa, xb)
    fa = np.concatenate([[0.0], np.cumsum(wa)])[np.searchsorted(xa, support, side="right")] / wa.sum()
    fb = np.concatenate([[0.0], np.cumsum(wb)])[np.searchsorted(xb, support, side="right")] / wb.sum()
    return support, fa - fb


def wasserstein(a: Any, b: Any) -> float:
    """Integral of |F_a - F_b| between the sketches' step CDFs."""
    support, gaps = cdf_gaps(a, b)
    return float(np.sum(np.abs(gaps[:-1]) * np.diff(support)))


def ks_estimate(a: Any, b: Any) -> tuple[float, float]:
    """(D-hat, bound): the largest CDF gap of the sketches and the sum of their normalised
    rank errors (0 for a sketch that still holds every value). The true KS statistic lies in
    [D-hat - bound, D-hat + bound] with DataSketches' stated confidence (99%); no p-value
    follows from D-hat, because the sketch error does not shrink like 1/sqrt(n)."""
    _, gaps = cdf_gaps(a, b)
    bound = sum(s.normalized_rank_error(False) if s.is_estimation_mode() else 0.0 for s in (a, b))
    return float(np.max(np.abs(gaps))), float(bound)
