"""Exact, internal number codes for the columns of a user's DataFrame, and the way back.

The coalition and LIME cores work on float matrices. A user's frame may hold strings,
categories, booleans, datetimes and missing values; the model must receive exactly such a
frame. ``FrameCodec`` gives every column a float code that loopwise can copy between rows
(a coalition takes a whole value from the explained row or from a background row) and
turns codes back into a frame with the user's column names and dtypes. The user never
converts anything; the codes never reach the user's model.

Column kinds:

* ``"number"``: numeric and boolean columns (numpy or nullable); the code is the value
  itself (missing as NaN).
* ``"category"``: pandas categoricals; the code is the position in the categories
  (missing as NaN), extended by value when explained rows hold unseen categories.
* ``"values"``: everything else (strings, objects, datetimes, timedeltas, ...); the code is
  the position in a table of the distinct values seen so far (missing as NaN).
* ``"time"`` (only with ``time_as_number=True``, used by LIME): datetimes as float
  nanoseconds since the epoch, so they can be binned and perturbed like numbers.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

__all__ = ["FrameCodec", "is_frame", "one_row_frame"]


def is_frame(X: Any) -> bool:
    """Whether ``X`` is a pandas DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> is_frame(pd.DataFrame({"a": [1]})), is_frame([[1]])
    (True, False)
    """
    return type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "columns") and hasattr(X, "iloc")


def _kind(dtype: Any, time_as_number: bool) -> str:
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_complex_dtype(dtype):
        # numpy would drop the imaginary part without a word.
        from .._input import ComplexInputError

        raise ComplexInputError(f"a DataFrame column holds complex numbers (dtype {dtype}); pass real values")
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if time_as_number and pd.api.types.is_datetime64_any_dtype(dtype):
        return "time"
    return "values"


class FrameCodec:
    """Float codes for a DataFrame's columns and the exact way back to the user's frame.

    Parameters
    ----------
    template : pandas.DataFrame
        A frame whose columns and dtypes the decoded frames reproduce; its values seed the
        value tables.
    time_as_number : bool
        Code datetime columns as float nanoseconds (kind ``"time"``) instead of by value.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"city": ["Paris", None, "Rome"], "n": [1, 2, 3]})
    >>> codec = FrameCodec(frame)
    >>> codec.encode(frame).tolist()
    [[0.0, 1.0], [nan, 2.0], [1.0, 3.0]]
    >>> back = codec.decode(codec.encode(frame))
    >>> back.equals(frame), list(back.dtypes) == list(frame.dtypes)
    (True, True)
    """

    def __init__(self, template: Any, *, time_as_number: bool = False) -> None:
        import pandas as pd

        if not is_frame(template):
            raise TypeError(f"template must be a pandas DataFrame, got {type(template).__name__}")
        if template.columns.has_duplicates:
            duplicated = sorted({str(c) for c in template.columns[template.columns.duplicated()]})
            raise ValueError(f"the DataFrame has duplicate column names {duplicated}; column names must be unique")
        self.columns = list(template.columns)
        self.dtypes = list(template.dtypes)
        self.kinds = [_kind(dtype, time_as_number) for dtype in self.dtypes]
        self.tables: list[Optional[Any]] = []
        for j, kind in enumerate(self.kinds):
            if kind == "category":
                self.tables.append(pd.Index(self.dtypes[j].categories))
            elif kind == "values":
                self.tables.append(pd.Index(pd.unique(template.iloc[:, j].dropna()), dtype=object))
            else:
                self.tables.append(None)
        # The missing marker an object column used (None or NaN), restored on decoding.
        self._missing = [self._missing_marker(template.iloc[:, j]) for j in range(len(self.columns))]

    @staticmethod
    def _missing_marker(column: Any) -> Any:
        if column.dtype != object:
            return None
        for value in column:
            if value is None:
                return None
            if isinstance(value, float) and np.isnan(value):
                return np.nan
        return np.nan

    # ------------------------------------------------------------------ properties
    @property
    def names(self) -> list[str]:
        """Column names as strings."""
        return [str(c) for c in self.columns]

    @property
    def mixed(self) -> bool:
        """True when a column is neither numeric nor categorical (codes are loopwise-internal)."""
        return any(kind in ("values", "time") for kind in self.kinds)

    def __len__(self) -> int:
        return len(self.columns)

    # ------------------------------------------------------------------ frames in
    def align(self, X: Any, name: str = "X") -> Any:
        """``X`` with the codec's columns in the codec's order, or a clear error.

        A pandas Series is read as one row (its index holds the column names).
        """
        import pandas as pd

        if isinstance(X, pd.Series):
            X = one_row_frame(X, self)
        if not is_frame(X):
            raise ValueError(
                f"{name} must be a pandas DataFrame with columns {self.names}: the explainer was built on a "
                f"DataFrame with non-numeric columns, got {type(X).__name__}"
            )
        given = [str(c) for c in X.columns]
        if given == self.names:
            return X
        missing = [c for c in self.names if c not in set(given)]
        extra = [c for c in given if c not in set(self.names)]
        if missing or extra:
            parts = ([f"missing columns {missing}"] if missing else []) + ([f"unexpected columns {extra}"] if extra else [])
            raise ValueError(f"{name} does not match the explainer's columns: " + "; ".join(parts))
        by_name = {str(c): c for c in X.columns}
        return X.loc[:, [by_name[c] for c in self.names]]

    def encode(self, X: Any, name: str = "X") -> np.ndarray:
        """Float codes of a frame's rows, shape (n, m); new values extend the tables."""
        X = self.align(X, name)
        out = np.empty((len(X), len(self.columns)), dtype=np.float64)
        for j, kind in enumerate(self.kinds):
            out[:, j] = self._encode_column(X.iloc[:, j], j, kind, name)
        return out

    def _encode_column(self, column: Any, j: int, kind: str, name: str) -> np.ndarray:
        import pandas as pd

        label = self.names[j]
        if kind == "number":
            try:
                values = pd.to_numeric(column, errors="raise")
                return pd.Series(values).to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{name} column {label!r} should hold numbers like the training data: {error}") from None
        if kind == "time":
            times = pd.Series(pd.to_datetime(column))
            if times.dt.tz is not None:
                times = times.dt.tz_convert("UTC").dt.tz_localize(None)
            out = times.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
            out[pd.isna(times).to_numpy()] = np.nan
            return out
        missing = pd.isna(column).to_numpy()
        values = pd.Index(column.astype(object).to_numpy()[~missing], dtype=object)
        table = self.tables[j]
        codes = table.get_indexer(values) if len(values) else np.empty(0, dtype=np.int64)
        unseen = codes < 0
        if unseen.any():
            # Values the table has not seen (e.g. a new city in the explained rows) get new codes.
            self.tables[j] = table = table.append(pd.Index(pd.unique(values[unseen]), dtype=object))
            codes = table.get_indexer(values)
        out = np.full(len(column), np.nan)
        out[~missing] = codes
        return out

    # ------------------------------------------------------------------ frames out
    def decode(self, codes: np.ndarray) -> Any:
        """A DataFrame with the user's columns and dtypes from float codes (n, m)."""
        import pandas as pd

        codes = np.asarray(codes, dtype=np.float64)
        columns = {j: self._decode_column(codes[:, j], j, kind) for j, kind in enumerate(self.kinds)}
        frame = pd.DataFrame(columns)
        frame.columns = pd.Index(self.columns)
        return frame

    def _decode_column(self, column: np.ndarray, j: int, kind: str) -> Any:
        import pandas as pd

        dtype = self.dtypes[j]
        if kind == "number":
            return _decode_number(column, dtype)
        if kind == "time":
            finite = np.isfinite(column)
            nanos = np.where(finite, np.round(np.where(finite, column, 0.0)), 0).astype(np.int64)
            times = pd.Series(nanos.astype("datetime64[ns]"))
            times[~finite] = pd.NaT
            tz = getattr(dtype, "tz", None)
            times = times.dt.tz_localize("UTC").dt.tz_convert(tz) if tz is not None else times
            return times.astype(dtype)
        table = self.tables[j]
        missing = ~np.isfinite(column)
        index = np.where(missing, -1, column).astype(np.int64)
        if kind == "category":
            if not len(index) or index.max() < len(dtype.categories):
                return pd.Categorical.from_codes(index, dtype=dtype)
            # Explained rows brought categories the dtype lacks: keep them rather than losing them.
            return pd.Categorical.from_codes(index, categories=table, ordered=dtype.ordered)
        values = table.to_numpy(dtype=object)[np.where(missing, 0, index)] if len(table) else np.full(len(index), None)
        values = values.copy()
        values[missing] = self._missing[j]
        series = pd.Series(values, dtype=object)
        if dtype == object:
            return series
        try:
            return series.astype(dtype)
        except (TypeError, ValueError):
            return series

    def frame(self, codes: np.ndarray) -> Any:
        """Alias of :meth:`decode`."""
        return self.decode(codes)

    def display(self, j: int, code: float) -> Any:
        """The user's value behind one code of column ``j`` (for labels)."""
        import pandas as pd

        if not np.isfinite(code):
            return "missing"
        kind = self.kinds[j]
        if kind in ("category", "values"):
            table = self.tables[j]
            return table[int(code)] if 0 <= code < len(table) else code
        if kind == "time":
            return pd.Timestamp(int(round(code)))
        return code


