"""``Status``: what one look at the loop found (drift, performance, fairness, alerts)."""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import pandas as pd

__all__ = ["Status"]


@dataclass
class Status:
    """The loop's health at one moment, as :meth:`loopwise.FeedbackLoop.check` reports it.

    Attributes
    ----------
    checked_at : str
        ISO time of the check.
    champion_version : int or None
        Version that serves predictions.
    n_current : int
        Logged rows compared with the reference.
    drift_share, dataset_drift :
        Share of drifted columns and the dataset verdict of the drift report.
    drifted_columns : list of str
    prediction_drift_p : float or None
        Two-sample KS p-value of the champion's outputs, reference vs current.
    metric_name, metric, baseline_metric, higher_is_better :
        Performance on labelled feedback since the champion was promoted, and the champion's
        baseline at promotion.
    metric_by_slice : dict
        The same metric per declared slice value.
    fairness_gaps : dict
        Per sensitive column: largest between-group gap of positive rate, TPR and FPR.
    estimated_metric, estimated_metric_error : float or None
        The champion's ``metric_name`` on the current rows estimated without their labels
        (:mod:`loopwise.performance`: CBPE for a classifier, its probabilities calibrated on the
        reference labels; DLE for a regressor), and the estimate's sampling error for that many
        rows. None without reference labels. Valid under covariate shift; concept drift breaks it.
    estimated_metrics : dict
        Every metric estimated that way: ``{name: {"estimate": ..., "sampling_error": ...}}``
        (accuracy, precision, recall, f1, roc_auc; or mae, rmse).
    new_labels : int
        Labels that arrived since the champion was trained.
    labels_since_attempt : int
        Labels that arrived since the last training attempt (promoted or not).
    since_training : pandas.Timedelta or None
    detector_alarm : bool
        The streaming detector over the error stream signalled a change at this check.
    rows_since_change : int or None
        After the detector signalled a change (and until a challenger is promoted): the
        champion's labelled rows since the estimated change point.
    alerts : list of str
        Every finding in words.
    incidents : list of Alert
        The same findings with a kind, a severity and an incident key, as the loop's alert
        sinks deliver them (:mod:`loopwise.loop.alerts`).

    Examples
    --------
    >>> Status(checked_at="2026-01-01T00:00:00", champion_version=1).alerts
    []
    """

    checked_at: str
    champion_version: Optional[int]
    n_current: int = 0
    drift_share: Optional[float] = None
    dataset_drift: bool = False
    drifted_columns: list = field(default_factory=list)
    prediction_drift_p: Optional[float] = None
    metric_name: Optional[str] = None
    metric: Optional[float] = None
    baseline_metric: Optional[float] = None
    higher_is_better: bool = True
    n_labeled: int = 0
    metric_by_slice: dict = field(default_factory=dict)
    fairness_gaps: dict = field(default_factory=dict)
    estimated_metric: Optional[float] = None
    estimated_metric_error: Optional[float] = None
    estimated_metrics: dict = field(default_factory=dict)
    new_labels: int = 0
    labels_since_attempt: int = 0
    since_training: Optional[pd.Timedelta] = None
    detector_alarm: bool = False
    rows_since_change: Optional[int] = None
    alerts: list = field(default_factory=list)
    incidents: list = field(default_factory=list)
    drift_table: Optional[pd.DataFrame] = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """JSON-serialisable summary (the drift table as a list of records).

        Examples
        --------
        >>> import json
        >>> _ = json.dumps(Status(checked_at="t", champion_version=None).to_dict())
        """
        out = asdict(self)
        out["since_training"] = None if self.since_training is None else str(self.since_training)
        table = out.pop("drift_table")
        out["drift"] = None if table is None else json.loads(table.to_json(orient="records"))
        return json.loads(json.dumps(out, default=_jsonable))

    def raise_alert(self, kind: str, message: str, *, severity: str = "warning", key: Optional[str] = None,
                    details: Optional[dict] = None) -> None:
        """Add a finding: its words to :attr:`alerts`, the structured alert to :attr:`incidents`.

        Examples
        --------
        >>> status = Status(checked_at="t", champion_version=1)
        >>> status.raise_alert("input_drift", "input drift: 40% of columns drifted")
        >>> status.alerts, status.incidents[0].severity
        (['input drift: 40% of columns drifted'], 'warning')
        """
        from .alerts import Alert

        self.incidents.append(Alert(kind, message, severity, key, dict(details or {})))
        self.alerts.append(message)

    @property
    def healthy(self) -> bool:
        """True when nothing raised an alert."""
        return not self.alerts

    def _repr_html_(self) -> str:
        rows = [
            ("champion", self.champion_version),
            ("rows compared", self.n_current),
            ("drifted columns", f"{self.drift_share:.0%}" if self.drift_share is not None else "n/a"),
            (self.metric_name or "metric", _fmt(self.metric)),
            ("baseline", _fmt(self.baseline_metric)),
            ("estimated without labels", _fmt_estimate(self.estimated_metric, self.estimated_metric_error)),
            ("new labels", self.new_labels),
        ]
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        alerts = "".join(f"<li>{html.escape(a)}</li>" for a in self.alerts) or "<li>none</li>"
        return f"<div><b>loopwise Status</b> ({html.escape(self.checked_at)})<table>{body}</table><b>Alerts</b><ul>{alerts}</ul></div>"


def _fmt(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _fmt_estimate(value: Optional[float], error: Optional[float]) -> str:
    return _fmt(value) if value is None or error is None else f"{value:.4f} ± {error:.4f}"


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (pd.Timestamp, pd.Timedelta)):
        return str(value)
    return str(value)
