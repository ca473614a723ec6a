"""Shared machinery of the SGD learners: state arrays, input checks, anchors, serialisation.

The learned state lives in a dict of float64 arrays (``_state``) that the C++ core updates
in place, sample by sample. Keeping it in numpy makes pickling, ``copy.deepcopy`` and the
JSON form of :meth:`to_dict` straightforward.
"""

from __future__ import annotations

import numbers
from typing import Any, Mapping, Optional

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _core
from ._locking import without_lock
from ._validation import as_float, named_errors, refuse_complex

_LOSSES = {"log_loss": 0, "hinge": 1, "squared_error": 2, "huber": 3}
_OPTIMIZERS = {"sgd": 0, "adagrad": 1, "adam": 2}
_SCHEDULES = {"constant": 0, "invscaling": 1}
_FORMAT = 1


def _check_choice(value: Any, choices: Mapping[str, int], name: str) -> int:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return choices[value]


def _check_number(value: Any, name: str, *, low: float = 0.0, strict: bool = False, high: Optional[float] = None,
                  high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not np.isfinite(number) or (number <= low if strict else number < low):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {low}, got {value!r}")
    if high is not None and (number >= high if high_open else number > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")
    return number


def _check_int(value: Any, name: str, low: int, high: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if int(value) < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and int(value) > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return int(value)


#: More passes than this over one batch is a typo (2**40 would run for days), not a setting.
MAX_ITER = 100_000


class _SGDLinear(BaseEstimator):
    """Base of SGDClassifier and SGDRegressor (not public)."""

    _is_classifier = False

    # ------------------------------------------------------------------ config
    def _config(self) -> dict:
        loss = _check_choice(self.loss, self._allowed_losses(), "loss")
        return {
            "loss": loss,
            "optimizer": _check_choice(self.optimizer, _OPTIMIZERS, "optimizer"),
            "schedule": _check_choice(self.learning_rate, _SCHEDULES, "learning_rate"),
            "class_weight": self._class_weight_mode(),
            "eta0": _check_number(self.eta0, "eta0", strict=True),
            "power_t": _check_number(self.power_t, "power_t"),
            "l2": _check_number(self.alpha, "alpha"),
            "l1": _check_number(self.l1, "l1"),
            "huber_epsilon": _check_number(getattr(self, "epsilon", 1.0), "epsilon", strict=True),
            "beta1": _check_number(self.beta1, "beta1", high=1.0, high_open=True),
            "beta2": _check_number(self.beta2, "beta2", high=1.0, high_open=True),
            "epsilon": 1e-8,
            "prox": _check_number(self.prox, "prox"),
            "fit_intercept": bool(self.fit_intercept),
            "standardize": bool(self.standardize),
        }

    def _allowed_losses(self) -> dict:
        raise NotImplementedError

    def _class_weight_mode(self) -> int:
        return 0

    # ------------------------------------------------------------------- state
    def _new_state(self, n_outputs: int, n_features: int, n_classes: int) -> dict:
        return {
            "coef": np.zeros((n_outputs, n_features)),
            "intercept": np.zeros(n_outputs),
            "moment1": np.zeros((n_outputs, n_features + 1)),
            "moment2": np.zeros((n_outputs, n_features + 1)),
            "scaler": np.zeros(2 * n_features + 1),
            "n_updates": np.zeros(1),
            "class_counts": np.zeros(max(n_classes, 0)),
        }

    def _n_outputs(self) -> int:
        return self._state["coef"].shape[0]

    def _anchor_arrays(self) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """The anchor's internal weights (and intercept, when it has one)."""
        anchor = self.anchor
        if anchor is None:
            return None, None
        shape = self._state["coef"].shape
        if isinstance(anchor, _SGDLinear):
            check_is_fitted(anchor, "_state")
            coef, intercept = anchor._state["coef"], anchor._state["intercept"]
            if bool(anchor.standardize) != bool(self.standardize):
                raise ValueError("anchor must use the same standardize setting as the model it anchors")
        elif isinstance(anchor, Mapping):
            if "coef" not in anchor:
                raise ValueError("anchor given as a mapping needs a 'coef' entry")
            coef, intercept = anchor["coef"], anchor.get("intercept")
        else:
            coef, intercept = anchor, None
        try:
            coef = np.asarray(coef, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"anchor must be a fitted loopwise learner or a weight array, got {type(anchor).__name__}") from None
        if coef.ndim == 1 and shape[0] == 1:
            coef = coef.reshape(1, -1)
        if coef.shape != shape:
            raise ValueError(f"anchor weights have shape {coef.shape}, the model's are {shape}")
        coef = np.ascontiguousarray(coef)
        if intercept is not None:
            intercept = np.ascontiguousarray(np.asarray(intercept, dtype=np.float64).reshape(-1))
            if intercept.shape != (shape[0],):
                raise ValueError(f"anchor intercept has {intercept.size} values, the model {shape[0]}")
        if not np.isfinite(coef).all() or (intercept is not None and not np.isfinite(intercept).all()):
            raise ValueError("anchor weights must be finite")
        return coef, intercept

    def _learn(self, X: np.ndarray, targets: np.ndarray, sample_weight: Optional[np.ndarray],
               order: Optional[np.ndarray]) -> None:
        config = self._config()
        state = dict(self._state)
        if config["prox"] > 0:
            anchor_coef, anchor_intercept = self._anchor_arrays()
            if anchor_coef is None:
                raise ValueError("prox > 0 needs an anchor (a fitted model or its weights)")
            state["anchor_coef"], state["anchor_intercept"] = anchor_coef, anchor_intercept
        if self._is_classifier:
            state["class_weights"] = self._class_weight_array()
        n_outputs, n_features = self._state["coef"].shape
        backup = {k: v.copy() for k, v in self._state.items()}
        try:
            _core.learn_linear(config, state, n_outputs, n_features, len(getattr(self, "classes_", [])), X,
                               np.ascontiguousarray(targets, dtype=np.float64), sample_weight, order)
        except BaseException:
            # A row refused half-way (e.g. NaN in X) must not leave half a batch learned.
            for key, value in backup.items():
                self._state[key][...] = value
            raise
        if not all(np.isfinite(v).all() for v in self._state.values()):
            # As scikit-learn: an overflow is an error, not NaN weights; the model keeps the
            # state it had before this batch.
            for key, value in backup.items():
                self._state[key][...] = value
            raise ValueError("Floating-point overflow while learning from X (the weights became inf/NaN); "
                             "scale the features (e.g. StandardScaler, or standardize=True) or lower eta0 or alpha")

    def _class_weight_array(self) -> Optional[np.ndarray]:
        return None

    # -------------------------------------------------------------- inputs
    def _validate_X(self, X: Any, *, reset: bool) -> np.ndarray:
        # dtype="numeric" (not float64): scikit-learn then refuses text instead of parsing it.
        with named_errors("X"):
            X = validate_data(self, refuse_complex(X, "X"), reset=reset, dtype="numeric", order="C",
                              ensure_all_finite=True)
        return as_float(X, "X")

    def _validate_Xy(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        # A fitted model accepts an empty batch in partial_fit (e.g. to declare new classes).
        # Finiteness of X is checked by the core while it reads the rows (no extra pass).
        X, y = refuse_complex(X, "X"), refuse_complex(y, "y")
        with named_errors("X or y"):
            X, y = validate_data(self, X, y, reset=reset, dtype="numeric", order="C", ensure_all_finite=False,
                                 y_numeric=not self._is_classifier, multi_output=False,
                                 ensure_min_samples=1 if reset else 0)
        return as_float(X, "X", finite=False), np.asarray(y)

    @staticmethod
    def _sample_weight(sample_weight: Any, n: int) -> Optional[np.ndarray]:
        if sample_weight is None:
            return None
        weights = np.asarray(sample_weight)
        if weights.ndim == 0:
            weights = np.full(n, float(weights))
        if not np.issubdtype(weights.dtype, np.number) and weights.dtype != np.bool_:
            raise TypeError(f"sample_weight must be numeric, got dtype {weights.dtype}")
        weights = np.ascontiguousarray(weights, dtype=np.float64).reshape(-1)
        if weights.shape[0] != n:
            raise ValueError(f"sample_weight has {weights.shape[0]} values for {n} rows")
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError("sample_weight must be finite and >= 0")
        if n and not weights.any():
            raise ValueError("sample_weight: all weights are zero, nothing to learn")
        return weights

    def _epoch_orders(self, n: int):
        max_iter = _check_int(self.max_iter, "max_iter", 1, MAX_ITER)
        seed = self.random_state
        if seed is not None and not isinstance(seed, (numbers.Integral, np.integer)):
            raise TypeError("random_state must be an int or None")
        for epoch in range(max_iter):
            if self.shuffle:
                # One seeded stream per epoch: reproducible and independent of earlier epochs.
                rng = np.random.default_rng([0 if seed is None else int(seed), epoch]) if seed is not None \
                    else np.random.default_rng()
                yield rng.permutation(n).astype(np.int64)
            else:
                yield None

    # ------------------------------------------------------------ prediction
    def _standardized(self, X: np.ndarray) -> np.ndarray:
        if not self.standardize:
            return X
        d = X.shape[1]
        scaler = self._state["scaler"]
        count = scaler[2 * d]
        if count == 0:
            return np.zeros_like(X)
        mean, var = scaler[:d], scaler[d:2 * d] / count
        std = np.sqrt(var)
        # A constant feature carries no information: the learner saw it as 0.
        safe = np.where(var > 0, std, 1.0)
        return np.where(var > 0, (X - mean) / safe, 0.0)

    def _decision(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "_state")
        X = self._validate_X(X, reset=False)
        scores = self._standardized(X) @ self._state["coef"].T + self._state["intercept"]
        return scores

    # ------------------------------------------------------ public attributes
    @property
    def coef_(self) -> np.ndarray:
        """Weights in the units of the input features (shape (1, d) or (K, d); (d,) for regressors)."""
        check_is_fitted(self, "_state")
        coef, _ = self._original_units()
        return coef

    @property
    def intercept_(self) -> np.ndarray:
        """Intercepts in the units of the input features."""
        check_is_fitted(self, "_state")
        _, intercept = self._original_units()
        return intercept

    def _original_units(self) -> tuple[np.ndarray, np.ndarray]:
        coef, intercept = self._state["coef"].copy(), self._state["intercept"].copy()
        if self.standardize:
            d = coef.shape[1]
            scaler = self._state["scaler"]
            count = scaler[2 * d]
            if count > 0:
                var = scaler[d:2 * d] / count
                scale = np.where(var > 0, 1.0 / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
                coef = coef * scale
                intercept = intercept - coef @ scaler[:d]
        return coef, intercept

    def __getstate__(self) -> dict:
        # The per-instance fit lock (see _locking) neither pickles nor belongs in a copy.
        return without_lock(super().__getstate__())

    # ------------------------------------------------------------ cloning
    def __sklearn_clone__(self):
        # sklearn's clone would replace a fitted anchor by an unfitted copy; an anchor is data.
        params = self.get_params(deep=False)
        anchor = params.pop("anchor", None)
        cloned = type(self)(**{k: clone(v, safe=False) for k, v in params.items()})
        cloned.anchor = anchor
        return cloned

    # ------------------------------------------------------- serialisation
    def _anchor_for_json(self) -> Any:
        anchor = self.anchor
        if anchor is None:
            return None
        if isinstance(anchor, _SGDLinear):
            check_is_fitted(anchor, "_state")
            coef, intercept = anchor._state["coef"], anchor._state["intercept"]
        elif isinstance(anchor, Mapping):
            coef, intercept = anchor.get("coef"), anchor.get("intercept")
        else:
            coef, intercept = anchor, None
        return {"coef": np.asarray(coef, dtype=np.float64).tolist(),
                "intercept": None if intercept is None else np.asarray(intercept, dtype=np.float64).reshape(-1).tolist()}

    def to_dict(self) -> dict:
        """JSON-serialisable parameters and learned state (see :meth:`from_dict`).

        An anchor is stored as its weights (``{"coef": ..., "intercept": ...}``).

        Examples
        --------
        >>> import json
        >>> from loopwise.online import SGDRegressor
        >>> model = SGDRegressor().fit([[0.0], [1.0]], [0.0, 1.0])
        >>> json.loads(json.dumps(model.to_dict()))["type"]
        'SGDRegressor'
        """
        params = self.get_params(deep=False)
        params["anchor"] = self._anchor_for_json()
        if isinstance(params.get("class_weight"), Mapping):
            params["class_weight"] = {"labels": [_plain(k) for k in params["class_weight"]],
                                      "weights": [float(v) for v in params["class_weight"].values()]}
        out: dict = {"type": type(self).__name__, "format": _FORMAT, "params": params}
        if hasattr(self, "_state"):
            out["state"] = {k: {"shape": list(v.shape), "values": v.reshape(-1).tolist()} for k, v in self._state.items()}
            out["n_features_in"] = int(self.n_features_in_)
            if hasattr(self, "feature_names_in_"):
                out["feature_names_in"] = [str(c) for c in self.feature_names_in_]
            if self._is_classifier:
                out["classes"] = [_plain(c) for c in self.classes_]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "_SGDLinear":
        """Rebuild a learner from :meth:`to_dict` output.

        Examples
        --------
        >>> from loopwise.online import SGDClassifier
        >>> model = SGDClassifier(random_state=0).fit([[0.0], [1.0]], ["a", "b"])
        >>> SGDClassifier.from_dict(model.to_dict()).classes_.tolist()
        ['a', 'b']
        """
        if not isinstance(data, Mapping) or "params" not in data:
            raise ValueError("data must be a dict produced by to_dict()")
        if data.get("type") != cls.__name__:
            raise ValueError(f"data describes a {data.get('type')}, not a {cls.__name__}")
        params = dict(data["params"])
        if isinstance(params.get("class_weight"), Mapping):
            cw = params["class_weight"]
            params["class_weight"] = dict(zip(cw["labels"], cw["weights"]))
        model = cls(**params)
        if "state" in data:
            model._state = _load_state(data["state"])
            model.n_features_in_ = int(data["n_features_in"])
            if "feature_names_in" in data:
                model.feature_names_in_ = np.asarray(data["feature_names_in"], dtype=object)
            if cls._is_classifier:
                model.classes_ = np.asarray(data["classes"])
        return model


_STATE_KEYS = {"coef", "intercept", "moment1", "moment2", "scaler", "n_updates", "class_counts"}


def _load_state(saved: Any) -> dict:
    """Validate a saved learner state: known keys, consistent shapes, finite numbers."""
    if not isinstance(saved, Mapping):
        raise ValueError(f"data['state'] must be a dict, got {type(saved).__name__}")
    missing, unknown = sorted(_STATE_KEYS - set(saved)), sorted(set(saved) - _STATE_KEYS)
    if missing or unknown:
        raise ValueError(f"data['state'] has missing keys {missing} and unknown keys {unknown}")
    state = {}
    for key in sorted(_STATE_KEYS):
        entry = saved[key]
        if not isinstance(entry, Mapping) or "values" not in entry or "shape" not in entry:
            raise ValueError(f"data['state'][{key!r}] must be a dict with 'shape' and 'values'")
        try:
            values = np.asarray(entry["values"], dtype=np.float64).reshape([int(n) for n in entry["shape"]])
        except (TypeError, ValueError) as error:
            raise ValueError(f"data['state'][{key!r}] does not hold numbers of its shape: {error}") from None
        if not np.isfinite(values).all():
            raise ValueError(f"data['state'][{key!r}] holds NaN or inf; the saved state is corrupt")
        state[key] = np.ascontiguousarray(values)
    coef = state["coef"]
    if coef.ndim != 2:
        raise ValueError(f"data['state']['coef'] must be 2-D, got shape {coef.shape}")
    k, d = coef.shape
    expected = {"intercept": (k,), "moment1": (k, d + 1), "moment2": (k, d + 1), "scaler": (2 * d + 1,),
                "n_updates": (1,)}
    for key, shape in expected.items():
        if state[key].shape != shape:
            raise ValueError(f"data['state'][{key!r}] has shape {state[key].shape}; coef of shape {coef.shape} "
                             f"needs {shape}")
    return state


def _plain(value: Any) -> Any:
    """numpy scalars to Python scalars for JSON."""
    return value.item() if isinstance(value, np.generic) else value
