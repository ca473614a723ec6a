"""stale_p_value: is the champion worse now than its own baseline? One-sided tests.

Oracles: the binomial lower tail summed by hand with math.comb (accuracy), statsmodels'
one-sample t-test (squared / absolute errors), and the documented rules for the edge cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.weightstats import DescrStatsW

from loopwise.loop._staleness import stale_p_value


def _binom_lower_tail(k, n, p):
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


@pytest.mark.parametrize("n_correct, n, baseline", [(14, 20, 0.9), (18, 20, 0.9), (20, 20, 0.9), (3, 10, 0.5),
                                                    (7, 12, 0.75)])
def test_accuracy_is_an_exact_binomial_lower_tail(n_correct, n, baseline):
    y_true = np.arange(n) % 2
    y_pred = y_true.copy()
    y_pred[n_correct:] = 1 - y_pred[n_correct:]
    expected = _binom_lower_tail(n_correct, n, baseline)
    assert stale_p_value("accuracy", y_true, y_pred, baseline) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("baseline, rate", [(1.3, 1.0), (-0.2, 0.0)])
def test_accuracy_baseline_is_clipped_to_a_rate(baseline, rate):
    y_true = np.array([0, 1, 0, 1, 1])
    y_pred = np.array([0, 1, 0, 0, 1])  # 4 of 5 right
    assert stale_p_value("accuracy", y_true, y_pred, baseline) == pytest.approx(_binom_lower_tail(4, 5, rate))


def test_accuracy_compares_labels_as_text():
    # The champion's predictions may come back as strings of the same labels.
    y_true = np.array([0, 1, 1, 0, 1, 0])
    y_pred = np.array(["0", "1", "1", "0", "0", "0"])  # 5 of 6 right
    assert stale_p_value("accuracy", y_true, y_pred, 0.8) == pytest.approx(_binom_lower_tail(5, 6, 0.8))


@pytest.mark.parametrize("metric", ["rmse", "mae"])
def test_regression_is_a_one_sided_t_test_on_per_row_losses(metric):
    rng = np.random.default_rng(3)
    y_true = rng.normal(size=40)
    y_pred = y_true + rng.normal(scale=1.2, size=40)
    error = y_true - y_pred
    losses = error**2 if metric == "rmse" else np.abs(error)
    # rmse is judged on squared errors against baseline**2; use baseline 1.1 to tell the two apart.
    baseline = 1.1
    target = baseline**2 if metric == "rmse" else baseline
    _, expected, _ = DescrStatsW(losses).ttest_mean(target, alternative="larger")
    got = stale_p_value(metric, y_true, y_pred, baseline)
    assert got == pytest.approx(expected, rel=1e-9)
    assert 0.0 < got < 1.0


def test_constant_losses_decide_without_a_test():
    y_true = np.zeros(5)
    # Every absolute error is 2: worse than a baseline MAE of 1.5, not worse than 2 or 3.
    assert stale_p_value("mae", y_true, y_true + 2.0, 1.5) == 0.0
    assert stale_p_value("mae", y_true, y_true + 2.0, 2.0) == 1.0
    assert stale_p_value("mae", y_true, y_true - 2.0, 3.0) == 1.0
    # RMSE: squared error 4 against baseline 1.9 squared (3.61) is worse; against 2.0 it is not.
    assert stale_p_value("rmse", y_true, y_true + 2.0, 1.9) == 0.0
    assert stale_p_value("rmse", y_true, y_true + 2.0, 2.0) == 1.0


@pytest.mark.parametrize("baseline", [None, float("nan"), float("inf")])
def test_no_usable_baseline_means_no_test(baseline):
    y = np.array([0, 1, 0, 1])
    assert stale_p_value("accuracy", y, y, baseline) is None
    assert stale_p_value("rmse", y, y + 0.5, baseline) is None


def test_fewer_than_two_rows_or_an_unknown_metric_means_no_test():
    assert stale_p_value("accuracy", np.array([1]), np.array([0]), 0.9) is None
    assert stale_p_value("mae", np.array([1.0]), np.array([0.0]), 0.1) is None
    two = stale_p_value("accuracy", np.array([1, 1]), np.array([0, 0]), 0.9)
    assert two == pytest.approx(_binom_lower_tail(0, 2, 0.9))
    y = np.array([0, 1, 1, 0])
    for metric in ("auc", "f1", "log_loss"):
        assert stale_p_value(metric, y, y, 0.9) is None


def test_an_undefined_t_test_gives_no_answer():
    # A NaN error makes the t statistic undefined: no decision rather than a NaN p-value.
    y_true = np.array([0.0, 1.0, 2.0, 3.0])
    y_pred = np.array([0.5, np.nan, 2.5, 2.0])
    assert stale_p_value("mae", y_true, y_pred, 0.1) is None
