"""Calibrating a classifier's scores on labelled reference data (isotonic, as CBPE does)."""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedShuffleSplit

__all__ = ["expected_calibration_error", "fit_isotonic", "improves_calibration"]

# The cross-validated check runs on these many random splits with a tenth held out each time.
_SPLITS = 10
_HELD_OUT = 0.1
_BINS = 10


def fit_isotonic(scores: np.ndarray, hit: np.ndarray) -> IsotonicRegression:
    """An increasing map from scores to the observed rate of ``hit``; clipped outside the
    reference's range, because a score never seen there has no better estimate than its nearest."""
    return IsotonicRegression(out_of_bounds="clip", increasing=True, y_min=0.0, y_max=1.0).fit(scores, hit)


def expected_calibration_error(hit: np.ndarray, scores: np.ndarray, bins: int = _BINS) -> float:
    """Size-weighted mean |mean score - observed rate| over equal-count bins of sorted scores.

    Examples
    --------
    >>> expected_calibration_error(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.5, 0.5]), bins=2)
    0.0
    """
    order = np.argsort(scores, kind="stable")
    scores, hit = np.asarray(scores, dtype=float)[order], np.asarray(hit, dtype=float)[order]
    n = len(scores)
    bins = min(bins, n // 2) if n <= 2 * bins else bins
    width = n // bins
    edges = list(range(0, n + 1, width))
    edges[-1] = n
    total = 0.0
    for left, right in zip(edges[:-1], edges[1:]):
        if right > left:
            total += abs(scores[left:right].mean() - hit[left:right].mean()) * (right - left) / n
    return float(total)


def improves_calibration(scores: np.ndarray, hit: np.ndarray, random_state: int = 42) -> bool:
    """Whether isotonic calibration lowers the expected calibration error on held-out reference
    rows (NannyML's rule). A model that is calibrated already is left alone: the isotonic map's
    steps would only add noise to its estimate.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.random(2000)
    >>> hit = (rng.random(2000) < truth).astype(int)
    >>> improves_calibration(truth ** 4, hit)
    True
    """
    hit = np.asarray(hit)
    if len(np.unique(hit)) < 2 or roc_auc_score(hit, scores) > 0.999:
        return False
    splitter = StratifiedShuffleSplit(n_splits=_SPLITS, test_size=_HELD_OUT, random_state=random_state)
    raw, calibrated, observed = [], [], []
    for train, test in splitter.split(scores, hit):
        raw.append(scores[test])
        calibrated.append(fit_isotonic(scores[train], hit[train]).predict(scores[test]))
        observed.append(hit[test])
    observed_all = np.concatenate(observed)
    return expected_calibration_error(observed_all, np.concatenate(calibrated)) < \
        expected_calibration_error(observed_all, np.concatenate(raw))
