"""A custom policy whose parts are importable by path (for the cross-process tests).

``train_fn`` appends one JSON line per call to the file named by ``LOOPTESTS_MARKER`` (pid,
number of rows, the trigger reasons are not known here), so a test can tell that this
function, and not the default ``Refit``, trained in a given process.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

MARKER = "LOOPTESTS_MARKER"


def train_fn(X: Any, y: Any, sample_weight: Any = None) -> Any:
    from sklearn.linear_model import LogisticRegression

    path = os.environ.get(MARKER)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"pid": os.getpid(), "n": int(len(y))}) + "\n")
    return LogisticRegression(C=0.5).fit(X, y, sample_weight=sample_weight)


@dataclass
class EveryLabels:
    """A user's own trigger class: fire after ``n`` labels since the last attempt."""

    n: int = 300
    name: str = "custom_every"

    def __call__(self, status: Any) -> Optional[str]:
        if status.labels_since_attempt >= self.n:
            return f"custom trigger: {status.labels_since_attempt} labels (every {self.n})"
        return None


def make_policy() -> Any:
    from loopwise.loop.policy import Policy, Refit, SlidingWindow

    return Policy(triggers=[EveryLabels(n=300)], selection=SlidingWindow(n_rows=700), retrain=Refit(train_fn=train_fn),
                  validation_rows=250, min_labels=300, gate={"alpha": 0.2, "min_gain": -0.05})


def make_data(n: int = 4000, seed: int = 3) -> tuple:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = ((np.arange(n) < n // 2) * (X[:, 0] + X[:, 1]) + (np.arange(n) >= n // 2) * (X[:, 2] - X[:, 0]) > 0).astype(int)
    return X, y
