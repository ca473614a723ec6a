"""Drift between two profiles, on the driver, with no engine and no data.

PSI, Jensen-Shannon, Hellinger and the chi-squared / G / z tests come from exact merged
counts, so they equal :func:`loopwise.drift.psi` & co. on the full tables when both use the
same bins. Wasserstein and a KS estimate come from the KLL sketches; the sketch KS reports
D-hat with its rank-error bound and never a p-value. An exact KS (sort-based, from an
engine adapter) can be passed in."""

from __future__ import annotations

import math
from typing import Mapping, Optional, Union

import numpy as np
import pandas as pd

from ..drift import _rows
from ..drift import statistics as st
from ..drift.reference import AUTO_SIZE_LIMIT, DEFAULT_THRESHOLDS
from ..drift.report import DriftReport
from . import _distances
from ._columns import CategoricalColumn, NumericColumn
from .profile import Profile

__all__ = ["compare", "PROFILE_THRESHOLDS", "NUMERIC_PROFILE_TESTS", "CATEGORICAL_PROFILE_TESTS"]

#: Distance thresholds (drifted when statistic >= threshold; for ``ks_sketch`` when
#: D-hat minus its bound >= threshold): effect sizes, the default at any size.
PROFILE_THRESHOLDS = {**DEFAULT_THRESHOLDS, "ks_sketch": 0.1}
NUMERIC_PROFILE_TESTS = ("wasserstein", "ks_sketch", "ks", "psi", "jensen_shannon", "hellinger", "chi2", "g_test")
CATEGORICAL_PROFILE_TESTS = ("chi2", "g_test", "z", "psi", "jensen_shannon", "hellinger")
P_VALUE_TESTS = ("ks", "chi2", "g_test", "z")
AUTO_RULE = (
    "numeric: Wasserstein-1 between the KLL sketches / max(reference std, 0.001) >= 0.1 (an effect size: an exact "
    f"KS p-value only when exact_ks gives it and the reference has <= {AUTO_SIZE_LIMIT} values); categorical with "
    f"exact counts: z-test (<= 2 values) or chi-squared p-value up to {AUTO_SIZE_LIMIT} reference values, beyond "
    "the Jensen-Shannon distance (natural log) >= 0.1; categorical past the cardinality cap: Jensen-Shannon on the "
    "frequent-item sketch's heavy hitters plus 'other' (approximate)"
)


def _aligned_categories(a: CategoricalColumn, b: CategoricalColumn) -> tuple[np.ndarray, np.ndarray, bool]:
    """Counts over the union of categories (reference order, then the current's new ones);
    the third value says whether they are exact."""
    if not a.truncated and not b.truncated:
        order = list(a.categories) + [c for c in b.categories if c not in set(a.categories)]
        index = {c: i for i, c in enumerate(order)}
        p = np.zeros(len(order), dtype=np.int64)
        q = np.zeros(len(order), dtype=np.int64)
        p[: len(a.categories)] = a.counts
        q[[index[c] for c in b.categories]] = b.counts
        return p, q, True
    from datasketches import frequent_items_error_type

    heavy: dict[str, list] = {}
    for side, column in enumerate((a, b)):
        for item, estimate, *_ in column.frequent.get_frequent_items(frequent_items_error_type.NO_FALSE_POSITIVES):
            heavy.setdefault(item, [0, 0])[side] = estimate
    p = np.array([v[0] for v in heavy.values()] + [0], dtype=np.int64)
    q = np.array([v[1] for v in heavy.values()] + [0], dtype=np.int64)
    p[-1] = max(a.n_values - p[:-1].sum(), 0)  # "other"
    q[-1] = max(b.n_values - q[:-1].sum(), 0)
    return p, q, False


