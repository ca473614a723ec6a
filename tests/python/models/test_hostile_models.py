"""Hostile inputs for TreeEnsemble: never a crash, hang or silent NaN; errors name the
argument. Plus the silent wrong answers of issue 15: XGBoost's ``missing=`` and margins of
the wrong width."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor

import hostile
from loopwise.models import TreeEnsemble


def _models():
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 4)), columns=["a", "b", "c", "d"])  # named: bad names must fail
    y = (X["a"] + X["b"] > 0).astype(int)
    clf = TreeEnsemble.from_model(GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y))
    reg = TreeEnsemble.from_model(RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(X, X["a"]))
    return {"gbc": clf, "rf": reg}


def sweep_cases():
    entries = []
    for model_name, ensemble in _models().items():
        methods = {"predict": ensemble.predict, "decision_function": ensemble.decision_function,
                   "apply": ensemble.apply}
        if ensemble.task != "regression":
            methods["predict_proba"] = ensemble.predict_proba
        for method_name, method in methods.items():
            for label, X in hostile.hostile_matrices(ensemble.n_features).items():
                # NaN is "missing" for these models; +-inf is a value beyond every threshold.
                entries.append((f"{model_name}.{method_name}[{label}]", lambda m=method, X=X: m(X),
                                ["X", "column"], label in hostile.INVALID - {"nan", "inf", "-inf"}))
        for label, margins in {
            "wide": np.zeros((3, ensemble.n_outputs + 1)), "flat_wrong": np.zeros(5 * (ensemble.n_outputs + 1)),
            "three_d": np.zeros((2, 2, 2)), "complex": np.zeros((2, ensemble.n_outputs)) + 1j,
            "object_str": np.array([["a"] * ensemble.n_outputs]), "ok": np.zeros((2, ensemble.n_outputs)),
            "huge": np.full((2, ensemble.n_outputs), 1e308), "neg_huge": np.full((2, ensemble.n_outputs), -1e308),
        }.items():
            entries.append((f"{model_name}.transform_margin[{label}]",
                            lambda e=ensemble, m=margins: e.transform_margin(m), ["margins"],
                            label not in ("ok", "huge", "neg_huge")
                            and not (label == "flat_wrong" and ensemble.n_outputs == 1)))
        good = ensemble.to_dict()
        for label, data in _corruptions(good).items():
            entries.append((f"{model_name}.from_dict[{label}]",
                            lambda d=data: TreeEnsemble.from_dict(d).predict(np.zeros((2, 4))),
                            ["data", "field", "tree", "node", "missing_value", "feature_names", "task",
                             "learning_rate", "fields"], True))
    return hostile.cases_from(entries)


def _corruptions(good):
    out = {}
    leaf = good["fields"]["feature"].index(-1)  # leaves have no feature
    for key, value in (("threshold", float("nan")), ("value", float("inf")), ("feature", 10**6),
                       ("left", -7), ("cover", "x")):
        data = copy.deepcopy(good)
        data["fields"][key][leaf if key == "value" else 0] = value
        out[f"{key}={value}"] = data
    data = copy.deepcopy(good)
    data["missing_value"] = "nope"
    out["missing_value=str"] = data
    data = copy.deepcopy(good)
    data["task"] = "cluster"
    out["task=cluster"] = data
    data = copy.deepcopy(good)
    data["learning_rate"] = float("nan")
    out["learning_rate=nan"] = data
    data = copy.deepcopy(good)
    del data["fields"]["left"]
    out["no_left"] = data
    return out


@pytest.fixture(scope="module")
def sweep():
    return hostile.run_sweep(__file__, "sweep_cases", timeout=120)


def test_sweep_has_no_crash_hang_nan_or_unclear_error(sweep):
    hostile.assert_sweep_clean(sweep, min_cases=150)


def test_transform_margin_refuses_a_wrong_width():
    ensemble = _models()["gbc"]
    with pytest.raises(ValueError, match="margins"):
        ensemble.transform_margin(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="margins"):
        ensemble.transform_margin(np.zeros((3, 1)) + 1j)
    logistic = 1.0 / (1.0 + np.exp(-np.array([[0.3], [-2.0]])))
    assert np.allclose(ensemble.transform_margin(np.array([0.3, -2.0])), logistic)


def test_complex_input_is_a_type_error_naming_x():
    ensemble = _models()["rf"]
    with pytest.raises(TypeError, match="X"):
        ensemble.predict(np.zeros((2, 4)) + 1j)


xgboost = pytest.importorskip("xgboost")


@pytest.mark.parametrize("missing", [0.0, -999.0, 1.5])
@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_xgboost_missing_value_is_honoured(missing, kind):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3)).round(1)
    X[rng.random(X.shape) < 0.25] = missing
    target = np.where(X[:, 0] == missing, 0.0, X[:, 0]) * 2 + (X[:, 1] == missing) * 3
    if kind == "regressor":
        model = xgboost.XGBRegressor(n_estimators=15, max_depth=3, missing=missing).fit(X, target)
        expected = model.predict(X)
        got = TreeEnsemble.from_model(model).predict(X)
    else:
        model = xgboost.XGBClassifier(n_estimators=15, max_depth=3, missing=missing).fit(X, target > 1)
        expected = model.predict_proba(X)
        got = TreeEnsemble.from_model(model).predict_proba(X)
    # XGBoost itself is the oracle: equal up to float32 summation (a row routed the wrong
    # way differs by a whole leaf value, orders of magnitude more).
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
    # NaN is missing too, as in XGBoost.
    X_nan = X.copy()
    X_nan[X_nan == missing] = np.nan
    expected_nan = model.predict(X_nan) if kind == "regressor" else model.predict_proba(X_nan)
    np.testing.assert_allclose(expected_nan, expected, rtol=1e-6, atol=1e-6)


def test_xgboost_missing_survives_serialisation():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 2)).round(1)
    X[rng.random(X.shape) < 0.3] = 0.0
    model = xgboost.XGBRegressor(n_estimators=5, max_depth=2, missing=0.0).fit(X, X[:, 0] + (X[:, 1] == 0))
    ensemble = TreeEnsemble.from_json(TreeEnsemble.from_model(model).to_json())
    assert ensemble.missing_value == 0.0
    np.testing.assert_allclose(ensemble.predict(X), model.predict(X), rtol=1e-5, atol=1e-5)


def test_user_data_is_not_modified_by_the_missing_marker():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 2)).round(1)
    X[:10, 0] = 0.0
    model = xgboost.XGBRegressor(n_estimators=3, max_depth=2, missing=0.0).fit(X, X[:, 1])
    before = X.copy()
    TreeEnsemble.from_model(model).predict(X)
    np.testing.assert_array_equal(X, before)
