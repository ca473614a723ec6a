"""What the loop report says in words: the decisions as one row per retraining attempt, when
each champion started serving (in the stream's data time), and the summary at the top.

The loop runs on two clocks: predictions carry the data's own time (the stream's timestamp),
while the registry and the audit log record wall time. The report speaks in data time; a
promotion is placed at the data time of the first prediction the new champion served (or,
before it served any, at the end of its training window).
"""

from __future__ import annotations

from typing import Any, Optional

import pandas as pd

__all__ = ["decisions", "champion_starts", "summary_sections"]


def _data_time(value: Any) -> Optional[pd.Timestamp]:
    if value is None or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


def _short_gate(details: dict) -> str:
    metrics = (details or {}).get("metrics") or {}
    if "challenger" not in metrics or "champion" not in metrics:
        return ""
    name = metrics.get("metric", "metric")
    text = f"{name} {metrics['challenger']:.3f} vs champion {metrics['champion']:.3f}"
    if metrics.get("p_value") is not None:
        text += f" (p = {metrics['p_value']:.3g})"
    return text


def decisions(entries: Optional[pd.DataFrame]) -> pd.DataFrame:
    """One row per retraining attempt (trigger, training, validation, promotion), oldest first.

    Columns: ``data_time`` (end of the training window), ``wall_time``, ``outcome``,
    ``version``, ``why`` (trigger reasons), ``gate`` (metric comparison) and ``gate_reasons``
    (why a challenger was rejected).
    """
    columns = ["data_time", "wall_time", "outcome", "version", "why", "window", "gate", "gate_reasons"]
    if entries is None or not len(entries):
        return pd.DataFrame(columns=columns)
    rows: list[dict] = []
    current: Optional[dict] = None

    def start(wall: Any, why: list) -> dict:
        row = {c: None for c in columns}
        row.update(wall_time=wall, why=list(why or []), outcome="started")
        rows.append(row)
        return row

    for entry in entries.to_dict(orient="records"):
        kind, details = entry["kind"], entry.get("details") or {}
        inputs = details.get("inputs") or {}
        if kind == "trigger":
            current = start(entry["timestamp"], entry["reasons"])
        elif kind == "training":
            if current is None or current["window"] is not None:
                current = start(entry["timestamp"], entry["reasons"])
            window = inputs.get("training_window") or {}
            current["window"] = window.get("window") or ""
            current["data_time"] = _data_time(window.get("to"))
            current["outcome"] = "trained"
        elif kind == "validation" and current is not None:
            current["gate"] = _short_gate(details)
            passed = bool(entry["passed"]) if entry["passed"] is not None else False
            current["outcome"] = "passed the gate" if passed else "rejected"
            if not passed:
                current["gate_reasons"] = list(dict.fromkeys(entry["reasons"] or []))
        elif kind == "promotion":
            version = entry["model_version"]
            version = None if version is None or pd.isna(version) else int(version)
            if inputs.get("previous") is None:
                row = start(entry["timestamp"], entry["reasons"])
                row.update(outcome="initial champion", version=version)
            elif current is not None:
                current.update(outcome="promoted", version=version)
            current = None
        elif kind in ("rollback", "configuration"):
            row = start(entry["timestamp"], entry["reasons"])
            row["outcome"] = kind
            current = None
    return pd.DataFrame(rows, columns=columns)


def champion_starts(versions: Optional[pd.DataFrame], labeled: pd.DataFrame) -> pd.DataFrame:
    """Data time at which each promoted version started serving: columns ``version, data_time``."""
    rows = []
    if versions is None or not len(versions):
        return pd.DataFrame(columns=["version", "data_time"])
    served = pd.Series(dtype=object)
    if len(labeled) and "model_version" in labeled:
        stamps = pd.to_datetime(labeled["timestamp"], utc=True).dt.tz_convert(None)
        served = stamps.groupby(labeled["model_version"].astype("Int64")).min()
    for record in versions.to_dict(orient="records"):
        version = int(record["version"])
        if version in served.index:
            rows.append({"version": version, "data_time": served.loc[version]})
        else:
            window = record.get("data_window") or {}
            stamp = _data_time(window.get("to")) if isinstance(window, dict) else None
            if stamp is not None:
                rows.append({"version": version, "data_time": stamp})
    return pd.DataFrame(rows, columns=["version", "data_time"])


