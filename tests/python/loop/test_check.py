"""``FeedbackLoop.check()`` against numbers computed independently from the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.linear_model import LogisticRegression

from loopwise.loop import FeedbackLoop, Policy


def _data(n, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    X["a"] += shift
    X["group"] = (rng.random(n) < 0.4).astype(float)
    margin = 1.5 * X["a"] - X["b"] + 0.5 * X["group"]
    y = (rng.random(n) < 1 / (1 + np.exp(-margin))).astype(int)
    return X, y


@pytest.fixture()
def served(tmp_path):
    X_ref, y_ref = _data(1500, seed=1)
    model = LogisticRegression().fit(X_ref, y_ref)
    loop = FeedbackLoop(tmp_path / "loop", model=model, reference=X_ref, reference_labels=y_ref,
                        policy=Policy(triggers=[]), slices=["b"], sensitive=["group"], monitor_rows=1000, trusted=True)
    return loop, model, X_ref


def test_stationary_check_matches_direct_computation(served):
    loop, model, X_ref = served
    X, y = _data(1000, seed=2)
    ids = [f"r{i}" for i in range(1000)]
    predictions = loop.predict(X, ids=ids)
    loop.feedback(ids, y)
    status = loop.check()

    assert status.n_current == 1000 and status.n_labeled == 1000
    assert status.metric == pytest.approx(np.mean(predictions == y))
    expected_p = ks_2samp(model.predict_proba(X_ref)[:, 1], model.predict_proba(X)[:, 1]).pvalue
    assert status.prediction_drift_p == pytest.approx(expected_p)
    assert not status.dataset_drift
    # The label-free estimate (CBPE) lands within three sampling errors of the accuracy the
    # labels then show; its sampling error is the binomial one for 1000 rows.
    assert abs(status.estimated_metric - status.metric) < 3 * status.estimated_metric_error
    binomial = np.sqrt(status.metric * (1 - status.metric) / 1000)
    assert status.estimated_metric_error == pytest.approx(binomial, rel=0.25)
    assert set(status.estimated_metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    # Slices: quartiles of the many-valued column b, the same bins the gate uses.
    quartiles = pd.qcut(X["b"], 4).astype(str)
    for name, group in X.groupby(quartiles, observed=True):
        assert status.metric_by_slice["b"][str(name)] == pytest.approx(np.mean(predictions[group.index] == y[group.index]))
    # Fairness gaps: largest between-group differences of positive rate, TPR and FPR.
    in_group = X["group"].to_numpy() == 1.0
    rates = lambda mask: np.mean(predictions[mask] == 1)  # noqa: E731
    assert status.fairness_gaps["group"]["demographic_parity"] == pytest.approx(abs(rates(in_group) - rates(~in_group)))
    tpr = [np.mean(predictions[m & (y == 1)] == 1) for m in (in_group, ~in_group)]
    assert status.fairness_gaps["group"]["tpr"] == pytest.approx(abs(tpr[0] - tpr[1]))
    loop.close()


def test_shifted_inputs_raise_drift_alerts_naming_the_column(served):
    loop, _, _ = served
    X, y = _data(1000, shift=1.5, seed=3)
    loop.predict(X, ids=range(1000))
    status = loop.check()
    assert status.dataset_drift or "a" in status.drifted_columns
    assert "a" in status.drifted_columns and "c" not in status.drifted_columns
    assert status.prediction_drift_p < 1e-6
    assert any("prediction drift" in alert for alert in status.alerts)
    assert status.to_dict()["champion_version"] == 1  # JSON-friendly
    loop.close()
