"""refresh_leaves: identity at decay=1, better loss on drifted data, every supported library."""

from __future__ import annotations

import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor, HistGradientBoostingClassifier,
                              RandomForestClassifier, RandomForestRegressor)

from loopwise.models import TreeEnsemble
from loopwise.online import refresh_leaves


def _log_loss(p, y):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _binary_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2000, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    Xd = rng.normal(size=(2000, 5))
    yd = (Xd[:, 0] - 0.5 * Xd[:, 1] > 0.3).astype(int)
    return X, y, Xd, yd


def _classifiers():
    models = [GradientBoostingClassifier(n_estimators=30, random_state=0),
              HistGradientBoostingClassifier(max_iter=30, random_state=0),
              RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0)]
    try:
        import lightgbm

        models.append(lightgbm.LGBMClassifier(n_estimators=30, verbose=-1, n_jobs=1))
    except ImportError:  # pragma: no cover
        pass
    try:
        import xgboost

        models.append(xgboost.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1))
    except ImportError:  # pragma: no cover
        pass
    return models


@pytest.mark.parametrize("model", _classifiers(), ids=lambda m: type(m).__name__)
def test_classifiers_identity_and_drift(model):
    X, y, Xd, yd = _binary_data()
    with threadpool_limits(1):  # the machine is shared: one thread is plenty for these sizes
        model.fit(X, y)
    ensemble = TreeEnsemble.from_model(model)
    unchanged = refresh_leaves(model, X, y, decay=1.0)
    np.testing.assert_array_equal(unchanged.predict(X), ensemble.predict(X))
    refreshed = refresh_leaves(model, Xd[:1000], yd[:1000], decay=0.0)
    before = _log_loss(ensemble.predict_proba(Xd[1000:])[:, 1], yd[1000:])
    after = _log_loss(refreshed.predict_proba(Xd[1000:])[:, 1], yd[1000:])
    assert after < 0.6 * before
    blended = refresh_leaves(model, Xd[:1000], yd[:1000], decay=0.5)
    assert after <= _log_loss(blended.predict_proba(Xd[1000:])[:, 1], yd[1000:]) + 0.05
    # The result is a TreeEnsemble like any other: it saves and reloads exactly.
    again = TreeEnsemble.from_dict(json.loads(json.dumps(refreshed.to_dict())))
    np.testing.assert_array_equal(again.predict(Xd), refreshed.predict(Xd))


def test_regressors_and_a_tree_ensemble_without_learning_rate():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 4))
    y = X[:, 0] - X[:, 1] + rng.normal(scale=0.1, size=2000)
    y_drift = 1.5 * y + 1.0  # same features, new relation: expressible with the same splits
    for model in (GradientBoostingRegressor(n_estimators=40, random_state=0),
                  RandomForestRegressor(n_estimators=20, max_depth=8, random_state=0)):
        model.fit(X[:1000], y[:1000])
        for champion in (model, TreeEnsemble.from_model(model)):
            ensemble = TreeEnsemble.from_model(model)
            np.testing.assert_array_equal(refresh_leaves(champion, X, y, decay=1.0).predict(X), ensemble.predict(X))
            refreshed = refresh_leaves(champion, X[1000:1500], y_drift[1000:1500], decay=0.0)
            before = np.mean((ensemble.predict(X[1500:]) - y_drift[1500:]) ** 2)
            after = np.mean((refreshed.predict(X[1500:]) - y_drift[1500:]) ** 2)
            assert after < 0.9 * before, type(model).__name__


def test_multiclass_boosting_and_explicit_learning_rate():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(1500, 4))
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    model = GradientBoostingClassifier(n_estimators=20, learning_rate=0.2, random_state=0).fit(X, y)
    y_drift = (y + 1) % 3  # the classes swap places: expressible with the same splits
    refreshed = refresh_leaves(TreeEnsemble.from_model(model), X[:1000], y_drift[:1000], decay=0.0, learning_rate=0.2)
    assert (refreshed.predict_proba(X[1000:]).argmax(1) == y_drift[1000:]).mean() > \
        (model.predict(X[1000:]) == y_drift[1000:]).mean() + 0.2


def test_bad_inputs():
    X, y, _, _ = _binary_data()
    model = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="decay"):
        refresh_leaves(model, X, y, decay=1.5)
    with pytest.raises(TypeError, match="decay"):
        refresh_leaves(model, X, y, decay="high")
    with pytest.raises(ValueError, match="label"):
        refresh_leaves(model, X, np.full(len(X), 7))
    with pytest.raises(ValueError, match="y has"):
        refresh_leaves(model, X, y[:10])
    with pytest.raises(ValueError):
        refresh_leaves(model, X[:, :3], y)
    with pytest.raises(ValueError, match="sample_weight"):
        refresh_leaves(model, X, y, sample_weight=-np.ones(len(X)))


