"""TreeSHAP against the source libraries' own contributions and against shap (test oracles from the
[test] extra: imported, never skipped).

XGBoost and LightGBM compute contributions in their own C++ (float32 leaves for XGBoost),
so agreement is checked to 1e-5 of the output scale; shap's TreeExplainer on scikit-learn
models works in float64 and is checked to 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeRegressor

from loopwise.explain import TreeExplainer


def _data(seed=0, n=400, m=6, missing=0.1):
    X, y = make_regression(n_samples=n, n_features=m, noise=0.5, random_state=seed)
    rng = np.random.default_rng(seed)
    X[rng.random(X.shape) < missing] = np.nan
    return X, y


def _close(got, expected, rel):
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(got, expected, atol=rel * scale, rtol=0)


# ----------------------------------------------------------------------------- xgboost
import xgboost as xgb  # noqa: E402


@pytest.mark.parametrize("objective", ["reg:squarederror", "binary:logistic", "multi:softprob"])
def test_xgboost_pred_contribs(objective):
    X, y = _data(1)
    params = {"objective": objective, "max_depth": 5, "eta": 0.3, "base_score": 0.5}
    if objective == "binary:logistic":
        y = (y > np.median(y)).astype(int)
    if objective == "multi:softprob":
        y = np.digitize(y, np.quantile(y, [0.33, 0.66]))
        params["num_class"] = 3
    booster = xgb.train(params, xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=30)
    contribs = booster.predict(xgb.DMatrix(X[:100], missing=np.nan), pred_contribs=True)
    explainer = TreeExplainer(booster)
    got = explainer.shap_values(X[:100])
    if objective == "multi:softprob":
        # xgboost: (n, k, m + 1); loopwise: (n, m, k)
        _close(got, np.transpose(contribs[:, :, :-1], (0, 2, 1)), 1e-5)
        _close(np.broadcast_to(explainer.expected_value, contribs[:, :, -1].shape), contribs[:, :, -1], 1e-5)
    else:
        _close(got, contribs[:, :-1], 1e-5)
        _close(np.full(100, explainer.expected_value), contribs[:, -1], 1e-5)


def test_xgboost_pred_interactions():
    X, y = _data(2, m=5)
    booster = xgb.train({"max_depth": 4, "eta": 0.3}, xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=20)
    expected = booster.predict(xgb.DMatrix(X[:40], missing=np.nan), pred_interactions=True)[:, :-1, :-1]
    got = TreeExplainer(booster).shap_interaction_values(X[:40])
    _close(got, expected, 1e-5)


def test_xgboost_sklearn_wrapper_with_categorical_splits():
    import pandas as pd
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=500), "b": pd.Categorical(rng.choice(list("pqrstu"), size=500))})
    y = frame["a"] + frame["b"].cat.codes.map({0: 0, 1: 3, 2: -2, 3: 1, 4: 0, 5: 4}).to_numpy()
    model = xgb.XGBRegressor(n_estimators=20, max_depth=3, enable_categorical=True, tree_method="hist",
                             max_cat_to_onehot=1).fit(frame, y)
    contribs = model.get_booster().predict(xgb.DMatrix(frame, enable_categorical=True), pred_contribs=True)
    _close(TreeExplainer(model).shap_values(frame), contribs[:, :-1], 1e-5)


# ----------------------------------------------------------------------------- lightgbm
import lightgbm as lgb  # noqa: E402


@pytest.mark.parametrize("objective", ["regression", "binary", "multiclass"])
def test_lightgbm_pred_contrib(objective):
    X, y = _data(4)
    params = {"objective": objective, "num_leaves": 15, "verbose": -1, "min_data_in_leaf": 5}
    if objective == "binary":
        y = (y > np.median(y)).astype(int)
    if objective == "multiclass":
        y = np.digitize(y, np.quantile(y, [0.33, 0.66]))
        params["num_class"] = 3
    booster = lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=25)
    contrib = booster.predict(X[:100], pred_contrib=True)
    got = TreeExplainer(booster).shap_values(X[:100])
    m = X.shape[1]
    if objective == "multiclass":
        # lightgbm: (n, k * (m + 1)) in class blocks
        expected = np.stack([contrib[:, c * (m + 1): c * (m + 1) + m] for c in range(3)], axis=2)
        _close(got, expected, 1e-5)
    else:
        _close(got, contrib[:, :m], 1e-5)


# ----------------------------------------------------------------------------- shap on sklearn
import shap  # noqa: E402


@pytest.mark.parametrize(
    "model",
    [
        DecisionTreeRegressor(max_depth=8, random_state=0),
        RandomForestRegressor(n_estimators=15, max_depth=7, random_state=0),
        GradientBoostingRegressor(n_estimators=30, max_depth=4, random_state=0),
    ],
    ids=lambda model: type(model).__name__,
)
def test_sklearn_regressors_match_shap(model):
    X, y = make_regression(n_samples=300, n_features=7, random_state=5)
    model.fit(X, y)
    expected = shap.TreeExplainer(model).shap_values(X[:60])
    got = TreeExplainer(model).shap_values(X[:60])
    _close(got, expected, 1e-6)


def test_sklearn_classifier_matches_shap_per_class():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=6)
    model = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0).fit(X, y)
    expected = np.asarray(shap.TreeExplainer(model).shap_values(X[:50]))
    if expected.ndim == 3 and expected.shape[0] == 3:  # older shap: list of per-class arrays
        expected = np.transpose(expected, (1, 2, 0))
    _close(TreeExplainer(model).shap_values(X[:50]), expected, 1e-6)


def test_sklearn_interventional_matches_shap():
    X, y = make_regression(n_samples=300, n_features=6, random_state=7)
    model = GradientBoostingRegressor(n_estimators=25, max_depth=3, random_state=0).fit(X, y)
    background = X[:50]
    expected = shap.TreeExplainer(model, background, feature_perturbation="interventional").shap_values(X[100:140])
    got = TreeExplainer(model, background).shap_values(X[100:140])
    _close(got, expected, 1e-6)


def test_sklearn_interactions_match_shap():
    X, y = make_regression(n_samples=200, n_features=5, random_state=8)
    model = RandomForestRegressor(n_estimators=8, max_depth=5, random_state=0).fit(X, y)
    expected = shap.TreeExplainer(model).shap_interaction_values(X[:20])
    _close(TreeExplainer(model).shap_interaction_values(X[:20]), expected, 1e-6)
