"""``CBPE``: a classifier's performance estimated without labels (confidence-based).

Fitted on the reference (where labels are known), it learns how far the model's probabilities
are from the observed rates and corrects them with an isotonic map, one per class. On new data
the corrected probabilities stand in for the unknown labels: each metric is the value the
model is expected to reach if every row's label were drawn with its corrected probability.
This holds under covariate shift (the inputs move, ``P(y | x)`` does not); concept drift
breaks it, because the correction learned on the reference no longer applies.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

from ._calibration import fit_isotonic, improves_calibration
from ._chunks import check_chunk_size, chunk_bounds
from ._expected import binary_metrics, expected_roc_auc, multiclass_metrics
from ._realised import classification_metrics
from ._weighted import classification_metrics_weighted
from ._sampling import MAX_RESAMPLE_ROWS, bootstrap_sd, scale_sd

__all__ = ["CBPE", "CLASSIFICATION_METRICS"]

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
_CALIBRATIONS = ("auto", "isotonic", "none")


def _scores(y_proba: Any, n_classes: Optional[int], name: str) -> np.ndarray:
    """Probabilities as ``(n, k)`` float64; a 1-D input is the positive class of two."""
    scores = np.asarray(y_proba, dtype=np.float64)
    if scores.ndim == 1:
        scores = np.column_stack([1.0 - scores, scores])
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(f"{name} must be (n,) positive-class probabilities or (n, n_classes), got shape {scores.shape}")
    if n_classes is not None and scores.shape[1] != n_classes:
        raise ValueError(f"{name} has {scores.shape[1]} columns but the reference had {n_classes} classes")
    if len(scores) == 0:
        raise ValueError(f"{name} has no rows")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return scores


def _indices(labels: Any, classes: np.ndarray, name: str) -> np.ndarray:
    """Positions of ``labels`` in ``classes``; an unknown label is an error."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {labels.shape}")
    lookup = {value: i for i, value in enumerate(classes.tolist())}
    try:
        return np.fromiter((lookup[value] for value in labels.tolist()), dtype=np.intp, count=len(labels))
    except KeyError as error:
        raise ValueError(f"{name} holds {error.args[0]!r}, which is not one of the classes {classes.tolist()}") from None