def _choose(column: Union[NumericColumn, CategoricalColumn], tests: Union[str, Mapping[str, str]],
            n_distinct: int, exact_counts: bool, has_exact_ks: bool) -> str:
    requested = tests.get(column.name, "auto") if isinstance(tests, Mapping) else tests
    categorical = column.kind == "categorical"
    allowed = CATEGORICAL_PROFILE_TESTS if categorical else NUMERIC_PROFILE_TESTS
    if isinstance(tests, str) and requested not in allowed:
        requested = "auto"
    if requested == "auto":
        if categorical:
            if not exact_counts or column.n_values > AUTO_SIZE_LIMIT:
                return "jensen_shannon"
            return "z" if n_distinct <= 2 else "chi2"
        return "ks" if has_exact_ks and column.n_values <= AUTO_SIZE_LIMIT else "wasserstein"
    if requested not in allowed:
        raise ValueError(f"test {requested!r} does not apply to {column.kind} column {column.name!r} of a profile; "
                         f"choose one of {allowed}")
    if requested == "ks" and not has_exact_ks:
        raise ValueError(f"test 'ks' on column {column.name!r} needs exact_ks (an exact, sort-based KS from "
                         "loopwise.spark / loopwise.dask); from sketches use 'ks_sketch'")
    if categorical and requested in P_VALUE_TESTS and not exact_counts:
        raise ValueError(f"column {column.name!r} passed the cardinality cap, so its counts are not exact: a "
                         f"{requested} p-value would be wrong; use 'jensen_shannon' or raise max_categories")
    return requested


def _numeric_row(test: str, a: NumericColumn, b: NumericColumn, psi_epsilon: float, js_base: float,
                 exact_ks: Optional[st.TestResult]) -> dict:
    if test == "ks":
        return {"statistic": exact_ks.statistic, "p_value": exact_ks.p_value,
                "method": f"exact sort-based KS ({exact_ks.method} p-value)"}
    if test == "wasserstein":
        scale = max(math.sqrt(a.moments.variance()), st.STD_FLOOR)
        return {"statistic": _distances.wasserstein(a.kll, b.kll) / scale,
                "method": "KLL sketches, normalized by max(reference std, 0.001)"}
    if test == "ks_sketch":
        d, bound = _distances.ks_estimate(a.kll, b.kll)
        return {"statistic": d, "bound": bound, "method": f"KLL sketches: D-hat {d:.4g} +/- {bound:.3g} (no p-value)"}
    if a.edges.size == 0:
        raise ValueError(f"test {test!r} on column {a.name!r} needs bin counts: build the reference profile with "
                         "edges and the current one with reference=")
    return _rows.categorical_row(test, a.counts, b.counts, psi_epsilon, js_base) | {
        "method": "exact counts on the reference's bins"}


