"""MlflowRegistry against a real mlflow server: versions, the champion alias, rollback, trust.

Oracles: MLflow's own client (where the alias points), ``mlflow.pyfunc.load_model`` and the
in-memory models that were registered (their predictions, bit for bit).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from loopwise.loop import RegistryLookupError, UntrustedModelError


class Custom:
    """A model class on no allowlist: loading it needs the caller's word."""

    def predict(self, X):
        return np.zeros(len(X))


def _data(seed=0, n=400):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(scale=0.3, size=n) > 0).astype(int)
    return X, y


@pytest.fixture
def registry(mlflow_server, model_name, tmp_path):
    from loopwise.loop.mlflow_registry import MlflowRegistry

    with MlflowRegistry(tmp_path / "registry", model_name, tracking_uri=mlflow_server) as opened:
        yield opened


def test_promote_moves_the_mlflow_alias_and_the_audit_says_why(registry, mlflow_server, model_name):
    import mlflow

    X, y = _data()
    first = registry.register(LogisticRegression().fit(X, y), metrics={"accuracy": 0.8})
    second = registry.register(RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y), parent=first)
    assert (first, second) == (1, 2)
    client = mlflow.MlflowClient(mlflow_server)
    assert registry.promote(first, reason="initial champion") == 1
    assert client.get_model_version_by_alias(model_name, "champion").version == "1"
    registry.promote(second, reason="passed the gate: +0.04 accuracy")
    assert client.get_model_version_by_alias(model_name, "champion").version == "2"
    assert registry.champion() == 2 and registry.resolve("champion") == 2 and registry.resolve("latest") == 2
    promotions = registry.audit.entries(kind="promotion")
    assert promotions["model_version"].tolist() == [1, 2]
    assert promotions["reasons"].tolist() == [["initial champion"], ["passed the gate: +0.04 accuracy"]]
    assert promotions["details"].iloc[1]["inputs"]["previous"] == 1
    versions = registry.versions()
    assert versions["version"].tolist() == [1, 2]
    assert versions["aliases"].tolist() == [[], ["champion"]]
    assert versions["metrics"].iloc[0] == {"accuracy": 0.8} and versions["parent"].iloc[1] == 1
    assert client.get_model_version(model_name, "2").tags["loopwise.promote_reason"] == \
        "passed the gate: +0.04 accuracy"


def test_rollback_restores_bit_identical_predictions(registry, mlflow_server, model_name):
    import mlflow

    X, y = _data(1)
    X_new = _data(2, 200)[0]
    old = RandomForestClassifier(n_estimators=7, random_state=3).fit(X, y)
    new = LogisticRegression(C=0.1).fit(X, y)
    registry.promote(registry.register(old), reason="first")
    registry.promote(registry.register(new), reason="second")
    served_new = registry.load("champion").predict_proba(X_new)
    assert np.array_equal(served_new, new.predict_proba(X_new))
    assert registry.rollback(reason="error rate doubled") == 1
    assert mlflow.MlflowClient(mlflow_server).get_model_version_by_alias(model_name, "champion").version == "1"
    restored = registry.load("champion")
    # Bit for bit: the registered model in memory, and MLflow's own loader of the alias.
    assert restored.predict_proba(X_new).tobytes() == old.predict_proba(X_new).tobytes()
    pyfunc = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    assert np.asarray(pyfunc.predict(X_new)).tobytes() == old.predict(X_new).tobytes()
    history = registry.history()
    assert history["action"].tolist() == ["promote", "promote", "rollback"]
    assert history["version"].tolist() == [1, 2, 1]
    assert registry.audit.entries(kind="rollback")["reasons"].tolist() == [["error rate doubled"]]
    with pytest.raises(ValueError, match="nothing to roll back to"):
        registry.rollback(reason="again")


def test_candidates_become_versions_once(registry):
    X, y = _data(3)
    candidate = registry.add_candidate(LogisticRegression().fit(X, y), metrics={"log_loss": 0.4})
    assert registry.versions().empty and registry.candidates()["candidate"].tolist() == [candidate]
    version = registry.register_candidate(candidate, metrics={"gate": "passed"}, reason="validated")
    assert version == 1 and registry.candidates().empty
    assert registry.info(1)["metrics"] == {"log_loss": 0.4, "gate": "passed"}
    rejected = registry.add_candidate(LogisticRegression().fit(X, y))
    registry.discard_candidate(rejected, "worse than the champion")
    assert registry.versions()["version"].tolist() == [1]
    assert registry.audit.entries(kind="discard_candidate")["reasons"].tolist() == [["worse than the champion"]]


def test_lookups_and_trust(registry):
    with pytest.raises(RegistryLookupError, match="is not a version"):
        registry.resolve(7)
    with pytest.raises(RegistryLookupError, match="alias 'champion' is not set"):
        registry.load("champion")

    version = registry.register(Custom())
    with pytest.raises(UntrustedModelError, match="trusted=True"):
        registry.load(version)
    assert registry.load(version, trusted=True).predict([[1.0]]).tolist() == [0.0]


def test_loopwise_json_models_load_through_mlflow_pyfunc(registry, model_name):
    import mlflow
    from sklearn.ensemble import GradientBoostingRegressor

    from loopwise.models import TreeEnsemble

    X, _ = _data(4)
    target = X[:, 0] * 2.0 - X[:, 3]
    ensemble = TreeEnsemble.from_model(GradientBoostingRegressor(n_estimators=20, random_state=0).fit(X, target))
    version = registry.register(ensemble)
    assert registry.info(version)["format"] == "loopwise-json"
    registry.promote(version, reason="first")
    expected = ensemble.predict(X)
    assert registry.load("champion").predict(X).tobytes() == expected.tobytes()
    pyfunc = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    assert np.asarray(pyfunc.predict(X)).tobytes() == expected.tobytes()
