"""Fit a user's model with per-row sample weights, wherever its final estimator takes them.

The loop weights training rows (recency decay, importance weights). Whether a model can take
them is decided once, from signatures, before fitting: ``Pipeline`` routes them to its final
step (``<last>__sample_weight``, recursively through nested pipelines, or through scikit-learn
metadata routing when that is enabled); a model whose ``fit`` declares no ``sample_weight`` is
fitted without them and one ``UserWarning`` says so. Exceptions raised by the model's own
``fit`` are never caught here: they are the model's answer, not a signal about weights.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, Optional

import numpy as np

__all__ = ["fit_with_weights", "weight_route"]


def _is_pipeline(estimator: Any) -> bool:
    from sklearn.pipeline import Pipeline

    return isinstance(estimator, Pipeline)


def _final_estimator(estimator: Any) -> tuple[Any, str]:
    """The estimator that finally learns from ``y`` and a readable path to it."""
    path = type(estimator).__name__
    while _is_pipeline(estimator):
        name, estimator = estimator.steps[-1]
        path += f" -> step {name!r} ({type(estimator).__name__})"
    return estimator, path


def _declares_sample_weight(estimator: Any) -> bool:
    from sklearn.utils.validation import has_fit_parameter

    return callable(getattr(estimator, "fit", None)) and has_fit_parameter(estimator, "sample_weight")


def weight_route(estimator: Any) -> Optional[str]:
    """The ``fit`` keyword that delivers sample weights to ``estimator``'s final estimator.

    Parameters
    ----------
    estimator : object
        An unfitted or fitted estimator, possibly a (nested) ``Pipeline``.

    Returns
    -------
    str or None
        ``"sample_weight"`` for a plain estimator whose ``fit`` declares it,
        ``"<step>__...__sample_weight"`` for pipelines, None when the final estimator's
        ``fit`` takes no weights (or the final step is ``"passthrough"``). This is the route
        without metadata routing; :func:`fit_with_weights` handles routing itself.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> weight_route(make_pipeline(StandardScaler(), LogisticRegression()))
    'logisticregression__sample_weight'
    >>> weight_route(KNeighborsClassifier()) is None
    True
    """
    if _is_pipeline(estimator):
        name, last = estimator.steps[-1]
        if last is None or (isinstance(last, str) and last == "passthrough"):
            return None
        inner = weight_route(last)
        return None if inner is None else f"{name}__{inner}"
    return "sample_weight" if _declares_sample_weight(estimator) else None


def _routing_enabled() -> bool:
    import sklearn

    return bool(sklearn.get_config().get("enable_metadata_routing", False))


def _fit_request(estimator: Any) -> Any:
    """The consumer's current ``fit`` request for ``sample_weight`` (None = unset), or False."""
    try:
        return estimator.get_metadata_routing().fit.requests.get("sample_weight", False)
    except AttributeError:  # not a consumer (a router, or no metadata API)
        return False


def _request_weights_for_final_step(estimator: Any) -> bool:
    """With metadata routing on: ask for weights at the final estimator only.

    Requests the user left unset are filled in the way scikit-learn routes weights without
    metadata routing: the final estimator gets them, other steps (scalers, encoders inside a
    ``ColumnTransformer``) do not. Requests the user set explicitly are kept. Returns whether
    the final estimator will receive the weights.
    """
    final, _ = _final_estimator(estimator)
    others = [value for value in estimator.get_params(deep=True).values()
              if value is not final and hasattr(value, "set_fit_request")]
    for other in others:
        if _fit_request(other) is None:
            other.set_fit_request(sample_weight=False)
    if not _declares_sample_weight(final):
        return False
    request = _fit_request(final)
    if request is None and hasattr(final, "set_fit_request"):
        final.set_fit_request(sample_weight=True)
        request = True
    return request is True


