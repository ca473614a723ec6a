"""ExactExplainer and PermutationExplainer against the Shapley definition and shap."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.explain import ExactExplainer, KernelExplainer, PermutationExplainer

import importlib.util
import pathlib

_spec = importlib.util.spec_from_file_location("_agnostic_oracle", pathlib.Path(__file__).with_name("_agnostic_oracle.py"))
_oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_oracle)
brute_force_shapley, interacting = _oracle.brute_force_shapley, _oracle.interacting


def three_way(X):
    X = np.asarray(X, dtype=float)
    return X[:, 0] * X[:, 1] * X[:, 2] + np.exp(0.3 * X[:, 3] * X[:, 4] * X[:, 5]) + X[:, 2]


def test_exact_equals_brute_force(small_problem):
    X, background = small_problem
    for f in (interacting, three_way):
        e = ExactExplainer(f, background)(X)
        np.testing.assert_allclose(e.values, brute_force_shapley(f, X, background), atol=1e-10)
        np.testing.assert_allclose(e.output(), f(X), atol=1e-10)
        assert e.std_errors is None


def test_exact_weighted_background(small_problem):
    X, background = small_problem
    from loopwise.explain import Background

    weights = np.array([0.1, 0.2, 0.3, 0.4])
    e = ExactExplainer(three_way, Background(background, weights))(X)
    np.testing.assert_allclose(e.values, brute_force_shapley(three_way, X, background, weights), atol=1e-10)


def test_exact_agrees_with_shap(small_problem):
    import shap
    X, background = small_problem
    ours = ExactExplainer(three_way, background)(X).values
    masker = shap.maskers.Independent(background, max_samples=len(background))
    theirs = shap.ExactExplainer(three_way, masker)(X).values
    np.testing.assert_allclose(ours, theirs, atol=1e-8)


def test_exact_equals_kernel_full_enumeration(small_problem):
    X, background = small_problem
    exact = ExactExplainer(three_way, background)(X).values
    kernel = KernelExplainer(three_way, background, random_state=0)(X).values
    np.testing.assert_allclose(kernel, exact, atol=1e-9)


def test_exact_refuses_too_many_features():
    with pytest.raises(ValueError, match="max_features"):
        ExactExplainer(lambda Z: Z.sum(1), np.zeros((2, 17)))
    with pytest.raises(ValueError, match="max_features"):
        ExactExplainer(lambda Z: Z.sum(1), np.zeros((2, 3)), max_features=0)
    explainer = ExactExplainer(lambda Z: Z.sum(1), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="columns"):
        explainer(np.zeros((1, 4)))


def test_permutation_is_exact_for_additive_models_and_efficient(small_problem):
    X, background = small_problem

    def additive(Z):
        return 2 * Z[:, 0] - np.sin(Z[:, 1]) + Z[:, 2] ** 2 + Z[:, 3] * 0.5 + np.abs(Z[:, 4]) - Z[:, 5]

    e = PermutationExplainer(additive, background, random_state=0)(X, max_evals=12)
    np.testing.assert_allclose(e.values, brute_force_shapley(additive, X, background), atol=1e-12)
    e = PermutationExplainer(three_way, background, random_state=0)(X, max_evals=200)
    np.testing.assert_allclose(e.output(), three_way(X), atol=1e-12)


def test_permutation_converges():
    rng = np.random.default_rng(9)
    background = rng.normal(size=(3, 8))
    X = rng.normal(size=(5, 8))

    def f(Z):
        return three_way(Z[:, :6]) * np.cos(Z[:, 6]) + Z[:, 7] * Z[:, 0] * Z[:, 5]

    truth = ExactExplainer(f, background)(X).values
    errors = []
    for evals in (16 * 7, 128 * 7, 1024 * 7):
        e = PermutationExplainer(f, background, random_state=4)(X, max_evals=evals)
        errors.append(np.abs(e.values - truth).mean())
        assert np.isfinite(e.std_errors).all()
    assert errors[0] > errors[1] > errors[2]
    final = PermutationExplainer(f, background, random_state=4)(X, max_evals=1024 * 7)
    assert np.mean(np.abs(final.values - truth) <= 3 * final.std_errors + 1e-12) > 0.8


def test_permutation_determinism_and_threads():
    rng = np.random.default_rng(1)
    background = rng.normal(size=(4, 7))
    X = rng.normal(size=(6, 7))
    f = lambda Z: three_way(Z[:, :6]) * Z[:, 6]  # noqa: E731
    a = PermutationExplainer(f, background, random_state=5, n_jobs=1)(X)
    b = PermutationExplainer(f, background, random_state=5, n_jobs=2)(X)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.std_errors, b.std_errors)
    c = ExactExplainer(f, background, n_jobs=1)(X).values
    d = ExactExplainer(f, background, n_jobs=2)(X).values
    assert np.array_equal(c, d)


def test_permutation_bad_inputs(small_problem):
    X, background = small_problem
    explainer = PermutationExplainer(three_way, background, random_state=0)
    with pytest.raises(ValueError, match="max_evals"):
        explainer(X, max_evals=5)
    with pytest.raises(TypeError, match="max_evals"):
        explainer(X, max_evals=100.0)
    with pytest.raises(ValueError, match="link"):
        PermutationExplainer(three_way, background, link="log")
    with pytest.raises(ValueError, match="shape"):
        PermutationExplainer(lambda Z: np.zeros((len(Z), 2, 2)), background)
