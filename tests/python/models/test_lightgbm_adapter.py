"""TreeEnsemble.from_model reproduces LightGBM's own predictions."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.models import TreeEnsemble

lgb = pytest.importorskip("lightgbm")

PARAMS = {
    "regression": {"objective": "regression"},
    "binary": {"objective": "binary"},
    "multiclass": {"objective": "multiclass", "num_class": 3},
    "multiclassova": {"objective": "multiclassova", "num_class": 3},
    "poisson": {"objective": "poisson"},
}


def _target(kind, targets):
    if kind == "poisson":
        return np.abs(targets["regression"]) + 0.1
    if kind == "multiclassova":
        return targets["multiclass"]
    return targets[kind]


@pytest.mark.parametrize("kind", list(PARAMS))
@pytest.mark.parametrize("missing", ["nan", "zero", "none"])
def test_booster_with_categories_and_missing(kind, missing, mixed_data):
    X, frame, targets = mixed_data
    params = {**PARAMS[kind], "verbose": -1, "num_leaves": 31, "min_data_per_group": 20, "cat_smooth": 1.0}
    if missing == "zero":
        params["zero_as_missing"] = True
    if missing == "none":
        params["use_missing"] = False
    booster = lgb.train(params, lgb.Dataset(frame, label=_target(kind, targets)), num_boost_round=30)
    converted = TreeEnsemble.from_model(booster)
    np.testing.assert_allclose(
        converted.decision_function(frame), booster.predict(frame, raw_score=True), rtol=1e-9, atol=1e-12
    )
    # Raw float input (categories as codes, NaN for missing) gives the same numbers.
    np.testing.assert_allclose(converted.decision_function(X), booster.predict(X, raw_score=True), rtol=1e-9, atol=1e-12)
    if kind in ("binary", "multiclass", "multiclassova"):
        ours = converted.predict_proba(X)
        ours = ours[:, 1] if kind == "binary" else ours
        np.testing.assert_allclose(ours, booster.predict(X), rtol=1e-9, atol=1e-12)
        # A Booster holds no class labels: predict gives the index of the likeliest class.
        theirs = booster.predict(X)
        expected = (theirs > 0.5).astype(int) if kind == "binary" else theirs.argmax(axis=1)
        np.testing.assert_array_equal(converted.predict(X), expected)


def test_unseen_and_negative_categories_follow_lightgbm(mixed_data):
    X, frame, targets = mixed_data
    booster = lgb.train(
        {"objective": "regression", "verbose": -1}, lgb.Dataset(X, label=targets["regression"], categorical_feature=[6, 7]), 20
    )
    converted = TreeEnsemble.from_model(booster)
    probe = X[:300].copy()
    probe[:100, 6] = 40.0
    probe[100:200, 7] = -2.0
    probe[200:, 6] = 2.9
    np.testing.assert_allclose(converted.decision_function(probe), booster.predict(probe, raw_score=True), rtol=1e-9, atol=1e-12)


def test_random_forest_mode_matches_averaged_prediction(mixed_data):
    """LightGBM's raw_score in RF mode is an un-averaged sum; its predict() averages.
    loopwise's raw margin is the averaged one, the quantity the model predicts."""
    X, _, targets = mixed_data
    params = {"objective": "regression", "boosting": "rf", "bagging_fraction": 0.6, "bagging_freq": 1, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(X, label=targets["regression"]), num_boost_round=15)
    np.testing.assert_allclose(TreeEnsemble.from_model(booster).decision_function(X), booster.predict(X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", ["regression", "binary", "multiclass"])
def test_sklearn_wrappers(kind, mixed_data):
    X, _, targets = mixed_data
    cls = lgb.LGBMRegressor if kind == "regression" else lgb.LGBMClassifier
    model = cls(n_estimators=25, num_leaves=15, verbose=-1).fit(X, targets[kind])
    converted = TreeEnsemble.from_model(model)
    np.testing.assert_allclose(converted.decision_function(X), model.predict(X, raw_score=True), rtol=1e-9, atol=1e-12)
    if kind != "regression":
        np.testing.assert_allclose(converted.predict_proba(X), model.predict_proba(X), rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(converted.predict(X), model.predict(X))