def _relied_on(importance: Optional[pd.Series]) -> list[str]:
    """Features that carry a real share (>= 10%) of the model's total importance."""
    if importance is None or not len(importance):
        return []
    total = float(importance.abs().sum())
    if total <= 0:
        return []
    shares = importance.abs() / total
    return list(shares[shares >= 0.10].sort_values(ascending=False).index)


def summary_sections(status: Any, history: pd.DataFrame, importance: Optional[pd.Series]) -> dict:
    """Plain sentences under three headings: what happened, what it means, what to do."""
    happened: list[str] = []
    means: list[str] = []
    todo: list[str] = []
    metric = status.metric_name or "the metric"
    attempts = history[history["outcome"].isin(["trained", "rejected", "passed the gate", "promoted"])]
    promoted = history[history["outcome"] == "promoted"]
    rejected = history[history["outcome"] == "rejected"]
    if len(promoted):
        last = promoted.iloc[-1]
        when = f" at data time {last['data_time']:%Y-%m-%d %H:%M}" if last["data_time"] is not None else ""
        why = "; ".join(last["why"][:2]) if last["why"] else "its trigger fired"
        gate = f" It beat the champion it replaced: {last['gate']}." if last["gate"] else ""
        happened.append(f"Retrained and promoted v{int(last['version'])}{when} because {why}.{gate}")
    else:
        happened.append(f"The first model (v{status.champion_version}) is still the champion: no challenger has "
                        "been promoted.")
    if len(attempts):
        happened.append(f"{len(attempts)} retraining attempts so far: {len(promoted)} promoted, {len(rejected)} "
                        "rejected by the validation gate (rejected challengers are not kept).")
    else:
        happened.append("No retraining has been triggered yet.")

    if status.metric is not None and status.baseline_metric is not None:
        direction = "higher" if status.higher_is_better else "lower"
        means.append(f"Champion v{status.champion_version}: {metric} {status.metric:.3f} on the newest "
                     f"{status.n_labeled} labelled rows, against {status.baseline_metric:.3f} when it was "
                     f"promoted ({direction} is better).")
    elif status.n_labeled == 0:
        means.append("No labels have arrived yet, so the champion's real performance is unknown.")
    drifted = list(status.drifted_columns or [])
    relied = _relied_on(importance)
    if drifted:
        overlap = [c for c in drifted if c in relied]
        total = len(status.drift_table) if status.drift_table is not None else None
        of = f" of {total}" if total else ""
        sentence = f"{len(drifted)}{of} input columns drifted from the reference ({', '.join(drifted[:6])})"
        if relied:
            sentence += (f"; the model relies on {len(overlap)} of them ({', '.join(overlap)})" if overlap else
                         f"; the model relies mostly on other columns ({', '.join(relied[:4])})")
        means.append(sentence + ".")
    elif status.drift_table is not None:
        means.append("No input column drifted from the reference.")

    alerts = list(dict.fromkeys(status.alerts or []))
    for alert in alerts:
        todo.append(f"Alert: {alert}. Run a step (loop.step() or `loopwise step LOOP`) to retrain and validate a "
                    "challenger, or look at the data feeding the model.")
    if drifted:
        overlap = [c for c in drifted if c in relied]
        if overlap:
            todo.append(f"Check the upstream data for {', '.join(overlap)}: the model relies on "
                        f"{'it' if len(overlap) == 1 else 'them'}. If the change is real, the loop retrains on recent "
                        "data; if it is a data bug, fix the pipeline rather than the model.")
        else:
            todo.append("The drifted columns carry little weight in the model: watch the performance rather than "
                        "retrain for the drift alone.")
    if len(rejected) and len(rejected) == len(attempts):
        todo.append("Every challenger so far was rejected: the champion holds. If the data really changed, try "
                    "another training window or model in the policy.")
    if status.n_labeled is not None and status.n_labeled < 100:
        todo.append("Send more labels (loop.feedback): with fewer than 100 the performance numbers are rough.")
    if not todo:
        todo.append("Nothing to do: no alerts, and the champion performs as expected.")
    return {"What happened": happened, "What it means": means, "What to do": todo}
