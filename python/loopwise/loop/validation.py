"""The champion/challenger gate: ``validate`` and ``ValidationResult``.

A model update is promoted only when every rule holds on the same holdout, scored paired
(both models predict the very same rows):

``min_samples``
    At least ``min_samples`` holdout rows.
``gain``
    The challenger's metric beats the champion's by at least ``min_gain`` (in the metric's
    better direction; a negative ``min_gain`` is a non-inferiority margin).
``significance`` (when ``require_significance=True``, the default)
    A one-sided paired test rejects "the challenger is not better" at level ``alpha``:
    McNemar's exact test for accuracy, DeLong's test for ROC AUC, a paired bootstrap for any
    metric, or a paired t-test on per-row losses.
``not_worse``
    The challenger is never significantly worse (one-sided, level ``alpha``), whatever the
    margin says.
``slice:<column>=<group>``
    On every declared slice with at least ``min_slice_size`` rows, the challenger loses at
    most ``max_slice_drop`` against the champion. Numeric columns with more than 10 distinct
    values are cut into quartiles.
``fairness:<column>:<gap>`` (classification, ``sensitive`` columns)
    The largest between-group difference of positive-prediction rate (demographic parity),
    TPR and FPR must not exceed the champion's by more than ``fairness_tolerance``, unless it
    stays within the bound ``max_fairness_gap``.
``churn`` (when ``max_churn`` is given)
    The share of rows whose prediction changes stays at most ``max_churn``.

So the default gate promotes only a significantly better challenger; pass
``require_significance=False`` (and possibly a negative ``min_gain``) for a non-inferiority
gate, as a regression loop refreshing on a stationary stream may want.

Each rule is a small function in :mod:`loopwise.loop._gate_rules` returning one record
(``rule``, ``passed``, ``value``, ``threshold``, ``detail``); ``validate`` scores both models
once and assembles the records.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import pandas as pd

from ._gate_rules import (
    churn_rule,
    fairness_rules,
    gain_rule,
    min_samples_rule,
    not_worse_rule,
    significance_rule,
    slice_gain,
    slice_rule,
)
from ._groups import MIN_GROUP_SIZE
from ._groups import group_labels as _group_labels
from ._scoring import (
    default_metric_for,
    higher_is_better,
    is_classification,
    labels_equal,
    labels_in,
    metric_from_mean_loss,
    positive_class,
    row_losses,
)
from .audit import jsonable

__all__ = ["validate", "ValidationResult", "fairness_rules", "mcnemar_test", "delong_test", "METRICS", "TESTS"]

#: Metrics the gate knows; True when higher is better (the direction is :mod:`._scoring`'s).
METRICS = {m: higher_is_better(m) for m in ("accuracy", "precision", "recall", "f1", "auc", "log_loss", "rmse", "mae")}
TESTS = ("mcnemar", "delong", "bootstrap", "paired_t")
_PER_ROW = ("accuracy", "log_loss", "rmse", "mae")
_LABEL_METRICS = ("accuracy", "precision", "recall", "f1")
_CLASSIFICATION = ("accuracy", "precision", "recall", "f1", "auc", "log_loss")
_EPS = 1e-15


# ---------------------------------------------------------------------------- paired tests
def mcnemar_test(b: int, c: int, *, exact: bool = True, correction: bool = True) -> dict:
    """McNemar's test on the discordant pairs of two classifiers.

    Parameters
    ----------
    b : int
        Rows the champion got right and the challenger wrong.
    c : int
        Rows the champion got wrong and the challenger right.
    exact : bool
        Binomial test (else the chi-square approximation).
    correction : bool
        Continuity correction of the chi-square version.

    Returns
    -------
    dict
        ``statistic`` and ``p_value`` (two-sided, as statsmodels reports them),
        ``p_better`` (one-sided: the challenger is better, exact binomial) and ``p_worse``.

    Examples
    --------
    >>> round(mcnemar_test(2, 12)["p_value"], 6)
    0.012939
    """
    from scipy import stats

    for name, value in (("b", b), ("c", c)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a count >= 0, got {value!r}")
    b, c = int(b), int(c)
    n = b + c
    if n == 0:
        return {"statistic": 0.0 if exact else float("nan"), "p_value": 1.0, "p_better": 1.0, "p_worse": 1.0}
    if exact:
        statistic = float(min(b, c))
        p_value = float(min(1.0, 2.0 * stats.binom.cdf(min(b, c), n, 0.5)))
    else:
        statistic = (abs(b - c) - (1.0 if correction else 0.0)) ** 2 / n
        p_value = float(stats.chi2.sf(statistic, 1))
    return {"statistic": float(statistic), "p_value": p_value,
            "p_better": float(stats.binom.sf(c - 1, n, 0.5)), "p_worse": float(stats.binom.sf(b - 1, n, 0.5))}


def _midranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    ranks = np.empty(len(values), dtype=np.float64)
    start = 0
    n = len(values)
    while start < n:
        stop = start
        while stop + 1 < n and ordered[stop + 1] == ordered[start]:
            stop += 1
        ranks[order[start : stop + 1]] = 0.5 * (start + stop) + 1.0
        start = stop + 1
    return ranks


def delong_test(y_true: Any, score_a: Any, score_b: Any) -> dict:
    """DeLong's test for two correlated ROC AUCs on the same rows (fast midrank algorithm).

    Parameters
    ----------
    y_true : array-like of bool or {0, 1}
    score_a, score_b : array-like of float
        Scores of the champion and the challenger (higher = more positive).

    Returns
    -------
    dict
        ``auc_a``, ``auc_b``, ``var_a``, ``var_b``, ``cov``, ``z`` (challenger minus
        champion over its standard error), ``p_value`` (two-sided), ``p_better``, ``p_worse``.

    Examples
    --------
    >>> result = delong_test([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], [0.1, 0.2, 0.7, 0.8])
    >>> result["auc_a"], result["auc_b"]
    (0.75, 1.0)
    """
    from scipy import stats

    labels = np.asarray(y_true)
    if labels.dtype != bool:
        if not np.all(np.isin(labels, [0, 1])):
            raise ValueError("y_true must be binary (bool or 0/1)")
        labels = labels.astype(bool)
    scores = [np.asarray(score_a, dtype=np.float64), np.asarray(score_b, dtype=np.float64)]
    for name, s in zip(("score_a", "score_b"), scores):
        if s.shape != labels.shape:
            raise ValueError(f"{name} has shape {s.shape} but y_true has {labels.shape}")
        if not np.all(np.isfinite(s)):
            raise ValueError(f"{name} has missing or infinite values")
    m, n = int(labels.sum()), int((~labels).sum())
    if m == 0 or n == 0:
        raise ValueError("y_true must contain both classes for an AUC")
    v10, v01, aucs = [], [], []
    for s in scores:
        positive, negative = s[labels], s[~labels]
        tx, ty, tz = _midranks(positive), _midranks(negative), _midranks(np.concatenate([positive, negative]))
        aucs.append(float((tz[:m].sum() - m * (m + 1) / 2.0) / (m * n)))
        # Structural components: for each positive, the share of negatives it outranks, and
        # for each negative, the share of positives that outrank it (ties count one half).
        v10.append((tz[:m] - tx) / n)
        v01.append(1.0 - (tz[m:] - ty) / m)
    s10 = np.cov(np.vstack(v10)) if m > 1 else np.zeros((2, 2))
    s01 = np.cov(np.vstack(v01)) if n > 1 else np.zeros((2, 2))
    covariance = s10 / m + s01 / n
    variance = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    difference = aucs[1] - aucs[0]
    if variance <= 1e-300:
        z = 0.0 if difference == 0 else math.copysign(math.inf, difference)
    else:
        z = difference / math.sqrt(variance)
    return {"auc_a": aucs[0], "auc_b": aucs[1], "var_a": float(covariance[0, 0]), "var_b": float(covariance[1, 1]),
            "cov": float(covariance[0, 1]), "z": float(z), "p_value": float(min(1.0, 2 * stats.norm.sf(abs(z)))),
            "p_better": float(stats.norm.sf(z)) if difference != 0 or variance > 0 else 1.0,
            "p_worse": float(stats.norm.cdf(z)) if difference != 0 or variance > 0 else 1.0}


# ---------------------------------------------------------------------------- scoring


@dataclass
class _Scored:
    """One model's predictions on the holdout, with what each metric needs."""

    prediction: np.ndarray
    proba: Optional[np.ndarray]
    classes: Optional[np.ndarray]


