"""TreeEnsemble.from_model reproduces scikit-learn's own predictions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import ensemble, tree

from loopwise.models import TreeEnsemble

NAN_MODELS = [
    lambda: tree.DecisionTreeRegressor(max_depth=12, random_state=0),
    lambda: tree.DecisionTreeClassifier(max_depth=12, random_state=0),
    lambda: ensemble.RandomForestRegressor(n_estimators=30, max_depth=10, random_state=0),
    lambda: ensemble.RandomForestClassifier(n_estimators=30, max_depth=10, random_state=0),
    lambda: ensemble.ExtraTreesRegressor(n_estimators=20, max_depth=10, random_state=0),
    lambda: ensemble.ExtraTreesClassifier(n_estimators=20, max_depth=10, random_state=0),
]


def _reference(model, X):
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


def _ours(ensemble_, X):
    return ensemble_.predict_proba(X) if ensemble_.task != "regression" else ensemble_.predict(X)


def _target(model, targets, kind):
    if hasattr(model, "predict_proba"):
        return targets[kind]
    return targets["regression"]


@pytest.mark.parametrize("make_model", NAN_MODELS)
@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_trees_and_forests_with_missing_values(make_model, kind, mixed_data):
    X, _, targets = mixed_data
    model = make_model()
    try:
        model.fit(X, _target(model, targets, kind))
    except ValueError as error:  # this scikit-learn cannot fit NaN for this estimator
        pytest.skip(f"not applicable: scikit-learn refuses NaN for {type(model).__name__}: {error}")
    converted = TreeEnsemble.from_model(model)
    np.testing.assert_allclose(_ours(converted, X), _reference(model, X), rtol=1e-6, atol=1e-12)
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(converted.predict(X), model.predict(X))  # labels, like the estimator


@pytest.mark.parametrize("kind", ["regression", "binary", "multiclass"])
def test_gradient_boosting(kind, mixed_data):
    X, _, targets = mixed_data
    X = np.nan_to_num(X)  # GradientBoosting* refuse missing values
    cls = ensemble.GradientBoostingRegressor if kind == "regression" else ensemble.GradientBoostingClassifier
    model = cls(n_estimators=40, max_depth=4, random_state=0).fit(X, targets[kind])
    converted = TreeEnsemble.from_model(model)
    np.testing.assert_allclose(
        converted.decision_function(X), model.decision_function(X) if kind != "regression" else model.predict(X),
        rtol=1e-9, atol=1e-9
    )
    np.testing.assert_array_equal(converted.predict(X), model.predict(X)) if kind != "regression" else \
        np.testing.assert_allclose(converted.predict(X), model.predict(X), rtol=1e-9, atol=1e-9)
    if kind != "regression":
        np.testing.assert_allclose(converted.predict_proba(X), model.predict_proba(X), rtol=1e-9, atol=1e-12)
    assert not converted.supports_missing
    with pytest.raises(ValueError, match="NaN"):
        converted.predict(np.full((1, 8), np.nan))


@pytest.mark.parametrize("kind", ["regression", "binary", "multiclass"])
def test_hist_gradient_boosting_with_categories_and_missing(kind, mixed_data):
    X, _, targets = mixed_data
    cls = ensemble.HistGradientBoostingRegressor if kind == "regression" else ensemble.HistGradientBoostingClassifier
    model = cls(max_iter=40, categorical_features=[6, 7], random_state=0).fit(X, targets[kind])
    converted = TreeEnsemble.from_model(model)
    expected = model.predict(X) if kind == "regression" else model.decision_function(X)
    np.testing.assert_allclose(converted.decision_function(X), expected, rtol=1e-9, atol=1e-9)
    if kind != "regression":
        np.testing.assert_array_equal(converted.predict(X), model.predict(X))
    # Unknown and negative categories follow scikit-learn's "treated as missing" rule.
    probe = X[:200].copy()
    probe[:100, 6] = 11 + 50  # never seen in training
    probe[100:, 7] = -3
    expected = model.predict(probe) if kind == "regression" else model.decision_function(probe)
    np.testing.assert_allclose(converted.decision_function(probe), expected, rtol=1e-9, atol=1e-9)


def test_hist_gradient_boosting_from_pandas_categoricals(mixed_data):
    _, frame, targets = mixed_data
    model = ensemble.HistGradientBoostingClassifier(max_iter=30, categorical_features="from_dtype", random_state=0)
    model.fit(frame, targets["binary"])
    converted = TreeEnsemble.from_model(model)
    assert converted.feature_names == list(frame.columns)
    np.testing.assert_allclose(converted.decision_function(frame), model.decision_function(frame), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(converted.predict(frame), model.predict(frame))
    np.testing.assert_allclose(converted.predict_proba(frame), model.predict_proba(frame), rtol=1e-9, atol=1e-12)


def test_multi_output_regression_forest(mixed_data):
    X, _, targets = mixed_data
    Y = np.column_stack([targets["regression"], targets["binary"]])
    model = ensemble.RandomForestRegressor(n_estimators=10, max_depth=8, random_state=0).fit(np.nan_to_num(X), Y)
    converted = TreeEnsemble.from_model(model)
    assert converted.n_outputs == 2
    np.testing.assert_allclose(converted.predict(np.nan_to_num(X)), model.predict(np.nan_to_num(X)), rtol=1e-9)


def test_gradient_boosting_with_row_dependent_init_is_refused():
    X = np.random.default_rng(0).normal(size=(100, 3))
    y = X[:, 0]
    model = ensemble.GradientBoostingRegressor(init=tree.DecisionTreeRegressor(max_depth=2), n_estimators=3).fit(X, y)
    with pytest.raises(ValueError, match="init"):
        TreeEnsemble.from_model(model)


def test_unfitted_and_unsupported_models():
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LinearRegression

    with pytest.raises(NotFittedError):
        TreeEnsemble.from_model(ensemble.RandomForestRegressor())
    with pytest.raises(TypeError, match="not a supported tree model"):
        TreeEnsemble.from_model(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]))
    with pytest.raises(TypeError, match="cannot build a TreeEnsemble"):
        TreeEnsemble.from_model(object())
