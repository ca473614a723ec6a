"""The Airflow task functions, each in its own process, killed at random moments and retried.

A DAG run: label the last served rows, ``check_drift``, ``retrain``, ``validate``,
``promote``, ``run_step`` — each task a process of its own, as Airflow runs them, killed
1 time in 2 (its retry 1 time in 4) and retried until it completes. The loop must end as
after an uninterrupted run: no label, version or decision lost or duplicated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import loopwise

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGALRM")

# The children import the loopwise this process imported: the source tree in development,
# the installed package in CI (the source tree has no compiled core there).
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(loopwise.__file__)))
# LOOPWISE_KILLS raises it; the default keeps the suite's budget on a 2-core CI machine.
_KILLS = int(os.environ.get("LOOPWISE_KILLS", "20"))


def test_tasks_killed_at_random_moments_lose_and_duplicate_nothing(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.path.abspath(_PACKAGE)}
    env.pop("LOOPWISE_TEST_KILL_AT", None)
    runs = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "_kill_runs.py"), "tasks",
                           str(tmp_path), str(_KILLS), "5"], env=env, capture_output=True, text=True, timeout=900)
    assert runs.returncode == 0, runs.stderr[-3000:]
    summary = json.loads(runs.stdout.strip().splitlines()[-1])
    assert summary["kills"] >= _KILLS
    assert summary["expected"]["xcom"]["passed"] and summary["expected"]["champion"] == 2
    assert summary["duplicate_versions"] == 0 and summary["lost_or_duplicate_labels"] == 0, summary
    assert summary["lost_decisions"] == 0, summary
    assert summary["different"] == 0, summary["mismatches"][:3]
