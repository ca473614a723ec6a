"""The gate's rules, one small function each; :func:`loopwise.loop.validate` assembles them.

Every rule takes numbers the gate already computed (sizes, scores, p-values, gaps) and
returns a record ``{"rule", "passed", "value", "threshold", "detail"}`` — the same record
the audit log keeps and ``ValidationResult.rules`` lists. Keeping the decisions apart from
the scoring means each can be read, and tested, on its own.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ._groups import fairness_gaps
from ._scoring import higher_is_better

__all__ = ["rule_record", "min_samples_rule", "gain_rule", "significance_rule", "not_worse_rule", "churn_rule", "slice_gain",
           "slice_rule", "fairness_rules"]

# Slack for float round-off where a rule compares two computed scores.
_TOLERANCE = 1e-12


def rule_record(name: str, passed: bool, value: Any, threshold: Any, detail: str) -> dict:
    """One rule's outcome, as the gate reports and audits it.

    Examples
    --------
    >>> rule_record("churn", True, 0.1, 0.2, "ok")
    {'rule': 'churn', 'passed': True, 'value': 0.1, 'threshold': 0.2, 'detail': 'ok'}
    """
    return {"rule": name, "passed": bool(passed), "value": value, "threshold": threshold, "detail": detail}


def min_samples_rule(n: int, min_samples: int) -> dict:
    """``min_samples``: the holdout has at least ``min_samples`` rows.

    Examples
    --------
    >>> min_samples_rule(20, 30)["passed"], min_samples_rule(30, 30)["passed"]
    (False, True)
    """
    if n < min_samples:
        return rule_record("min_samples", False, n, min_samples,
                           f"only {n} holdout rows; the gate needs at least {min_samples}")
    return rule_record("min_samples", True, n, min_samples, f"{n} holdout rows")


def gain_rule(gain: float, min_gain: float, describe: str) -> dict:
    """``gain``: the challenger improves on the champion by at least ``min_gain``.

    ``gain`` is already oriented (positive is better, whatever the metric's direction);
    ``describe`` is the comparison in words.

    Examples
    --------
    >>> gain_rule(0.01, 0.0, "0.81 vs 0.80")["passed"], gain_rule(-0.01, 0.0, "0.79 vs 0.80")["passed"]
    (True, False)
    """
    passed = gain >= min_gain
    return rule_record("gain", passed, gain, min_gain,
                       describe if passed else f"gain too small: {describe}; min_gain is {min_gain:g}")


def significance_rule(p_better: float, alpha: float, describe: str) -> dict:
    """``significance``: the one-sided test finds the challenger better at level ``alpha``.

    Examples
    --------
    >>> significance_rule(0.01, 0.05, "")["passed"], significance_rule(0.05, 0.05, "")["passed"]
    (True, False)
    """
    passed = p_better < alpha
    return rule_record("significance", passed, p_better, alpha,
                       f"significantly better at alpha {alpha:g}: {describe}" if passed
                       else f"no significant improvement at alpha {alpha:g}: {describe}")


def not_worse_rule(p_worse: float, alpha: float, describe: str) -> dict:
    """``not_worse``: the one-sided test does not find the challenger worse at level ``alpha``.

    Examples
    --------
    >>> not_worse_rule(0.05, 0.05, "")["passed"], not_worse_rule(0.01, 0.05, "")["passed"]
    (True, False)
    """
    passed = p_worse >= alpha
    return rule_record("not_worse", passed, p_worse, alpha,
                       "not significantly worse" if passed
                       else f"challenger is significantly worse (one-sided p = {p_worse:.3g} < {alpha:g}): {describe}")


def churn_rule(churn: float, max_churn: float) -> dict:
    """``churn``: the share of rows whose prediction changes is at most ``max_churn``.

    Examples
    --------
    >>> churn_rule(0.1, 0.1)["passed"], churn_rule(0.2, 0.1)["passed"]
    (True, False)
    """
    passed = churn <= max_churn
    return rule_record("churn", passed, churn, max_churn,
                       f"prediction churn {churn:.1%} {'<=' if passed else 'exceeds the limit'} {max_churn:.1%}")


def slice_rule(column: str, group: str, n: int, champion: float, challenger: float, *, metric: str,
               min_size: int, max_drop: float) -> Optional[dict]:
    """``slice:<column>=<group>``: on this group the challenger loses at most ``max_drop``.

    Returns None when the group is not judged: fewer than ``min_size`` rows, or the metric
    is undefined there (NaN, e.g. AUC on one class).

    Examples
    --------
    >>> slice_rule("region", "north", 50, 0.90, 0.85, metric="accuracy", min_size=30, max_drop=0.02)["passed"]
    False
    >>> slice_rule("region", "north", 50, 1.00, 1.01, metric="rmse", min_size=30, max_drop=0.02)["passed"]
    True
    >>> slice_rule("region", "north", 10, 0.90, 0.10, metric="accuracy", min_size=30, max_drop=0.02) is None
    True
    """
    gain = slice_gain(champion, challenger, metric)
    if n < min_size or np.isnan(gain):
        return None
    passed = -gain <= max_drop + _TOLERANCE
    return rule_record(f"slice:{column}={group}", passed, gain, -max_drop,
                       f"slice {column}={group} ({n} rows): {metric} {challenger:.4g} vs champion {champion:.4g}"
                       + ("" if passed else f", a drop of {-gain:.4g} > max_slice_drop {max_drop:g}"))


def slice_gain(champion: float, challenger: float, metric: str) -> float:
    """The challenger's gain over the champion in ``metric``'s better direction (NaN when
    either is undefined).

    Examples
    --------
    >>> slice_gain(0.8, 0.9, "accuracy") > 0, slice_gain(0.8, 0.9, "rmse") > 0
    (True, False)
    """
    # NaN in, NaN out: arithmetic carries an undefined score through.
    return float((1.0 if higher_is_better(metric) else -1.0) * (challenger - champion))


def fairness_rules(column: str, groups: np.ndarray, truth: np.ndarray, champion_hit: np.ndarray,
                   challenger_hit: np.ndarray, *, min_size: int, tolerance: float,
                   max_gap: Optional[float]) -> tuple[list, list]:
    """The rule "the challenger does not widen a fairness gap over ``column``", per gap.

    A gap (demographic parity, TPR, FPR; :func:`loopwise.loop._groups.fairness_gaps`) passes
    when the challenger's is at most the champion's plus ``tolerance``, or within ``max_gap``.
    ``truth``/``*_hit`` say per row "the label is positive" and "the model predicted positive".
    Returns the rule records and the rows of the gate's fairness table.

    Examples
    --------
    >>> groups = np.array(["a"] * 4 + ["b"] * 4)
    >>> truth = np.array([1, 1, 0, 0] * 2, dtype=bool)
    >>> fair, unfair = truth.copy(), np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    >>> rules, _ = fairness_rules("g", groups, truth, fair, unfair, min_size=1, tolerance=0.0, max_gap=None)
    >>> [(r["rule"], r["passed"]) for r in rules]
    [('fairness:g:demographic_parity', False), ('fairness:g:tpr', False), ('fairness:g:fpr', False)]
    """
    gaps = [fairness_gaps(groups, truth, hit, min_size) for hit in (champion_hit, challenger_hit)]
    rules, rows = [], []
    for gap in ("demographic_parity", "tpr", "fpr"):
        a, b = gaps[0].get(gap), gaps[1].get(gap)
        if a is None or b is None:
            continue
        rows.append({"column": column, "gap": gap, "champion": a, "challenger": b})
        passed = b <= a + tolerance + _TOLERANCE or (max_gap is not None and b <= max_gap)
        bound = "" if max_gap is None else f" and the bound {max_gap:g}"
        rules.append(rule_record(f"fairness:{column}:{gap}", passed, b, a + tolerance,
                                 f"{gap} gap over {column}: challenger {b:.3f} vs champion {a:.3f}"
                                 + ("" if passed else f", worse than the champion's plus {tolerance:g}{bound}")))
    return rules, rows