def _classes_of(model: Any, y: np.ndarray, width: int) -> np.ndarray:
    for attribute in ("classes_", "classes"):
        classes = getattr(model, attribute, None)
        if classes is not None and len(classes) == width:
            return np.asarray(classes)
    seen = np.unique(y.astype(str)) if y.dtype.kind not in "biuf" else np.unique(y)
    if len(seen) == width:
        return seen
    raise ValueError(f"cannot tell which class each of the {width} predict_proba columns is: "
                     "give the model a classes_ attribute")


def _proba_column(scored: _Scored, label: Any) -> np.ndarray:
    assert scored.proba is not None and scored.classes is not None
    matches = np.flatnonzero(labels_equal(scored.classes, np.asarray([label] * len(scored.classes))))
    if not len(matches):
        return np.zeros(len(scored.proba))
    return scored.proba[:, matches[0]]


def _row_losses(metric: str, y: np.ndarray, scored: _Scored) -> np.ndarray:
    """Per-row values whose mean is the metric (before the sqrt of RMSE); lower is better."""
    if metric in ("accuracy", "rmse", "mae"):
        return row_losses(metric, y, scored.prediction)
    if metric == "log_loss":
        assert scored.proba is not None and scored.classes is not None
        probability = np.zeros(len(y))
        for j, label in enumerate(scored.classes.tolist()):
            rows = labels_equal(y, np.asarray([label] * len(y)))
            probability[rows] = scored.proba[rows, j]
        return -np.log(np.clip(probability, _EPS, 1.0))
    raise ValueError(f"metric {metric!r} is not a mean of per-row losses")


