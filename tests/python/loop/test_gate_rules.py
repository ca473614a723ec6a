"""Each gate rule on its own: the decision on both sides of its threshold and at the threshold.

The cases sit at the edges on purpose, so flipping any comparison in a rule (``<`` for
``<=``, ``>=`` for ``<``, the sign of a gain) makes one of them fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.loop._gate_rules import (
    churn_rule,
    fairness_rules,
    gain_rule,
    min_samples_rule,
    not_worse_rule,
    rule_record,
    significance_rule,
    slice_gain,
    slice_rule,
)
from loopwise.loop.validation import validate

KEYS = ["rule", "passed", "value", "threshold", "detail"]


def test_every_rule_returns_a_record_with_the_same_keys():
    records = [min_samples_rule(5, 3), gain_rule(0.1, 0.0, "d"), significance_rule(0.01, 0.05, "d"),
               not_worse_rule(0.5, 0.05, "d"), churn_rule(0.1, 0.2),
               slice_rule("c", "g", 50, 0.9, 0.9, metric="accuracy", min_size=30, max_drop=0.02)]
    for record in records:
        assert list(record) == KEYS
        assert isinstance(record["passed"], bool)
    assert rule_record("x", np.bool_(True), 1, 2, "d")["passed"] is True


@pytest.mark.parametrize(("n", "minimum", "passed"), [(29, 30, False), (30, 30, True), (31, 30, True)])
def test_min_samples_needs_at_least_the_minimum(n, minimum, passed):
    record = min_samples_rule(n, minimum)
    assert (record["rule"], record["passed"], record["value"], record["threshold"]) == ("min_samples", passed, n, minimum)
    assert ("only" in record["detail"]) is not passed


@pytest.mark.parametrize(("gain", "minimum", "passed"),
                         [(0.0, 0.0, True), (-1e-9, 0.0, False), (0.02, 0.01, True), (0.01, 0.01, True),
                          (0.009, 0.01, False), (-0.01, -0.02, True), (-0.03, -0.02, False)])
def test_gain_must_reach_min_gain_inclusive(gain, minimum, passed):
    record = gain_rule(gain, minimum, "words")
    assert record["passed"] is passed
    assert record["detail"].startswith("gain too small") is not passed


@pytest.mark.parametrize(("p", "alpha", "passed"), [(0.049, 0.05, True), (0.05, 0.05, False), (0.2, 0.05, False)])
def test_significance_needs_p_strictly_below_alpha(p, alpha, passed):
    record = significance_rule(p, alpha, "words")
    assert record["passed"] is passed
    assert record["detail"].startswith("significantly better") is passed


@pytest.mark.parametrize(("p", "alpha", "passed"), [(0.049, 0.05, False), (0.05, 0.05, True), (0.9, 0.05, True)])
def test_not_worse_fails_only_when_worse_is_significant(p, alpha, passed):
    record = not_worse_rule(p, alpha, "words")
    assert record["passed"] is passed
    assert ("significantly worse" in record["detail"] and "not" not in record["detail"]) is not passed


@pytest.mark.parametrize(("churn", "limit", "passed"), [(0.1, 0.1, True), (0.1000001, 0.1, False), (0.0, 0.0, True)])
def test_churn_allows_up_to_the_limit(churn, limit, passed):
    record = churn_rule(churn, limit)
    assert record["passed"] is passed
    assert ("exceeds" in record["detail"]) is not passed


@pytest.mark.parametrize(("metric", "champion", "challenger", "passed"), [
    ("accuracy", 0.90, 0.88, True),     # a drop of exactly max_drop is allowed
    ("accuracy", 0.90, 0.87, False),    # more is not
    ("accuracy", 0.90, 0.95, True),
    ("rmse", 1.00, 1.02, True),         # lower is better: a rise of max_drop is the allowed drop
    ("rmse", 1.00, 1.03, False),
    ("rmse", 1.00, 0.50, True),
    ("log_loss", 0.30, 0.40, False),
])
def test_slice_rule_allows_a_drop_of_at_most_max_drop_in_the_metrics_direction(metric, champion, challenger, passed):
    record = slice_rule("region", "north", 40, champion, challenger, metric=metric, min_size=30, max_drop=0.02)
    assert record is not None and record["rule"] == "slice:region=north"
    assert record["passed"] is passed
    assert record["threshold"] == -0.02
    assert ("a drop of" in record["detail"]) is not passed


@pytest.mark.parametrize(("n", "judged"), [(29, False), (30, True)])
def test_slice_rule_judges_only_groups_of_min_size(n, judged):
    record = slice_rule("c", "g", n, 0.9, 0.1, metric="accuracy", min_size=30, max_drop=0.02)
    assert (record is not None) is judged


def test_slice_rule_skips_an_undefined_metric():
    assert slice_rule("c", "g", 100, float("nan"), 0.5, metric="auc", min_size=30, max_drop=0.02) is None
    assert slice_rule("c", "g", 100, 0.5, float("nan"), metric="auc", min_size=30, max_drop=0.02) is None


def test_slice_gain_is_oriented_by_the_metrics_direction():
    assert slice_gain(0.8, 0.9, "accuracy") == pytest.approx(0.1)
    assert slice_gain(0.8, 0.9, "rmse") == pytest.approx(-0.1)
    assert slice_gain(0.8, 0.9, "mae") == pytest.approx(-0.1)
    assert np.isnan(slice_gain(float("nan"), 0.9, "accuracy"))


def _groups_and_truth():
    groups = np.array(["a"] * 10 + ["b"] * 10)
    truth = np.array(([True] * 5 + [False] * 5) * 2)
    return groups, truth


def _hits(rate_a: float, rate_b: float) -> np.ndarray:
    """Predictions positive for the first ``rate * 10`` rows of each group's positives and negatives."""
    out = np.zeros(20, dtype=bool)
    for start, rate in ((0, rate_a), (10, rate_b)):
        k = int(round(rate * 5))
        out[start: start + k] = True          # positives predicted positive
        out[start + 5: start + 5 + k] = True  # negatives predicted positive
    return out


