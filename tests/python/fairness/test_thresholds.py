"""Per-group thresholds against fairlearn's ThresholdOptimizer and MetricFrame (the oracles).

The target of issue 18: on a dataset with a built-in group bias, the equalised-odds gap is
cut by at least half at no more than 2 points of accuracy, and both numbers are within 0.01
of fairlearn's. Measured on 50,000 fresh rows, so the randomised thresholds' draws move the
rates by well under 0.01.
"""

from __future__ import annotations

import tempfile

import numpy as np
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from loopwise.fairness import GroupThresholdClassifier, fairness_report, make_biased_classification

from needs import need  # tests/python is on sys.path (conftest.py)

FEATURES = ["x0", "x1", "x2", "x3"]


@pytest.fixture(scope="module")
def data():
    X, y = make_biased_classification(20000, random_state=0)
    X_test, y_test = make_biased_classification(50000, random_state=1)
    base = make_pipeline(make_column_transformer(("passthrough", FEATURES)), LogisticRegression()).fit(X, y)
    return X, y, X_test, y_test, base


def _oracle_numbers(y, predicted, groups):
    metrics = need("fairlearn.metrics")
    frame = metrics.MetricFrame(
        metrics={"tpr": metrics.true_positive_rate, "fpr": metrics.false_positive_rate,
                 "selection": metrics.selection_rate},
        y_true=y, y_pred=predicted, sensitive_features=groups)
    spread = frame.difference(method="between_groups")
    return {"accuracy": float(np.mean(predicted == y)), "equalized_odds": float(max(spread["tpr"], spread["fpr"])),
            "demographic_parity": float(spread["selection"])}


@pytest.mark.parametrize("constraint, gap", [("equalized_odds", "equalized_odds"),
                                              ("demographic_parity", "demographic_parity")])
def test_matches_fairlearn_and_meets_the_target(data, constraint, gap):
    postprocessing = need("fairlearn.postprocessing")
    X, y, X_test, y_test, base = data
    ours = GroupThresholdClassifier(base, sensitive="group", constraint=constraint, prefit=True).fit(X, y)
    theirs = postprocessing.ThresholdOptimizer(estimator=base, constraints=constraint, prefit=True,
                                               predict_method="predict_proba").fit(X, y, sensitive_features=X["group"])
    groups = X_test["group"]
    before = _oracle_numbers(y_test, base.predict(X_test), groups)
    after = _oracle_numbers(y_test, ours.predict(X_test), groups)
    oracle = _oracle_numbers(y_test, theirs.predict(X_test, sensitive_features=groups, random_state=0), groups)
    assert before[gap] > 0.2, before  # the data's bias is real
    assert after[gap] <= 0.5 * before[gap], (before, after)
    assert before["accuracy"] - after["accuracy"] <= 0.02, (before, after)
    assert abs(after["accuracy"] - oracle["accuracy"]) <= 0.01, (after, oracle)
    assert abs(after[gap] - oracle[gap]) <= 0.01, (after, oracle)

    # The report's numbers (the loop's gap function) are MetricFrame's.
    report = fairness_report({"before": base, "after": ours}, X_test, y_test, sensitive="group")
    row = report.overall.set_index("model").loc["after"]
    assert row["accuracy"] == pytest.approx(after["accuracy"], abs=1e-12)
    assert row[gap] == pytest.approx(after[gap], abs=1e-12)
    change = report.change("before", "after")
    assert change[f"{gap}_cut"] >= 0.5 and change["accuracy_cost"] <= 0.02


def test_predict_proba_is_the_mix_and_predict_is_seeded(data):
    X, y, X_test, _, base = data
    ours = GroupThresholdClassifier(base, sensitive="group", prefit=True, random_state=7).fit(X, y)
    first, second = ours.predict(X_test), ours.predict(X_test)
    np.testing.assert_array_equal(first, second)
    proba = ours.predict_proba(X_test)[:, 1]
    # The share of positives per group follows the mixing probabilities.
    for group in ("a", "b"):
        rows = (X_test["group"] == group).to_numpy()
        assert abs(np.mean(first[rows] == 1) - proba[rows].mean()) < 0.01


def test_refits_inside_the_loop_and_loads_from_the_registry_untrusted(data):
    from sklearn.base import clone

    from loopwise.loop import ModelRegistry, Refit

    X, y, X_test, _, base = data
    unfitted = GroupThresholdClassifier(clone(base), sensitive="group")
    # The loop's default retrainer clones and refits the wrapper with the selection's weights.
    challenger = Refit()(unfitted, X, y, np.ones(len(y)))
    with tempfile.TemporaryDirectory() as folder:
        registry = ModelRegistry(folder)
        version = registry.register(challenger)
        assert registry.info(version)["format"] == "skops"
        loaded = registry.load(version)  # no trusted=True needed
        np.testing.assert_array_equal(loaded.predict(X_test), challenger.predict(X_test))
        registry.close()


def test_bad_input_is_named(data):
    X, y, _, _, base = data
    fair = GroupThresholdClassifier(base, sensitive="group", prefit=True).fit(X, y)
    with pytest.raises(ValueError, match="not seen in fit"):
        fair.predict(X.assign(group="c"))
    with pytest.raises(ValueError, match="bin it once"):
        GroupThresholdClassifier(base, sensitive="x0", prefit=True).fit(X, y)
    with pytest.raises(ValueError, match="constraint"):
        GroupThresholdClassifier(base, sensitive="group", constraint="parity").fit(X, y)
    with pytest.raises(ValueError, match="no positive labels"):
        GroupThresholdClassifier(base, sensitive="group", prefit=True).fit(X, np.where(X["group"] == "b", 0, y))
    with pytest.raises(ValueError, match="not fitted"):
        GroupThresholdClassifier(base, sensitive="group").predict(X)
