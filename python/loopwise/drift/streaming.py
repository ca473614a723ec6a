"""Streaming drift detectors: ADWIN, Page-Hinkley, KSWIN, DDM, EDDM, HDDM_A and HDDM_W.

Each detector watches a stream of values (a model's errors, a feature, a score) and says
when its distribution changed. The algorithms run in C++; the parameters, defaults and
detections are those of river's detectors of the same names, so results can be compared
one to one. ``update_many`` runs a whole array in C++ and is what pipelines should call.

A detector that signalled drift starts afresh with the next value. The complete state
round-trips through :meth:`to_dict` / :meth:`from_dict` (JSON) and pickle, so a scheduled
task can resume a detector where the previous run stopped.
"""

from __future__ import annotations

import math
import numbers
import secrets
from typing import Any, ClassVar, Iterable, Optional, Union

import numpy as np

from .. import _core

__all__ = ["ADWIN", "PageHinkley", "KSWIN", "DDM", "EDDM", "HDDM_A", "HDDM_W"]

_FORMAT = 1


def _encode(value: float) -> Union[float, str]:
    # Strict JSON has no Infinity/NaN; a few detectors start from +-inf.
    return value if math.isfinite(value) else str(value)


_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "Infinity": math.inf, "-Infinity": -math.inf}


def _decode(key: str, value: Any) -> float:
    """One saved state number: a finite real or an infinity written by :func:`_encode`; never NaN."""
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
        raise ValueError(f"state field {key!r} must hold numbers, got {value!r}")
    number = float(value)
    if math.isnan(number):
        raise ValueError(f"state field {key!r} holds NaN; the saved state is corrupt")
    return number


def _decode_state(state: Any, expected: Iterable[str]) -> dict:
    """Validate a saved state (a dict of lists of numbers with exactly the expected keys)."""
    if not isinstance(state, dict):
        raise ValueError(f"data['state'] must be a dict, got {type(state).__name__}")
    expected = set(expected)
    missing, unknown = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unknown:
        raise ValueError(f"data['state'] has missing keys {missing} and unknown keys {unknown}")
    decoded = {}
    for key, values in state.items():
        if not isinstance(values, (list, tuple)):
            raise ValueError(f"state field {key!r} must be a list of numbers, got {type(values).__name__}")
        decoded[key] = [_decode(key, v) for v in values]
    return decoded


_INT_PARAMS = {"clock", "max_buckets", "min_window_length", "grace_period", "min_instances", "window_size",
               "stat_size", "warm_start"}
_BOOL_PARAMS = {"two_sided_test"}


def _check_param(name: str, value: Any) -> None:
    """Type checks that name the parameter (the core checks the ranges)."""
    if name in _INT_PARAMS:
        if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    elif name in _BOOL_PARAMS:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    elif name not in ("mode", "seed"):
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {value}")


