"""Generated hostile inputs for the streaming detectors: parameters, values, saved states."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _hostile_values import SWEEP, Hostile, assert_clean, numbers, vectors
from loopwise.drift import streaming as sd

# Detectors of real values, and those of error indicators (0/1) or rates in [0, 1].
REAL = {sd.ADWIN, sd.PageHinkley, sd.KSWIN}
DETECTORS = [sd.ADWIN, sd.PageHinkley, sd.KSWIN, sd.DDM, sd.EDDM, sd.HDDM_A, sd.HDDM_W]
INTEGER_PARAMS = {"clock", "max_buckets", "min_window_length", "grace_period", "min_instances", "window_size",
                  "stat_size", "warm_start"}


def _make(cls, **params):
    return cls(seed=1, **params) if cls is sd.KSWIN else cls(**params)


def _stream(cls, n=200):
    rng = np.random.default_rng(3)
    if cls in (sd.DDM, sd.EDDM):
        return (rng.random(n) < 0.3).astype(float)
    if cls in (sd.HDDM_A, sd.HDDM_W):
        return rng.random(n)
    return rng.normal(size=n)


def _value_ok_for(cls, values) -> bool:
    """Values a binary or rate detector may take; real detectors take any finite value."""
    if cls in REAL:
        return True
    try:
        array = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        return True  # refused by dtype anyway; the generator already marked it
    if cls in (sd.DDM, sd.EDDM):
        return bool(np.isin(array[~np.isnan(array)], (0.0, 1.0)).all())
    return bool(((array >= 0) & (array <= 1)).all())


@SWEEP
@given(cls=st.sampled_from(DETECTORS), data=st.data())
def test_parameters(cls, data):
    params = [p for p in cls._param_names if p not in ("mode", "seed")]
    name = data.draw(st.sampled_from(params))
    value: Hostile = data.draw(numbers(integer=name in INTEGER_PARAMS))
    # Out-of-range finite values may raise (naming the parameter) or be used; the generator's
    # invalid ones (non-finite, complex, strings, None, containers) must be refused.
    assert_clean(lambda: _make(cls, **{name: value.value}).update_many(_stream(cls)), [name], value.invalid,
                 f"{cls.__name__}({name}={value.label})")


@SWEEP
@given(cls=st.sampled_from(DETECTORS), values=vectors(min_size=0, allow_nan=False, allow_inf=False))
def test_update_many_values(cls, values: Hostile):
    must_fail = values.invalid or not _value_ok_for(cls, values.value)
    assert_clean(lambda: _make(cls).update_many(values.value), ["values"], must_fail,
                 f"{cls.__name__}.update_many({values.label})")


@SWEEP
@given(cls=st.sampled_from(DETECTORS), x=numbers(0.0, 1.0))
def test_update_one_value(cls, x: Hostile):
    detector = _make(cls)
    detector.update_many(_stream(cls, 50))
    if isinstance(x.value, bool):
        must_fail = False  # True/False as 1/0 is a reading, not a silent error
    elif isinstance(x.value, Real) and math.isfinite(float(x.value)):
        must_fail = not _value_ok_for(cls, [x.value])
    else:
        must_fail = True  # NaN, ±inf, complex, strings, None, containers
    assert_clean(lambda: detector.update(x.value).drift_detected, ["x"], must_fail, f"{cls.__name__}.update({x.label})")


@SWEEP
@given(cls=st.sampled_from(DETECTORS), data=st.data())
def test_corrupt_saved_state(cls, data):
    detector = _make(cls)
    detector.update_many(_stream(cls))
    saved = detector.to_dict()
    state = saved["state"]
    key = data.draw(st.sampled_from(sorted(state)))
    current = state[key]
    replacement = data.draw(st.one_of(
        st.sampled_from([float("nan"), float("inf"), -1.0, 1e308, None, "x", [], {}, [[1.0]]]),
        st.lists(st.sampled_from([float("nan"), 0.0, -5.0, 1e300]), min_size=0, max_size=4)))
    corrupt = {**saved, "state": {**state, key: replacement}}
    # Replacing a value by an equal one is not corrupt; anything else may be refused or,
    # where the state allows that value, resumed — but never a crash, hang or NaN.
    must_fail = isinstance(replacement, (str, dict)) or replacement is None
    assert_clean(lambda: type(detector).from_dict(corrupt).update_many(_stream(cls, 20)),
                 ["data", "state", key], must_fail and replacement != current, f"{cls.__name__} state[{key}]")
