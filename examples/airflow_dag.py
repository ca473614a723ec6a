"""An Airflow DAG that runs the loopwise feedback loop daily with TaskFlow tasks.

check_drift -> retrain -> validate -> promote, each a loopwise.tasks function that takes a
path and returns a small JSON dict (XCom-sized) and is idempotent per data interval. A task
with nothing to do raises AirflowSkipException, so downstream tasks skip instead of failing.

Without Airflow installed the file still imports; ``run_pipeline`` runs the same functions in
order (the test suite does exactly that).
"""

from __future__ import annotations

import os

from loopwise import tasks
from loopwise.loop.policy import LabelCountTrigger, PerformanceTrigger, Policy, Refit, SlidingWindow

LOOP_PATH = os.environ.get("LOOPWISE_LOOP_PATH", "/data/loopwise/fraud-model")


def train_model(X, y, sample_weight=None):
    """How a challenger is trained: any function (X, y, sample_weight) -> fitted model."""
    from loopwise.online import SGDClassifier

    return SGDClassifier(optimizer="adam", eta0=0.02, standardize=True, max_iter=5, random_state=0).fit(X, y, sample_weight=sample_weight)


POLICY = Policy(
    triggers=[PerformanceTrigger(max_drop=0.03), LabelCountTrigger(n=5000)],
    selection=SlidingWindow(n_rows=20_000),
    retrain=Refit(train_fn=train_model),
    gate={"min_gain": 0.0, "alpha": 0.05},
)


def run_pipeline(loop_path: str, key: str, policy: Policy = POLICY) -> dict:
    """The DAG's logic as plain calls: what each Airflow task would do, in order."""
    checked = tasks.check_drift(loop_path, key=key, policy=policy)
    if checked["skip"]:
        return {"checked": checked}
    trained = tasks.retrain(loop_path, key=key, reasons=checked["reasons"], policy=policy)
    validated = tasks.validate(loop_path, trained.get("challenger"), key=key, policy=policy)
    promoted = tasks.promote(loop_path, trained.get("challenger"), passed=bool(validated.get("passed")), key=key,
                             policy=policy)
    return {"checked": checked, "trained": trained, "validated": validated, "promoted": promoted}


try:  # pragma: no cover - exercised only where Airflow is installed
    import pendulum
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
        def check(data_interval_end=None) -> dict:
            return _skip_if(tasks.check_drift(LOOP_PATH, key=str(data_interval_end), policy=POLICY))

        @task
        def train(checked: dict, data_interval_end=None) -> dict:
            return _skip_if(tasks.retrain(LOOP_PATH, key=str(data_interval_end), reasons=checked["reasons"], policy=POLICY))

        @task
        def gate(trained: dict, data_interval_end=None) -> dict:
            return _skip_if(tasks.validate(LOOP_PATH, trained["challenger"], key=str(data_interval_end), policy=POLICY))

        @task
        def release(trained: dict, validated: dict, data_interval_end=None) -> dict:
            return _skip_if(
                tasks.promote(LOOP_PATH, trained["challenger"], passed=validated["passed"], key=str(data_interval_end),
                              policy=POLICY)
            )

        trained = train(check())
        release(trained, gate(trained))

    loopwise_feedback_loop()
