"""An Airflow DAG that runs the loopwise feedback loop daily, as shipped.

create_loop -> check -> train -> gate -> release. ``create_loop`` creates the loop the first
time (champion from ``MODEL_FILE``, reference data from ``REFERENCE_FILE``, the policy below,
the feedback store at ``STORE_URL``: SQLite by default, PostgreSQL by one setting) and does
nothing on later runs. Equivalent one-time command, instead of that task::

    loopwise init /data/loopwise/fraud-model --model model.skops \\
        --reference reference.parquet --labels-column label

The loop saves its configuration (policy, slices, seed) in ``loop.json`` in its directory,
so the other tasks pass no policy: every task process opens the loop by path and runs the
saved policy. The policy below uses only loopwise's own parts (a callable defined in this
file could not be imported back by a new process, Airflow loads DAG files under another
module name).

Trusted loading, stated explicitly: scikit-learn models are stored as skops files and load
without ``trusted=True``; a pickled model would need it, and ``TRUSTED`` says whether we
trust whoever writes this loop's registry.

Each task is idempotent per data interval (``key``); a task with nothing to do raises
AirflowSkipException, so downstream tasks skip instead of failing. Imports work on Airflow
2.x and prefer ``airflow.sdk`` on 3.x. Without Airflow the file still imports, and
``run_pipeline`` runs the same functions in order.
"""

from __future__ import annotations

import os
from typing import Optional

from loopwise import tasks
from loopwise.loop.policy import LabelCountTrigger, PerformanceTrigger, Policy, Refit, SlidingWindow

LOOP_PATH = os.environ.get("LOOPWISE_LOOP_PATH", "/data/loopwise/fraud-model")
MODEL_FILE = os.environ.get("LOOPWISE_MODEL_FILE", "/data/loopwise/model.skops")
REFERENCE_FILE = os.environ.get("LOOPWISE_REFERENCE_FILE", "/data/loopwise/reference.parquet")
LABELS_COLUMN = os.environ.get("LOOPWISE_LABELS_COLUMN", "label")
TRUSTED = False  # skops files of scikit-learn models need no trust; pickles would
# The one setting that moves the feedback store (served predictions, labels) from SQLite in
# the loop directory (None) to a PostgreSQL server ("postgresql://user@host:5432/db"), so
# serving replicas on other machines log into the loop this DAG steps. Saved with the loop
# when it is created: the other tasks find it in loop.json.
STORE_URL = os.environ.get("LOOPWISE_STORE_URL") or None

# Saved with the loop when it is created; later runs use the saved copy.
POLICY = Policy(
    triggers=[PerformanceTrigger(max_drop=0.03), LabelCountTrigger(n=800)],
    selection=SlidingWindow(n_rows=20_000),
    retrain=Refit(),
    gate={"min_gain": 0.0, "alpha": 0.05},
)


def create_loop(loop_path: str = LOOP_PATH) -> dict:
    """Create the loop once (idempotent): the champion, its reference data and the policy."""
    from loopwise._cli_init import load_model_file
    from loopwise.loop.feedback_loop import FeedbackLoop

    if os.path.isdir(loop_path) and os.listdir(loop_path):
        return {"created": False, "loop": loop_path}
    import pandas as pd

    reference = pd.read_parquet(REFERENCE_FILE) if REFERENCE_FILE.endswith(".parquet") else pd.read_csv(REFERENCE_FILE)
    labels = reference.pop(LABELS_COLUMN).to_numpy() if LABELS_COLUMN in reference else None
    model = load_model_file(MODEL_FILE, trusted=TRUSTED)
    loop = FeedbackLoop(loop_path, model=model, reference=reference, reference_labels=labels, policy=POLICY,
                        trusted=TRUSTED, store=STORE_URL)
    loop.close()
    return {"created": True, "loop": loop_path}


def run_pipeline(loop_path: str, key: str, policy: Optional[Policy] = None) -> dict:
    """The DAG's logic as plain calls: what each Airflow task does, in order.

    ``policy`` is needed only for a loop whose saved policy names a callable that cannot be
    imported by path; otherwise every call runs the loop's saved policy.
    """
    created = create_loop(loop_path)
    given = {"trusted": TRUSTED, "policy": policy}
    checked = tasks.check_drift(loop_path, key=key, **given)
    if checked["skip"]:
        return {"created": created, "checked": checked}
    trained = tasks.retrain(loop_path, key=key, reasons=checked["reasons"], **given)
    validated = tasks.validate(loop_path, trained.get("challenger"), key=key, **given)
    promoted = tasks.promote(loop_path, trained.get("challenger"), passed=bool(validated.get("passed")), key=key,
                             **given)
    return {"created": created, "checked": checked, "trained": trained, "validated": validated, "promoted": promoted}


try:  # pragma: no cover - exercised only where Airflow is installed
    import pendulum

    try:  # Airflow 3: the task SDK is the public home of dag/task and the skip exception
        from airflow.sdk import dag, task
        from airflow.sdk.exceptions import AirflowSkipException
    except ImportError:  # Airflow 2.x
        from airflow.decorators import dag, task
        from airflow.exceptions import AirflowSkipException
except ImportError:  # Airflow is not a dependency of loopwise
    dag = None

if dag is not None:  # pragma: no cover

    def _skip_if(result: dict) -> dict:
        if result.get("skip"):
            raise AirflowSkipException(result.get("note") or "nothing to do")
        return result

    @dag(schedule="@daily", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False, tags=["loopwise"])
    def loopwise_feedback_loop():
        @task
        def create() -> dict:
            return create_loop(LOOP_PATH)

        @task
        def check(created: dict, data_interval_end=None) -> dict:
            return _skip_if(tasks.check_drift(LOOP_PATH, key=str(data_interval_end), trusted=TRUSTED))

        @task
        def train(checked: dict, data_interval_end=None) -> dict:
            return _skip_if(tasks.retrain(LOOP_PATH, key=str(data_interval_end), reasons=checked["reasons"],
                                          trusted=TRUSTED))

        @task
        def gate(trained: dict, data_interval_end=None) -> dict:
            return _skip_if(tasks.validate(LOOP_PATH, trained["challenger"], key=str(data_interval_end),
                                           trusted=TRUSTED))

        @task
        def release(trained: dict, validated: dict, data_interval_end=None) -> dict:
            return _skip_if(tasks.promote(LOOP_PATH, trained["challenger"], passed=validated["passed"],
                                          key=str(data_interval_end), trusted=TRUSTED))

        trained = train(check(create()))
        release(trained, gate(trained))

    loopwise_feedback_loop()
