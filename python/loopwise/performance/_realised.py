"""Metrics measured with labels: what the label-free estimates stand in for."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

__all__ = ["classification_metrics", "regression_metrics"]


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


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
    present = np.unique(label_index)
    if len(present) < 2:
        auc = float("nan")
    elif k == 2:
        auc = float(roc_auc_score(label_index, scores[:, 1]))
    else:
        auc = float(np.mean([roc_auc_score(label_index == c, scores[:, c]) for c in range(k) if c in present]))
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
