"""Tables in, pandas out: the drift API takes numpy, pandas, polars and pyarrow alike."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

__all__ = ["to_frame", "is_numeric_dtype", "category_strings"]


def to_frame(data: Any, name: str, columns: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """Convert a 2-D table to a pandas DataFrame with string column names.

    numpy arrays get the names ``x0, x1, ...``. ``columns`` selects (and orders) columns.

    Examples
    --------
    >>> to_frame(np.zeros((2, 2)), "reference").columns.tolist()
    ['x0', 'x1']
    """
    module = type(data).__module__.split(".")[0]
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, pd.Series):
        frame = data.to_frame()
    elif module == "polars":
        frame = data.to_pandas()
    elif module == "pyarrow":
        frame = data.to_pandas()
    else:
        array = np.asarray(data)
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2:
            raise ValueError(f"{name} must be a 2-D table, got an array of shape {array.shape}")
        frame = pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])])
    frame = frame.rename(columns=str)
    if frame.columns.duplicated().any():
        raise ValueError(f"{name} has duplicate column names: {sorted(set(frame.columns[frame.columns.duplicated()]))}")
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks the requested columns {missing}")
        frame = frame.loc[:, list(columns)]
    if len(frame) == 0:
        raise ValueError(f"{name} is empty (0 rows)")
    if frame.shape[1] == 0:
        raise ValueError(f"{name} has no columns")
    return frame


def is_numeric_dtype(dtype: Any) -> bool:
    """True for integer and float dtypes (bool counts as categorical)."""
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def category_strings(series: pd.Series) -> pd.Series:
    """Non-missing values of a column as strings, so categories compare across files
    (a CSV gives ``1``, a parquet file ``1.0``: both become ``"1"``)."""
    values = series.dropna()
    if is_numeric_dtype(values.dtype):
        return values.astype(np.float64).map(_format_number)
    return values.astype(str)
