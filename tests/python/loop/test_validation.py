"""The champion/challenger gate against independent oracles (statsmodels, scipy, scikit-learn,
and DeLong's structural components written here from the definition)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from loopwise.loop import ValidationResult, delong_test, mcnemar_test, validate


class Fixed:
    """A 'model' that returns given predictions and probabilities, whatever the input."""

    def __init__(self, prediction, proba=None, classes=(0, 1)):
        self.prediction = np.asarray(prediction)
        self.proba = None if proba is None else np.asarray(proba, dtype=float)
        self.classes_ = np.asarray(classes)

    def predict(self, X):
        return self.prediction

    def predict_proba(self, X):
        return self.proba


def _drifted(seed=0, n=1200):
    """A concept that flips sign halfway: the old model is bad on new data, a refit is good."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    old = (X["a"] + 0.2 * rng.normal(size=n) > 0).astype(int).to_numpy()
    new = (X["b"] + 0.2 * rng.normal(size=n) > 0).astype(int).to_numpy()
    return X, old, new


# ------------------------------------------------------------------------------------ McNemar
@pytest.mark.parametrize(
    "b, c, exact",
    [(b, c, exact) for b, c in [(0, 0), (0, 7), (3, 3), (2, 12), (30, 45), (61, 40), (400, 455)]
     for exact in (True, False) if b + c or exact],
)
def test_mcnemar_matches_statsmodels(b, c, exact):
    ours = mcnemar_test(b, c, exact=exact)
    theirs = sm_mcnemar([[50, b], [c, 50]], exact=exact, correction=True)
    assert ours["statistic"] == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours["p_value"] == pytest.approx(theirs.pvalue, rel=1e-10)
    # One-sided exact: P(X >= c) for X ~ Binomial(b + c, 1/2), from scipy's binomtest.
    if b + c:
        assert ours["p_better"] == pytest.approx(stats.binomtest(c, b + c, 0.5, alternative="greater").pvalue)


def test_mcnemar_without_discordant_pairs_is_no_evidence():
    # The chi-square statistic is 0/0 here; the test must say "no difference", not fail.
    result = mcnemar_test(0, 0, exact=False)
    assert np.isnan(result["statistic"])
    assert result["p_value"] == result["p_better"] == result["p_worse"] == 1.0


def test_validate_mcnemar_uses_the_paired_table():
    X, old, new = _drifted(1)
    champion = LogisticRegression().fit(X[:400], old[:400])
    challenger = LogisticRegression().fit(X[400:800], new[400:800])
    result = validate(champion, challenger, X[800:], new[800:])
    right_a = champion.predict(X[800:]) == new[800:]
    right_b = challenger.predict(X[800:]) == new[800:]
    table = pd.crosstab(right_a, right_b).reindex(index=[True, False], columns=[True, False], fill_value=0).to_numpy()
    assert (result.metrics["b"], result.metrics["c"]) == (table[0, 1], table[1, 0])
    assert result.metrics["p_value_two_sided"] == pytest.approx(sm_mcnemar(table, exact=True).pvalue)
    assert result.metrics["champion"] == pytest.approx(skm.accuracy_score(new[800:], champion.predict(X[800:])))
    assert result.passed and result.metrics["test"] == "mcnemar"


# ------------------------------------------------------------------------------------ DeLong
def _delong_by_definition(truth, score_a, score_b):
    """DeLong et al. (1988) straight from the definition: psi kernel over all pairs, O(m n)."""
    positives = [np.asarray(s)[truth] for s in (score_a, score_b)]
    negatives = [np.asarray(s)[~truth] for s in (score_a, score_b)]
    v10, v01, aucs = [], [], []
    for p, q in zip(positives, negatives):
        psi = (p[:, None] > q[None, :]).astype(float) + 0.5 * (p[:, None] == q[None, :])
        aucs.append(psi.mean())
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    m, n = len(v10[0]), len(v01[0])
    s10 = np.cov(np.vstack(v10), ddof=1)
    s01 = np.cov(np.vstack(v01), ddof=1)
    covariance = s10 / m + s01 / n
    return aucs, covariance


