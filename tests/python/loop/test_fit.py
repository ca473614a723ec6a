"""fit_with_weights: weights reach the final estimator of every model form, or a warning says why not."""

from __future__ import annotations

import warnings

import lightgbm
import numpy as np
import pandas as pd
import pytest
import sklearn
import xgboost
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from loopwise.loop._fit import fit_with_weights, weight_route


class Recorder(ClassifierMixin, BaseEstimator):
    """Keeps what its fit received, so a test can see where the weights went."""

    def fit(self, X, y, sample_weight=None):
        self.X_seen_ = X
        self.y_seen_ = np.asarray(y)
        self.weight_seen_ = None if sample_weight is None else np.asarray(sample_weight).copy()
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


class NoWeights(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


class Refuses(BaseEstimator):
    def fit(self, X, y, sample_weight=None):
        raise ValueError("my model refuses this data")


@pytest.fixture()
def data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, 0.0]
    y = (X[:, 0] + 0.1 * X[:, 1] + rng.normal(scale=1.0, size=400) > 0.5).astype(int)
    weights = np.where(X[:, 0] > 0, 5.0, 0.2)
    return X, y, weights


@pytest.fixture()
def frame(data):
    X, y, weights = data
    table = pd.DataFrame({"city": np.where(X[:, 0] > 0.3, "paris", np.where(X[:, 2] > 0, "oslo", "rome")),
                          "amount": X[:, 1], "age": X[:, 2]})
    return table, np.where(y == 1, "fraud", "ok"), weights


def _no_warnings():
    context = warnings.catch_warnings()
    context.__enter__()
    warnings.simplefilter("error")
    return context


def test_plain_estimator_matches_sklearns_weighted_fit(data):
    X, y, weights = data
    model = fit_with_weights(LogisticRegression(), X, y, weights)
    oracle = LogisticRegression().fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(model.coef_, oracle.coef_)
    unweighted = fit_with_weights(LogisticRegression(), X, y)
    assert np.max(np.abs(unweighted.coef_ - model.coef_)) > 1e-2  # the weights matter here


