"""One column's summary: numeric (moments, exact counts on bin edges, KLL sketch) or
categorical (exact category counts up to a cap, frequent-item sketch). Each is built from
one partition's values and merged with the summaries of other partitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import pandas as pd

from . import _sketches
from ._moments import Moments

__all__ = ["NumericColumn", "CategoricalColumn", "bin_counts"]


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in the right-closed bins (-inf, e1], (e1, e2], ..., (e_last, inf) of the
    interior ``edges``: the bins of :func:`loopwise.drift.psi`."""
    index = np.searchsorted(edges, values, side="left")  # number of edges strictly below each value
    return np.bincount(index, minlength=edges.size + 1).astype(np.int64)


@dataclass
class NumericColumn:
    """Summary of a numeric, datetime or timedelta column (time columns in seconds)."""

    name: str
    kind: str
    n_rows: int
    n_missing: int
    moments: Moments
    kll: Any
    k: int
    edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @classmethod
    def of(cls, name: str, kind: str, values: np.ndarray, edges: Optional[np.ndarray], k: int) -> "NumericColumn":
        """Summarise one partition's float64 values (NaN = missing)."""
        if np.isinf(values).any():
            raise ValueError(f"column {name!r} has infinite values; replace them (e.g. with NaN) before profiling")
        present = values[~np.isnan(values)]
        edges = np.empty(0) if edges is None else np.asarray(edges, dtype=np.float64)
        counts = bin_counts(present, edges) if edges.size else np.empty(0, dtype=np.int64)
        return cls(name, kind, int(values.size), int(values.size - present.size), Moments.of(present),
                   _sketches.new_kll(k, present), int(k), edges, counts)

    @property
    def n_values(self) -> int:
        return self.n_rows - self.n_missing

    def merge(self, others: list["NumericColumn"]) -> "NumericColumn":
        for other in others:
            if other.kind != self.kind or other.k != self.k or not np.array_equal(other.edges, self.edges):
                raise ValueError(f"column {self.name!r}: profiles differ in kind, sketch size k or bin edges "
                                 "and cannot be merged; build them with the same settings and reference")
        moments = self.moments
        counts = self.counts.copy()
        for other in others:
            moments = moments.merge(other.moments)
            counts += other.counts
        return NumericColumn(self.name, self.kind, self.n_rows + sum(o.n_rows for o in others),
                             self.n_missing + sum(o.n_missing for o in others), moments,
                             _sketches.merge_kll(self.k, [self.kll] + [o.kll for o in others]), self.k,
                             self.edges, counts)


@dataclass
class CategoricalColumn:
    """Summary of a categorical column: exact counts while there are at most
    ``max_categories`` distinct values (``counts`` is None beyond: ``truncated``), and a
    frequent-item sketch that keeps the heavy hitters whatever the cardinality."""

    name: str
    n_rows: int
    n_missing: int
    categories: list
    counts: Optional[np.ndarray]
    frequent: Any
    max_categories: int
    lg_max_k: int
    kind: str = "categorical"

    @property
    def truncated(self) -> bool:
        return self.counts is None

    @property
    def n_values(self) -> int:
        return self.n_rows - self.n_missing

    @classmethod
    def of(cls, name: str, strings: pd.Series, n_rows: int, max_categories: int, lg_max_k: int) -> "CategoricalColumn":
        """Summarise one partition's non-missing values, already as strings."""
        counted = strings.value_counts(sort=False)  # first-appearance order, as loopwise.drift's counts
        categories = [str(c) for c in counted.index]
        counts = counted.to_numpy(np.int64)
        frequent = _sketches.new_frequent(lg_max_k, categories, counts)
        if len(categories) > max_categories:
            categories, counts = [], None
        return cls(name, int(n_rows), int(n_rows - len(strings)), categories, counts, frequent, int(max_categories),
                   int(lg_max_k))

    def merge(self, others: list["CategoricalColumn"]) -> "CategoricalColumn":
        for other in others:
            if other.max_categories != self.max_categories or other.lg_max_k != self.lg_max_k:
                raise ValueError(f"column {self.name!r}: profiles differ in max_categories or the frequent-item "
                                 "sketch size and cannot be merged")
        categories: Optional[list] = list(self.categories)
        counts: Optional[np.ndarray] = None
        if not self.truncated and not any(o.truncated for o in others):
            totals = dict(zip(self.categories, self.counts.tolist()))
            for other in others:  # insertion order = first appearance over the partitions in order
                for category, count in zip(other.categories, other.counts.tolist()):
                    totals[category] = totals.get(category, 0) + count
            if len(totals) <= self.max_categories:
                categories, counts = list(totals), np.fromiter(totals.values(), np.int64, len(totals))
        if counts is None:
            categories = []
        frequent = _sketches.merge_frequent(self.lg_max_k, [self.frequent] + [o.frequent for o in others])
        return CategoricalColumn(self.name, self.n_rows + sum(o.n_rows for o in others),
                                 self.n_missing + sum(o.n_missing for o in others), categories, counts, frequent,
                                 self.max_categories, self.lg_max_k)
