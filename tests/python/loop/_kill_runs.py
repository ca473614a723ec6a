"""Random kills of ``step(key)`` runs, in a fresh interpreter that forks one child per run.

Usage: python _kill_runs.py step WORKDIR KILLS SEED -> one JSON line (the summary).

Each trial copies a loop whose next step retrains and promotes, runs ``step(key="k")`` in a
child killed at a random moment of its run (sometimes the retry is killed too), then
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
from _fork_kill import in_child, measured  # noqa: E402


def _progress(workdir: str, summary: dict) -> None:
    """The summary so far, for a run cut short."""
    with open(os.path.join(workdir, "progress.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, default=str)


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
    time_file = os.path.join(workdir, "seconds")
    assert in_child(lambda: _step(clean), measure_to=time_file) == 0
    seconds = measured(time_file)
    expected = _outcome(clean)
    summary = {"kills": 0, "trials": 0, "duplicate_versions": 0, "lost_decisions": 0, "different": 0,
               "leftover_candidates": 0, "seconds_per_step": seconds, "mismatches": []}
    trial = 0
    while summary["kills"] < kills:
        trial += 1
        path = os.path.join(workdir, f"t{trial}", "loop")
        shutil.copytree(template, path)
        while True:  # kill runs at random moments until one completes (a retry is killed 1 time in 3)
            status = in_child(lambda: _step(path), kill_after=rng.uniform(0, seconds), measure_to=time_file)
            if status == 0:  # ran to the end: kills now aim within this (the machine's current) run time
                seconds = measured(time_file)
                break
            assert status < 0, f"trial {trial}: the step failed with exit status {status}"
            summary["kills"] += 1
            if rng.random() >= 1 / 3:
                assert in_child(lambda: _step(path), measure_to=time_file) == 0, f"trial {trial}: the retry failed"
                seconds = measured(time_file)
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
        _progress(workdir, summary)
    summary["expected"] = {k: expected[k] for k in ("versions", "champion", "promotions", "steps", "result")}
    return summary


# ---------------------------------------------------------------------------- the tasks, as a DAG
def _labels(path: str) -> None:
    """The DAG's first task: the labels of the last 200 served rows (a re-log is a no-op)."""
    from loopwise.loop.feedback_loop import FeedbackLoop

    y = _step_kill.stream_labels()
    with FeedbackLoop(path) as loop:
        loop.feedback([f"r{i}" for i in range(400, 600)], y[400:600])


def _task(path: str, name: str, xcom: dict) -> dict:
    from loopwise import tasks

    if name == "labels":
        _labels(path)
        return {}
    if name == "check_drift":
        return tasks.check_drift(path, key="k")
    if name == "retrain":
        return tasks.retrain(path, key="k")
    if name == "validate":
        return tasks.validate(path, xcom["retrain"]["challenger"], key="k")
    if name == "promote":
        return tasks.promote(path, xcom["retrain"]["challenger"], passed=xcom["validate"]["passed"], key="k")
    return tasks.run_step(path, key="k2")


_DAG = ["labels", "check_drift", "retrain", "validate", "promote", "run_step"]


def _run_task(path: str, name: str, xcom_file: str, **kill) -> int:
    def work() -> None:
        with open(xcom_file, encoding="utf-8") as handle:
            xcom = json.load(handle)
        xcom[name] = _task(path, name, xcom)
        with open(xcom_file, "w", encoding="utf-8") as handle:
            json.dump(xcom, handle, default=str)

    return in_child(work, **kill)


def _dag_view(path: str, xcom_file: str) -> dict:
    found = _step_kill.inventory(path)
    with open(xcom_file, encoding="utf-8") as handle:
        xcom = json.load(handle)
    found["xcom"] = {"skip_check": xcom["check_drift"]["skip"], "passed": xcom["validate"]["passed"],
                     "champion": xcom["promote"].get("champion"), "run_step": xcom["run_step"].get("action")}
    return found


def task_kills(workdir: str, kills: int, seed: int) -> dict:
    """The DAG's tasks, each in its own process, killed at random moments and retried."""
    rng = random.Random(seed)
    template = os.path.join(workdir, "template", "loop")
    assert in_child(lambda: _step_kill.make_loop(template, labeled=400)) == 0
    clean = os.path.join(workdir, "clean", "loop")
    shutil.copytree(template, clean)
    seconds = {}
    xcom_file = os.path.join(workdir, "clean", "xcom.json")
    with open(xcom_file, "w", encoding="utf-8") as handle:
        json.dump({}, handle)
    for name in _DAG:
        time_file = os.path.join(workdir, f"seconds-{name}")
        assert _run_task(clean, name, xcom_file, measure_to=time_file) == 0, name
        seconds[name] = measured(time_file)
    expected = _dag_view(clean, xcom_file)
    summary = {"kills": 0, "kills_per_task": {name: 0 for name in _DAG}, "trials": 0, "duplicate_versions": 0,
               "lost_or_duplicate_labels": 0, "lost_decisions": 0, "different": 0, "leftover_candidates": 0,
               "seconds_per_task": seconds, "mismatches": []}
    trial = 0
    while summary["kills"] < kills:
        trial += 1
        path = os.path.join(workdir, f"t{trial}", "loop")
        shutil.copytree(template, path)
        xcom_file = os.path.join(workdir, f"t{trial}", "xcom.json")
        with open(xcom_file, "w", encoding="utf-8") as handle:
            json.dump({}, handle)
        for name in _DAG:  # each task killed 1 time in 2, a retry killed 1 time in 4
            chance = 0.5
            while rng.random() < chance:
                time_file = os.path.join(workdir, f"seconds-{name}")
                status = _run_task(path, name, xcom_file, kill_after=rng.uniform(0, seconds[name]),
                                   measure_to=time_file)
                if status == 0:  # ran to the end: kills now aim within this (current) run time
                    seconds[name] = measured(time_file)
                    break
                assert status < 0, f"trial {trial}: task {name} failed with exit status {status}"
                summary["kills"] += 1
                summary["kills_per_task"][name] += 1
                chance = 0.25
            else:
                time_file = os.path.join(workdir, f"seconds-{name}")
                assert _run_task(path, name, xcom_file, measure_to=time_file) == 0, f"trial {trial}: {name} failed"
                seconds[name] = measured(time_file)
        found = _dag_view(path, xcom_file)
        summary["trials"] += 1
        summary["duplicate_versions"] += max(0, len(found["versions"]) - len(expected["versions"]))
        summary["lost_or_duplicate_labels"] += int(found["labeled"] != expected["labeled"])
        summary["lost_decisions"] += int(found["tasks"] != expected["tasks"] or found["steps"] != expected["steps"])
        summary["leftover_candidates"] += found.pop("candidates") - expected["candidates"]
        if found != {k: v for k, v in expected.items() if k != "candidates"}:
            summary["different"] += 1
            summary["mismatches"].append({"trial": trial, "found": found})
        shutil.rmtree(os.path.dirname(path))
        _progress(workdir, summary)
    summary["expected"] = {k: expected[k] for k in ("versions", "champion", "promotions", "tasks", "labeled", "xcom")}
    return summary


if __name__ == "__main__":
    mode, workdir, kills, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps({"step": step_kills, "tasks": task_kills}[mode](workdir, kills, seed), default=str))