def test_pipeline_routes_weights_to_the_final_step_only(data):
    # The case: Pipeline.fit has no sample_weight, and today's loop stopped on ValueError.
    X, y, weights = data
    pipe = fit_with_weights(make_pipeline(StandardScaler(), LogisticRegression()), X, y, weights)
    scaler = StandardScaler().fit(X)  # oracle: unweighted scaling, weighted final fit
    oracle = LogisticRegression().fit(scaler.transform(X), y, sample_weight=weights)
    np.testing.assert_allclose(pipe[0].mean_, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(pipe[-1].coef_, oracle.coef_, rtol=1e-10)
    recorder = fit_with_weights(make_pipeline(StandardScaler(), Recorder()), X, y, weights)[-1]
    np.testing.assert_array_equal(recorder.weight_seen_, weights)


def test_nested_pipelines_and_column_transformer(frame):
    X, y, weights = frame
    encode = ColumnTransformer([("city", OneHotEncoder(handle_unknown="ignore"), ["city"]),
                                ("num", StandardScaler(), ["amount", "age"])])
    model = Pipeline([("prep", encode), ("inner", Pipeline([("pca", PCA(2)), ("clf", Recorder())]))])
    assert weight_route(model) == "inner__clf__sample_weight"
    fit_with_weights(model, X, y, weights)
    recorder = model[-1][-1]
    np.testing.assert_array_equal(recorder.weight_seen_, weights)
    np.testing.assert_array_equal(recorder.y_seen_, y)  # string labels reach the model unchanged
    assert recorder.X_seen_.shape == (len(X), 2)


def test_metadata_routing_delivers_weights_to_the_final_step(frame):
    X, y, weights = frame
    with sklearn.config_context(enable_metadata_routing=True):
        encode = ColumnTransformer([("city", OneHotEncoder(), ["city"]), ("num", StandardScaler(), ["amount"])])
        model = make_pipeline(encode, make_pipeline(StandardScaler(), Recorder()))
        fit_with_weights(model, X, y, weights)
        np.testing.assert_array_equal(model[-1][-1].weight_seen_, weights)
        # Other steps kept the unweighted behaviour of sklearn without routing.
        np.testing.assert_allclose(model[0].named_transformers_["num"].mean_, [X["amount"].mean()], rtol=1e-12)
        # A request the user set explicitly is kept: no weights, and a warning says so.
        refused = make_pipeline(StandardScaler(), Recorder().set_fit_request(sample_weight=False))
        with pytest.warns(UserWarning, match="Recorder.*ignored"):
            fit_with_weights(refused, X[["amount"]], y, weights)
        assert refused[-1].weight_seen_ is None


def test_models_without_sample_weight_warn_once_naming_the_model(data):
    X, y, weights = data
    with pytest.warns(UserWarning, match="KNeighborsClassifier.*sample weights were ignored") as record:
        model = fit_with_weights(KNeighborsClassifier(), X, y, weights)
    assert len(record) == 1
    np.testing.assert_array_equal(model.predict(X), KNeighborsClassifier().fit(X, y).predict(X))
    with pytest.warns(UserWarning, match="step 'noweights' \\(NoWeights\\)"):
        fit_with_weights(make_pipeline(StandardScaler(), NoWeights()), X, y, weights)
    context = _no_warnings()
    try:  # nothing is lost with no weights or all-ones weights: no warning
        fit_with_weights(KNeighborsClassifier(), X, y)
        fit_with_weights(make_pipeline(StandardScaler(), NoWeights()), X, y, np.ones(len(y)))
        fit_with_weights(make_pipeline(StandardScaler(), "passthrough"), X, y, np.ones(len(y)))
    finally:
        context.__exit__(None, None, None)


def test_xgboost_and_lightgbm_wrappers_receive_weights(data, frame):
    X, y, weights = data
    for factory in (lambda: xgboost.XGBClassifier(n_estimators=20, max_depth=3, random_state=0),
                    lambda: lightgbm.LGBMClassifier(n_estimators=20, random_state=0, verbose=-1)):
        weighted = fit_with_weights(factory(), X, y, weights)
        oracle = factory().fit(X, y, sample_weight=weights)
        np.testing.assert_array_equal(weighted.predict_proba(X), oracle.predict_proba(X))
        plain = fit_with_weights(factory(), X, y)
        assert np.max(np.abs(plain.predict_proba(X) - weighted.predict_proba(X))) > 1e-3
    # LightGBM takes string labels as they are; XGBoost does not, and the error says what to do.
    _, labels, _ = frame
    lgbm = fit_with_weights(lightgbm.LGBMClassifier(n_estimators=5, verbose=-1), X, labels, weights)
    assert set(lgbm.predict(X)) <= {"fraud", "ok"}
    with pytest.raises(ValueError, match="y: .*XGBClassifier.*0..1.*LabelEncoder"):
        fit_with_weights(make_pipeline(StandardScaler(), xgboost.XGBClassifier(n_estimators=2)), X, labels, weights)
    with pytest.raises(ValueError, match="XGBClassifier"):
        fit_with_weights(xgboost.XGBClassifier(n_estimators=2), X, y + 1)


def test_the_models_own_errors_are_not_swallowed(data):
    X, y, weights = data
    with pytest.raises(ValueError, match="my model refuses"):
        fit_with_weights(Refuses(), X, y, weights)


def test_bad_inputs(data):
    X, y, weights = data
    with pytest.raises(ValueError, match="sample_weight must hold one weight per row"):
        fit_with_weights(LogisticRegression(), X, y, weights[:-1])
    with pytest.raises(ValueError, match="sample_weight must be finite"):
        fit_with_weights(LogisticRegression(), X, y, -weights)
    with pytest.raises(ValueError, match="sample_weight must be finite"):
        fit_with_weights(LogisticRegression(), X, y, np.where(y == 1, np.nan, 1.0))
    with pytest.raises(TypeError, match="sample_weight must be numeric"):
        fit_with_weights(LogisticRegression(), X, y, ["a"] * len(y))
    with pytest.raises(TypeError, match="estimator must have a fit method"):
        fit_with_weights(object(), X, y)
    base = LogisticRegression()
    fit_with_weights(clone(base), X, y, weights)
    assert not hasattr(base, "coef_")  # the caller's clone is fitted, never the original
