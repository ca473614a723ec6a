"""Slices and fairness gaps, one definition for the monitor, the gate and the report.

A slice column's groups are its values, or the quartiles of a number with many values; a
fairness gap is the largest difference between groups (of at least ``min_size`` rows) of the
positive-prediction rate (demographic parity), the true-positive rate and the false-positive
rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MAX_EXACT_GROUPS", "MIN_GROUP_SIZE", "fairness_gaps", "group_labels"]

MAX_EXACT_GROUPS = 10  # numbers with more distinct values than this are grouped by quartile
# Smallest group the gate judges (its min_slice_size default) and the monitor reports a gap for.
MIN_GROUP_SIZE = 30


def group_labels(values: np.ndarray) -> np.ndarray:
    """Group of each row: the value itself (as text), or its quartile for many-valued numbers.

    Examples
    --------
    >>> group_labels(np.array(["a", "b", "a"])).tolist()
    ['a', 'b', 'a']
    >>> len(set(group_labels(np.arange(100.0)).tolist()))
    4
    >>> group_labels(np.array([1.0, np.nan])).tolist()
    ['1.0', 'nan']
    """
    series = pd.Series(values)
    missing = series.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series) \
            and series.nunique(dropna=True) > MAX_EXACT_GROUPS:
        series = pd.qcut(series, 4, duplicates="drop")
    # Missing values are one group of their own, "nan", whatever pandas' string dtype does with them.
    labels = np.asarray(series.astype(object).to_numpy(), dtype=object)
    return np.array(["nan" if gone else str(label) for label, gone in zip(labels, missing)], dtype=object)


def fairness_gaps(groups: np.ndarray, truth: np.ndarray, predicted: np.ndarray, min_size: int) -> dict:
    """Largest between-group differences of positive rate, TPR and FPR (groups >= min_size).

    ``truth`` and ``predicted`` are booleans: "the label is the positive class" and "the
    prediction is the positive class".

    Examples
    --------
    >>> groups = np.array(["a"] * 4 + ["b"] * 4)
    >>> truth = np.array([1, 1, 0, 0, 1, 1, 0, 0], dtype=bool)
    >>> predicted = np.array([1, 1, 1, 0, 1, 0, 0, 0], dtype=bool)
    >>> fairness_gaps(groups, truth, predicted, min_size=1)
    {'demographic_parity': 0.5, 'tpr': 0.5, 'fpr': 0.5}
    """
    rates: dict[str, list] = {"demographic_parity": [], "tpr": [], "fpr": []}
    for group in sorted(set(groups.tolist()), key=str):
        rows = groups == group
        if rows.sum() < min_size:
            continue
        rates["demographic_parity"].append(predicted[rows].mean())
        if (rows & truth).any():
            rates["tpr"].append(predicted[rows & truth].mean())
        if (rows & ~truth).any():
            rates["fpr"].append(predicted[rows & ~truth].mean())
    return {k: float(max(v) - min(v)) for k, v in rates.items() if len(v) >= 2}
