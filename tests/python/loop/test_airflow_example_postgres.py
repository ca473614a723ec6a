"""examples/airflow_dag.py with its feedback store on PostgreSQL: the one setting, end to end.

The DAG's task functions run as Airflow runs them, each in a process of its own, with
``LOOPWISE_STORE_URL`` pointing at a throwaway PostgreSQL server (conftest ``postgres_url``);
the Airflow run itself (tests/python/test_airflow_example.py) keeps the SQLite default.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import loopwise

from pg_cluster import schema_url

ROOT = Path(__file__).resolve().parents[3]
# The task processes import the loopwise this process imported (installed in CI, where the
# source tree has no compiled core).
_LOOPWISE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(loopwise.__file__)))
_RUN = (
    "import importlib.util, json, sys\n"
    "spec = importlib.util.spec_from_file_location('airflow_dag', sys.argv[1])\n"
    "dag = importlib.util.module_from_spec(spec); spec.loader.exec_module(dag)\n"
    "print(json.dumps(dag.run_pipeline(dag.LOOP_PATH, key=sys.argv[2]), default=str))\n"
)


def _pipeline(env: dict, key: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _RUN, str(ROOT / "examples" / "airflow_dag.py"), key], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_example_pipeline_on_postgresql(tmp_path, postgres_url):
    import skops.io
    from sklearn.linear_model import LogisticRegression

    from loopwise.datasets import make_drifting_stream
    from loopwise.loop.feedback_loop import FeedbackLoop

    stream = make_drifting_stream(n_samples=4000, kind="abrupt", change_points=[1000], random_state=4)
    model = LogisticRegression(max_iter=1000).fit(stream.X.iloc[:800], stream.y[:800])
    skops.io.dump(model, tmp_path / "model.skops")
    stream.X.iloc[:800].assign(label=stream.y[:800]).to_parquet(tmp_path / "reference.parquet")
    url = schema_url(postgres_url)
    loop_path = tmp_path / "loop"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([_LOOPWISE_PARENT, os.environ.get("PYTHONPATH", "")]),
           "LOOPWISE_LOOP_PATH": str(loop_path), "LOOPWISE_MODEL_FILE": str(tmp_path / "model.skops"),
           "LOOPWISE_REFERENCE_FILE": str(tmp_path / "reference.parquet"), "LOOPWISE_LABELS_COLUMN": "label",
           "LOOPWISE_STORE_URL": url}

    first = _pipeline(env, "2026-01-02")
    assert first["created"]["created"] and first["checked"]["skip"]  # a new loop: nothing to do yet
    saved = json.loads((loop_path / "loop.json").read_text())
    assert saved["store"] == url
    assert not (loop_path / "store.db").exists()  # the served rows live on the server, not in SQLite

    with FeedbackLoop(loop_path) as loop:  # no store argument: the saved one
        loop.predict(stream.X.iloc[1500:3500], ids=range(2000), timestamp=stream.timestamp[1500:3500])
        loop.feedback(range(2000), stream.y[1500:3500])
    from loopwise.loop.store import FeedbackStore

    with FeedbackStore(url) as store:  # the labels are on the PostgreSQL server
        assert store.counts()["labeled"] == 2000

    second = _pipeline({**env, "LOOPWISE_STORE_URL": ""}, "2026-01-03")  # later tasks: the loop's saved store
    assert not second["checked"]["skip"], second["checked"]
    assert any("threshold 800" in reason for reason in second["checked"]["reasons"])
    assert second["validated"]["passed"] and second["promoted"]["promoted"], second
    with FeedbackLoop(loop_path) as loop:
        assert loop.champion_version == 2 and loop.store.counts()["labeled"] == 2000
    assert not (loop_path / "store.db").exists()
    again = _pipeline({**env, "LOOPWISE_STORE_URL": ""}, "2026-01-03")  # a retried run: nothing twice
    assert again["promoted"]["repeated"]
