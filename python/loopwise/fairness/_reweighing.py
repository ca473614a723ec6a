"""Reweighing (Kamiran & Calders, 2012): weights that make the label independent of the group.

Each row of group ``g`` with label ``y`` gets ``P(g) P(y) / P(g, y)``: the count the cell
would hold if group and label were independent, over the count it holds. A model fitted
with these weights sees no association between group and label, while every row stays
in the data unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from ..loop.policy import Refit
from ._groups import sensitive_groups

__all__ = ["reweighing_weights", "Reweigh"]


def reweighing_weights(groups: Any, y: Any, sample_weight: Any = None) -> np.ndarray:
    """Kamiran–Calders weights ``w * P(g) P(y) / P(g, y)``, probabilities from weighted counts.

    Parameters
    ----------
    groups : array-like of shape (n,)
        Sensitive group of each row.
    y : array-like of shape (n,)
        Labels.
    sample_weight : array-like of shape (n,), optional
        Weights already on the rows (recency, confidence); the result multiplies them.

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> reweighing_weights(["a", "a", "a", "b"], [1, 1, 0, 0]).round(4).tolist()
    [0.75, 0.75, 1.5, 0.5]
    """
    g = np.asarray(groups).astype(str)
    labels = np.asarray(y)
    if g.ndim != 1 or labels.ndim != 1 or g.shape != labels.shape:
        raise ValueError(f"groups and y must be 1-D of one length, got shapes {g.shape} and {labels.shape}")
    if len(g) == 0:
        raise ValueError("groups and y are empty")
    weights = np.ones(len(g)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != g.shape or not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must be finite, >= 0 and hold one weight per row")
    total = weights.sum()
    if total <= 0:
        raise ValueError("sample_weight sums to 0")
    _, g_index = np.unique(g, return_inverse=True)
    _, y_index = np.unique(labels.astype(str) if labels.dtype == object else labels, return_inverse=True)
    g_index, y_index = g_index.ravel(), y_index.ravel()
    by_group = np.bincount(g_index, weights)
    by_label = np.bincount(y_index, weights)
    cell = np.zeros((len(by_group), len(by_label)))
    np.add.at(cell, (g_index, y_index), weights)
    expected = np.outer(by_group, by_label) / total
    # A cell with no weight holds no rows to reweigh; avoid 0/0 there.
    ratio = np.divide(expected, cell, out=np.ones_like(cell), where=cell > 0)
    return weights * ratio[g_index, y_index]


@dataclass
class Reweigh:
    """A retrainer that multiplies the selection's weights by reweighing weights, then retrains.

    Use it as ``Policy(retrain=Reweigh("group"))``: every challenger is fitted on rows where
    group and label are independent (by weight). ``retrain`` is the retrainer that fits
    (:class:`loopwise.loop.Refit` by default, which routes weights to the final estimator).

    Parameters
    ----------
    sensitive : str
        Column of the training frame holding the sensitive group.
    retrain : callable
        ``retrain(champion, X, y, sample_weight)``, returns the fitted challenger.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"x": [0.0, 1, 2, 3, 0.5, 2.5], "group": [0, 0, 0, 1, 1, 1]})
    >>> y = [0, 0, 1, 1, 0, 1]
    >>> model = Reweigh("group")(LogisticRegression(), X, y, [1.0] * 6)
    >>> model.predict(X).shape
    (6,)
    """

    sensitive: str
    retrain: Any = field(default_factory=Refit)
    name: str = "reweigh"

    def __call__(self, champion: Any, X: Any, y: Any, sample_weight: Optional[Any] = None) -> Any:
        labels = np.asarray(y)
        groups = sensitive_groups(X, self.sensitive, None, len(labels))
        return self.retrain(champion, X, y, reweighing_weights(groups, labels, sample_weight))
