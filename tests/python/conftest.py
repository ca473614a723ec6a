"""Shared, seeded data for the Python tests (nothing is downloaded)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

# Shared test helpers (realistic_frame.py) live next to this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def make_mixed_data(n_rows: int = 10_000, seed: int = 0, nan_rate: float = 0.08):
    """Numeric and integer-coded categorical columns with missing values, plus targets.

    Returns X (ndarray, categories as float codes, NaN for missing), a DataFrame with
    pandas categoricals for the last two columns, and regression/binary/3-class targets.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 8))
    X[:, 6] = rng.integers(0, 12, n_rows)
    X[:, 7] = rng.integers(0, 5, n_rows)
    signal = 2.0 * X[:, 0] - X[:, 1] * X[:, 2] + (X[:, 6] % 3) - 0.5 * (X[:, 7] == 2)
    X[rng.random(X.shape) < nan_rate] = np.nan
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    for column, n_categories in (("f6", 12), ("f7", 5)):
        codes = np.nan_to_num(frame[column].to_numpy(), nan=-1).astype(int)
        frame[column] = pd.Categorical.from_codes(codes, categories=list(range(n_categories)))
    y_reg = signal + rng.normal(scale=0.3, size=n_rows)
    y_bin = (y_reg > np.median(y_reg)).astype(int)
    y_multi = np.digitize(y_reg, np.quantile(y_reg, [0.33, 0.66]))
    return X, frame, {"regression": y_reg, "binary": y_bin, "multiclass": y_multi}


@pytest.fixture(scope="session")
def mixed_data():
    return make_mixed_data()


@pytest.fixture(scope="session")
def realistic():
    """A mixed-dtype user frame and a fitted preprocessing + gradient boosting Pipeline."""
    from realistic_frame import make_realistic

    return make_realistic()


# Under CI every test must run. A skip there almost always means a test extra, a server or a
# browser did not get installed, which would let a whole area pass untested; so in CI a skip
# fails the run, except a skip whose reason starts with NOT_APPLICABLE (the test does not apply
# to this case, e.g. this scikit-learn version cannot fit the model at all).
NOT_APPLICABLE = "not applicable:"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not _in_ci() or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if reason.removeprefix("Skipped: ").startswith(NOT_APPLICABLE):
        return
    report.outcome = "failed"
    report.longrepr = (f"skipped under CI=true, which must run every test: {reason}\n"
                       f"install what the test needs (scripts/test.sh does), or, if the test "
                       f"cannot apply here, skip with a reason starting {NOT_APPLICABLE!r}")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    # A module-level importorskip skips the whole file at collection; the same rule applies.
    outcome = yield
    report = outcome.get_result()
    if not _in_ci() or not report.skipped:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if reason.removeprefix("Skipped: ").startswith(NOT_APPLICABLE):
        return
    report.outcome = "failed"
    report.longrepr = f"collection skipped under CI=true, which must run every test: {reason}"
