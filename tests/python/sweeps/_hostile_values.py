"""Hypothesis strategies for hostile inputs, and the one property every sweep asserts.

Each generated value carries whether a correct library must refuse it, so a return value for
such an input counts as a silent bad result. The outcomes come from ``hostile.classify``: a
clear error (ValueError/TypeError naming the argument) or a clean result pass; an unclear
error, a NaN in a result, or a result where a refusal was due fail, and so does a call still
running after ``HANG_SECONDS`` (an alarm interrupts it). A crash, or a hang inside C code
that the alarm cannot interrupt, ends the process with every thread's stack dumped, so CI
fails on the case instead of waiting out the job.
"""

from __future__ import annotations

import faulthandler
import math
import signal
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import hostile

HANG_SECONDS = 60.0

# Deterministic in CI (the same examples every run, so a failure reproduces), thorough enough
# to reach thousands of calls across the areas within a few minutes.
SWEEP = settings(max_examples=int(__import__("os").environ.get("LOOPWISE_SWEEP_EXAMPLES", "300")), deadline=None,
                 derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class _Hang(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` in the code under
    test can swallow it."""


def _raise_hang(signum: int, frame: Any) -> None:
    raise _Hang()


@dataclass(frozen=True)
class Hostile:
    """A generated argument value, a short label for reports, and whether it must be refused."""

    value: Any
    label: str
    invalid: bool


def assert_clean(call: Callable[[], Any], names: Sequence[str], must_fail: bool, label: str = "") -> str:
    """Run ``call``; fail unless it raised a clear error naming one of ``names`` or returned a
    clean value (and, when ``must_fail``, unless it raised). Returns the outcome."""
    # A hang in Python code is interrupted by an alarm and fails this test alone; one inside
    # C code (the alarm waits for the interpreter) ends the process after twice the time, with
    # every thread's stack dumped, rather than stalling CI.
    faulthandler.dump_traceback_later(2 * HANG_SECONDS, exit=True)
    previous = signal.signal(signal.SIGALRM, _raise_hang)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome, detail = hostile.classify((call, list(names), must_fail))
    except _Hang:
        outcome, detail = "hang", f"still running after {HANG_SECONDS:.0f} s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()
    assert outcome in ("clean", "result"), f"{outcome} for {label}: {detail}"
    return outcome


# ------------------------------------------------------------------------------- scalars
_BAD_FLOATS = [math.nan, math.inf, -math.inf]


def numbers(low: float = -math.inf, high: float = math.inf, *, integer: bool = False, low_open: bool = False,
            high_open: bool = False) -> st.SearchStrategy[Hostile]:
    """Values for a numeric parameter whose valid range is [low, high] (ends optionally open;
    the default: any finite number).

    Mixes valid values, values just outside, non-finite floats, huge ints, complex numbers,
    strings, None, booleans and containers."""

    def valid(x: Any) -> bool:
        if isinstance(x, bool):
            return True  # a bool is an int to Python; accepting one is not a silent bad result
        if not isinstance(x, (int, float, np.integer, np.floating)):
            return False
        if integer and not isinstance(x, (int, np.integer)):
            return False
        if not math.isfinite(float(x)) or (integer and abs(x) > 2**53):
            return False
        above = x > low if low_open else x >= low
        below = x < high if high_open else x <= high
        return above and below

    finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
    inside = (st.integers(int(max(low, -2**31)), int(min(high, 2**31))) if integer
              else st.floats(low, high, allow_nan=False, allow_infinity=False, exclude_min=low_open,
                             exclude_max=high_open))
    raw = st.one_of(
        inside, inside, finite, st.integers(-2**80, 2**80), st.sampled_from(_BAD_FLOATS),
        st.complex_numbers(allow_nan=False, max_magnitude=10), st.text(max_size=3), st.none(), st.booleans(),
        st.lists(st.floats(0, 1), max_size=2), st.sampled_from([np.float32(0.5), np.int64(3), np.float64(1e308)]),
    )
    return raw.map(lambda x: Hostile(x, repr(x)[:60], not valid(x)))


# ------------------------------------------------------------------------------- arrays
_DTYPES = ["float64", "float32", "int64", "int8", "uint8", "bool", "complex128", "object_str", "object_none",
           "object_num", "str", "datetime64[ns]"]
_NUMERIC = {"float64", "float32", "int64", "int8", "uint8", "bool", "object_num"}


@st.composite
def matrices(draw: st.DrawFn, n_features: int, *, allow_nan: bool = True, min_rows: int = 1,
             allow_inf: bool = False, frame_columns: Sequence[str] | None = None) -> Hostile:
    """An (n, n_features) input and its variants: other widths and ranks, every dtype, NaN,
    ±inf, ±1e308, as numpy arrays, lists or DataFrames (with right or wrong column names).

    ``allow_nan``: a NaN is a valid input (missing value); ``allow_inf`` likewise for ±inf;
    ``min_rows``: fewer rows must be refused."""
    rows = draw(st.integers(0, 6))
    width = draw(st.sampled_from([n_features] * 4 + [max(n_features - 1, 0), n_features + 1]))
    ndim = draw(st.sampled_from([2] * 6 + [1, 3]))
    dtype = draw(st.sampled_from(_DTYPES[:3] * 3 + _DTYPES))
    values = np.asarray(draw(st.lists(st.floats(-5, 5), min_size=rows * width, max_size=rows * width)),
                        dtype=float).reshape(rows, width)
    special = draw(st.sampled_from([None] * 4 + [math.nan, math.inf, -math.inf, 1e308, -1e308]))
    if special is not None and values.size:
        values[draw(st.integers(0, rows - 1)), draw(st.integers(0, width - 1))] = special
    # None in an object array is a missing value: valid exactly when NaN is (checked below).
    invalid = width != n_features or ndim != 2 or rows < min_rows or dtype not in _NUMERIC | {"object_none"}
    if special is not None and values.size and dtype in ("float64", "float32", "object_num", "complex128"):
        if math.isnan(special):
            invalid |= not allow_nan
        elif math.isinf(special) or (dtype == "float32" and abs(special) > 3e38):
            invalid |= not allow_inf
    array: Any
    if dtype == "object_str":
        array = np.full((rows, width), "a", dtype=object)
    elif dtype == "object_none":
        array = np.full((rows, width), None, dtype=object)
        invalid |= rows > 0 and width > 0 and not allow_nan
    elif dtype == "object_num":
        array = values.astype(object)
    elif dtype == "str":
        array = values.astype(str)
    elif dtype == "datetime64[ns]":
        array = np.zeros((rows, width), dtype="datetime64[ns]")
    elif dtype in ("int64", "int8", "uint8", "bool"):
        array = np.nan_to_num(values, nan=0, posinf=0, neginf=0).clip(0, 100).astype(dtype)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            array = values.astype(dtype)
    if dtype == "complex128":
        array = array + 1j
    if ndim == 1:
        array = array.reshape(-1)
    elif ndim == 3:
        array = array[None]
    container = draw(st.sampled_from(["numpy"] * 3 + ["list", "frame"]))
    if container == "list" and dtype == "datetime64[ns]":
        container = "numpy"  # tolist() turns nanosecond timestamps into plain ints
    if container == "list" and ndim == 2:
        array = array.tolist()
    elif container == "frame" and ndim == 2:
        names = list(frame_columns) if frame_columns is not None else [f"x{j}" for j in range(n_features)]
        if draw(st.booleans()) or width != n_features:
            names = [f"zz{j}" for j in range(width)]
            invalid |= frame_columns is not None
        array = pd.DataFrame(array, columns=names[:width] if width <= len(names) else None)
    label = f"{container} {dtype} ndim={ndim} rows={rows} width={width} special={special}"
    return Hostile(array, label, invalid)


@st.composite
def vectors(draw: st.DrawFn, *, min_size: int = 1, allow_nan: bool = True, allow_inf: bool = False) -> Hostile:
    """A 1-d numeric sample and its variants: 2-d, every dtype, NaN, ±inf, ±1e308, too short."""
    size = draw(st.integers(0, 12))
    values = np.asarray(draw(st.lists(st.floats(-5, 5), min_size=size, max_size=size)), dtype=float)
    special = draw(st.sampled_from([None] * 4 + [math.nan, math.inf, -math.inf, 1e308]))
    if special is not None and size:
        values[draw(st.integers(0, size - 1))] = special
    dtype = draw(st.sampled_from(["float64"] * 6 + ["int64", "float32", "complex128", "object_str", "object_num",
                                                    "bool", "str"]))
    shape = draw(st.sampled_from(["1d"] * 6 + ["2d", "column"]))
    invalid = size < min_size or dtype in ("complex128", "object_str", "str") or shape == "2d"
    if special is not None and size and dtype in ("float64", "float32", "object_num"):
        invalid |= (not allow_nan) if math.isnan(special) else (not allow_inf and (math.isinf(special) or (
            dtype == "float32" and abs(special) > 3e38)))
    if dtype in ("int64", "bool"):
        array: Any = np.nan_to_num(values, nan=0, posinf=0, neginf=0).astype(dtype)
    elif dtype == "complex128":
        array = values + 1j
    elif dtype == "object_str":
        array = np.full(size, "a", dtype=object)
    elif dtype == "object_num":
        array = values.astype(object)
    elif dtype == "str":
        array = values.astype(str)
    else:
        with np.errstate(over="ignore"):
            array = values.astype(dtype)
    if shape == "2d":
        array = np.stack([array, array])
    elif shape == "column":
        array = pd.Series(array, name="x")
    return Hostile(array, f"{shape} {dtype} size={size} special={special}", invalid)
