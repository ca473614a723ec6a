"""Expected metrics from probabilities against Monte Carlo draws scored by scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (accuracy_score, f1_score, precision_recall_fscore_support, precision_score, recall_score,
                             roc_auc_score)

from loopwise.performance._expected import binary_metrics, expected_roc_auc, multiclass_metrics
from loopwise.performance._realised import classification_metrics

DRAWS = 150


def test_binary_expectations_match_labels_drawn_from_the_probabilities():
    rng = np.random.default_rng(0)
    p = rng.beta(2, 2, size=2000)
    # Rounded: ties exercise the ROC construction's one point per distinct value.
    p = np.round(p, 2)
    predicted = p > 0.45
    sums = {m: 0.0 for m in ("accuracy", "precision", "recall", "f1", "roc_auc")}
    for _ in range(DRAWS):
        y = (rng.random(len(p)) < p).astype(int)
        sums["accuracy"] += accuracy_score(y, predicted)
        precision, recall, f1, _ = precision_recall_fscore_support(y, predicted, average="binary")
        sums["precision"] += precision
        sums["recall"] += recall
        sums["f1"] += f1
        sums["roc_auc"] += roc_auc_score(y, p)
    found = binary_metrics(p, predicted)
    found["roc_auc"] = expected_roc_auc(p)
    for name, total in sums.items():
        # Monte Carlo error ~ 0.012 / sqrt(150) = 0.001; ratio-of-expectations bias is O(1/n).
        assert found[name] == pytest.approx(total / DRAWS, abs=0.003), name


def test_multiclass_expectations_are_macro_one_vs_rest():
    rng = np.random.default_rng(1)
    P = rng.dirichlet([2.0, 2.0, 2.0], size=1500)
    predicted = P.argmax(axis=1)
    sums = {m: 0.0 for m in ("accuracy", "precision", "recall", "f1", "roc_auc")}
    for _ in range(DRAWS // 2):
        y = (rng.random(len(P))[:, None] > np.cumsum(P, axis=1)).sum(axis=1)
        sums["accuracy"] += accuracy_score(y, predicted)
        precision, recall, f1, _ = precision_recall_fscore_support(y, predicted, average="macro")
        sums["precision"] += precision
        sums["recall"] += recall
        sums["f1"] += f1
        sums["roc_auc"] += roc_auc_score(y, P, multi_class="ovr", average="macro")
    found = multiclass_metrics(P, predicted)
    for name, total in sums.items():
        assert found[name] == pytest.approx(total / (DRAWS // 2), abs=0.004), name


def test_realised_metrics_equal_scikit_learn():
    rng = np.random.default_rng(2)
    for k in (2, 3):
        scores = rng.dirichlet(np.ones(k), size=500)
        y = rng.integers(0, k, 500)
        predicted = scores.argmax(axis=1)
        found = classification_metrics(y, predicted, scores)
        average = "binary" if k == 2 else "macro"
        assert found["accuracy"] == pytest.approx(accuracy_score(y, predicted))
        assert found["precision"] == pytest.approx(precision_score(y, predicted, average=average))
        assert found["recall"] == pytest.approx(recall_score(y, predicted, average=average))
        assert found["f1"] == pytest.approx(f1_score(y, predicted, average=average))
        expected_auc = roc_auc_score(y, scores[:, 1]) if k == 2 else roc_auc_score(y, scores, multi_class="ovr")
        assert found["roc_auc"] == pytest.approx(expected_auc)


def test_a_metric_without_positives_is_nan_not_an_error():
    found = binary_metrics(np.array([0.2, 0.3]), np.array([False, False]))
    assert np.isnan(found["precision"]) and found["accuracy"] == pytest.approx(0.75)
