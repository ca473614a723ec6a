"""Shapley axioms, deep-tree stability, thread determinism and bad inputs for TreeExplainer."""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_regression
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeRegressor

from loopwise.explain import TreeExplainer
from loopwise.models import TreeEnsemble


@pytest.fixture(scope="module")
def forest():
    X, y = make_regression(n_samples=600, n_features=8, random_state=0)
    return X, RandomForestRegressor(n_estimators=30, max_depth=8, random_state=0).fit(X, y)


# ----------------------------------------------------------------------------- axioms
def test_efficiency_and_interaction_rows_sum_to_values(forest):
    X, model = forest
    explainer = TreeExplainer(model)
    values = explainer.shap_values(X[:50])
    np.testing.assert_allclose(values.sum(1) + explainer.expected_value, model.predict(X[:50]), atol=1e-9)
    interactions = explainer.shap_interaction_values(X[:10])
    np.testing.assert_allclose(interactions.sum(2), values[:10], atol=1e-9)


def test_dummy_feature_gets_exactly_zero():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = X[:, 0] - 2 * X[:, 2]
    X[:, 1] = 0.0  # constant: no tree can split on it
    model = RandomForestRegressor(n_estimators=10, max_depth=6, random_state=0).fit(X, y)
    values = TreeExplainer(model).shap_values(X[:30])
    assert np.all(values[:, 1] == 0.0)
    background_values = TreeExplainer(model, X[:40]).shap_values(X[:30])
    assert np.all(background_values[:, 1] == 0.0)


def test_symmetry_of_interchangeable_features():
    # f = 1[x0 > 0] * 1[x1 > 0] is symmetric in x0 and x1; with a background that is
    # symmetric under swapping the two columns, the two attributions must be equal.
    grid = np.array([[a, b] for a in (-1.0, 1.0) for b in (-1.0, 1.0)])
    y = ((grid[:, 0] > 0) & (grid[:, 1] > 0)).astype(float)
    model = DecisionTreeRegressor().fit(np.repeat(grid, 5, axis=0), np.repeat(y, 5))
    values = TreeExplainer(model, grid).shap_values(np.array([[1.0, 1.0], [-1.0, -1.0]]))
    np.testing.assert_allclose(values[:, 0], values[:, 1], atol=1e-12)
    np.testing.assert_allclose(values[0].sum(), 1.0 - y.mean(), atol=1e-12)


# ----------------------------------------------------------------------------- deep trees
def _chain_tree(depth, n_features, seed):
    """A chain of ``depth`` splits (each right child splits again): depth >= 40 is where
    classic TreeSHAP's unwinding divisions lose additivity."""
    rng = np.random.default_rng(seed)
    feature, threshold, left, right, cover, value = [], [], [], [], [], []
    total = 1e6
    for level in range(depth):
        node = len(feature)
        feature += [int(rng.integers(n_features)), -1]
        threshold += [float(rng.normal(scale=0.3)), 0.0]
        left += [node + 1, 0]
        right += [node + 2, 0]
        leaf_cover = total * rng.uniform(0.05, 0.3)
        cover += [total, leaf_cover]
        value += [0.0, float(rng.normal())]
        total -= leaf_cover
    feature.append(-1)
    threshold.append(0.0)
    left.append(0)
    right.append(0)
    cover.append(total)
    value.append(float(rng.normal()))
    n = len(feature)
    fields = {
        "tree_offsets": [0, n], "tree_output": [-1], "feature": feature, "threshold": threshold, "left": left,
        "right": right, "default_left": [0] * n, "missing_rule": [0] * n, "cover": cover, "value": value,
        "cat_node": [], "cat_left_ptr": [0], "cat_left": [], "cat_right_ptr": [0], "cat_right": [],
        "cat_other_left": [], "base_score": [0.0], "n_features": n_features, "n_outputs": 1, "comparison": 0,
        "float32_inputs": False, "category_cast": 0, "link": 0, "link_scale": 1.0,
    }
    return TreeEnsemble(fields), fields


