"""KernelExplainer against brute-force Shapley values, shap, interventional TreeSHAP."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import loopwise
from loopwise.explain import ExactExplainer, KernelExplainer, TreeExplainer, kmeans
from loopwise.models import TreeEnsemble

import importlib.util
import pathlib

_spec = importlib.util.spec_from_file_location("_agnostic_oracle", pathlib.Path(__file__).with_name("_agnostic_oracle.py"))
_oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_oracle)
brute_force_shapley, interacting = _oracle.brute_force_shapley, _oracle.interacting


def test_full_enumeration_equals_brute_force(small_problem):
    X, background = small_problem
    explanation = KernelExplainer(interacting, background, random_state=0)(X)
    truth = brute_force_shapley(interacting, X, background)
    np.testing.assert_allclose(explanation.values, truth, atol=1e-8)
    assert np.all(explanation.std_errors == 0.0)
    np.testing.assert_allclose(explanation.output(), interacting(X), atol=1e-10)


def test_full_enumeration_agrees_with_shap(small_problem):
    import shap
    X, background = small_problem
    ours = KernelExplainer(interacting, background, random_state=0)(X).values
    theirs = shap.KernelExplainer(interacting, background).shap_values(X, silent=True)
    np.testing.assert_allclose(ours, np.asarray(theirs), atol=1e-8)


def _twelve_feature_problem():
    rng = np.random.default_rng(3)
    background = rng.normal(size=(3, 12))
    X = rng.normal(size=(6, 12))

    def f(Z):
        return interacting(Z[:, :6]) + Z[:, 6] * Z[:, 7] - np.cos(Z[:, 8] * Z[:, 9]) + Z[:, 10] - 0.3 * Z[:, 11] ** 3

    return f, X, background


def test_sampled_estimates_converge_and_errors_cover_the_truth():
    f, X, background = _twelve_feature_problem()
    truth = ExactExplainer(f, background)(X).values
    errors, coverage = [], []
    for budget in (150, 600, 2400):
        e = KernelExplainer(f, background, random_state=1)(X, nsamples=budget)
        err = np.abs(e.values - truth)
        errors.append(err.mean())
        coverage.append(np.mean(err <= 1.96 * e.std_errors + 1e-12))
        np.testing.assert_allclose(e.output(), f(X), atol=1e-9)  # efficiency holds for every budget
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.25 * errors[0]
    # nominal 95% intervals: allow for the estimate of the error itself being noisy
    assert min(coverage) >= 0.8, coverage


def test_sampled_agrees_with_shap_within_sampling_error():
    import shap
    f, X, background = _twelve_feature_problem()
    truth = ExactExplainer(f, background)(X[:3]).values
    ours = KernelExplainer(f, background, random_state=0)(X[:3], nsamples=1000).values
    np.random.seed(0)
    theirs = np.asarray(shap.KernelExplainer(f, background).shap_values(X[:3], nsamples=1000, silent=True))
    ours_err = np.abs(ours - truth).mean()
    theirs_err = np.abs(theirs - truth).mean()
    assert ours_err < 2.0 * theirs_err + 1e-3


def test_early_stopping_uses_fewer_pairs_and_stays_close():
    f, X, background = _twelve_feature_problem()
    truth = ExactExplainer(f, background)(X).values
    calls = []

    def counted(Z):
        calls.append(len(Z))
        return f(Z)

    KernelExplainer(counted, background, random_state=2)(X, nsamples=3000)  # the full budget, counted
    n_full = sum(calls)
    calls.clear()
    stopped = KernelExplainer(counted, background, random_state=2)(X, nsamples=3000, tol=0.05)
    assert sum(calls) < n_full
    assert np.all(stopped.std_errors.max(axis=1) <= 0.05 * np.ptp(stopped.values, axis=1) + 1e-12)
    assert np.abs(stopped.values - truth).max() < 0.5


def test_native_tree_model_matches_interventional_treeshap():
    from sklearn.ensemble import GradientBoostingRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + X[:, 3] ** 2
    model = GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0).fit(X, y)
    background = X[:10]
    kernel = KernelExplainer(model.predict, background, random_state=0)
    assert kernel._f.native == "TreeEnsemble"
    ours = kernel(X[:5]).values
    exact = ExactExplainer(TreeEnsemble.from_model(model), background)(X[:5]).values
    tree = TreeExplainer(model, background)(X[:5]).values
    np.testing.assert_allclose(ours, tree, atol=1e-9)
    np.testing.assert_allclose(exact, tree, atol=1e-9)


def test_native_path_gives_the_same_values_as_the_callable():
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 8))
    model = RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0).fit(X, X[:, 0] - X[:, 1] * X[:, 2])
    native = KernelExplainer(model.predict, X[:5], random_state=3)
    opaque = KernelExplainer(lambda Z: model.predict(Z), X[:5], random_state=3)
    assert native._f.native == "TreeEnsemble" and opaque._f.native is None
    np.testing.assert_allclose(native(X[:4]).values, opaque(X[:4]).values, atol=1e-10)


def test_linear_model_native_path():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 4))
    model = Ridge().fit(X, X @ [1.0, -2.0, 0.5, 0.0])
    kernel = KernelExplainer(model.predict, X[:20])
    assert kernel._f.native == "linear"
    expected = (X[:3] - X[:20].mean(0)) * model.coef_
    np.testing.assert_allclose(kernel(X[:3]).values, expected, atol=1e-10)


def test_logit_link_and_multi_output(small_problem):
    X, background = small_problem

    def proba(Z):
        p = 1.0 / (1.0 + np.exp(-0.5 * interacting(Z)))
        return np.column_stack([1.0 - p, p])

    explanation = KernelExplainer(proba, background, link="logit", random_state=0)(X)
    assert explanation.values.shape == (3, 6, 2)

    def logit(p):
        return np.log(p) - np.log1p(-p)

    truth = brute_force_shapley(proba, X, background, link=logit)
    np.testing.assert_allclose(explanation.values, np.transpose(truth, (0, 1, 2)), atol=1e-8)
    np.testing.assert_allclose(explanation.output(), logit(proba(X)), atol=1e-8)


def test_weighted_background_and_dataframe_schema():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=60),
            "b": rng.integers(0, 5, size=60),
            "c": pd.Categorical(rng.choice(["x", "y", "z"], size=60)),
        }
    )
    seen = []

    def model(df):
        assert isinstance(df, pd.DataFrame)
        assert list(df.columns) == ["a", "b", "c"]
        assert df["b"].dtype == frame["b"].dtype
        assert isinstance(df["c"].dtype, pd.CategoricalDtype)
        seen.append(len(df))
        return df["a"].to_numpy() * df["b"].to_numpy() + (df["c"] == "y").to_numpy()

    background = kmeans(frame, 5, random_state=0)
    explanation = loopwise.KernelExplainer(model, background, random_state=0)(frame.iloc[:4])
    assert explanation.feature_names == ["a", "b", "c"]
    codes = np.column_stack([frame["a"], frame["b"], frame["c"].cat.codes]).astype(float)

    def on_codes(Z):
        return Z[:, 0] * Z[:, 1] + (Z[:, 2] == 1)

    truth = brute_force_shapley(on_codes, codes[:4], background.data, weights=background.weights)
    np.testing.assert_allclose(explanation.values, truth, atol=1e-8)
    with pytest.raises(ValueError, match="missing columns"):
        loopwise.KernelExplainer(model, background)(frame[["a", "b"]].iloc[:2])


def test_l1_reg_selects_the_relevant_features():
    rng = np.random.default_rng(7)
    background = rng.normal(size=(5, 10))
    X = rng.normal(size=(2, 10))

    def f(Z):
        return 5.0 * Z[:, 0] + 3.0 * Z[:, 1] * Z[:, 2] + 0.01 * Z[:, 3]

    for rule in ("num_features(3)", 3):
        sparse = KernelExplainer(f, background, random_state=0)(X, nsamples=300, l1_reg=rule)
        assert np.all((sparse.values != 0).sum(axis=1) <= 3)
        assert sparse.std_errors is None
        np.testing.assert_allclose(sparse.output(), f(X), atol=1e-8)
        assert set(np.flatnonzero(sparse.values[0])) <= {0, 1, 2, 3}
    for rule in ("aic", "bic"):
        sparse = KernelExplainer(f, background, random_state=0)(X, nsamples=300, l1_reg=rule)
        assert np.all(sparse.values[:, 4:] == 0)
        np.testing.assert_allclose(sparse.output(), f(X), atol=1e-8)


def test_seeded_determinism_and_thread_independence():
    f, X, background = _twelve_feature_problem()
    a = KernelExplainer(f, background, random_state=11, n_jobs=1)(X, nsamples=500)
    b = KernelExplainer(f, background, random_state=11, n_jobs=2)(X, nsamples=500)
    c = KernelExplainer(f, background, random_state=12, n_jobs=2)(X, nsamples=500)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.std_errors, b.std_errors)
    assert not np.array_equal(a.values, c.values)


def test_chunking_does_not_change_results(small_problem):
    X, background = small_problem
    big = KernelExplainer(interacting, background, random_state=0)(X).values
    small = KernelExplainer(interacting, background, random_state=0, chunk_size=7)(X).values
    np.testing.assert_array_equal(big, small)


def test_one_feature():
    e = KernelExplainer(lambda Z: 3 * Z[:, 0], np.array([[1.0], [3.0]]))([[4.0]])
    assert e.values.tolist() == [[6.0]]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"link": "probit"}, "link"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_constructor_arguments(kwargs, match, small_problem):
    _, background = small_problem
    with pytest.raises(ValueError, match=match):
        KernelExplainer(interacting, background, **kwargs)


def test_bad_inputs(small_problem):
    X, background = small_problem
    with pytest.raises(TypeError, match="model"):
        KernelExplainer(42, background)
    with pytest.raises(ValueError, match="background"):
        KernelExplainer(interacting, np.zeros((0, 6)))
    with pytest.raises(ValueError, match="shape"):
        KernelExplainer(lambda Z: np.zeros(len(Z) + 1), background)
    with pytest.raises(ValueError, match="NaN"):
        KernelExplainer(lambda Z: np.full(len(Z), np.nan), background)
    explainer = KernelExplainer(interacting, background)
    with pytest.raises(ValueError, match="columns"):
        explainer(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="nsamples"):
        explainer(X, nsamples=1)
    with pytest.raises(TypeError, match="nsamples"):
        explainer(X, nsamples=2.5)
    with pytest.raises(ValueError, match="nsamples"):
        explainer(X, nsamples="many")
    with pytest.raises(ValueError, match="tol"):
        explainer(X, tol=-1.0)
    with pytest.raises(ValueError, match="l1_reg"):
        explainer(X, l1_reg="lasso")
    with pytest.raises(ValueError, match="l1_reg"):
        explainer(X, l1_reg=True)
    flaky = {"n": 0}

    def nan_later(Z):
        flaky["n"] += 1
        out = interacting(Z)
        if flaky["n"] > 1:
            out[0] = np.nan
        return out

    with pytest.raises(ValueError, match="NaN"):
        KernelExplainer(nan_later, background)(X)


def test_lazy_top_level_export():
    assert loopwise.KernelExplainer is KernelExplainer
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "KernelExplainer" in repr(KernelExplainer(lambda Z: Z.sum(1), np.zeros((1, 2))))


def test_tree_margin_path_for_multiclass_ensembles():
    from sklearn.ensemble import GradientBoostingClassifier

    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 6))
    y = np.digitize(X[:, 0] + X[:, 1] * X[:, 2], [-0.5, 0.5])
    model = GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0).fit(X, y)
    ensemble = TreeEnsemble.from_model(model)
    kernel = KernelExplainer(ensemble, X[:8], random_state=0)
    assert kernel._f.margin_of is ensemble
    ours = kernel(X[:3])
    tree = TreeExplainer(model, X[:8])(X[:3])
    np.testing.assert_allclose(ours.values, tree.values, atol=1e-9)
    exact_rows = ExactExplainer(lambda Z: ensemble.decision_function(Z), X[:8])(X[:3]).values
    np.testing.assert_allclose(ours.values, exact_rows, atol=1e-9)
    # probabilities go through predict_proba on synthetic rows (natively evaluated too)
    proba = KernelExplainer(model.predict_proba, X[:8], random_state=0)
    assert proba._f.native == "TreeEnsemble" and proba._f.margin_of is None
    np.testing.assert_allclose(proba(X[:3]).output(), model.predict_proba(X[:3]), atol=1e-9)
