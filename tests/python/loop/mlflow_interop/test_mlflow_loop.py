"""A FeedbackLoop with MLflow: started from ``models:/name@champion``, its versions and
champion kept in MLflow, every step logged as an MLflow run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.datasets import make_drifting_stream
from loopwise.loop import FeedbackLoop, MlflowSettings, UntrustedModelError


def _team_registers(model, name, serialization_format="skops"):
    """Register ``model`` the way a training script does, with MLflow's own API and alias."""
    import mlflow

    with mlflow.start_run():
        mlflow.sklearn.log_model(model, name="model", registered_model_name=name,
                                 serialization_format=serialization_format, pip_requirements=["scikit-learn"])
    mlflow.MlflowClient().set_registered_model_alias(name, "champion", "1")
    return f"models:/{name}@champion"


def test_loop_started_from_mlflow_serves_what_pyfunc_serves(mlflow_server, model_name, tmp_path):
    import mlflow

    stream = make_drifting_stream(n_samples=1500, random_state=4)
    model = LogisticRegression().fit(stream.X[:800], stream.y[:800])
    uri = _team_registers(model, model_name)
    loop = FeedbackLoop(tmp_path / "loop", model=uri, reference=stream.X[:800], reference_labels=stream.y[:800])
    served = loop.predict(stream.X[800:1200])
    expected = np.asarray(mlflow.pyfunc.load_model(uri).predict(stream.X[800:1200]))
    assert served.tobytes() == expected.tobytes()
    assert loop.predict_proba(stream.X[800:900]).tobytes() == model.predict_proba(stream.X[800:900]).tobytes()
    loop.close()


def test_a_pickled_mlflow_model_needs_trust(mlflow_server, model_name, tmp_path):
    X, y = np.arange(40.0).reshape(20, 2), np.tile([0, 1], 10)
    uri = _team_registers(LogisticRegression().fit(X, y), model_name, serialization_format="cloudpickle")
    with pytest.raises(UntrustedModelError, match="trusted=True"):
        FeedbackLoop(tmp_path / "refused", model=uri)
    assert not (tmp_path / "refused").exists()
    loop = FeedbackLoop(tmp_path / "trusted", model=uri, trusted=True)
    assert loop.predict(X[:4]).tolist() == LogisticRegression().fit(X, y).predict(X[:4]).tolist()
    loop.close()


def test_loop_keeps_versions_in_mlflow_and_logs_each_step(mlflow_server, model_name, tmp_path):
    import mlflow

    stream = make_drifting_stream(n_samples=3000, change_points=[1000], covariate_shift=1.0, random_state=0)
    champion = LogisticRegression().fit(stream.X[:800], stream.y[:800])
    settings = MlflowSettings(tracking_uri=mlflow_server, registered_model=model_name, log_steps=True,
                              experiment=f"steps-{model_name}")
    loop = FeedbackLoop(tmp_path / "loop", model=champion, reference=stream.X[:800],
                        reference_labels=stream.y[:800], mlflow=settings)
    client = mlflow.MlflowClient(mlflow_server)
    assert client.get_model_version_by_alias(model_name, "champion").version == "1"
    ids = [f"r{i}" for i in range(1000, 2400)]
    loop.predict(stream.X[1000:2400], ids=ids)
    loop.feedback(ids, stream.y[1000:2400])
    loop.close()

    # A new process reads the MLflow settings from the loop's configuration.
    loop = FeedbackLoop(tmp_path / "loop")
    assert loop.mlflow == settings
    result = loop.step(key="day-1")
    assert result["action"] == "promoted", result
    version = result["challenger"]
    assert client.get_model_version_by_alias(model_name, "champion").version == str(version)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    assert np.asarray(pyfunc.predict(stream.X[2400:])).tobytes() == loop.predict(stream.X[2400:]).tobytes()

    runs = client.search_runs([client.get_experiment_by_name(settings.experiment).experiment_id],
                              "tags.`loopwise.kind` = 'step'")
    assert len(runs) == 1
    run = runs[0]
    assert run.data.tags["loopwise.action"] == "promoted" and run.data.tags["loopwise.gate"] == "passed"
    assert run.data.tags["loopwise.step_key"] == "day-1"
    assert run.data.metrics["gate_passed"] == 1.0
    assert run.data.metrics["n_labeled"] == 1400.0
    status = json.loads(mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/status.json"))
    assert run.data.metrics["drift_share"] == status["drift_share"] and status["n_labeled"] == 1400
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"report.html", "step.json", "status.json"} <= artifacts
    report = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/report.html")
    assert report.lstrip().lower().startswith("<!doctype html") and "promot" in report.lower()
    # A repeated key does nothing and logs nothing.
    assert loop.step(key="day-1")["repeated"] is True
    assert len(client.search_runs([run.info.experiment_id], "tags.`loopwise.kind` = 'step'")) == 1
    loop.close()



def test_loop_adopts_the_version_it_starts_from_and_rolls_back_in_mlflow(mlflow_server, model_name, tmp_path):
    import mlflow

    stream = make_drifting_stream(n_samples=1200, random_state=5)
    first = LogisticRegression().fit(stream.X[:600], stream.y[:600])
    second = LogisticRegression(C=0.001).fit(stream.X[600:1000], stream.y[600:1000])
    uri = _team_registers(first, model_name)
    loop = FeedbackLoop(tmp_path / "loop", model=uri,
                        mlflow=MlflowSettings(tracking_uri=mlflow_server, registered_model=model_name))
    assert loop.registry.versions()["version"].tolist() == [1] and loop.champion_version == 1
    X_new = stream.X[1000:]
    before = loop.predict_proba(X_new)
    assert before.tobytes() == first.predict_proba(X_new).tobytes()
    client = mlflow.MlflowClient(mlflow_server)
    assert loop.promote(loop.registry.register(second), reason="manual") == 2
    assert client.get_model_version_by_alias(model_name, "champion").version == "2"
    assert loop.predict_proba(X_new).tobytes() == second.predict_proba(X_new).tobytes()
    assert loop.rollback(reason="complaints") == 1
    assert client.get_model_version_by_alias(model_name, "champion").version == "1"
    assert loop.predict_proba(X_new).tobytes() == before.tobytes()
    assert np.asarray(mlflow.pyfunc.load_model(uri).predict(X_new)).tobytes() == loop.predict(X_new).tobytes()
    assert loop.audit.entries(kind="rollback")["reasons"].tolist() == [["complaints"]]
    loop.close()
