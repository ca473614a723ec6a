"""Realised metrics under many row weightings at once: the bootstrap's resamples as count
vectors, so each metric of all resamples is a few matrix products instead of a Python loop.
"""

from __future__ import annotations

import numpy as np

__all__ = ["classification_metrics_weighted", "regression_metrics_weighted"]


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def _auc_weighted(W: np.ndarray, positive: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC per row of weights ``W`` (ties count one half)."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    starts = np.r_[0, np.flatnonzero(sorted_scores[1:] != sorted_scores[:-1]) + 1]
    Wp = np.add.reduceat(W[:, order] * positive[order], starts, axis=1)
    Wn = np.add.reduceat(W[:, order] * ~positive[order], starts, axis=1)
    below = np.cumsum(Wn, axis=1) - Wn  # negatives strictly below each distinct score
    pairs = Wp.sum(axis=1) * Wn.sum(axis=1)
    return _ratio(np.sum(Wp * (below + 0.5 * Wn), axis=1), pairs)


def classification_metrics_weighted(W: np.ndarray, label_index: np.ndarray, predicted: np.ndarray,
                                    scores: np.ndarray) -> dict:
    """:func:`loopwise.performance._realised.classification_metrics` for each row of ``W``.

    Examples
    --------
    >>> S = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7]])
    >>> W = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 1.0]])
    >>> classification_metrics_weighted(W, np.array([0, 1, 0]), np.array([0, 1, 1]), S)["precision"].tolist()
    [0.5, 0.6666666666666666]
    """
    k = scores.shape[1]
    total = W.sum(axis=1)
    per_class = []
    for c in ([1] if k == 2 else range(k)):
        truth, said = label_index == c, predicted == c
        tp, fp, fn = W @ (truth & said), W @ (~truth & said), W @ (truth & ~said)
        per_class.append((_ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn),
                          _auc_weighted(W, truth, scores[:, c])))
    precision, recall, f1, auc = (np.stack(v) for v in zip(*per_class))
    if k == 2:
        mean_auc = auc[0]
    else:
        # Macro average over the classes present in the resample (as the unweighted version).
        finite = np.isfinite(auc)
        count = finite.sum(axis=0)
        mean_auc = np.where(count >= 2, np.where(finite, auc, 0.0).sum(axis=0) / np.maximum(count, 1), np.nan)
    return {"accuracy": (W @ (label_index == predicted)) / total, "precision": np.mean(precision, axis=0),
            "recall": np.mean(recall, axis=0), "f1": np.mean(f1, axis=0), "roc_auc": mean_auc}


def regression_metrics_weighted(W: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Weighted MAE and RMSE for each row of ``W``.

    Examples
    --------
    >>> regression_metrics_weighted(np.array([[1.0, 1.0], [0.0, 2.0]]), np.array([1.0, 2.0]), np.array([1.0, 4.0]))["mae"].tolist()
    [1.0, 2.0]
    """
    error = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    total = W.sum(axis=1)
    return {"mae": (W @ np.abs(error)) / total, "rmse": np.sqrt((W @ error ** 2) / total)}