class CBPE:
    """Confidence-based performance estimation for a classifier (as NannyML's CBPE).

    Parameters
    ----------
    metrics : sequence of str, optional
        Any of ``"accuracy"``, ``"precision"``, ``"recall"``, ``"f1"``, ``"roc_auc"`` (default
        all). With more than two classes, precision, recall, F1 and ROC AUC are macro averages
        over the classes one-vs-rest.
    calibration : {"auto", "isotonic", "none"}
        ``"auto"`` (default) fits an isotonic map per class only when it lowers the expected
        calibration error on held-out reference rows (NannyML's rule); ``"isotonic"`` always;
        ``"none"`` trusts the model's probabilities.
    n_resamples : int
        Bootstrap resamples of the reference for the sampling error.
    random_state : int

    Attributes
    ----------
    classes_ : ndarray
        Class labels in the order of the probability columns.
    calibrated_ : list of bool
        Per class, whether an isotonic map corrects its probability.
    n_reference_ : int
    reference_metrics_ : dict
        Realised metrics on the reference.
    reference_sd_ : dict
        Bootstrap standard deviation of each realised metric at ``n_reference_`` rows (at most 20,000).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.naive_bayes import GaussianNB
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(4000, 2)); y = (X[:, 0] + rng.normal(size=4000) > 0).astype(int)
    >>> model = GaussianNB().fit(X[:1000], y[:1000])
    >>> cbpe = CBPE(random_state=0).fit(y[1000:3000], model.predict_proba(X[1000:3000]))
    >>> result = cbpe.estimate(model.predict_proba(X[3000:]), model.predict(X[3000:]))
    >>> bool(abs(result["accuracy"][0] - np.mean(model.predict(X[3000:]) == y[3000:])) < 0.04)
    True
    """

    def __init__(self, metrics: Optional[Sequence[str]] = None, calibration: str = "auto",
                 n_resamples: int = 100, random_state: int = 0) -> None:
        self.metrics = metrics
        self.calibration = calibration
        self.n_resamples = n_resamples
        self.random_state = random_state

    def _metric_names(self) -> tuple:
        names = CLASSIFICATION_METRICS if self.metrics is None else tuple(self.metrics)
        unknown = [m for m in names if m not in CLASSIFICATION_METRICS]
        if unknown or not names:
            raise ValueError(f"metrics must be a non-empty subset of {CLASSIFICATION_METRICS}, got {list(names)}")
        return names

    def fit(self, y_true: Any, y_proba: Any, y_pred: Any = None, classes: Any = None) -> "CBPE":
        """Learn the calibration and the sampling error from labelled reference rows.

        Parameters
        ----------
        y_true : array-like of shape (n,)
            Reference labels.
        y_proba : array-like of shape (n,) or (n, n_classes)
            The model's probabilities on the reference (``predict_proba``); 1-D means the
            positive class of a binary model.
        y_pred : array-like of shape (n,), optional
            The model's predicted labels (default: the most probable class).
        classes : array-like, optional
            Class labels of the probability columns (the model's ``classes_``; default the
            sorted distinct labels of ``y_true``).

        Returns
        -------
        CBPE
        """
        if self.calibration not in _CALIBRATIONS:
            raise ValueError(f"calibration must be one of {_CALIBRATIONS}, got {self.calibration!r}")
        if isinstance(self.n_resamples, bool) or not isinstance(self.n_resamples, (int, np.integer)) or self.n_resamples < 2:
            raise ValueError(f"n_resamples must be an int >= 2, got {self.n_resamples!r}")
        metrics = self._metric_names()
        scores = _scores(y_proba, None, "y_proba")
        y_true = np.asarray(y_true)
        if y_true.ndim != 1 or len(y_true) != len(scores):
            raise ValueError(f"y_true must be one label per row of y_proba ({len(scores)}), got shape {y_true.shape}")
        classes = np.unique(y_true) if classes is None else np.asarray(classes)
        if len(classes) != scores.shape[1]:
            raise ValueError(f"y_proba has {scores.shape[1]} columns but there are {len(classes)} classes {classes.tolist()};"
                             " pass classes= (the model's classes_)")
        self.classes_ = classes
        index = _indices(y_true, classes, "y_true")
        predicted = self._predicted(scores, y_pred, "y_pred")
        # A binary model has one probability to correct; its complement follows.
        columns = [1] if scores.shape[1] == 2 else range(scores.shape[1])
        self._maps = {}
        for k in columns:
            hit = (index == k).astype(float)
            if self.calibration == "isotonic" or (self.calibration == "auto" and improves_calibration(scores[:, k], hit)):
                self._maps[k] = fit_isotonic(scores[:, k], hit)
        self.calibrated_ = [k in self._maps for k in columns]
        self.n_reference_ = len(scores)
        self.reference_metrics_ = {m: v for m, v in classification_metrics(index, predicted, scores).items() if m in metrics}
        self.reference_sd_ = bootstrap_sd(
            len(scores),
            lambda W: {m: v for m, v in classification_metrics_weighted(W, index, predicted, scores).items()
                       if m in metrics},
            int(self.n_resamples), int(self.random_state))
        self.metrics_ = metrics
        return self

    def _predicted(self, scores: np.ndarray, y_pred: Any, name: str) -> np.ndarray:
        if y_pred is None:
            return np.argmax(scores, axis=1)
        predicted = _indices(y_pred, self.classes_, name)
        if len(predicted) != len(scores):
            raise ValueError(f"{name} has {len(predicted)} entries but there are {len(scores)} rows of probabilities")
        return predicted

    def _check_fitted(self) -> None:
        if not hasattr(self, "metrics_"):
            raise RuntimeError("this CBPE is not fitted yet; call fit() with the reference first")

    def calibrate(self, y_proba: Any) -> np.ndarray:
        """The probabilities corrected by the reference's isotonic maps, as ``(n, n_classes)``.

        With more than two classes the corrected columns are renormalised to sum to one.

        Examples
        --------
        >>> cbpe = CBPE(calibration="isotonic").fit([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4])
        >>> cbpe.calibrate([0.15, 0.35])[:, 1].tolist()
        [0.0, 1.0]
        """
        self._check_fitted()
        scores = _scores(y_proba, len(self.classes_), "y_proba")
        if scores.shape[1] == 2:
            if 1 in self._maps:
                positive = self._maps[1].predict(scores[:, 1])
                return np.column_stack([1.0 - positive, positive])
            return scores
        out = scores.copy()
        for k, isotonic in self._maps.items():
            out[:, k] = isotonic.predict(scores[:, k])
        total = out.sum(axis=1, keepdims=True)
        uniform = np.full_like(out, 1.0 / out.shape[1])
        return np.divide(out, total, out=uniform, where=total > 0)

    def estimate_one(self, y_proba: Any, y_pred: Any = None) -> dict:
        """Each metric's estimate and sampling error over all the rows given, as
        ``{metric: (estimate, sampling_error)}``.

        Examples
        --------
        >>> cbpe = CBPE(metrics=["accuracy"], calibration="none").fit([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.3])
        >>> round(cbpe.estimate_one([0.9, 0.1])["accuracy"][0], 6)
        0.9
        """
        self._check_fitted()
        probability = self.calibrate(y_proba)
        predicted = self._predicted(probability, y_pred, "y_pred")
        if probability.shape[1] == 2:
            values = binary_metrics(probability[:, 1], predicted == 1)
            values["roc_auc"] = expected_roc_auc(probability[:, 1])
        else:
            values = multiclass_metrics(probability, predicted)
        n = len(probability)
        measured_at = min(self.n_reference_, MAX_RESAMPLE_ROWS)
        return {m: (values[m], scale_sd(self.reference_sd_[m], measured_at, n)) for m in self.metrics_}

    def estimate(self, y_proba: Any, y_pred: Any = None, chunk_size: Optional[int] = None) -> pd.DataFrame:
        """Estimated metrics per chunk of consecutive rows.

        Parameters
        ----------
        y_proba : array-like of shape (n,) or (n, n_classes)
            The model's probabilities on the rows to estimate for.
        y_pred : array-like of shape (n,), optional
            The model's predicted labels (default: the most probable class).
        chunk_size : int, optional
            Rows per chunk (default: one chunk of all rows).

        Returns
        -------
        pandas.DataFrame
            One row per chunk: ``start``, ``stop``, ``n_rows``, then per metric its estimate
            (column ``<metric>``) and its sampling error (``<metric>_sampling_error``).

        Examples
        --------
        >>> cbpe = CBPE(metrics=["accuracy"], calibration="none").fit([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.3])
        >>> cbpe.estimate([0.9, 0.1, 0.6, 0.5], chunk_size=2)["accuracy"].round(6).tolist()
        [0.9, 0.55]
        """
        self._check_fitted()
        scores = _scores(y_proba, len(self.classes_), "y_proba")
        predicted = None if y_pred is None else np.asarray(y_pred)
        if predicted is not None and len(predicted) != len(scores):
            raise ValueError(f"y_pred has {len(predicted)} entries but y_proba has {len(scores)} rows")
        rows = []
        for start, stop in chunk_bounds(len(scores), check_chunk_size(chunk_size)):
            found = self.estimate_one(scores[start:stop], None if predicted is None else predicted[start:stop])
            row = {"start": start, "stop": stop, "n_rows": stop - start}
            for m, (value, error) in found.items():
                row[m], row[f"{m}_sampling_error"] = value, error
            rows.append(row)
        return pd.DataFrame(rows)
