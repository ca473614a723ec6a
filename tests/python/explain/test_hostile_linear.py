"""Hostile inputs for the explainers' input paths: never a crash, hang or silent NaN; errors
name the argument. LinearExplainer refuses NaN/inf rows (a linear model has no missing-value
rule) instead of returning NaN/-inf attributions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LinearRegression

import hostile
from loopwise.explain import LinearExplainer, TreeExplainer


def _setup():
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])  # named: bad names must fail
    y = X.to_numpy() @ [1.0, -2.0, 0.5]
    linear = LinearExplainer(LinearRegression().fit(X, y), X)
    tree = TreeExplainer(GradientBoostingRegressor(n_estimators=5, random_state=0).fit(X, y))
    return X, linear, tree


def sweep_cases():
    X, linear, tree = _setup()
    entries = []
    for label, bad in hostile.hostile_matrices(3).items():
        entries.append((f"linear[X={label}]", lambda b=bad: linear(b).values, ["X", "column"],
                        label in hostile.INVALID))
        entries.append((f"tree.shap_values[X={label}]", lambda b=bad: tree.shap_values(b), ["X", "column"],
                        label in hostile.INVALID - {"nan", "inf", "-inf"}))
    for label, bad in hostile.hostile_matrices(3).items():
        if label in ("ok", "one_row", "1e308", "-1e308", "all_1e308"):
            continue
        entries.append((f"linear(background={label})",
                        lambda b=bad: LinearExplainer(LinearRegression().fit(X, X["a"]), b).expected_value,
                        ["background", "column", "data"], label in hostile.INVALID - {"bad_names"}))
    return hostile.cases_from(entries)


@pytest.fixture(scope="module")
def sweep():
    return hostile.run_sweep(__file__, "sweep_cases", timeout=120)


def test_sweep_has_no_crash_hang_nan_or_unclear_error(sweep):
    bad = {name: result for name, result in sweep.items() if result[0] not in ("clean", "result")}
    assert len(sweep) > 50, hostile.summary(sweep)
    assert not bad, "\n".join(f"{k}: {v}" for k, v in sorted(bad.items())[:40])


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_linear_explainer_refuses_non_finite_rows(value):
    X, linear, _ = _setup()
    row = X.to_numpy()[:2].copy()
    row[1, 2] = value
    with pytest.raises(ValueError, match="X"):
        linear(row)


def test_linear_explainer_values_match_the_closed_form():
    # Oracle: phi_j = w_j (x_j - mean_j), computed independently here.
    X, linear, _ = _setup()
    values = X.to_numpy()
    model = LinearRegression().fit(values, values @ [1.0, -2.0, 0.5])
    expected = (values[:5] - values.mean(axis=0)) * model.coef_
    np.testing.assert_allclose(linear(X[:5]).values, expected, atol=1e-9)