@pytest.mark.parametrize("seed, ties", [(0, False), (1, True), (2, True)])
def test_delong_matches_the_definition_and_sklearn(seed, ties):
    rng = np.random.default_rng(seed)
    n = 257
    truth = rng.random(n) < 0.35
    score_a = truth * 0.8 + rng.normal(size=n)
    score_b = truth * 1.3 + rng.normal(size=n) + 0.3 * score_a
    if ties:
        score_a, score_b = np.round(score_a, 1), np.round(score_b, 0)
    ours = delong_test(truth, score_a, score_b)
    aucs, covariance = _delong_by_definition(truth, score_a, score_b)
    assert ours["auc_a"] == pytest.approx(aucs[0], abs=1e-12)
    assert ours["auc_b"] == pytest.approx(aucs[1], abs=1e-12)
    assert ours["auc_a"] == pytest.approx(skm.roc_auc_score(truth, score_a), abs=1e-12)
    assert ours["var_a"] == pytest.approx(covariance[0, 0], rel=1e-10)
    assert ours["var_b"] == pytest.approx(covariance[1, 1], rel=1e-10)
    assert ours["cov"] == pytest.approx(covariance[0, 1], rel=1e-10)
    z = (aucs[1] - aucs[0]) / np.sqrt(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
    assert ours["z"] == pytest.approx(z, rel=1e-10)
    assert ours["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-8)
    assert ours["p_better"] == pytest.approx(stats.norm.sf(z), rel=1e-8)


def test_delong_single_model_variance_matches_hanley_mcneil_order():
    """For one model the DeLong variance must agree with the Mann-Whitney U variance under H0
    when scores are uninformative (a sanity oracle from scipy's U test normal approximation)."""
    rng = np.random.default_rng(3)
    truth = np.repeat([True, False], [400, 600])
    score = rng.normal(size=1000)
    result = delong_test(truth, score, score + 0.0)
    u = stats.mannwhitneyu(score[truth], score[~truth]).statistic
    assert result["auc_a"] == pytest.approx(u / (400 * 600))
    m, n = 400, 600
    assert result["var_a"] == pytest.approx((m + n + 1) / (12 * m * n), rel=0.15)
    assert result["p_better"] == 1.0 and result["z"] == 0.0


def test_validate_delong_on_models():
    X, _, new = _drifted(4)
    weak = LogisticRegression().fit(X[["c", "d"]][:600], new[:600])
    strong = LogisticRegression().fit(X[:600], new[:600])

    class Columns:
        def __init__(self, model, columns):
            self.model, self.columns, self.classes_ = model, columns, model.classes_

        def predict(self, X):
            return self.model.predict(X[self.columns])

        def predict_proba(self, X):
            return self.model.predict_proba(X[self.columns])

    champion = Columns(weak, ["c", "d"])
    result = validate(champion, strong, X[600:], new[600:], metric="auc")
    assert result.metrics["test"] == "delong" and result.passed
    expected = delong_test(new[600:] == 1, weak.predict_proba(X[["c", "d"]][600:])[:, 1],
                           strong.predict_proba(X[600:])[:, 1])
    assert result.metrics["p_value"] == pytest.approx(expected["p_better"])
    assert result.metrics["challenger"] == pytest.approx(skm.roc_auc_score(new[600:], strong.predict_proba(X[600:])[:, 1]))


# ------------------------------------------------------------------------------------ bootstrap / t
def test_bootstrap_is_deterministic_per_seed():
    X, old, new = _drifted(5, n=800)
    a = LogisticRegression().fit(X[:300], new[:300])
    b = LogisticRegression(C=0.05).fit(X[300:600], new[300:600])
    first = validate(a, b, X[600:], new[600:], test="bootstrap", random_state=7, require_significance=False)
    again = validate(a, b, X[600:], new[600:], test="bootstrap", random_state=7, require_significance=False)
    other = validate(a, b, X[600:], new[600:], test="bootstrap", random_state=8, require_significance=False)
    assert first.to_dict() == again.to_dict()
    assert (first.metrics["ci_low"], first.metrics["ci_high"]) != (other.metrics["ci_low"], other.metrics["ci_high"])
    # The resampling p-value estimates a tail probability: close across seeds, bounded by 1/(B+1).
    assert abs(first.metrics["p_value"] - other.metrics["p_value"]) < 0.1
    assert first.metrics["p_value"] >= 1 / 2001


def test_bootstrap_p_value_matches_a_direct_resampling_oracle():
    rng = np.random.default_rng(11)
    y = rng.normal(size=150)
    a, b = y + rng.normal(scale=1.0, size=150), y + rng.normal(scale=0.8, size=150)
    result = validate(Fixed(a), Fixed(b), np.zeros((150, 1)), y, test="bootstrap", metric="mae", n_bootstrap=500,
                      random_state=3)
    draw = np.random.default_rng(3).integers(0, 150, size=(500, 150))
    gains = np.abs(y - a)[draw].mean(axis=1) - np.abs(y - b)[draw].mean(axis=1)
    assert result.metrics["p_value"] == pytest.approx((1 + np.sum(gains <= 0)) / 501)
    assert result.metrics["champion"] == pytest.approx(skm.mean_absolute_error(y, a))


def test_paired_t_matches_scipy():
    rng = np.random.default_rng(12)
    y = rng.normal(size=200)
    a, b = y + rng.normal(size=200), y + rng.normal(scale=0.9, size=200)
    result = validate(Fixed(a), Fixed(b), np.zeros((200, 1)), y, test="paired_t", metric="rmse")
    expected = stats.ttest_rel((y - a) ** 2, (y - b) ** 2, alternative="greater").pvalue
    assert result.metrics["p_value"] == pytest.approx(expected, rel=1e-10)
    assert result.metrics["champion"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, a)))


