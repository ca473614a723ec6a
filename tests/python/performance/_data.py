"""Classification data with a known P(y | x), so a chunk's expected metric is known exactly."""

from __future__ import annotations

import numpy as np


def features(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    X = rng.normal(size=(n, 3))
    X[:, 0] += shift
    X[:, 2] = X[:, 0] + 0.3 * rng.normal(size=n)  # a near copy: naive Bayes counts x0 twice
    return X


def truth(X: np.ndarray) -> np.ndarray:
    """P(y = 1 | x)."""
    return 1.0 / (1.0 + np.exp(-(1.2 * X[:, 0] - X[:, 1] + 0.4 * X[:, 2] + 0.3)))


def draw(rng: np.random.Generator, X: np.ndarray) -> np.ndarray:
    return (rng.random(len(X)) < truth(X)).astype(int)


def softmax_truth(X: np.ndarray) -> np.ndarray:
    """P(y = k | x) for three classes."""
    logits = np.column_stack([1.5 * X[:, 0], -1.2 * X[:, 0] + X[:, 1], 0.8 * X[:, 1] - 0.5])
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def draw_multiclass(rng: np.random.Generator, X: np.ndarray) -> np.ndarray:
    P = softmax_truth(X)
    return (rng.random(len(X))[:, None] > np.cumsum(P, axis=1)).sum(axis=1)
