"""refresh_leaves on boosted ensembles against the documented Newton rule, computed by hand.

Each tree's leaf gets ``decay * old + (1 - decay) * learning_rate * (-sum(w g) / (sum(w h) + lambda))``
with the gradient g and hessian h of the link's loss (squared error, logistic, softmax, Poisson)
at the margin of the refreshed trees before it. The oracle below groups rows by leaf and sums
by hand; it shares no code with refresh_leaves (it only reads the ensemble's structure: leaf
ids, the tree-to-output map and the base score).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

from loopwise.models import TreeEnsemble
from loopwise.online import refresh_leaves


def _loss_derivatives(link, margin, y, k):
    if link == "identity":
        return margin[:, k] - y, np.ones(len(y))
    if link == "exp":
        mu = np.exp(margin[:, k])
        return mu - y, mu
    if link == "logistic":
        p = 1.0 / (1.0 + np.exp(-margin[:, 0]))
        return p - (y == 1), p * (1 - p)
    e = np.exp(margin - margin.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return p[:, k] - (y == k), p[:, k] * (1 - p[:, k])


def _newton_margin(ensemble, X, y, rate, weights, reg_lambda):
    """Margin of the ensemble with every leaf replaced by its Newton step (decay 0)."""
    leaves = ensemble.apply(X)
    outputs = ensemble.fields["tree_output"]
    margin = np.tile(np.asarray(ensemble.base_score, dtype=float), (len(y), 1))
    for t, k in enumerate(outputs):
        g, h = _loss_derivatives(ensemble.link, margin, y, int(k))
        contribution = np.zeros(len(y))
        for leaf in np.unique(leaves[:, t]):
            rows = leaves[:, t] == leaf
            contribution[rows] = -rate * np.sum(weights[rows] * g[rows]) / (np.sum(weights[rows] * h[rows]) + reg_lambda)
        margin[:, int(k)] += contribution
    return margin


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    w = rng.uniform(0.2, 2.0, size=n)
    return X, w, rng


def _regressor(X, rng):
    y = X[:, 0] + rng.normal(scale=0.2, size=len(X))
    return GradientBoostingRegressor(n_estimators=4, max_depth=2, random_state=0).fit(X, y), y - 0.7 * X[:, 1]


def _binary(X, rng):
    y = (X[:, 0] > 0).astype(int)
    model = GradientBoostingClassifier(n_estimators=4, max_depth=2, random_state=0).fit(X, y)
    return model, (X[:, 1] + 0.3 * rng.normal(size=len(X)) > 0).astype(int)


def _multiclass(X, rng):
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    model = GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, y)
    return model, np.digitize(X[:, 1] + 0.2 * rng.normal(size=len(X)), [-0.4, 0.6])


def _poisson(X, rng):
    lightgbm = pytest.importorskip("lightgbm")
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    model = lightgbm.LGBMRegressor(objective="poisson", n_estimators=4, num_leaves=4, verbose=-1, n_jobs=1).fit(X, y)
    return model, rng.poisson(np.exp(0.8 * X[:, 1] + 0.3)).astype(float)


@pytest.mark.parametrize("make, link", [(_regressor, "identity"), (_binary, "logistic"), (_multiclass, "softmax"),
                                        (_poisson, "exp")])
@pytest.mark.parametrize("weighted", [False, True])
def test_boosted_leaves_take_the_newton_step_of_the_links_loss(make, link, weighted):
    X, w, rng = _data()
    model, y_new = make(X, rng)
    ensemble = TreeEnsemble.from_model(model)
    assert ensemble.link == link
    weights = w if weighted else np.ones(len(X))
    rate, reg_lambda = 0.3, (1.5 if weighted else 0.0)
    refreshed = refresh_leaves(model, X, y_new, decay=0.0, learning_rate=rate, reg_lambda=reg_lambda,
                               sample_weight=weights if weighted else None)
    expected = _newton_margin(ensemble, X, y_new, rate, weights, reg_lambda)
    got = np.asarray(refreshed.decision_function(X), dtype=float).reshape(len(X), -1)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10)


def test_boosted_leaves_blend_old_and_new_values_by_decay():
    X, _, rng = _data()
    model, y_new = _binary(X, rng)
    rate, decay = 0.2, 0.6
    refreshed = refresh_leaves(model, X, y_new, decay=decay, learning_rate=rate)
    # By hand from scikit-learn's own trees: old leaf values are learning_rate * tree value.
    margin = model.decision_function(X) - model.learning_rate * sum(e[0].predict(X) for e in model.estimators_)
    for (tree,) in model.estimators_:
        p = 1.0 / (1.0 + np.exp(-margin))
        g, h = p - y_new, p * (1 - p)
        leaves = tree.apply(X)
        old = model.learning_rate * tree.predict(X)
        contribution = np.empty(len(X))
        for leaf in np.unique(leaves):
            rows = leaves == leaf
            contribution[rows] = decay * old[rows] + (1 - decay) * rate * (-g[rows].sum() / h[rows].sum())
        margin = margin + contribution
    np.testing.assert_allclose(refreshed.decision_function(X), margin, rtol=1e-9, atol=1e-10)


# ------------------------------------------------------------------ targets of a label-less ensemble
def _without_classes(model):
    ensemble = TreeEnsemble.from_model(model)
    return TreeEnsemble(ensemble.fields, feature_names=ensemble.feature_names, task=ensemble.task, classes=None)


def test_an_ensemble_without_class_labels_takes_class_indices():
    X, _, rng = _data()
    model, y_new = _binary(X, rng)
    bare = _without_classes(model)
    refreshed = refresh_leaves(bare, X, y_new, decay=0.0, learning_rate=0.3)
    expected = _newton_margin(bare, X, y_new, 0.3, np.ones(len(X)), 0.0)
    np.testing.assert_allclose(np.asarray(refreshed.decision_function(X)).reshape(-1), expected[:, 0], rtol=1e-9)
    message = "^y must hold class indices 0..K-1 for an ensemble without class labels$"
    for bad in (2, -1, 0.5):
        y_bad = y_new.astype(float)
        y_bad[0] = bad
        with pytest.raises(ValueError, match=message):
            refresh_leaves(bare, X, y_bad)
    three = _without_classes(_multiclass(X, rng)[0])
    y3 = np.digitize(X[:, 2], [-0.5, 0.5])  # 0, 1 and 2 are all valid for three outputs
    refresh_leaves(three, X, y3, learning_rate=0.3)
    with pytest.raises(ValueError, match=message):
        refresh_leaves(three, X, np.where(y3 == 2, 3, y3))


def test_regression_targets_must_be_finite():
    X, _, rng = _data()
    model, y_new = _regressor(X, rng)
    y_new[3] = np.nan
    with pytest.raises(ValueError, match="^y must be finite$"):
        refresh_leaves(model, X, y_new)


# ----------------------------------------------------------------------- estimated shrinkage
def _hand_rate(model, X, y_new):
    """The documented estimate: hessian-weighted RMS ratio of old leaf values to unshrunk Newton
    steps along the old boosting path (squared error: h = 1), clipped to [0.001, 1]."""
    margin = model.predict(X) - model.learning_rate * sum(e[0].predict(X) for e in model.estimators_)
    cross = norm = 0.0
    for (tree,) in model.estimators_:
        leaves = tree.apply(X)
        old = model.learning_rate * tree.predict(X)
        for leaf in np.unique(leaves):
            rows = leaves == leaf
            H = rows.sum()
            step = -np.sum(margin[rows] - y_new[rows]) / H
            cross += old[rows][0] ** 2 * H
            norm += step**2 * H
        margin = margin + old
    return float(np.clip(np.sqrt(cross / norm), 1e-3, 1.0))


@pytest.mark.parametrize("shift", [0.5, 1e5, 0.0])
def test_an_unknown_learning_rate_is_estimated_as_documented(shift):
    X, _, rng = _data()
    model, y_new = _regressor(X, rng)
    # shift 1e5: huge steps, the ratio clips at 0.001; shift 0: the champion's own predictions.
    y_new = model.predict(X) + 0.01 * rng.normal(size=len(X)) if shift == 0.0 else y_new + shift
    source = TreeEnsemble.from_model(model)
    bare = TreeEnsemble(source.fields, feature_names=source.feature_names, task=source.task, learning_rate=None)
    rate = _hand_rate(model, X, y_new)
    if shift == 1e5:
        assert rate == 1e-3
    if shift == 0.5:
        assert 1e-3 < rate < 1.0  # not clipped
    refreshed = refresh_leaves(bare, X, y_new, decay=0.0)
    expected = _newton_margin(bare, X, y_new, rate, np.ones(len(X)), 0.0)
    np.testing.assert_allclose(refreshed.decision_function(X), expected[:, 0], rtol=1e-8, atol=1e-9)
    assert refreshed.learning_rate is None  # an estimate is not recorded as the model's rate


def test_the_refreshed_ensemble_keeps_the_champions_description():
    X, _, rng = _data()
    model, y_new = _binary(X, rng)
    import pandas as pd

    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    source = TreeEnsemble.from_model(model.fit(frame, (X[:, 0] > 0).astype(int)))
    refreshed = refresh_leaves(source, frame, y_new, learning_rate=0.25)
    assert refreshed.feature_names == source.feature_names == ["a", "b", "c"]
    assert list(refreshed.classes) == list(source.classes) and refreshed.task == source.task
    assert refreshed.supports_missing == source.supports_missing and refreshed.categories == source.categories
    assert refreshed.source == source.source and refreshed.learning_rate == 0.25
    assert refresh_leaves(model, frame, y_new).learning_rate == model.learning_rate


def test_forest_leaves_reached_only_by_zero_weight_rows_keep_their_value():
    from sklearn.ensemble import RandomForestRegressor

    X, _, rng = _data()
    y = X[:, 0] + 0.1 * rng.normal(size=len(X))
    forest = RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(X, y)
    weights = (X[:, 1] > 0).astype(float)  # half the rows carry no weight
    refreshed = refresh_leaves(forest, X, y + 3.0, decay=0.0, sample_weight=weights)
    per_tree = []
    for tree in forest.estimators_:
        leaves, old = tree.apply(X), tree.predict(X)
        value = old.copy()
        for leaf in np.unique(leaves):
            rows = leaves == leaf
            if weights[rows].sum() > 0:
                value[rows] = np.average(y[rows] + 3.0, weights=weights[rows])
        per_tree.append(value)
    np.testing.assert_allclose(refreshed.predict(X), np.mean(per_tree, axis=0), rtol=1e-9)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"decay": "0.5"}, TypeError, "^decay must be a number in \\[0, 1\\], got str$"),
    ({"learning_rate": 0}, ValueError, "^learning_rate must be a positive number, got 0$"),
    ({"learning_rate": 1e6 * (1 + 1e-15)}, ValueError, "learning_rate must be a positive number"),
    ({"learning_rate": "0.1"}, ValueError, "learning_rate must be a positive number"),
    ({"reg_lambda": "1"}, ValueError, "^reg_lambda must be >= 0, got '1'$"),
    ({"sample_weight": [1.0, 2.0]}, ValueError, "^sample_weight must hold one finite, non-negative weight per row$"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    X, _, rng = _data(50)
    model, y_new = _regressor(X, rng)
    with pytest.raises(error, match=match):
        refresh_leaves(model, X, y_new, **kwargs)


def test_edges_of_the_accepted_arguments():
    X, _, rng = _data(50)
    model, y_new = _regressor(X, rng)
    refresh_leaves(model, X, y_new, learning_rate=1e6)  # the documented upper bound is inclusive
    one = refresh_leaves(model, X[:1], y_new[:1], decay=0.0, learning_rate=0.5)  # a single row is data
    assert one.predict(X[:1]).shape == (1,)
    with pytest.raises(ValueError, match="0 rows|no rows"):
        refresh_leaves(model, X[:0], y_new[:0])
    w = np.ones((len(X), 1))  # a column of weights is one weight per row
    np.testing.assert_allclose(refresh_leaves(model, X, y_new, sample_weight=w, learning_rate=0.3).predict(X),
                               refresh_leaves(model, X, y_new, learning_rate=0.3).predict(X))