def _decode_number(column: np.ndarray, dtype: Any) -> Any:
    import pandas as pd

    if isinstance(dtype, np.dtype):
        if dtype.kind == "f":
            return column.astype(dtype)
        finite = np.isfinite(column).all()
        if dtype.kind == "b" and finite and np.isin(column, (0.0, 1.0)).all():
            return column.astype(bool)
        if dtype.kind in "iu" and finite and (column == np.round(column)).all():
            return column.astype(dtype)
        # Values the dtype cannot hold (e.g. unrounded k-means centres of an integer
        # column) stay float rather than being truncated silently.
        return column
    # Nullable extension dtypes (Int64, Float64, boolean): NaN codes are their NA.
    values = pd.array(np.where(np.isnan(column), np.nan, column), dtype="Float64")
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values


def one_row_frame(row: Any, codec: Optional["FrameCodec"] = None, columns: Optional[Sequence[Any]] = None) -> Any:
    """A one-row DataFrame from a Series (e.g. ``X.iloc[0]``), by column name.

    ``X.iloc[0]`` of a mixed frame is an object Series: the dtypes are gone. The codec
    encodes by value, so the row needs only the right names; missing names raise.
    """
    import pandas as pd

    names = [str(c) for c in (codec.columns if codec is not None else columns or row.index)]
    given = {str(k): k for k in row.index}
    missing = [c for c in names if c not in given]
    extra = [k for k in given if k not in set(names)]
    if missing or extra:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
        raise ValueError("the row (a Series) does not match the explainer's columns: " + "; ".join(parts))
    data = {c: pd.Series([row[given[c]]], dtype=object) for c in names}
    frame = pd.DataFrame(data)
    if codec is not None:
        frame.columns = pd.Index(codec.columns)
    return frame
