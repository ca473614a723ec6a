"""Profiles of Dask DataFrames: each partition is summarised by the engine-free
:func:`loopwise.profiles.build` in its own task and the small profiles are merged, in
partition order, on the client."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..drift import statistics as st
from ..drift._columns import column_kind
from ..drift.report import DriftReport
from ..profiles import compare as compare_profiles
from ..profiles import count_bins, exact_ks, merge, with_bins
from ..profiles.profile import (DEFAULT_K, DEFAULT_LG_MAX_K, DEFAULT_MAX_CATEGORIES, Profile, build, empty_frame,
                                settings_of)

__all__ = ["profile", "ks", "compare"]


def _columns(ddf: Any, columns: Optional[Sequence[str]], name: str = "ddf") -> list[str]:
    if not hasattr(ddf, "map_partitions") or not hasattr(ddf, "columns"):
        raise TypeError(f"{name} must be a dask.dataframe.DataFrame, got {type(ddf).__name__}")
    names = list(ddf.columns) if columns is None else [str(c) for c in columns]
    missing = [c for c in names if c not in ddf.columns]
    if missing:
        raise ValueError(f"{name} has no columns {missing}")
    if not names:
        raise ValueError("columns is empty: nothing to profile")
    return names


def _profile_bytes(part: pd.DataFrame, settings: dict) -> Optional[bytes]:
    return build(part, **settings).to_bytes() if len(part) else None


def profile(ddf: Any, columns: Optional[Sequence[str]] = None, *, reference: Optional[Profile] = None,
            edges: Union[str, Mapping[str, Sequence[float]], None] = "sketch", bins: int = st.PSI_BINS,
            categorical: Optional[Sequence[str]] = None, k: int = DEFAULT_K,
            max_categories: int = DEFAULT_MAX_CATEGORIES, lg_max_k: int = DEFAULT_LG_MAX_K) -> Profile:
    """Profile a Dask DataFrame: one task per partition, merged on the client.

    Parameters are those of :func:`loopwise.spark.profile`: ``reference`` bins this
    table's values on a reference profile's edges; otherwise ``edges="sketch"`` takes edges
    from the merged KLL sketches and counts exactly in a second pass.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> ddf = dd.from_pandas(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}), npartitions=2)
    >>> profile(ddf).column("x").moments.mean
    2.5
    """
    import dask

    names = _columns(ddf, columns if reference is None else (columns or reference.columns))
    declared = set(categorical or [])
    if reference is not None:
        settings = settings_of(reference)
        names = reference.columns
    else:
        if not (edges is None or edges == "sketch" or isinstance(edges, Mapping)):
            raise ValueError(f"edges must be 'sketch', None or a dict column -> edges, got {edges!r}")
        kinds = {c: column_kind(ddf[c].dtype, c in declared) for c in names}
        settings = {"kinds": kinds, "edges": dict(edges) if isinstance(edges, Mapping) else None, "bins": bins,
                    "k": k, "max_categories": max_categories, "lg_max_k": lg_max_k}
    table = ddf[names]
    parts = table.to_delayed()
    blobs = [b for b in dask.compute(*[dask.delayed(_profile_bytes)(p, settings) for p in parts]) if b is not None]
    if not blobs:
        return build(empty_frame(settings["kinds"]), **settings)
    merged = merge(blobs)
    if reference is None and edges == "sketch":
        cut = {n: e.tolist() for n, e in merged.sketch_edges(bins).items() if e.size}
        if cut:
            counted = dask.compute(*[dask.delayed(count_bins)(p, cut) for p in parts])
            totals = {n: np.sum([c[n] for c in counted], axis=0).astype(np.int64) for n in cut}
            merged = with_bins(merged, cut, totals)
    return merged


def _partial_frame(chunk: pd.DataFrame, n: int, m: int) -> pd.DataFrame:
    if not len(chunk):
        return pd.DataFrame({c: pd.Series(dtype={"first": "float64", "total_a": "int64", "total_b": "int64"}.get(c, "object"))
                             for c in exact_ks.PARTIAL_COLUMNS})
    return pd.DataFrame([exact_ks.ks_partial(chunk, n, m)], columns=exact_ks.PARTIAL_COLUMNS)


def _values(ddf: Any, column: str, side: int) -> Any:
    values = ddf[column].astype("float64").dropna()
    return values.to_frame("value").assign(count_a=1 - side, count_b=side)


def ks(reference: Any, current: Any, columns: Optional[Sequence[str]] = None) -> dict[str, st.TestResult]:
    """Exact two-sample KS tests of Dask DataFrame columns, sort-based and distributed
    (grouped by value, sorted into value ranges by Dask, combined on the client; see
    :func:`loopwise.profiles.ks_combine`). D equals ``scipy.stats.ks_2samp``'s.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> a = dd.from_pandas(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), npartitions=2)
    >>> b = dd.from_pandas(pd.DataFrame({"x": [2.5, 3.5]}), npartitions=1)
    >>> ks(a, b)["x"].statistic
    0.6666666666666666
    """
    import dask
    import dask.dataframe as dd

    names = _columns(reference, columns, "reference")
    _columns(current, names, "current")
    out = {}
    for c in names:
        a, b = _values(reference, c, 0), _values(current, c, 1)
        n, m = (int(v) for v in dask.compute(a["value"].count(), b["value"].count()))
        if n == 0 or m == 0:
            raise ValueError(f"column {c!r} has no non-missing values in the {'reference' if n == 0 else 'current'}")
        both = dd.concat([a, b])
        grouped = both.groupby("value").sum(split_out=max(both.npartitions, 1)).reset_index()
        ordered = grouped.sort_values("value")
        meta = _partial_frame(pd.DataFrame(), n, m)
        partials = ordered.map_partitions(_partial_frame, n, m, meta=meta).compute()
        out[c] = exact_ks.ks_combine(partials.to_dict("records"), n, m)
    return out


def compare(reference: Any, current: Any, columns: Optional[Sequence[str]] = None, *, exact: bool = False,
            **options: Any) -> DriftReport:
    """Profile two Dask DataFrames (or take a reference :class:`Profile`) and compare them;
    ``exact=True`` adds the exact sort-based KS (see :func:`loopwise.spark.compare`).

    Examples
    --------
    >>> import dask.dataframe as dd, numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = dd.from_pandas(pd.DataFrame({"x": rng.normal(size=2000)}), npartitions=2)
    >>> cur = dd.from_pandas(pd.DataFrame({"x": rng.normal(2.0, size=2000)}), npartitions=2)
    >>> compare(ref, cur).drifted
    True
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
