"""Regression-adjusted KernelSHAP: the fitted polynomial game and its effect on accuracy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from loopwise.explain import ExactExplainer, KernelExplainer
from loopwise.explain._kernel_adjust import adjustment_terms, fit_adjustment, interaction_scores


def _set_function_shapley(value, M):
    """Shapley values of a set function from the definition (independent of any regression)."""
    phi = np.zeros(M)
    for j in range(M):
        others = [i for i in range(M) if i != j]
        for size in range(M):
            weight = math.factorial(size) * math.factorial(M - size - 1) / math.factorial(M)
            for subset in itertools.combinations(others, size):
                phi[j] += weight * (value(set(subset) | {j}) - value(set(subset)))
    return phi


def test_fitted_polynomial_game_has_the_definition_shapley_values():
    rng = np.random.default_rng(0)
    M = 6
    terms = [(0, 1, 2), (1, 3, 4), (0, 2, 4, 5), (1, 2, 3, 5)]
    linear = rng.normal(size=M)
    coef = rng.normal(size=len(terms))

    def game(S):
        return sum(linear[j] for j in S) + sum(c for c, t in zip(coef, terms) if set(t) <= S)

    masks = np.array(list(itertools.product([0, 1], repeat=M))[1:-1], dtype=np.uint8)
    y = np.array([game(set(np.flatnonzero(z))) for z in masks])[:, None]
    weights = rng.uniform(0.5, 2.0, size=len(masks))  # any positive weights recover an exact polynomial
    fitted, at_full, shapley = fit_adjustment(masks, weights, y, terms)
    np.testing.assert_allclose(fitted[:, 0], y[:, 0], atol=1e-4)
    np.testing.assert_allclose(at_full[0], game(set(range(M))), atol=1e-4)
    np.testing.assert_allclose(shapley[:, 0], _set_function_shapley(game, M), atol=1e-4)


def _dense_fit(masks, weights, targets, terms):
    """Reference: the explicit design matrix (one column per linear term and per subset)."""
    Z = masks.astype(np.float64)
    F = np.hstack([Z] + [Z[:, list(t)].prod(axis=1, keepdims=True) for t in terms])
    gram = F.T @ (weights[:, None] * F)
    coef = np.linalg.lstsq(gram, F.T @ (weights[:, None] * targets), rcond=None)[0]
    shapley = coef[: Z.shape[1]].copy()
    for index, t in enumerate(terms):
        shapley[list(t)] += coef[Z.shape[1] + index] / len(t)
    return F @ coef, coef.sum(axis=0), shapley


def test_fast_fit_matches_the_explicit_design_matrix():
    rng = np.random.default_rng(1)
    M = 9
    masks = (rng.random((400, M)) < 0.5).astype(np.uint8)
    weights = rng.uniform(0.1, 1.0, size=400)
    targets = rng.normal(size=(400, 3)) + masks[:, [0]] * masks[:, [4]] * masks[:, [7]]
    terms = [t for order in (2, 3, 4) for t in itertools.combinations([0, 2, 4, 5, 7], order)]
    fast = fit_adjustment(masks, weights, targets, terms)
    dense = _dense_fit(masks, weights, targets, terms)
    for a, b in zip(fast, dense):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_terms_grow_with_the_budget_and_stop_when_too_few_samples():
    phi = np.arange(10.0)
    assert adjustment_terms(phi, 20) is None  # 4 features already need 15 coefficients
    few, many = adjustment_terms(phi, 200), adjustment_terms(phi, 2000)
    assert len(few) < len(many)
    # 200 coalitions / 4 per coefficient: 10 + C(5,2) + C(5,3) + C(5,4) = 35 <= 50 < 10 + 15 + 20 + 15
    assert set(itertools.chain(*few)) == {5, 6, 7, 8, 9}  # the five largest scores
    assert len(few) == math.comb(5, 2) + math.comb(5, 3) + math.comb(5, 4)


def test_interaction_scores_are_zero_for_additive_features_only():
    M = 5
    masks = np.array([row for j in range(M) for row in (np.eye(M)[j], 1 - np.eye(M)[j])], dtype=np.uint8)
    contribution = np.array([1.0, -2.0, 0.5, 3.0, 0.0])

    def game(z):  # additive except for a 3-way product of features 1, 2, 3
        return z @ contribution + 4.0 * z[1] * z[2] * z[3]

    values = np.array([[game(z) for z in masks]])[:, :, None]
    phi = (contribution + np.array([0, 4, 4, 4, 0]) / 3.0)[None, :, None]  # the exact Shapley values
    scores = interaction_scores(phi, masks, values, np.zeros(1), np.array([[game(np.ones(M))]]))
    np.testing.assert_allclose(scores[[0, 4]], 0.0, atol=1e-12)
    assert np.all(scores[1:4] > 1.0)


def _high_order_problem():
    rng = np.random.default_rng(5)
    background = rng.normal(size=(2, 12))
    X = rng.normal(size=(4, 12))

    def f(Z):
        return (
            Z[:, 0] * Z[:, 1] * Z[:, 2]
            + 0.8 * Z[:, 3] * Z[:, 4] * Z[:, 5] * Z[:, 0]
            + np.tanh(Z[:, 6] + Z[:, 7] * Z[:, 8])
            + Z[:, 9:].sum(axis=1)
        )

    return f, X, background


def test_adjustment_cuts_the_error_at_equal_model_calls():
    f, X, background = _high_order_problem()
    truth = ExactExplainer(f, background)(X).values
    plain, adjusted = [], []
    for seed in range(4):
        explainer = KernelExplainer(f, background, random_state=seed)
        plain.append(np.abs(explainer(X, nsamples=1200, adjust=False).values - truth).mean())
        e = explainer(X, nsamples=1200)
        adjusted.append(np.abs(e.values - truth).mean())
        np.testing.assert_allclose(e.output(), f(X), atol=1e-9)  # efficiency still holds
    assert np.mean(adjusted) < 0.6 * np.mean(plain), (adjusted, plain)


def test_adjusted_estimate_converges_and_is_exact_at_full_budget():
    f, X, background = _high_order_problem()
    truth = ExactExplainer(f, background)(X).values
    errors = [
        np.mean([np.abs(KernelExplainer(f, background, random_state=s)(X, nsamples=b).values - truth).mean() for s in range(3)])
        for b in (400, 1200, 3000)
    ]
    assert errors[0] > errors[1] > errors[2], errors
    full = KernelExplainer(f, background, random_state=0)(X, nsamples=4094)
    np.testing.assert_allclose(full.values, truth, atol=1e-9)
    assert np.all(full.std_errors == 0.0)


@pytest.mark.parametrize("rows", [1, 5])
def test_adjusted_results_are_seeded_and_thread_independent(rows):
    f, X, background = _high_order_problem()
    X = np.vstack([X, X + 0.5])[:rows]
    a = KernelExplainer(f, background, random_state=3, n_jobs=1)(X, nsamples=900)
    b = KernelExplainer(f, background, random_state=3, n_jobs=2)(X, nsamples=900)
    c = KernelExplainer(f, background, random_state=4, n_jobs=1)(X, nsamples=900)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.std_errors, b.std_errors)
    assert not np.array_equal(a.values, c.values)


def test_adjusted_multi_output_and_logit_link():
    f, X, background = _high_order_problem()

    def proba(Z):
        p = 1.0 / (1.0 + np.exp(-0.5 * f(Z)))
        return np.c_[1.0 - p, p]

    truth = ExactExplainer(proba, background, link="logit")(X).values
    explainer = KernelExplainer(proba, background, link="logit", random_state=0)
    adjusted = explainer(X, nsamples=1200)
    plain = explainer(X, nsamples=1200, adjust=False)
    assert adjusted.values.shape == truth.shape == (4, 12, 2)
    np.testing.assert_allclose(adjusted.values.sum(axis=1) + adjusted.base_values, np.log(proba(X) / (1 - proba(X))), atol=1e-9)
    assert np.abs(adjusted.values - truth).mean() < 0.6 * np.abs(plain.values - truth).mean()