def _binary_counts(y: np.ndarray, prediction: np.ndarray, positive: Any) -> tuple[float, float, float]:
    truth = labels_equal(y, np.asarray([positive] * len(y)))
    predicted = labels_equal(prediction, np.asarray([positive] * len(prediction)))
    return float(np.sum(truth & predicted)), float(np.sum(~truth & predicted)), float(np.sum(truth & ~predicted))


def _score(metric: str, y: np.ndarray, scored: _Scored, classes: np.ndarray) -> float:
    """The metric of one model on rows ``y`` (NaN when undefined, e.g. AUC with one class)."""
    if len(y) == 0:
        return float("nan")
    if metric in _PER_ROW:
        return float(metric_from_mean_loss(metric, _row_losses(metric, y, scored).mean()))
    if metric == "auc":
        positive = positive_class(classes)
        truth = labels_equal(y, np.asarray([positive] * len(y)))
        if truth.all() or not truth.any():
            return float("nan")
        ranks = _midranks(_proba_column(scored, positive))
        m = truth.sum()
        return float((ranks[truth].sum() - m * (m + 1) / 2.0) / (m * (~truth).sum()))
    # precision / recall / f1: the positive class for a binary task, macro average otherwise.
    targets = [positive_class(classes)] if len(classes) <= 2 else classes.tolist()
    values = []
    for positive in targets:
        tp, fp, fn = _binary_counts(y, scored.prediction, positive)
        if metric == "precision":
            values.append(tp / (tp + fp) if tp + fp else 0.0)
        elif metric == "recall":
            values.append(tp / (tp + fn) if tp + fn else 0.0)
        else:
            values.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(values))


def _model_classes(model: Any) -> Optional[np.ndarray]:
    """The class labels a model declares (``classes_`` or ``classes``), if any."""
    for attribute in ("classes_", "classes"):
        classes = getattr(model, attribute, None)
        if classes is not None and not callable(classes) and np.ndim(classes) == 1 and len(classes):
            return np.asarray(classes)
    return None


def _check_labels(name: str, model: Any, prediction: np.ndarray, y: np.ndarray, metric: str) -> None:
    """Refuse predictions that are not class labels when the metric compares labels.

    Margins or probabilities compared with 0/1 labels would score 0 for both models and the
    gate would report "no gain" instead of the real problem.
    """
    classes = _model_classes(model)
    allowed = np.unique(y.astype(str)) if y.dtype.kind not in "biuf" else np.unique(y)
    bad = ~labels_in(prediction, allowed)
    if classes is not None and bad.any():
        bad &= ~labels_in(prediction, classes)
    if not bad.any():
        return
    examples = list(dict.fromkeys(prediction[bad].tolist()))[:5]
    known = allowed.tolist()[:10] + ([] if classes is None else [c for c in classes.tolist()[:10] if c not in allowed])
    raise ValueError(
        f"{name}.predict returned values that are not class labels, which metric={metric!r} compares with y: "
        f"{int(bad.sum())} of {len(prediction)} predictions (e.g. {examples}) are neither labels in y nor "
        f"classes of the model (known: {known}). A classifier's predict must return labels; margins belong to "
        f"decision_function and probabilities to predict_proba"
    )


# ---------------------------------------------------------------------------- groups
def _columns(spec: Any, X: Any, n: int, name: str) -> dict[str, np.ndarray]:
    """``slices`` / ``sensitive``: a column name, a list of names, or a dict name -> values."""
    if spec is None:
        return {}
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, dict):
        out = {}
        for key, values in spec.items():
            array = np.asarray(values)
            if array.shape != (n,):
                raise ValueError(f"{name}[{key!r}] must have one value per row ({n}), got shape {array.shape}")
            out[str(key)] = array
        return out
    if not isinstance(spec, (list, tuple)):
        raise TypeError(f"{name} must be a column name, a list of names or a dict name -> values, "
                        f"got {type(spec).__name__}")
    if not isinstance(X, pd.DataFrame):
        raise ValueError(f"{name} names columns, so X must be a DataFrame (or pass {name} as a dict of arrays)")
    missing = [c for c in spec if c not in X.columns]
    if missing:
        raise ValueError(f"{name} names columns not in X: {missing}")
    return {str(c): X[c].to_numpy() for c in spec}


