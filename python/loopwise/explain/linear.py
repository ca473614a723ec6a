"""``LinearExplainer``: closed-form interventional SHAP values of linear models."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .._input import as_matrix, feature_names_of
from ._pipeline import Preprocessing, group_explanation, split_pipeline, wrong_width_hint
from .background import as_background
from .explanation import Explanation

__all__ = ["LinearExplainer"]


def _coefficients(model: Any) -> tuple[np.ndarray, np.ndarray, Optional[list[str]]]:
    if isinstance(model, tuple) and len(model) == 2:
        coef, intercept = model
        classes = None
    elif hasattr(model, "coef_") and hasattr(model, "intercept_"):
        coef, intercept = model.coef_, model.intercept_
        classes = getattr(model, "classes_", None)
    else:
        raise TypeError(
            "model must be a fitted linear model with coef_ and intercept_ (e.g. scikit-learn's LinearRegression, "
            f"Ridge, LogisticRegression, loopwise's online learners) or a (coef, intercept) tuple; got {type(model).__name__}"
        )
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim == 1:
        coef = coef[None, :]
    if coef.ndim != 2 or coef.shape[1] == 0:
        raise ValueError(f"model coefficients must have shape (n_features,) or (n_outputs, n_features), got {coef.shape}")
    intercept = np.broadcast_to(np.asarray(intercept, dtype=np.float64).reshape(-1), (coef.shape[0],)).copy()
    if not np.all(np.isfinite(coef)) or not np.all(np.isfinite(intercept)):
        raise ValueError("model coefficients or intercept are not finite")
    names = None
    if classes is not None and coef.shape[0] == len(classes) and coef.shape[0] > 1:
        names = [str(c) for c in classes]
    return coef, intercept, names


class LinearExplainer:
    """Exact SHAP values of a linear (or logistic, on the margin) model.

    For ``f(x) = b + w . x`` and background mean ``mu`` the interventional Shapley values
    are ``phi_j = w_j (x_j - mu_j)`` and the base value is ``f(mu)``: no sampling, no model
    calls. Logistic models are explained on their raw output (the log-odds margin).

    Parameters
    ----------
    model : fitted linear model, (coef, intercept) or scikit-learn Pipeline
        Anything with ``coef_`` and ``intercept_``: scikit-learn's ``LinearRegression``,
        ``Ridge``, ``Lasso``, ``SGDRegressor``, ``LogisticRegression``, loopwise learners.
        Multi-output / multinomial coefficients give one output per row of ``coef_``.
        A ``Pipeline`` ending in such a model is explained on its transformed columns:
        ``pipeline[:-1].transform`` is applied to the background and to ``X``.
    background : array-like, DataFrame or Background
        Rows whose (weighted) mean is the reference point (the raw input for a Pipeline).
    group_features : bool
        For a Pipeline with a ColumnTransformer: sum the attributions of the columns
        derived from each input column (see :class:`TreeExplainer`).

    Attributes
    ----------
    expected_value : float or ndarray
        Model output at the background mean.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> model = LinearRegression().fit(X, X @ [2.0, -1.0] + 0.5)
    >>> LinearExplainer(model, X)([[3.0, 0.0]]).values.round(6).tolist()
    [[3.0, 1.0]]
    """

    def __init__(self, model: Any, background: Any, *, group_features: bool = False) -> None:
        self.model = model
        steps, final = split_pipeline(model)
        self.preprocessing = None if steps is None else Preprocessing(steps)
        self.coef, self.intercept, self._output_names = _coefficients(final)
        self._groups = None
        if group_features:
            if self.preprocessing is None:
                raise ValueError("group_features=True needs a Pipeline (its preprocessing maps input columns to outputs)")
            self._groups = self.preprocessing.groups()
        if self.preprocessing is not None:
            if background is None:
                raise ValueError("background is required: pass background rows (the pipeline's raw input)")
            background = self.preprocessing.transform(background, "background")
        self.background = as_background(background)
        if self.background.data.shape[1] != self.coef.shape[1]:
            raise ValueError(
                f"background has {self.background.data.shape[1]} columns but the model has {self.coef.shape[1]} coefficients"
            )
        if not np.isfinite(self.background.data).all():
            raise ValueError("background contains NaN or inf; a linear model's reference point needs finite rows")
        self.mean = self.background.weights @ self.background.data
        with np.errstate(over="ignore", invalid="ignore"):
            self._base = self.coef @ self.mean + self.intercept
        if not np.isfinite(self._base).all():
            raise ValueError("the model's output at the background mean overflows float64; rescale the features")
        self.expected_value = float(self._base[0]) if self._base.size == 1 else self._base.copy()
        self.feature_names = self.background.feature_names
        if self.preprocessing is not None:
            self.feature_names = self.preprocessing.output_names

    def __call__(self, X: Any) -> Explanation:
        """Explain the rows of ``X``.

        Rows must be finite: a linear model has no rule for missing values, so NaN or inf
        raises ``ValueError`` naming the row (impute first, as the model itself needs).

        Examples
        --------
        >>> import numpy as np
        >>> LinearExplainer((np.array([1.0, 2.0]), 0.0), np.zeros((1, 2)))([[1.0, 1.0]]).values.tolist()
        [[1.0, 2.0]]
        """
        raw = X
        if self.preprocessing is not None:
            X = self.preprocessing.transform(X)
        try:
            # A linear model has no missing-value rule: NaN or inf in a row has no attribution
            # (w * (nan - mu) is NaN), so such rows are refused rather than explained as NaN.
            rows = as_matrix(X, name="X", n_features=self.coef.shape[1],
                             feature_names=None if self.preprocessing is not None else self.feature_names,
                             keep_float32=False, allow_nan=False, allow_inf=False).values
        except ValueError as error:
            hint = None if self.preprocessing is not None else wrong_width_hint(X, self.coef.shape[1], self.feature_names)
            if hint is None:
                raise
            raise ValueError(f"{error}; {hint}") from error
        with np.errstate(over="ignore", invalid="ignore"):
            phi = (rows - self.mean)[:, :, None] * self.coef.T[None, :, :]
        if not np.isfinite(phi).all():
            row = int(np.argwhere(~np.isfinite(phi))[0][0])
            raise ValueError(
                f"X row {row} overflows float64 in w * (x - background mean); rescale the features "
                "(values near 1e308 have no finite attribution)"
            )
        names = self.feature_names or feature_names_of(X)
        base = np.broadcast_to(self._base, (rows.shape[0], self._base.size))
        if phi.shape[2] == 1:
            explanation = Explanation(phi[:, :, 0], base[:, 0], data=rows, feature_names=names)
        else:
            explanation = Explanation(phi, base, data=rows, feature_names=names, output_names=self._output_names)
        if self._groups is None:
            return explanation
        return group_explanation(explanation, self._groups[0], self._groups[1], raw)

    def shap_values(self, X: Any) -> np.ndarray:
        """SHAP values as an array (n, m) or (n, m, k)."""
        return self(X).values

    def __repr__(self) -> str:
        return f"LinearExplainer(features={self.coef.shape[1]}, outputs={self.coef.shape[0]})"
