"""The champion's performance on the newest rows, estimated without their labels.

A classifier gets CBPE (its probabilities calibrated on the reference's labels), a regressor
DLE (a nanny model of its error trained on the reference). Both need the reference labels; a
loop without them gets no estimate, since the model's raw confidence is not an estimate of
anything unless the model happens to be calibrated.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..performance import CBPE, DLE
from ._scoring import labels_equal

__all__ = ["fit_estimator", "estimate"]


def _as_classes(labels: Any, classes: np.ndarray, name: str) -> np.ndarray:
    """``labels`` replaced by the equal entry of ``classes`` (1 == 1.0 == "1", as the loop
    compares labels everywhere)."""
    labels = np.asarray(labels)
    position = np.full(len(labels), -1)
    for k, value in enumerate(classes):
        position[(position < 0) & labels_equal(labels, np.full(len(labels), value))] = k
    if np.any(position < 0):
        unknown = labels[position < 0].tolist()[0]
        raise ValueError(f"{name} holds {unknown!r}, which is not one of the model's classes {classes.tolist()}")
    return classes[position]


def fit_estimator(model: Any, classifier: bool, X_model: Any, X_frame: Any, y_reference: Optional[np.ndarray],
                  random_state: int) -> Any:
    """A fitted CBPE (classifier) or DLE (regressor) for ``model`` on the labelled reference,
    or None without reference labels."""
    if y_reference is None:
        return None
    if classifier:
        proba = np.asarray(model.predict_proba(X_model))
        classes = np.asarray(getattr(model, "classes_", np.arange(proba.shape[1])), dtype=object)
        predicted = _as_classes(model.predict(X_model), classes, "the model's predictions")
        return CBPE(random_state=random_state).fit(_as_classes(y_reference, classes, "reference_labels"), proba,
                                                   predicted, classes=classes)
    return DLE(random_state=random_state).fit(X_frame, np.asarray(y_reference, dtype=np.float64),
                                              np.asarray(model.predict(X_model), dtype=np.float64))


def estimate(estimator: Any, model: Any, X_model: Any, X_frame: Any, proba: Optional[np.ndarray] = None) -> dict:
    """``{metric: (estimate, sampling_error)}`` of ``model`` on the rows given."""
    if isinstance(estimator, CBPE):
        proba = np.asarray(model.predict_proba(X_model)) if proba is None else proba
        predicted = _as_classes(model.predict(X_model), estimator.classes_, "the model's predictions")
        return estimator.estimate_one(proba, predicted)
    row = estimator.estimate(X_frame, np.asarray(model.predict(X_model), dtype=np.float64)).iloc[0]
    return {m: (float(row[m]), float(row[f"{m}_sampling_error"])) for m in estimator.metrics_}
