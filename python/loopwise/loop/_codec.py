"""The feedback store's type codec: what callers pass in -> the scalars and float64 rows a
backend stores, and stored scalars -> arrays of the kind that was logged.

Shared by every storage backend (SQLite, PostgreSQL), so both accept and return exactly the
same things. Feature encoding and the kinds are described in :mod:`loopwise.loop.store`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

#: Label sources, most trusted first; the first one present for an id is its effective label.
SOURCES = ("human", "ground_truth", "weak")
__all__ = ["SOURCES", "RANK", "NUMERIC_KINDS", "CODED_KINDS", "NAT", "timestamps_ns", "bound_ns", "as_ids",
           "as_values", "compatible", "restore", "numeric_matrix", "feature_table", "proba_matrix",
           "split_rows", "same_value"]
RANK = {source: rank for rank, source in enumerate(SOURCES)}

_RESERVED = frozenset(
    {"id", "prediction", "model_version", "timestamp", "acted_on", "label", "label_timestamp", "source",
     "confidence", "weight", "review_score"}
)
NUMERIC_KINDS = frozenset({"float", "int", "bool"})
CODED_KINDS = frozenset({"text", "category", "datetime"})
NAT = np.iinfo(np.int64).min  # pandas reads this int64 as NaT


def _now_ns() -> int:
    return int(pd.Timestamp.now(tz="UTC").value)


def _to_utc(values: Any, name: str) -> pd.DatetimeIndex:
    try:
        stamps = pd.to_datetime(values, utc=True)  # naive times are taken as UTC
    except (ValueError, TypeError, OverflowError) as error:
        raise ValueError(f"{name} could not be read as times: {error}") from error
    return stamps


def timestamps_ns(value: Any, n: int, name: str) -> np.ndarray:
    """``None`` (now), one time for every row, or one time per row -> int64 UTC nanoseconds."""
    if value is None:
        return np.full(n, _now_ns(), dtype=np.int64)
    if isinstance(value, (str, _dt.datetime, _dt.date, pd.Timestamp, np.datetime64)):
        stamp = _to_utc([value], name)
        if stamp.isna().any():
            raise ValueError(f"{name} is missing (NaT)")
        return np.full(n, int(stamp[0].value), dtype=np.int64)
    if isinstance(value, (int, float, bool, np.number)):
        raise TypeError(f"{name} must be a time (str, datetime, pandas Timestamp) or a sequence of them, "
                        f"got {type(value).__name__}")
    try:
        length = len(value)
    except TypeError:
        raise TypeError(f"{name} must be a time or a sequence of times, got {type(value).__name__}") from None
    if length != n:
        raise ValueError(f"{name} has {length} entries but there are {n} rows")
    stamps = _to_utc(np.asarray(value) if not isinstance(value, (pd.Series, pd.Index)) else value, name)
    if pd.isna(stamps).any():
        raise ValueError(f"{name} has missing times (NaT)")
    return np.asarray(pd.DatetimeIndex(stamps).as_unit("ns").asi8, dtype=np.int64)


def bound_ns(value: Any, name: str) -> Optional[int]:
    if value is None:
        return None
    if not isinstance(value, (str, _dt.datetime, _dt.date, pd.Timestamp, np.datetime64)):
        raise TypeError(f"{name} must be a time (str, datetime or pandas Timestamp), got {type(value).__name__}")
    stamp = _to_utc([value], name)
    if stamp.isna().any():
        raise ValueError(f"{name} is missing (NaT)")
    return int(stamp[0].value)


def as_ids(ids: Any, name: str = "ids") -> list[str]:
    if isinstance(ids, (str, bytes)) or not isinstance(ids, (Sequence, np.ndarray, pd.Series, pd.Index, range)):
        raise TypeError(f"{name} must be a sequence of ids (list, array, Series), got {type(ids).__name__}")
    values = [str(i) for i in (ids.tolist() if hasattr(ids, "tolist") else ids)]
    if len(set(values)) != len(values):
        seen: set = set()
        repeated = sorted({v for v in values if v in seen or seen.add(v)})
        raise ValueError(f"{name} has duplicate entries: {repeated[:10]}")
    return values


def _kind_of_values(values: np.ndarray, name: str) -> str:
    """The storage kind of predictions or labels: int, float, bool or str."""
    if values.dtype == bool:
        return "bool"
    if np.issubdtype(values.dtype, np.integer):
        return "int"
    if np.issubdtype(values.dtype, np.floating):
        return "float"
    if values.dtype.kind in "US":
        return "str"
    if values.dtype == object:
        kinds = {type(v) for v in values.tolist()}
        if kinds and all(issubclass(k, str) for k in kinds):
            return "str"
        if kinds and all(issubclass(k, (bool, np.bool_)) for k in kinds):
            return "bool"
        if kinds and all(issubclass(k, (int, np.integer)) and not issubclass(k, bool) for k in kinds):
            return "int"
        if kinds and all(issubclass(k, (int, float, np.integer, np.floating)) for k in kinds):
            return "float"
        raise TypeError(f"{name} holds values of mixed or unsupported types {sorted(k.__name__ for k in kinds)}")
    raise TypeError(f"{name} has unsupported dtype {values.dtype}")


def as_values(values: Any, n: int, name: str) -> tuple[list, str]:
    """Predictions or labels -> (python list of scalars, kind)."""
    if isinstance(values, (str, bytes)) or np.isscalar(values):
        raise TypeError(f"{name} must be a sequence with one value per row, got a scalar {values!r}")
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per row), got shape {array.shape}")
    if len(array) != n:
        raise ValueError(f"{name} has {len(array)} entries but there are {n} ids")
    kind = _kind_of_values(array, name) if n else "float"
    if kind == "float" and n and np.isnan(array.astype(np.float64)).any():
        raise ValueError(f"{name} has missing values (NaN) at positions {np.flatnonzero(np.isnan(array.astype(float)))[:10].tolist()}")
    if kind == "str":
        return [str(v) for v in array.tolist()], kind
    if kind == "bool":
        return [int(v) for v in array.tolist()], kind
    if kind == "int":
        return [int(v) for v in array.tolist()], kind
    return [float(v) for v in array.tolist()], kind


def compatible(stored: str, new: str) -> bool:
    numeric = {"int", "float", "bool"}
    return stored == new or (stored in numeric and new in numeric)


def restore(values: list, kind: Optional[str]) -> np.ndarray:
    """Stored scalars (possibly None) -> an array of the recorded kind."""
    if not values:
        return np.array([], dtype={"int": np.int64, "bool": bool, "str": object}.get(kind or "", np.float64))
    if kind in ("int", "float", "bool"):
        # Fast path: no missing values and one numeric type (fromiter raises on None or text).
        try:
            array = np.fromiter(values, dtype=np.int64 if kind != "float" else np.float64, count=len(values))
        except (TypeError, ValueError, OverflowError):
            pass
        else:
            if kind == "bool":
                return array.astype(bool)
            # The recorded kind is widened (bool < int < float) whenever a wider batch is
            # logged, so an "int" column holds no floats that fromiter could have truncated.
            return array
    missing = any(v is None for v in values)
    if kind == "str" or missing and kind not in ("int", "float", "bool"):
        return np.array(values, dtype=object)
    if missing:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if kind == "bool":
        return np.array(values, dtype=np.int64).astype(bool)
    if kind == "int" and all(isinstance(v, int) for v in values):
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=np.float64)


def numeric_matrix(X: Any) -> Optional[tuple[list[str], list[str], np.ndarray]]:
    """The fast path of logging: a numeric 2-D array, or a frame of plain numeric columns,
    -> (names, kinds, float64 matrix) without a pandas object per column; None otherwise."""
    if isinstance(X, np.ndarray):
        if X.ndim != 2 or X.shape[1] == 0 or X.dtype.kind not in "fiub":
            return None
        kind = {"f": "float", "i": "int", "u": "int", "b": "bool"}[X.dtype.kind]
        return [f"x{j}" for j in range(X.shape[1])], [kind] * X.shape[1], X.astype(np.float64, copy=False)
    if isinstance(X, pd.DataFrame) and X.shape[1] and X.columns.is_unique:
        dtypes = X.dtypes.tolist()
        if not all(isinstance(d, np.dtype) and d.kind in "fiub" for d in dtypes):
            return None  # extension dtypes (nullable ints, categories) take the general path
        names = [str(c) for c in X.columns]
        if len(set(names)) != len(names) or any(n in _RESERVED or n.startswith("proba_") for n in names):
            return None  # the general path names the problem
        kinds = [{"f": "float", "i": "int", "u": "int", "b": "bool"}[d.kind] for d in dtypes]
        return names, kinds, X.to_numpy(dtype=np.float64)
    return None


def feature_table(X: Any) -> tuple[list[str], list[str], list[np.ndarray]]:
    """X -> (names, kinds, one array per column); names default to x0, x1, ..."""
    if hasattr(X, "to_pandas") and not isinstance(X, (pd.DataFrame, np.ndarray)):
        X = X.to_pandas()  # polars DataFrame and pyarrow Table
    if isinstance(X, pd.Series):
        raise ValueError("X must be 2-D (rows x features); got a Series: use X.to_frame()")
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        columns = [X.iloc[:, j] for j in range(X.shape[1])]
    else:
        if isinstance(X, (str, bytes)) or np.isscalar(X) or X is None:
            raise TypeError(f"X must be a DataFrame or a 2-D array, got {type(X).__name__}")
        array = np.asarray(X)
        if array.ndim != 2:
            raise ValueError(f"X must be 2-D (rows x features), got shape {array.shape}")
        names = [f"x{j}" for j in range(array.shape[1])]
        columns = [pd.Series(array[:, j]) for j in range(array.shape[1])]
    if not names:
        raise ValueError("X has no columns")
    if len(set(names)) != len(names):
        raise ValueError(f"X has duplicate column names: {sorted({n for n in names if names.count(n) > 1})}")
    clash = [n for n in names if n in _RESERVED or n.startswith("proba_")]
    if clash:
        raise ValueError(f"X has columns named like the store's own columns {clash}; rename them")
    kinds = []
    arrays = []
    for name, column in zip(names, columns):
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            kinds.append("category")
            arrays.append(column.astype(object).to_numpy())
        elif pd.api.types.is_bool_dtype(dtype):
            kinds.append("bool")
            arrays.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
        elif pd.api.types.is_integer_dtype(dtype):
            kinds.append("int")
            arrays.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
        elif pd.api.types.is_float_dtype(dtype):
            kinds.append("float")
            arrays.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kinds.append("datetime")
            stamps = pd.to_datetime(column, utc=True)
            arrays.append(np.array([None if pd.isna(s) else s.isoformat() for s in stamps], dtype=object))
        elif pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
            raise TypeError(f"column {name!r} of X has unsupported dtype {dtype}")
        else:
            kinds.append("text")
            arrays.append(column.to_numpy(dtype=object))
    return names, kinds, arrays


def proba_matrix(proba: Any, n: int) -> Optional[np.ndarray]:
    if proba is None:
        return None
    try:
        matrix = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"proba must be a numeric (n_rows, n_classes) array: {error}") from error
    if matrix.ndim != 2:
        raise ValueError(f"proba must be 2-D (n_rows, n_classes), got shape {matrix.shape}")
    if matrix.shape[0] != n:
        raise ValueError(f"proba has {matrix.shape[0]} rows but there are {n} ids")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("proba has missing or infinite values")
    return np.ascontiguousarray(matrix)


def split_rows(matrix: np.ndarray) -> list[bytes]:
    """One bytes object per row from a single ``tobytes`` call (the hot path of logging)."""
    width = matrix.shape[1] * 8
    raw = np.ascontiguousarray(matrix, dtype=np.float64).tobytes()
    return [raw[i : i + width] for i in range(0, len(raw), width)] if width else [b""] * matrix.shape[0]


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and a == b
    )