def test_refreshed_ensemble_explains_additively():
    import loopwise

    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 3))
    y = X[:, 0] + rng.normal(scale=0.1, size=500)
    model = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(X, y)
    refreshed = refresh_leaves(model, X, 2 * y, decay=0.0)
    explanation = loopwise.TreeExplainer(refreshed)(X[:20])
    np.testing.assert_allclose(explanation.values.sum(axis=1) + explanation.base_values, refreshed.predict(X[:20]),
                               atol=1e-9)


def test_the_learning_rate_travels_with_the_ensemble():
    from sklearn.ensemble import GradientBoostingRegressor

    from loopwise.models import TreeEnsemble
    from loopwise.online import refresh_leaves

    rng = np.random.default_rng(11)
    X = rng.normal(size=(600, 3))
    y = X[:, 0] + 0.1 * rng.normal(size=600)
    gbm = GradientBoostingRegressor(n_estimators=30, learning_rate=0.3, random_state=0).fit(X, y)
    ensemble = TreeEnsemble.from_model(gbm)
    assert ensemble.learning_rate == 0.3
    assert TreeEnsemble.from_json(ensemble.to_json()).learning_rate == 0.3
    once = refresh_leaves(gbm, X, y + 1.0, decay=0.5)
    assert once.learning_rate == 0.3
    # Refreshing the refreshed ensemble uses the remembered rate: the same as passing it.
    np.testing.assert_array_equal(refresh_leaves(once, X, y + 1.0, decay=0.5).predict(X),
                                  refresh_leaves(once, X, y + 1.0, decay=0.5, learning_rate=0.3).predict(X))
    assert TreeEnsemble.from_model(__import__("sklearn.ensemble", fromlist=["x"]).RandomForestRegressor(
        n_estimators=2, random_state=0).fit(X, y)).learning_rate is None
    with pytest.raises(ValueError, match="learning_rate"):
        TreeEnsemble(ensemble.fields, learning_rate=-1.0)


@pytest.mark.parametrize("booster", ["gbtree", "dart"])
def test_xgboost_and_lightgbm_learning_rates_are_read(booster):
    import lightgbm as lgb
    import xgboost as xgb

    from loopwise.models import TreeEnsemble

    rng = np.random.default_rng(12)
    X, y = rng.normal(size=(200, 3)), rng.normal(size=200)
    model = xgb.train({"eta": 0.17, "booster": booster, "max_depth": 2}, xgb.DMatrix(X, label=y), 3)
    assert TreeEnsemble.from_model(model).learning_rate == pytest.approx(0.17)
    light = lgb.LGBMRegressor(n_estimators=3, learning_rate=0.23, verbose=-1).fit(X, y)
    assert TreeEnsemble.from_model(light).learning_rate == pytest.approx(0.23)


# ------------------------------------------------ exact leaf values with weights (oracle: sklearn apply)
def _weighted_leaf_means(leaves, target, weights):
    """Per leaf id: the weighted mean of target over the rows reaching it (None when no mass)."""
    out = {}
    for leaf in np.unique(leaves):
        rows = leaves == leaf
        mass = weights[rows].sum()
        if mass > 0:
            out[int(leaf)] = float(np.sum(weights[rows] * target[rows]) / mass)
    return out


@pytest.mark.parametrize("decay", [0.0, 0.3, 1.0])
def test_weighted_forest_refresh_gives_the_weighted_leaf_mean(decay):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 3))
    y = X[:, 0] + rng.normal(scale=0.2, size=400)
    forest = RandomForestRegressor(n_estimators=4, max_depth=3, random_state=0).fit(X, y)
    Xn = rng.normal(size=(300, 3))
    yn = 2.0 * Xn[:, 0] + 1.0
    weights = rng.choice([0.0, 0.5, 1.0, 3.0], size=300)
    refreshed = refresh_leaves(forest, Xn, yn, decay=decay, sample_weight=weights)
    probe = rng.normal(size=(200, 3))
    expected = np.zeros(len(probe))
    for tree in forest.estimators_:
        means = _weighted_leaf_means(tree.apply(Xn.astype(np.float32)), yn, weights)
        for i, leaf in enumerate(tree.apply(probe.astype(np.float32))):
            old = tree.tree_.value[leaf, 0, 0]
            expected[i] += decay * old + (1 - decay) * means[leaf] if leaf in means else old
    expected /= len(forest.estimators_)
    np.testing.assert_allclose(refreshed.predict(probe), expected, rtol=1e-12, atol=1e-12)
    unweighted = refresh_leaves(forest, Xn, yn, decay=decay)
    if decay < 1:
        assert not np.allclose(unweighted.predict(probe), refreshed.predict(probe))


