"""What kind each column is, and how time columns become numbers for the drift tests.

One home for the rule every drift function uses: integer and float columns are numeric;
datetime columns (tz-naive or tz-aware) and timedelta columns are *time* columns,
compared as numbers (seconds) and never as categories; everything else (bool, pandas
category, str / object) is categorical.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

import numpy as np
import pandas as pd

from ._table import is_numeric_dtype

__all__ = ["TIME_KINDS", "NUMBER_KINDS", "column_kind", "time_seconds", "time_zone", "as_float_frame",
           "check_time_column", "non_numeric_columns", "TIME_NOTE"]

#: Kinds whose values are compared as numbers after conversion to seconds.
TIME_KINDS = ("datetime", "timedelta")
#: Kinds tested with the numeric tests.
NUMBER_KINDS = ("numeric",) + TIME_KINDS
#: The note a time column's report row carries.
TIME_NOTE = {"datetime": "datetime compared as time (seconds since 1970-01-01 UTC)",
             "timedelta": "timedelta compared as a duration (seconds)"}

_EPOCH = pd.Timestamp("1970-01-01")


def column_kind(dtype: Any, declared_categorical: bool = False) -> str:
    """``"numeric"``, ``"datetime"``, ``"timedelta"`` or ``"categorical"`` for a column dtype.

    Examples
    --------
    >>> column_kind(pd.Series(pd.to_datetime(["2024-01-01"])).dtype)
    'datetime'
    >>> column_kind(pd.Series([True]).dtype), column_kind(pd.Series(["a"]).dtype)
    ('categorical', 'categorical')
    """
    if declared_categorical:
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "timedelta"
    return "numeric" if is_numeric_dtype(dtype) else "categorical"


def time_zone(series: pd.Series) -> Optional[str]:
    """The time zone of a tz-aware datetime column, else None."""
    tz = getattr(series.dtype, "tz", None)
    return str(tz) if tz is not None else None


def time_seconds(series: pd.Series) -> np.ndarray:
    """Seconds since 1970-01-01 UTC (datetime; tz-aware values are converted to UTC,
    tz-naive ones taken as they are) or seconds (timedelta) as float64, NaN for NaT.
    Resolution-independent (ns, us, ms or s columns give the same numbers)."""
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        return (series / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64, na_value=np.nan)
    if time_zone(series) is not None:
        series = series.dt.tz_convert(None)  # UTC wall time, tz dropped
    return ((series - _EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64, na_value=np.nan)


def check_time_column(name: str, kind: str, reference_tz: Optional[str], series: pd.Series, label: str) -> None:
    """Raise a ValueError naming ``name`` when ``series`` cannot be compared with a
    reference time column of ``kind`` (and time zone ``reference_tz``)."""
    if series.isna().all():
        return
    if column_kind(series.dtype) != kind:
        fix = "pd.to_datetime(...)" if kind == "datetime" else "pd.to_timedelta(...)"
        raise ValueError(f"{label} column {name!r} is {series.dtype} but the reference column is {kind}; "
                         f"convert it with {fix} before comparing")
    if kind == "datetime" and (reference_tz is None) != (time_zone(series) is None):
        aware, naive = ("reference", label) if reference_tz is not None else (label, "reference")
        raise ValueError(f"column {name!r} is tz-aware in {aware} but tz-naive in {naive}; make both aware "
                         f"(series.dt.tz_localize('UTC')) or both naive (series.dt.tz_convert(None)) first")


def non_numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that are neither numeric nor time columns."""
    return [c for c in frame.columns if column_kind(frame[c].dtype) not in NUMBER_KINDS]


_NUMBER_OBJECTS = ("integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty")


def _holds_numbers(series: pd.Series) -> bool:
    """Numeric, bool, or an object column of Python numbers (text such as zip codes is
    not silently parsed as numbers)."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return True
    if series.dtype == object:
        return pd.api.types.infer_dtype(series, skipna=True) in _NUMBER_OBJECTS
    return False


def as_float_frame(frame: pd.DataFrame, names: Optional[Iterable[str]] = None) -> pd.DataFrame:
    """The columns ``names`` (all by default) as float64: time columns in seconds (see
    :func:`time_seconds`), others as their numbers (bool as 0 / 1, an object column of
    Python numbers as those numbers); raises naming every other column (text, category)."""
    names = list(frame.columns) if names is None else list(names)
    out, bad = {}, []
    for c in names:
        series = frame[c]
        if column_kind(series.dtype) in TIME_KINDS:
            out[c] = time_seconds(series)
            continue
        if not _holds_numbers(series):
            bad.append(c)
            continue
        try:
            out[c] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            bad.append(c)
    if bad:
        raise ValueError(f"columns {bad} are not numeric (dtypes {[str(frame[c].dtype) for c in bad]}); "
                         "encode them first (e.g. one-hot or category codes) or leave them out")
    return pd.DataFrame(out, index=frame.index, columns=names)