def compare(reference: Profile, current: Profile, *, tests: Union[str, Mapping[str, str]] = "auto",
            alpha: float = 0.05, correction: Optional[str] = "fdr", drift_share: float = 0.5,
            thresholds: Optional[Mapping[str, float]] = None, psi_epsilon: float = st.PSI_EPSILON,
            js_base: float = st.JS_BASE, missing_threshold: float = 0.05,
            exact_ks: Optional[Mapping[str, st.TestResult]] = None) -> DriftReport:
    """Column-by-column drift between two profiles (also reached as
    ``loopwise.drift.compare(profile_ref, profile_cur)``).

    Parameters
    ----------
    reference, current : Profile
        The current profile built with ``reference=`` the reference profile, so numeric
        counts share its bins.
    tests : "auto", str or dict
        Numeric: ``wasserstein, ks_sketch, ks (needs exact_ks), psi, jensen_shannon,
        hellinger, chi2, g_test`` (the last four on the bin counts); categorical:
        ``chi2, g_test, z, psi, jensen_shannon, hellinger``.
    alpha, correction, drift_share, thresholds, psi_epsilon, js_base, missing_threshold
        As in :func:`loopwise.drift.compare`; thresholds also take ``ks_sketch`` (0.1).
    exact_ks : dict, optional
        Column -> exact KS result (``loopwise.spark.ks`` / ``loopwise.dask.ks``).

    Returns
    -------
    DriftReport

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from loopwise.profiles import build
    >>> rng = np.random.default_rng(0)
    >>> ref = build(pd.DataFrame({"x": rng.normal(size=5000), "y": rng.normal(size=5000)}))
    >>> cur = build(pd.DataFrame({"x": rng.normal(size=5000), "y": rng.normal(1.0, size=5000)}), reference=ref)
    >>> compare(ref, cur).drifted_columns
    ['y']
    """
    for name, value in (("reference", reference), ("current", current)):
        if not isinstance(value, Profile):
            raise TypeError(f"{name} must be a loopwise Profile, got {type(value).__name__}")
    if current.columns != reference.columns:
        raise ValueError(f"current profile columns {current.columns} differ from the reference's {reference.columns}")
    if correction not in (None, "fdr", "bonferroni"):
        raise ValueError(f"correction must be 'fdr', 'bonferroni' or None, got {correction!r}")
    if not (0 < alpha < 1):
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not (0 < drift_share <= 1):
        raise ValueError(f"drift_share must be in (0, 1], got {drift_share}")
    limits = {**PROFILE_THRESHOLDS, **(thresholds or {})}
    exact_ks = dict(exact_ks or {})
    rows, stats = [], []
    for a in reference.summaries():
        b = current.column(a.name)
        if a.kind != b.kind:
            raise ValueError(f"column {a.name!r} is {a.kind} in the reference profile but {b.kind} in the current one")
        if isinstance(a, NumericColumn) and not np.array_equal(a.edges, b.edges):
            raise ValueError(f"column {a.name!r}: the current profile was not binned on the reference's edges; "
                             "build it with reference=<the reference profile>")
        row = {"column": a.name, "kind": a.kind, "statistic": np.nan, "p_value": np.nan, "method": "",
               "n_reference": a.n_values, "n_current": b.n_values,
               "missing_reference": a.n_missing / a.n_rows if a.n_rows else np.nan,
               "missing_current": b.n_missing / b.n_rows if b.n_rows else np.nan}
        if isinstance(a, CategoricalColumn):
            p, q, exact = _aligned_categories(a, b)
            test = _choose(a, tests, int(((p + q) > 0).sum()), exact, False)
        else:
            test = _choose(a, tests, 0, True, a.name in exact_ks)
        row["test"] = test
        row["threshold"] = alpha if test in P_VALUE_TESTS else limits[test]
        if a.n_values == 0 or b.n_values == 0:
            row["method"] = "no values on one side"
        elif isinstance(a, CategoricalColumn):
            row.update(_rows.categorical_row(test, p, q, psi_epsilon, js_base))
            if not exact:
                row["method"] = "frequent-item sketch heavy hitters + other (approximate counts)"
        else:
            row.update(_numeric_row(test, a, b, psi_epsilon, js_base, exact_ks.get(a.name)))
        stats.append({"column": a.name, "test": test, "statistic": row["statistic"], "bound": row.pop("bound", 0.0)})
        rows.append(row)

    table = pd.DataFrame(rows)
    table["p_value_adjusted"] = _rows.adjust(table["p_value"].to_numpy(dtype=np.float64), correction)
    bounds = pd.DataFrame(stats)["bound"].to_numpy(dtype=np.float64)
    is_p = table["test"].isin(P_VALUE_TESTS).to_numpy()
    table["drifted"] = np.where(is_p, table["p_value_adjusted"] < alpha, table["statistic"] - bounds >= table["threshold"])
    no_values = (table["n_reference"] == 0) | (table["n_current"] == 0)
    table.loc[no_values, "drifted"] = (table["n_reference"] == 0) != (table["n_current"] == 0)
    table["drifted"] = table["drifted"].astype(bool)
    table["missing_drifted"] = (table["missing_current"] - table["missing_reference"]).abs() > missing_threshold
    order = ["column", "kind", "test", "statistic", "p_value", "p_value_adjusted", "threshold", "drifted", "method",
             "n_reference", "n_current", "missing_reference", "missing_current", "missing_drifted"]
    table = table[order]
    share = float(table["drifted"].mean()) if len(table) else 0.0
    settings = {"tests": tests if isinstance(tests, str) else dict(tests), "auto_rule": AUTO_RULE, "alpha": alpha,
                "correction": correction, "drift_share": drift_share, "thresholds": limits,
                "binning": f"{reference.bins} reference bins (exact counts), right-closed, outer bins open-ended",
                "psi_epsilon": psi_epsilon, "js_base": js_base, "missing_threshold": missing_threshold,
                "verdict": f"share of drifted columns >= {drift_share}", "source": "profiles"}
    return DriftReport(table=table, drifted=share >= drift_share, share_drifted=share, settings=settings,
                       statistics=pd.DataFrame(stats), histograms={})