class _Detector:
    """Shared machinery: parameter storage, validation, state and serialisation."""

    _core_class: ClassVar[str]
    _param_names: ClassVar[tuple[str, ...]]
    _value_kind: ClassVar[str] = "real"  # "real", "binary" (0/1) or "unit" ([0, 1])

    def _build(self) -> None:
        kwargs = {name: getattr(self, name) for name in self._param_names}
        for name, value in kwargs.items():
            _check_param(name, value)
        self._core = getattr(_core, self._core_class)(**self._core_kwargs(kwargs))

    def _core_kwargs(self, params: dict) -> dict:
        return params

    # -------------------------------------------------------------------- updates
    def _check_value(self, x: Any) -> float:
        if isinstance(x, (bool, np.bool_)):
            return float(x)
        if not isinstance(x, (numbers.Real, np.integer, np.floating)):
            raise TypeError(f"x must be a real number, got {type(x).__name__}")
        value = float(x)
        if not math.isfinite(value):
            raise ValueError(f"x must be finite, got {value}")
        if self._value_kind == "binary" and value not in (0.0, 1.0):
            raise ValueError(f"x must be 0 or 1 (an error indicator) for {type(self).__name__}, got {value}")
        if self._value_kind == "unit" and not 0.0 <= value <= 1.0:
            raise ValueError(f"x must be in [0, 1] for {type(self).__name__}, got {value}")
        return value

    def _check_values(self, values: Any) -> np.ndarray:
        try:
            array = np.asarray(values)
        except Exception as exc:  # pragma: no cover - exotic inputs
            raise TypeError(f"values must be array-like of numbers: {exc}") from None
        if array.dtype == object or not (np.issubdtype(array.dtype, np.integer)
                                         or np.issubdtype(array.dtype, np.floating) or array.dtype == np.bool_):
            raise TypeError(f"values must be numeric (real numbers), got dtype {array.dtype}")
        array = np.ascontiguousarray(array, dtype=np.float64).reshape(-1) if array.ndim <= 1 else None
        if array is None:
            raise ValueError("values must be 1-D")
        if not np.isfinite(array).all():
            bad = int(np.flatnonzero(~np.isfinite(array))[0])
            raise ValueError(f"values must be finite; values[{bad}] is {array[bad]}")
        if self._value_kind == "binary" and not np.isin(array, (0.0, 1.0)).all():
            raise ValueError(f"values must be 0 or 1 (error indicators) for {type(self).__name__}")
        if self._value_kind == "unit" and ((array < 0) | (array > 1)).any():
            raise ValueError(f"values must be in [0, 1] for {type(self).__name__}")
        return array

    def update(self, x: float) -> "_Detector":
        """Consume one value and return the detector (check :attr:`drift_detected`).

        Examples
        --------
        >>> detector = ADWIN()
        >>> detector.update(0.5).drift_detected
        False
        """
        self._core.update(self._check_value(x))
        return self

    def update_many(self, values: Iterable[float], *, return_warnings: bool = False) -> Any:
        """Consume a whole array in C++; return the positions where drift was detected.

        Parameters
        ----------
        values : array-like of float
            The stream, oldest first. Must be finite.
        return_warnings : bool
            Also return the positions at which the warning flag was raised.

        Returns
        -------
        numpy.ndarray of int64, or a tuple (drifts, warnings) with ``return_warnings``.

        Examples
        --------
        >>> import numpy as np
        >>> stream = np.r_[np.zeros(500), np.ones(500)]
        >>> PageHinkley(threshold=10).update_many(stream).tolist()
        [510]
        >>> drifts, warnings = DDM().update_many(stream, return_warnings=True)
        """
        drifts, warnings = self._core.update_many(self._check_values(values), bool(return_warnings))
        return (drifts, warnings) if return_warnings else drifts

    @property
    def drift_detected(self) -> bool:
        """Whether the last value triggered a drift.

        Examples
        --------
        >>> ADWIN().drift_detected
        False
        """
        return bool(self._core.drift_detected)

    @property
    def warning_detected(self) -> bool:
        """Whether the last value raised a warning (always False for ADWIN, KSWIN, Page-Hinkley).

        Examples
        --------
        >>> DDM().update(1).warning_detected
        False
        """
        return bool(self._core.warning_detected)

    def reset(self) -> "_Detector":
        """Forget the stream seen so far (parameters are kept).

        Examples
        --------
        >>> ADWIN().update(1.0).reset().width
        0
        """
        self._core.reset()
        return self

    def clone(self) -> "_Detector":
        """A fresh detector with the same parameters.

        Examples
        --------
        >>> ADWIN(delta=0.01).update(1.0).clone().width
        0
        """
        return type(self)(**self.get_params())

    def get_params(self) -> dict:
        """Constructor parameters.

        Examples
        --------
        >>> EDDM().get_params()
        {'warm_start': 30, 'alpha': 0.95, 'beta': 0.9}
        """
        return {name: getattr(self, name) for name in self._param_names}

    # -------------------------------------------------------------- serialisation
    def _extra_state(self) -> dict:
        return {}

    def to_dict(self) -> dict:
        """JSON-serialisable parameters and complete state (resume with :meth:`from_dict`).

        Examples
        --------
        >>> import json
        >>> detector = ADWIN().update(1.0)
        >>> json.loads(json.dumps(detector.to_dict()))["params"]["delta"]
        0.002
        """
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()}
        state = {key: [_encode(v) for v in values] for key, values in self._core.state().items()}
        return {"type": type(self).__name__, "format": _FORMAT, "params": params, "state": state,
                **self._extra_state()}

    @classmethod
    def from_dict(cls, data: dict) -> "_Detector":
        """Rebuild a detector from :meth:`to_dict` output; it continues exactly where it stopped.

        Examples
        --------
        >>> detector = ADWIN()
        >>> _ = detector.update_many([0.0] * 100)
        >>> ADWIN.from_dict(detector.to_dict()).width
        100
        """
        if not isinstance(data, dict) or "params" not in data or "state" not in data:
            raise ValueError("data must be a dict produced by to_dict()")
        if data.get("type", cls.__name__) != cls.__name__:
            raise ValueError(f"data describes a {data.get('type')}, not a {cls.__name__}")
        params = data["params"]
        if not isinstance(params, dict):
            raise ValueError(f"data['params'] must be a dict, got {type(params).__name__}")
        unknown = sorted(set(params) - set(cls._param_names))
        if unknown:
            raise ValueError(f"data['params'] has unknown keys {unknown}; expected some of {list(cls._param_names)}")
        detector = cls._from_params(dict(params), data)
        state = _decode_state(data["state"], detector._core.state().keys())
        detector._core.load(state)
        return detector

    @classmethod
    def _from_params(cls, params: dict, data: dict) -> "_Detector":
        return cls(**params)

    def __getstate__(self) -> dict:
        return self.to_dict()

    def __setstate__(self, data: dict) -> None:
        other = type(self).from_dict(data)
        self.__dict__.update(other.__dict__)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