def test_weighted_forest_classifier_refresh_gives_weighted_class_frequencies():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y)
    Xn = rng.normal(size=(300, 3))
    yn = (Xn[:, 1] > 0).astype(int)
    weights = rng.uniform(0, 2, size=300)
    refreshed = refresh_leaves(forest, Xn, yn, decay=0.25, sample_weight=weights)
    probe = rng.normal(size=(100, 3))
    expected = np.zeros(len(probe))
    for tree in forest.estimators_:
        frequency = _weighted_leaf_means(tree.apply(Xn.astype(np.float32)), yn.astype(float), weights)
        values = tree.tree_.value[:, 0, 1] / tree.tree_.value[:, 0, :].sum(axis=1)
        for i, leaf in enumerate(tree.apply(probe.astype(np.float32))):
            expected[i] += 0.25 * values[leaf] + 0.75 * frequency[leaf] if leaf in frequency else values[leaf]
    expected /= 3
    np.testing.assert_allclose(refreshed.predict_proba(probe)[:, 1], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("decay", [0.0, 0.6])
def test_weighted_boosted_refresh_is_the_sequential_weighted_newton_step(decay):
    """Squared loss: each tree's new leaf is lr * the weighted mean residual of the rows in it,
    at the margin of the refreshed trees before it, blended with decay."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(500, 3))
    y = X[:, 0] + rng.normal(scale=0.1, size=500)
    lr = 0.3
    gbm = GradientBoostingRegressor(n_estimators=6, max_depth=2, learning_rate=lr, random_state=0).fit(X, y)
    Xn = rng.normal(size=(400, 3))
    yn = Xn[:, 0] + 2.0
    weights = rng.choice([0.0, 1.0, 2.5], size=400)
    refreshed = refresh_leaves(gbm, Xn, yn, decay=decay, sample_weight=weights)
    probe = rng.normal(size=(150, 3))
    base = float(gbm.init_.constant_.ravel()[0]) if hasattr(gbm.init_, "constant_") else float(np.mean(y))
    margin_new, margin_probe = np.full(400, base), np.full(150, base)
    for stage in gbm.estimators_[:, 0]:
        leaves = stage.apply(Xn.astype(np.float32))
        means = _weighted_leaf_means(leaves, yn - margin_new, weights)
        old = lr * stage.tree_.value[:, 0, 0]
        new = old.copy()
        for leaf, mean in means.items():
            new[leaf] = decay * old[leaf] + (1 - decay) * lr * mean
        margin_new += new[leaves]
        margin_probe += new[stage.apply(probe.astype(np.float32))]
    np.testing.assert_allclose(refreshed.predict(probe), margin_probe, rtol=1e-10, atol=1e-10)


def test_integer_weights_equal_repeated_rows_and_zero_weight_rows_change_nothing():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + rng.normal(scale=0.1, size=300)
    for model in (RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(X, y),
                  GradientBoostingRegressor(n_estimators=5, max_depth=2, random_state=0).fit(X, y)):
        Xn = rng.normal(size=(100, 3))
        yn = Xn[:, 1] - 1.0
        counts = rng.integers(0, 3, size=100)
        weighted = refresh_leaves(model, Xn, yn, decay=0.2, sample_weight=counts)
        repeated = refresh_leaves(model, np.repeat(Xn, counts, axis=0), np.repeat(yn, counts), decay=0.2)
        np.testing.assert_allclose(weighted.fields["value"], repeated.fields["value"], rtol=1e-10, atol=1e-12)
        # A leaf that only zero-weight rows reach keeps its value (it is not "reached").
        nothing = refresh_leaves(model, Xn, yn, decay=0.0, sample_weight=np.zeros(100))
        np.testing.assert_array_equal(nothing.fields["value"], TreeEnsemble.from_model(model).fields["value"])


def test_sample_weight_is_validated():
    X = np.random.default_rng(9).normal(size=(50, 2))
    model = RandomForestRegressor(n_estimators=2, max_depth=2, random_state=0).fit(X, X[:, 0])
    for bad in (np.ones(49), -np.ones(50), np.full(50, np.nan), np.full(50, np.inf)):
        with pytest.raises(ValueError, match="sample_weight"):
            refresh_leaves(model, X, X[:, 0], sample_weight=bad)
