"""The loop's headline metric: accuracy for classifiers, RMSE for regressors."""

from __future__ import annotations

from typing import Any

import numpy as np

LOWER_IS_BETTER = ("rmse", "mae")


def default_metric(model: Any) -> str:
    """``"accuracy"`` for a classifier, ``"rmse"`` for anything else."""
    is_classifier = hasattr(model, "classes_") or getattr(model, "task", "regression") in ("binary", "multiclass")
    return "accuracy" if is_classifier and hasattr(model, "predict_proba") else "rmse"


def score_arrays(y_true: np.ndarray, y_pred: np.ndarray, metric: str) -> float:
    """Metric of predictions against labels (classes compared as text, so 1 == "1")."""
    if len(y_true) == 0:
        raise ValueError("cannot score an empty set of labels")
    if metric == "accuracy":
        return float(np.mean(np.asarray(y_true).astype(str) == np.asarray(y_pred).astype(str)))
    error = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    if metric == "rmse":
        return float(np.sqrt(np.mean(error**2)))
    if metric == "mae":
        return float(np.mean(np.abs(error)))
    raise ValueError(f"unknown metric {metric!r}")


def score(model: Any, X: Any, y: np.ndarray, metric: str) -> float:
    """Metric of ``model.predict(X)`` against ``y``."""
    return score_arrays(np.asarray(y), np.asarray(model.predict(X)), metric)
