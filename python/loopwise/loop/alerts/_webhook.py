"""``WebhookSink``: a JSON POST per alert, with retries, backoff, a time budget and a signature.

Delivery semantics ("once per incident"): every attempt for one incident carries the same
``Idempotency-Key`` header (also the body's ``id``); the sink stops at the first 2xx answer
and the loop remembers the incident as delivered, so it is never sent again within the
cool-down. A request whose answer was lost (a timeout after the server acted) is sent again
with the same key, so transport is at-least-once and a receiver that ignores keys it has
seen processes each incident exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Optional, Union

from ._sinks import check_sink_settings

__all__ = ["WebhookSink", "sign", "verify_signature", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "IDEMPOTENCY_HEADER"]

SIGNATURE_HEADER = "X-Loopwise-Signature"
TIMESTAMP_HEADER = "X-Loopwise-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Answers worth another attempt: the server may succeed later. Other 4xx mean the request
# itself is wrong, and sending it again would fail the same way.
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
# Below this many seconds left in the budget another attempt cannot usefully start.
_MIN_ATTEMPT = 0.01


def sign(body: bytes, timestamp: str, secret: Union[str, bytes]) -> str:
    """The signature header value: ``sha256=`` + HMAC-SHA256 of ``timestamp + "." + body``.

    The timestamp is signed with the body so a captured request cannot be replayed later
    with a fresh timestamp.

    Examples
    --------
    >>> sign(b'{"id": "a"}', "1700000000", "s3cret")[:7]
    'sha256='
    """
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(body: bytes, timestamp: str, signature: str, secret: Union[str, bytes], *,
                     tolerance: Optional[float] = 300.0, now: Optional[float] = None) -> bool:
    """For a receiver: does ``signature`` match ``body`` and ``timestamp``, and is it recent?

    Parameters
    ----------
    body : bytes
        The raw request body, exactly as received.
    timestamp, signature : str
        The ``X-Loopwise-Timestamp`` and ``X-Loopwise-Signature`` headers.
    secret : str or bytes
    tolerance : float, optional
        Largest age in seconds accepted (None: any age).

    Examples
    --------
    >>> body = b'{"id": "a"}'
    >>> verify_signature(body, "1700000000", sign(body, "1700000000", "k"), "k", tolerance=None)
    True
    >>> verify_signature(body + b" ", "1700000000", sign(body, "1700000000", "k"), "k", tolerance=None)
    False
    """
    if tolerance is not None:
        try:
            age = abs((time.time() if now is None else now) - float(timestamp))
        except ValueError:
            return False
        if age > tolerance:
            return False
    return hmac.compare_digest(sign(body, timestamp, secret), str(signature))


@dataclass
class WebhookSink:
    """POST each alert as JSON to ``url``.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` endpoint.
    secret_env : str, optional
        Name of the environment variable holding the signing secret (the secret itself is
        never written to the loop's configuration). When given, each request carries
        ``X-Loopwise-Timestamp`` and ``X-Loopwise-Signature: sha256=<hex>`` (HMAC-SHA256 of
        ``timestamp + "." + body``; check it with :func:`verify_signature`). A missing
        variable fails the delivery rather than sending unsigned.
    timeout : float
        Total seconds one ``step()`` may spend on this sink (every alert, every attempt,
        every backoff). The budget is enforced from outside the request too, so a server that
        trickles its answer cannot stretch it.
    attempt_timeout : float
        Socket timeout of one attempt (capped by what is left of ``timeout``).
    retries : int
        Further attempts after a failed one (connection error, timeout, 408/429/5xx).
    backoff : float
        Seconds before the first retry; doubled before each further one.
    min_severity, cool_down, name :
        As for :class:`LogSink`.
    headers : dict, optional
        Extra request headers (e.g. a routing key; put no secrets here, they are saved).

    Examples
    --------
    >>> sink = WebhookSink("https://hooks.example.com/loopwise", secret_env="LOOPWISE_WEBHOOK_SECRET")
    >>> sink.timeout, sink.retries
    (5.0, 3)
    """

    url: str
    secret_env: Optional[str] = None
    timeout: float = 5.0
    attempt_timeout: float = 2.0
    retries: int = 3
    backoff: float = 0.25
    min_severity: str = "warning"
    cool_down: float = 3600.0
    name: str = "webhook"
    headers: Optional[dict] = None

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise ValueError(f"WebhookSink.url must start with http:// or https://, got {self.url!r}")
        if self.secret_env is not None and (not isinstance(self.secret_env, str) or not self.secret_env):
            raise ValueError("WebhookSink.secret_env must be the name of an environment variable (str), "
                             f"got {self.secret_env!r}; the secret itself is read from it when sending")
        for name in ("attempt_timeout", "backoff"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or (
                    value < 0 or (name == "attempt_timeout" and value == 0)):
                raise ValueError(f"WebhookSink.{name} must be a finite number of seconds "
                                 f"({'> 0' if name == 'attempt_timeout' else '>= 0'}), got {value!r}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError(f"WebhookSink.retries must be an int >= 0, got {self.retries!r}")
        if self.headers is not None and not (isinstance(self.headers, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items())):
            raise TypeError("WebhookSink.headers must be a dict of str to str")
        check_sink_settings(self)
        if self.timeout is None:
            raise ValueError("WebhookSink.timeout must be a positive number of seconds (the step's budget)")

    def _secret(self) -> Optional[str]:
        if self.secret_env is None:
            return None
        secret = os.environ.get(self.secret_env)
        if not secret:
            raise LookupError(f"the environment variable {self.secret_env!r} named by WebhookSink.secret_env "
                              "is not set; refusing to send an unsigned alert")
        return secret

    def request(self, payload: dict, idempotency_key: str) -> urllib.request.Request:
        """The HTTP request for one payload (signed when ``secret_env`` is set).

        Examples
        --------
        >>> WebhookSink("http://localhost:9/x").request({"m": 1}, "k").get_header("Idempotency-key")
        'k'
        """
        body = json.dumps({**payload, "id": idempotency_key}, sort_keys=True).encode()
        headers = {**(self.headers or {}), "Content-Type": "application/json", IDEMPOTENCY_HEADER: idempotency_key,
                   "User-Agent": "loopwise-alerts"}
        secret = self._secret()
        if secret is not None:
            stamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = stamp
            headers[SIGNATURE_HEADER] = sign(body, stamp, secret)
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")

    def send(self, payload: dict, idempotency_key: str, deadline: Optional[float]) -> dict:
        """POST one payload, retrying with backoff until a 2xx answer or the deadline.

        ``deadline`` is a :func:`time.monotonic` time; None means ``now + timeout``.
        """
        if deadline is None:
            deadline = time.monotonic() + float(self.timeout)
        try:
            request = self.request(payload, idempotency_key)
        except LookupError as error:
            return {"outcome": "failed", "attempts": 0, "error": str(error)}
        attempts, error, status = 0, None, None
        for attempt in range(self.retries + 1):
            left = deadline - time.monotonic()
            if left < _MIN_ATTEMPT:
                error = f"time budget exhausted ({error})" if error else "time budget exhausted"
                break
            attempts += 1
            status, error, retry = _post(request, min(float(self.attempt_timeout), left))
            if error is None:
                return {"outcome": "delivered", "attempts": attempts, "status": status}
            if not retry or attempt == self.retries:
                break
            pause = float(self.backoff) * (2 ** attempt)
            if time.monotonic() + pause + _MIN_ATTEMPT > deadline:
                error = f"time budget exhausted ({error})"
                break
            time.sleep(pause)
        return {"outcome": "failed", "attempts": attempts, "status": status, "error": error}


def _post(request: urllib.request.Request, timeout: float) -> tuple[Optional[int], Optional[str], bool]:
    """One attempt: (HTTP status, error or None, worth retrying)."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the user's URL
            response.read(65536)
            return int(response.status), None, False
    except urllib.error.HTTPError as error:
        return int(error.code), f"HTTP {error.code}", int(error.code) in _RETRY_STATUS
    except (urllib.error.URLError, OSError) as error:  # refused, reset, DNS, socket timeout
        reason = getattr(error, "reason", error)
        return None, f"{type(reason).__name__}: {reason}", True