def test_fairness_gap_within_tolerance_passes_and_beyond_fails():
    groups, truth = _groups_and_truth()
    champion = _hits(0.6, 0.4)          # gaps 0.2 for parity, TPR and FPR
    same = _hits(0.6, 0.4)
    wider = _hits(0.8, 0.4)             # gaps 0.4
    rules, rows = fairness_rules("g", groups, truth, champion, same, min_size=1, tolerance=0.0, max_gap=None)
    assert [r["passed"] for r in rules] == [True, True, True]          # equal gap, zero tolerance: allowed
    assert [r["value"] for r in rules] == pytest.approx([0.2, 0.2, 0.2])
    rules, _ = fairness_rules("g", groups, truth, champion, wider, min_size=1, tolerance=0.19, max_gap=None)
    assert [r["passed"] for r in rules] == [False, False, False]
    rules, _ = fairness_rules("g", groups, truth, champion, wider, min_size=1, tolerance=0.2, max_gap=None)
    assert [r["passed"] for r in rules] == [True, True, True]          # exactly the tolerance: allowed
    assert [r["column"] for r in rows] == ["g"] * 3


def test_fairness_max_gap_is_an_absolute_bound_that_also_passes():
    groups, truth = _groups_and_truth()
    champion, wider = _hits(0.6, 0.6), _hits(0.8, 0.4)  # champion 0, challenger 0.4
    rules, _ = fairness_rules("g", groups, truth, champion, wider, min_size=1, tolerance=0.0, max_gap=0.4)
    assert all(r["passed"] for r in rules)
    rules, _ = fairness_rules("g", groups, truth, champion, wider, min_size=1, tolerance=0.0, max_gap=0.39)
    assert not any(r["passed"] for r in rules)
    assert all("bound 0.39" in r["detail"] for r in rules)


def test_fairness_ignores_groups_below_min_size():
    groups, truth = _groups_and_truth()
    champion, wider = _hits(0.6, 0.6), _hits(0.8, 0.4)
    rules, rows = fairness_rules("g", groups, truth, champion, wider, min_size=11, tolerance=0.0, max_gap=None)
    assert rules == [] and rows == []


def test_validate_reports_the_rules_in_order_and_passes_only_when_all_pass():
    from sklearn.dummy import DummyClassifier

    X, y = np.zeros((200, 1)), np.array([0, 1] * 100)
    zero = DummyClassifier(strategy="constant", constant=0).fit(X, y)
    one = DummyClassifier(strategy="constant", constant=1).fit(X, y)
    result = validate(zero, one, X, y, max_churn=1.0, require_significance=False)
    assert [r["rule"] for r in result.rules] == ["min_samples", "gain", "not_worse", "churn"]
    assert result.passed and all(r["passed"] for r in result.rules)
    result = validate(zero, one, X, y, max_churn=0.5, require_significance=False)
    assert not result.passed and [r["rule"] for r in result.rules if not r["passed"]] == ["churn"]
