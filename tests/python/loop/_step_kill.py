"""A small loop whose next step retrains and promotes, and what its directory holds.

Shared by the kill tests of ``step(key)`` and of the task functions: small data, so that a
hundred killed and re-run steps stay within seconds.
"""

from __future__ import annotations

import json
import os

import pandas as pd

from sklearn.naive_bayes import GaussianNB

from loopwise.datasets import make_drifting_stream
from loopwise.loop.feedback_loop import FeedbackLoop
from loopwise.loop.policy import LabelCountTrigger, Policy, SlidingWindow


def policy() -> Policy:
    return Policy(triggers=[LabelCountTrigger(n=100)], selection=SlidingWindow(400), min_labels=100,
                  validation_rows=150, gate={"require_significance": False})


def _stream():
    return make_drifting_stream(n_samples=1200, kind="abrupt", change_points=[300], random_state=7)


def stream_labels():
    """Labels of the 600 rows the loop served (ids r0..r599)."""
    return _stream().y[300:900]


def make_loop(path: str, *, store: str | None = None, labeled: int = 600) -> None:
    """A loop whose champion predates an abrupt change, with 600 rows served after it and the
    first ``labeled`` of them labelled."""
    stream = _stream()
    X, y = stream.X, stream.y
    # A quick learner and no reference (no drift check): a killed and retried step costs
    # little, so a hundred of them fit in the tests' budget.
    champion = GaussianNB().fit(X.iloc[:300], y[:300])
    with FeedbackLoop(path, model=champion, policy=policy(), monitor_rows=100, store=store) as loop:
        ids = [f"r{i}" for i in range(600)]
        loop.predict(X.iloc[300:900], ids=ids)
        loop.feedback(ids[:labeled], y[300:300 + labeled])


def inventory(path: str) -> dict:
    """Versions, champion, promotions and recorded step results of the loop at ``path``."""
    with FeedbackLoop(path) as loop:
        versions = loop.registry.versions()
        history = loop.registry.history()
        with open(os.path.join(path, "state.json"), encoding="utf-8") as handle:
            state = json.load(handle)
        return {
            "versions": versions["version"].tolist(),
            "parents": [None if pd.isna(p) else int(p) for p in versions["parent"].tolist()],
            "windows": [json.dumps(w, sort_keys=True) for w in versions["data_window"]],
            "champion": loop.champion_version,
            "promotions": int((history["action"] == "promote").sum()) if len(history) else 0,
            "steps": {k: v.get("action") for k, v in state.get("steps", {}).items()},
            "tasks": sorted(state.get("tasks", {})),
            "pending": state.get("pending"),
            "labeled": int(loop.store.counts().get("labeled", 0)),
            "version_metrics": [json.dumps(m, sort_keys=True) for m in versions["metrics"]],
            "candidates": int(len(loop.registry.candidates())),
        }
