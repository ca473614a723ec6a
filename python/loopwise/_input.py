"""Input conversion at the boundary: numpy, pandas, polars and pyarrow tables become one
C-contiguous float array plus feature names, checked once so the core can trust it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np

__all__ = ["ComplexInputError", "Matrix", "as_matrix", "as_vector", "check_real_dtype", "feature_names_of"]


class ComplexInputError(TypeError, ValueError):
    """Complex numbers where real ones are expected.

    A TypeError (the kind of value is wrong) that is also a ValueError, so code written for
    scikit-learn, which raises ValueError("Complex data not supported"), catches it too.
    """


def check_real_dtype(values: np.ndarray, name: str) -> None:
    """Refuse complex numbers and timestamps with a TypeError naming the argument.

    numpy casts complex to float by dropping the imaginary part (with only a warning), which
    would turn ``[1j, 2j]`` into ``[0, 0]`` without a word; every numeric input goes through here.

    Examples
    --------
    >>> check_real_dtype(np.array([1.0, 2.0]), "x")
    >>> try:
    ...     check_real_dtype(np.array([1j]), "x")
    ... except TypeError as error:
    ...     print(str(error)[:50])
    x must hold real numbers, got complex values (dtyp
    """
    kind = values.dtype.kind
    if kind in "mM":
        # numpy would cast timestamps to nanosecond counts: a number no model was trained on.
        raise TypeError(f"{name} must hold real numbers, got {values.dtype} values; convert the time "
                        f"to a feature explicitly (e.g. seconds since an origin)")
    if kind == "c" or (kind == "O" and any(isinstance(v, (complex, np.complexfloating)) for v in values.flat)):
        raise ComplexInputError(
            f"{name} must hold real numbers, got complex values (dtype {values.dtype}); "
            f"pass {name}.real or abs({name}) explicitly (Complex data not supported)"
        )


@dataclass
class Matrix:
    """A validated 2-D float array and the names of its columns (None when unnamed)."""

    values: np.ndarray
    feature_names: Optional[list[str]]


def _module_name(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def feature_names_of(X: Any) -> Optional[list[str]]:
    """Column names of a table-like input, or None for arrays.

    Examples
    --------
    >>> import pandas as pd
    >>> feature_names_of(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    ['a', 'b']
    """
    module = _module_name(X)
    if module in ("pandas", "polars") and hasattr(X, "columns"):
        return [str(c) for c in X.columns]
    if module == "pyarrow" and hasattr(X, "column_names"):
        return [str(c) for c in X.column_names]
    return None


def _pandas_column(column: Any, name: str, categories: Optional[Sequence[Any]]) -> np.ndarray:
    import pandas as pd

    dtype = column.dtype
    if categories is not None:
        # The model knows its categories by value: map values to the model's codes,
        # unknown values become missing (as the source libraries do).
        codes = pd.Categorical(column, categories=list(categories)).codes.astype(np.float64)
        codes[codes < 0] = np.nan
        return codes
    if isinstance(dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy().astype(np.float64)
        codes[codes < 0] = np.nan
        return codes
    if pd.api.types.is_complex_dtype(dtype):
        raise ComplexInputError(f"column {name!r} holds complex numbers; the model needs real values "
                                "(Complex data not supported)")
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    raise ValueError(
        f"column {name!r} has dtype {dtype} which is not numeric; convert it to a pandas "
        "'category' column (or declare it categorical) first"
    )


def _from_pandas(X: Any, categories: Mapping[int, Sequence[Any]]) -> np.ndarray:
    import pandas as pd

    if isinstance(X, pd.Series):
        raise ValueError("X must be 2-D: got a pandas Series; use series.to_frame() or a DataFrame")
    columns = [
        _pandas_column(X.iloc[:, j], str(X.columns[j]), categories.get(j)) for j in range(X.shape[1])
    ]
    if not columns:
        return np.empty((len(X), 0), dtype=np.float64)
    return np.column_stack(columns)


def _from_polars(X: Any, categories: Mapping[int, Sequence[Any]]) -> np.ndarray:
    import polars as pl

    columns = []
    for j, name in enumerate(X.columns):
        series = X.get_column(name)
        if j in categories or series.dtype in (pl.Categorical, pl.Enum) or series.dtype == pl.Utf8:
            columns.append(_pandas_column(series.to_pandas(), name, categories.get(j)))
            continue
        if not series.dtype.is_numeric() and series.dtype != pl.Boolean:
            raise ValueError(f"column {name!r} has dtype {series.dtype} which is not numeric")
        columns.append(series.cast(pl.Float64).fill_null(float("nan")).to_numpy())
    if not columns:
        return np.empty((X.height, 0), dtype=np.float64)
    return np.column_stack(columns)


def _from_pyarrow(X: Any, categories: Mapping[int, Sequence[Any]]) -> np.ndarray:
    import pyarrow as pa

    if isinstance(X, pa.RecordBatch):
        X = pa.Table.from_batches([X])
    columns = []
    for j, name in enumerate(X.column_names):
        column = X.column(j)
        if pa.types.is_dictionary(column.type) or pa.types.is_string(column.type) or j in categories:
            columns.append(_pandas_column(column.to_pandas(), name, categories.get(j)))
            continue
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type)):
            raise ValueError(f"column {name!r} has type {column.type} which is not numeric")
        columns.append(column.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64))
    if not columns:
        return np.empty((X.num_rows, 0), dtype=np.float64)
    return np.column_stack(columns)


def _reorder(X: Any, given: list[str], expected: Sequence[str], name: str) -> Any:
    """Put table columns in the order the model expects, or explain the mismatch."""
    if list(given) == list(expected):
        return X
    missing = [c for c in expected if c not in set(given)]
    extra = [c for c in given if c not in set(expected)]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"unexpected columns {extra}")
        raise ValueError(f"{name} does not match the model's feature names: " + "; ".join(parts))
    module = _module_name(X)
    if module == "pandas":
        return X.loc[:, list(expected)]
    if module == "polars":
        return X.select(list(expected))
    return X.select(list(expected))  # pyarrow


def as_matrix(
    X: Any,
    *,
    name: str = "X",
    n_features: Optional[int] = None,
    feature_names: Optional[Sequence[str]] = None,
    categories: Optional[Mapping[int, Sequence[Any]]] = None,
    allow_nan: bool = True,
    allow_inf: bool = True,
    keep_float32: bool = True,
    min_rows: int = 1,
) -> Matrix:
    """Validate and convert a 2-D input to a C-contiguous float64 (or float32) array.

    Parameters
    ----------
    X : array-like, pandas/polars DataFrame or pyarrow Table
        The input rows.
    name : str
        Name of the argument, used in error messages.
    n_features : int, optional
        Required number of columns.
    feature_names : sequence of str, optional
        Names the model was trained with. Named tables are matched by name (and
        reordered when only the order differs); arrays are matched by position.
    categories : mapping of column index to category values, optional
        Columns whose values are mapped to the model's category codes by value.
    allow_nan, allow_inf : bool
        Whether missing or infinite values are acceptable.
    keep_float32 : bool
        Keep a float32 array as float32 instead of widening it.
    min_rows : int
        Fewest rows accepted.

    Returns
    -------
    Matrix
        ``values`` (C-contiguous) and ``feature_names``.

    Examples
    --------
    >>> import numpy as np
    >>> as_matrix(np.ones((2, 3))).values.shape
    (2, 3)
    """
    categories = dict(categories or {})
    names = feature_names_of(X)
    if names is not None and feature_names is not None:
        X = _reorder(X, names, feature_names, name)
        names = list(feature_names)
    module = _module_name(X)
    if module == "pandas":
        values = _from_pandas(X, categories)
    elif module == "polars" and hasattr(X, "columns"):
        values = _from_polars(X, categories)
    elif module == "pyarrow" and hasattr(X, "column_names"):
        values = _from_pyarrow(X, categories)
    else:
        try:
            values = np.asarray(X)
        except Exception as error:  # ragged lists and the like
            raise ValueError(f"{name} could not be read as a 2-D array: {error}") from error
        check_real_dtype(values, name)
        # Text is refused rather than parsed ("1.5" as 1.5), as scikit-learn's check_array does:
        # a column of strings reaching a numeric model is a mistake upstream, not data.
        if values.dtype.kind in "USV" or (values.dtype == object and any(
                isinstance(v, (str, bytes)) for v in values.flat)):
            raise ValueError(f"{name} holds text (dtype {values.dtype}); pass numbers, or a DataFrame whose "
                             f"categorical columns the model knows")
        if values.dtype == object:
            try:
                values = values.astype(np.float64)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{name} contains values that are not numbers: {error}") from error
    if values.ndim != 2:
        hint = " (for one row use x.reshape(1, -1))" if values.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D, got an array with {values.ndim} dimension(s){hint}")
    if values.dtype == np.float32 and keep_float32:
        values = np.ascontiguousarray(values)
    else:
        values = np.ascontiguousarray(values, dtype=np.float64)
    if values.shape[0] < min_rows:
        raise ValueError(f"{name} has {values.shape[0]} rows; at least {min_rows} required")
    if n_features is not None and values.shape[1] != n_features:
        raise ValueError(f"{name} has {values.shape[1]} columns but {n_features} features are expected")
    if not allow_nan and np.isnan(values).any():
        row = int(np.argwhere(np.isnan(values))[0][0])
        raise ValueError(f"{name} contains NaN (first in row {row}) and missing values are not allowed here")
    if not allow_inf and np.isinf(values).any():
        row = int(np.argwhere(np.isinf(values))[0][0])
        raise ValueError(f"{name} contains infinite values (first in row {row})")
    return Matrix(values=values, feature_names=names)


def as_vector(y: Any, *, name: str = "y", length: Optional[int] = None, allow_nan: bool = False) -> np.ndarray:
    """Validate a 1-D numeric input and return it as float64.

    Examples
    --------
    >>> as_vector([1, 2, 3]).dtype
    dtype('float64')
    """
    module = _module_name(y)
    if module == "polars" and hasattr(y, "to_numpy"):
        y = y.to_numpy()
    elif module == "pyarrow" and hasattr(y, "to_numpy"):
        y = y.to_numpy(zero_copy_only=False)
    try:
        raw = np.asarray(y)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must contain numbers: {error}") from error
    check_real_dtype(raw, name)
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must contain numbers: {error}") from error
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got {values.ndim} dimension(s)")
    if length is not None and values.shape[0] != length:
        raise ValueError(f"{name} has {values.shape[0]} entries but {length} are expected")
    if not allow_nan and np.isnan(values).any():
        raise ValueError(f"{name} contains NaN")
    return values
