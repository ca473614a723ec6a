"""Airflow task functions: run in order, idempotent per key, skips are results."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from loopwise import tasks
from loopwise.datasets import make_drifting_stream
from loopwise.loop.feedback_loop import FeedbackLoop
from loopwise.loop.policy import LabelCountTrigger, Policy, Refit, SlidingWindow

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "airflow_dag.py"


def _train(X, y, sample_weight=None):
    from loopwise.online import SGDClassifier

    return SGDClassifier(optimizer="adam", eta0=0.02, standardize=True, max_iter=5, random_state=0).fit(X, y, sample_weight=sample_weight)


@pytest.fixture()
def drifted_loop(tmp_path):
    stream = make_drifting_stream(n_samples=4000, kind="abrupt", change_points=[1000], random_state=4)
    model = _train(stream.X.iloc[:800], stream.y[:800])
    policy = Policy(triggers=[LabelCountTrigger(n=500)], selection=SlidingWindow(2000), retrain=Refit(train_fn=_train),
                    min_labels=500, gate={"min_gain": 0.0})
    path = tmp_path / "loop"
    loop = FeedbackLoop(path, model=model, reference=stream.X.iloc[:800], reference_labels=stream.y[:800], policy=policy)
    loop.predict(stream.X.iloc[1500:3500], ids=range(2000), timestamp=stream.timestamp[1500:3500])
    loop.feedback(range(2000), stream.y[1500:3500])
    loop.close()
    return path, policy


def test_example_dag_runs_the_tasks_in_order(drifted_loop):
    path, policy = drifted_loop
    spec = importlib.util.spec_from_file_location("airflow_dag", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run_pipeline(str(path), key="2026-01-02", policy=policy)
    assert result["checked"]["skip"] is False
    candidate = result["trained"]["challenger"]  # a registry candidate until promoted
    assert isinstance(candidate, str) and len(candidate) == 32
    assert result["validated"]["passed"] is True, result["validated"]
    assert result["promoted"]["champion"] == 2
    loop = FeedbackLoop(path, policy=policy)
    assert loop.registry.versions()["version"].tolist() == [1, 2]
    assert len(loop.registry.candidates()) == 0  # registered, no longer a candidate
    loop.close()
    again = module.run_pipeline(str(path), key="2026-01-02", policy=policy)
    assert again["checked"]["repeated"] and again["promoted"]["repeated"]


def test_nothing_to_do_is_a_skip(tmp_path):
    stream = make_drifting_stream(n_samples=2000, kind="none", random_state=5)
    model = _train(stream.X.iloc[:800], stream.y[:800])
    FeedbackLoop(tmp_path / "loop", model=model, reference=stream.X.iloc[:800]).close()
    assert tasks.check_drift(tmp_path / "loop")["skip"] is True
    assert tasks.validate(tmp_path / "loop", None)["skip"] is True
    assert tasks.promote(tmp_path / "loop", 2, passed=False)["skip"] is True
    assert tasks.run_step(tmp_path / "loop")["skip"] is True


def test_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="not a feedback-loop directory"):
        tasks.run_step(tmp_path / "missing")
    with pytest.raises(ValueError, match="does not exist"):
        tasks.check_drift(reference_path=tmp_path / "a.csv", current_path=tmp_path / "b.csv")
    with pytest.raises(ValueError, match="pass loop_path"):
        tasks.check_drift()