class ADWIN(_Detector):
    """ADaptive WINdowing (Bifet & Gavaldà, 2007).

    Keeps a window of recent values compressed into buckets and drops its older part when
    the means of two sub-windows differ by more than a bound that holds with confidence
    ``1 - delta``. Works on any bounded real-valued stream.

    Parameters
    ----------
    delta : float, default 0.002
        Confidence of the cut test; smaller means fewer false alarms and later detections.
    clock : int, default 32
        Test for a cut every ``clock`` values.
    max_buckets : int, default 5
        Buckets of each size kept before two are merged.
    min_window_length : int, default 5
        Smallest sub-window a cut may leave on either side.
    grace_period : int, default 10
        No test until the window holds more than this many values.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> stream = np.r_[rng.normal(0, 1, 1000), rng.normal(3, 1, 1000)]
    >>> detections = ADWIN().update_many(stream)
    >>> bool(1000 <= detections[0] < 1100)
    True
    """

    _core_class = "StreamADWIN"
    _param_names = ("delta", "clock", "max_buckets", "min_window_length", "grace_period")

    def __init__(self, delta: float = 0.002, clock: int = 32, max_buckets: int = 5, min_window_length: int = 5,
                 grace_period: int = 10) -> None:
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        self._build()

    @property
    def width(self) -> int:
        """Number of values in the window."""
        return int(self._core.width)

    @property
    def total(self) -> float:
        """Sum of the values in the window."""
        return float(self._core.total)

    @property
    def variance(self) -> float:
        """Sum of squared deviations within the window (as river's ``variance``)."""
        return float(self._core.variance)

    @property
    def estimation(self) -> float:
        """Mean of the window."""
        return self.total / self.width if self.width else 0.0

    @property
    def n_detections(self) -> int:
        """Detections since the last reset."""
        return int(self._core.n_detections)


