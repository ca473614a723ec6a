"""Run in a new process: reopen a loop WITHOUT trusted=True, serve, label and step it.

Usage: python _reopen_step.py LOOP_DIR DATA_PICKLE -> prints one JSON line.
DATA_PICKLE holds {"X": rows to serve, "y": their labels, "pending_ids", "pending_y":
labels of the batch the creating process served but did not label, "batch": size}.
"""

from __future__ import annotations

import json
import pickle
import sys

from loopwise.loop.feedback_loop import FeedbackLoop


def main(path: str, data_path: str) -> dict:
    with open(data_path, "rb") as handle:
        data = pickle.load(handle)
    X, y, batch = data["X"], data["y"], data["batch"]
    pending_ids, pending_y = list(data["pending_ids"]), data["pending_y"]
    out = {"actions": [], "champion_types": []}
    with FeedbackLoop(path) as loop:  # no trusted=True: the registry must not need it
        out["champion_types"].append(type(loop.model()).__name__)
        for start in range(0, len(y), batch):
            ids = [f"sub{i:07d}" for i in range(start, start + batch)][: len(y) - start]
            part = X.iloc[start:start + batch] if hasattr(X, "iloc") else X[start:start + batch]
            loop.predict(part, ids=ids)
            loop.feedback(pending_ids, pending_y)
            out["actions"].append(loop.step()["action"])
            pending_ids, pending_y = ids, y[start:start + batch]
        out["champion_types"].append(type(loop.model()).__name__)
        out["champion"] = loop.champion_version
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
