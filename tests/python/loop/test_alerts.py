"""Alerts delivered (issue 18, item 1): webhook retries, budget and signature against a real
local HTTP server; de-duplication and cool-down; the audit trail; the saved configuration."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import sys
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the helper modules beside this file (pytest runs with importlib mode)

import _alert_sink  # noqa: E402
from _alert_server import AlertServer  # noqa: E402
from loopwise.loop import FeedbackLoop, Policy  # noqa: E402
from loopwise.loop.alerts import (Alert, CallableSink, LogSink, WebhookSink, deliver,  # noqa: E402
                                  verify_signature)

DRIFT = Alert("input_drift", "input drift: 2 of 3 columns drifted", "warning")


def _outcome(results, sink="webhook"):
    return next(d for d in results[0]["deliveries"] if d["sink"] == sink)


def test_fails_then_succeeds_is_delivered_once_with_one_key():
    with AlertServer(("status", 503), ("status", 500), ("ok",)) as server:
        sink = WebhookSink(server.url, retries=3, backoff=0.01, timeout=5)
        state: dict = {}
        first = _outcome(deliver([sink], [DRIFT], state=state, now=1000.0))
        assert first["outcome"] == "delivered" and first["attempts"] == 3
        assert len(server.requests) == 3 and len(set(server.keys())) == 1
        assert json.loads(server.requests[-1]["body"])["id"] == server.keys()[0] == first["id"]
        # The same incident at the next batches, within the cool-down: nothing is sent.
        for now in (1060.0, 2000.0):
            again = _outcome(deliver([sink], [DRIFT], state=state, now=now))
            assert again["outcome"] == "suppressed" and again["id"] == first["id"]
        assert len(server.requests) == 3


def test_timeout_then_success_sends_the_same_key_and_stops_at_success():
    # The server records the first request, then answers after the client gave up.
    with AlertServer(("slow", 1.5), ("ok",)) as server:
        sink = WebhookSink(server.url, attempt_timeout=0.3, retries=3, backoff=0.01, timeout=3)
        state: dict = {}
        result = _outcome(deliver([sink], [DRIFT], state=state, now=0.0))
        assert result["outcome"] == "delivered" and result["attempts"] == 2
        assert len(server.requests) == 2
        assert len(set(server.keys())) == 1  # one incident for a receiver that de-duplicates by key
        time.sleep(1.5)  # the slow handler finishes; still nothing new is sent
        deliver([sink], [DRIFT], state=state, now=10.0)
        assert len(server.requests) == 2


def test_a_slow_server_never_holds_the_step_past_the_budget_and_is_retried_with_the_same_key():
    with AlertServer(("slow", 3.0), ("slow", 3.0), ("ok",)) as server:
        sink = WebhookSink(server.url, attempt_timeout=2.0, retries=5, backoff=0.01, timeout=0.6)
        state: dict = {}
        start = time.monotonic()
        results = deliver([sink], [DRIFT, Alert("performance_drop", "accuracy fell", "critical")],
                          state=state, now=0.0)
        elapsed = time.monotonic() - start
        assert elapsed < 0.6 + 0.25, elapsed
        outcomes = [r["deliveries"][0]["outcome"] for r in results]
        assert all(o in ("failed", "timed_out") for o in outcomes), outcomes
        pending = state["webhook"]["input_drift"]
        assert pending["sent"] is None
        # Next step: the server is fast again; the pending incident goes out under its old key.
        server.behaviours = [("ok",)]
        later = deliver([sink], [DRIFT], state=state, now=5.0)
        assert later[0]["deliveries"][0]["outcome"] == "delivered"
        assert later[0]["deliveries"][0]["id"] == pending["id"]
        assert server.keys()[-1] == pending["id"]


def test_a_trickling_answer_is_cut_by_the_budget_not_by_the_socket_timeout():
    # Each byte arrives within the socket timeout, so only the outer budget can stop it.
    with AlertServer(("trickle", 0.05)) as server:
        sink = WebhookSink(server.url, attempt_timeout=1.0, retries=0, timeout=0.5)
        start = time.monotonic()
        result = _outcome(deliver([sink], [DRIFT], state={}, now=0.0))
        assert time.monotonic() - start < 0.5 + 0.25
        assert result["outcome"] == "timed_out"


def test_signature_verifies_with_an_independent_hmac(monkeypatch):
    secret = "correct horse battery staple"
    monkeypatch.setenv("LOOPWISE_TEST_HOOK_SECRET", secret)
    with AlertServer(("ok",)) as server:
        sink = WebhookSink(server.url, secret_env="LOOPWISE_TEST_HOOK_SECRET")
        assert _outcome(deliver([sink], [DRIFT], state={}))["outcome"] == "delivered"
        request = server.requests[0]
        body, stamp = request["body"], request["headers"]["X-Loopwise-Timestamp"]
        expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert request["headers"]["X-Loopwise-Signature"] == f"sha256={expected}"
        assert verify_signature(body, stamp, request["headers"]["X-Loopwise-Signature"], secret)
        assert not verify_signature(body, stamp, request["headers"]["X-Loopwise-Signature"], "wrong secret")
        assert not verify_signature(body.replace(b"warning", b"critical"), stamp,
                                    request["headers"]["X-Loopwise-Signature"], secret)
        payload = json.loads(body)
        assert payload["kind"] == "input_drift" and payload["severity"] == "warning"
    # A secret named but missing: the delivery fails rather than going out unsigned.
    monkeypatch.delenv("LOOPWISE_TEST_HOOK_SECRET")
    with AlertServer(("ok",)) as server:
        result = _outcome(deliver([WebhookSink(server.url, secret_env="LOOPWISE_TEST_HOOK_SECRET")], [DRIFT],
                                  state={}))
        assert result["outcome"] == "failed" and "LOOPWISE_TEST_HOOK_SECRET" in result["error"]
        assert server.requests == []


def test_a_client_error_is_not_retried_and_a_closed_port_fails_within_the_budget():
    with AlertServer(("status", 400)) as server:
        result = _outcome(deliver([WebhookSink(server.url, backoff=0.01)], [DRIFT], state={}))
        assert result["outcome"] == "failed" and result["attempts"] == 1 and result["status"] == 400
        port = server.httpd.server_address[1]
    start = time.monotonic()
    result = _outcome(deliver([WebhookSink(f"http://127.0.0.1:{port}/gone", backoff=0.05, retries=2, timeout=1)],
                              [DRIFT], state={}))
    assert result["outcome"] == "failed" and result["attempts"] == 3
    assert time.monotonic() - start < 1.25


def test_cool_down_escalation_severity_filter_and_new_incidents():
    seen: list = []
    sink = CallableSink(seen.append, min_severity="warning", cool_down=600)
    state: dict = {}
    info = Alert("note", "something small", "info")
    out = deliver([sink], [DRIFT, info], state=state, now=0.0)
    assert [r["deliveries"][0]["outcome"] for r in out] == ["delivered", "below_min_severity"]
    assert deliver([sink], [DRIFT], state=state, now=599.0)[0]["deliveries"][0]["outcome"] == "suppressed"
    # The same incident escalates: delivered at once, under a new key.
    worse = Alert("input_drift", "input drift: 3 of 3 columns drifted", "critical")
    assert deliver([sink], [worse], state=state, now=600.5)[0]["deliveries"][0]["outcome"] == "delivered"
    assert deliver([sink], [worse], state=state, now=1000.0)[0]["deliveries"][0]["outcome"] == "suppressed"
    # The cool-down over: a reminder. Another incident key: its own page at once.
    assert deliver([sink], [worse], state=state, now=1201.0)[0]["deliveries"][0]["outcome"] == "delivered"
    other = Alert("prediction_drift", "prediction drift: KS p = 1e-05")
    assert deliver([sink], [other], state=state, now=1202.0)[0]["deliveries"][0]["outcome"] == "delivered"
    assert [p["kind"] for p in seen] == ["input_drift", "input_drift", "input_drift", "prediction_drift"]
    assert len({p["id"] for p in seen}) == 4


def test_a_failing_callable_is_retried_next_time_with_the_same_id():
    calls: list = []

    def flaky(payload):
        calls.append(payload["id"])
        if len(calls) == 1:
            raise RuntimeError("pager down")

    state: dict = {}
    first = deliver([CallableSink(flaky)], [DRIFT], state=state, now=0.0)[0]["deliveries"][0]
    assert first["outcome"] == "failed" and "pager down" in first["error"]
    second = deliver([CallableSink(flaky)], [DRIFT], state=state, now=1.0)[0]["deliveries"][0]
    assert second["outcome"] == "delivered" and calls[0] == calls[1]


def test_log_sink_levels(caplog):
    with caplog.at_level(logging.INFO, logger="loopwise.alerts"):
        deliver([LogSink()], [DRIFT, Alert("performance_drop", "accuracy fell", "critical")], state={})
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.CRITICAL]
    assert caplog.records[1].loopwise_alert["kind"] == "performance_drop"


@pytest.mark.parametrize("bad, match", [
    (dict(url="ftp://x"), "url"), (dict(url="http://x", timeout=0), "timeout"),
    (dict(url="http://x", retries=-1), "retries"), (dict(url="http://x", min_severity="loud"), "min_severity"),
    (dict(url="http://x", secret_env=""), "secret_env"), (dict(url="http://x", cool_down=float("nan")), "cool_down"),
])
def test_bad_settings_name_the_argument(bad, match):
    with pytest.raises(ValueError, match=match):
        WebhookSink(**bad)


def _drifting_loop(path, alerts, **kwargs):
    rng = np.random.default_rng(0)
    X_ref = pd.DataFrame(rng.normal(size=(600, 3)), columns=["a", "b", "c"])
    y_ref = (X_ref["a"] + rng.normal(size=600) > 0).astype(int)
    model = LogisticRegression().fit(X_ref, y_ref)
    return FeedbackLoop(path, model=model, reference=X_ref, reference_labels=y_ref, policy=Policy(triggers=[]),
                        monitor_rows=300, trusted=True, alerts=alerts, **kwargs), rng


def test_loop_step_delivers_once_audits_and_keeps_the_sinks_in_its_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPWISE_TEST_HOOK_SECRET", "s3cret-value")
    _alert_sink.RECEIVED.clear()
    with AlertServer(("status", 500), ("ok",)) as server:
        sinks = [CallableSink(_alert_sink.record),
                 WebhookSink(server.url, secret_env="LOOPWISE_TEST_HOOK_SECRET", backoff=0.01, timeout=2)]
        loop, rng = _drifting_loop(tmp_path / "loop", sinks)
        for batch in range(3):
            X = pd.DataFrame(rng.normal(size=(300, 3)) + [3.0, 3.0, 0.0], columns=["a", "b", "c"])
            loop.predict(X, ids=[f"b{batch}-{i}" for i in range(300)])
            result = loop.step()
            assert any(a.startswith("input drift") for a in result["alerts"])
        loop.close()
        # Three batches, one incident: each sink delivered it once.
        drift_calls = [p for p in _alert_sink.RECEIVED if p["kind"] == "input_drift"]
        assert len(drift_calls) == 1 and drift_calls[0]["details"]["columns"] == ["a", "b"]
        drift_posts = [json.loads(r["body"]) for r in server.requests]
        assert len({p["id"] for p in drift_posts if p["kind"] == "input_drift"}) == 1

        text = (tmp_path / "loop" / "loop.json").read_text()
        assert "LOOPWISE_TEST_HOOK_SECRET" in text and "s3cret-value" not in text
        # Reopened without alerts=: the saved sinks and the delivery state carry on.
        with FeedbackLoop(tmp_path / "loop", trusted=True) as reopened:
            assert [type(s).__name__ for s in reopened.alerts] == ["CallableSink", "WebhookSink"]
            assert reopened.alerts[0].fn is _alert_sink.record
            X = pd.DataFrame(rng.normal(size=(300, 3)) + [3.0, 3.0, 0.0], columns=["a", "b", "c"])
            reopened.predict(X, ids=[f"b9-{i}" for i in range(300)])
            outcomes = [d["outcomes"] for d in reopened.step()["alert_deliveries"] if d["key"] == "input_drift"]
            assert outcomes == [{"callable": "suppressed", "webhook": "suppressed"}]
            audit = reopened.audit.entries(kind="alert")
        drifts = audit[[d["alert"]["kind"] == "input_drift" for d in audit["details"]]]
        first = {d["sink"]: d for d in drifts["details"].iloc[0]["deliveries"]}
        assert first["webhook"]["outcome"] == "delivered" and first["webhook"]["attempts"] == 2
        assert first["callable"]["outcome"] == "delivered"
        later = [{d["sink"]: d["outcome"] for d in details["deliveries"]} for details in drifts["details"].iloc[1:]]
        assert later == [{"callable": "suppressed", "webhook": "suppressed"}] * 3


def test_a_lambda_sink_is_refused_on_reopening_with_a_clear_message(tmp_path):
    loop, _ = _drifting_loop(tmp_path / "loop", [CallableSink(lambda payload: None)])
    loop.close()
    with pytest.raises(ValueError, match="alerts="):
        FeedbackLoop(tmp_path / "loop", trusted=True)
    with pytest.raises(ValueError, match="unique"):
        FeedbackLoop(tmp_path / "other", alerts=[LogSink(), LogSink()])
    with pytest.raises(TypeError, match="alerts"):
        FeedbackLoop(tmp_path / "other", alerts=[print])


def test_step_waits_for_a_hanging_webhook_no_longer_than_its_budget(tmp_path):
    with AlertServer(("slow", 5.0)) as server:
        loop, rng = _drifting_loop(tmp_path / "loop", [WebhookSink(server.url, timeout=0.5, attempt_timeout=5.0)])
        spent: list = []
        deliver_alerts = loop.notify

        def timed(*args, **kwargs):  # the delivery part of step(), measured in place
            start = time.monotonic()
            try:
                return deliver_alerts(*args, **kwargs)
            finally:
                spent.append(time.monotonic() - start)

        loop.notify = timed
        X = pd.DataFrame(rng.normal(size=(300, 3)) + [3.0, 3.0, 0.0], columns=["a", "b", "c"])
        loop.predict(X, ids=[f"r{i}" for i in range(300)])
        result = loop.step()
        loop.close()
    assert len(spent) == 1 and spent[0] < 0.5 + 0.3, spent
    # Socket timeout and budget end together: either outcome may be recorded, never "delivered".
    assert {o["webhook"] for o in (d["outcomes"] for d in result["alert_deliveries"])} <= {"timed_out", "failed"}
