"""The loop's rules about tasks, metrics and labels, written once.

Every part of the loop — serving, the monitor, the error-stream detector, candidate
selection, the gate, the staleness test and the report — asks these functions, so they
cannot disagree about whether a model is a classifier, which direction of a metric is
better, or whether a prediction equals a label.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LOWER_IS_BETTER", "REGRESSION_METRICS", "default_metric", "default_metric_for", "higher_is_better",
           "is_classification", "is_classifier", "labels_equal", "labels_in", "metric_from_mean_loss", "positive_class", "row_losses", "score",
           "score_arrays"]

REGRESSION_METRICS = ("rmse", "mae")
LOWER_IS_BETTER = ("rmse", "mae", "log_loss")


def is_classifier(model: Any) -> bool:
    """A model with ``predict_proba`` and classes (scikit-learn's ``classes_``, or a
    loopwise ``TreeEnsemble`` whose task is binary or multiclass).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> is_classifier(LogisticRegression().fit([[0.0], [1.0]], [0, 1])), is_classifier(LinearRegression())
    (True, False)
    """
    return callable(getattr(model, "predict_proba", None)) and (
        hasattr(model, "classes_") or getattr(model, "task", None) in ("binary", "multiclass")
    )


def is_classification(y: Any, *models: Any) -> bool:
    """A classification task: any of ``models`` is a classifier, or the labels are text,
    booleans or Python objects (which no regression metric can average).

    Examples
    --------
    >>> from sklearn.dummy import DummyRegressor
    >>> is_classification(np.array([0.5, 1.5]), DummyRegressor()), is_classification(np.array(["a", "b"]))
    (False, True)
    """
    return any(is_classifier(model) for model in models) or np.asarray(y).dtype.kind in "OUSb"


def default_metric(model: Any) -> str:
    """``"accuracy"`` for a classifier, ``"rmse"`` for anything else.

    Examples
    --------
    >>> from sklearn.dummy import DummyRegressor
    >>> default_metric(DummyRegressor())
    'rmse'
    """
    return default_metric_for(is_classifier(model))


def default_metric_for(classification: bool) -> str:
    """The loop's metric for a task: ``"accuracy"`` for classification, ``"rmse"`` otherwise.

    Examples
    --------
    >>> default_metric_for(True), default_metric_for(False)
    ('accuracy', 'rmse')
    """
    return "accuracy" if classification else "rmse"


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better.

    Examples
    --------
    >>> higher_is_better("accuracy"), higher_is_better("rmse")
    (True, False)
    """
    return metric not in LOWER_IS_BETTER


def labels_equal(a: Any, b: Any) -> np.ndarray:
    """Element-wise label equality: numbers compare as numbers (1 == 1.0), anything else as
    text (so a stored label "1" equals a predicted 1).

    Examples
    --------
    >>> labels_equal(np.array([1, 0]), np.array([1.0, 1.0])).tolist()
    [True, False]
    >>> labels_equal(np.array(["1", "a"]), np.array([1, "a"], dtype=object)).tolist()
    [True, True]
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "biuf" and b.dtype.kind in "biuf":
        return a.astype(np.float64) == b.astype(np.float64)
    return a.astype(str) == b.astype(str)


def labels_in(values: Any, allowed: Any) -> np.ndarray:
    """Element-wise "this label is one of ``allowed``", compared like :func:`labels_equal`.

    Examples
    --------
    >>> labels_in(np.array([1, 2]), np.array([1.0])).tolist()
    [True, False]
    >>> labels_in(np.array(["1", "b"]), np.array([1, 0])).tolist()
    [True, False]
    """
    values, allowed = np.asarray(values), np.asarray(allowed)
    if values.dtype.kind in "biuf" and allowed.dtype.kind in "biuf":
        return np.isin(values.astype(np.float64), allowed.astype(np.float64))
    return np.isin(values.astype(str), allowed.astype(str))


def positive_class(classes: Any) -> Any:
    """The class that fairness rates and ROC AUC call positive: the largest one, numbers
    compared as numbers (so 10 beats 2), anything else as text.

    Examples
    --------
    >>> positive_class([0, 1]), positive_class([2, 10]), positive_class(["no", "yes"])
    (1, 10, 'yes')
    """
    values = np.asarray(classes).ravel().tolist()
    if not values:
        raise ValueError("no classes to choose a positive class from")
    if all(isinstance(v, (int, float)) for v in values):
        return max(values)
    return max(values, key=str)


def row_losses(metric: str, y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-row losses whose mean gives the metric (see :func:`metric_from_mean_loss`):
    0/1 errors for accuracy, squared errors for RMSE, absolute errors for MAE.

    Examples
    --------
    >>> row_losses("accuracy", np.array([1, 0]), np.array([1, 1])).tolist()
    [0.0, 1.0]
    >>> row_losses("rmse", np.array([1.0, 0.0]), np.array([3.0, 0.0])).tolist()
    [4.0, 0.0]
    """
    if metric == "accuracy":
        return (~labels_equal(y_true, y_pred)).astype(np.float64)
    if metric in REGRESSION_METRICS:
        error = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
        return error**2 if metric == "rmse" else np.abs(error)
    raise ValueError(f"metric {metric!r} is not a mean of per-row losses")


def metric_from_mean_loss(metric: str, mean_loss: Any) -> Any:
    """The metric from the mean of :func:`row_losses` (works element-wise on arrays of means).

    Examples
    --------
    >>> metric_from_mean_loss("accuracy", 0.25), float(metric_from_mean_loss("rmse", 4.0))
    (0.75, 2.0)
    """
    if metric == "accuracy":
        return 1.0 - mean_loss
    if metric == "rmse":
        return np.sqrt(mean_loss)
    return mean_loss


def score_arrays(y_true: np.ndarray, y_pred: np.ndarray, metric: str) -> float:
    """Metric of predictions against labels.

    Examples
    --------
    >>> score_arrays(np.array([1, 0, 1]), np.array([1.0, 1.0, 1.0]), "accuracy")
    0.6666666666666666
    """
    if len(y_true) == 0:
        raise ValueError("cannot score an empty set of labels")
    if metric == "accuracy":
        return float(np.mean(labels_equal(y_true, y_pred)))
    error = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    if metric == "rmse":
        return float(np.sqrt(np.mean(error**2)))
    if metric == "mae":
        return float(np.mean(np.abs(error)))
    raise ValueError(f"unknown metric {metric!r}")


def score(model: Any, X: Any, y: np.ndarray, metric: str) -> float:
    """Metric of ``model.predict(X)`` against ``y``.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> score(DummyClassifier(strategy="constant", constant=1).fit([[0], [1]], [0, 1]), [[0], [1]], [1, 1], "accuracy")
    1.0
    """
    return score_arrays(np.asarray(y), np.asarray(model.predict(X)), metric)
