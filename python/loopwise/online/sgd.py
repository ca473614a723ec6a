"""Online linear models trained by sequential SGD / AdaGrad / Adam updates in C++."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target

from ._linear import _LOSSES, _SGDLinear
from ._locking import serialised

__all__ = ["SGDClassifier", "SGDRegressor"]


class SGDClassifier(ClassifierMixin, _SGDLinear):
    """Logistic regression (binary or multinomial) or linear SVM learned one sample at a time.

    Every row is one optimiser step, in order, inside C++: ``partial_fit`` on a batch is
    exactly a loop of single-sample updates (unlike an averaged mini-batch step).

    Parameters
    ----------
    loss : {"log_loss", "hinge"}, default "log_loss"
        Logistic loss (softmax over the classes when there are more than two) or hinge loss
        (one-vs-rest when there are more than two classes; no ``predict_proba``).
    optimizer : {"sgd", "adagrad", "adam"}, default "sgd"
        Per-parameter update rule.
    eta0 : float, default 0.01
        Base learning rate.
    learning_rate : {"constant", "invscaling"}, default "constant"
        ``"constant"`` keeps ``eta0`` so late data counts as much as early data (what drift
        needs); ``"invscaling"`` uses ``eta0 / (t + 1) ** power_t`` with t the updates so far.
    power_t : float, default 0.5
        Exponent of ``"invscaling"``.
    alpha : float, default 1e-4
        L2 penalty ``alpha / 2 * ||w||^2`` per sample (the intercept is not penalised).
    l1 : float, default 0.0
        L1 penalty, applied as a soft-threshold step of ``learning rate * l1`` after each update.
    fit_intercept : bool, default True
        Learn intercepts.
    standardize : bool, default False
        Standardise features online with running means and variances (updated with each
        sample before it is learned); coefficients are then learned on the standardised
        scale and ``coef_`` reports them in input units.
    class_weight : dict, "balanced" or None, default None
        Per-class weights multiplying the loss. ``"balanced"`` uses ``n / (K * n_c)`` from
        the class counts seen so far, updated with every sample.
    max_iter : int, default 5
        Passes over the data in :meth:`fit` (``partial_fit`` always makes one pass), at most
        100,000.
    shuffle : bool, default True
        Shuffle rows before each pass of :meth:`fit`.
    random_state : int or None, default None
        Seed of the shuffling; pass an int for reproducible fits.
    beta1, beta2 : float, default 0.9, 0.999
        Adam's decay rates of the first and second moments.
    prox : float, default 0.0
        Stability regularisation: adds ``prox * ||w - w_anchor||^2`` to every update, which
        keeps the model close to ``anchor`` and bounds prediction churn.
    anchor : SGDClassifier, array or dict, optional
        The model to stay close to: a fitted loopwise learner, its weight array (shape of the
        internal weights, i.e. ``coef_`` when ``standardize=False``) or a mapping with
        ``"coef"`` and ``"intercept"``. With ``standardize=True`` the pull applies to the
        weights on the standardised scale, so anchor a copy of the same model (as
        ``copy.deepcopy(champion)`` does).

    Attributes
    ----------
    classes_ : ndarray
        Known class labels (sorted).
    coef_, intercept_ : ndarray
        Weights in input units; shape ``(1, d)`` for two classes, ``(K, d)`` otherwise.
    n_features_in_ : int
        Number of features.
    feature_names_in_ : ndarray
        Column names when fitted on a DataFrame.

    Notes
    -----
    Classes may grow in :meth:`partial_fit`: pass ``classes=`` containing the new labels
    (e.g. ``classes=np.union1d(model.classes_, new)``). Existing classes keep their weights;
    new classes start at zero. Growing from two classes to more converts the binary
    logistic weights ``w`` to the equivalent softmax rows ``-w/2`` and ``+w/2`` (hinge:
    ``-w`` and ``+w``) and restarts the optimiser moments. A label not declared raises
    ``ValueError``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(n_samples=2000, random_state=0)
    >>> model = SGDClassifier(optimizer="adam", eta0=0.01, standardize=True, random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.85)
    True
    >>> model.partial_fit(X[:100], y[:100]).predict_proba(X[:2]).shape
    (2, 2)
    """

    _is_classifier = True

    def __init__(self, loss: str = "log_loss", *, optimizer: str = "sgd", eta0: float = 0.01,
                 learning_rate: str = "constant", power_t: float = 0.5, alpha: float = 1e-4, l1: float = 0.0,
                 fit_intercept: bool = True, standardize: bool = False,
                 class_weight: Union[None, str, Mapping[Any, float]] = None, max_iter: int = 5, shuffle: bool = True,
                 random_state: Optional[int] = None, beta1: float = 0.9, beta2: float = 0.999, prox: float = 0.0,
                 anchor: Any = None) -> None:
        self.loss = loss
        self.optimizer = optimizer
        self.eta0 = eta0
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.alpha = alpha
        self.l1 = l1
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.beta1 = beta1
        self.beta2 = beta2
        self.prox = prox
        self.anchor = anchor

    def _allowed_losses(self) -> dict:
        return {k: _LOSSES[k] for k in ("log_loss", "hinge")}

    def _class_weight_mode(self) -> int:
        if self.class_weight is None:
            return 0
        if isinstance(self.class_weight, str):
            if self.class_weight != "balanced":
                raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}")
            return 2
        if not isinstance(self.class_weight, Mapping):
            raise TypeError(f"class_weight must be None, 'balanced' or a dict, got {type(self.class_weight).__name__}")
        return 1

    def _class_weight_array(self) -> Optional[np.ndarray]:
        if not isinstance(self.class_weight, Mapping):
            return None
        known = set(self.classes_.tolist())
        unknown = [k for k in self.class_weight if k not in known]
        if unknown:
            raise ValueError(f"class_weight names classes not in classes_: {unknown}")
        weights = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_.tolist()])
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError("class_weight values must be finite and >= 0")
        return weights

    # --------------------------------------------------------------- classes
    def _check_targets(self, y: np.ndarray) -> None:
        # Cheap version of sklearn's type_of_target for 1-D y (validate_data rejected 2-D):
        # labels of any dtype, or floats that are whole numbers; anything else is continuous.
        if len(y) == 0:
            return
        if y.dtype.kind == "f" and (not np.isfinite(y).all() or (y != np.floor(y)).any()):
            raise ValueError("Unknown label type: y is continuous; SGDClassifier needs class labels")
        if y.dtype.kind == "O":
            kind = type_of_target(y, input_name="y")
            if kind not in ("binary", "multiclass"):
                raise ValueError(f"Unknown label type: y is {kind}; SGDClassifier needs class labels")

    def _set_classes(self, classes: np.ndarray, n_features: int) -> None:
        if len(classes) < 2:
            raise ValueError(f"y holds {len(classes)} class(es); SGDClassifier needs at least two classes, "
                             "pass classes= to partial_fit when the first batch holds one class")
        self.classes_ = classes
        n_outputs = 1 if len(classes) == 2 else len(classes)
        self._state = self._new_state(n_outputs, n_features, len(classes))

    def _grow_classes(self, classes: np.ndarray) -> None:
        """Extend classes_ to `classes` (a sorted superset), keeping what was learned."""
        old = self.classes_
        old_state = self._state
        positions = np.searchsorted(classes, old)
        n_features = old_state["coef"].shape[1]
        self.classes_ = classes
        K = 1 if len(classes) == 2 else len(classes)
        state = self._new_state(K, n_features, len(classes))
        state["scaler"] = old_state["scaler"].copy()
        state["n_updates"] = old_state["n_updates"].copy()
        state["class_counts"][positions] = old_state["class_counts"]
        if old_state["coef"].shape[0] == 1 and K > 1:
            # Binary -> softmax: rows -w/2, +w/2 give the same probabilities (hinge: -w, +w).
            half = 0.5 if self.loss == "log_loss" else 1.0
            w, b = old_state["coef"][0], old_state["intercept"][0]
            state["coef"][positions[0]], state["coef"][positions[1]] = -half * w, half * w
            state["intercept"][positions[0]], state["intercept"][positions[1]] = -half * b, half * b
        elif K > 1:
            state["coef"][positions] = old_state["coef"]
            state["intercept"][positions] = old_state["intercept"]
            state["moment1"][positions] = old_state["moment1"]
            state["moment2"][positions] = old_state["moment2"]
        self._state = state

    def _encode(self, y: np.ndarray) -> np.ndarray:
        classes = self.classes_
        if len(y) and y.dtype.kind in "iub" and classes.dtype.kind in "iub" \
                and np.array_equal(classes, np.arange(len(classes))):
            # Labels 0..K-1 (the common case): they are their own indices.
            low, high = y.min(), y.max()
            if low >= 0 and high < len(classes):
                return y.astype(np.float64)
        index = np.searchsorted(classes, y)
        np.minimum(index, len(classes) - 1, out=index)
        unknown = classes[index] != y
        if unknown.any():
            new = np.unique(y[unknown]).tolist()
            raise ValueError(f"y contains classes not seen before: {new}; declare them with "
                             f"partial_fit(X, y, classes=...) to grow the model (known: {classes.tolist()})")
        return index.astype(np.float64)

    # ------------------------------------------------------------ learning
    @serialised
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "SGDClassifier":
        """Learn from scratch with ``max_iter`` passes over the data.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, d)
        y : array-like of labels, shape (n,)
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
        >>> SGDClassifier(eta0=0.5, max_iter=50, random_state=0).fit(X, y).predict([[3.0]]).tolist()
        [1]
        """
        self._config()
        X, y = self._validate_Xy(X, y, reset=True)
        self._check_targets(y)
        weights = self._sample_weight(sample_weight, X.shape[0])
        self._set_classes(np.unique(y), X.shape[1])
        targets = self._encode(y)
        for order in self._epoch_orders(X.shape[0]):
            self._learn(X, targets, weights, order)
        self.n_iter_ = int(self.max_iter)
        return self

    @serialised
    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None) -> "SGDClassifier":
        """One sequential pass over the rows, continuing from the current state.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, d)
        y : array-like of labels, shape (n,)
        classes : array-like, optional
            All labels the model should know. Required on the first call only when the first
            batch does not show at least two classes; on later calls, new labels here grow
            the model (see Notes of the class).
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> model = SGDClassifier().partial_fit([[0.0], [1.0]], [0, 1])
        >>> model.partial_fit([[2.0]], [2], classes=[0, 1, 2]).classes_.tolist()
        [0, 1, 2]
        """
        self._config()
        first = not hasattr(self, "_state")
        X, y = self._validate_Xy(X, y, reset=first)
        self._check_targets(y)
        weights = self._sample_weight(sample_weight, X.shape[0])
        declared = None if classes is None else _declared_classes(classes)
        if first:
            self._set_classes(np.unique(y) if declared is None else declared, X.shape[1])
        elif declared is not None:
            missing = np.setdiff1d(self.classes_, declared)
            if len(missing):
                raise ValueError(f"classes must include every known class; missing {missing.tolist()}")
            if len(declared) > len(self.classes_):
                self._grow_classes(declared)
        self._learn(X, self._encode(y), weights, None)
        self.n_iter_ = 1
        return self

    # ----------------------------------------------------------- prediction
    def decision_function(self, X: Any) -> np.ndarray:
        """Margins: shape (n,) for two classes (positive means ``classes_[1]``), else (n, K).

        Examples
        --------
        >>> import numpy as np
        >>> model = SGDClassifier(random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> model.decision_function([[1.0]]).shape
        (1,)
        """
        scores = self._decision(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    @available_if(lambda self: self.loss == "log_loss")
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (logistic loss only), columns in the order of ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> model = SGDClassifier(random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> model.predict_proba([[1.0]]).shape
        (1, 2)
        """
        scores = self._decision(X)
        if scores.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-np.clip(scores[:, 0], -500, 500)))
            return np.column_stack([1.0 - p, p])
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    @available_if(lambda self: self.loss == "log_loss")
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`.

        Examples
        --------
        >>> model = SGDClassifier(random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> model.predict_log_proba([[0.5]]).shape
        (1, 2)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """Most likely class of each row.

        Examples
        --------
        >>> model = SGDClassifier(eta0=0.5, max_iter=50, random_state=0).fit([[0.0], [1.0]], ["a", "b"])
        >>> model.predict([[1.0]]).tolist()
        ['b']
        """
        scores = self._decision(X)
        index = (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


def _declared_classes(classes: Any) -> np.ndarray:
    """Sorted unique labels of ``classes=``; NaN, inf and complex are no labels."""
    values = np.asarray(classes)
    if values.ndim != 1:
        raise ValueError(f"classes must be 1-D, got shape {values.shape}")
    if values.dtype.kind == "c":
        raise TypeError("classes must be labels (ints or strings), got complex numbers")
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(f"classes must not contain NaN or inf, got {values.tolist()}")
    if values.dtype.kind == "O" and any(isinstance(v, float) and not np.isfinite(v) for v in values):
        raise ValueError("classes must not contain NaN or inf")
    return np.unique(values)


class SGDRegressor(RegressorMixin, _SGDLinear):
    """Linear regression (squared or Huber loss) learned one sample at a time in C++.

    Parameters
    ----------
    loss : {"squared_error", "huber"}, default "squared_error"
        Squared loss ``(y - f)^2 / 2`` or Huber loss with threshold ``epsilon``.
    epsilon : float, default 1.0
        Residual beyond which the Huber loss becomes linear.
    optimizer, eta0, learning_rate, power_t, alpha, l1, fit_intercept, standardize, max_iter, shuffle, random_state, beta1, beta2, prox, anchor
        As in :class:`SGDClassifier`.

    Attributes
    ----------
    coef_ : ndarray of shape (d,)
    intercept_ : ndarray of shape (1,)

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=2000, n_features=5, noise=1.0, random_state=0)
    >>> model = SGDRegressor(optimizer="adam", eta0=0.05, standardize=True, random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.99)
    True
    """

    def __init__(self, loss: str = "squared_error", *, epsilon: float = 1.0, optimizer: str = "sgd",
                 eta0: float = 0.01, learning_rate: str = "constant", power_t: float = 0.5, alpha: float = 1e-4,
                 l1: float = 0.0, fit_intercept: bool = True, standardize: bool = False, max_iter: int = 5,
                 shuffle: bool = True, random_state: Optional[int] = None, beta1: float = 0.9, beta2: float = 0.999,
                 prox: float = 0.0, anchor: Any = None) -> None:
        self.loss = loss
        self.epsilon = epsilon
        self.optimizer = optimizer
        self.eta0 = eta0
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.alpha = alpha
        self.l1 = l1
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.beta1 = beta1
        self.beta2 = beta2
        self.prox = prox
        self.anchor = anchor

    def _allowed_losses(self) -> dict:
        return {k: _LOSSES[k] for k in ("squared_error", "huber")}

    def _targets(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if not np.isfinite(y).all():
            raise ValueError("y must be finite")
        return y

    @serialised
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "SGDRegressor":
        """Learn from scratch with ``max_iter`` passes over the data.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.arange(20.0).reshape(-1, 1); y = 2 * X[:, 0] + 1
        >>> model = SGDRegressor(optimizer="adam", eta0=0.1, standardize=True, max_iter=200, random_state=0).fit(X, y)
        >>> round(float(model.predict([[10.0]])[0]))
        21
        """
        self._config()
        X, y = self._validate_Xy(X, y, reset=True)
        targets = self._targets(y)
        weights = self._sample_weight(sample_weight, X.shape[0])
        self._state = self._new_state(1, X.shape[1], 0)
        for order in self._epoch_orders(X.shape[0]):
            self._learn(X, targets, weights, order)
        self.n_iter_ = int(self.max_iter)
        return self

    @serialised
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> "SGDRegressor":
        """One sequential pass over the rows, continuing from the current state.

        Examples
        --------
        >>> SGDRegressor().partial_fit([[1.0], [2.0]], [1.0, 2.0]).coef_.shape
        (1,)
        """
        self._config()
        first = not hasattr(self, "_state")
        X, y = self._validate_Xy(X, y, reset=first)
        targets = self._targets(y)
        weights = self._sample_weight(sample_weight, X.shape[0])
        if first:
            self._state = self._new_state(1, X.shape[1], 0)
        self._learn(X, targets, weights, None)
        self.n_iter_ = 1
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values.

        Examples
        --------
        >>> SGDRegressor().fit([[0.0], [1.0]], [0.0, 1.0]).predict([[0.5]]).shape
        (1,)
        """
        return self._decision(X)[:, 0]

    @property
    def coef_(self) -> np.ndarray:
        """Weights in input units, shape (d,)."""
        return super().coef_[0]
