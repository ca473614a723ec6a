"""Background helpers (kmeans, sample) and surrogate_tree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopwise.explain import Background, kmeans, sample, surrogate_tree


def test_kmeans_weights_are_cluster_sizes_and_values_are_observed():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 0.1, size=(30, 2)), rng.normal(5, 0.1, size=(10, 2))]
    X[:, 1] = np.round(X[:, 1])
    b = kmeans(X, 2, random_state=0)
    assert sorted(b.weights.tolist()) == [0.25, 0.75]
    for j in range(2):
        assert set(b.data[:, j]) <= set(X[:, j])
    again = kmeans(X, 2, random_state=0)
    np.testing.assert_array_equal(b.data, again.data)
    unrounded = kmeans(X, 2, round_values=False, random_state=0)
    assert not set(unrounded.data[:, 0]) <= set(X[:, 0])


def test_kmeans_and_sample_keep_the_schema():
    frame = pd.DataFrame({"a": np.arange(50.0), "b": pd.Categorical(["u", "v"] * 25)})
    b = kmeans(frame, 5, random_state=1)
    assert b.feature_names == ["a", "b"] and list(b.template.columns) == ["a", "b"]
    s = sample(frame, 7, random_state=1)
    assert len(s) == 7 and np.allclose(s.weights, 1 / 7)
    assert set(s.data[:, 0]) <= set(frame["a"])
    assert len(sample(frame, 500, random_state=0)) == 50


def test_background_helpers_bad_inputs():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="k"):
        kmeans(X, 0)
    with pytest.raises(TypeError, match="k"):
        kmeans(X, 2.5)
    with pytest.raises(ValueError, match="NaN"):
        kmeans(np.full((4, 2), np.nan), 2)
    with pytest.raises(ValueError, match="n"):
        sample(X, -1)
    with pytest.raises(ValueError, match="weights"):
        Background(X, np.ones(3))
    with pytest.raises(ValueError, match="weights"):
        Background(X, -np.ones(10))


def test_surrogate_regression_and_classification():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(800, 3)), columns=["p", "q", "r"])

    def f(df):
        assert isinstance(df, pd.DataFrame)
        return np.where(df["p"] > 0, 2.0, -1.0) + 0.5 * (df["q"] > 1)

    s = surrogate_tree(f, X, max_depth=2)
    assert s.task == "regression" and s.train_fidelity == pytest.approx(1.0) and s.fidelity > 0.95
    text = str(s)
    assert "fidelity R^2" in text and "p <=" in text
    assert s.to_dict()["depth"] == 2
    labels = surrogate_tree(lambda df: (df["p"] + df["q"] > 0).astype(int).to_numpy(), X, max_depth=3)
    assert labels.task == "classification" and 0.8 < labels.fidelity <= 1.0
    assert "agreement" in str(labels)

    from sklearn.ensemble import GradientBoostingRegressor

    model = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(X, X["p"] ** 2)
    s = surrogate_tree(model, X, max_depth=3)
    np.testing.assert_allclose(s.predict(X.iloc[:3]).shape, (3,))


def test_surrogate_bad_inputs():
    X = np.zeros((10, 2))
    with pytest.raises(TypeError, match="model_or_predict"):
        surrogate_tree(3, X)
    with pytest.raises(ValueError, match="max_depth"):
        surrogate_tree(lambda Z: Z[:, 0], X, max_depth=0)
    with pytest.raises(ValueError, match="test_size"):
        surrogate_tree(lambda Z: Z[:, 0], X, test_size=1.5)
    with pytest.raises(ValueError, match="task"):
        surrogate_tree(lambda Z: Z[:, 0], X, task="ranking")
    with pytest.raises(ValueError, match="shape"):
        surrogate_tree(lambda Z: Z, X)
    with pytest.raises(ValueError, match="NaN"):
        surrogate_tree(lambda Z: np.full(len(Z), np.nan), X)