# ---------------------------------------------------------------------------- result
@dataclass
class ValidationResult:
    """Outcome of the champion/challenger gate.

    Attributes
    ----------
    passed : bool
    reasons : list of str
        Each failed rule in words, or why it passed.
    metrics : dict
        ``metric``, ``champion``, ``challenger``, ``difference`` (challenger - champion),
        ``gain`` (in the better direction), ``test``, ``p_value`` (one-sided, challenger
        better), ``p_value_worse``, ``n``, ``churn`` and test-specific numbers.
    rules : list of dict
        Every rule checked: ``rule``, ``passed``, ``value``, ``threshold``, ``detail``.
    table : DataFrame
        Metrics per scope (overall and each slice group): ``scope``, ``group``, ``n``,
        ``champion``, ``challenger``, ``gain``.
    fairness : DataFrame
        Gaps per sensitive column: ``column``, ``gap``, ``champion``, ``challenger``.
    settings : dict
        The gate's parameters.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> import numpy as np
    >>> X, y = np.zeros((200, 1)), np.array([0, 1] * 100)
    >>> weak = DummyClassifier(strategy="constant", constant=0).fit(X, y)
    >>> result = validate(weak, weak, X, y)
    >>> result.passed, result.reasons[0].startswith("no significant")
    (False, True)
    """

    passed: bool
    reasons: list
    metrics: dict
    rules: list = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    fairness: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.passed)

    def to_dict(self) -> dict:
        """JSON-serialisable form (NaN becomes None).

        Examples
        --------
        >>> # json.dumps(result.to_dict())
        """
        return jsonable({
            "passed": bool(self.passed), "reasons": list(self.reasons), "metrics": self.metrics,
            "rules": self.rules, "table": self.table.to_dict(orient="records"),
            "fairness": self.fairness.to_dict(orient="records"), "settings": self.settings,
        })

    def to_frame(self) -> pd.DataFrame:
        """The metrics table (overall and per slice group).

        Examples
        --------
        >>> # result.to_frame().query("scope == 'overall'")
        """
        return self.table.copy()

    def rules_frame(self) -> pd.DataFrame:
        """Every rule checked, one row each."""
        return pd.DataFrame(self.rules, columns=["rule", "passed", "value", "threshold", "detail"])

    def to_html(self) -> str:
        """A small self-contained HTML summary (verdict, reasons, rules, metrics table)."""
        verdict = "PASSED" if self.passed else "FAILED"
        colour = "#1a7f37" if self.passed else "#cf222e"
        items = "".join(f"<li>{html.escape(str(r))}</li>" for r in self.reasons)
        return (f"<div><h3 style='color:{colour}'>Validation {verdict}</h3><ul>{items}</ul>"
                f"{self.rules_frame().to_html(index=False)}{self.table.to_html(index=False)}</div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        m = self.metrics
        return (f"ValidationResult(passed={self.passed}, {m.get('metric')}: champion={m.get('champion')}, "
                f"challenger={m.get('challenger')}, p={m.get('p_value')}, reasons={self.reasons})")


# ---------------------------------------------------------------------------- the gate
def _number(value: Any, name: str, low: float = -math.inf, high: float = math.inf, *,
            low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value) or value < low or value > high or (low_open and value == low) or (high_open and value == high):
        raise ValueError(f"{name} must lie in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}, got {value}")
    return value


def validate(
    champion: Any,
    challenger: Any,
    X: Any,
    y: Any,
    *,
    metric: Optional[str] = "auto",
    test: Optional[str] = "auto",
    alpha: float = 0.05,
    min_gain: float = 0.0,
    require_significance: bool = True,
    slices: Any = None,
    max_slice_drop: float = 0.02,
    min_slice_size: int = MIN_GROUP_SIZE,
    sensitive: Any = None,
    max_fairness_gap: Optional[float] = None,
    fairness_tolerance: float = 0.02,
    max_churn: Optional[float] = None,
    min_samples: int = 30,
    n_bootstrap: int = 2000,
    random_state: int = 0,
) -> ValidationResult:
    """Decide whether ``challenger`` may replace ``champion``, on one paired holdout.

    Parameters
    ----------
    champion, challenger : estimators
        Objects with ``predict`` (and ``predict_proba`` for ``auc`` and ``log_loss``).
    X : DataFrame or array-like
        Holdout features (rows the challenger did not train on).
    y : array-like
        Holdout labels.
    metric : {"auto", "accuracy", "precision", "recall", "f1", "auc", "log_loss", "rmse", "mae"}
        ``auto`` (or None): accuracy for classifiers, RMSE otherwise.
    test : {"auto", "mcnemar", "delong", "bootstrap", "paired_t"}
        ``auto``: McNemar for accuracy, DeLong for AUC, the paired bootstrap otherwise.
    alpha : float
        Level of the one-sided tests.
    min_gain : float
        Smallest improvement accepted (negative: tolerated regression).
    require_significance : bool
        Require the one-sided test to find the challenger better.
    slices : str, list of str or dict name -> values, optional
        Slices on which the challenger may lose at most ``max_slice_drop``.
    max_slice_drop : float
    min_slice_size : int
        Smaller slice groups are reported but not judged.
    sensitive : str, list of str or dict name -> values, optional
        Groups for the fairness rules (classification).
    max_fairness_gap : float, optional
        Gaps within this bound pass even when worse than the champion's.
    fairness_tolerance : float
        How much a gap may grow over the champion's.
    max_churn : float in [0, 1], optional
        Largest share of rows whose prediction may change.
    min_samples : int
    n_bootstrap : int
        Resamples of the bootstrap test.
    random_state : int
        Seed of the bootstrap (same seed, same p-value).

    Returns
    -------
    ValidationResult

    Raises
    ------
    ValueError
        Among others, when ``metric`` compares labels (accuracy, precision, recall, f1) and a
        model's ``predict`` returns values that are neither labels in ``y`` nor classes of the
        model (margins or probabilities, say): that is a wiring error, not a 0-vs-0 score.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.dummy import DummyClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 3)); y = (X[:, 0] > 0).astype(int)
    >>> old = DummyClassifier().fit(X[:300], y[:300])
    >>> new = LogisticRegression().fit(X[:300], y[:300])
    >>> validate(old, new, X[300:], y[300:]).passed
    True
    """
    checked = _checked_settings(champion, challenger, metric=metric, test=test, alpha=alpha, min_gain=min_gain,
                                require_significance=require_significance, max_slice_drop=max_slice_drop,
                                min_slice_size=min_slice_size, max_fairness_gap=max_fairness_gap,
                                fairness_tolerance=fairness_tolerance, max_churn=max_churn, min_samples=min_samples,
                                n_bootstrap=n_bootstrap, random_state=random_state)
    n, labels = _holdout_labels(X, y)
    classification = is_classification(labels, champion, challenger)
    settings = _resolve_metric_and_test(checked, classification)
    metric, test = settings["metric"], settings["test"]
    slice_columns = _columns(slices, X, n, "slices")
    sensitive_columns = _columns(sensitive, X, n, "sensitive")
    if sensitive_columns and not classification:
        raise ValueError("sensitive groups are checked with classification rates; the models are regressors")

    first = min_samples_rule(n, settings["min_samples"])
    if not first["passed"]:
        metrics = {"metric": metric, "test": test, "n": n, "champion": None, "challenger": None}
        return ValidationResult(False, [first["detail"]], metrics, [first], pd.DataFrame(), pd.DataFrame(), settings)
    rules: list[dict] = [first]

    champion_scored = _predict("champion", champion, X, n, metric, labels)
    challenger_scored = _predict("challenger", challenger, X, n, metric, labels)
    classes = _task_classes(labels, champion_scored, challenger_scored, classification, metric)
    higher = higher_is_better(metric)
    value_a = _score(metric, labels, champion_scored, classes)
    value_b = _score(metric, labels, challenger_scored, classes)
    if math.isnan(value_a) or math.isnan(value_b):
        raise ValueError(f"metric={metric!r} is undefined on this holdout (e.g. AUC needs both classes in y)")
    gain = slice_gain(value_a, value_b, metric)
    metrics: dict[str, Any] = {"metric": metric, "higher_is_better": higher, "champion": value_a,
                               "challenger": value_b, "difference": value_b - value_a, "gain": gain,
                               "test": test, "n": n}
    p_better, p_worse = _paired_p_values(test, metric, labels, champion_scored, challenger_scored, classes, settings,
                                         metrics)
    describe = (f"challenger {metric} {value_b:.4g} vs champion {value_a:.4g} (gain {gain:+.4g}; "
                f"{_TEST_NAMES[test]} one-sided p = {p_better:.3g})")

    rules.append(gain_rule(gain, settings["min_gain"], describe))
    if settings["require_significance"]:
        rules.append(significance_rule(p_better, settings["alpha"], describe))
    rules.append(not_worse_rule(p_worse, settings["alpha"], describe))
    metrics["churn"] = _churn(champion_scored, challenger_scored, classification)
    if max_churn is not None:
        rules.append(churn_rule(metrics["churn"], settings["max_churn"]))
    table_rows = [{"scope": "overall", "group": "", "n": n, "champion": value_a, "challenger": value_b, "gain": gain}]
    for column, values in slice_columns.items():
        found, rows = _slice_checks(column, values, labels, champion_scored, challenger_scored, classes, settings)
        rules.extend(found)
        table_rows.extend(rows)
    fairness_rows: list[dict] = []
    if sensitive_columns:
        positive = positive_class(classes)
        truth = labels_equal(labels, np.asarray([positive] * n))
        hits = [labels_equal(s.prediction, np.asarray([positive] * n)) for s in (champion_scored, challenger_scored)]
        for column, values in sensitive_columns.items():
            found, rows = fairness_rules(column, _group_labels(values), truth, hits[0], hits[1],
                                         min_size=settings["min_slice_size"], tolerance=settings["fairness_tolerance"],
                                         max_gap=settings["max_fairness_gap"])
            rules.extend(found)
            fairness_rows.extend(rows)

    passed = all(r["passed"] for r in rules)
    if passed:
        reasons = [f"passed: {describe}"] + [r["detail"] for r in rules if r["rule"] == "churn"]
    else:
        reasons = [r["detail"] for r in rules if not r["passed"]]
    return ValidationResult(bool(passed), reasons, metrics, rules, pd.DataFrame(table_rows),
                            pd.DataFrame(fairness_rows, columns=["column", "gap", "champion", "challenger"]), settings)


# ---------------------------------------------------------------------------- the gate's steps
_TEST_NAMES = {"mcnemar": "McNemar", "delong": "DeLong", "bootstrap": "paired bootstrap", "paired_t": "paired t"}


def _checked_settings(champion: Any, challenger: Any, *, metric: Any, test: Any, alpha: Any, min_gain: Any,
                      require_significance: Any, max_slice_drop: Any, min_slice_size: Any, max_fairness_gap: Any,
                      fairness_tolerance: Any, max_churn: Any, min_samples: Any, n_bootstrap: Any,
                      random_state: Any) -> dict:
    """The gate's parameters, checked once at the boundary (metric and test maybe still "auto")."""
    for name, model in (("champion", champion), ("challenger", challenger)):
        if not callable(getattr(model, "predict", None)):
            raise TypeError(f"{name} must have a predict method, got {type(model).__name__}")
    metric = "auto" if metric is None else metric
    test = "auto" if test is None else test
    if not isinstance(metric, str) or (metric != "auto" and metric not in METRICS):
        raise ValueError(f"metric must be 'auto' or one of {list(METRICS)}, got {metric!r}")
    if not isinstance(test, str) or (test != "auto" and test not in TESTS):
        raise ValueError(f"test must be 'auto' or one of {list(TESTS)}, got {test!r}")
    alpha = _number(alpha, "alpha", 0.0, 1.0, low_open=True, high_open=True)
    min_gain = _number(min_gain, "min_gain")
    max_slice_drop = _number(max_slice_drop, "max_slice_drop", 0.0)
    fairness_tolerance = _number(fairness_tolerance, "fairness_tolerance", 0.0)
    if max_fairness_gap is not None:
        max_fairness_gap = _number(max_fairness_gap, "max_fairness_gap", 0.0, 1.0)
    if max_churn is not None:
        max_churn = _number(max_churn, "max_churn", 0.0, 1.0)
    if not isinstance(require_significance, (bool, np.bool_)):
        raise TypeError(f"require_significance must be a bool, got {type(require_significance).__name__}")
    for name, value, low in (("min_samples", min_samples, 1), ("min_slice_size", min_slice_size, 1),
                             ("n_bootstrap", n_bootstrap, 100)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise TypeError(f"random_state must be an int, got {type(random_state).__name__}")
    return {"metric": metric, "test": test, "alpha": alpha, "min_gain": min_gain,
            "require_significance": bool(require_significance), "max_slice_drop": max_slice_drop,
            "min_slice_size": int(min_slice_size), "max_fairness_gap": max_fairness_gap,
            "fairness_tolerance": fairness_tolerance, "max_churn": max_churn, "min_samples": int(min_samples),
            "n_bootstrap": int(n_bootstrap), "random_state": int(random_state)}


def _holdout_labels(X: Any, y: Any) -> tuple[int, np.ndarray]:
    """The holdout's size and its labels (object columns of numbers become numbers)."""
    if isinstance(X, (str, bytes)) or X is None or np.isscalar(X):
        raise TypeError(f"X must be a DataFrame or a 2-D array, got {type(X).__name__}")
    n = len(X)
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {labels.shape}")
    if len(labels) != n:
        raise ValueError(f"y has {len(labels)} entries but X has {n} rows")
    if labels.dtype == object:
        as_series = pd.Series(labels)
        if as_series.isna().any():
            raise ValueError("y has missing labels")
        numeric = pd.to_numeric(as_series, errors="coerce")
        if not numeric.isna().any() and all(isinstance(v, (int, float, np.number)) for v in labels.tolist()):
            labels = numeric.to_numpy()
    elif labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError("y has missing labels (NaN)")
    return n, labels


def _resolve_metric_and_test(settings: dict, classification: bool) -> dict:
    """``settings`` with "auto" metric and test replaced by the task's, refusing bad pairs."""
    metric, test = settings["metric"], settings["test"]
    if metric == "auto":
        metric = default_metric_for(classification)
    if metric in _CLASSIFICATION and not classification and metric != "accuracy":
        raise ValueError(f"metric={metric!r} needs classifiers with predict_proba and classes_")
    if test == "auto":
        test = {"accuracy": "mcnemar", "auc": "delong"}.get(metric, "bootstrap")
    if test == "mcnemar" and metric != "accuracy":
        raise ValueError(f"test='mcnemar' compares per-row correctness: use it with metric='accuracy', not {metric!r}")
    if test == "delong" and metric != "auc":
        raise ValueError(f"test='delong' compares ROC AUCs: use it with metric='auc', not {metric!r}")
    if test == "paired_t" and metric not in _PER_ROW:
        raise ValueError(f"test='paired_t' needs a per-row metric {list(_PER_ROW)}, not {metric!r}")
    return {**settings, "metric": metric, "test": test}


def _predict(name: str, model: Any, X: Any, n: int, metric: str, labels: np.ndarray) -> _Scored:
    """One model's predictions on the holdout (and probabilities when the metric needs them)."""
    prediction = np.asarray(model.predict(X))
    if prediction.ndim == 2 and prediction.shape[1] == 1:
        prediction = prediction[:, 0]
    if prediction.shape != (n,):
        raise ValueError(f"{name}.predict returned shape {prediction.shape}; expected ({n},)")
    proba = classes = None
    if metric in ("auc", "log_loss"):
        if not callable(getattr(model, "predict_proba", None)):
            raise TypeError(f"metric={metric!r} needs {name}.predict_proba")
        proba = np.asarray(model.predict_proba(X), dtype=np.float64)
        if proba.ndim != 2 or proba.shape[0] != n:
            raise ValueError(f"{name}.predict_proba returned shape {proba.shape}; expected ({n}, n_classes)")
        classes = _classes_of(model, labels, proba.shape[1])
    if metric in _LABEL_METRICS:
        _check_labels(name, model, prediction, labels, metric)
    return _Scored(prediction, proba, classes)


def _task_classes(labels: np.ndarray, a: _Scored, b: _Scored, classification: bool, metric: str) -> np.ndarray:
    """Every class seen in y, either model's predictions or the champion's classes (none for regression)."""
    if not classification:
        return np.zeros(0)
    pool = [labels, a.prediction, b.prediction]
    if a.classes is not None:
        pool.append(a.classes)
    kinds = {p.dtype.kind in "biuf" for p in pool}
    joined = np.concatenate([p.astype(str) if len(kinds) > 1 else p for p in pool])
    classes = np.unique(joined)
    if metric == "auc" and len(classes) > 2:
        raise ValueError(f"metric='auc' needs a binary task; y and the predictions hold {len(classes)} classes")
    return classes


def _paired_p_values(test: str, metric: str, labels: np.ndarray, a: _Scored, b: _Scored, classes: np.ndarray,
                     settings: dict, metrics: dict) -> tuple[float, float]:
    """One-sided p-values (challenger better, challenger worse) of the paired test; the
    test's own numbers go into ``metrics``."""
    n = len(labels)
    if test == "mcnemar":
        right_a, right_b = labels_equal(labels, a.prediction), labels_equal(labels, b.prediction)
        discordant_b, discordant_c = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
        result = mcnemar_test(discordant_b, discordant_c, exact=True)
        metrics.update(b=discordant_b, c=discordant_c, p_value_two_sided=result["p_value"])
        p_better, p_worse = result["p_better"], result["p_worse"]
    elif test == "delong":
        positive = positive_class(classes)
        truth = labels_equal(labels, np.asarray([positive] * n))
        result = delong_test(truth, _proba_column(a, positive), _proba_column(b, positive))
        metrics.update(z=result["z"], p_value_two_sided=result["p_value"])
        p_better, p_worse = result["p_better"], result["p_worse"]
    elif test == "paired_t":
        from scipy import stats

        difference = _row_losses(metric, labels, a) - _row_losses(metric, labels, b)
        if np.all(difference == difference[0]):
            # No spread: the t statistic is undefined; the sign of the constant decides.
            p_better = 0.0 if difference[0] > 0 else 1.0
            p_worse = 0.0 if difference[0] < 0 else 1.0
        else:
            p_better = float(stats.ttest_1samp(difference, 0.0, alternative="greater").pvalue)
            p_worse = float(stats.ttest_1samp(difference, 0.0, alternative="less").pvalue)
    else:
        sign = 1.0 if higher_is_better(metric) else -1.0
        gains = _bootstrap_gains(metric, labels, a, b, classes, sign, settings["n_bootstrap"],
                                 settings["random_state"])
        gains = gains[~np.isnan(gains)]
        if len(gains) == 0:
            raise ValueError(f"metric={metric!r} was undefined on every bootstrap resample")
        p_better = float((1 + np.sum(gains <= 0)) / (len(gains) + 1))
        p_worse = float((1 + np.sum(gains >= 0)) / (len(gains) + 1))
        alpha = settings["alpha"]
        metrics.update(ci_low=float(np.quantile(gains, alpha / 2)), ci_high=float(np.quantile(gains, 1 - alpha / 2)))
    metrics.update(p_value=float(p_better), p_value_worse=float(p_worse))
    return float(p_better), float(p_worse)


def _churn(a: _Scored, b: _Scored, classification: bool) -> float:
    """Share of rows whose prediction changes (labels compared as labels, numbers as numbers)."""
    if classification:
        changed = ~labels_equal(a.prediction, b.prediction)
    else:
        changed = a.prediction.astype(np.float64) != b.prediction.astype(np.float64)
    return float(np.mean(changed))


def _slice_checks(column: str, values: np.ndarray, labels: np.ndarray, a: _Scored, b: _Scored, classes: np.ndarray,
                  settings: dict) -> tuple[list, list]:
    """The slice rules over one column's groups, and the rows of the gate's metrics table."""
    metric = settings["metric"]
    groups = _group_labels(values)
    rules, table_rows = [], []
    for group in sorted(set(groups.tolist())):
        rows = groups == group
        size = int(rows.sum())
        value_a = _score(metric, labels[rows], _subset(a, rows), classes)
        value_b = _score(metric, labels[rows], _subset(b, rows), classes)
        table_rows.append({"scope": column, "group": group, "n": size, "champion": value_a, "challenger": value_b,
                           "gain": slice_gain(value_a, value_b, metric)})
        found = slice_rule(column, group, size, value_a, value_b, metric=metric,
                           min_size=settings["min_slice_size"], max_drop=settings["max_slice_drop"])
        if found is not None:
            rules.append(found)
    return rules, table_rows

def _subset(scored: _Scored, rows: np.ndarray) -> _Scored:
    return _Scored(scored.prediction[rows], None if scored.proba is None else scored.proba[rows], scored.classes)


def _bootstrap_gains(metric: str, y: np.ndarray, a: _Scored, b: _Scored, classes: np.ndarray, sign: float,
                     n_bootstrap: int, random_state: int) -> np.ndarray:
    """Paired bootstrap of the oriented gain: both models are scored on the same resample."""
    rng = np.random.default_rng(random_state)
    n = len(y)
    gains = np.empty(n_bootstrap)
    block = max(1, min(n_bootstrap, 2_000_000 // max(n, 1)))  # bounds the index matrix's memory
    if metric in _PER_ROW:
        losses_a, losses_b = _row_losses(metric, y, a), _row_losses(metric, y, b)
        for start in range(0, n_bootstrap, block):
            stop = min(n_bootstrap, start + block)
            index = rng.integers(0, n, size=(stop - start, n))
            value_a = metric_from_mean_loss(metric, losses_a[index].mean(axis=1))
            value_b = metric_from_mean_loss(metric, losses_b[index].mean(axis=1))
            gains[start:stop] = sign * (value_b - value_a)
        return gains
    for k in range(n_bootstrap):
        index = rng.integers(0, n, size=n)
        value_a = _score(metric, y[index], _subset(a, index), classes)
        value_b = _score(metric, y[index], _subset(b, index), classes)
        gains[k] = sign * (value_b - value_a)
    return gains
