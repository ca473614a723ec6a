"""Generated hostile inputs for the drift tests and the table comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import loopwise.drift as drift
from _hostile_values import SWEEP, Hostile, assert_clean, matrices, numbers, vectors

NUMERIC_TESTS = [drift.ks, drift.cvm, drift.anderson, drift.wasserstein, drift.energy, drift.psi,
                 drift.jensen_shannon, drift.hellinger]
# These bin numbers and count categories: text is a valid (categorical) sample for them.
BINNED_TESTS = {drift.psi, drift.jensen_shannon, drift.hellinger}
CATEGORY_TESTS = [drift.chi2, drift.g_test]
COLUMNS = ["a", "b", "c"]


def _numbers_of(result):
    return (result.statistic, result.p_value)


def _sample(n, seed):
    return np.random.default_rng(seed).normal(size=n)


@SWEEP
@given(test=st.sampled_from(NUMERIC_TESTS), sample=vectors(min_size=1, allow_nan=True, allow_inf=False),
       side=st.sampled_from(["reference", "current"]))
def test_numeric_tests_on_hostile_samples(test, sample: Hostile, side):
    good = _sample(30, 1)
    args = (sample.value, good) if side == "reference" else (good, sample.value)
    invalid = sample.invalid
    if test in BINNED_TESTS and (" str " in sample.label or "object_str" in sample.label):
        invalid = "complex" in sample.label or sample.label.startswith("2d")  # text reads as categories
    values = np.asarray(sample.value, dtype=object).ravel() if not sample.invalid else None
    # NaN is dropped (documented); a sample left empty by that must be refused too.
    all_missing = values is not None and len(values) > 0 and pd.isna(values.astype(float)).all()
    assert_clean(lambda: _numbers_of(test(*args)), [side, "sample"], invalid or all_missing,
                 f"{test.__name__}({side}={sample.label})")


@SWEEP
@given(test=st.sampled_from(CATEGORY_TESTS), sample=vectors(min_size=1), side=st.sampled_from(["reference", "current"]))
def test_category_tests_on_hostile_samples(test, sample: Hostile, side):
    good = np.random.default_rng(2).integers(0, 3, 40)
    args = (sample.value, good) if side == "reference" else (good, sample.value)
    # Categories may be strings or numbers; only complex values and a second axis are wrong.
    label = sample.label
    must_fail = "complex" in label or label.startswith("2d") or "size=0" in label
    assert_clean(lambda: _numbers_of(test(*args)), [side, "sample", "categor"], must_fail, f"{test.__name__}({label})")


@SWEEP
@given(test=st.sampled_from([drift.psi, drift.jensen_shannon, drift.hellinger]), bins=numbers(2, drift.statistics.MAX_BINS, integer=True))
def test_binning_parameter(test, bins: Hostile):
    assert_clean(lambda: _numbers_of(test(_sample(50, 3), _sample(50, 4), bins=bins.value)), ["bins"], bins.invalid,
                 f"{test.__name__}(bins={bins.label})")


@SWEEP
@given(current=matrices(3, allow_nan=True, min_rows=1, frame_columns=COLUMNS))
def test_compare_on_hostile_current_tables(current: Hostile):
    reference = pd.DataFrame(np.random.default_rng(5).normal(size=(60, 3)), columns=COLUMNS)
    value = current.value
    # The reference has named columns: a current table must name the same ones, so a bare
    # array or list of the right width is read by position (valid) and a frame must match.
    assert_clean(lambda: drift.compare(reference, value).share_drifted, ["current", "column", "reference"],
                 current.invalid, f"compare(current={current.label})")


# The documented ranges: alpha (0, 1), drift_share (0, 1], missing_threshold [0, 1], psi_epsilon (0, 1].
COMPARE_RANGES = {"alpha": dict(low_open=True, high_open=True), "drift_share": dict(low_open=True),
                  "missing_threshold": {}, "psi_epsilon": dict(low_open=True)}


@SWEEP
@given(parameter=st.sampled_from(sorted(COMPARE_RANGES)), data=st.data())
def test_compare_parameters(parameter, data):
    value: Hostile = data.draw(numbers(0.0, 1.0, **COMPARE_RANGES[parameter]))
    reference = pd.DataFrame(np.random.default_rng(5).normal(size=(60, 3)), columns=COLUMNS)
    current = reference + 0.5
    assert_clean(lambda: drift.compare(reference, current, **{parameter: value.value}).share_drifted, [parameter],
                 value.invalid, f"compare({parameter}={value.label})")
