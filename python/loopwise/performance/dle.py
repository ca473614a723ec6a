"""``DLE``: a regressor's error estimated without labels (direct loss estimation).

A second model, the nanny, learns on the labelled reference how large the regressor's error
is given the inputs and the regressor's own prediction. On new rows its predictions of the
absolute and of the squared error are averaged into an estimated MAE and RMSE. Like CBPE it
holds under covariate shift (the nanny has seen the regions the inputs move to) and not under
concept drift.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from ._chunks import check_chunk_size, chunk_bounds
from ._features import FeatureEncoder
from ._realised import regression_metrics
from ._weighted import regression_metrics_weighted
from ._sampling import MAX_RESAMPLE_ROWS, bootstrap_sd, scale_sd

__all__ = ["DLE", "REGRESSION_METRICS"]

REGRESSION_METRICS = ("mae", "rmse")


def _predictions(y_pred: Any, n_rows: int, name: str) -> np.ndarray:
    values = np.asarray(y_pred, dtype=np.float64)
    if values.ndim != 1 or len(values) != n_rows:
        raise ValueError(f"{name} must be one prediction per row of X ({n_rows}), got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return values


class DLE:
    """Direct loss estimation for a regressor (as NannyML's DLE, with scikit-learn's
    histogram gradient boosting as the nanny model where NannyML uses LightGBM).

    Parameters
    ----------
    metrics : sequence of str, optional
        ``"mae"`` and/or ``"rmse"`` (default both).
    max_iter : int
        Boosting iterations of each nanny model.
    n_resamples : int
        Bootstrap resamples of the reference for the sampling error.
    random_state : int

    Attributes
    ----------
    nanny_ : dict
        Per metric, the fitted ``HistGradientBoostingRegressor`` (of the absolute error for
        ``"mae"``, of the squared error for ``"rmse"``).
    n_reference_ : int
    reference_metrics_, reference_sd_ : dict
        Realised metrics on the reference and their bootstrap standard deviation (at
        ``n_reference_`` rows, at most 20,000).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(6000, 2)); X[5000:, 1] *= 2  # the newest rows are spread wider
    >>> y = X[:, 0] + rng.normal(size=6000) * (1 + np.abs(X[:, 1]))
    >>> model = LinearRegression().fit(X[:1000], y[:1000])
    >>> dle = DLE(random_state=0).fit(X[1000:5000], y[1000:5000], model.predict(X[1000:5000]))
    >>> estimate = dle.estimate(X[5000:], model.predict(X[5000:]))["mae"][0]
    >>> realised = np.mean(np.abs(y[5000:] - model.predict(X[5000:])))
    >>> bool(abs(estimate - realised) < abs(dle.reference_metrics_["mae"] - realised) / 3)
    True
    """

    def __init__(self, metrics: Optional[Sequence[str]] = None, max_iter: int = 100, n_resamples: int = 100,
                 random_state: int = 0) -> None:
        self.metrics = metrics
        self.max_iter = max_iter
        self.n_resamples = n_resamples
        self.random_state = random_state

    def fit(self, X: Any, y_true: Any, y_pred: Any) -> "DLE":
        """Train the nanny models on labelled reference rows.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, n_features)
            Reference inputs (as the model took them).
        y_true : array-like of shape (n,)
            Reference targets.
        y_pred : array-like of shape (n,)
            The model's predictions on ``X``.

        Returns
        -------
        DLE
        """
        names = REGRESSION_METRICS if self.metrics is None else tuple(self.metrics)
        if not names or any(m not in REGRESSION_METRICS for m in names):
            raise ValueError(f"metrics must be a non-empty subset of {REGRESSION_METRICS}, got {list(names)}")
        if isinstance(self.n_resamples, bool) or not isinstance(self.n_resamples, (int, np.integer)) or self.n_resamples < 2:
            raise ValueError(f"n_resamples must be an int >= 2, got {self.n_resamples!r}")
        self._encoder = FeatureEncoder().fit(X)
        features = self._encoder.transform(X)
        predicted = _predictions(y_pred, len(features), "y_pred")
        truth = _predictions(y_true, len(features), "y_true")
        error = truth - predicted
        inputs = np.column_stack([features, predicted])
        categorical = np.r_[self._encoder.categorical_, False]
        targets = {"mae": np.abs(error), "rmse": error ** 2}
        # One thread: a nanny on a reference of thousands of rows gains nothing from OpenMP,
        # whose busy-waiting threads slow a fit fifty-fold on a loaded machine.
        with threadpool_limits(limits=1, user_api="openmp"):
            self.nanny_ = {
                m: HistGradientBoostingRegressor(max_iter=self.max_iter, categorical_features=categorical,
                                                 random_state=self.random_state).fit(inputs, targets[m])
                for m in names
            }
        self.n_reference_ = len(features)
        self.reference_metrics_ = {m: v for m, v in regression_metrics(truth, predicted).items() if m in names}
        self.reference_sd_ = bootstrap_sd(
            len(features), lambda W: {m: v for m, v in regression_metrics_weighted(W, truth, predicted).items()
                                      if m in names},
            int(self.n_resamples), int(self.random_state))
        self.metrics_ = names
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "metrics_"):
            raise RuntimeError("this DLE is not fitted yet; call fit() with the reference first")

    def expected_losses(self, X: Any, y_pred: Any) -> dict:
        """Per row, the nanny's expected absolute (``"mae"``) and squared (``"rmse"``) error.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.arange(200.0).reshape(-1, 1)
        >>> dle = DLE(metrics=["mae"]).fit(X, X[:, 0] + 1.0, X[:, 0])
        >>> np.round(dle.expected_losses(X[:2], X[:2, 0])["mae"], 6).tolist()
        [1.0, 1.0]
        """
        self._check_fitted()
        features = self._encoder.transform(X)
        inputs = np.column_stack([features, _predictions(y_pred, len(features), "y_pred")])
        # A squared or absolute error is never negative; a boosted fit may dip below zero.
        with threadpool_limits(limits=1, user_api="openmp"):
            return {m: np.maximum(model.predict(inputs), 0.0) for m, model in self.nanny_.items()}

    def estimate(self, X: Any, y_pred: Any, chunk_size: Optional[int] = None) -> pd.DataFrame:
        """Estimated MAE and RMSE per chunk of consecutive rows.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, n_features)
        y_pred : array-like of shape (n,)
            The model's predictions on ``X``.
        chunk_size : int, optional
            Rows per chunk (default: one chunk of all rows).

        Returns
        -------
        pandas.DataFrame
            One row per chunk: ``start``, ``stop``, ``n_rows``, then per metric its estimate
            (``<metric>``) and sampling error (``<metric>_sampling_error``).

        Examples
        --------
        >>> import numpy as np
        >>> X = np.arange(200.0).reshape(-1, 1)
        >>> dle = DLE().fit(X, X[:, 0] + 2.0, X[:, 0])
        >>> dle.estimate(X, X[:, 0], chunk_size=100)["rmse"].round(6).tolist()
        [2.0, 2.0]
        """
        losses = self.expected_losses(X, y_pred)
        n = len(next(iter(losses.values())))
        rows = []
        for start, stop in chunk_bounds(n, check_chunk_size(chunk_size)):
            row = {"start": start, "stop": stop, "n_rows": stop - start}
            for m, loss in losses.items():
                mean = float(np.mean(loss[start:stop]))
                row[m] = np.sqrt(mean) if m == "rmse" else mean
                measured_at = min(self.n_reference_, MAX_RESAMPLE_ROWS)
                row[f"{m}_sampling_error"] = scale_sd(self.reference_sd_[m], measured_at, stop - start)
            rows.append(row)
        return pd.DataFrame(rows)
