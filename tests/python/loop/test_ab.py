"""A/B tests on split traffic (issue 18, item 2): stable assignment, the always-valid mSPRT
against independent oracles, the false-positive rate under peeking after every batch, power
against the fixed-horizon test, guardrails, and both arms logged through a FeedbackLoop."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from sklearn.linear_model import LogisticRegression

from loopwise.loop import FeedbackLoop, Policy
from loopwise.loop.alerts import CallableSink
from loopwise.loop.ab import (ABTest, SplitTest, assign, bucket, confidence_sequence, fixed_horizon_test,
                              msprt_log_lr, simulate)

ALPHA = 0.05


def test_assignment_is_stable_across_processes_and_independent_of_the_salt():
    ids = [f"user-{i}" for i in range(20_000)]
    here = assign(ids, share=0.3, salt="exp-1")
    code = ("from loopwise.loop.ab import assign; ids = [f'user-{i}' for i in range(20000)]; "
            "print(''.join('1' if a else '0' for a in assign(ids, share=0.3, salt='exp-1')))")
    # A new interpreter with another hash seed: Python's hash() would give another split.
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert there.strip() == "".join("1" if a else "0" for a in here)
    assert abs(here.mean() - 0.3) < 0.015
    # Ramping up only moves ids to the challenger; another salt is an independent split.
    assert np.all(assign(ids, share=0.5, salt="exp-1")[here])
    other = assign(ids, share=0.3, salt="exp-2")
    assert abs(np.mean(here & other) - 0.09) < 0.01
    # Uniform buckets (Kolmogorov-Smirnov against U(0, 1)).
    assert stats.kstest(bucket(ids, "exp-1"), "uniform").pvalue > 0.001
    with pytest.raises(ValueError, match="share"):
        assign(ids, share=1.5, salt="x")
    with pytest.raises(ValueError, match="salt"):
        assign(ids, share=0.5, salt="")


@pytest.mark.parametrize("difference, variance, tau2", [(0.0, 0.01, 0.02), (0.05, 1e-3, 4e-3), (-0.2, 0.01, 0.001)])
def test_msprt_is_the_gaussian_likelihood_ratio_mixed_over_the_prior(difference, variance, tau2):
    # Oracle: integrate N(d; theta, V) / N(d; 0, V) against the N(0, tau2) prior numerically.
    ratio = lambda theta: (stats.norm.pdf(difference, theta, np.sqrt(variance))  # noqa: E731
                           / stats.norm.pdf(difference, 0, np.sqrt(variance)) * stats.norm.pdf(theta, 0, np.sqrt(tau2)))
    width = 12 * np.sqrt(tau2)
    expected, _ = integrate.quad(ratio, -width, width, points=[0.0, difference], limit=200)
    assert float(msprt_log_lr(difference, variance, tau2)) == pytest.approx(np.log(expected), rel=1e-6, abs=1e-9)
    low, high = confidence_sequence(difference, variance, tau2, ALPHA)
    # The confidence sequence excludes 0 exactly when the likelihood ratio crosses 1/alpha.
    for shift in (low, high):
        assert float(msprt_log_lr(difference - shift, variance, tau2)) == pytest.approx(np.log(1 / ALPHA), rel=1e-9)


def test_fixed_horizon_matches_statsmodels_unequal_variance_z_test():
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    rng = np.random.default_rng(3)
    a, b = rng.normal(0.0, 1.0, 400), rng.normal(0.2, 2.0, 300)
    variance = a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)
    expected = CompareMeans(DescrStatsW(b), DescrStatsW(a)).ztest_ind(usevar="unequal")[1]
    assert float(fixed_horizon_test(b.mean() - a.mean(), variance)) == pytest.approx(expected, rel=1e-10)
    test = ABTest(min_samples=100)
    test.update("champion", a)
    test.update("challenger", b)
    assert test.look().metrics["primary"]["p_fixed_horizon"] == pytest.approx(expected, rel=1e-10)


def test_false_positives_stay_below_alpha_under_peeking_where_a_naive_t_test_does_not():
    # 1,000 null experiments, a look after each of 20 batches of 500 rows (10,000 rows each).
    out = simulate(p_champion=0.8, p_challenger=0.8, n_runs=1000, n_batches=20, batch_size=500, alpha=ALPHA,
                   random_state=2026)
    arrays = out["arrays"]
    # The naive rule, recomputed with scipy's Welch t-test from the same counts at every look.
    n_a, n_b = arrays["n_champion"], arrays["n_challenger"]
    m_a, m_b = arrays["successes_champion"] / n_a, arrays["successes_challenger"] / n_b
    sd_a, sd_b = (np.sqrt(m * (1 - m) * n / (n - 1)) for m, n in ((m_a, n_a), (m_b, n_b)))
    naive = stats.ttest_ind_from_stats(m_b, sd_b, n_b, m_a, sd_a, n_a, equal_var=False).pvalue < ALPHA
    naive_rate = float(naive.any(axis=1).mean())
    assert abs(naive_rate - out["naive_peeking"]) < 0.01
    assert naive_rate > ALPHA + 0.05, naive_rate                      # peeking inflates the t-test (~0.25)
    assert out["msprt"] <= ALPHA + 0.01, out["msprt"]                 # the always-valid test does not
    assert abs(out["fixed_horizon"] - ALPHA) < 0.025                  # one look at the horizon: ~alpha


def test_power_against_the_fixed_horizon_test_and_early_stopping():
    for p_challenger, min_power in ((0.83, 0.6), (0.85, 0.95)):
        out = simulate(p_champion=0.8, p_challenger=p_challenger, n_runs=1000, n_batches=20, batch_size=500,
                       alpha=ALPHA, random_state=7)
        assert out["msprt"] >= min_power, out["msprt"]
        assert out["fixed_horizon"] >= out["msprt"] - 0.02  # the price of always-valid peeking ...
        assert out["msprt_mean_stop"] < 0.75                # ... paid back by stopping early


def test_abtest_replays_a_simulated_run_and_stops_at_the_same_look():
    out = simulate(p_champion=0.8, p_challenger=0.85, n_runs=50, n_batches=20, batch_size=500, random_state=5)
    arrays = out["arrays"]
    run = int(np.argmax(np.any(arrays["log_lr"] >= np.log(1 / ALPHA), axis=1)))
    first = int(np.argmax(arrays["log_lr"][run] >= np.log(1 / ALPHA)))
    test, previous = ABTest(alpha=ALPHA), {"n_champion": 0, "n_challenger": 0, "successes_champion": 0,
                                           "successes_challenger": 0}
    for look in range(20):
        for arm in ("champion", "challenger"):
            n = arrays[f"n_{arm}"][run, look] - previous[f"n_{arm}"]
            k = arrays[f"successes_{arm}"][run, look] - previous[f"successes_{arm}"]
            test.update(arm, np.r_[np.ones(k), np.zeros(n - k)])
        previous = {key: arrays[key][run, look] for key in previous}
        result = test.look()
        if result.stopped:
            break
    assert result.decision == "challenger" and result.looks == first + 1
    # A decision stays once reached; the state round-trips.
    test.update("champion", np.ones(1000))
    assert ABTest.from_dict(test.to_dict()).look().decision == "challenger"


def test_a_guardrail_stops_the_test_when_the_challenger_hurts():
    rng = np.random.default_rng(11)
    test = ABTest(guardrails={"latency_ms": False})
    for look in range(1, 41):
        test.update("champion", rng.random(200) < 0.80, latency_ms=rng.normal(100, 20, 200))
        test.update("challenger", rng.random(200) < 0.80, latency_ms=rng.normal(106, 20, 200))
        result = test.look()
        if result.stopped:
            break
    assert result.decision == "guardrail" and "latency_ms" in result.reason
    assert look < 20
    assert result.metrics["latency_ms"]["interval"][0] > 0
    with pytest.raises(ValueError, match="guardrails"):
        test.update("champion", [1.0])


def test_split_traffic_through_a_loop_logs_both_arms_and_decides(tmp_path):
    rng = np.random.default_rng(0)

    def data(n):
        X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
        y = ((X["a"] + X["b"] + rng.normal(scale=0.7, size=n)) > 0).astype(int)
        return X, y

    X_ref, y_ref = data(2000)
    weak = LogisticRegression().fit(X_ref[["a", "c"]].assign(b=0.0)[["a", "b", "c"]], y_ref)
    received: list = []
    loop = FeedbackLoop(tmp_path / "loop", model=weak, reference=X_ref, reference_labels=y_ref,
                        policy=Policy(triggers=[]), trusted=True, alerts=[CallableSink(received.append)])
    # The challenger sees column b, which the champion was trained without.
    strong = loop.registry.register(LogisticRegression().fit(X_ref, y_ref))
    ab = SplitTest(loop, "all-columns", challenger=strong, share=0.3)
    decided = None
    for batch in range(30):
        X, y = data(400)
        ids = [f"b{batch}-{i}" for i in range(400)]
        predictions = ab.predict(X, ids=ids)
        arms = ab.arms(ids)
        assert np.array_equal(predictions[arms], loop.model(strong).predict(X[arms]))
        assert np.array_equal(predictions[~arms], weak.predict(X[~arms]))
        loop.feedback(ids, y)
        result = ab.look()
        if result.stopped:
            decided = batch
            break
    assert result.decision == "challenger", result.reason
    frame = loop.store.records().to_frame()
    served = frame.set_index("id")["model_version"].astype(int)
    assert set(served.unique()) == {1, strong}
    logged_arms = served.loc[[f"b0-{i}" for i in range(400)]].to_numpy() == strong
    assert np.array_equal(logged_arms, ab.arms([f"b0-{i}" for i in range(400)]))
    assert abs(np.mean(served.to_numpy() == strong) - 0.3) < 0.05
    # Reopened (as another process would): the same state, and the decision was audited once.
    again = SplitTest(loop, "all-columns")
    assert again.challenger == strong and again.look().decision == "challenger"
    assert len(loop.audit.entries(kind="ab_test")) == 1
    # The verdict went through the loop's alert sinks once.
    assert [(p["kind"], p["key"], p["severity"]) for p in received] == [("ab_test", "ab_test:all-columns", "info")]
    assert decided is not None and decided < 29
    loop.close()


def _too_high(labels, predictions):
    return (np.asarray(predictions, float) > np.asarray(labels, float) + 1.0).astype(float)


def test_a_regression_split_test_stops_on_its_guardrail(tmp_path):
    from sklearn.dummy import DummyRegressor
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(4)

    def data(n):
        X = pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"])
        return X, 2 * X["a"].to_numpy() + rng.normal(scale=0.5, size=n)

    X_ref, y_ref = data(1000)
    loop = FeedbackLoop(tmp_path / "loop", model=LinearRegression().fit(X_ref, y_ref), reference=X_ref,
                        reference_labels=y_ref, policy=Policy(triggers=[]), trusted=True)
    # A challenger that predicts too high: its absolute error (primary, lower is better) and the
    # share of rows predicted more than 1 above the label (guardrail) are both worse.
    biased = loop.registry.register(DummyRegressor(strategy="constant", constant=3.0).fit(X_ref, y_ref))
    ab = SplitTest(loop, "biased", challenger=biased, share=0.5, guardrails={"too_high": _too_high})
    assert ab.test.higher_is_better is False and ab.test.guardrails == {"too_high": False}
    for batch in range(20):
        X, y = data(300)
        ids = [f"{batch}-{i}" for i in range(300)]
        ab.predict(X, ids=ids)
        loop.feedback(ids, y)
        result = ab.look()
        if result.stopped:
            break
    assert result.decision in ("guardrail", "champion"), result.reason
    assert result.metrics["primary"]["challenger_mean"] > result.metrics["primary"]["champion_mean"]
    with pytest.raises(ValueError, match="guardrails"):
        SplitTest(loop, "biased")  # the guardrail functions must be given again
    loop.close()
