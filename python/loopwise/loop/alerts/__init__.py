"""Alerts that reach people: sinks for logging, a callable and a webhook; de-duplication,
cool-down and an audit entry for every delivery.

``FeedbackLoop(path, ..., alerts=[LogSink(), WebhookSink(url, secret_env="HOOK_SECRET")])``
delivers every alert a ``step()`` raises through each sink, once per incident and cool-down,
and records the outcome in the loop's audit log (kind ``"alert"``). The sinks are saved in
the loop's configuration, so a loop reopened in another process keeps them.

Blocking: a sink with a ``timeout`` (every WebhookSink; a CallableSink when given one) runs in
a worker thread that ``step()`` waits for at most that long, retries and backoff included;
``step()`` therefore waits at most the sum of its sinks' timeouts. A LogSink runs inline (the
application's logging handlers are its own).

"Once per incident": see :mod:`loopwise.loop.alerts._webhook` — at-least-once transport with one
idempotency key per incident notification, no resend after a 2xx answer, a pending incident
retried under its first key at the next step.

Examples
--------
>>> from loopwise.loop.alerts import Alert, LogSink, deliver
>>> deliver([LogSink()], [Alert("input_drift", "input drift")], state={})[0]["deliveries"][0]["outcome"]
'delivered'
"""

from __future__ import annotations

from ._alert import SEVERITIES, Alert, severity_rank
from ._deliver import check_sinks, deliver
from ._sinks import CallableSink, LogSink
from ._webhook import (IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSink, sign,
                       verify_signature)

__all__ = ["Alert", "SEVERITIES", "severity_rank", "LogSink", "CallableSink", "WebhookSink", "deliver",
           "check_sinks", "sign", "verify_signature", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "IDEMPOTENCY_HEADER"]
