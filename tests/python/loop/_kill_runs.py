"""Random kills of ``step(key)`` runs, in a fresh interpreter that forks one child per run.

Usage: python _kill_runs.py step WORKDIR KILLS SEED -> one JSON line (the summary).

Each trial copies a loop whose next step retrains and promotes, runs ``step(key="k")`` in a
child killed at a random line of loopwise code (sometimes the retry is killed too), then
retries until a run completes, and compares the loop with one stepped without a kill.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _step_kill  # noqa: E402
from _line_kill import in_child  # noqa: E402


def _step(path: str, key: str = "k") -> None:
    from loopwise.loop.feedback_loop import FeedbackLoop

    with FeedbackLoop(path) as loop:
        result = loop.step(key=key)
    with open(os.path.join(path, "..", "result.json"), "w", encoding="utf-8") as handle:
        json.dump(result, handle, default=str)


def _outcome(path: str) -> dict:
    found = _step_kill.inventory(path)
    with open(os.path.join(path, "..", "result.json"), encoding="utf-8") as handle:
        result = json.load(handle)
    found["result"] = {"action": result["action"], "challenger": result.get("challenger")}
    return found


def step_kills(workdir: str, kills: int, seed: int) -> dict:
    rng = random.Random(seed)
    template = os.path.join(workdir, "template", "loop")
    assert in_child(lambda: _step_kill.make_loop(template)) == 0
    clean = os.path.join(workdir, "clean", "loop")
    shutil.copytree(template, clean)
    count_file = os.path.join(workdir, "lines")
    assert in_child(lambda: _step(clean), count_to=count_file) == 0
    with open(count_file, encoding="utf-8") as handle:
        lines = int(handle.read())
    expected = _outcome(clean)
    summary = {"kills": 0, "trials": 0, "duplicate_versions": 0, "lost_decisions": 0, "different": 0,
               "leftover_candidates": 0, "lines_per_step": lines, "mismatches": []}
    trial = 0
    while summary["kills"] < kills:
        trial += 1
        path = os.path.join(workdir, f"t{trial}", "loop")
        shutil.copytree(template, path)
        while True:  # kill runs at random lines until one completes (a retry is killed 1 time in 3)
            status = in_child(lambda: _step(path), kill_at=rng.randint(1, lines))
            if status == 0:
                break
            assert status < 0, f"trial {trial}: the step failed with exit status {status}"
            summary["kills"] += 1
            if rng.random() >= 1 / 3:
                assert in_child(lambda: _step(path)) == 0, f"trial {trial}: the retry failed"
                break
        found = _outcome(path)
        summary["trials"] += 1
        summary["duplicate_versions"] += max(0, len(found["versions"]) - len(expected["versions"]))
        summary["lost_decisions"] += int(found["steps"] != expected["steps"] or found["pending"] is not None)
        summary["leftover_candidates"] += found.pop("candidates", 0)
        expected_view = {k: v for k, v in expected.items() if k != "candidates"}
        if found != expected_view:
            summary["different"] += 1
            summary["mismatches"].append({"trial": trial, "found": found})
        shutil.rmtree(os.path.dirname(path))
    summary["expected"] = {k: expected[k] for k in ("versions", "champion", "promotions", "steps", "result")}
    return summary


if __name__ == "__main__":
    mode, workdir, kills, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps({"step": step_kills}[mode](workdir, kills, seed), default=str))
