"""A small loop whose next step retrains and promotes, and what its directory holds.

Shared by the kill tests of ``step(key)`` and of the task functions: small data, so that a
hundred killed and re-run steps stay within seconds.
"""

from __future__ import annotations

import json
import os

import pandas as pd

from sklearn.linear_model import LogisticRegression

from loopwise.datasets import make_drifting_stream
from loopwise.loop.feedback_loop import FeedbackLoop
from loopwise.loop.policy import LabelCountTrigger, Policy, SlidingWindow


def policy() -> Policy:
    return Policy(triggers=[LabelCountTrigger(n=100)], selection=SlidingWindow(400), min_labels=100,
                  validation_rows=150, gate={"require_significance": False})


def make_loop(path: str, *, store: str | None = None) -> None:
    """A loop whose champion predates an abrupt change, with 600 labelled rows after it."""
    stream = make_drifting_stream(n_samples=1200, kind="abrupt", change_points=[300], random_state=7)
    X, y = stream.X, stream.y
    champion = LogisticRegression().fit(X.iloc[:300], y[:300])
    with FeedbackLoop(path, model=champion, reference=X.iloc[:300], reference_labels=y[:300], policy=policy(),
                      monitor_rows=100, store=store) as loop:
        ids = [f"r{i}" for i in range(600)]
        loop.predict(X.iloc[300:900], ids=ids)
        loop.feedback(ids, y[300:900])


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
