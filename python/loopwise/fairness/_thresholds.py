"""``GroupThresholdClassifier``: a binary classifier with per-group randomised thresholds.

Post-processing as in Hardt et al. (2016): the wrapped model's score is kept, and each
sensitive group gets its own mix of thresholds (:mod:`._lp`) so that groups share one
(FPR, TPR) point (equalised odds) or one positive rate (demographic parity), at the best
accuracy that allows. The learnt state is numbers, strings and the wrapped estimator, so the
registry saves it with skops and loads it without ``trusted=True``.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from ..loop._fit import fit_with_weights
from ._groups import sensitive_groups
from ._lp import CONSTRAINTS, solve_thresholds

__all__ = ["GroupThresholdClassifier"]


def _positive_score(model: Any, X: Any) -> np.ndarray:
    """Score of the second class (higher = more positive): predict_proba, else decision_function."""
    if callable(getattr(model, "predict_proba", None)):
        proba = np.asarray(model.predict_proba(X), dtype=np.float64)
        if proba.ndim != 2 or proba.shape[1] != 2:
            raise ValueError(f"the wrapped model's predict_proba returned shape {proba.shape}; "
                             "group thresholds need a binary classifier")
        return proba[:, 1]
    if callable(getattr(model, "decision_function", None)):
        return np.asarray(model.decision_function(X), dtype=np.float64).ravel()
    raise TypeError(f"{type(model).__name__} has neither predict_proba nor decision_function to threshold")


class GroupThresholdClassifier(ClassifierMixin, BaseEstimator):
    """Wrap a binary classifier with per-group decision thresholds (equalised odds or parity).

    Parameters
    ----------
    estimator : classifier
        Binary classifier with ``predict_proba`` (or ``decision_function``). It receives ``X``
        unchanged, including the sensitive column if ``X`` holds it.
    sensitive : str, optional
        Column of ``X`` holding the sensitive group (or pass ``sensitive_features=``).
    constraint : {"equalized_odds", "demographic_parity"}
    prefit : bool
        Use ``estimator`` as already fitted; otherwise a clone is fitted in :meth:`fit`.
    random_state : int
        Seed of the draws that mix thresholds: the same rows get the same predictions.

    Attributes
    ----------
    estimator_ : the fitted classifier
    classes_ : ndarray of the two labels (the second is the positive class)
    groups_ : list of str
    thresholds_, probabilities_ : list of ndarray, one per group in ``groups_``

    Examples
    --------
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from loopwise.fairness import make_biased_classification
    >>> X, y = make_biased_classification(2000, random_state=0)
    >>> model = make_pipeline(make_column_transformer(("passthrough", ["x0", "x1", "x2", "x3"])), LogisticRegression())
    >>> fair = GroupThresholdClassifier(model, sensitive="group").fit(X, y)
    >>> fair.groups_, fair.predict(X).shape
    (['a', 'b'], (2000,))
    """

    def __init__(self, estimator: Any = None, sensitive: Optional[str] = None, constraint: str = "equalized_odds",
                 prefit: bool = False, random_state: int = 0) -> None:
        self.estimator = estimator
        self.sensitive = sensitive
        self.constraint = constraint
        self.prefit = prefit
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None, sensitive_features: Any = None) -> "GroupThresholdClassifier":
        """Fit the wrapped model (unless ``prefit``) and the thresholds on the same rows.

        ``sensitive_features`` (one value per row) replaces the column ``X[sensitive]``.

        Examples
        --------
        >>> # GroupThresholdClassifier(model, sensitive="group").fit(X, y) -- see the class example
        """
        if self.estimator is None:
            raise ValueError("estimator is None: give the classifier to wrap")
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"constraint must be one of {CONSTRAINTS}, got {self.constraint!r}")
        labels = np.asarray(y)
        if labels.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {labels.shape}")
        weights = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if weights.shape != labels.shape or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("sample_weight must be finite, >= 0 and hold one weight per row of y")
        groups = sensitive_groups(X, self.sensitive, sensitive_features, len(labels))
        if self.prefit:
            model = self.estimator
            if getattr(model, "classes_", None) is None:
                raise ValueError("prefit=True but the estimator has no classes_: fit it first")
        else:
            model = fit_with_weights(clone(self.estimator), X, y, None if sample_weight is None else weights)
        classes = np.asarray(model.classes_)
        if len(classes) != 2:
            raise ValueError(f"group thresholds need a binary task; the model knows {len(classes)} classes")
        truth = labels == classes[1]
        plans = solve_thresholds(_positive_score(model, X), truth, groups, weights, self.constraint)
        self.estimator_ = model
        self.classes_ = classes
        self.groups_ = sorted(plans)
        self.thresholds_ = [plans[g].thresholds for g in self.groups_]
        self.probabilities_ = [plans[g].probabilities for g in self.groups_]
        return self

    def _plan_rows(self, X: Any, sensitive_features: Any) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "estimator_"):
            raise ValueError("this GroupThresholdClassifier is not fitted yet: call fit first")
        score = _positive_score(self.estimator_, X)
        groups = sensitive_groups(X, self.sensitive, sensitive_features, len(score))
        unknown = sorted(set(groups.tolist()) - set(self.groups_))
        if unknown:
            raise ValueError(f"sensitive groups {unknown[:5]} were not seen in fit (known: {self.groups_}); "
                             "refit with rows of these groups")
        index = np.searchsorted(np.asarray(self.groups_, dtype=object), groups)
        return score, index

    def predict_proba(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """Probability that the randomised rule predicts each class (deterministic).

        Examples
        --------
        >>> # fair.predict_proba(X)[:, 1] -- the share of draws that predict classes_[1]
        """
        score, index = self._plan_rows(X, sensitive_features)
        positive = np.zeros(len(score))
        for k, (thresholds, probabilities) in enumerate(zip(self.thresholds_, self.probabilities_)):
            rows = index == k
            positive[rows] = ((score[rows, None] >= thresholds[None, :]) * probabilities[None, :]).sum(axis=1)
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """Labels from ``classes_``: each row's threshold drawn from its group's mix (seeded).

        Examples
        --------
        >>> # fair.predict(X) -- see the class example
        """
        score, index = self._plan_rows(X, sensitive_features)
        draw = np.random.default_rng(self.random_state).random(len(score))
        positive = np.zeros(len(score), dtype=bool)
        for k, (thresholds, probabilities) in enumerate(zip(self.thresholds_, self.probabilities_)):
            rows = np.flatnonzero(index == k)
            pick = np.minimum(np.searchsorted(np.cumsum(probabilities), draw[rows], side="right"),
                              len(thresholds) - 1)
            positive[rows] = score[rows] >= thresholds[pick]
        return self.classes_[positive.astype(np.intp)]