def _check_weights(sample_weight: Any, n_rows: int) -> Optional[np.ndarray]:
    if sample_weight is None:
        return None
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"sample_weight must be numeric, got {type(sample_weight).__name__}: {error}") from None
    if weights.ndim != 1 or weights.shape[0] != n_rows:
        raise ValueError(f"sample_weight must hold one weight per row of X ({n_rows}), got shape {weights.shape}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must be finite and >= 0")
    return weights


def _check_labels(final: Any, path: str, y: Any) -> None:
    """XGBoost's classifiers accept only labels 0..k-1; say so before a cryptic failure.

    The user's labels reach the user's model unchanged, so loopwise does not encode them.
    """
    xgb = sys.modules.get("xgboost.sklearn")
    if xgb is None or not isinstance(final, xgb.XGBClassifier):
        return
    classes = np.unique(np.asarray(y))
    expected = np.arange(classes.shape[0])
    if classes.dtype.kind in "iub" and np.array_equal(classes.astype(np.int64), expected):
        return
    shown = classes[:5].tolist()
    raise ValueError(
        f"y: the model ({path}) is an XGBClassifier, which accepts only labels 0..{classes.shape[0] - 1}, "
        f"but y holds {shown}{' ...' if classes.shape[0] > 5 else ''}. loopwise passes your labels to your model "
        "unchanged: encode them before the loop (e.g. sklearn.preprocessing.LabelEncoder) or use a model "
        "that takes these labels (LGBMClassifier, HistGradientBoostingClassifier)."
    )


def _n_rows(X: Any) -> int:
    from sklearn.utils.validation import _num_samples

    return int(_num_samples(X))


def fit_with_weights(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    """Fit ``estimator`` on ``X, y`` with ``sample_weight`` routed to its final estimator.

    Fits the object it is given (clone it first with ``sklearn.base.clone`` to keep the
    original); with metadata routing enabled it may set unset ``fit`` requests on its steps.

    Parameters
    ----------
    estimator : object
        Anything with ``fit(X, y)``: a plain estimator, a (nested) ``Pipeline`` (also with a
        ``ColumnTransformer``), an XGBoost or LightGBM scikit-learn wrapper.
    X : array-like or DataFrame
        Passed to ``fit`` unchanged.
    y : array-like
        Passed to ``fit`` unchanged (string labels included).
    sample_weight : array-like of shape (n_rows,), optional
        Finite, non-negative weights. When the final estimator's ``fit`` does not declare
        ``sample_weight`` the model is fitted without them and a ``UserWarning`` naming it is
        emitted, unless the weights are None or all ones (then nothing is lost).

    Returns
    -------
    object
        ``estimator``, fitted (whatever its ``fit`` returned, if that is not None).

    Raises
    ------
    ValueError
        Bad ``sample_weight``; an ``XGBClassifier`` given labels other than ``0..k-1``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array(["ok", "ok", "fraud", "fraud"])
    >>> model = fit_with_weights(make_pipeline(StandardScaler(), LogisticRegression()), X, y, [1, 1, 2, 2])
    >>> model.predict([[0.0], [3.0]]).tolist()
    ['ok', 'fraud']
    """
    if not callable(getattr(estimator, "fit", None)):
        raise TypeError(f"estimator must have a fit method, got {type(estimator).__name__}")
    weights = _check_weights(sample_weight, _n_rows(X))
    final, path = _final_estimator(estimator)
    _check_labels(final, path, y)
    if weights is None:
        return _fitted(estimator, estimator.fit(X, y))
    if _routing_enabled() and _is_pipeline(estimator):
        route = "sample_weight" if _request_weights_for_final_step(estimator) else None
    else:
        route = weight_route(estimator)
    if route is None:
        if not np.all(weights == 1.0):
            warnings.warn(
                f"{path}: fit takes no sample_weight, so the sample weights were ignored "
                "(the model was fitted on unweighted rows)", UserWarning, stacklevel=2)
        return _fitted(estimator, estimator.fit(X, y))
    return _fitted(estimator, estimator.fit(X, y, **{route: weights}))


def _fitted(estimator: Any, returned: Any) -> Any:
    # sklearn's fit returns self; a few third-party models return None.
    return estimator if returned is None else returned
