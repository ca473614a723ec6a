"""Oracles for the model-agnostic explainer tests: Shapley values from the definition."""

from __future__ import annotations

import itertools
import math

import numpy as np


def coalition_value(f, x, background, weights, subset):
    """Mean of f over background rows with the features in ``subset`` taken from x."""
    rows = background.copy()
    if subset:
        rows[:, list(subset)] = x[list(subset)]
    return np.average(np.asarray(f(rows), dtype=float), axis=0, weights=weights)


def brute_force_shapley(f, X, background, weights=None, link=lambda v: v):
    """phi_j = sum over S without j of |S|!(M-|S|-1)!/M! (v(S+j) - v(S)), straight from the definition."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    background = np.asarray(background, dtype=float)
    M = X.shape[1]
    out = []
    for x in X:
        cache = {}

        def v(subset):
            key = tuple(sorted(subset))
            if key not in cache:
                cache[key] = link(coalition_value(f, x, background, weights, key))
            return cache[key]

        phi = []
        for j in range(M):
            others = [i for i in range(M) if i != j]
            total = 0.0
            for size in range(M):
                weight = math.factorial(size) * math.factorial(M - size - 1) / math.factorial(M)
                for subset in itertools.combinations(others, size):
                    total = total + weight * (v(subset + (j,)) - v(subset))
            phi.append(total)
        out.append(np.array(phi))
    return np.array(out)


def interacting(X):
    """A nonlinear function with interactions of order 2 and 3."""
    X = np.asarray(X, dtype=float)
    return X[:, 0] * X[:, 1] * X[:, 2] + np.sin(X[:, 3]) * X[:, 4] + 0.5 * X[:, 5] ** 2 + np.tanh(X[:, 1] - X[:, 4])


