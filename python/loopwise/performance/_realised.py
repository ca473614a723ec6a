"""Metrics measured with labels: what the label-free estimates stand in for."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["classification_metrics", "regression_metrics", "roc_auc"]


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def roc_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve as the Mann-Whitney statistic (ties count one half); the same
    number as ``sklearn.metrics.roc_auc_score`` without its input checks, which dominate the
    cost of the many bootstrap resamples.

    Examples
    --------
    >>> roc_auc(np.array([False, True, True]), np.array([0.1, 0.1, 0.9]))
    0.75
    """
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def classification_metrics(label_index: np.ndarray, predicted: np.ndarray, scores: np.ndarray) -> dict:
    """Accuracy and (for more than two classes, macro one-vs-rest) precision, recall, F1, ROC AUC.

    ``label_index`` and ``predicted`` are class indices; ``scores`` is ``(n, k)``.

    Examples
    --------
    >>> S = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7]])
    >>> classification_metrics(np.array([0, 1, 0]), np.array([0, 1, 1]), S)["precision"]
    0.5
    """
    k = scores.shape[1]
    classes = [1] if k == 2 else range(k)
    per_class = []
    for c in classes:
        truth, said = label_index == c, predicted == c
        tp, fp, fn = np.sum(truth & said), np.sum(~truth & said), np.sum(truth & ~said)
        per_class.append((_ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)))
    precision, recall, f1 = (float(np.mean(v)) for v in zip(*per_class))
    if k == 2:
        auc = roc_auc(label_index == 1, scores[:, 1])
    else:
        # Classes absent from the rows have no AUC; the macro average is over those present.
        aucs = [roc_auc(label_index == c, scores[:, c]) for c in range(k)]
        auc = float(np.nanmean(aucs)) if np.isfinite(aucs).sum() >= 2 else float("nan")
    return {"accuracy": float(np.mean(label_index == predicted)), "precision": precision, "recall": recall,
            "f1": f1, "roc_auc": auc}


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Mean absolute error and root mean squared error.

    Examples
    --------
    >>> regression_metrics(np.array([1.0, 2.0]), np.array([1.0, 4.0]))["mae"]
    1.0
    """
    error = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(np.mean(error ** 2)))}