# ------------------------------------------------------------------------------------ metrics
@pytest.mark.parametrize("metric", ["accuracy", "precision", "recall", "f1", "auc", "log_loss"])
def test_classification_metrics_match_sklearn(metric):
    rng = np.random.default_rng(13)
    y = rng.integers(0, 2, size=300)
    proba = np.clip(0.3 + 0.4 * y + rng.normal(scale=0.25, size=300), 0.01, 0.99)
    proba = np.column_stack([1 - proba, proba])
    model = Fixed(proba.argmax(axis=1), proba)
    result = validate(model, model, np.zeros((300, 1)), y, metric=metric, test="bootstrap", n_bootstrap=100)
    oracle = {
        "accuracy": skm.accuracy_score(y, model.prediction),
        "precision": skm.precision_score(y, model.prediction),
        "recall": skm.recall_score(y, model.prediction),
        "f1": skm.f1_score(y, model.prediction),
        "auc": skm.roc_auc_score(y, proba[:, 1]),
        "log_loss": skm.log_loss(y, proba),
    }[metric]
    assert result.metrics["champion"] == pytest.approx(oracle, rel=1e-12)


def test_multiclass_macro_f1_and_string_labels_match_sklearn():
    rng = np.random.default_rng(14)
    labels = np.array(["ant", "bee", "cat"])
    y = labels[rng.integers(0, 3, size=240)]
    a = np.where(rng.random(240) < 0.6, y, labels[rng.integers(0, 3, size=240)])
    b = np.where(rng.random(240) < 0.8, y, labels[rng.integers(0, 3, size=240)])
    result = validate(Fixed(a, classes=labels), Fixed(b, classes=labels), np.zeros((240, 1)), y, metric="f1",
                      test="bootstrap", n_bootstrap=200)
    assert result.metrics["champion"] == pytest.approx(skm.f1_score(y, a, average="macro"))
    assert result.metrics["challenger"] == pytest.approx(skm.f1_score(y, b, average="macro"))
    accuracy = validate(Fixed(a, classes=labels), Fixed(b, classes=labels), np.zeros((240, 1)), y)
    assert accuracy.metrics["champion"] == pytest.approx(np.mean(a == y)) and accuracy.passed


# ------------------------------------------------------------------------------------ gate semantics
def test_truly_better_challenger_passes_with_a_few_hundred_rows():
    X, old, new = _drifted(20)
    champion = LogisticRegression().fit(X[:400], old[:400])  # learnt before the drift
    challenger = LogisticRegression().fit(X[400:900], new[400:900])  # refit after it
    result = validate(champion, challenger, X[900:], new[900:])  # 300 holdout rows
    assert result.passed, result.reasons
    assert result.reasons[0].startswith("passed:") and "McNemar" in result.reasons[0]
    json.dumps(result.to_dict())
    assert "PASSED" in result.to_html() and result._repr_html_() == result.to_html()
    assert bool(result) is True and isinstance(result, ValidationResult)


def test_worse_challenger_fails_with_reasons_for_every_test():
    X, old, new = _drifted(21)
    good = LogisticRegression().fit(X[400:900], new[400:900])
    bad = LogisticRegression().fit(X[:400], old[:400])
    for test, metric in [("mcnemar", "accuracy"), ("bootstrap", "accuracy"), ("delong", "auc"),
                         ("paired_t", "log_loss"), ("bootstrap", "f1")]:
        result = validate(good, bad, X[900:], new[900:], test=test, metric=metric, require_significance=False,
                          min_gain=-0.01)
        assert not result.passed
        assert any("significantly worse" in r for r in result.reasons), (test, result.reasons)
        assert any("gain too small" in r for r in result.reasons)


def test_equal_challenger_needs_significance_by_default_but_passes_non_inferiority():
    X, _, new = _drifted(22)
    model = LogisticRegression().fit(X[:600], new[:600])
    strict = validate(model, model, X[600:], new[600:])
    assert not strict.passed and strict.reasons[0].startswith("no significant improvement")
    lenient = validate(model, model, X[600:], new[600:], require_significance=False, min_gain=-0.01)
    assert lenient.passed


