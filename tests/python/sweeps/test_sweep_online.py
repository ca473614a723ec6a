"""Generated hostile inputs for the online learners: parameters, training data, prediction data."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from _hostile_values import SWEEP, Hostile, assert_clean, matrices, numbers
from loopwise.online import RLSRegressor, SGDClassifier, SGDRegressor
from loopwise.online._linear import MAX_ITER

INF = math.inf
# name -> (factory, {parameter: documented valid range as numbers() arguments})
SGD_RANGES = {"eta0": dict(low=0.0, low_open=True), "power_t": dict(low=0.0), "alpha": dict(low=0.0),
              "l1": dict(low=0.0), "beta1": dict(low=0.0, high=1.0, high_open=True),
              "beta2": dict(low=0.0, high=1.0, high_open=True), "prox": dict(low=0.0),
              "max_iter": dict(low=1, high=MAX_ITER, integer=True)}
LEARNERS = {
    "SGDClassifier": (lambda **k: SGDClassifier(random_state=0, **k), SGD_RANGES),
    "SGDRegressor": (lambda **k: SGDRegressor(random_state=0, **k), {**SGD_RANGES, "epsilon": dict(low=0.0)}),
    "RLSRegressor": (lambda **k: RLSRegressor(**k), {"forgetting": dict(low=0.0, high=1.0, low_open=True),
                                                     "alpha": dict(low=0.0, low_open=True)}),
}


def _data(n=30, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] > 0).astype(int)


@SWEEP
@given(learner=st.sampled_from(sorted(LEARNERS)), data=st.data())
def test_parameters(learner, data):
    make, ranges = LEARNERS[learner]
    name = data.draw(st.sampled_from(sorted(ranges)))
    value: Hostile = data.draw(numbers(**ranges[name]))
    X, y = _data()
    # A valid step size can still overflow the weights; that must be an error naming it, which
    # counts as clean (the generator cannot know which large values overflow).
    assert_clean(lambda: make(**{name: value.value}).fit(X, y).predict(X), [name, "overflow"], value.invalid,
                 f"{learner}({name}={value.label})")


@SWEEP
@given(learner=st.sampled_from(sorted(LEARNERS)), X=matrices(3, allow_nan=False, min_rows=1))
def test_fit_on_hostile_features(learner, X: Hostile):
    make, _ = LEARNERS[learner]
    n = len(X.value) if hasattr(X.value, "__len__") else 0
    y = np.arange(n) % 2
    # A classifier needs two classes to learn from: one row is refused too.
    must_fail = X.invalid or (learner == "SGDClassifier" and n < 2)
    probe, _ = _data(4)
    assert_clean(lambda: make().fit(X.value, y).predict(probe), ["X", "y", "overflow"], must_fail,
                 f"{learner}.fit({X.label})")


@SWEEP
@given(learner=st.sampled_from(sorted(LEARNERS)), X=matrices(3, allow_nan=False, min_rows=0))
def test_predict_on_hostile_features(learner, X: Hostile):
    make, _ = LEARNERS[learner]
    model = make().fit(*_data())
    assert_clean(lambda: model.predict(X.value), ["X", "feature"], X.invalid, f"{learner}.predict({X.label})")
