"""The one scalar-parameter check (loopwise._params.Interval): what it accepts and refuses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from loopwise._params import Interval, check_params


@pytest.mark.parametrize("value", [0.5, 1e-300, np.float32(0.25), np.float64(0.999)])
def test_open_unit_interval_accepts_inside(value):
    assert Interval(0.0, 1.0, closed="neither").check("alpha", value) == value


@pytest.mark.parametrize("value, error", [
    (0.0, ValueError), (1.0, ValueError), (-0.1, ValueError), (math.nan, ValueError), (math.inf, ValueError),
    (True, TypeError), ("0.5", TypeError), (None, TypeError), (0.5j, TypeError), ([0.5], TypeError),
])
def test_open_unit_interval_refuses_with_the_name_and_range(value, error):
    with pytest.raises(error, match=r"alpha must be a real number in \(0, 1\)"):
        Interval(0.0, 1.0, closed="neither").check("alpha", value)


@pytest.mark.parametrize("closed, low_ok, high_ok", [("both", True, True), ("left", True, False),
                                                     ("right", False, True), ("neither", False, False)])
def test_closed_ends(closed, low_ok, high_ok):
    interval = Interval(2, 5, closed=closed)
    for value, ok in ((2, low_ok), (5, high_ok), (3.5, True), (1.99, False), (5.01, False)):
        if ok:
            assert interval.check("x", value) == value
        else:
            with pytest.raises(ValueError, match="x must be"):
                interval.check("x", value)


def test_integer_interval_refuses_floats_and_bools_and_accepts_numpy_ints():
    bins = Interval(2, None, integer=True)
    assert bins.check("bins", np.int64(7)) == 7
    assert bins.check("bins", 2**70) == 2**70  # unbounded above: any Python int
    for bad in (7.0, True, "7"):
        with pytest.raises(TypeError, match=r"bins must be an integer in \[2, inf\)"):
            bins.check("bins", bad)
    with pytest.raises(ValueError, match="got 1"):
        bins.check("bins", 1)


def test_unbounded_real_refuses_only_non_finite():
    anything = Interval()
    assert anything.check("shift", -1e308) == -1e308
    with pytest.raises(ValueError, match="shift must be a finite real number"):
        anything.check("shift", -math.inf)


def test_check_params_reports_the_first_bad_parameter_by_name():
    check_params(alpha=(Interval(0, 1), 0.1), bins=(Interval(2, None, integer=True), 3))
    with pytest.raises(ValueError, match="bins must be"):
        check_params(alpha=(Interval(0, 1), 0.1), bins=(Interval(2, None, integer=True), 1))