def test_worse_on_a_slice_fails():
    rng = np.random.default_rng(23)
    n = 600
    region = np.repeat(["north", "south", "east"], n // 3)
    y = rng.integers(0, 2, size=n)
    champion = np.where(rng.random(n) < 0.85, y, 1 - y)
    # Better in north and south, much worse in east: better overall, but not acceptable.
    challenger = np.where(region == "east", np.where(rng.random(n) < 0.75, y, 1 - y), y)
    X = pd.DataFrame({"region": region, "v": rng.normal(size=n)})
    result = validate(Fixed(champion), Fixed(challenger), X, y, slices="region", require_significance=False)
    assert result.metrics["gain"] > 0 and not result.passed
    assert any(r.startswith("slice region=east") and "max_slice_drop" in r for r in result.reasons)
    table = result.to_frame().set_index(["scope", "group"])
    east = region == "east"
    assert table.loc[("region", "east"), "champion"] == pytest.approx(np.mean(champion[east] == y[east]))
    assert table.loc[("region", "east"), "n"] == east.sum()
    # Numeric slice columns are cut into quartiles.
    quartiles = validate(Fixed(champion), Fixed(challenger), X, y, slices=["v"], require_significance=False)
    assert (quartiles.to_frame()["scope"] == "v").sum() == 4


def test_less_fair_challenger_fails_unless_within_the_bound():
    rng = np.random.default_rng(24)
    n = 800
    group = np.repeat(["g1", "g2"], n // 2)
    y = rng.integers(0, 2, size=n)
    champion = np.where(rng.random(n) < 0.8, y, 1 - y)
    # Challenger: same accuracy profile, but predicts positive far more often for g2.
    challenger = np.where(rng.random(n) < 0.8, y, 1 - y)
    challenger = np.where((group == "g2") & (rng.random(n) < 0.4), 1, challenger)
    X = pd.DataFrame({"group": group})
    # (alpha is tiny so that only the fairness rules can decide here.)
    result = validate(Fixed(champion), Fixed(challenger), X, y, sensitive="group", require_significance=False,
                      min_gain=-0.2, alpha=1e-4)
    assert not result.passed
    assert any(r.startswith("demographic_parity gap over group") for r in result.reasons), result.reasons
    fairness = result.fairness.set_index("gap")
    rate = lambda p, g: np.mean(p[group == g] == 1)  # noqa: E731
    assert fairness.loc["demographic_parity", "challenger"] == pytest.approx(
        abs(rate(challenger, "g2") - rate(challenger, "g1")))
    bounded = validate(Fixed(champion), Fixed(challenger), X, y, sensitive={"group": group},
                       require_significance=False, min_gain=-0.2, alpha=1e-4, max_fairness_gap=0.9)
    assert bounded.passed, bounded.reasons


def test_churn_guardrail():
    rng = np.random.default_rng(25)
    y = rng.integers(0, 2, size=500)
    champion = np.where(rng.random(500) < 0.8, y, 1 - y)
    challenger = np.where(rng.random(500) < 0.8, y, 1 - y)  # as good, but different rows wrong
    churn = np.mean(champion != challenger)
    result = validate(Fixed(champion), Fixed(challenger), np.zeros((500, 1)), y, require_significance=False,
                      min_gain=-0.1, max_churn=0.1)
    assert result.metrics["churn"] == pytest.approx(churn)
    assert not result.passed and any("prediction churn" in r and "exceeds" in r for r in result.reasons)
    assert validate(Fixed(champion), Fixed(challenger), np.zeros((500, 1)), y, require_significance=False,
                    min_gain=-0.1, max_churn=0.5).passed


def test_too_few_samples_fail_the_gate():
    result = validate(Fixed([0, 1]), Fixed([0, 1]), np.zeros((2, 1)), [0, 1])
    assert not result.passed and "only 2 holdout rows" in result.reasons[0]


def test_regression_gate():
    rng = np.random.default_rng(26)
    X = rng.normal(size=(600, 3))
    y = 2 * X[:, 0] + rng.normal(scale=0.5, size=600)
    weak = LinearRegression().fit(X[:300, 1:], y[:300])
    strong = LinearRegression().fit(X[:300], y[:300])

    class Drop:
        def predict(self, X):
            return weak.predict(np.asarray(X)[:, 1:])

    result = validate(Drop(), strong, X[300:], y[300:])
    assert result.metrics["metric"] == "rmse" and result.metrics["test"] == "bootstrap" and result.passed
    assert result.metrics["challenger"] == pytest.approx(np.sqrt(skm.mean_squared_error(y[300:], strong.predict(X[300:]))))
    assert not validate(strong, Drop(), X[300:], y[300:], require_significance=False).passed


# ------------------------------------------------------------------------------------ bad inputs
def test_bad_inputs_name_the_argument():
    y = np.array([0, 1] * 50)
    X = np.zeros((100, 1))
    model = DummyClassifier().fit(X, y)
    cases = [
        (dict(champion=object()), TypeError, "champion must have a predict"),
        (dict(challenger=3), TypeError, "challenger must have a predict"),
        (dict(X="x"), TypeError, "X must be"),
        (dict(y=y[:10]), ValueError, "y has 10 entries but X has 100 rows"),
        (dict(y=np.zeros((100, 2))), ValueError, "y must be 1-D"),
        (dict(y=np.r_[np.nan, np.zeros(99)]), ValueError, "y has missing"),
        (dict(metric="r2"), ValueError, "metric must be"),
        (dict(test="wilcoxon"), ValueError, "test must be"),
        (dict(metric="f1", test="mcnemar"), ValueError, "test='mcnemar'"),
        (dict(metric="accuracy", test="delong"), ValueError, "test='delong'"),
        (dict(metric="auc", test="paired_t"), ValueError, "test='paired_t'"),
        (dict(alpha=0.0), ValueError, "alpha"),
        (dict(alpha="0.05"), TypeError, "alpha"),
        (dict(min_gain=float("nan")), ValueError, "min_gain"),
        (dict(max_churn=1.5), ValueError, "max_churn"),
        (dict(max_fairness_gap=-0.1), ValueError, "max_fairness_gap"),
        (dict(max_slice_drop=-1.0), ValueError, "max_slice_drop"),
        (dict(fairness_tolerance=-1.0), ValueError, "fairness_tolerance"),
        (dict(require_significance="yes"), TypeError, "require_significance"),
        (dict(min_samples=0), ValueError, "min_samples"),
        (dict(min_slice_size=0), ValueError, "min_slice_size"),
        (dict(n_bootstrap=10), ValueError, "n_bootstrap"),
        (dict(random_state=1.5), TypeError, "random_state"),
        (dict(slices="region"), ValueError, "slices names columns, so X must be a DataFrame"),
        (dict(slices=3), TypeError, "slices must be"),
        (dict(sensitive={"g": [1, 2]}), ValueError, r"sensitive\['g'\] must have one value per row"),
        (dict(metric="log_loss", champion=Fixed(y)), TypeError, None),
    ]
    for change, error, message in cases:
        arguments = {"champion": model, "challenger": model, "X": X, "y": y, **change}
        if change.get("champion") is not None and isinstance(change["champion"], Fixed):
            arguments["champion"] = type("NoProba", (), {"predict": lambda self, X: y, "classes_": np.array([0, 1])})()
            message = "predict_proba"
        with pytest.raises(error, match=message):
            validate(arguments.pop("champion"), arguments.pop("challenger"), arguments.pop("X"), arguments.pop("y"),
                     **arguments)
    with pytest.raises(TypeError):
        validate(model, model, X, y, min_improvement=0.1)  # unknown keyword
    frame = pd.DataFrame({"a": np.zeros(100)})
    with pytest.raises(ValueError, match=r"slices names columns not in X: \['zz'\]"):
        validate(model, model, frame, y, slices=["zz"])
    with pytest.raises(ValueError, match="needs a binary task"):
        three = np.array([0, 1, 2] * 40)
        proba = np.full((120, 3), 1 / 3)
        validate(Fixed(three, proba, (0, 1, 2)), Fixed(three, proba, (0, 1, 2)), np.zeros((120, 1)), three,
                 metric="auc")
    with pytest.raises(ValueError, match="both classes"):
        delong_test([1, 1, 1], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1])
    with pytest.raises(ValueError, match="b must be a count"):
        mcnemar_test(-1, 3)


# ------------------------------------------------------------------ every p-value, both sides
@pytest.mark.parametrize("b, c", [(0, 1), (1, 0), (0, 7), (7, 0), (3, 3), (2, 12), (12, 2), (30, 45), (61, 40),
                                  (1, 1), (400, 455)])
def test_mcnemar_one_sided_p_values_are_binomial_tails_both_ways(b, c):
    """p_better = P(X >= c), p_worse = P(X >= b) for X ~ Binomial(b + c, 1/2) (scipy binomtest)."""
    for exact in (True, False):
        for correction in (True, False):
            ours = mcnemar_test(b, c, exact=exact, correction=correction)
            assert ours["p_better"] == pytest.approx(stats.binomtest(c, b + c, 0.5, alternative="greater").pvalue,
                                                     rel=1e-12)
            assert ours["p_worse"] == pytest.approx(stats.binomtest(b, b + c, 0.5, alternative="greater").pvalue,
                                                    rel=1e-12)


@pytest.mark.parametrize("b, c", [(0, 7), (3, 3), (2, 12), (12, 2), (30, 45), (61, 40), (400, 455), (5, 0)])
@pytest.mark.parametrize("correction", [True, False])
def test_mcnemar_asymptotic_with_and_without_correction_matches_statsmodels_and_the_normal(b, c, correction):
    ours = mcnemar_test(b, c, exact=False, correction=correction)
    theirs = sm_mcnemar([[17, b], [c, 23]], exact=False, correction=correction)
    assert ours["statistic"] == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours["p_value"] == pytest.approx(theirs.pvalue, rel=1e-10)
    # chi-square with 1 df is a squared standard normal: the two-sided normal tail of sqrt(stat).
    assert ours["p_value"] == pytest.approx(2 * stats.norm.sf(np.sqrt(theirs.statistic)), rel=1e-9)
    exact = mcnemar_test(b, c)
    assert exact["statistic"] == min(b, c)
    assert exact["p_value"] == pytest.approx(sm_mcnemar([[17, b], [c, 23]], exact=True).pvalue, rel=1e-10)
    assert exact["p_value"] == pytest.approx(stats.binomtest(c, b + c, 0.5).pvalue, rel=1e-10)


def test_mcnemar_refuses_bad_counts():
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="must be a count"):
            mcnemar_test(bad, 2)
        with pytest.raises(ValueError, match="must be a count"):
            mcnemar_test(2, bad)
    assert mcnemar_test(0, 0)["statistic"] == 0.0


