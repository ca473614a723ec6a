"""``Profile``: a small, mergeable, versioned summary of a table, built per partition
with no engine (pandas in, bytes out) and merged on the driver."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..drift import statistics as st
from ..drift._columns import NUMBER_KINDS, as_float_frame, column_kind
from ..drift._table import category_strings, to_frame
from . import _format
from ._columns import CategoricalColumn, NumericColumn, bin_counts

__all__ = ["Profile", "build", "merge", "count_bins", "with_bins", "DEFAULT_K", "DEFAULT_MAX_CATEGORIES", "DEFAULT_LG_MAX_K"]

#: KLL sketch size: normalised rank error about 1.3% (99% confidence), a few KB per column.
DEFAULT_K = 200
#: Exact category counts are kept up to this many distinct values per column.
DEFAULT_MAX_CATEGORIES = 1000
#: log2 of the frequent-item sketch's map size (2**10: items above ~0.35% of the rows are kept).
DEFAULT_LG_MAX_K = 10

Edges = Union[None, str, Mapping[str, Sequence[float]]]


class Profile:
    """Per-column summaries of a table (or of one partition of it).

    Numeric (and datetime / timedelta, in seconds) columns keep counts, missing, min / max,
    mean / variance (mergeable), exact counts in the bins of ``edges`` and a KLL quantile
    sketch; categorical columns keep exact category counts (up to a cap) and a frequent-item
    sketch. Profiles of disjoint partitions :func:`merge` into the profile of their union
    (counts exactly; sketches within their error bounds) and travel as
    :meth:`to_bytes` (a few KB per column).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"x": [1.0, 2.0, None, 4.0], "c": ["a", "b", "a", None]})
    >>> profile = build(frame)
    >>> profile.column("x").moments.mean, profile.column("c").counts.tolist()
    (2.3333333333333335, [2, 1])
    >>> Profile.from_bytes(profile.to_bytes()).n_rows
    4
    """

    def __init__(self, columns: list, *, bins: int = st.PSI_BINS) -> None:
        self._columns = list(columns)
        self.bins = int(bins)

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self._columns]

    @property
    def n_rows(self) -> int:
        return self._columns[0].n_rows if self._columns else 0

    def column(self, name: str) -> Union[NumericColumn, CategoricalColumn]:
        """The summary of column ``name``."""
        for c in self._columns:
            if c.name == name:
                return c
        raise KeyError(f"the profile has no column {name!r}; it has {self.columns}")

    def summaries(self) -> list:
        return list(self._columns)

    def edges(self) -> dict[str, np.ndarray]:
        """The bin edges of every numeric column (empty where none were given)."""
        return {c.name: c.edges for c in self._columns if isinstance(c, NumericColumn)}

    def sketch_edges(self, bins: Optional[int] = None) -> dict[str, np.ndarray]:
        """Interior bin edges at the quantiles 1/bins, ..., (bins-1)/bins estimated by each
        numeric column's KLL sketch (duplicates merged): the edges a distributed reference
        takes when exact quantiles would need a sort.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> p = build(pd.DataFrame({"x": np.arange(100.0)}), edges=None)
        >>> p.sketch_edges(4)["x"].tolist()
        [25.0, 50.0, 75.0]
        """
        bins = self.bins if bins is None else bins
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
            raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
        out = {}
        for c in self._columns:
            if isinstance(c, NumericColumn):
                if c.kll.is_empty():
                    out[c.name] = np.empty(0)
                else:
                    out[c.name] = np.unique(np.asarray(c.kll.get_quantiles(np.linspace(0, 1, bins + 1)[1:-1])))
        return out

    def to_bytes(self) -> bytes:
        """The profile as versioned bytes (no pickle); :meth:`from_bytes` reads them."""
        return _format.encode(self._columns, self.bins)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Profile":
        """Read bytes written by :meth:`to_bytes`.

        Examples
        --------
        >>> Profile.from_bytes(b"nope")
        Traceback (most recent call last):
        ...
        ValueError: these bytes are not a loopwise profile (no LWPF header)
        """
        columns, bins = _format.decode(data)
        return cls(columns, bins=bins)

    def __repr__(self) -> str:
        kinds = [c.kind for c in self._columns]
        return (f"Profile({self.n_rows} rows, {len(kinds)} columns: {kinds.count('categorical')} categorical, "
                f"{len(kinds) - kinds.count('categorical')} numeric)")


def _column_edges(name: str, edges: Edges, values: np.ndarray, bins: int) -> Optional[np.ndarray]:
    if edges is None:
        return None
    if isinstance(edges, str):
        present = st.sorted_finite(values)
        return st.quantile_edges(present, bins) if present.size else np.empty(0)
    if name not in edges:
        return None
    array = np.asarray(edges[name], dtype=np.float64)
    if array.ndim != 1 or (array.size > 1 and not (np.diff(array) > 0).all()):
        raise ValueError(f"edges[{name!r}] must be a strictly increasing 1-D sequence")
    return array


def build(data: Any, columns: Optional[Sequence[str]] = None, *, reference: Optional[Profile] = None,
          edges: Edges = "exact", bins: int = st.PSI_BINS, categorical: Optional[Sequence[str]] = None,
          kinds: Optional[Mapping[str, str]] = None, k: int = DEFAULT_K,
          max_categories: int = DEFAULT_MAX_CATEGORIES, lg_max_k: int = DEFAULT_LG_MAX_K) -> Profile:
    """Profile a table or one partition of it (pandas, numpy, polars or pyarrow).

    Parameters
    ----------
    data : table
        The rows to summarise.
    columns : list of str, optional
        Only these columns.
    reference : Profile, optional
        Take column kinds, bin edges and sketch settings from this (reference) profile, so
        the counts of this table fall in the reference's bins.
    edges : "exact", None or dict
        Without ``reference``: ``"exact"`` bins numeric columns at this table's own
        quantiles (as :func:`loopwise.drift.psi`; right for a whole reference on one
        machine, not for one partition of it), a dict gives the edges per column, None
        keeps no bins (a first pass whose :meth:`Profile.sketch_edges` give edges).
    bins : int
        Number of quantile bins for ``edges="exact"`` (and the profile's default).
    categorical : list of str, optional
        Numeric columns to treat as categories.
    kinds : dict, optional
        Column -> ``"numeric" | "datetime" | "timedelta" | "categorical"``, overriding the
        dtypes (engines pass the table's schema, so every partition agrees).
    k, max_categories, lg_max_k : int
        KLL sketch size; the cap on exact category counts; log2 of the frequent-item
        sketch's map size.

    Returns
    -------
    Profile

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> ref = build(pd.DataFrame({"x": np.arange(10.0)}), bins=2)
    >>> cur = build(pd.DataFrame({"x": np.arange(10.0) + 3}), reference=ref)
    >>> ref.column("x").counts.tolist(), cur.column("x").counts.tolist()
    ([5, 5], [2, 8])
    """
    frame = to_frame(data, "data", columns)
    if reference is not None:
        if not isinstance(reference, Profile):
            raise TypeError(f"reference must be a Profile, got {type(reference).__name__}")
        missing = [c for c in reference.columns if c not in frame.columns]
        if missing:
            raise ValueError(f"data lacks the reference's columns {missing}")
        frame = frame[reference.columns]
        first = reference.summaries()
        kinds = {c.name: c.kind for c in first}
        edges = reference.edges()
        bins = reference.bins
        k = next((c.k for c in first if isinstance(c, NumericColumn)), k)
        max_categories = next((c.max_categories for c in first if isinstance(c, CategoricalColumn)), max_categories)
        lg_max_k = next((c.lg_max_k for c in first if isinstance(c, CategoricalColumn)), lg_max_k)
    for name, value in (("k", k), ("max_categories", max_categories), ("lg_max_k", lg_max_k)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(edges, str) and edges != "exact":
        raise ValueError(f"edges must be 'exact', None or a dict column -> edges, got {edges!r}")
    declared = set(categorical or [])
    kinds = dict(kinds or {})
    out = []
    for name in frame.columns:
        series = frame[name]
        kind = kinds.get(name) or column_kind(series.dtype, name in declared)
        if kind in NUMBER_KINDS:
            values = as_float_frame(frame, [name])[name].to_numpy(dtype=np.float64)
            if np.isinf(values).any():
                raise ValueError(f"column {name!r} has infinite values; replace them (e.g. with NaN) before profiling")
            out.append(NumericColumn.of(str(name), kind, values, _column_edges(name, edges, values, bins), k))
        elif kind == "categorical":
            out.append(CategoricalColumn.of(str(name), category_strings(series), len(series), max_categories,
                                            lg_max_k))
        else:
            raise ValueError(f"kinds[{name!r}] must be numeric, datetime, timedelta or categorical, got {kind!r}")
    return Profile(out, bins=bins)


def merge(profiles: Sequence[Union[Profile, bytes]]) -> Profile:
    """Merge the profiles (or their bytes) of disjoint partitions, in partition order.

    Examples
    --------
    >>> import pandas as pd
    >>> edges = {"x": [1.5]}
    >>> parts = [build(pd.DataFrame({"x": [1.0, 2.0]}), edges=edges), build(pd.DataFrame({"x": [3.0]}), edges=edges)]
    >>> merged = merge(parts)
    >>> merged.n_rows, merged.column("x").counts.tolist(), merged.column("x").moments.maximum
    (3, [1, 2], 3.0)
    """
    items = [Profile.from_bytes(p) if isinstance(p, (bytes, bytearray, memoryview)) else p for p in profiles]
    if not items:
        raise ValueError("profiles is empty: nothing to merge")
    for p in items:
        if not isinstance(p, Profile):
            raise TypeError(f"profiles must hold Profile objects or their bytes, got {type(p).__name__}")
    first = items[0]
    for p in items[1:]:
        if p.columns != first.columns:
            raise ValueError(f"profiles have different columns: {first.columns} vs {p.columns}")
    if len(items) == 1:
        return first
    merged = [c.merge([p.column(c.name) for p in items[1:]]) for c in first.summaries()]
    return Profile(merged, bins=first.bins)



def count_bins(data: Any, edges: Mapping[str, Sequence[float]], kinds: Optional[Mapping[str, str]] = None) -> dict:
    """Exact counts of each column's values in the right-closed bins of ``edges`` (the
    second pass of a distributed reference, once its edges are known).

    Examples
    --------
    >>> import pandas as pd
    >>> count_bins(pd.DataFrame({"x": [1.0, 2.0, 3.0, None]}), {"x": [2.0]})["x"].tolist()
    [2, 1]
    """
    frame = to_frame(data, "data", list(edges))
    out = {}
    for name, cut in edges.items():
        values = as_float_frame(frame, [name])[name].to_numpy(dtype=np.float64)
        cut = np.asarray(cut, dtype=np.float64)
        out[name] = bin_counts(values[~np.isnan(values)], cut) if cut.size else np.empty(0, dtype=np.int64)
    return out


def with_bins(profile: Profile, edges: Mapping[str, np.ndarray], counts: Mapping[str, np.ndarray]) -> Profile:
    """A copy of ``profile`` whose numeric columns carry ``edges`` and their exact ``counts``."""
    columns = []
    for c in profile.summaries():
        if isinstance(c, NumericColumn) and c.name in edges:
            cut = np.asarray(edges[c.name], dtype=np.float64)
            total = np.asarray(counts[c.name], dtype=np.int64)
            if total.size != cut.size + 1 or int(total.sum()) != c.n_values:
                raise ValueError(f"column {c.name!r}: {total.size} counts summing to {int(total.sum())} do not fit "
                                 f"{cut.size} edges and {c.n_values} values")
            c = NumericColumn(c.name, c.kind, c.n_rows, c.n_missing, c.moments, c.kll, c.k, cut, total)
        columns.append(c)
    return Profile(columns, bins=profile.bins)


def settings_of(reference: Profile) -> dict:
    """Keyword arguments of :func:`build` that reproduce ``reference``'s kinds, bin edges and
    sketch settings, as plain values an engine can ship to its workers (sketches do not pickle).

    Examples
    --------
    >>> import pandas as pd
    >>> settings_of(build(pd.DataFrame({"x": [1.0, 2.0]}), bins=2))["edges"]
    {'x': [1.5]}
    """
    summaries = reference.summaries()
    numeric = [c for c in summaries if isinstance(c, NumericColumn)]
    categorical = [c for c in summaries if isinstance(c, CategoricalColumn)]
    return {"kinds": {c.name: c.kind for c in summaries},
            "edges": {c.name: c.edges.tolist() for c in numeric if c.edges.size},
            "bins": reference.bins, "k": numeric[0].k if numeric else DEFAULT_K,
            "max_categories": categorical[0].max_categories if categorical else DEFAULT_MAX_CATEGORIES,
            "lg_max_k": categorical[0].lg_max_k if categorical else DEFAULT_LG_MAX_K}


def empty_frame(kinds: Mapping[str, str]) -> pd.DataFrame:
    """A frame with no rows and the given column kinds (the profile of an empty table)."""
    return pd.DataFrame({n: pd.Series(dtype="object" if kind == "categorical" else "float64")
                         for n, kind in kinds.items()})