def _brute_force_path_dependent(fields, x, m):
    def expectation(node, coalition):
        f = fields["feature"][node]
        if f < 0:
            return fields["value"][node]
        l, r = fields["left"][node], fields["right"][node]
        if f in coalition:
            return expectation(l if x[f] <= fields["threshold"][node] else r, coalition)
        c = fields["cover"][node]
        return (fields["cover"][l] * expectation(l, coalition) + fields["cover"][r] * expectation(r, coalition)) / c

    phi = np.zeros(m)
    for j in range(m):
        others = [k for k in range(m) if k != j]
        for size in range(m):
            weight = factorial(size) * factorial(m - size - 1) / factorial(m)
            for subset in itertools.combinations(others, size):
                s = set(subset)
                phi[j] += weight * (expectation(0, s | {j}) - expectation(0, s))
    return phi


@pytest.mark.parametrize("depth", [40, 64, 300])  # 300: past the edge-table limit (depth 128)
def test_deep_trees_stay_exact_and_additive(depth):
    m = 6
    ensemble, fields = _chain_tree(depth, m, seed=depth)
    X = np.random.default_rng(depth).normal(scale=0.3, size=(20, m))
    explainer = TreeExplainer(ensemble)
    values = explainer.shap_values(X)
    gap = np.abs(values.sum(1) + explainer.expected_value - ensemble.predict(X))
    assert gap.max() <= 1e-8, gap.max()
    for i in range(3):
        np.testing.assert_allclose(values[i], _brute_force_path_dependent(fields, X[i], m), atol=1e-9, rtol=0)


# ----------------------------------------------------------------------------- threads
def test_results_are_bit_identical_for_any_n_jobs(forest):
    X, model = forest
    rows = X[:300]
    one = TreeExplainer(model, n_jobs=1)
    two = TreeExplainer(model, n_jobs=2)
    assert np.array_equal(one.shap_values(rows), two.shap_values(rows))
    assert np.array_equal(one.shap_interaction_values(rows[:30]), two.shap_interaction_values(rows[:30]))
    a = TreeExplainer(model, X[:30], n_jobs=1).shap_values(rows[:100])
    b = TreeExplainer(model, X[:30], n_jobs=2).shap_values(rows[:100])
    assert np.array_equal(a, b)


def test_probability_output_for_a_classifier_adds_up_to_predict_proba():
    X, y = make_regression(n_samples=400, n_features=5, random_state=3)
    labels = (y > 0).astype(int)
    model = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X, labels)
    explainer = TreeExplainer(model, X[:50], model_output="probability")
    values = explainer.shap_values(X[:40])
    np.testing.assert_allclose(values.sum(1) + explainer.expected_value, model.predict_proba(X[:40])[:, 1], atol=1e-9)


# ----------------------------------------------------------------------------- bad inputs
def test_bad_inputs(forest):
    X, model = forest
    explainer = TreeExplainer(model)
    with pytest.raises(ValueError, match="feature"):
        explainer.shap_values(X[:5, :4])
    with pytest.raises(ValueError, match="0 rows|empty|no rows"):
        explainer.shap_values(X[:0])
    with pytest.raises(ValueError, match="feature_perturbation"):
        TreeExplainer(model, feature_perturbation="marginal")
    with pytest.raises(ValueError, match="model_output"):
        TreeExplainer(model, model_output="log_odds")
    with pytest.raises(ValueError, match="background"):
        TreeExplainer(model, feature_perturbation="interventional")
    with pytest.raises(ValueError, match="n_jobs"):
        TreeExplainer(model, n_jobs=0)
    with pytest.raises(ValueError, match="interaction"):
        TreeExplainer(model, X[:10]).shap_interaction_values(X[:2])
    with pytest.raises(ValueError, match="only meaningful for classifiers"):
        TreeExplainer(model, X[:10], model_output="probability")
    with pytest.raises(TypeError):
        TreeExplainer(object())


def test_wrong_feature_names_and_nan_without_missing_routing():
    X, y = make_regression(n_samples=200, n_features=3, random_state=4)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0).fit(frame, y > 0)
    explainer = TreeExplainer(model)
    with pytest.raises(ValueError, match="b|names"):
        explainer.shap_values(frame.rename(columns={"b": "z"}))
    reordered = explainer.shap_values(frame[["c", "a", "b"]].iloc[:5])
    np.testing.assert_array_equal(reordered, explainer.shap_values(frame.iloc[:5]))
    # GradientBoostingClassifier has no missing-value routing: NaN must be refused.
    assert not TreeEnsemble.from_model(model).supports_missing
    bad = X[:3].copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN|missing"):
        explainer.shap_values(bad)