class PageHinkley(_Detector):
    """Page-Hinkley test for a change in the mean (Page, 1954).

    Parameters
    ----------
    min_instances : int, default 30
        Values seen before the test may fire.
    delta : float, default 0.005
        Magnitude of change tolerated.
    threshold : float, default 50.0
        Cumulative deviation that signals drift.
    alpha : float, default 0.9999
        Forgetting factor of the cumulative sums.
    mode : {"up", "down", "both"}, default "both"
        Detect increases, decreases or both.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> stream = np.r_[rng.normal(0, 0.1, 500), rng.normal(1, 0.1, 500)]
    >>> int(PageHinkley().update_many(stream)[0]) > 500
    True
    """

    _core_class = "StreamPageHinkley"
    _param_names = ("min_instances", "delta", "threshold", "alpha", "mode")
    _MODES = {"up": 0, "down": 1, "both": 2}

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0,
                 alpha: float = 1 - 0.0001, mode: str = "both") -> None:
        if mode not in self._MODES:
            raise ValueError(f"mode must be one of {sorted(self._MODES)}, got {mode!r}")
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode
        self._build()

    def _core_kwargs(self, params: dict) -> dict:
        return {**params, "mode": self._MODES[params["mode"]]}


def _seed_key(seed: int) -> list[int]:
    # CPython seeds its Mersenne Twister with the 32-bit words of abs(seed).
    value = abs(int(seed))
    words = []
    while True:
        words.append(value & 0xFFFFFFFF)
        value >>= 32
        if not value:
            return words


class KSWIN(_Detector):
    """Kolmogorov-Smirnov WINdowing (Raab, Heusinger & Schleif, 2020).

    Compares the newest ``stat_size`` values of a sliding window with a random sample of its
    older part by a two-sample KS test; drift when the p-value is at most ``alpha`` and the
    KS distance exceeds 0.1.

    Parameters
    ----------
    alpha : float, default 0.005
        Significance level of the KS test.
    window_size : int, default 100
        Length of the sliding window.
    stat_size : int, default 30
        Length of the newest part and of the reference sample.
    seed : int or None, default None
        Seed of the reference sampling; with the same seed the samples (and detections) are
        those of river's ``KSWIN``. ``None`` draws a seed once, kept across resets and
        :meth:`to_dict`.
    window : iterable of float, optional
        Values that pre-fill the window.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> stream = np.r_[rng.normal(0, 1, 300), rng.normal(4, 1, 300)]
    >>> detections = KSWIN(seed=42).update_many(stream)
    >>> bool(300 <= detections[0] < 400)
    True
    """

    _core_class = "StreamKSWIN"
    _param_names = ("alpha", "window_size", "stat_size", "seed")

    def __init__(self, alpha: float = 0.005, window_size: int = 100, stat_size: int = 30, seed: Optional[int] = None,
                 window: Optional[Iterable[float]] = None) -> None:
        if seed is not None and not isinstance(seed, (numbers.Integral, np.integer)):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
        self.alpha = alpha
        self.window_size = window_size
        self.stat_size = stat_size
        self.seed = seed
        for name in ("alpha", "window_size", "stat_size"):
            _check_param(name, getattr(self, name))
        self._seed_used = int(seed) if seed is not None else secrets.randbits(63)
        initial = [] if window is None else list(self._check_values(list(window)))
        self._core = _core.StreamKSWIN(alpha=alpha, window_size=window_size, stat_size=stat_size,
                                       seed_key=_seed_key(self._seed_used), window=initial)

    @property
    def p_value(self) -> float:
        """p-value of the last KS test."""
        return float(self._core.p_value)

    def _extra_state(self) -> dict:
        return {"seed_used": self._seed_used}

    @classmethod
    def _from_params(cls, params: dict, data: dict) -> "KSWIN":
        seed_used = data.get("seed_used")
        if seed_used is not None and (isinstance(seed_used, bool)
                                      or not isinstance(seed_used, (numbers.Integral, np.integer))):
            raise ValueError(f"data['seed_used'] must be an int, got {seed_used!r}")
        if params.get("seed") is None and seed_used is not None:
            detector = cls(**{**params, "seed": int(seed_used)})
            detector.seed = None
            return detector
        return cls(**params)