@pytest.mark.parametrize("seed, swap", [(0, False), (0, True), (5, False), (6, True)])
def test_delong_both_sides_match_the_definition(seed, swap):
    rng = np.random.default_rng(seed)
    n = 301
    truth = rng.random(n) < 0.4
    score_a = truth * 0.6 + rng.normal(size=n)
    score_b = truth * 1.1 + rng.normal(size=n) + 0.4 * score_a
    if swap:
        score_a, score_b = score_b, score_a
    ours = delong_test(truth.astype(int), score_a, score_b)
    aucs, covariance = _delong_by_definition(truth, score_a, score_b)
    z = (aucs[1] - aucs[0]) / np.sqrt(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
    assert bool(z < 0) is swap
    assert ours["z"] == pytest.approx(z, rel=1e-10)
    assert ours["p_better"] == pytest.approx(stats.norm.sf(z), rel=1e-8)
    assert ours["p_worse"] == pytest.approx(stats.norm.cdf(z), rel=1e-8)
    assert ours["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-8)


def test_delong_published_example_hanley_mcneil_1983():
    """Hanley & McNeil (1983), Radiology 148:839, table 1: 5-point ratings of 58 normal and 51
    abnormal CT images give an AUC of 0.893 (DeLong's midranks reproduce the trapezoid)."""
    normal = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])
    abnormal = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])
    truth = np.r_[np.zeros(58, bool), np.ones(51, bool)]
    score = np.r_[normal, abnormal].astype(float)
    result = delong_test(truth, score, score)
    assert result["auc_a"] == pytest.approx(0.893, abs=5e-4)
    assert result["z"] == 0.0 and result["p_better"] == 1.0 and result["p_worse"] == 1.0


