"""The three retrainers of a policy: Refit, Incremental and RefreshLeaves.

Expected models are built independently with scikit-learn (a weighted fit of a Pipeline's final
step, ``partial_fit`` on a deep copy) or by hand from the documented rule (a forest leaf becomes
``decay * old + (1 - decay) * mean of the new targets in that leaf``), never from our own output.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.linear_model import SGDRegressor as SkSGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loopwise.loop.policy import Incremental, Refit, RefreshLeaves
from loopwise.online import SGDRegressor


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + rng.normal(scale=0.3, size=n)
    weights = rng.uniform(0.1, 3.0, size=n)  # far from uniform: ignoring them changes the fit
    return X, y, weights


# ------------------------------------------------------------------------------------ Refit
def test_refit_calls_a_custom_train_fn_with_the_window_and_returns_its_model():
    X, y, w = _data(20)
    calls = []

    def train_fn(*args, **kwargs):
        calls.append((args, kwargs))
        return "trained"

    assert Refit(train_fn=train_fn)(object(), X, y, w) == "trained"
    (args, kwargs), = calls
    assert kwargs == {} and len(args) == 3
    assert args[0] is X and args[1] is y and args[2] is w


def test_refit_clones_the_champion_and_routes_weights_to_a_pipelines_final_step():
    X, y, w = _data()
    labels = (y > 0).astype(int)
    champion = make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(X[:50], labels[:50])
    champion_coef = champion[-1].coef_.copy()
    model = Refit()(champion, X, labels, w)
    # Oracle: scikit-learn's own weighted fit of the same unfitted pipeline.
    oracle = make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(
        X, labels, logisticregression__sample_weight=w)
    np.testing.assert_allclose(model[-1].coef_, oracle[-1].coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(model[-1].intercept_, oracle[-1].intercept_, rtol=1e-6, atol=1e-8)
    unweighted = make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(X, labels)
    assert not np.allclose(model[-1].coef_, unweighted[-1].coef_, rtol=1e-3)  # the weights mattered
    # A fresh clone: the champion itself is neither refitted nor returned.
    assert model is not champion
    np.testing.assert_array_equal(champion[-1].coef_, champion_coef)


def test_refit_of_a_plain_estimator_matches_sklearns_weighted_fit():
    X, y, w = _data()
    model = Refit()(LinearRegression(), X, y, w)
    oracle = LinearRegression().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(model.coef_, oracle.coef_, rtol=1e-10)


# ------------------------------------------------------------------------------ Incremental
class _PartialOnly:
    """A learner whose partial_fit takes no sample_weight (and that has no get/set_params)."""

    def __init__(self):
        self.seen = []

    def partial_fit(self, X, y):
        self.seen.append((X, y))
        return self


def test_incremental_refuses_a_model_without_partial_fit_and_names_it():
    X, y, w = _data(10)
    with pytest.raises(TypeError, match="^LinearRegression has no partial_fit"):
        Incremental()(LinearRegression().fit(X, y), X, y, w)


@pytest.mark.parametrize("epochs", [1, 3])
def test_incremental_continues_a_deep_copy_with_the_weights(epochs):
    X, y, w = _data()
    champion = SkSGDRegressor(random_state=0, learning_rate="constant", eta0=0.01).partial_fit(X[:50], y[:50])
    before = champion.coef_.copy()
    model = Incremental(epochs=epochs)(champion, X, y, w)
    # Oracle: what the documented rule says, done by hand with scikit-learn.
    oracle = copy.deepcopy(champion)
    for _ in range(epochs):
        oracle.partial_fit(X, y, sample_weight=w)
    np.testing.assert_allclose(model.coef_, oracle.coef_, rtol=1e-12)
    unweighted = copy.deepcopy(champion)
    for _ in range(epochs):
        unweighted.partial_fit(X, y)
    assert not np.allclose(model.coef_, unweighted.coef_, rtol=1e-6)
    assert model is not champion
    np.testing.assert_array_equal(champion.coef_, before)  # the champion keeps serving unchanged


def test_incremental_leaves_a_loopwise_champion_unchanged():
    X, y, w = _data()
    champion = SGDRegressor(random_state=0).partial_fit(X[:50], y[:50])
    served = champion.predict(X)
    model = Incremental(epochs=2)(champion, X, y, w)
    np.testing.assert_array_equal(champion.predict(X), served)
    oracle = copy.deepcopy(champion)
    oracle.partial_fit(X, y, sample_weight=w)
    oracle.partial_fit(X, y, sample_weight=w)
    np.testing.assert_allclose(model.predict(X), oracle.predict(X), rtol=1e-12)


def test_incremental_falls_back_to_partial_fit_without_weights():
    X, y, w = _data(10)
    champion = _PartialOnly()
    model = Incremental(epochs=2, prox=0.5)(champion, X, y, w)  # prox: ignored, no get_params
    assert champion.seen == []
    assert len(model.seen) == 2 and all(a is X and b is y for a, b in model.seen)


def test_incremental_prox_anchors_a_loopwise_learner_to_the_champion():
    X, y, w = _data()
    champion = SGDRegressor(random_state=0).partial_fit(X[:50], y[:50])
    pulled = Incremental(prox=0.5)(champion, X, y + 5.0, w)
    params = pulled.get_params()
    assert params["prox"] == 0.5 and params["anchor"] is champion
    assert champion.get_params()["prox"] == 0.0 and champion.get_params()["anchor"] is None
    # Documented effect: the pull keeps the challenger closer to the champion than a free update.
    free = Incremental()(champion, X, y + 5.0, w)
    assert free.get_params()["anchor"] is None and free.get_params()["prox"] == 0.0
    gap_pulled = np.mean((pulled.predict(X) - champion.predict(X)) ** 2)
    gap_free = np.mean((free.predict(X) - champion.predict(X)) ** 2)
    assert gap_pulled < gap_free


def test_incremental_prox_is_ignored_by_a_model_without_a_prox_parameter():
    X, y, w = _data()
    champion = SkSGDRegressor(random_state=0).partial_fit(X[:50], y[:50])
    model = Incremental(prox=0.5)(champion, X, y, w)
    oracle = copy.deepcopy(champion).partial_fit(X, y, sample_weight=w)
    np.testing.assert_allclose(model.coef_, oracle.coef_, rtol=1e-12)


# ---------------------------------------------------------------------------- RefreshLeaves
def _forest_oracle(forest, X, y, decay, weights=None):
    """Refreshed predictions on X by hand: each tree's leaf value blends with the new leaf mean."""
    weights = np.ones(len(y)) if weights is None else weights
    leaves = forest.apply(X)
    per_tree = []
    for t, tree in enumerate(forest.estimators_):
        old = tree.tree_.value[:, 0, 0]
        new = old.copy()
        for leaf in np.unique(leaves[:, t]):
            rows = leaves[:, t] == leaf
            new[leaf] = decay * old[leaf] + (1 - decay) * np.average(y[rows], weights=weights[rows])
        per_tree.append(new[leaves[:, t]])
    return np.mean(per_tree, axis=0)


