"""Sinks that deliver inside the process: Python logging and a callable of the user's."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ._alert import severity_rank

__all__ = ["LogSink", "CallableSink", "check_sink_settings"]

# Logging level of each severity.
_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}


def check_sink_settings(sink: Any) -> None:
    """Validate the settings every sink shares (name, min_severity, cool_down, timeout)."""
    kind = type(sink).__name__
    if not isinstance(sink.name, str) or not sink.name:
        raise ValueError(f"{kind}.name must be a non-empty str, got {sink.name!r}")
    severity_rank(sink.min_severity, f"{kind}.min_severity")
    if isinstance(sink.cool_down, bool) or not isinstance(sink.cool_down, (int, float)) or not (
            math.isfinite(sink.cool_down) and sink.cool_down >= 0):
        raise ValueError(f"{kind}.cool_down must be a finite number of seconds >= 0, got {sink.cool_down!r}")
    timeout = getattr(sink, "timeout", None)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not (math.isfinite(timeout) and timeout > 0)):
        raise ValueError(f"{kind}.timeout must be a positive number of seconds or None, got {timeout!r}")


@dataclass
class LogSink:
    """Write each alert to a Python logger (level from its severity).

    Parameters
    ----------
    logger : str
        Logger name; the record carries the alert as ``record.loopwise_alert``.
    min_severity : {"info", "warning", "critical"}
    cool_down : float
        Seconds during which a delivered incident is not logged again (unless it escalates).
    name : str
        Name of this sink in the audit log and the loop's delivery state (unique per loop).

    Examples
    --------
    >>> sink = LogSink(logger="loopwise.alerts")
    >>> sink.send({"severity": "warning", "message": "input drift"}, "k1", None)["outcome"]
    'delivered'
    """

    logger: str = "loopwise.alerts"
    min_severity: str = "info"
    cool_down: float = 3600.0
    name: str = "log"

    def __post_init__(self) -> None:
        if not isinstance(self.logger, str):
            raise TypeError(f"LogSink.logger must be a logger name (str), got {type(self.logger).__name__}")
        check_sink_settings(self)

    @property
    def timeout(self) -> None:
        return None  # logging handlers are the application's; they run inline

    def send(self, payload: dict, idempotency_key: str, deadline: Optional[float]) -> dict:
        """Log one alert payload; returns the delivery outcome."""
        try:
            logging.getLogger(self.logger).log(
                _LEVELS.get(payload.get("severity"), logging.WARNING), "loopwise alert: %s", payload.get("message"),
                extra={"loopwise_alert": {**payload, "id": idempotency_key}})
        except Exception as error:  # noqa: BLE001 - a broken handler must not stop the loop
            return {"outcome": "failed", "attempts": 1, "error": f"{type(error).__name__}: {error}"}
        return {"outcome": "delivered", "attempts": 1}


@dataclass
class CallableSink:
    """Call ``fn(payload)`` for each alert (a dict with ``id``, ``kind``, ``severity``, ...).

    ``fn`` is saved in the loop's configuration by its import path, so it must be defined
    in a module for a loop reopened in another process to keep it.

    Parameters
    ----------
    fn : callable
        Called with the payload dict; an exception counts as a failed delivery (retried at
        the next step with the same ``id``).
    min_severity, cool_down, name :
        As for :class:`LogSink`.
    timeout : float, optional
        Seconds ``step()`` waits for ``fn``; past them the call is left running in a
        background thread and counted as not delivered. None: wait.

    Examples
    --------
    >>> seen = []
    >>> CallableSink(seen.append).send({"message": "m"}, "k1", None)["outcome"], seen[0]["id"]
    ('delivered', 'k1')
    """

    fn: Callable[[dict], Any]
    min_severity: str = "info"
    cool_down: float = 3600.0
    timeout: Optional[float] = None
    name: str = "callable"

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"CallableSink.fn must be callable, got {type(self.fn).__name__}")
        check_sink_settings(self)

    def send(self, payload: dict, idempotency_key: str, deadline: Optional[float]) -> dict:
        """Call ``fn`` with one payload; returns the delivery outcome."""
        try:
            self.fn({**payload, "id": idempotency_key})
        except Exception as error:  # noqa: BLE001 - the user's sink failing must not stop the loop
            return {"outcome": "failed", "attempts": 1, "error": f"{type(error).__name__}: {error}"}
        return {"outcome": "delivered", "attempts": 1}
