"""Per-group randomised thresholds by one linear program (Hardt, Price & Srebro, 2016).

For each group the thresholds on the model's score give ROC points (FPR, TPR); any mix of
them (use threshold ``t_k`` with probability ``p_k``) reaches every point of their convex
hull. The program picks one mix per group that maximises accuracy under the constraint:

- ``equalized_odds``: every group reaches the same (FPR, TPR) point;
- ``demographic_parity``: every group has the same positive-prediction rate.

Accuracy and both constraints are linear in the mixing probabilities, so the program is
exact: no grid over the shared point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CONSTRAINTS", "GroupPlan", "solve_thresholds"]

CONSTRAINTS = ("equalized_odds", "demographic_parity")


@dataclass
class GroupPlan:
    """One group's mix: predict positive iff ``score >= thresholds[k]``, with ``k`` drawn by ``probabilities``."""

    thresholds: np.ndarray
    probabilities: np.ndarray


def _roc_points(score: np.ndarray, truth: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds (highest first, +inf = nobody positive) and the weighted positive/negative shares above each."""
    order = np.argsort(-score, kind="stable")
    s, t, w = score[order], truth[order], weight[order]
    positives = np.concatenate([[0.0], np.cumsum(w * t)])
    negatives = np.concatenate([[0.0], np.cumsum(w * ~t)])
    # Keep the last row of each run of equal scores: a threshold takes all of them or none.
    last = np.concatenate([s[1:] != s[:-1], [True]])
    keep = np.concatenate([[True], last])
    thresholds = np.concatenate([[np.inf], s])[keep]
    return thresholds, positives[keep], negatives[keep]


def solve_thresholds(score: np.ndarray, truth: np.ndarray, groups: np.ndarray, weight: np.ndarray,
                     constraint: str) -> dict:
    """Mixing plan per group maximising weighted accuracy under ``constraint``.

    Returns ``{group: GroupPlan}``. Raises ValueError when a group lacks the labels the
    constraint needs (equalised odds needs positives and negatives in every group).

    Examples
    --------
    >>> score = np.array([0.9, 0.2, 0.8, 0.3, 0.6, 0.4])
    >>> truth = np.array([1, 0, 1, 0, 1, 0], dtype=bool)
    >>> plans = solve_thresholds(score, truth, np.array(list("aaabbb")), np.ones(6), "equalized_odds")
    >>> sorted(plans)
    ['a', 'b']
    """
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    if constraint not in CONSTRAINTS:
        raise ValueError(f"constraint must be one of {CONSTRAINTS}, got {constraint!r}")
    total = weight.sum()
    names = sorted(set(groups.tolist()))
    blocks, costs = [], []
    rows, cols, values = [], [], []
    n_shared = 2 if constraint == "equalized_odds" else 1
    row = 0
    offset = 0
    for name in names:
        member = groups == name
        thresholds, pos, neg = _roc_points(score[member], truth[member], weight[member])
        n_pos, n_neg = pos[-1], neg[-1]
        if constraint == "equalized_odds" and (n_pos <= 0 or n_neg <= 0):
            raise ValueError(f"group {name!r} has no {'positive' if n_pos <= 0 else 'negative'} labels, "
                             "so its TPR/FPR (equalised odds) is undefined")
        k = len(thresholds)
        # Accuracy contribution of each threshold: its true positives plus true negatives.
        costs.append(-(pos + (n_neg - neg)) / total)
        columns = np.arange(offset, offset + k)
        rows += [row] * k; cols += columns.tolist(); values += [1.0] * k  # probabilities sum to one
        row += 1
        if constraint == "equalized_odds":
            rates = [neg / n_neg, pos / n_pos]  # FPR, TPR of each threshold
        else:
            rates = [(pos + neg) / (n_pos + n_neg)]  # selection rate
        for j, rate in enumerate(rates):
            rows += [row] * k; cols += columns.tolist(); values += rate.tolist()
            rows.append(row); cols.append(-1 - j); values.append(-1.0)  # minus the shared rate
            row += 1
        blocks.append((name, thresholds, columns))
        offset += k
    n_vars = offset + n_shared
    cols = [c if c >= 0 else offset + (-1 - c) for c in cols]
    A = coo_matrix((values, (rows, cols)), shape=(row, n_vars)).tocsr()
    b = np.zeros(row)
    b[[i for i in range(row) if _is_sum_row(i, len(names), n_shared)]] = 1.0
    c = np.concatenate(costs + [np.zeros(n_shared)])
    result = linprog(c, A_eq=A, b_eq=b, bounds=(0.0, 1.0), method="highs")
    if result.status != 0:
        raise RuntimeError(f"the threshold program did not solve: {result.message}")
    plans = {}
    for name, thresholds, columns in blocks:
        p = np.clip(result.x[columns], 0.0, None)
        used = p > 1e-9
        plans[name] = GroupPlan(thresholds[used].astype(np.float64), p[used] / p[used].sum())
    return plans


def _is_sum_row(i: int, n_groups: int, n_shared: int) -> bool:
    # Rows come per group as [sum, shared rate(s)...].
    return i % (1 + n_shared) == 0 and i // (1 + n_shared) < n_groups