class DDM(_Detector):
    """Drift Detection Method (Gama et al., 2004) for a stream of 0/1 errors.

    Parameters
    ----------
    warm_start : int, default 30
        Values seen before warnings or drifts may be raised.
    warning_threshold : float, default 2.0
        Deviations (in standard errors) above the best error rate that raise a warning.
    drift_threshold : float, default 3.0
        Deviations that signal drift.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> errors = np.r_[rng.random(1000) < 0.1, rng.random(1000) < 0.5]
    >>> detections = DDM().update_many(errors)
    >>> 1000 <= int(detections[detections >= 1000][0]) < 1200  # first alarm after the change
    True
    """

    _core_class = "StreamDDM"
    _param_names = ("warm_start", "warning_threshold", "drift_threshold")
    _value_kind = "binary"

    def __init__(self, warm_start: int = 30, warning_threshold: float = 2.0, drift_threshold: float = 3.0) -> None:
        self.warm_start = warm_start
        self.warning_threshold = warning_threshold
        self.drift_threshold = drift_threshold
        self._build()


class EDDM(_Detector):
    """Early Drift Detection Method (Baena-García et al., 2006) for a stream of 0/1 errors.

    Watches the distance between consecutive errors; drift when its mean plus two standard
    deviations falls below ``beta`` times its maximum, warning below ``alpha`` times.

    Parameters
    ----------
    warm_start : int, default 30
        Values (and errors) seen before warnings or drifts may be raised.
    alpha : float, default 0.95
        Warning level.
    beta : float, default 0.9
        Drift level (``beta <= alpha``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(4)
    >>> errors = np.r_[rng.random(3000) < 0.05, rng.random(3000) < 0.4]
    >>> detections = EDDM().update_many(errors)
    >>> 3000 <= int(detections[detections >= 3000][0]) < 3100  # first alarm after the change
    True
    """

    _core_class = "StreamEDDM"
    _param_names = ("warm_start", "alpha", "beta")
    _value_kind = "binary"

    def __init__(self, warm_start: int = 30, alpha: float = 0.95, beta: float = 0.9) -> None:
        self.warm_start = warm_start
        self.alpha = alpha
        self.beta = beta
        self._build()


class HDDM_A(_Detector):
    """Drift detection with Hoeffding bounds on moving averages (Frías-Blanco et al., 2015).

    Parameters
    ----------
    drift_confidence : float, default 0.001
        Confidence level of the drift test.
    warning_confidence : float, default 0.005
        Confidence level of the warning test.
    two_sided_test : bool, default False
        Also detect decreases of the mean.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(5)
    >>> errors = np.r_[rng.random(1000) < 0.1, rng.random(1000) < 0.5]
    >>> int(HDDM_A().update_many(errors)[0]) >= 1000
    True
    """

    _core_class = "StreamHDDM_A"
    _param_names = ("drift_confidence", "warning_confidence", "two_sided_test")
    _value_kind = "unit"

    def __init__(self, drift_confidence: float = 0.001, warning_confidence: float = 0.005,
                 two_sided_test: bool = False) -> None:
        self.drift_confidence = drift_confidence
        self.warning_confidence = warning_confidence
        self.two_sided_test = two_sided_test
        self._build()


class HDDM_W(_Detector):
    """Drift detection with McDiarmid bounds on weighted moving averages (Frías-Blanco et al., 2015).

    Parameters
    ----------
    drift_confidence : float, default 0.001
        Confidence level of the drift test.
    warning_confidence : float, default 0.005
        Confidence level of the warning test.
    lambda_val : float, default 0.05
        Weight of the newest value in the exponentially weighted averages.
    two_sided_test : bool, default False
        Also detect decreases of the mean.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(6)
    >>> errors = np.r_[rng.random(1000) < 0.1, rng.random(1000) < 0.6]
    >>> int(HDDM_W().update_many(errors)[0]) >= 1000
    True
    """

    _core_class = "StreamHDDM_W"
    _param_names = ("drift_confidence", "warning_confidence", "lambda_val", "two_sided_test")
    _value_kind = "unit"

    def __init__(self, drift_confidence: float = 0.001, warning_confidence: float = 0.005, lambda_val: float = 0.05,
                 two_sided_test: bool = False) -> None:
        self.drift_confidence = drift_confidence
        self.warning_confidence = warning_confidence
        self.lambda_val = lambda_val
        self.two_sided_test = two_sided_test
        self._build()
