"""Recursive least squares with a forgetting factor."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _core
from ._linear import _SGDLinear, _check_number
from ._locking import serialised, without_lock
from ._validation import as_float, named_errors, refuse_complex

__all__ = ["RLSRegressor"]


class RLSRegressor(RegressorMixin, BaseEstimator):
    """Recursive least squares: exact online ridge regression, optionally forgetting the past.

    After the rows ``(x_i, y_i)`` the weights minimise
    ``sum_i forgetting^(n-i) w_i (y_i - theta' x_i)^2 + forgetting^n alpha ||theta||^2``,
    updated in O(d^2) per row (Sherman-Morrison) in C++. With ``forgetting=1`` this is
    batch ridge regression on all rows seen; below 1 old rows fade with a half-life of
    ``log(0.5) / log(forgetting)`` rows.

    Parameters
    ----------
    forgetting : float in (0, 1], default 1.0
        Forgetting factor.
    alpha : float, default 1.0
        Ridge penalty of the initial state (``P = I / alpha``). The intercept, learned as
        the weight of a constant feature, is penalised like the other weights.
    fit_intercept : bool, default True
        Learn an intercept.

    Attributes
    ----------
    coef_ : ndarray of shape (d,)
    intercept_ : float
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3)); y = X @ [1.0, -2.0, 0.5] + 3.0
    >>> model = RLSRegressor(alpha=1e-6).fit(X, y)
    >>> np.round(model.coef_, 3).tolist(), round(model.intercept_, 3)
    ([1.0, -2.0, 0.5], 3.0)
    """

    def __init__(self, forgetting: float = 1.0, alpha: float = 1.0, fit_intercept: bool = True) -> None:
        self.forgetting = forgetting
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def __getstate__(self) -> dict:
        # The per-instance fit lock (see _locking) neither pickles nor belongs in a copy.
        return without_lock(super().__getstate__())

    def _check_params(self) -> None:
        _check_number(self.forgetting, "forgetting", strict=True, high=1.0)
        _check_number(self.alpha, "alpha", strict=True)

    def _init_state(self, n_features: int) -> None:
        p = n_features + (1 if self.fit_intercept else 0)
        self._theta = np.zeros(p)
        self._P = np.eye(p) / float(self.alpha)

    def _learn(self, X: Any, y: Any, sample_weight: Any, reset: bool) -> "RLSRegressor":
        self._check_params()
        X, y = refuse_complex(X, "X"), refuse_complex(y, "y")
        with named_errors("X or y"):
            X, y = validate_data(self, X, y, reset=reset, dtype="numeric", order="C", y_numeric=True)
        X = as_float(X, "X")
        y = np.ascontiguousarray(np.asarray(y, dtype=np.float64).reshape(-1))
        weights = _SGDLinear._sample_weight(sample_weight, X.shape[0])
        if reset:
            self._init_state(X.shape[1])
        theta, P = self._theta.copy(), self._P.copy()
        _core.learn_rls(self._theta, self._P, bool(self.fit_intercept), float(self.forgetting), X, y, weights)
        if not (np.isfinite(self._theta).all() and np.isfinite(self._P).all()):
            # An overflow is an error, not NaN coefficients; keep the state from before the batch.
            self._theta[...], self._P[...] = theta, P
            raise ValueError("Floating-point overflow in the RLS update from X and y (theta or P became "
                             "inf/NaN); scale the features or the targets")
        return self

    @serialised
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "RLSRegressor":
        """Learn from scratch, one row at a time.

        Examples
        --------
        >>> RLSRegressor().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0]).predict([[3.0]]).shape
        (1,)
        """
        return self._learn(X, y, sample_weight, reset=True)

    @serialised
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> "RLSRegressor":
        """Continue learning from the current state.

        Examples
        --------
        >>> model = RLSRegressor().partial_fit([[0.0]], [1.0])
        >>> model.partial_fit([[1.0]], [2.0]).n_features_in_
        1
        """
        return self._learn(X, y, sample_weight, reset=not hasattr(self, "_theta"))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values.

        Examples
        --------
        >>> RLSRegressor().fit([[0.0], [1.0]], [0.0, 1.0]).predict([[0.5]]).shape
        (1,)
        """
        check_is_fitted(self, "_theta")
        with named_errors("X"):
            X = validate_data(self, refuse_complex(X, "X"), reset=False, dtype="numeric", order="C")
        return as_float(X, "X") @ self.coef_ + self.intercept_

    @property
    def coef_(self) -> np.ndarray:
        """Weights, shape (d,)."""
        check_is_fitted(self, "_theta")
        return self._theta[: self.n_features_in_].copy()

    @property
    def intercept_(self) -> float:
        """Intercept (0 when ``fit_intercept=False``)."""
        check_is_fitted(self, "_theta")
        return float(self._theta[-1]) if self.fit_intercept else 0.0

    def to_dict(self) -> dict:
        """JSON-serialisable parameters and state.

        Examples
        --------
        >>> import json
        >>> model = RLSRegressor().fit([[0.0], [1.0]], [0.0, 1.0])
        >>> RLSRegressor.from_dict(json.loads(json.dumps(model.to_dict()))).predict([[2.0]]).round(6).tolist() == model.predict([[2.0]]).round(6).tolist()
        True
        """
        out: dict = {"type": "RLSRegressor", "format": 1, "params": self.get_params(deep=False)}
        if hasattr(self, "_theta"):
            out["theta"] = self._theta.tolist()
            out["P"] = self._P.tolist()
            out["n_features_in"] = int(self.n_features_in_)
            if hasattr(self, "feature_names_in_"):
                out["feature_names_in"] = [str(c) for c in self.feature_names_in_]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RLSRegressor":
        """Rebuild from :meth:`to_dict` output.

        Examples
        --------
        >>> RLSRegressor.from_dict(RLSRegressor(forgetting=0.99).to_dict()).forgetting
        0.99
        """
        if not isinstance(data, Mapping) or data.get("type") != "RLSRegressor":
            raise ValueError("data must be a dict produced by RLSRegressor.to_dict()")
        model = cls(**data["params"])
        if "theta" in data:
            try:
                model._theta = np.asarray(data["theta"], dtype=np.float64)
                model._P = np.ascontiguousarray(np.asarray(data["P"], dtype=np.float64))
            except (TypeError, ValueError) as error:
                raise ValueError(f"RLS state: data['theta'] and data['P'] must hold numbers: {error}") from None
            p = model._theta.shape[0]
            if model._theta.ndim != 1 or model._P.shape != (p, p):
                raise ValueError("RLS state: theta must be 1-D and P square and matching theta")
            if not (np.isfinite(model._theta).all() and np.isfinite(model._P).all()):
                raise ValueError("RLS state: theta or P holds NaN or inf; the saved state is corrupt")
            model.n_features_in_ = int(data["n_features_in"])
            if "feature_names_in" in data:
                model.feature_names_in_ = np.asarray(data["feature_names_in"], dtype=object)
        return model
