"""Pickling, progress bars and result serialisation of the model-agnostic explainers."""

from __future__ import annotations

import json
import pickle

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import Ridge

from loopwise.explain import (
    ExactExplainer,
    KernelExplainer,
    LimeTabular,
    LinearExplainer,
    PermutationExplainer,
    kmeans,
    surrogate_tree,
)


def _model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    return X, GradientBoostingRegressor(n_estimators=10, random_state=0).fit(X, X[:, 0] * X[:, 1] + X[:, 2])


def test_explainers_pickle_and_give_identical_results():
    X, model = _model()
    background = kmeans(X, 5, random_state=0)
    for explainer in (
        KernelExplainer(model.predict, background, random_state=0),
        PermutationExplainer(model.predict, background, random_state=0),
        ExactExplainer(model.predict, background),
        LinearExplainer(Ridge().fit(X, X[:, 0]), background),
    ):
        clone = pickle.loads(pickle.dumps(explainer))
        np.testing.assert_array_equal(clone(X[:3]).values, explainer(X[:3]).values)
    lime = LimeTabular(X, mode="regression", random_state=0)
    clone = pickle.loads(pickle.dumps(lime))
    assert clone.explain(X[0], model.predict).local_exp == lime.explain(X[0], model.predict).local_exp
    surrogate = surrogate_tree(model.predict, X)
    assert str(pickle.loads(pickle.dumps(surrogate))) == str(surrogate)


def test_progress_bar_does_not_change_results(capsys):
    X, model = _model()
    quiet = KernelExplainer(lambda Z: model.predict(Z), X[:5], random_state=1, progress=False)(X[:20], nsamples=40)
    loud = KernelExplainer(lambda Z: model.predict(Z), X[:5], random_state=1, progress=True)(X[:20], nsamples=40)
    np.testing.assert_array_equal(quiet.values, loud.values)
    assert "KernelExplainer" in capsys.readouterr().err
    a = PermutationExplainer(model.predict, X[:5], random_state=1, progress=True)(X[:20])
    b = PermutationExplainer(model.predict, X[:5], random_state=1)(X[:20])
    np.testing.assert_array_equal(a.values, b.values)


def test_lime_explanation_serialises():
    X, model = _model()
    e = LimeTabular(X, mode="regression", random_state=0).explain(X[0], model.predict, num_features=3)
    d = json.loads(json.dumps(e.to_dict()))
    assert d["mode"] == "regression" and len(d["local_exp"]["0"]) == 3
    assert "LIME explanation" in e._repr_html_()
    import matplotlib

    matplotlib.use("Agg")
    assert e.plot() is not None
    assert surrogate_tree(model.predict, X, max_depth=2).plot() is not None


def test_core_rejects_inconsistent_arrays():
    import pytest

    from loopwise import _core

    design = _core.KernelDesign(6, 20, 0)
    values = np.zeros((1, design.n_masks, 1))
    with pytest.raises(ValueError):
        design.solve(design.n_pairs + 1, values, np.zeros(1), np.zeros((1, 1)), 1)
    with pytest.raises(ValueError):
        design.solve(design.n_pairs, values[:, :3], np.zeros(1), np.zeros((1, 1)), 1)
    with pytest.raises(ValueError):
        design.solve(design.n_pairs, values, np.zeros(2), np.zeros((1, 1)), 1)
    with pytest.raises(ValueError):
        _core.coalition_rows(np.zeros((1, 6)), np.zeros((2, 5)), design.masks, 0, 1, 1)
    with pytest.raises(ValueError):
        _core.coalition_rows(np.zeros((1, 6)), np.zeros((2, 6)), design.masks, 0, design.n_masks + 1, 1)
    with pytest.raises(ValueError):
        _core.exact_shapley(np.zeros((1, 7, 1)), 3, 1)
    with pytest.raises(ValueError):
        _core.PermutationDesign(3, 2, 0).solve(np.zeros((1, 3, 1)), 1)
    with pytest.raises(ValueError):
        _core.weighted_ridge(np.zeros((3, 2)), np.zeros(3), np.ones(3), [5], 1.0)
    with pytest.raises(ValueError):
        _core.lime_sample([_core.LimeFeature({"categorical": True})], np.zeros(1), np.zeros(1), 10, False, 0)


def test_classifier_outputs_are_named_by_class():
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, labels)
    e = KernelExplainer(model.predict_proba, X[:10], random_state=0)(X[:2])
    assert e.output_names == ["no", "yes"]
    np.testing.assert_allclose(e.output(), model.predict_proba(X[:2]), atol=1e-9)