@pytest.mark.parametrize("decay", [0.0, 0.5])
def test_refresh_leaves_blends_each_leaf_with_the_new_leaf_means(decay):
    X, y, w = _data(300)
    forest = RandomForestRegressor(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    shifted = y + 2.0
    refreshed = RefreshLeaves(decay=decay)(forest, X, shifted, np.ones(len(y)))
    np.testing.assert_allclose(refreshed.predict(X), _forest_oracle(forest, X, shifted, decay), rtol=1e-9)
    # The champion's own leaves are untouched.
    np.testing.assert_allclose(forest.predict(X), _forest_oracle(forest, X, y, 1.0), rtol=1e-12)


def test_refresh_leaves_uses_the_selection_weights():
    # Was a bug found by mutation testing: RefreshLeaves dropped sample_weight.
    # Policy(selection=TimeDecay(...), retrain=RefreshLeaves()) should weight recent rows more,
    # as Refit and Incremental do; refresh_leaves itself takes sample_weight.
    X, y, w = _data(300)
    forest = RandomForestRegressor(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    shifted = y + 2.0 * (w > 1.5)  # the heavy rows moved
    refreshed = RefreshLeaves(decay=0.0)(forest, X, shifted, w)
    np.testing.assert_allclose(refreshed.predict(X), _forest_oracle(forest, X, shifted, 0.0, w), rtol=1e-9)
