"""Data-quality checks of a current table against a reference table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

from ._columns import TIME_KINDS, column_kind
from ._table import category_strings, to_frame
from .report import _plain

__all__ = ["QualityReport", "quality", "SEVERITIES"]

SEVERITIES = ("info", "warning", "critical")


@dataclass
class QualityReport:
    """Findings of :func:`quality`, one row per (check, column).

    Attributes
    ----------
    findings : pandas.DataFrame
        ``check, column, value, reference_value, severity, message``.
    """

    findings: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ok(self) -> bool:
        """True when no finding is ``critical``."""
        return not (self.findings["severity"] == "critical").any() if len(self.findings) else True

    @property
    def worst(self) -> Optional[str]:
        """The highest severity found, or None."""
        if not len(self.findings):
            return None
        return max(self.findings["severity"], key=SEVERITIES.index)

    def to_frame(self) -> pd.DataFrame:
        return self.findings.copy()

    def to_dict(self) -> dict:
        return _plain({"ok": self.ok, "worst": self.worst, "findings": self.findings.to_dict(orient="records")})

    def _repr_html_(self) -> str:
        return f"<b>QualityReport</b> (worst: {self.worst})" + self.findings.to_html(index=False)


def _grade(value: float, warning: float, critical: float) -> str:
    return "critical" if value >= critical else "warning" if value >= warning else "info"


def quality(reference: Any, current: Any, *, categorical: Optional[Sequence[str]] = None,
            missing_warning: float = 0.05, missing_critical: float = 0.2, range_warning: float = 0.01,
            range_critical: float = 0.1, unseen_warning: float = 0.01, unseen_critical: float = 0.1,
            duplicate_warning: float = 0.01, duplicate_critical: float = 0.1) -> QualityReport:
    """Data-quality findings with severities.

    Checks: schema (missing / unexpected columns: critical), type changes (critical),
    missing-rate increase, share of numeric values outside the reference [min, max],
    share of rows with categories unseen in the reference, constant columns (critical
    when the reference varied), and the share of duplicate rows. Datetime and timedelta
    columns are checked for type, missing rate and constancy only: a time column moving
    past the reference range is expected, and :func:`loopwise.drift.compare` tests its
    shift; they are never treated as categories. Each share is graded
    ``info`` below its warning level, ``warning`` from it and ``critical`` from its
    critical level; a check with nothing to report adds no row.

    Examples
    --------
    >>> import pandas as pd
    >>> ref = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    >>> cur = pd.DataFrame({"a": [1.0, None, 9.0, 9.0], "b": ["x", "z", "x", "y"]})
    >>> quality(ref, cur).findings["check"].tolist()
    ['missing_rate', 'out_of_range', 'unseen_categories']
    """
    ref = to_frame(reference, "reference")
    cur = to_frame(current, "current")
    declared = set(categorical or [])
    rows: list[dict] = []

    def add(check: str, column: Optional[str], value: Any, reference_value: Any, severity: str, message: str) -> None:
        rows.append({"check": check, "column": column, "value": value, "reference_value": reference_value,
                     "severity": severity, "message": message})

    missing = [c for c in ref.columns if c not in cur.columns]
    extra = [c for c in cur.columns if c not in ref.columns]
    for c in missing:
        add("schema", c, None, None, "critical", f"column {c!r} is missing from current")
    for c in extra:
        add("schema", c, None, None, "warning", f"column {c!r} is new in current")
    for name in [c for c in ref.columns if c in cur.columns]:
        a, b = ref[name], cur[name]
        kind_a = column_kind(a.dtype, name in declared)
        kind_b = column_kind(b.dtype, name in declared)
        numeric_a = kind_a == "numeric"
        if kind_a != kind_b and not b.isna().all():
            add("type_change", name, str(b.dtype), str(a.dtype), "critical",
                f"column {name!r} changed type from {a.dtype} to {b.dtype}")
            continue
        rate_a, rate_b = float(a.isna().mean()), float(b.isna().mean())
        increase = rate_b - rate_a
        if increase > 0:
            add("missing_rate", name, rate_b, rate_a, _grade(increase, missing_warning, missing_critical),
                f"missing rate rose from {rate_a:.1%} to {rate_b:.1%}")
        va, vb = a.dropna(), b.dropna()
        if va.empty or vb.empty:
            continue
        if kind_a in TIME_KINDS:
            pass
        elif numeric_a:
            lo, hi = float(va.min()), float(va.max())
            vals = vb.to_numpy(dtype=np.float64)
            if np.isinf(vals).any():
                add("infinite_values", name, float(np.isinf(vals).mean()), 0.0, "critical",
                    f"column {name!r} has infinite values")
            outside = float(((vals < lo) | (vals > hi)).mean())
            if outside > 0:
                add("out_of_range", name, outside, [lo, hi], _grade(outside, range_warning, range_critical),
                    f"{outside:.1%} of values lie outside the reference range [{lo:g}, {hi:g}]")
        else:
            seen = set(category_strings(va).unique())
            strings = category_strings(vb)
            unseen_mask = ~strings.isin(seen)
            share = float(unseen_mask.mean())
            if share > 0:
                examples = sorted(strings[unseen_mask].unique())[:5]
                add("unseen_categories", name, share, None, _grade(share, unseen_warning, unseen_critical),
                    f"{share:.1%} of rows have categories unseen in the reference, e.g. {examples}")
        if vb.nunique() == 1 and len(vb) > 1:
            varied = va.nunique() > 1
            add("constant_column", name, str(vb.iloc[0]), None, "critical" if varied else "info",
                f"column {name!r} is constant in current" + (" but varied in the reference" if varied else ""))
    common = [c for c in ref.columns if c in cur.columns]
    if common and len(cur) > 1:
        dup_cur = float(cur[common].duplicated().mean())
        dup_ref = float(ref[common].duplicated().mean()) if len(ref) > 1 else 0.0
        if dup_cur > 0:
            add("duplicate_rows", None, dup_cur, dup_ref, _grade(dup_cur - dup_ref, duplicate_warning, duplicate_critical),
                f"{dup_cur:.1%} of current rows are duplicates (reference: {dup_ref:.1%})")
    return QualityReport(pd.DataFrame(rows, columns=["check", "column", "value", "reference_value", "severity",
                                                      "message"]))
