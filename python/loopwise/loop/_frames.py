"""The user's data as the user gave it: one schema, restored on every read.

The store and the reference file keep features in their own encodings (the store codes
categories and times; Parquet keeps dtypes but a NumPy array has no names). A model must
still receive exactly the kind of input it was trained on: a frame with the same column
names and dtypes, or a plain array when it was fitted on one. ``InputSchema`` records that
once, from the reference or the first served batch, and rebuilds it from stored rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import pandas as pd

__all__ = ["InputSchema"]


def _as_frame(X: Any, name: str) -> tuple[pd.DataFrame, str]:
    """A DataFrame view of ``X`` and whether it came as a ``frame`` or an ``array``."""
    if isinstance(X, pd.DataFrame):
        return X, "frame"
    if hasattr(X, "to_pandas") and not isinstance(X, np.ndarray):  # polars, pyarrow
        return X.to_pandas(), "frame"
    if isinstance(X, pd.Series):
        raise ValueError(f"{name} must be 2-D (rows x features); got a Series: use {name}.to_frame().T for one row")
    if X is None or isinstance(X, (str, bytes)) or np.isscalar(X):
        raise TypeError(f"{name} must be a DataFrame or a 2-D array, got {type(X).__name__}")
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows x features), got shape {array.shape}")
    return pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])]), "array"


@dataclass
class InputSchema:
    """Column names, dtypes and input kind of the data the loop's models take.

    Examples
    --------
    >>> frame = pd.DataFrame({"city": ["a", "b"], "n": [1, 2]})
    >>> schema = InputSchema.from_data(frame, "reference")
    >>> restored = schema.restore(pd.DataFrame({"city": ["b"], "n": [3.0]}))
    >>> restored["city"].tolist(), str(restored["n"].dtype)
    (['b'], 'int64')
    """

    names: list
    dtypes: dict
    kind: str  # "frame" or "array"
    array_dtype: Optional[str] = None

    @classmethod
    def from_data(cls, X: Any, name: str = "X") -> "InputSchema":
        """The schema of ``X`` as the user passes it."""
        frame, kind = _as_frame(X, name)
        array_dtype = str(np.asarray(X).dtype) if kind == "array" else None
        return cls([str(c) for c in frame.columns], {str(c): frame[c].dtype for c in frame.columns}, kind, array_dtype)

    def frame(self, X: Any, name: str = "X") -> pd.DataFrame:
        """``X`` as a frame with the schema's column names (for logging and monitoring)."""
        frame, kind = _as_frame(X, name)
        if kind == "frame":
            missing = [c for c in self.names if c not in frame.columns]
            if missing:
                raise ValueError(f"{name} lacks the columns {missing} the loop's model takes")
            return frame
        if frame.shape[1] != len(self.names):
            raise ValueError(f"{name} has {frame.shape[1]} columns; the loop's model takes {len(self.names)}")
        frame.columns = self.names
        return frame

    def restore(self, frame: pd.DataFrame) -> Any:
        """Stored rows -> what the user's model takes: the user's dtypes, or the user's array."""
        frame = frame[self.names]
        if self.kind == "array":
            values = frame.to_numpy()
            return values.astype(self.array_dtype) if self.array_dtype and values.dtype != object else values
        columns = {}
        for column in self.names:
            columns[column] = _cast(frame[column], self.dtypes[column])
        return pd.DataFrame(columns, index=frame.index)

    def to_dict(self) -> dict:
        """JSON-ready form (dtypes as text; categories kept)."""
        dtypes = {}
        for column, dtype in self.dtypes.items():
            if isinstance(dtype, pd.CategoricalDtype):
                dtypes[column] = {"category": [_plain(v) for v in dtype.categories], "ordered": bool(dtype.ordered)}
            else:
                dtypes[column] = str(dtype)
        return {"names": list(self.names), "dtypes": dtypes, "kind": self.kind, "array_dtype": self.array_dtype}

    @classmethod
    def from_dict(cls, data: dict) -> "InputSchema":
        """Inverse of :meth:`to_dict`."""
        dtypes = {}
        for column, spec in data["dtypes"].items():
            if isinstance(spec, dict):
                dtypes[column] = pd.CategoricalDtype(spec["category"], ordered=spec["ordered"])
            else:
                dtypes[column] = pd.api.types.pandas_dtype(spec)
        return cls(list(data["names"]), dtypes, data["kind"], data.get("array_dtype"))


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _cast(values: pd.Series, dtype: Any) -> pd.Series:
    """One stored column back to the user's dtype (as close as missing values allow)."""
    if isinstance(dtype, pd.CategoricalDtype):
        # Unordered categorical dtypes compare equal whatever their category order, but the
        # order is the codes a model (HistGradientBoosting's native categories) sees.
        if isinstance(values.dtype, pd.CategoricalDtype) and values.dtype.ordered == dtype.ordered \
                and values.dtype.categories.equals(dtype.categories):
            return values
        seen = pd.Index(values.dropna().astype(object).unique())
        categories = dtype.categories.append(seen.difference(dtype.categories)) if len(seen) else dtype.categories
        return pd.Series(pd.Categorical(values.astype(object), categories=categories, ordered=dtype.ordered),
                         index=values.index)
    if values.dtype == dtype:
        return values
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = pd.to_datetime(values, utc=True)
        zone = getattr(dtype, "tz", None)
        stamps = stamps.dt.tz_convert(zone) if zone is not None else stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        # The store's time unit need not be the user's (pandas 3 defaults to microseconds).
        return stamps.astype(dtype) if stamps.dtype != dtype else stamps
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        if values.isna().any():
            return values.astype("Int64" if pd.api.types.is_integer_dtype(dtype) else "boolean") \
                if pd.api.types.is_extension_array_dtype(dtype) else values
        return values.astype(dtype)
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values
