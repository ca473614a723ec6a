"""Metrics a classifier is expected to reach when its calibrated probabilities are the truth.

Each row's label is a Bernoulli draw with the calibrated probability, so the confusion matrix has
an expected value: the sums of the probabilities over the predicted positives (true positives),
of their complements (false positives), and so on. Ratios (precision, recall, F1) are taken of
these expected counts, as CBPE does; over a chunk of hundreds of rows the difference from the
expected ratio is far below the sampling error.
"""

from __future__ import annotations

import numpy as np

__all__ = ["binary_metrics", "expected_roc_auc", "multiclass_metrics"]


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def binary_metrics(probability: np.ndarray, predicted_positive: np.ndarray) -> dict:
    """Expected accuracy, precision, recall and F1 of one class against the rest.

    Examples
    --------
    >>> round(binary_metrics(np.array([0.9, 0.2]), np.array([True, False]))["accuracy"], 6)
    0.85
    """
    p = np.asarray(probability, dtype=float)
    positive = np.asarray(predicted_positive, dtype=bool)
    tp, fp = p[positive].sum(), (1.0 - p[positive]).sum()
    fn, tn = p[~positive].sum(), (1.0 - p[~positive]).sum()
    return {
        "accuracy": _ratio(tp + tn, len(p)),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }


def expected_roc_auc(probability: np.ndarray) -> float:
    """Area under the expected ROC curve when rows are ranked by their calibrated probability.

    At each distinct threshold, the expected true positives are the probabilities at or above
    it and the expected false positives their complements (NannyML's construction).

    Examples
    --------
    >>> round(expected_roc_auc(np.array([0.0, 0.0, 1.0, 1.0])), 6)
    1.0
    """
    p = np.sort(np.asarray(probability, dtype=float))[::-1]
    # Cumulative expected positives/negatives from the top; one ROC point per distinct value.
    tp, fp = np.cumsum(p), np.cumsum(1.0 - p)
    last_of_value = np.r_[p[1:] != p[:-1], True]
    tp, fp = np.r_[0.0, tp[last_of_value]], np.r_[0.0, fp[last_of_value]]
    if tp[-1] <= 0 or fp[-1] <= 0:
        return float("nan")
    tpr, fpr = tp / tp[-1], fp / fp[-1]
    # Trapezoids written out: numpy < 2 has no np.trapezoid and numpy 2 deprecates np.trapz.
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def multiclass_metrics(probability: np.ndarray, predicted: np.ndarray) -> dict:
    """Expected accuracy and macro-averaged (one-vs-rest) precision, recall, F1 and ROC AUC.

    ``probability`` is ``(n, k)`` calibrated probabilities, ``predicted`` the predicted class
    index per row.

    Examples
    --------
    >>> P = np.array([[0.8, 0.1, 0.1], [0.1, 0.7, 0.2], [0.2, 0.2, 0.6]])
    >>> round(multiclass_metrics(P, np.array([0, 1, 2]))["accuracy"], 6)
    0.7
    """
    P = np.asarray(probability, dtype=float)
    predicted = np.asarray(predicted)
    per_class = [binary_metrics(P[:, k], predicted == k) for k in range(P.shape[1])]
    out = {"accuracy": float(P[np.arange(len(P)), predicted].sum() / len(P))}
    for name in ("precision", "recall", "f1"):
        out[name] = float(np.mean([m[name] for m in per_class]))
    out["roc_auc"] = float(np.mean([expected_roc_auc(P[:, k]) for k in range(P.shape[1])]))
    return out
