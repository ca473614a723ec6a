"""Prediction churn between two models."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["churn"]


def churn(a: Any, b: Any, X: Any) -> float:
    """How much two models' predictions differ on the rows of X.

    For classifiers (both models have ``predict_proba`` or ``classes_``) this is the fraction
    of rows whose predicted label differs. For regressors it is the mean absolute
    difference of the predictions divided by the mean absolute prediction of ``a`` (a
    relative churn; 0 when the predictions agree).

    Parameters
    ----------
    a, b : fitted models with ``predict``
    X : array-like or DataFrame accepted by both models

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from loopwise.online import SGDClassifier
    >>> X = np.random.default_rng(0).normal(size=(200, 2)); y = (X[:, 0] > 0).astype(int)
    >>> m = SGDClassifier(random_state=0).fit(X, y)
    >>> churn(m, m, X)
    0.0
    """
    for name, model in (("a", a), ("b", b)):
        if not hasattr(model, "predict"):
            raise TypeError(f"{name} must have a predict method, got {type(model).__name__}")
    pa, pb = np.asarray(a.predict(X)), np.asarray(b.predict(X))
    if pa.shape != pb.shape:
        raise ValueError(f"the models return predictions of different shapes {pa.shape} and {pb.shape}")
    if len(pa) == 0:
        raise ValueError("X has no rows")
    is_classifier = any(hasattr(m, "classes_") or hasattr(m, "predict_proba") for m in (a, b))
    if is_classifier or not (np.issubdtype(pa.dtype, np.number) and np.issubdtype(pb.dtype, np.number)):
        return float(np.mean(pa != pb))
    scale = float(np.mean(np.abs(pa)))
    difference = float(np.mean(np.abs(pa.astype(float) - pb.astype(float))))
    return difference / scale if scale > 0 else difference
