"""Route a step's alerts through the sinks: de-duplicate, cool down, deliver, audit.

State (kept by the caller, the loop's ``state.json``) per sink and incident key::

    {"id": idempotency key, "sent": wall time of the delivery or None, "severity": ...}

An incident is delivered when it is new, when its last delivery is older than the sink's
cool-down, or when it escalated to a higher severity. An incident whose delivery failed
stays pending with the same ``id`` and is sent again at the next step that raises it.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Optional, Sequence

from ._alert import Alert, severity_rank

__all__ = ["deliver", "check_sinks"]


def check_sinks(sinks: Any) -> list:
    """Validate a list of sinks (each with ``send`` and the shared settings; unique names).

    Examples
    --------
    >>> from loopwise.loop.alerts import LogSink
    >>> [s.name for s in check_sinks([LogSink()])]
    ['log']
    """
    if sinks is None:
        return []
    if not isinstance(sinks, (list, tuple)):
        raise TypeError(f"alerts must be a list of sinks (LogSink, CallableSink, WebhookSink), "
                        f"got {type(sinks).__name__}")
    names = []
    for index, sink in enumerate(sinks):
        if not callable(getattr(sink, "send", None)) or not hasattr(sink, "cool_down"):
            raise TypeError(f"alerts[{index}] must be a sink (LogSink, CallableSink, WebhookSink), "
                            f"got {type(sink).__name__}")
        names.append(sink.name)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"alerts: sink names must be unique (the loop keeps delivery state per name); "
                         f"give name= to the sinks named {duplicates}")
    return list(sinks)


def _plan(sink: Any, alert: Alert, records: dict, now: float) -> tuple[str, Optional[dict]]:
    """``("send", record)`` with the record to deliver under, or the reason not to send."""
    if severity_rank(alert.severity) < severity_rank(sink.min_severity):
        return "below_min_severity", None
    record = records.get(alert.key)
    if record is not None and record.get("sent") is not None:
        fresh = now - float(record["sent"]) < float(sink.cool_down)
        if fresh and severity_rank(alert.severity) <= severity_rank(record.get("severity", "info")):
            return "suppressed", record
        record = None  # cooled down or escalated: a new notification of the incident
    if record is None:
        record = {"id": uuid.uuid4().hex, "sent": None, "severity": alert.severity, "first": now}
    return "send", record


def _run(sink: Any, jobs: list[tuple[dict, str]]) -> list[dict]:
    """Send the jobs in order, within the sink's total ``timeout`` when it has one.

    The work runs in a daemon thread that ``step()`` stops waiting for at the deadline: a
    user's callable or a server that trickles bytes cannot hold the loop past the budget.
    Jobs not finished by then are reported ``"timed_out"`` (and sent again next time).
    """
    timeout = getattr(sink, "timeout", None)
    if timeout is None:
        return [sink.send(payload, key, None) for payload, key in jobs]
    deadline = time.monotonic() + float(timeout)
    done: list[dict] = []

    def work() -> None:
        for payload, key in jobs:
            if time.monotonic() >= deadline:
                return
            done.append(sink.send(payload, key, deadline))

    worker = threading.Thread(target=work, name=f"loopwise-alerts-{sink.name}", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    finished = list(done)  # a snapshot: what the worker appends after the deadline is not counted
    return finished + [{"outcome": "timed_out", "attempts": None,
                        "error": f"not finished within the sink's {timeout:g} s budget"}
                       for _ in range(len(jobs) - len(finished))]


def deliver(sinks: Sequence[Any], alerts: Sequence[Alert], *, state: dict, audit: Any = None,
            model_version: Optional[int] = None, context: Optional[dict] = None,
            now: Optional[float] = None) -> list[dict]:
    """Deliver ``alerts`` through ``sinks``; update ``state``; audit each alert's outcome.

    Parameters
    ----------
    sinks : list of sinks
    alerts : list of Alert
    state : dict
        Delivery state by sink name and incident key (mutated; the caller persists it).
    audit : AuditLog, optional
        Receives one ``"alert"`` entry per alert with every sink's outcome.
    model_version : int, optional
        Champion the alert concerns (audit and payload).
    context : dict, optional
        Extra payload fields (e.g. the loop's path).
    now : float, optional
        Wall time (seconds since the epoch) used for cool-downs; ``time.time()`` by default.

    Returns
    -------
    list of dict
        Per alert: its fields and ``deliveries``, one ``{"sink", "outcome", "id", ...}``
        per sink, outcome one of ``delivered``, ``failed``, ``timed_out``, ``suppressed``,
        ``below_min_severity``.

    Examples
    --------
    >>> from loopwise.loop.alerts import Alert, CallableSink
    >>> seen, state = [], {}
    >>> sink = CallableSink(seen.append, cool_down=60)
    >>> alert = Alert("input_drift", "input drift: 40% of columns drifted")
    >>> deliver([sink], [alert], state=state, now=0.0)[0]["deliveries"][0]["outcome"]
    'delivered'
    >>> deliver([sink], [alert], state=state, now=30.0)[0]["deliveries"][0]["outcome"]
    'suppressed'
    >>> len(seen)
    1
    """
    wall = time.time() if now is None else float(now)
    results = [{**alert.to_dict(), "deliveries": []} for alert in alerts]
    for sink in sinks:
        records = state.setdefault(sink.name, {})
        jobs, targets = [], []
        for index, alert in enumerate(alerts):
            decision, record = _plan(sink, alert, records, wall)
            if decision != "send":
                entry = {"sink": sink.name, "outcome": decision}
                if record is not None:
                    entry["id"] = record["id"]
                results[index]["deliveries"].append(entry)
                continue
            payload = {**alert.to_dict(), **(context or {}), "model_version": model_version,
                       "raised_at": wall}
            jobs.append((payload, record["id"]))
            targets.append((index, alert, record))
        for (index, alert, record), outcome in zip(targets, _run(sink, jobs)):
            if outcome["outcome"] == "delivered":
                record["sent"] = wall
                record["severity"] = alert.severity
            records[alert.key] = record
            results[index]["deliveries"].append({"sink": sink.name, "id": record["id"], **outcome})
    if audit is not None:
        for result in results:
            outcomes = [d["outcome"] for d in result["deliveries"]]
            audit.record("alert", model_version=model_version, reasons=[result["message"]],
                         passed=None if not outcomes else all(o != "failed" and o != "timed_out" for o in outcomes),
                         alert={k: v for k, v in result.items() if k != "deliveries"},
                         deliveries=result["deliveries"])
    return results
