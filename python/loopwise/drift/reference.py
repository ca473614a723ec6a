"""Reference profiles and the column-wise comparison behind :func:`loopwise.drift.compare`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .. import _core
from .._params import Interval, check_params
from .._threads import resolve_n_jobs
from . import _high_cardinality as hc
from . import _rows
from . import statistics as st
from ._columns import NUMBER_KINDS, TIME_KINDS, TIME_NOTE, as_float_frame, check_time_column, column_kind, time_zone
from ._table import category_strings, is_numeric_dtype, to_frame
from .report import DriftReport

__all__ = ["Reference", "compare", "AUTO_SIZE_LIMIT", "DEFAULT_THRESHOLDS", "NUMERIC_TESTS", "CATEGORICAL_TESTS"]

#: Past this many non-missing reference values, ``tests="auto"`` judges drift by an effect
#: size instead of a p-value (huge samples make negligible shifts "significant").
AUTO_SIZE_LIMIT = 1000
#: Numeric columns with at most this many distinct values are tested as categories.
AUTO_FEW_VALUES = 5
#: Drift thresholds of the distance tests (drifted when statistic >= threshold): 0.1 each,
#: evidently's default for its wasserstein, psi, jensenshannon, hellinger and ed tests.
#: evidently's energy test uses the raw distance and ">"; here the energy distance is
#: divided by sqrt(max(reference std, 0.001)), which equals the raw one for unit-scale data.
DEFAULT_THRESHOLDS = {"wasserstein": 0.1, "psi": 0.1, "jensen_shannon": 0.1, "hellinger": 0.1, "energy": 0.1}
NUMERIC_TESTS = ("ks", "cvm", "anderson", "wasserstein", "energy", "psi", "jensen_shannon", "hellinger")
CATEGORICAL_TESTS = ("chi2", "g_test", "z", "high_cardinality", "jensen_shannon", "psi", "hellinger")
P_VALUE_TESTS = ("ks", "cvm", "anderson", "chi2", "g_test", "z", "high_cardinality")
AUTO_RULE = (
    f"evidently's default rule: numeric (and datetime / timedelta, as seconds): KS p-value when the reference has "
    f"<= {AUTO_SIZE_LIMIT} non-missing values, else Wasserstein-1 / max(reference std, 0.001) >= 0.1; categorical "
    f"(and numeric with <= {AUTO_FEW_VALUES} distinct values in both samples together): with <= {AUTO_SIZE_LIMIT} "
    f"reference values the two-proportion z-test for <= 2 distinct values, else the chi-squared p-value "
    f"(homogeneity form); beyond, the Jensen-Shannon distance (natural log, category frequencies) >= 0.1. "
    f"loopwise additions: categorical columns with > {hc.HIGH_CARDINALITY} distinct values (or mostly unique "
    f"values) use the high-cardinality test (top-{hc.TOP_K} + other chi-squared and new-category share, "
    f"Bonferroni-combined p-value); p-values are corrected across columns (see 'correction')"
)
_FORMAT = "loopwise.drift.Reference/1"


@dataclass
class ColumnProfile:
    """What the comparison needs to know about one reference column."""

    name: str
    kind: str  # "numeric", "datetime", "timedelta" (values in seconds) or "categorical"
    dtype: str
    n_rows: int
    n_missing: int
    sorted_values: np.ndarray = field(default_factory=lambda: np.empty(0))
    edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    categories: list = field(default_factory=list)
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    time_zone: Optional[str] = None  # of a tz-aware datetime column

    @property
    def numeric_like(self) -> bool:
        return self.kind in NUMBER_KINDS

    @property
    def n_values(self) -> int:
        return self.n_rows - self.n_missing


def _kinds(frame: pd.DataFrame, categorical: Optional[Sequence[str]]) -> dict[str, str]:
    declared = set(categorical or [])
    unknown = declared - set(frame.columns)
    if unknown:
        raise ValueError(f"categorical names columns that do not exist: {sorted(unknown)}")
    return {c: column_kind(frame[c].dtype, c in declared) for c in frame.columns}


def _sorted_columns(frame: pd.DataFrame, names: list[str], label: str) -> dict[str, np.ndarray]:
    """Sorted non-missing values per numeric or time column (views into one row-sorted
    array; time columns in seconds).

    The table is transposed to one row per column (free for pandas' column blocks) and
    sorted with numpy's vectorised sort, about 3x faster than the core's radix sort here.
    """
    if not names:
        return {}
    by_column = np.ascontiguousarray(as_float_frame(frame, names).to_numpy(dtype=np.float64).T)
    infinite = np.isinf(by_column).any(axis=1)
    if infinite.any():
        raise ValueError(f"{label} has infinite values in columns {[n for n, f in zip(names, infinite) if f]}")
    ordered = np.sort(by_column, axis=1)  # numpy's SIMD sort; NaN sorts last
    keep = by_column.shape[1] - np.isnan(by_column).sum(axis=1)
    return {name: ordered[k, : keep[k]] for k, name in enumerate(names)}


def _counts_for(values: pd.Series, categories: list) -> tuple[list, np.ndarray]:
    counts = values.value_counts(sort=False)
    known = set(categories)
    extra = [c for c in counts.index if c not in known]
    full = list(categories) + extra
    return full, counts.reindex(full, fill_value=0).to_numpy(np.int64)


class Reference:
    """A profile of reference data, fitted once and compared with many current batches.

    Numeric columns keep their sorted values (so the exact tests stay exact) and their
    PSI bin edges; datetime and timedelta columns the same in seconds (never categories);
    categorical columns (bool, category, str / object) keep category counts. The profile saves to one
    ``.npz`` file (arrays + JSON metadata, no pickle) and loads back.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> rng = np.random.default_rng(0)
    >>> ref = Reference.fit(rng.normal(size=(500, 3)))
    >>> path = os.path.join(tempfile.mkdtemp(), "ref.npz")
    >>> ref.save(path)
    >>> Reference.load(path).compare(rng.normal(size=(500, 3))).drifted
    False
    """

    def __init__(self, profiles: list[ColumnProfile], *, bins: int = st.PSI_BINS) -> None:
        self.profiles = profiles
        self.bins = bins

    @property
    def columns(self) -> list[str]:
        return [p.name for p in self.profiles]

    def __repr__(self) -> str:
        kinds = [p.kind for p in self.profiles]
        times = len(kinds) - kinds.count("numeric") - kinds.count("categorical")
        return (f"Reference({len(self.profiles)} columns: {kinds.count('numeric')} numeric, "
                + (f"{times} datetime/timedelta, " if times else "") + f"{kinds.count('categorical')} categorical)")

    @classmethod
    def fit(cls, reference: Any, *, categorical: Optional[Sequence[str]] = None,
            columns: Optional[Sequence[str]] = None, bins: int = st.PSI_BINS,
            n_jobs: Optional[int] = None) -> "Reference":
        """Profile a reference table (numpy, pandas, polars or pyarrow).

        Parameters
        ----------
        reference : table
            Reference data. Integer and float columns are numeric; datetime (tz-naive or
            tz-aware) and timedelta columns are compared as time, in seconds; bool, pandas
            category and str / object columns are categorical.
        categorical : list of str, optional
            Further columns to treat as categorical.
        columns : list of str, optional
            Only these columns.
        bins : int
            Reference-quantile bins for PSI, Jensen-Shannon and Hellinger.
        n_jobs : int, optional
            Threads for sorting (``None``: all cores).

        Examples
        --------
        >>> import pandas as pd
        >>> Reference.fit(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}))
        Reference(2 columns: 1 numeric, 1 categorical)
        """
        resolve_n_jobs(n_jobs)  # validate early; sorting is numpy's
        frame = to_frame(reference, "reference", columns)
        kinds = _kinds(frame, categorical)
        numeric = [c for c in frame.columns if kinds[c] in NUMBER_KINDS]
        sorted_columns = _sorted_columns(frame, numeric, "reference")
        profiles = []
        for name in frame.columns:
            series = frame[name]
            profile = ColumnProfile(name, kinds[name], str(series.dtype), len(frame), int(series.isna().sum()),
                                    time_zone=time_zone(series) if kinds[name] == "datetime" else None)
            if profile.numeric_like:
                values = sorted_columns[name]
                profile.sorted_values = values
                profile.edges = st.quantile_edges(values, bins) if values.size else np.empty(0)
            else:
                profile.categories, profile.counts = _counts_for(category_strings(series), [])
            profiles.append(profile)
        return cls(profiles, bins=bins)

    # -------------------------------------------------------------- persistence
    def save(self, path: Union[str, Path]) -> None:
        """Write the profile to ``path`` (``.npz``: arrays plus JSON metadata, no pickle)."""
        arrays: dict[str, np.ndarray] = {}
        meta = {"format": _FORMAT, "bins": self.bins, "columns": []}
        for i, p in enumerate(self.profiles):
            meta["columns"].append({"name": p.name, "kind": p.kind, "dtype": p.dtype, "n_rows": p.n_rows,
                                    "n_missing": p.n_missing, "categories": [str(c) for c in p.categories],
                                    "time_zone": p.time_zone})
            arrays[f"values_{i}"] = p.sorted_values
            arrays[f"edges_{i}"] = p.edges
            arrays[f"counts_{i}"] = p.counts
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        with open(path, "wb") as handle:  # a file object keeps numpy from appending ".npz"
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: Union[str, Path]) -> "Reference":
        """Read a profile written by :meth:`save`.

        Examples
        --------
        >>> Reference.load("no/such/file.npz")
        Traceback (most recent call last):
        ...
        FileNotFoundError: ...
        """
        import zipfile

        try:
            archive = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path} is not a loopwise reference profile ({error})") from error
        if not hasattr(archive, "files"):
            raise ValueError(f"{path} is not a loopwise reference profile (a single array, not an .npz archive)")
        with archive as data:
            try:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            except (KeyError, ValueError) as error:
                raise ValueError(f"{path} is not a loopwise reference profile") from error
            if meta.get("format") != _FORMAT:
                raise ValueError(f"{path} has format {meta.get('format')!r}, expected {_FORMAT!r}")
            profiles = []
            for i, c in enumerate(meta["columns"]):
                profiles.append(ColumnProfile(c["name"], c["kind"], c["dtype"], int(c["n_rows"]), int(c["n_missing"]),
                                              np.ascontiguousarray(data[f"values_{i}"], dtype=np.float64),
                                              np.asarray(data[f"edges_{i}"], dtype=np.float64),
                                              list(c["categories"]), np.asarray(data[f"counts_{i}"], dtype=np.int64),
                                              c.get("time_zone")))
        return cls(profiles, bins=int(meta["bins"]))

    # -------------------------------------------------------------- comparison
    def compare(self, current: Any, *, tests: Union[str, Mapping[str, str]] = "auto", alpha: float = 0.05,
                correction: Optional[str] = "fdr", drift_share: float = 0.5,
                thresholds: Optional[Mapping[str, float]] = None, psi_epsilon: float = st.PSI_EPSILON,
                js_base: float = st.JS_BASE, missing_threshold: float = 0.05,
                n_jobs: Optional[int] = None) -> DriftReport:
        """Compare a current table with this reference; see :func:`compare` for the parameters.

        Examples
        --------
        >>> import numpy as np
        >>> ref = Reference.fit(np.arange(100.0).reshape(50, 2))
        >>> ref.compare(np.arange(100.0).reshape(50, 2)).share_drifted
        0.0
        """
        return _compare(self, current, tests=tests, alpha=alpha, correction=correction, drift_share=drift_share,
                        thresholds=thresholds, psi_epsilon=psi_epsilon, js_base=js_base,
                        missing_threshold=missing_threshold, n_jobs=n_jobs)


def _check_schema(ref: Reference, frame: pd.DataFrame, strict: bool) -> None:
    missing = [c for c in ref.columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in set(ref.columns)] if strict else []
    if missing or extra:
        parts = ([f"missing columns {missing}"] if missing else []) + ([f"unexpected columns {extra}"] if extra else [])
        raise ValueError("current does not match the reference schema: " + "; ".join(parts))
    changed = [f"{p.name} ({p.dtype} -> {frame[p.name].dtype})" for p in ref.profiles
               if p.kind == "numeric" and not is_numeric_dtype(frame[p.name].dtype)
               and not frame[p.name].isna().all()]
    if changed:
        raise ValueError(f"current has non-numeric values in numeric reference columns: {changed}; convert them "
                         "with pd.to_numeric, or declare the columns categorical=[...] when fitting the reference")
    for p in ref.profiles:
        if p.kind in TIME_KINDS:
            check_time_column(p.name, p.kind, p.time_zone, frame[p.name], "current")


def _choose_test(profile: ColumnProfile, tests: Union[str, Mapping[str, str]], few_values: bool,
                 n_distinct: int = 0, high_cardinality: bool = False) -> str:
    """The test of one column; ``n_distinct`` counts the values of both samples together."""
    requested = tests.get(profile.name, "auto") if isinstance(tests, Mapping) else tests
    categorical = profile.kind == "categorical"
    allowed = CATEGORICAL_TESTS if categorical else NUMERIC_TESTS
    if isinstance(tests, str) and (requested not in allowed or (requested == "z" and n_distinct > 2)):
        requested = "auto"  # one test name for the whole table applies where it fits
    if requested == "z" and n_distinct > 2:
        raise ValueError(f"test 'z' needs a column with at most 2 distinct values, but {profile.name!r} has "
                         f"{n_distinct}; use 'chi2'")
    if requested == "auto":
        large = profile.n_values > AUTO_SIZE_LIMIT
        if categorical and high_cardinality:
            return "high_cardinality"
        if categorical or few_values:
            if large:
                return "jensen_shannon"
            return "z" if n_distinct <= 2 else "chi2"
        return "wasserstein" if large else "ks"
    if requested not in allowed:
        raise ValueError(f"test {requested!r} does not apply to {profile.kind} column {profile.name!r}; "
                         f"choose one of {allowed}")
    return requested


def _histogram(profile: ColumnProfile, sorted_current: Optional[np.ndarray], current_counts: Optional[tuple]) -> dict:
    if profile.numeric_like:
        a, b = profile.sorted_values, sorted_current
        if a.size == 0 or b is None or b.size == 0:
            return {"labels": [], "reference": [], "current": []}
        lo, hi = min(a[0], b[0]), max(a[-1], b[-1])
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, 21)
        # Counts from the sorted samples (right-closed bins, the first one closed).
        ra = np.diff(np.searchsorted(a, edges[1:], side="right"), prepend=0) / a.size
        rb = np.diff(np.searchsorted(b, edges[1:], side="right"), prepend=0) / b.size
        if profile.kind == "datetime":
            labels = [str(t) for t in pd.to_datetime(edges[:-1], unit="s").strftime("%Y-%m-%d %H:%M")]
        else:
            labels = [f"{x:.3g}" for x in edges[:-1]]
        return {"labels": labels, "reference": ra.tolist(), "current": rb.tolist()}
    categories, cur = current_counts
    ref = np.zeros(len(categories))
    ref[: len(profile.counts)] = profile.counts
    top = np.argsort(-(ref / max(ref.sum(), 1) + cur / max(cur.sum(), 1)), kind="stable")[:20]
    return {"labels": [str(categories[i]) for i in top], "reference": (ref[top] / max(ref.sum(), 1)).tolist(),
            "current": (cur[top] / max(cur.sum(), 1)).tolist()}


OPEN_UNIT = Interval(0.0, 1.0, closed="neither")


def _compare(ref: Reference, current: Any, *, tests, alpha, correction, drift_share, thresholds, psi_epsilon,
             js_base, missing_threshold, n_jobs) -> DriftReport:
    if correction not in (None, "fdr", "bonferroni"):
        raise ValueError(f"correction must be 'fdr', 'bonferroni' or None, got {correction!r}")
    check_params(alpha=(OPEN_UNIT, alpha), drift_share=(Interval(0.0, 1.0, closed="right"), drift_share),
                 missing_threshold=(Interval(0.0, 1.0), missing_threshold),
                 psi_epsilon=(Interval(0.0, 1.0, closed="right"), psi_epsilon),
                 js_base=(Interval(1.0, None, closed="neither"), js_base))
    if not isinstance(tests, Mapping) and tests != "auto" and tests not in set(NUMERIC_TESTS) | set(CATEGORICAL_TESTS):
        raise ValueError(f"tests must be 'auto', a test name or a dict column -> test, got {tests!r}")
    limits = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    threads = resolve_n_jobs(n_jobs)
    frame = to_frame(current, "current")
    _check_schema(ref, frame, strict=True)
    numeric = [p for p in ref.profiles if p.numeric_like]
    sorted_current = _sorted_columns(frame, [p.name for p in numeric], "current")
    # Category counts over the union of both samples (reference categories first).
    category_counts = {p.name: _counts_for(category_strings(frame[p.name]), p.categories)
                       for p in ref.profiles if p.kind == "categorical"}

    # Which test per column (numeric columns with few distinct values behave as categories;
    # time columns never do).
    chosen: dict[str, str] = {}
    few: dict[str, bool] = {}
    for p in ref.profiles:
        requested = tests.get(p.name, "auto") if isinstance(tests, Mapping) else tests
        few[p.name] = (p.kind == "numeric" and requested == "auto"
                       and _rows.distinct_at_most(p.sorted_values, AUTO_FEW_VALUES)
                       and _rows.distinct_at_most(sorted_current[p.name], AUTO_FEW_VALUES)
                       and np.union1d(p.sorted_values, sorted_current[p.name]).size <= AUTO_FEW_VALUES)
        if p.kind == "categorical":
            names, counts = category_counts[p.name]
            n_distinct = len(names)
            high = hc.is_high_cardinality(n_distinct, len(p.categories), p.n_values)
            chosen[p.name] = _choose_test(p, tests, False, n_distinct, high)
        else:
            n_distinct = np.union1d(p.sorted_values, sorted_current[p.name]).size if few[p.name] else 0
            chosen[p.name] = _choose_test(p, tests, few[p.name], n_distinct)

    # One parallel pass over numeric columns computes every statistic; a second computes
    # exact KS p-values only where KS is the chosen test.
    stats_frame = pd.DataFrame()
    numeric_stats: dict[str, dict] = {}
    if numeric:
        refs = [p.sorted_values for p in numeric]
        curs = [sorted_current[p.name] for p in numeric]
        edges = [list(p.edges) if p.edges.size else [0.0] for p in numeric]
        everything = _core.drift_compare_numeric(refs, curs, edges, st.ALL & ~st.KS_EXACT, st.EXACT_KS_MAX_N,
                                                 psi_epsilon, js_base, threads)
        ks_cols = [i for i, p in enumerate(numeric) if chosen[p.name] == "ks"]
        exact = np.full(len(numeric), np.nan)
        if ks_cols:
            out = _core.drift_compare_numeric([refs[i] for i in ks_cols], [curs[i] for i in ks_cols], [],
                                              st.KS | st.KS_EXACT, st.EXACT_KS_MAX_N, psi_epsilon, js_base, threads)
            exact[ks_cols] = out["ks_exact_pvalue"]
        for i, p in enumerate(numeric):
            numeric_stats[p.name] = {k: float(v[i]) for k, v in everything.items()}
            numeric_stats[p.name]["ks_exact_pvalue"] = float(exact[i])
            numeric_stats[p.name]["reference_std"] = float(np.std(refs[i])) if refs[i].size else float("nan")
        stats_frame = pd.DataFrame([{"column": n, **s} for n, s in numeric_stats.items()])

    rows, histograms = [], {}
    for p in ref.profiles:
        test = chosen[p.name]
        series = frame[p.name]
        n_cur_rows = len(series)
        n_cur_missing = int(series.isna().sum())
        row = {"column": p.name, "kind": p.kind, "test": test, "statistic": np.nan, "p_value": np.nan,
               "threshold": alpha if test in P_VALUE_TESTS else limits[test], "n_reference": p.n_values,
               "n_current": n_cur_rows - n_cur_missing, "missing_reference": p.n_missing / p.n_rows,
               "missing_current": n_cur_missing / n_cur_rows, "method": ""}
        current_counts = None
        hist_profile = p
        if row["n_reference"] == 0 or row["n_current"] == 0:
            row["method"] = "no values on one side"
        elif p.kind == "categorical" or few[p.name]:
            if p.kind == "categorical":
                current_counts = category_counts[p.name]
                ref_counts = np.zeros(len(current_counts[0]), dtype=np.int64)
                ref_counts[: len(p.counts)] = p.counts
            else:
                values = np.concatenate([p.sorted_values, sorted_current[p.name]])
                cats = np.unique(values)
                ref_counts = np.searchsorted(p.sorted_values, cats, "right") - np.searchsorted(p.sorted_values, cats, "left")
                cur_counts = (np.searchsorted(sorted_current[p.name], cats, "right")
                              - np.searchsorted(sorted_current[p.name], cats, "left"))
                current_counts = ([f"{c:g}" for c in cats], cur_counts.astype(np.int64))
                ref_counts = ref_counts.astype(np.int64)
                hist_profile = ColumnProfile(p.name, "categorical", p.dtype, p.n_rows, p.n_missing, counts=ref_counts)
            row.update(_rows.categorical_row(test, ref_counts, current_counts[1], psi_epsilon, js_base))
        else:
            row.update(_rows.numeric_row(test, numeric_stats[p.name], p.sorted_values, sorted_current[p.name]))
        if p.kind in TIME_KINDS:
            row["method"] = f"{TIME_NOTE[p.kind]}; {row['method']}".rstrip("; ")
        rows.append(row)
        if hist_profile.numeric_like or current_counts is not None:
            histograms[p.name] = _histogram(hist_profile, sorted_current.get(p.name), current_counts)

    table = pd.DataFrame(rows)
    table["p_value_adjusted"] = _rows.adjust(table["p_value"].to_numpy(dtype=np.float64), correction)
    is_p = table["test"].isin(P_VALUE_TESTS).to_numpy()
    no_values = (table["n_reference"] == 0) | (table["n_current"] == 0)
    table["drifted"] = np.where(is_p, table["p_value_adjusted"] < alpha, table["statistic"] >= table["threshold"])
    # A column that lost (or gained) all its values has drifted whatever the test says.
    table.loc[no_values, "drifted"] = (table["n_reference"] == 0) != (table["n_current"] == 0)
    table["drifted"] = table["drifted"].astype(bool)
    table["missing_drifted"] = (table["missing_current"] - table["missing_reference"]).abs() > missing_threshold
    order = ["column", "kind", "test", "statistic", "p_value", "p_value_adjusted", "threshold", "drifted", "method",
             "n_reference", "n_current", "missing_reference", "missing_current", "missing_drifted"]
    table = table[order]
    share = float(table["drifted"].mean())
    settings = {
        "tests": tests if isinstance(tests, str) else dict(tests), "auto_rule": AUTO_RULE, "alpha": alpha,
        "correction": correction, "drift_share": drift_share, "thresholds": limits,
        "binning": f"{ref.bins} reference-quantile bins, right-closed, outer bins open-ended",
        "psi_epsilon": psi_epsilon, "js_base": js_base, "missing_threshold": missing_threshold,
        "verdict": f"share of drifted columns >= {drift_share}",
    }
    return DriftReport(table=table, drifted=share >= drift_share, share_drifted=share, settings=settings,
                       statistics=stats_frame, histograms=histograms)


def compare(reference: Any, current: Any, *, tests: Union[str, Mapping[str, str]] = "auto", alpha: float = 0.05,
            correction: Optional[str] = "fdr", categorical: Optional[Sequence[str]] = None,
            columns: Optional[Sequence[str]] = None, drift_share: float = 0.5,
            thresholds: Optional[Mapping[str, float]] = None, bins: int = st.PSI_BINS,
            psi_epsilon: float = st.PSI_EPSILON, js_base: float = st.JS_BASE, missing_threshold: float = 0.05,
            multivariate: Optional[str] = None, random_state: Any = None,
            n_jobs: Optional[int] = None) -> DriftReport:
    """Column-by-column drift between a reference and a current table.

    Parameters
    ----------
    reference, current : table or Profile
        numpy arrays, pandas, polars or pyarrow tables with the same columns, or two
        :class:`loopwise.profiles.Profile` (a table never loaded here: the comparison then
        runs on exact merged counts and sketches, see :func:`loopwise.profiles.compare`). Integer
        and float columns are numeric; datetime (tz-naive or tz-aware, the same on both
        sides) and timedelta columns are compared as time in seconds, never as
        categories; bool, category and str / object columns are categorical.
    tests : "auto", str or dict
        ``"auto"`` applies the documented rule (see Notes); a test name applies it to
        every column it fits; a dict maps column -> test (others stay ``"auto"``).
        Numeric (and time) tests: ``ks, cvm, anderson, wasserstein, energy, psi,
        jensen_shannon, hellinger``; categorical: ``chi2, g_test, z (at most 2 values),
        high_cardinality, jensen_shannon, psi, hellinger``.
    alpha : float
        Significance level of the p-value tests (after correction).
    correction : {"fdr", "bonferroni", None}
        Multiple-testing correction over the columns tested by p-value
        (Benjamini-Hochberg or Bonferroni).
    categorical : list of str, optional
        Numeric columns to treat as categories.
    columns : list of str, optional
        Compare only these columns.
    drift_share : float
        The dataset drifted when at least this share of columns drifted.
    thresholds : dict, optional
        Overrides of the distance thresholds (``wasserstein, psi, jensen_shannon,
        hellinger, energy``, all 0.1 by default).
    bins, psi_epsilon, js_base : int, float, float
        Binning of numeric columns for PSI / Jensen-Shannon / Hellinger (reference
        quantiles), the PSI floor for empty bins (1e-4) and the JS log base (e, as
        evidently and ``scipy.spatial.distance.jensenshannon``; the 0.1 threshold is
        meant for it).
    missing_threshold : float
        A change of the missing rate larger than this is flagged (``missing_drifted``).
    multivariate : {None, "mmd", "classifier"}
        Take the dataset verdict from a multivariate test on the numeric columns (rows
        with missing values dropped; at most 2000 seeded rows per side for MMD) instead
        of the share of drifted columns: drifted when its p-value < ``alpha``. The result
        is in ``report.settings["multivariate"]``.
    random_state : int, optional
        Seed of the multivariate test.
    n_jobs : int, optional
        Threads over columns (``None``: all cores); results do not depend on it.

    Returns
    -------
    DriftReport

    Notes
    -----
    The ``"auto"`` rule is evidently's default data-drift rule (its documented "data
    drift algorithm", ``get_stattest`` of evidently 0.6/0.7); the size is the number of
    non-missing reference values, the distinct count that of both samples together:

    - numeric, more than 5 distinct values: two-sample KS p-value (< alpha) up to 1000
      reference values; beyond, Wasserstein-1 / max(reference std, 0.001) >= 0.1;
    - categorical, and numeric with at most 5 distinct values: up to 1000 reference
      values the two-proportion z-test (at most 2 distinct values) or the chi-squared
      test (p-value < alpha); beyond, the Jensen-Shannon distance of the category
      frequencies, natural log, >= 0.1;
    - the dataset drifted when the share of drifted columns is >= ``drift_share`` (0.5).

    Where loopwise departs from evidently, on purpose:

    - datetime / timedelta columns (evidently skips them) are tested like numeric
      columns on their value in seconds; the row's ``method`` says so;
    - categorical columns with more than 50 distinct values, or mostly unique values,
      use the ``high_cardinality`` test (top-20 + "other" chi-squared and the share of
      current rows with categories unseen in the reference, Bonferroni-combined
      p-value; ``statistic`` is that new-category share) instead of a chi-squared test
      or a distance over thousands of sparse cells;
    - the chi-squared test is the homogeneity test of the 2 x K table (as
      ``scipy.stats.chi2_contingency``, Yates at one degree of freedom); evidently tests
      the current counts against the reference frequencies taken as exact, which ignores
      the reference's own sampling noise and so flags drift more often than alpha;
    - p-values are corrected across columns (``correction="fdr"``); evidently corrects
      nothing: pass ``correction=None`` for its per-column verdicts;
    - ``psi``, ``jensen_shannon`` and ``hellinger`` bin numeric columns at 10 reference
      quantiles (evidently: Sturges' rule over both samples); the auto rule uses them
      only on category frequencies, where both agree;
    - the missing rate is compared too (``missing_drifted``, a change > ``missing_threshold``).

    Each row of the table names the test and threshold that applied. Missing values are
    excluded from every test and reported as missing rates.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> report = compare(rng.normal(size=(400, 3)), rng.normal(size=(400, 3)) + [0, 0, 1])
    >>> report.drifted_columns
    ['x2']
    """
    from ..profiles.profile import Profile  # loopwise.profiles builds on this module: imported on use

    if isinstance(reference, Profile) or isinstance(current, Profile):
        if not (isinstance(reference, Profile) and isinstance(current, Profile)):
            raise TypeError("reference and current must both be tables or both be loopwise Profiles")
        if categorical is not None or columns is not None or multivariate is not None or bins != st.PSI_BINS:
            raise ValueError("categorical, columns, bins and multivariate are fixed when profiles are built; "
                             "pass them to loopwise.profiles.build (or the engine's profile function)")
        from ..profiles.compare import compare as compare_profiles

        return compare_profiles(reference, current, tests=tests, alpha=alpha, correction=correction,
                                drift_share=drift_share, thresholds=thresholds, psi_epsilon=psi_epsilon,
                                js_base=js_base, missing_threshold=missing_threshold)
    if multivariate not in (None, "mmd", "classifier"):
        raise ValueError(f"multivariate must be None, 'mmd' or 'classifier', got {multivariate!r}")
    profile = Reference.fit(reference, categorical=categorical, columns=columns, bins=bins, n_jobs=n_jobs)
    if columns is not None:
        current = to_frame(current, "current", columns)
    report = profile.compare(current, tests=tests, alpha=alpha, correction=correction, drift_share=drift_share,
                             thresholds=thresholds, psi_epsilon=psi_epsilon, js_base=js_base,
                             missing_threshold=missing_threshold, n_jobs=n_jobs)
    if multivariate is not None:
        _multivariate_verdict(report, profile, reference, current, multivariate, alpha, random_state, n_jobs)
    return report


def _multivariate_verdict(report: DriftReport, profile: Reference, reference: Any, current: Any, method: str,
                          alpha: float, random_state: Any, n_jobs: Optional[int]) -> None:
    from .multivariate import classifier_test, mmd_test

    numeric = [p.name for p in profile.profiles if p.kind == "numeric"]
    if not numeric:
        raise ValueError("a multivariate verdict needs at least one numeric column")
    ref = to_frame(reference, "reference")[numeric].astype(np.float64).dropna()
    cur = to_frame(current, "current")[numeric].astype(np.float64).dropna()
    if len(ref) < 2 or len(cur) < 2:
        raise ValueError("a multivariate verdict needs at least 2 complete numeric rows on each side")
    seed = np.random.default_rng(random_state).integers(0, 2**31 - 1) if not isinstance(random_state, int) else random_state
    if method == "mmd":
        rng = np.random.default_rng(seed)
        ref = ref.iloc[np.sort(rng.choice(len(ref), min(len(ref), 2000), replace=False))]
        cur = cur.iloc[np.sort(rng.choice(len(cur), min(len(cur), 2000), replace=False))]
        result = mmd_test(ref.to_numpy(), cur.to_numpy(), random_state=int(seed), n_jobs=n_jobs).to_dict()
    else:
        result = classifier_test(ref, cur, random_state=int(seed), n_jobs=n_jobs).to_dict()
    report.settings["multivariate"] = result
    report.settings["verdict"] = f"{method} p-value < alpha"
    report.drifted = bool(result["p_value"] < alpha)
