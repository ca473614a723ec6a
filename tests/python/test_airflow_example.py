"""examples/airflow_dag.py end to end under a real Apache Airflow (``airflow dags test``).

Airflow lives in its own virtual environment (``build/airflow-venv``, created and cached by
scripts/test.sh; ``--system-site-packages`` so it sees the loopwise under test). This test
FAILS when that environment is missing, unless ``LOOPWISE_SKIP_AIRFLOW=1`` says to skip it.

The first DAG run creates the loop (its ``create`` task) and skips the rest (no data yet);
the test then logs drifted predictions and labels; the second run must retrain, validate and
promote under the policy the loop saved at creation (its trigger says "threshold 800"), with
no policy passed to any task.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import loopwise

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("LOOPWISE_AIRFLOW_VENV", ROOT / "build" / "airflow-venv"))
AIRFLOW = VENV / "bin" / "airflow"


def _airflow(env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(AIRFLOW), *args], env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _loopwise_path() -> str:
    """Where the venv finds the loopwise under test. An installed loopwise sits in the system
    site-packages, which the venv already sees (--system-site-packages) *behind* its own
    packages; putting that directory on PYTHONPATH would put every system package in front
    of Airflow's (an older typing_extensions broke anyio that way). A source tree is added."""
    parent = Path(loopwise.__file__).resolve().parents[1]
    return "" if parent.name in ("site-packages", "dist-packages") else str(parent)


def test_example_dag_runs_under_airflow(tmp_path):
    if not AIRFLOW.exists():
        if os.environ.get("LOOPWISE_SKIP_AIRFLOW") == "1":
            pytest.skip("LOOPWISE_SKIP_AIRFLOW=1: Apache Airflow was not installed")
        pytest.fail(f"no Airflow at {AIRFLOW}: scripts/test.sh installs it (set LOOPWISE_SKIP_AIRFLOW=1 to skip)")
    import skops.io
    from sklearn.linear_model import LogisticRegression

    from loopwise.datasets import make_drifting_stream
    from loopwise.loop.feedback_loop import FeedbackLoop

    stream = make_drifting_stream(n_samples=4000, kind="abrupt", change_points=[1000], random_state=4)
    model = LogisticRegression(max_iter=1000).fit(stream.X.iloc[:800], stream.y[:800])
    skops.io.dump(model, tmp_path / "model.skops")
    reference = stream.X.iloc[:800].assign(label=stream.y[:800])
    reference.to_parquet(tmp_path / "reference.parquet")
    loop_path = tmp_path / "loop"
    home = tmp_path / "airflow"
    home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "examples"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "PYTHONPATH": _loopwise_path(),
        "LOOPWISE_LOOP_PATH": str(loop_path),
        "LOOPWISE_MODEL_FILE": str(tmp_path / "model.skops"),
        "LOOPWISE_REFERENCE_FILE": str(tmp_path / "reference.parquet"),
        "LOOPWISE_LABELS_COLUMN": "label",
    }
    _airflow(env, "db", "migrate")
    _airflow(env, "dags", "test", "loopwise_feedback_loop", "2026-01-02")
    saved = json.loads((loop_path / "loop.json").read_text())
    assert "LabelCountTrigger" in json.dumps(saved) and '"n": 800' in json.dumps(saved)

    with FeedbackLoop(loop_path) as loop:  # no policy: the saved one
        assert loop.champion_version == 1
        loop.predict(stream.X.iloc[1500:3500], ids=range(2000), timestamp=stream.timestamp[1500:3500])
        loop.feedback(range(2000), stream.y[1500:3500])

    _airflow(env, "dags", "test", "loopwise_feedback_loop", "2026-01-03")
    with FeedbackLoop(loop_path) as loop:
        entries = loop.audit.entries()
        training = entries[entries["kind"] == "training"]
        assert len(training), "the second run did not retrain:\n" + entries[["kind", "reasons"]].to_string()
        # The reasons a challenger was trained for come from the saved policy's triggers.
        assert any("threshold 800" in reason for reasons in training["reasons"] for reason in reasons), \
            training["reasons"].tolist()
        assert (entries["kind"] == "validation").any()
        assert loop.champion_version == 2, entries[["kind", "passed", "reasons"]].to_string()
