"""Kamiran–Calders reweighing against the closed form computed by hand on a tiny table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.fairness import Reweigh, fairness_report, make_biased_classification, reweighing_weights


def test_weights_match_the_hand_computed_table():
    # 10 rows: group a has 4 positives of 6, group b 1 positive of 4.
    groups = ["a"] * 6 + ["b"] * 4
    y = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0]
    # P(a)=0.6, P(b)=0.4, P(1)=0.5, P(0)=0.5; P(a,1)=0.4, P(a,0)=0.2, P(b,1)=0.1, P(b,0)=0.3
    expected = {("a", 1): 0.6 * 0.5 / 0.4, ("a", 0): 0.6 * 0.5 / 0.2,
                ("b", 1): 0.4 * 0.5 / 0.1, ("b", 0): 0.4 * 0.5 / 0.3}
    weights = reweighing_weights(groups, y)
    np.testing.assert_allclose(weights, [expected[(g, label)] for g, label in zip(groups, y)], rtol=1e-12)
    # After reweighing, the weighted positive rate is the same in both groups (independence).
    w, g, t = weights, np.array(groups), np.array(y)
    rates = [np.sum(w[(g == k) & (t == 1)]) / np.sum(w[g == k]) for k in ("a", "b")]
    assert rates[0] == pytest.approx(rates[1]) == pytest.approx(0.5)


def test_existing_weights_enter_the_counts_and_multiply():
    groups, y = np.array(["a", "a", "b", "b"]), np.array([1, 0, 1, 0])
    base = np.array([3.0, 1.0, 1.0, 1.0])
    # Weighted: W=6, W(a)=4, W(b)=2, W(1)=4, W(0)=2, W(a,1)=3, W(a,0)=1, W(b,1)=1, W(b,0)=1.
    ratio = np.array([4 * 4 / (6 * 3), 4 * 2 / (6 * 1), 2 * 4 / (6 * 1), 2 * 2 / (6 * 1)])
    np.testing.assert_allclose(reweighing_weights(groups, y, base), base * ratio, rtol=1e-12)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="one length"):
        reweighing_weights(["a"], [1, 0])
    with pytest.raises(ValueError, match="sample_weight"):
        reweighing_weights(["a", "b"], [1, 0], [1.0, -1.0])


def test_reweigh_retrainer_passes_selection_times_reweighing_to_the_fit():
    X = pd.DataFrame({"x": np.arange(8.0), "group": list("aaaaabbb")})
    y = np.array([1, 1, 1, 0, 0, 1, 0, 0])
    selection = np.linspace(0.5, 1.0, 8)
    seen = {}

    def train_fn(X_, y_, w):
        seen["w"] = w
        return "model"

    from loopwise.loop import Refit

    assert Reweigh("group", retrain=Refit(train_fn=train_fn))(None, X, y, selection) == "model"
    np.testing.assert_allclose(seen["w"], reweighing_weights(X["group"].to_numpy(), y, selection))


def test_reweighing_narrows_the_parity_gap_of_a_refit():
    X, y = make_biased_classification(20000, random_state=3)
    # Label bias: drop positives of group b, so group and label are associated in the data.
    rng = np.random.default_rng(0)
    y = np.where((X["group"] == "b") & (y == 1) & (rng.random(len(y)) < 0.4), 0, y)
    Xn = X.assign(group=(X["group"] == "b").astype(float))
    base = LogisticRegression().fit(Xn, y)
    weighted = Reweigh("group")(LogisticRegression(), Xn, y, np.ones(len(y)))
    report = fairness_report({"base": base, "reweighed": weighted}, Xn, y, sensitive_features=X["group"])
    gaps = report.overall.set_index("model")["demographic_parity"]
    assert gaps["reweighed"] < 0.7 * gaps["base"], report.overall


def test_the_loop_configuration_keeps_the_reweighing_retrainer():
    from loopwise.loop.config import decode, encode
    from loopwise.loop.policy import Policy

    policy = decode(encode(Policy(retrain=Reweigh("group"))), "policy")
    assert isinstance(policy.retrain, Reweigh) and policy.retrain.sensitive == "group"
