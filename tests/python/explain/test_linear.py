"""LinearExplainer: closed form, brute force, ExactExplainer and shap agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from loopwise.explain import ExactExplainer, LinearExplainer, kmeans


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = X @ [1.5, -2.0, 0.0, 0.7, 3.0] + 0.1 * rng.normal(size=300)
    return X, y


def test_closed_form_and_exact(data):
    X, y = data
    model = LinearRegression().fit(X, y)
    explainer = LinearExplainer(model, X[:50])
    e = explainer(X[:10])
    np.testing.assert_allclose(e.values, (X[:10] - X[:50].mean(0)) * model.coef_, atol=1e-12)
    np.testing.assert_allclose(e.output(), model.predict(X[:10]), atol=1e-10)
    exact = ExactExplainer(model.predict, X[:50])(X[:10]).values
    np.testing.assert_allclose(e.values, exact, atol=1e-10)
    assert explainer.expected_value == pytest.approx(model.predict(X[:50]).mean())


def test_agrees_with_shap(data):
    import shap
    X, y = data
    model = Ridge(alpha=2.0).fit(X, y)
    ours = LinearExplainer(model, X[:100])(X[:5]).values
    theirs = shap.LinearExplainer(model, X[:100]).shap_values(X[:5])
    np.testing.assert_allclose(ours, theirs, atol=1e-10)


def test_logistic_margin_binary_and_multinomial(data):
    X, y = data
    binary = LogisticRegression().fit(X, y > 0)
    e = LinearExplainer(binary, X)(X[:4])
    assert e.values.shape == (4, 5)
    np.testing.assert_allclose(e.output(), binary.decision_function(X[:4]), atol=1e-10)
    labels = np.digitize(y, [-1.0, 1.0])
    multi = LogisticRegression(max_iter=1000).fit(X, labels)
    e = LinearExplainer(multi, X)(X[:4])
    assert e.values.shape == (4, 5, 3) and e.output_names == ["0", "1", "2"]
    np.testing.assert_allclose(e.output(), multi.decision_function(X[:4]), atol=1e-10)


def test_tuple_weighted_background_and_frames(data):
    X, y = data
    frame = pd.DataFrame(X, columns=list("abcde"))
    background = kmeans(frame, 8, random_state=0)
    coef = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    e = LinearExplainer((coef, 0.5), background)(frame.iloc[:3])
    mean = background.weights @ background.data
    np.testing.assert_allclose(e.values, (X[:3] - mean) * coef)
    assert e.feature_names == list("abcde")


def test_bad_inputs(data):
    X, _ = data
    with pytest.raises(TypeError, match="model"):
        LinearExplainer(object(), X)
    with pytest.raises(ValueError, match="background"):
        LinearExplainer((np.ones(5), 0.0), X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        LinearExplainer((np.ones(5), 0.0), np.full((2, 5), np.nan))
    explainer = LinearExplainer((np.ones(5), 0.0), X)
    with pytest.raises(ValueError, match="columns"):
        explainer(X[:, :4])
