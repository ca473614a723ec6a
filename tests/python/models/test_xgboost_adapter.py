"""TreeEnsemble.from_model reproduces XGBoost's own margins (numeric, categorical, missing)."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.models import TreeEnsemble

xgb = pytest.importorskip("xgboost")

# XGBoost sums leaf values in float32; loopwise sums in float64. The difference is XGBoost's
# rounding: relative error <= 1e-6 of max(1, |margin|).
RTOL = 1e-6

OBJECTIVES = {
    "regression": {"objective": "reg:squarederror"},
    "binary": {"objective": "binary:logistic"},
    "multiclass": {"objective": "multi:softprob", "num_class": 3},
    "poisson": {"objective": "count:poisson"},
}


def _assert_margins_close(ours, theirs):
    theirs = np.asarray(theirs, dtype=np.float64).reshape(ours.shape)
    scale = np.maximum(1.0, np.abs(theirs))
    assert np.max(np.abs(ours - theirs) / scale) <= RTOL


@pytest.mark.parametrize("kind", list(OBJECTIVES))
def test_booster_with_categories_and_missing(kind, mixed_data):
    X, frame, targets = mixed_data
    y = np.abs(targets["regression"]) + 0.1 if kind == "poisson" else targets.get(kind, targets["regression"])
    data = xgb.DMatrix(frame, label=y, enable_categorical=True)
    params = {**OBJECTIVES[kind], "max_depth": 6, "max_cat_to_onehot": 1, "eta": 0.3}
    booster = xgb.train(params, data, num_boost_round=40)
    converted = TreeEnsemble.from_model(booster)
    _assert_margins_close(converted.decision_function(X), booster.predict(data, output_margin=True))
    if kind in ("binary", "multiclass"):
        proba = booster.predict(data)
        ours = converted.predict_proba(X)
        ours = ours[:, 1] if kind == "binary" else ours
        np.testing.assert_allclose(ours, proba, atol=2e-6)
        expected = (proba > 0.5).astype(int) if kind == "binary" else proba.argmax(axis=1)
        clear = np.abs(proba - 0.5) > 1e-5 if kind == "binary" else np.ptp(np.sort(proba, 1)[:, -2:], 1) > 1e-5
        np.testing.assert_array_equal(converted.predict(X)[clear], expected[clear])


def test_unseen_and_negative_categories_follow_xgboost(mixed_data):
    X, frame, targets = mixed_data
    data = xgb.DMatrix(frame, label=targets["regression"], enable_categorical=True)
    booster = xgb.train({"max_depth": 5, "max_cat_to_onehot": 1}, data, num_boost_round=10)
    converted = TreeEnsemble.from_model(booster)
    probe = np.nan_to_num(X[:300]).copy()
    probe[:100, 6] = 40.0
    probe[100:200, 7] = -2.0
    probe[200:, 6] = 3.7  # truncated to category 3
    theirs = booster.inplace_predict(probe, predict_type="margin")
    _assert_margins_close(converted.decision_function(probe), theirs)


@pytest.mark.parametrize("kind", ["regression", "binary", "multiclass"])
def test_sklearn_wrappers(kind, mixed_data):
    X, _, targets = mixed_data
    cls = xgb.XGBRegressor if kind == "regression" else xgb.XGBClassifier
    model = cls(n_estimators=30, max_depth=5).fit(X, targets[kind])
    converted = TreeEnsemble.from_model(model)
    margins = model.get_booster().predict(xgb.DMatrix(X), output_margin=True)
    _assert_margins_close(converted.decision_function(X), margins)
    if kind != "regression":
        np.testing.assert_allclose(converted.predict_proba(X), model.predict_proba(X), atol=2e-6)
        assert converted.classes == list(model.classes_)
        # Labels as XGBoost gives them, except where float32 rounding makes two classes tie.
        theirs = model.predict_proba(X)
        top2 = np.sort(theirs, axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > 1e-5
        assert clear.mean() > 0.99
        np.testing.assert_array_equal(converted.predict(X)[clear], model.predict(X)[clear])


def test_dart_and_forest_modes(mixed_data):
    X, _, targets = mixed_data
    data = xgb.DMatrix(X, label=targets["regression"])
    dart = xgb.train({"booster": "dart", "rate_drop": 0.2, "max_depth": 4}, data, num_boost_round=15)
    _assert_margins_close(TreeEnsemble.from_model(dart).decision_function(X), dart.predict(data, output_margin=True))
    forest = xgb.train({"num_parallel_tree": 8, "subsample": 0.7, "max_depth": 5}, data, num_boost_round=3)
    _assert_margins_close(TreeEnsemble.from_model(forest).decision_function(X), forest.predict(data, output_margin=True))


def test_feature_names_are_kept(mixed_data):
    _, frame, targets = mixed_data
    data = xgb.DMatrix(frame, label=targets["regression"], enable_categorical=True)
    booster = xgb.train({"max_depth": 3}, data, num_boost_round=3)
    assert TreeEnsemble.from_model(booster).feature_names == list(frame.columns)


def test_early_stopping_uses_best_iteration(mixed_data):
    X, _, targets = mixed_data
    model = xgb.XGBRegressor(n_estimators=200, max_depth=4, early_stopping_rounds=5, learning_rate=0.5)
    model.fit(X[:8000], targets["regression"][:8000], eval_set=[(X[8000:], targets["regression"][8000:])], verbose=False)
    assert model.best_iteration < 199
    converted = TreeEnsemble.from_model(model)
    _assert_margins_close(converted.decision_function(X), model.predict(X, output_margin=True))
