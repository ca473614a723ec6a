"""Drift over time: per-chunk statistics and alerts against one fitted reference."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ._table import to_frame
from .reference import Reference

__all__ = ["monitor"]


def monitor(reference: Any, current: Any, *, timestamp: Union[str, Sequence[Any], None] = None,
            chunk: Union[str, int] = 1000, categorical: Optional[Sequence[str]] = None,
            columns: Optional[Sequence[str]] = None, n_jobs: Optional[int] = None, **compare_options: Any) -> pd.DataFrame:
    """Compare consecutive chunks of ``current`` with the reference.

    Parameters
    ----------
    reference, current : table
        The reference is profiled once (:class:`Reference`), then every chunk of
        ``current`` is compared with it.
    timestamp : str or array-like, optional
        Column of ``current`` (excluded from the comparison; dropped from the reference
        too when present) or a sequence of timestamps, one per row. Needed when
        ``chunk`` is a pandas frequency string.
    chunk : int or str
        Rows per chunk (consecutive, the last one may be shorter) or a pandas frequency
        such as ``"1D"`` (chunks by calendar period of ``timestamp``; empty periods skipped).
    **compare_options
        Passed to :meth:`Reference.compare` (``tests``, ``alpha``, ``correction``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per chunk: ``chunk, start, end, n_rows, share_drifted, drifted (alert),
        drifted_columns`` and one ``<column>_statistic`` column per compared column.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> cur = rng.normal(size=(3000, 2)); cur[2000:] += 2.0
    >>> monitor(rng.normal(size=(2000, 2)), cur, chunk=1000)["drifted"].tolist()
    [False, False, True]
    """
    frame = to_frame(current, "current")
    ref_frame = to_frame(reference, "reference")
    stamps = None
    if isinstance(timestamp, str):
        if timestamp not in frame.columns:
            raise ValueError(f"timestamp column {timestamp!r} is not in current")
        stamps = pd.to_datetime(frame[timestamp])
        frame = frame.drop(columns=[timestamp])
        ref_frame = ref_frame.drop(columns=[timestamp], errors="ignore")
    elif timestamp is not None:
        stamps = pd.to_datetime(pd.Series(list(timestamp)))
        if len(stamps) != len(frame):
            raise ValueError(f"timestamp has {len(stamps)} entries for {len(frame)} rows of current")
    profile = Reference.fit(ref_frame, categorical=categorical, columns=columns, n_jobs=n_jobs)
    if columns is not None:
        frame = frame[list(columns)]
    if isinstance(chunk, str):
        if stamps is None:
            raise ValueError("a frequency chunk (e.g. '1D') needs timestamp=...")
        periods = stamps.dt.floor(chunk) if chunk[-1:] not in ("M", "Y") else stamps.dt.to_period(chunk[-1]).dt.start_time
        groups = [(key, np.flatnonzero((periods == key).to_numpy())) for key in sorted(periods.dropna().unique())]
    else:
        if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
            raise ValueError(f"chunk must be a positive row count or a frequency string, got {chunk!r}")
        groups = [(None, np.arange(s, min(s + chunk, len(frame)))) for s in range(0, len(frame), chunk)]
    rows = []
    for i, (key, index) in enumerate(groups):
        part = frame.iloc[index]
        report = profile.compare(part, n_jobs=n_jobs, **compare_options)
        row = {"chunk": i,
               "start": key if key is not None else (stamps.iloc[index[0]] if stamps is not None else int(index[0])),
               "end": stamps.iloc[index[-1]] if stamps is not None else int(index[-1]) + 1,
               "n_rows": len(index), "share_drifted": report.share_drifted, "drifted": report.drifted,
               "drifted_columns": report.drifted_columns}
        for record in report.table.itertuples():
            row[f"{record.column}_statistic"] = record.statistic
        rows.append(row)
    return pd.DataFrame(rows)