def test_delong_refuses_bad_input():
    with pytest.raises(ValueError, match="binary"):
        delong_test([0, 2], [0.1, 0.2], [0.1, 0.2])
    with pytest.raises(ValueError, match="both classes"):
        delong_test([1, 1], [0.1, 0.2], [0.1, 0.2])
    with pytest.raises(ValueError, match="score_b has shape"):
        delong_test([0, 1], [0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="score_a has missing"):
        delong_test([0, 1], [np.nan, 0.2], [0.1, 0.2])


def test_delong_perfectly_separated_identical_difference_is_infinite_z():
    result = delong_test([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], [0.1, 0.2, 0.7, 0.8])
    assert result["auc_a"] == 0.75 and result["auc_b"] == 1.0
    assert result["z"] > 0 and result["p_better"] < 0.5 < result["p_worse"]


def test_validate_reports_both_sides_of_every_test():
    rng = np.random.default_rng(21)
    n = 300
    y = (rng.random(n) < 0.5).astype(int)
    right_a, right_b = rng.random(n) < 0.7, rng.random(n) < 0.8
    pred_a, pred_b = np.where(right_a, y, 1 - y), np.where(right_b, y, 1 - y)
    X = np.zeros((n, 1))
    result = validate(Fixed(pred_a), Fixed(pred_b), X, y, require_significance=False, min_gain=-1.0)
    b, c = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    assert (result.metrics["b"], result.metrics["c"]) == (b, c)
    assert result.metrics["p_value"] == pytest.approx(stats.binomtest(c, b + c, 0.5, alternative="greater").pvalue)
    assert result.metrics["p_value_worse"] == pytest.approx(stats.binomtest(b, b + c, 0.5, alternative="greater").pvalue)
    # Reversed roles: the two one-sided p-values swap.
    back = validate(Fixed(pred_b), Fixed(pred_a), X, y, require_significance=False, min_gain=-1.0)
    assert back.metrics["p_value"] == pytest.approx(result.metrics["p_value_worse"])
    assert back.metrics["p_value_worse"] == pytest.approx(result.metrics["p_value"])
    assert back.passed is False and any("significantly worse" in r for r in back.reasons)

    score_a = y * 0.5 + rng.normal(size=n)
    score_b = y * 1.0 + rng.normal(size=n)
    proba = lambda s: np.column_stack([1 - 1 / (1 + np.exp(-s)), 1 / (1 + np.exp(-s))])  # noqa: E731
    auc = validate(Fixed(pred_a, proba(score_a)), Fixed(pred_b, proba(score_b)), X, y, metric="auc")
    aucs, covariance = _delong_by_definition(y == 1, 1 / (1 + np.exp(-score_a)), 1 / (1 + np.exp(-score_b)))
    z = (aucs[1] - aucs[0]) / np.sqrt(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
    assert auc.metrics["p_value"] == pytest.approx(stats.norm.sf(z), rel=1e-8)
    assert auc.metrics["p_value_worse"] == pytest.approx(stats.norm.cdf(z), rel=1e-8)
    assert auc.metrics["p_value_two_sided"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-8)

    target = rng.normal(size=n)
    a, b_ = target + rng.normal(size=n), target + rng.normal(scale=0.9, size=n)
    for metric, loss in (("rmse", lambda e: e ** 2), ("mae", np.abs)):
        t = validate(Fixed(a), Fixed(b_), X, target, test="paired_t", metric=metric, require_significance=False)
        losses_a, losses_b = loss(target - a), loss(target - b_)
        assert t.metrics["p_value"] == pytest.approx(stats.ttest_rel(losses_a, losses_b, alternative="greater").pvalue,
                                                     rel=1e-10)
        assert t.metrics["p_value_worse"] == pytest.approx(stats.ttest_rel(losses_a, losses_b, alternative="less").pvalue,
                                                           rel=1e-10)
    t = validate(Fixed(pred_a), Fixed(pred_b), X, y, test="paired_t", metric="accuracy")
    expected = stats.ttest_rel((pred_a != y).astype(float), (pred_b != y).astype(float), alternative="greater")
    assert t.metrics["p_value"] == pytest.approx(expected.pvalue, rel=1e-10)


def test_paired_t_with_constant_differences_decides_by_the_sign():
    y = np.arange(40, dtype=float)
    X = np.zeros((40, 1))
    better = validate(Fixed(y + 2.0), Fixed(y + 1.0), X, y, test="paired_t", metric="mae")
    assert (better.metrics["p_value"], better.metrics["p_value_worse"]) == (0.0, 1.0) and better.passed
    worse = validate(Fixed(y + 1.0), Fixed(y + 2.0), X, y, test="paired_t", metric="mae")
    assert (worse.metrics["p_value"], worse.metrics["p_value_worse"]) == (1.0, 0.0) and not worse.passed
    same = validate(Fixed(y + 1.0), Fixed(y + 1.0), X, y, test="paired_t", metric="mae")
    assert (same.metrics["p_value"], same.metrics["p_value_worse"]) == (1.0, 1.0)


@pytest.mark.parametrize("metric, higher", [("mae", False), ("rmse", False), ("accuracy", True)])
def test_bootstrap_both_sides_match_a_direct_resampling_oracle(metric, higher):
    rng = np.random.default_rng(31)
    n, B = 120, 400
    if metric == "accuracy":
        y = (rng.random(n) < 0.5).astype(int)
        a = np.where(rng.random(n) < 0.75, y, 1 - y)
        b = np.where(rng.random(n) < 0.8, y, 1 - y)
    else:
        y = rng.normal(size=n)
        a, b = y + rng.normal(size=n), y + rng.normal(scale=0.9, size=n)
    result = validate(Fixed(a), Fixed(b), np.zeros((n, 1)), y, test="bootstrap", metric=metric, n_bootstrap=B,
                      random_state=5, require_significance=False, min_gain=-10.0)
    draw = np.random.default_rng(5).integers(0, n, size=(B, n))
    if metric == "accuracy":
        value = lambda p: (p == y)[draw].mean(axis=1)  # noqa: E731
    elif metric == "mae":
        value = lambda p: np.abs(y - p)[draw].mean(axis=1)  # noqa: E731
    else:
        value = lambda p: np.sqrt(((y - p) ** 2)[draw].mean(axis=1))  # noqa: E731
    gains = (value(b) - value(a)) * (1 if higher else -1)
    assert result.metrics["p_value"] == pytest.approx((1 + np.sum(gains <= 0)) / (B + 1))
    assert result.metrics["p_value_worse"] == pytest.approx((1 + np.sum(gains >= 0)) / (B + 1))
    assert result.metrics["ci_low"] == pytest.approx(np.quantile(gains, 0.025))
    assert result.metrics["ci_high"] == pytest.approx(np.quantile(gains, 0.975))


def test_bootstrap_of_a_non_per_row_metric_matches_a_resampling_oracle():
    rng = np.random.default_rng(32)
    n, B = 150, 100
    y = (rng.random(n) < 0.4).astype(int)
    a = np.where(rng.random(n) < 0.75, y, 1 - y)
    b = np.where(rng.random(n) < 0.8, y, 1 - y)
    result = validate(Fixed(a), Fixed(b), np.zeros((n, 1)), y, metric="f1", n_bootstrap=B, random_state=9,
                      require_significance=False, min_gain=-1.0)
    assert result.metrics["test"] == "bootstrap"
    draws = np.random.default_rng(9)
    gains = []
    for _ in range(B):
        index = draws.integers(0, n, size=n)
        gains.append(skm.f1_score(y[index], b[index], zero_division=0) - skm.f1_score(y[index], a[index], zero_division=0))
    gains = np.asarray(gains)
    assert result.metrics["p_value"] == pytest.approx((1 + np.sum(gains <= 0)) / (B + 1))
    assert result.metrics["p_value_worse"] == pytest.approx((1 + np.sum(gains >= 0)) / (B + 1))


# ------------------------------------------------ an equally good challenger rarely passes
def _equal_accuracy_pass_rate(test, seeds=500, n=300, accuracy=0.8):
    passed = 0
    X = np.zeros((n, 1))
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        y = (rng.random(n) < 0.5).astype(int)
        # Independent errors at the same true accuracy: the models differ, neither is better.
        right_a, right_b = rng.random(n) < accuracy, rng.random(n) < accuracy
        pred_a, pred_b = np.where(right_a, y, 1 - y), np.where(right_b, y, 1 - y)
        if test == "delong":
            score_a, score_b = y + rng.normal(scale=1.5, size=n), y + rng.normal(scale=1.5, size=n)
            sig = lambda s: 1 / (1 + np.exp(-s))  # noqa: E731
            champion = Fixed(pred_a, np.column_stack([1 - sig(score_a), sig(score_a)]))
            challenger = Fixed(pred_b, np.column_stack([1 - sig(score_b), sig(score_b)]))
            result = validate(champion, challenger, X, y, metric="auc")
        elif test == "paired_t":
            target = rng.normal(size=n)
            result = validate(Fixed(target + rng.normal(size=n)), Fixed(target + rng.normal(size=n)), X, target,
                              test="paired_t", metric="mae")
        else:
            result = validate(Fixed(pred_a), Fixed(pred_b), X, y, test=test, n_bootstrap=200, random_state=seed)
        passed += bool(result.passed)
    return passed / seeds


@pytest.mark.slow
@pytest.mark.parametrize("test", ["mcnemar", "delong", "paired_t", "bootstrap"])
def test_equally_good_challenger_passes_at_most_alpha_of_the_time(test):
    alpha, seeds = 0.05, 500
    rate = _equal_accuracy_pass_rate(test, seeds)
    assert rate <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / seeds), rate


# ------------------------------------------------------------- predictions must be labels
def test_margins_for_an_accuracy_metric_are_refused_not_scored_zero():
    rng = np.random.default_rng(41)
    y = (rng.random(200) < 0.5).astype(int)
    margins = rng.normal(size=200)
    X = np.zeros((200, 1))
    for metric in ("accuracy", "precision", "recall", "f1"):
        with pytest.raises(ValueError, match="champion.predict returned values that are not class labels"):
            validate(Fixed(margins), Fixed(y), X, y, metric=metric)
        with pytest.raises(ValueError, match="challenger.predict returned values that are not class labels"):
            validate(Fixed(y), Fixed(margins), X, y, metric=metric)
    # Probabilities are not labels either; labels of another vocabulary neither.
    with pytest.raises(ValueError, match="decision_function"):
        validate(Fixed(y), Fixed(np.full(200, 0.7)), X, y)
    with pytest.raises(ValueError, match="not class labels"):
        validate(Fixed(y), Fixed(np.where(y == 1, "yes", "no"), classes=(0, 1)), X, y)


def test_a_class_the_model_knows_but_the_holdout_lacks_is_a_label():
    y = np.array([0, 1] * 50)
    predicted = np.array([0, 1, 2, 1] * 25)
    result = validate(Fixed(y), Fixed(predicted, classes=(0, 1, 2)), np.zeros((100, 1)), y,
                      require_significance=False, min_gain=-1.0)
    assert result.metrics["challenger"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="not class labels"):
        validate(Fixed(y), Fixed(predicted, classes=(0, 1)), np.zeros((100, 1)), y)


def test_two_classifier_tree_ensembles_are_scored_on_their_labels():
    """Regression test: the gate used to compare margins with 0/1 labels (accuracy 0 vs 0)."""
    from sklearn.ensemble import GradientBoostingClassifier

    from loopwise.models import TreeEnsemble

    X, old, new = _drifted(7, n=1500)
    champion = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X[:500], old[:500])
    challenger = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X[500:1000], new[500:1000])
    ours = validate(TreeEnsemble.from_model(champion), TreeEnsemble.from_model(challenger), X[1000:], new[1000:])
    assert ours.metrics["champion"] == pytest.approx(skm.accuracy_score(new[1000:], champion.predict(X[1000:])))
    assert ours.metrics["challenger"] == pytest.approx(skm.accuracy_score(new[1000:], challenger.predict(X[1000:])))
    assert ours.metrics["challenger"] > 0.8 and ours.passed
    reference = validate(champion, challenger, X[1000:], new[1000:])
    assert ours.metrics["p_value"] == reference.metrics["p_value"]
