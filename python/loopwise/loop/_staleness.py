"""Has the champion fallen below its own baseline? One-sided tests on the newest labels.

A champion is *stale* when, on rows it has never seen, it scores significantly worse than
it did when it was promoted: the world moved since. A stale champion has lost its claim to
the benefit of the doubt, so the gate may replace it with a challenger that merely scores
better on those rows, without the significant margin a healthy champion is owed.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from scipy import stats

from ._scoring import REGRESSION_METRICS, labels_equal, row_losses

__all__ = ["stale_p_value"]


def stale_p_value(metric: str, y_true: np.ndarray, y_pred: np.ndarray, baseline: Optional[float]) -> Optional[float]:
    """One-sided p-value of "the champion is worse now than ``baseline``" (None: no test).

    Accuracy: exact binomial test of the number of correct rows against the baseline rate.
    RMSE/MAE: one-sided t-test of the per-row squared (absolute) errors against the
    baseline's square (the baseline itself).

    Examples
    --------
    >>> y = np.array([0, 1] * 50)
    >>> round(stale_p_value("accuracy", y, 1 - y, 0.9), 6)  # every row wrong: clearly worse
    0.0
    >>> stale_p_value("accuracy", y, y, 0.9) > 0.5            # every row right: not worse
    True
    """
    if baseline is None or not np.isfinite(baseline) or len(y_true) < 2:
        return None
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if metric == "accuracy":
        correct = int(np.sum(labels_equal(y_true, y_pred)))
        rate = min(max(float(baseline), 0.0), 1.0)
        return float(stats.binomtest(correct, len(y_true), rate, alternative="less").pvalue)
    if metric in REGRESSION_METRICS:
        # The baseline in loss units: RMSE is the root of the mean squared error.
        losses = row_losses(metric, y_true, y_pred)
        target = float(baseline) ** 2 if metric == "rmse" else float(baseline)
        if np.all(losses == losses[0]):
            return 0.0 if losses[0] > target else 1.0
        result = stats.ttest_1samp(losses, target, alternative="greater")
        return None if math.isnan(result.pvalue) else float(result.pvalue)
    return None
