"""The gate's edges: DeLong with one row of a class or zero variance, which predict_proba column
is which class, slice groups (exact values or quartiles), fairness gaps counted by hand, and
the result's JSON / table / HTML / repr forms.

Oracles: DeLong's definition (psi kernel, O(m n)), scikit-learn's roc_auc_score, rates
counted by hand from the documented rules, and the ValidationResult fields themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm

from loopwise.loop import ValidationResult, delong_test, validate


class Fixed:
    """Returns given predictions/probabilities whatever the input."""

    def __init__(self, prediction, proba=None, classes=(0, 1)):
        self.prediction = np.asarray(prediction)
        self.proba = None if proba is None else np.asarray(proba, dtype=float)
        if classes is not None:
            self.classes_ = np.asarray(classes)

    def predict(self, X):
        return self.prediction

    def predict_proba(self, X):
        return self.proba


class FixedWithClasses(Fixed):
    """A TreeEnsemble-like model: ``classes`` and ``task`` instead of ``classes_``."""

    def __init__(self, prediction, proba, classes):
        super().__init__(prediction, proba, classes=None)
        self.classes = np.asarray(classes)
        self.task = "binary"


# ------------------------------------------------------------------------------ DeLong edges
def _psi_components(truth, score):
    p, q = score[truth], score[~truth]
    psi = (p[:, None] > q[None, :]).astype(float) + 0.5 * (p[:, None] == q[None, :])
    return psi.mean(), psi.mean(axis=1), psi.mean(axis=0)


@pytest.mark.parametrize("n_pos, n_neg", [(1, 6), (6, 1), (2, 2), (2, 5)])
def test_delong_with_one_or_two_rows_of_a_class(n_pos, n_neg):
    # One row of a class has no spread: its covariance term is zero (no NaN from np.cov).
    rng = np.random.default_rng(n_pos * 10 + n_neg)
    truth = np.array([True] * n_pos + [False] * n_neg)
    score_a, score_b = rng.normal(size=len(truth)), rng.normal(size=len(truth)) + truth
    parts = [_psi_components(truth, s) for s in (score_a, score_b)]
    s10 = np.cov(np.vstack([p[1] for p in parts])) if n_pos > 1 else np.zeros((2, 2))
    s01 = np.cov(np.vstack([p[2] for p in parts])) if n_neg > 1 else np.zeros((2, 2))
    covariance = s10 / n_pos + s01 / n_neg
    result = delong_test(truth, score_a, score_b)
    assert result["auc_a"] == pytest.approx(skm.roc_auc_score(truth, score_a), abs=1e-12)
    assert result["auc_b"] == pytest.approx(skm.roc_auc_score(truth, score_b), abs=1e-12)
    assert result["var_a"] == pytest.approx(covariance[0, 0], rel=1e-10, abs=1e-15)
    assert result["var_b"] == pytest.approx(covariance[1, 1], rel=1e-10, abs=1e-15)
    assert result["cov"] == pytest.approx(covariance[0, 1], rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("flip", [False, True])
def test_delong_zero_variance_and_a_difference_is_an_infinite_z(flip):
    truth = np.array([False, True])
    worse, better = np.array([1.0, 0.0]), np.array([0.0, 1.0])  # AUC 0 and AUC 1
    a, b = (better, worse) if flip else (worse, better)
    result = delong_test(truth, a, b)
    sign = -1.0 if flip else 1.0
    assert result["z"] == sign * np.inf
    assert result["p_value"] == 0.0
    assert result["p_better"] == (1.0 if flip else 0.0)
    assert result["p_worse"] == (0.0 if flip else 1.0)


def test_delong_equal_aucs_with_spread_is_a_zero_z():
    truth = np.array([False, False, True, True])
    a = np.array([0.1, 0.4, 0.35, 0.8])
    b = np.array([0.4, 0.1, 0.8, 0.35])  # a different ranking with the same AUC, 0.75
    result = delong_test(truth, a, b)
    assert result["auc_a"] == result["auc_b"] == 0.75
    assert result["var_a"] + result["var_b"] - 2 * result["cov"] > 0
    assert result["z"] == 0.0
    assert result["p_better"] == pytest.approx(stats.norm.sf(0.0)) and result["p_worse"] == pytest.approx(0.5)
    assert result["p_value"] == 1.0


def test_delong_error_messages():
    with pytest.raises(ValueError, match=r"^y_true must be binary \(bool or 0/1\)$"):
        delong_test([0, 2], [0.1, 0.2], [0.1, 0.2])
    with pytest.raises(ValueError, match="^y_true must contain both classes for an AUC$"):
        delong_test([1, 1], [0.1, 0.2], [0.1, 0.2])


# ----------------------------------------------------------------- probability columns
def _auc_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.5).astype(int)
    p_a = np.clip(0.5 + 0.2 * (y - 0.5) + rng.normal(scale=0.2, size=n), 0.01, 0.99)
    p_b = np.clip(0.5 + 0.5 * (y - 0.5) + rng.normal(scale=0.2, size=n), 0.01, 0.99)
    return y, p_a, p_b


@pytest.mark.parametrize("model", [Fixed, FixedWithClasses])
def test_proba_columns_follow_the_models_declared_class_order(model):
    y, p_a, p_b = _auc_data()
    X = np.zeros((len(y), 1))
    # Columns in the order [1, 0]: column 0 is the positive class.
    champion = model(y, np.column_stack([p_a, 1 - p_a]), classes=[1, 0])
    challenger = model(y, np.column_stack([p_b, 1 - p_b]), classes=[1, 0])
    result = validate(champion, challenger, X, y, metric="auc")
    assert result.metrics["champion"] == pytest.approx(skm.roc_auc_score(y, p_a), abs=1e-12)
    assert result.metrics["challenger"] == pytest.approx(skm.roc_auc_score(y, p_b), abs=1e-12)


def test_declared_classes_of_another_width_fall_back_to_the_labels():
    y, p_a, p_b = _auc_data()
    X = np.zeros((len(y), 1))
    # classes_ has three entries but predict_proba two columns: the columns are y's sorted labels.
    champion = Fixed(y, np.column_stack([1 - p_a, p_a]), classes=[0, 1, 2])
    challenger = Fixed(y, np.column_stack([1 - p_b, p_b]), classes=[0, 1])
    result = validate(champion, challenger, X, y, metric="auc", require_significance=False)
    assert result.metrics["champion"] == pytest.approx(skm.roc_auc_score(y, p_a), abs=1e-12)


def test_a_model_without_the_positive_class_scores_it_as_probability_zero():
    y, p_a, _ = _auc_data()
    X = np.zeros((len(y), 1))
    champion = Fixed(y, np.column_stack([1 - p_a, p_a]), classes=[0, 1])
    only_zero = Fixed(np.zeros(len(y), dtype=int), np.ones((len(y), 1)), classes=[0])
    result = validate(champion, only_zero, X, y, metric="auc")
    assert result.metrics["challenger"] == pytest.approx(skm.roc_auc_score(y, np.zeros(len(y))))  # 0.5


# ------------------------------------------------------------------------------ slice groups
def _slice_groups(column_values, n=440):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, n)
    X = pd.DataFrame({"s": column_values})
    result = validate(Fixed(y), Fixed(y), X, y, slices="s", require_significance=False)
    table = result.table[result.table["scope"] == "s"]
    return table.set_index("group")["n"].to_dict()


def test_ten_distinct_numbers_are_ten_groups_eleven_are_quartiles():
    ten = np.repeat(np.arange(10.0), 44)
    assert _slice_groups(ten) == {str(float(v)): 44 for v in range(10)}
    eleven = np.repeat(np.arange(11.0), 40)
    groups = _slice_groups(eleven)
    # Quartile edges of 0..10 are 0, 2.5, 5, 7.5, 10: {0,1,2} {3,4,5} {6,7} {8,9,10}.
    assert sorted(groups.values()) == [80, 120, 120, 120] and len(groups) == 4


def test_missing_values_do_not_count_as_a_distinct_number():
    # Was a TypeError under pandas 3 (astype(str) kept NaN, mixing str and float groups).
    values = np.repeat(np.append(np.arange(10.0), np.nan), 40)
    groups = _slice_groups(values)
    assert len(groups) == 11 and groups["nan"] == 40  # ten values plus the missing group, not quartiles


def test_many_distinct_strings_are_groups_not_quartiles():
    values = np.repeat([f"g{i:02d}" for i in range(11)], 40)
    assert _slice_groups(values) == {f"g{i:02d}": 40 for i in range(11)}


def test_quartiles_with_repeated_edges_are_merged():
    # 60% zeros: the 0, 25% and 50% edges are all 0 and merge; the 75% edge is 66.25
    # (linear interpolation between the 330th and 331st of the sorted values 0 x 264, 1..176).
    values = np.concatenate([np.zeros(264), np.arange(1.0, 177.0)])
    groups = _slice_groups(values)
    assert sorted(groups.values()) == [110, 330] and len(groups) == 2


# ---------------------------------------------------------------------------- fairness gaps
def test_fairness_gaps_are_counted_by_hand():
    rng = np.random.default_rng(5)
    sizes = {"big1": 60, "big2": 50, "exact": 30}
    small = {f"tiny{i}": 29 - i for i in range(8)}  # below min_slice_size: reported nowhere
    groups = np.concatenate([[g] * k for g, k in {**sizes, **small}.items()])
    n = len(groups)
    y = rng.integers(0, 2, n)
    pred_a = np.where(rng.random(n) < 0.8, y, 1 - y)
    pred_b = np.where(rng.random(n) < 0.7, y, 1 - y)
    result = validate(Fixed(pred_a), Fixed(pred_b), np.zeros((n, 1)), y, sensitive={"g": groups},
                      min_slice_size=30, require_significance=False, min_gain=-1.0, alpha=1e-9,
                      fairness_tolerance=1.0)

    def gaps(pred):
        counted = [g for g in sizes]  # groups with >= 30 rows, the one of exactly 30 included
        dp = [pred[groups == g].mean() for g in counted]
        tpr = [pred[(groups == g) & (y == 1)].mean() for g in counted]
        fpr = [pred[(groups == g) & (y == 0)].mean() for g in counted]
        return {"demographic_parity": max(dp) - min(dp), "tpr": max(tpr) - min(tpr), "fpr": max(fpr) - min(fpr)}

    table = result.fairness.set_index("gap")
    for gap, value in gaps(pred_a).items():
        assert table.loc[gap, "champion"] == pytest.approx(value, abs=1e-12), gap
    for gap, value in gaps(pred_b).items():
        assert table.loc[gap, "challenger"] == pytest.approx(value, abs=1e-12), gap


# ---------------------------------------------------------------------------- result forms
def _result(passed):
    rules = [{"rule": "gain", "passed": passed, "value": 0.1, "threshold": 0.0, "detail": "d <1>"}]
    table = pd.DataFrame([{"scope": "overall", "group": "", "n": 10, "champion": 0.5, "challenger": 0.6,
                           "gain": 0.1}])
    fairness = pd.DataFrame([{"column": "g", "gap": "tpr", "champion": 0.1, "challenger": 0.2}])
    metrics = {"metric": "accuracy", "champion": 0.5, "challenger": 0.6, "p_value": 0.01, "ci": float("nan")}
    return ValidationResult(passed, ["because <x> & y"], metrics, rules, table, fairness, {"alpha": 0.05})


def test_to_dict_holds_every_field_with_nan_as_none():
    result = _result(True)
    assert result.to_dict() == {
        "passed": True, "reasons": ["because <x> & y"],
        "metrics": {"metric": "accuracy", "champion": 0.5, "challenger": 0.6, "p_value": 0.01, "ci": None},
        "rules": [{"rule": "gain", "passed": True, "value": 0.1, "threshold": 0.0, "detail": "d <1>"}],
        "table": [{"scope": "overall", "group": "", "n": 10, "champion": 0.5, "challenger": 0.6, "gain": 0.1}],
        "fairness": [{"column": "g", "gap": "tpr", "champion": 0.1, "challenger": 0.2}],
        "settings": {"alpha": 0.05},
    }


def test_rules_frame_has_one_row_per_rule_in_a_fixed_column_order():
    frame = _result(False).rules_frame()
    assert list(frame.columns) == ["rule", "passed", "value", "threshold", "detail"]
    assert frame.to_dict(orient="records") == _result(False).rules
    assert list(ValidationResult(True, [], {}).rules_frame().columns) == ["rule", "passed", "value", "threshold",
                                                                           "detail"]


@pytest.mark.parametrize("passed, verdict, colour", [(True, "PASSED", "#1a7f37"), (False, "FAILED", "#cf222e")])
def test_to_html_shows_verdict_colour_escaped_reasons_and_tables_without_index(passed, verdict, colour):
    page = _result(passed).to_html()
    assert page.startswith(f"<div><h3 style='color:{colour}'>Validation {verdict}</h3><ul>")
    assert "<ul><li>because &lt;x&gt; &amp; y</li></ul>" in page
    expected_tables = (_result(passed).rules_frame().to_html(index=False)
                       + _result(passed).table.to_html(index=False))
    assert page.endswith(expected_tables + "</div>")


def test_repr_names_metric_scores_p_value_and_reasons():
    assert repr(_result(True)) == ("ValidationResult(passed=True, accuracy: champion=0.5, challenger=0.6, p=0.01, "
                                   "reasons=['because <x> & y'])")


def test_string_labels_without_declared_classes_use_the_sorted_labels():
    y, p_a, p_b = _auc_data()
    labels = np.where(y == 1, "pos", "neg")
    X = np.zeros((len(y), 1))
    champion = Fixed(labels, np.column_stack([1 - p_a, p_a]), classes=None)  # columns: "neg", "pos"
    challenger = Fixed(labels, np.column_stack([1 - p_b, p_b]), classes=None)
    result = validate(champion, challenger, X, labels, metric="auc")
    assert result.metrics["champion"] == pytest.approx(skm.roc_auc_score(labels == "pos", p_a), abs=1e-12)
    assert result.metrics["challenger"] == pytest.approx(skm.roc_auc_score(labels == "pos", p_b), abs=1e-12)


def test_probability_columns_that_match_no_known_classes_are_refused():
    y, p_a, _ = _auc_data()
    three = np.column_stack([p_a / 2, p_a / 2, 1 - p_a])
    model = Fixed(y, three, classes=None)
    with pytest.raises(ValueError, match="^cannot tell which class each of the 3 predict_proba columns is: "
                                         "give the model a classes_ attribute$"):
        validate(model, model, np.zeros((len(y), 1)), np.where(y == 1, "a", "b"), metric="log_loss")


@pytest.mark.parametrize("b, c, name", [(-1, 3, "b"), (3, -1, "c")])
def test_mcnemar_names_the_bad_count(b, c, name):
    from loopwise.loop import mcnemar_test

    with pytest.raises(ValueError, match=f"^{name} must be a count >= 0, got -1$"):
        mcnemar_test(b, c)
