"""One set of rules for the loop: the monitor's alert thresholds are the policy's, and the
monitor, the gate and the model card agree on the positive class and the smallest group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.linear_model import LogisticRegression

from loopwise.loop import FeedbackLoop, Policy
from loopwise.loop._groups import MIN_GROUP_SIZE, fairness_gaps, group_labels
from loopwise.loop._scoring import labels_equal, positive_class
from loopwise.loop.feedback_loop import _fairness_gaps
from loopwise.loop.validation import validate


def _data(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    X["group"] = (rng.random(n) < 0.4).astype(float)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * X["a"] - X["b"])))).astype(int)
    return X, y


@pytest.fixture()
def labelled(tmp_path):
    X_ref, y_ref = _data(1500, seed=1)
    model = LogisticRegression().fit(X_ref, y_ref)
    loop = FeedbackLoop(tmp_path / "loop", model=model, reference=X_ref, reference_labels=y_ref,
                        policy=Policy(triggers=[]), sensitive=["group"], monitor_rows=1000, trusted=True)
    X, y = _data(1000, seed=2)
    ids = [f"r{i}" for i in range(1000)]
    predictions = loop.predict(X, ids=ids)
    # Flip a quarter of the labels the model got right, so the accuracy falls below its baseline.
    y = y.copy()
    right = np.flatnonzero(predictions == y)[::4]
    y[right] = 1 - y[right]
    loop.feedback(ids, y)
    yield loop, model, X_ref, X
    loop.close()


def test_alert_thresholds_default_to_the_old_literals():
    assert (Policy().alert_drift_p, Policy().alert_drop) == (0.01, 0.02)
    for bad in ({"alert_drift_p": -0.1}, {"alert_drift_p": 1.5}, {"alert_drift_p": float("nan")},
                {"alert_drop": -0.1}, {"alert_drop": "0.1"}, {"alert_drop": True}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Policy(**bad)


def test_prediction_drift_alert_follows_the_policy(labelled):
    loop, model, X_ref, X = labelled
    p = ks_2samp(model.predict_proba(X_ref)[:, 1], model.predict_proba(X)[:, 1]).pvalue
    assert 0.01 < p < 0.99  # the same distribution: no alert under the default
    for threshold, alerted in ((p * 0.99, False), (min(0.999, p * 1.01), True)):
        loop.policy = Policy(triggers=[], alert_drift_p=threshold)
        status = loop.check()
        assert status.prediction_drift_p == pytest.approx(p)
        assert any(i.kind == "prediction_drift" for i in status.incidents) is alerted, threshold


def test_performance_drop_alert_follows_the_policy(labelled):
    loop, _, _, _ = labelled
    status = loop.check()
    drop = status.baseline_metric - status.metric
    assert drop > 0.05
    for threshold, alerted in ((drop * 0.99, True), (drop * 1.01, False)):
        loop.policy = Policy(triggers=[], alert_drop=threshold)
        status = loop.check()
        assert any(i.kind == "performance_drop" for i in status.incidents) is alerted, threshold


def test_monitor_judges_the_groups_the_gate_judges(labelled):
    loop, _, _, X = labelled
    small = int(min((X["group"] == 1).sum(), (X["group"] == 0).sum()))
    assert loop.check().fairness_gaps["group"]
    loop.policy = Policy(triggers=[], gate={"min_slice_size": small + 1})
    assert loop.check().fairness_gaps["group"] == {}
    loop.policy = Policy(triggers=[], gate={"min_slice_size": small})
    assert loop.check().fairness_gaps["group"]


def test_positive_class_compares_numbers_as_numbers():
    assert positive_class([2, 10]) == 10
    assert positive_class(np.array([2.0, 10.0])) == 10.0
    assert positive_class(["2", "10"]) == "2"
    assert positive_class([False, True]) is True
    with pytest.raises(ValueError):
        positive_class([])


def test_monitor_and_gate_agree_on_fairness_gaps_with_numeric_labels():
    # Labels 2 and 10: sorting them as text would call 2 positive, as numbers 10.
    rng = np.random.default_rng(0)
    n = 400
    groups = np.where(rng.random(n) < 0.5, "x", "y")
    labels = np.where(rng.random(n) < 0.5, 2, 10)
    champion_pred = np.where(rng.random(n) < 0.8, labels, 12 - labels)
    challenger_pred = np.where(rng.random(n) < 0.7, labels, 12 - labels)
    frame = pd.DataFrame({"label": labels, "prediction": champion_pred, "s": groups})
    monitor = _fairness_gaps(frame, "s", MIN_GROUP_SIZE)

    class Fixed:
        """A classifier whose predictions are given."""

        classes_ = np.array([2, 10])

        def __init__(self, out):
            self.out = out

        def predict(self, X):
            return self.out

        def predict_proba(self, X):
            return np.column_stack([self.out == 2, self.out == 10]).astype(float)

    X = pd.DataFrame({"s": groups})
    gate = validate(Fixed(champion_pred), Fixed(challenger_pred), X, labels, sensitive="s", require_significance=False)
    table = gate.fairness.set_index("gap")["champion"].to_dict()
    assert monitor == pytest.approx(table)
    # Independent count with 10 as the positive class.
    expected = {}
    truth, hit = labels == 10, champion_pred == 10
    rates = {g: (hit[groups == g].mean(), hit[(groups == g) & truth].mean(), hit[(groups == g) & ~truth].mean())
             for g in ("x", "y")}
    for k, name in enumerate(("demographic_parity", "tpr", "fpr")):
        expected[name] = abs(rates["x"][k] - rates["y"][k])
    assert monitor == pytest.approx(expected)
    assert fairness_gaps(group_labels(groups), labels_equal(labels, np.full(n, 10)), hit, 1) == pytest.approx(expected)


def test_card_reports_gaps_over_the_groups_the_gate_judged(tmp_path):
    from loopwise.loop import ModelRegistry
    from loopwise.loop.cards import build_card

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=200), "group": np.where(np.arange(200) < 20, "small", "large")})
    y = (X["a"] + rng.normal(scale=0.5, size=200) > 0).astype(int).to_numpy()
    model = LogisticRegression().fit(X[["a"]], y)

    class OnA:
        classes_ = model.classes_

        def predict(self, frame):
            return model.predict(frame[["a"]])

        def predict_proba(self, frame):
            return model.predict_proba(frame[["a"]])

    registry = ModelRegistry(tmp_path / "registry")
    version = registry.register(model)
    default = build_card(registry, version, OnA(), X, y, sensitive=["group"])
    assert default["groups"]["gaps"] == []          # the 20-row group is below the gate's 30
    judged = build_card(registry, version, OnA(), X, y, sensitive=["group"],
                        gate={"passed": True, "settings": {"min_slice_size": 20}})
    hit, truth, small = OnA().predict(X) == 1, y == 1, X["group"].to_numpy() == "small"
    gaps = {g["gap"]: g["value"] for g in judged["groups"]["gaps"]}
    assert gaps["demographic_parity"] == pytest.approx(abs(hit[small].mean() - hit[~small].mean()))
    assert gaps["tpr"] == pytest.approx(abs(hit[small & truth].mean() - hit[~small & truth].mean()))
    registry.close()


@pytest.mark.parametrize(("values", "allowed"), [
    (np.array([0, 1, 2]), np.array([0.0, 1.0])),          # int predictions, float labels
    (np.array([0.0, 1.0, 2.5]), np.array([0, 1])),
    (np.array(["1", "a"]), np.array([1, 0])),              # stored text vs numbers
    (np.array([True, False]), np.array([1])),
])
def test_label_membership_agrees_with_label_equality(values, allowed):
    from loopwise.loop._scoring import labels_in

    expected = [any(labels_equal(np.array([v]), np.array([a]))[0] for a in allowed.tolist()) for v in values.tolist()]
    assert labels_in(values, allowed).tolist() == expected


def test_gate_accepts_integer_predictions_of_float_labels():
    from sklearn.dummy import DummyClassifier

    X = np.zeros((100, 1))
    y = np.array([0.0, 1.0] * 50)
    model = DummyClassifier(strategy="constant", constant=1).fit(X, y.astype(int))
    result = validate(model, model, X, y, require_significance=False)
    assert result.metrics["champion"] == pytest.approx(0.5)
