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
