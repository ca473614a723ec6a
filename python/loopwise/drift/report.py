"""DriftReport: the verdict, the per-column table, JSON and a self-contained HTML page."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import pandas as pd

__all__ = ["DriftReport"]


def _plain(value: Any) -> Any:
    """Make numpy scalars, NaN and arrays JSON-friendly (NaN becomes None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if value is None or isinstance(value, (str, int)):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


@dataclass
class DriftReport:
    """Result of :func:`loopwise.drift.compare`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per column: ``column, kind, test, statistic, p_value, p_value_adjusted,
        threshold, drifted, n_reference, n_current, missing_reference, missing_current,
        missing_drifted``. For a p-value test ``drifted`` means the (corrected) p-value is
        below ``threshold`` (alpha); for a distance it means ``statistic >= threshold``.
    drifted : bool
        Dataset verdict: ``share_drifted >= drift_share``.
    share_drifted : float
        Share of tested columns that drifted.
    settings : dict
        Everything needed to reproduce the verdict: alpha, correction, the auto rule,
        binning, PSI epsilon, Jensen-Shannon base, thresholds.
    statistics : pandas.DataFrame
        Every statistic computed per numeric column (KS, CvM, AD, Wasserstein, ...).
    histograms : dict
        Per column reference-vs-current histograms used by :meth:`to_html`.

    Examples
    --------
    >>> import numpy as np
    >>> from loopwise.drift import compare
    >>> rng = np.random.default_rng(0)
    >>> report = compare(rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + [0, 2])
    >>> report.table["drifted"].tolist()
    [False, True]
    """

    table: pd.DataFrame
    drifted: bool
    share_drifted: float
    settings: dict
    statistics: pd.DataFrame = field(default_factory=pd.DataFrame)
    histograms: dict = field(default_factory=dict)

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the columns that drifted."""
        return self.table.loc[self.table["drifted"].astype(bool), "column"].tolist()

    def to_frame(self) -> pd.DataFrame:
        """The per-column table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict:
        """JSON-serialisable summary: verdict, settings, per-column rows and statistics."""
        return _plain({
            "drifted": self.drifted,
            "share_drifted": self.share_drifted,
            "drifted_columns": self.drifted_columns,
            "settings": self.settings,
            "columns": self.table.to_dict(orient="records"),
            "statistics": self.statistics.to_dict(orient="records"),
        })

    def to_json(self, path: Optional[Union[str, Path]] = None, *, indent: int = 2) -> str:
        """Serialise :meth:`to_dict` as JSON; write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: Optional[Union[str, Path]] = None) -> str:
        """One self-contained HTML page (inline SVG plots, no scripts or downloads) with
        the verdict, the table and a reference-vs-current plot per column."""
        from ._html import render_report

        text = render_report(self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def _repr_html_(self) -> str:
        from ._html import summary_html

        return summary_html(self)

    def __repr__(self) -> str:
        return (f"DriftReport(drifted={self.drifted}, share_drifted={self.share_drifted:.3f}, "
                f"drifted_columns={self.drifted_columns!r})")
