"""The gate's fairness rule: a policy can refuse a challenger that widens a gap."""

from __future__ import annotations

import numpy as np
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from loopwise.fairness import GroupThresholdClassifier, make_biased_classification
from loopwise.loop import validate


def test_a_challenger_that_widens_the_gap_is_refused_and_the_fair_one_passes():
    X, y = make_biased_classification(6000, random_state=4)
    holdout_X, holdout_y = make_biased_classification(3000, random_state=5)
    plain = make_pipeline(make_column_transformer(("passthrough", ["x0", "x1", "x2", "x3"])),
                          LogisticRegression()).fit(X, y)
    fair = GroupThresholdClassifier(plain, sensitive="group", prefit=True).fit(X, y)
    options = dict(sensitive=["group"], fairness_tolerance=0.0, require_significance=False, min_gain=-0.02)
    widened = validate(fair, plain, holdout_X, holdout_y, **options)
    assert not widened.passed
    failed = {r["rule"] for r in widened.rules if not r["passed"]}
    assert {"fairness:group:tpr", "fairness:group:fpr"} <= failed
    narrowed = validate(plain, fair, holdout_X, holdout_y, **options)
    assert all(r["passed"] for r in narrowed.rules if r["rule"].startswith("fairness:")), narrowed.rules
    assert narrowed.passed, narrowed.reasons
    assert np.all(narrowed.fairness["challenger"] < narrowed.fairness["champion"])
