"""Generated hostile inputs for the explainers: rows to explain, backgrounds, parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression

from _hostile_values import SWEEP, Hostile, assert_clean, matrices, numbers
from loopwise.explain import KernelExplainer, LinearExplainer, TreeExplainer

COLUMNS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 3)), columns=COLUMNS)
    y = X["a"] - 2 * X["b"] + rng.normal(scale=0.1, size=80)
    forest = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    logistic = LogisticRegression().fit(X, y > 0)
    return X, forest, logistic


@SWEEP
@given(X=matrices(3, allow_nan=True, allow_inf=True, min_rows=1, frame_columns=COLUMNS),
       perturbation=st.sampled_from(["tree_path_dependent", "interventional"]))
def test_tree_explainer_rows(fitted, X: Hostile, perturbation):
    data, forest, _ = fitted
    background = data.iloc[:20] if perturbation == "interventional" else None
    explainer = TreeExplainer(forest, background, feature_perturbation=perturbation)
    # Trees route a missing value; NaN rows are valid. ±inf may be refused (clearly) or routed.
    assert_clean(lambda: explainer(X.value).values, ["X", "feature", "column"], X.invalid,
                 f"TreeExplainer[{perturbation}]({X.label})")


@SWEEP
@given(background=matrices(3, allow_nan=True, allow_inf=True, min_rows=1, frame_columns=COLUMNS))
def test_tree_explainer_background(fitted, background: Hostile):
    data, forest, _ = fitted
    # Background rows with missing values follow the trees' missing-value routes: valid.
    assert_clean(lambda: TreeExplainer(forest, background.value, feature_perturbation="interventional")(
        data.iloc[:2]).values, ["data", "background", "X", "feature", "column"], background.invalid,
        f"TreeExplainer(background={background.label})")


@SWEEP
@given(X=matrices(3, allow_nan=False, min_rows=1, frame_columns=COLUMNS))
def test_linear_explainer_rows(fitted, X: Hostile):
    data, _, logistic = fitted
    explainer = LinearExplainer(logistic, data.iloc[:30])
    assert_clean(lambda: explainer(X.value).values, ["X", "feature", "column"], X.invalid,
                 f"LinearExplainer({X.label})")


@SWEEP
@given(X=matrices(3, allow_nan=True, min_rows=1), n_samples=numbers(1, 4096, integer=True))
def test_kernel_explainer_rows_and_budget(fitted, X: Hostile, n_samples: Hostile):
    data, forest, _ = fitted
    # A bare callable and an unnamed background: any column names are read by position, and
    # whether a missing value is valid is the model's business (this forest routes NaN).
    explainer = KernelExplainer(lambda rows: forest.predict(pd.DataFrame(rows, columns=COLUMNS)),
                                data.iloc[:8].to_numpy(), random_state=0)
    # A budget below what M = 3 needs may be raised to the exact enumeration or refused.
    assert_clean(lambda: explainer(X.value, nsamples=n_samples.value).values, ["X", "nsamples", "feature"],
                 X.invalid or n_samples.invalid, f"KernelExplainer({X.label}, nsamples={n_samples.label})")
