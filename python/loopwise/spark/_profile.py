"""Profiles of Spark DataFrames: each partition is summarised by the engine-free
:func:`loopwise.profiles.build` inside ``mapInPandas`` and the small profiles are merged on
the driver. Only DataFrame operations are used (no ``sparkContext``, no RDDs), so the same
code runs on classic Spark and on Spark Connect."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..drift import statistics as st
from ..drift.report import DriftReport
from ..profiles import compare as compare_profiles
from ..profiles import count_bins, exact_ks, merge, with_bins
from ..profiles.profile import (DEFAULT_K, DEFAULT_LG_MAX_K, DEFAULT_MAX_CATEGORIES, Profile, build, empty_frame,
                                settings_of)

__all__ = ["profile", "ks", "compare"]

# Rows gathered from Arrow batches before one partition-level summary is built: fewer,
# larger summaries cost less than one per 10,000-row Arrow batch.
_CHUNK_ROWS = 1_000_000


def _spark_kind(data_type: Any) -> str:
    from pyspark.sql import types as T

    if isinstance(data_type, (T.TimestampType, T.DateType)) or type(data_type).__name__ == "TimestampNTZType":
        return "datetime"
    if type(data_type).__name__ == "DayTimeIntervalType":
        return "timedelta"
    if isinstance(data_type, T.NumericType):
        return "numeric"
    return "categorical"


def _as_pandas_friendly(df: Any, name: str) -> Any:
    """The column, with dates cast to timestamps (Arrow hands dates to pandas as Python
    objects; as timestamps they are compared as time, in seconds)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(df.schema[name].dataType, T.DateType):
        return F.col(name).cast("timestamp").alias(name)
    return F.col(name)


def _columns(df: Any, columns: Optional[Sequence[str]], name: str = "df") -> list[str]:
    if not hasattr(df, "mapInPandas"):
        raise TypeError(f"{name} must be a pyspark.sql.DataFrame, got {type(df).__name__}")
    names = list(df.columns) if columns is None else [str(c) for c in columns]
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise ValueError(f"{name} has no columns {missing}")
    if not names:
        raise ValueError("columns is empty: nothing to profile")
    return names


def _chunks(batches: Any) -> Any:
    pending: list[pd.DataFrame] = []
    rows = 0
    for batch in batches:
        pending.append(batch)
        rows += len(batch)
        if rows >= _CHUNK_ROWS:
            yield pd.concat(pending, ignore_index=True)
            pending, rows = [], 0
    if pending:
        yield pd.concat(pending, ignore_index=True)


def _profile_partitions(settings: dict) -> Any:
    def run(batches: Any) -> Any:
        parts = [build(chunk, **settings) for chunk in _chunks(batches) if len(chunk)]
        if parts:
            yield pd.DataFrame({"profile": [merge(parts).to_bytes()]})
    return run


def _count_partitions(edges: dict) -> Any:
    names = list(edges)

    def run(batches: Any) -> Any:
        totals = {n: np.zeros(len(edges[n]) + 1, dtype=np.int64) for n in names}
        for chunk in _chunks(batches):
            for n, counts in count_bins(chunk, edges).items():
                totals[n] += counts
        yield pd.DataFrame({"column": names, "counts": [totals[n].tolist() for n in names]})
    return run


def profile(df: Any, columns: Optional[Sequence[str]] = None, *, reference: Optional[Profile] = None,
            edges: Union[str, Mapping[str, Sequence[float]], None] = "sketch", bins: int = st.PSI_BINS,
            categorical: Optional[Sequence[str]] = None, k: int = DEFAULT_K,
            max_categories: int = DEFAULT_MAX_CATEGORIES, lg_max_k: int = DEFAULT_LG_MAX_K) -> Profile:
    """Profile a Spark DataFrame: per partition with ``mapInPandas``, merged on the driver.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        The table (classic Spark or Spark Connect).
    columns : list of str, optional
        Only these columns (all by default).
    reference : Profile, optional
        A reference profile: this table's numeric values are counted in its bins (one pass).
    edges : "sketch", None or dict
        Without ``reference``: ``"sketch"`` takes bin edges at the quantiles estimated by the
        merged KLL sketches and counts exactly in a second pass; a dict gives the edges per
        column (one pass); None keeps no bins (one pass; only sketch-based tests then).
    bins, categorical, k, max_categories, lg_max_k
        As in :func:`loopwise.profiles.build`.

    Returns
    -------
    Profile

    Examples
    --------
    >>> from loopwise.spark import profile  # doctest: +SKIP
    >>> ref = profile(spark.table("features"), edges="sketch")  # doctest: +SKIP
    >>> cur = profile(spark.table("features_today"), reference=ref)  # doctest: +SKIP
    """
    names = _columns(df, columns if reference is None else (columns or reference.columns))
    kinds = {f.name: _spark_kind(f.dataType) for f in df.schema.fields if f.name in names}
    for c in categorical or []:
        kinds[c] = "categorical"
    if reference is not None:
        settings = settings_of(reference)  # plain values: profiles hold sketches, which do not pickle
        names = reference.columns
    else:
        if not (edges is None or edges == "sketch" or isinstance(edges, Mapping)):
            raise ValueError(f"edges must be 'sketch', None or a dict column -> edges, got {edges!r}")
        settings = {"kinds": kinds, "edges": dict(edges) if isinstance(edges, Mapping) else None, "bins": bins,
                    "k": k, "max_categories": max_categories, "lg_max_k": lg_max_k}
    table = df.select(*[_as_pandas_friendly(df, c) for c in names])
    blobs = [row["profile"] for row in table.mapInPandas(_profile_partitions(settings), "profile binary").collect()]
    if not blobs:  # an empty table: summarise no rows with the same settings
        return build(empty_frame(settings["kinds"]), **settings)
    merged = merge(blobs)
    if reference is None and edges == "sketch":
        cut = {n: e.tolist() for n, e in merged.sketch_edges(bins).items() if e.size}
        if cut:
            rows = table.mapInPandas(_count_partitions(cut), "column string, counts array<long>").collect()
            totals = {n: np.zeros(len(cut[n]) + 1, dtype=np.int64) for n in cut}
            for row in rows:
                totals[row["column"]] += np.asarray(row["counts"], dtype=np.int64)
            merged = with_bins(merged, cut, totals)
    return merged


def _long_values(df: Any, names: list[str], side: int) -> Any:
    """One row per non-missing value: (column, value, side), all columns stacked."""
    from pyspark.sql import functions as F

    stacked = None
    for c in names:
        value = F.col(c).cast("double")
        part = df.select(F.lit(c).alias("column"), value.alias("value"), F.lit(side).alias("side")) \
            .where(value.isNotNull() & ~F.isnan(value))
        stacked = part if stacked is None else stacked.unionByName(part)
    return stacked


def _ks_partitions(sizes: dict) -> Any:
    def run(batches: Any) -> Any:
        chunks = [b for b in batches if len(b)]
        if not chunks:
            return
        rows = []
        for column, chunk in pd.concat(chunks, ignore_index=True).groupby("column", sort=False):
            n, m = sizes[column]
            rows.append({"column": column, **exact_ks.ks_partial(chunk, n, m)})
        yield pd.DataFrame(rows)
    return run


def ks(reference: Any, current: Any, columns: Optional[Sequence[str]] = None) -> dict[str, st.TestResult]:
    """Exact two-sample KS tests of Spark DataFrame columns, sort-based and distributed.

    Both samples of every column are stacked, grouped by (column, value) with counts per
    side, range-partitioned and sorted by Spark; each range is summarised in
    ``mapInPandas`` and the driver combines the ranges (:func:`loopwise.profiles.ks_combine`).
    D equals ``scipy.stats.ks_2samp``'s and the p-value follows scipy's rule. Missing (null
    or NaN) values are dropped. Three Spark jobs whatever the number of columns (sizes,
    the sort's sampling, the sort); the shuffle carries one row per distinct value.

    Returns
    -------
    dict
        Column -> :class:`loopwise.drift.TestResult`.

    Examples
    --------
    >>> from loopwise.spark import ks  # doctest: +SKIP
    >>> ks(spark.table("ref"), spark.table("cur"), ["age"])["age"].p_value  # doctest: +SKIP
    """
    from pyspark.sql import functions as F

    names = _columns(reference, columns, "reference")
    _columns(current, names, "current")
    both = _long_values(reference, names, 0).unionByName(_long_values(current, names, 1))
    sizes = {c: [0, 0] for c in names}
    for row in both.groupBy("column", "side").count().collect():
        sizes[row["column"]][row["side"]] = int(row["count"])
    for c, (n, m) in sizes.items():
        if n == 0 or m == 0:
            raise ValueError(f"column {c!r} has no non-missing values in the {'reference' if n == 0 else 'current'}")
    grouped = both.groupBy("column", "value").agg(F.sum(1 - F.col("side")).cast("long").alias("count_a"),
                                                  F.sum("side").cast("long").alias("count_b"))
    schema = ("column string, first double, total_a long, total_b long, hi_a array<long>, hi_b array<long>, "
              "lo_a array<long>, lo_b array<long>")
    partials: dict[str, list] = {c: [] for c in names}
    for row in grouped.orderBy("column", "value").mapInPandas(_ks_partitions(sizes), schema).collect():
        partials[row["column"]].append(row.asDict())
    return {c: exact_ks.ks_combine(partials[c], *sizes[c]) for c in names}


def compare(reference: Any, current: Any, columns: Optional[Sequence[str]] = None, *, exact: bool = False,
            **options: Any) -> DriftReport:
    """Profile two Spark DataFrames (or take a reference :class:`Profile`) and compare them.

    ``exact=True`` (two DataFrames only) adds the exact sort-based KS of every numeric
    column (:func:`ks`), used where ``tests`` asks for ``"ks"`` (and by the auto rule up
    to 1000 reference values). Further keywords go to :func:`loopwise.profiles.compare`.

    Examples
    --------
    >>> from loopwise.spark import compare  # doctest: +SKIP
    >>> compare(spark.table("ref"), spark.table("cur"), tests="ks", exact=True).drifted  # doctest: +SKIP
    """
    ref_profile = reference if isinstance(reference, Profile) else profile(reference, columns)
    cur_profile = profile(current, reference=ref_profile)
    exact_results = None
    if exact:
        if isinstance(reference, Profile):
            raise ValueError("exact=True needs the reference as a DataFrame: an exact KS sorts both samples")
        numeric = [c.name for c in ref_profile.summaries() if c.kind != "categorical"]
        exact_results = ks(reference, current, numeric) if numeric else {}
    return compare_profiles(ref_profile, cur_profile, exact_ks=exact_results, **options)
