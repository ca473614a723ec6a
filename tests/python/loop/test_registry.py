"""ModelRegistry and AuditLog: formats, immutability, aliases, rollback, trust, bad inputs."""

from __future__ import annotations

import json
import os
import sqlite3
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LogisticRegression

from loopwise.loop import AuditLog, ModelRegistry, RegistryLookupError, UntrustedModelError, validate
from loopwise.loop._model_formats import _decode_arrays, _encode_arrays
from loopwise.models import TreeEnsemble


@pytest.fixture()
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


@pytest.fixture()
def registry(tmp_path):
    with ModelRegistry(tmp_path / "reg") as r:
        yield r


class Opaque:
    """A user's own model class: not a loopwise object, not known to skops."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def predict(self, X):
        return np.asarray(X)[:, 0] + self.offset


def test_round_trips_are_bit_identical(registry, data):
    X, y = data
    logistic = LogisticRegression().fit(X, y)
    boosted = GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0).fit(X, y)
    forest = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(X, X[:, 0])
    ensemble = TreeEnsemble.from_model(forest)
    versions = [registry.register(m) for m in (logistic, boosted, ensemble)]
    assert versions == [1, 2, 3]
    table = registry.versions()
    assert table["format"].tolist() == ["skops", "skops", "loopwise-json"]
    np.testing.assert_array_equal(registry.load(1).predict_proba(X), logistic.predict_proba(X))
    # skops alone does not trust sklearn's compiled Tree type; loopwise's allowlist does.
    np.testing.assert_array_equal(registry.load(2).predict_proba(X), boosted.predict_proba(X))
    restored = registry.load(3)
    assert isinstance(restored, TreeEnsemble)
    np.testing.assert_array_equal(restored.predict(X), ensemble.predict(X))
    np.testing.assert_allclose(restored.predict(X), forest.predict(X), rtol=1e-12)  # summation order differs


def test_arrays_inside_loopwise_json_keep_dtype_and_bits():
    document = {"w": np.array([[1.5, -0.0], [np.nan, 1e-300]]), "i": np.arange(3, dtype=np.int32),
                "f": np.float32(0.1), "nested": [np.array([True, False])], "o": np.array(["a", 1], dtype=object)}
    back = _decode_arrays(json.loads(json.dumps(_encode_arrays(document))))
    assert back["w"].dtype == np.float64 and back["w"].tobytes() == document["w"].tobytes()
    assert back["i"].dtype == np.int32 and back["i"].tolist() == [0, 1, 2]
    assert back["nested"][0].dtype == bool
    assert back["o"].tolist() == ["a", 1]


def test_untrusted_formats_need_trusted(registry, monkeypatch):
    version = registry.register(Opaque(2.0))
    assert registry.versions()["format"].tolist() == ["skops"]
    with pytest.raises(UntrustedModelError, match="Opaque"):
        registry.load(version)
    assert registry.load(version, trusted=True).predict([[1.0]]).tolist() == [3.0]
    # Without skops the fallback is pickle, which is never loaded implicitly.
    monkeypatch.setitem(sys.modules, "skops.io", None)
    pickled = registry.register(Opaque(5.0))
    assert registry.info(pickled)["format"] == "pickle"
    with pytest.raises(UntrustedModelError, match="pickle"):
        registry.load(pickled)
    with pytest.raises(ValueError, match="trusted=True"):  # an UntrustedModelError is a ValueError
        registry.load(pickled, trusted=False)
    assert registry.load(pickled, trusted=True).predict([[1.0]]).tolist() == [6.0]


def test_versions_are_immutable(registry, data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    assert registry.register(model) == 1 and registry.register(model) == 2  # same object twice -> two versions
    info = registry.info(1)
    path = os.path.join(registry.path, info["file"])
    before = open(path, "rb").read()
    registry.register(LogisticRegression(C=0.01).fit(X, y))
    assert open(path, "rb").read() == before
    connection = sqlite3.connect(os.path.join(registry.path, "index.db"))
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        connection.execute("UPDATE versions SET metrics = '{}' WHERE version = 1")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        connection.execute("DELETE FROM versions WHERE version = 1")
    connection.close()


def test_metadata_is_kept(registry, data):
    X, y = data
    v1 = registry.register(LogisticRegression().fit(X, y), metrics={"accuracy": np.float64(0.91)},
                           data_window={"rows": 300, "from": pd.Timestamp("2026-01-01")}, tags={"team": "risk"})
    v2 = registry.register(LogisticRegression(C=0.5).fit(X, y), parent=v1)
    table = registry.versions()
    assert list(table.columns) == ["version", "created", "format", "class", "metrics", "tags", "parent",
                                   "data_window", "aliases"]
    assert table["metrics"].tolist()[0] == {"accuracy": 0.91}
    assert table["data_window"].tolist()[0] == {"rows": 300, "from": "2026-01-01 00:00:00"}
    assert table["tags"].tolist()[0] == {"team": "risk"}
    assert pd.isna(table["parent"].tolist()[0]) and table["parent"].tolist()[1] == v1
    assert str(table["created"].dt.tz) == "UTC"
    assert registry.info(v2)["class"] == "sklearn.linear_model._logistic:LogisticRegression"


def test_promote_rollback_history_and_bit_identical_predictions(registry, data):
    X, y = data
    models = [LogisticRegression(C=c).fit(X, y) for c in (0.01, 1.0, 100.0)]
    v1, v2, v3 = (registry.register(m) for m in models)
    assert registry.champion() is None
    with pytest.raises(ValueError, match="nothing to roll back to"):
        registry.rollback()
    registry.promote(v1, reason="initial")
    registry.promote(v2, reason="better on May")
    before = registry.load("champion").predict_proba(X)
    registry.promote(v3, reason="better on June")
    assert registry.champion() == v3
    assert registry.rollback(reason="June broke checkout") == v2
    np.testing.assert_array_equal(registry.load("champion").predict_proba(X), before)
    assert registry.rollback(reason="still broken") == v1  # walks back, does not toggle
    with pytest.raises(ValueError, match="nothing to roll back to"):
        registry.rollback()
    history = registry.history()
    assert list(history.columns) == ["timestamp", "alias", "version", "previous", "reason", "action"]
    assert history["version"].tolist() == [1, 2, 3, 2, 1]
    assert [None if pd.isna(p) else int(p) for p in history["previous"]] == [None, 1, 2, 3, 2]
    assert history["reason"].tolist() == ["initial", "better on May", "better on June", "June broke checkout",
                                          "still broken"]
    assert history["action"].tolist() == ["promote", "promote", "promote", "rollback", "rollback"]
    registry.alias("staging", v3, reason="canary")
    assert registry.resolve("staging") == v3 and registry.aliases() == {"champion": 1, "staging": 3}
    assert registry.history("staging")["version"].tolist() == [3]
    assert len(registry.history(None)) == 6
    assert registry.versions().set_index("version").loc[3, "aliases"] == ["staging"]
    assert registry.history("never").empty


def test_resolve_and_lookup_errors(registry, data):
    X, y = data
    assert list(registry.history().columns)[:3] == ["timestamp", "alias", "version"]
    with pytest.raises(RegistryLookupError, match="no versions yet"):
        registry.resolve("latest")
    registry.register(LogisticRegression().fit(X, y))
    assert registry.resolve("latest") == 1 and registry.resolve("1") == 1 and registry.resolve(np.int64(1)) == 1
    with pytest.raises(KeyError, match="version 7 is not in the registry"):
        registry.resolve(7)
    with pytest.raises(ValueError, match="alias 'champion' is not set"):
        registry.load("champion")
    with pytest.raises(TypeError, match="version_or_alias"):
        registry.resolve(True)
    with pytest.raises(TypeError, match="version_or_alias"):
        registry.resolve(1.5)
    with pytest.raises(ValueError, match="reserved"):
        registry.alias("3", 1)
    with pytest.raises(ValueError, match="name must be"):
        registry.alias("", 1)
    with pytest.raises(KeyError, match="version 9"):
        registry.promote(9)
    with pytest.raises(TypeError, match="reason"):
        registry.promote(1, reason=3)
    with pytest.raises(TypeError, match="metrics"):
        registry.register(LogisticRegression(), metrics=[1])
    with pytest.raises(TypeError, match="tags"):
        registry.register(LogisticRegression(), tags="x")
    with pytest.raises(KeyError, match="parent 5"):
        registry.register(LogisticRegression(), parent=5)
    with pytest.raises(TypeError, match="model"):
        registry.register(None)
    with pytest.raises(TypeError, match="trusted"):
        registry.load(1, trusted="yes")
    with pytest.raises(ValueError, match="min_age"):
        registry.clean_orphans(min_age=-1)
    assert registry.versions()["version"].tolist() == [1]


def test_bad_registry_paths(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        ModelRegistry(tmp_path / "file")
    with pytest.raises(TypeError, match="path"):
        ModelRegistry(None)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "index.db").write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(ValueError, match="corrupted"):
        ModelRegistry(corrupt)


def test_a_damaged_model_file_is_refused(registry, data):
    X, y = data
    version = registry.register(LogisticRegression().fit(X, y))
    path = os.path.join(registry.path, registry.info(version)["file"])
    with open(path, "r+b") as handle:
        handle.seek(10)
        handle.write(b"XX")
    with pytest.raises(ValueError, match="checksum"):
        registry.load(version)
    os.remove(path)
    with pytest.raises(ValueError, match="cannot be read"):
        registry.load(version)


def test_audit_log_records_decisions(registry, data):
    X, y = data
    v1 = registry.register(LogisticRegression(C=0.001).fit(X[:150], y[:150]), metrics={"accuracy": 0.5})
    v2 = registry.register(LogisticRegression().fit(X[:150], y[:150]))
    registry.promote(v1, reason="initial")
    result = validate(registry.load(v1), registry.load(v2), X[150:], y[150:], metric="log_loss")
    registry.audit.record_validation(result, model_version=v2)
    registry.audit.record("trigger", model_version=v1, reasons=["input drift"], inputs={"share": np.float64(0.4)},
                          threshold=0.3)
    entries = registry.audit.entries()
    assert list(entries.columns) == ["timestamp", "kind", "model_version", "passed", "reasons", "details"]
    assert entries["kind"].tolist() == ["register", "register", "promotion", "validation", "trigger"]
    validation = entries[entries["kind"] == "validation"].iloc[0]
    assert validation["passed"] is result.passed and validation["reasons"] == result.reasons
    assert validation["details"]["metrics"]["challenger"] == pytest.approx(result.metrics["challenger"])
    trigger = entries.iloc[-1]
    assert trigger["details"] == {"inputs": {"share": 0.4}, "threshold": 0.3} and trigger["passed"] is None
    assert registry.audit.entries(kind="register")["model_version"].tolist() == [1, 2]
    assert len(registry.audit.entries(model_version=v2)) == 2
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        registry._db.transaction(lambda c: c.execute("DELETE FROM audit"))
    assert len(registry.audit) == 5


def test_audit_log_standalone_export_and_bad_inputs(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    log.record("training", model_version=2, reasons="scheduled", inputs={"rows": 10})
    log.record("promotion", model_version=2, passed=True)
    jsonl = log.export(tmp_path / "audit.jsonl")
    lines = [json.loads(line) for line in open(jsonl, encoding="utf-8")]
    assert [line["kind"] for line in lines] == ["training", "promotion"] and lines[0]["reasons"] == ["scheduled"]
    csv = pd.read_csv(log.export(tmp_path / "audit.csv"))
    assert csv["kind"].tolist() == ["training", "promotion"]
    with pytest.raises(ValueError, match="must end with"):
        log.export(tmp_path / "audit.txt")
    with pytest.raises(ValueError, match="kind"):
        log.record("")
    with pytest.raises(TypeError, match="model_version"):
        log.record("x", model_version="2")
    with pytest.raises(TypeError, match="reasons"):
        log.record("x", reasons=5)
    with pytest.raises(TypeError, match="passed"):
        log.record("x", passed="yes")
    with pytest.raises(TypeError, match="result"):
        log.record_validation({"passed": True}, model_version=1)
    assert len(log) == 2
    log.close()


# ---------------------------------------------------------------------------- candidates
def _kill_child(code: str, path) -> None:
    """Run ``code`` in a new process that SIGKILLs itself at the hook it installs."""
    import subprocess
    import textwrap

    import loopwise

    python_dir = os.path.dirname(os.path.dirname(os.path.abspath(loopwise.__file__)))
    env = {**os.environ, "PYTHONPATH": python_dir + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code), str(path)], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == -9, result.stderr[-3000:]


def test_candidate_lifecycle(registry, data):
    X, y = data
    v1 = registry.register(LogisticRegression(C=0.01).fit(X, y))
    registry.promote(v1, reason="initial")
    challenger = LogisticRegression().fit(X, y)
    rejected = LogisticRegression(C=1e-4).fit(X, y)
    good = registry.add_candidate(challenger, metrics={"log_loss": 0.3}, tags={"policy": "refit"},
                                  data_window={"rows": 300}, parent=v1)
    bad = registry.add_candidate(rejected, metrics={"log_loss": 0.7}, parent=v1)
    table = registry.candidates()
    assert list(table.columns) == ["candidate", "created", "format", "class", "metrics", "tags", "parent",
                                   "data_window"]
    assert table["candidate"].tolist() == [good, bad] and table["parent"].tolist() == [v1, v1]
    assert registry.versions()["version"].tolist() == [1]  # candidates are not versions
    np.testing.assert_array_equal(registry.load_candidate(good).predict_proba(X), challenger.predict_proba(X))
    assert registry.candidate_info(bad)["metrics"] == {"log_loss": 0.7}

    registry.discard_candidate(bad, "log loss 0.7 > champion's 0.5")
    version = registry.register_candidate(good, metrics={"gate": "passed"}, reason="validated on June")
    registry.promote(version, reason="better")
    assert version == 2 and registry.champion() == 2 and registry.candidates().empty
    info = registry.info(version)
    assert info["metrics"] == {"log_loss": 0.3, "gate": "passed"} and info["tags"] == {"policy": "refit"}
    assert info["parent"] == v1 and info["data_window"] == {"rows": 300}
    np.testing.assert_array_equal(registry.load("champion").predict_proba(X), challenger.predict_proba(X))
    # Nothing of either candidate is left on disk.
    assert os.listdir(os.path.join(registry.path, "candidates")) == []
    entries = registry.audit.entries()
    assert entries["kind"].tolist() == ["register", "promotion", "discard_candidate", "register", "promotion"]
    discard = entries.iloc[2]
    assert discard["reasons"] == ["log loss 0.7 > champion's 0.5"]
    assert discard["details"]["inputs"]["candidate"] == bad and discard["details"]["metrics"] == {"log_loss": 0.7}
    register = entries.iloc[3]
    assert register["details"]["inputs"]["candidate"] == good and register["reasons"] == ["validated on June"]
    # Registering again returns the same version; discarding a registered candidate is refused.
    assert registry.register_candidate(good) == version and registry.versions()["version"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="registered as version 2"):
        registry.discard_candidate(good, "too late")
    with pytest.raises(RegistryLookupError, match="not in"):
        registry.load_candidate(bad)


def test_register_candidate_copies_the_file_byte_for_byte(registry, data):
    X, y = data
    candidate = registry.add_candidate(GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y))
    meta = registry.candidate_info(candidate)
    version = registry.register_candidate(candidate)
    assert registry.info(version)["sha256"] == meta["sha256"] and registry.info(version)["format"] == meta["format"]


def test_clean_candidates_expires_old_ones_and_audits(registry, data):
    X, y = data
    first = registry.add_candidate(LogisticRegression().fit(X, y))
    assert registry.clean_candidates(3600) == []
    second = registry.add_candidate(LogisticRegression(C=0.1).fit(X, y))
    assert sorted(registry.clean_candidates(0)) == sorted([first, second])
    assert registry.candidates().empty and os.listdir(os.path.join(registry.path, "candidates")) == []
    expired = registry.audit.entries(kind="discard_candidate")
    assert len(expired) == 2 and expired["reasons"].tolist()[0] == ["expired: older than 0 s"]
    with pytest.raises(ValueError, match="max_age_seconds"):
        registry.clean_candidates(-1)
    with pytest.raises(ValueError, match="max_age_seconds"):
        registry.clean_candidates(float("nan"))
    with pytest.raises(ValueError, match="max_age_seconds"):
        registry.clean_candidates(True)


def test_bad_candidate_ids_and_arguments(registry, data):
    X, y = data
    candidate = registry.add_candidate(LogisticRegression().fit(X, y))
    for method in (registry.load_candidate, registry.register_candidate, registry.candidate_info,
                   lambda cid: registry.discard_candidate(cid, "x")):
        for bad in ("../index", "", "A" * 32, candidate + "0", "../" + candidate[3:]):
            with pytest.raises(ValueError, match="candidate_id must be 32 lowercase hex"):
                method(bad)
        with pytest.raises(TypeError, match="candidate_id must be a str"):
            method(5)
        with pytest.raises(RegistryLookupError, match="candidate '0{32}' is not in"):
            method("0" * 32)
    with pytest.raises(TypeError, match="reason"):
        registry.discard_candidate(candidate, None)
    with pytest.raises(TypeError, match="metrics"):
        registry.register_candidate(candidate, metrics=[1])
    with pytest.raises(TypeError, match="model"):
        registry.add_candidate(None)
    with pytest.raises(TypeError, match="tags"):
        registry.add_candidate(LogisticRegression(), tags="x")
    with pytest.raises(KeyError, match="parent 4"):
        registry.add_candidate(LogisticRegression(), parent=4)
    with pytest.raises(TypeError, match="trusted"):
        registry.load_candidate(candidate, trusted="yes")
    assert registry.candidates()["candidate"].tolist() == [candidate]  # failed calls changed nothing
    path = os.path.join(registry.path, "candidates", registry.candidate_info(candidate)["file"])
    with open(path, "r+b") as handle:
        handle.seek(10)
        handle.write(b"XX")
    with pytest.raises(ValueError, match="checksum"):
        registry.load_candidate(candidate)
    with pytest.raises(ValueError, match="checksum"):
        registry.register_candidate(candidate)
    assert registry.versions().empty


def test_untrusted_candidates_need_trusted(registry):
    candidate = registry.add_candidate(Opaque(1.0))
    with pytest.raises(UntrustedModelError, match="Opaque"):
        registry.load_candidate(candidate)
    assert registry.load_candidate(candidate, trusted=True).predict([[1.0]]).tolist() == [2.0]


def test_killed_add_candidate_leaves_no_candidate(tmp_path):
    _kill_child("""
        import os, signal, sys
        import loopwise.loop.registry as registry_module
        from loopwise.loop import ModelRegistry
        from sklearn.dummy import DummyRegressor
        registry = ModelRegistry(sys.argv[1])
        registry_module._after_candidate_file_written = lambda path: os.kill(os.getpid(), signal.SIGKILL)
        registry.add_candidate(DummyRegressor().fit([[0.0]], [1.0]))
        """, tmp_path / "reg")
    with ModelRegistry(tmp_path / "reg") as registry:
        assert registry.candidates().empty
        leftovers = os.listdir(os.path.join(registry.path, "candidates"))
        assert len(leftovers) == 1 and leftovers[0].endswith(".skops")  # the model file, no metadata
        assert registry.clean_orphans() == []  # too young: could be an add_candidate in flight
        assert registry.clean_orphans(min_age=0) == [f"candidates/{leftovers[0]}"]
        candidate = registry.add_candidate(DummyRegressor().fit([[0.0]], [2.0]))
        assert registry.load_candidate(candidate).predict([[0.0]]).tolist() == [2.0]


def test_killed_register_candidate_before_the_commit_keeps_the_candidate(tmp_path):
    with ModelRegistry(tmp_path / "reg") as registry:
        candidate = registry.add_candidate(DummyRegressor().fit([[0.0]], [3.0]))
    _kill_child("""
        import os, signal, sys
        import loopwise.loop.registry as registry_module
        from loopwise.loop import ModelRegistry
        registry = ModelRegistry(sys.argv[1])
        registry_module._after_file_written = lambda path: os.kill(os.getpid(), signal.SIGKILL)
        registry.register_candidate(registry.candidates()["candidate"][0])
        """, tmp_path / "reg")
    with ModelRegistry(tmp_path / "reg") as registry:
        assert registry.versions().empty and registry.candidates()["candidate"].tolist() == [candidate]
        assert registry.register_candidate(candidate) == 1
        assert registry.load(1).predict([[0.0]]).tolist() == [3.0]
        assert len(registry.clean_orphans(min_age=0)) == 1  # the killed attempt's copy


def test_killed_register_candidate_after_the_commit_is_completed_by_a_retry(tmp_path):
    with ModelRegistry(tmp_path / "reg") as registry:
        candidate = registry.add_candidate(DummyRegressor().fit([[0.0]], [4.0]))
    _kill_child("""
        import os, signal, sys
        from loopwise.loop import ModelRegistry
        from loopwise.loop._candidates import CandidateArea
        CandidateArea.remove = lambda self, candidate_id: os.kill(os.getpid(), signal.SIGKILL)
        registry = ModelRegistry(sys.argv[1])
        registry.register_candidate(registry.candidates()["candidate"][0])
        """, tmp_path / "reg")
    with ModelRegistry(tmp_path / "reg") as registry:
        assert registry.versions()["version"].tolist() == [1]
        assert registry.candidates().empty  # registered: no longer awaiting a decision
        assert len(os.listdir(os.path.join(registry.path, "candidates"))) == 2  # its files, until cleaned
        assert registry.register_candidate(candidate) == 1  # the retry finds the version, adds none
        assert registry.versions()["version"].tolist() == [1]
        assert os.listdir(os.path.join(registry.path, "candidates")) == []
        assert registry.audit.entries(kind="register")["model_version"].tolist() == [1]


def test_a_loopwise_json_candidate_keeps_its_metadata_apart(tmp_path):
    """A loopwise-json model file and the candidate's metadata once shared `<id>.json`."""
    from loopwise.online import SGDClassifier

    X = np.random.default_rng(0).normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    model = SGDClassifier(random_state=0).fit(X, y)
    registry = ModelRegistry(tmp_path / "registry")
    candidate = registry.add_candidate(model, tags={"why": "test"})
    assert np.array_equal(registry.load_candidate(candidate).predict(X), model.predict(X))
    version = registry.register_candidate(candidate, reason="passed")
    assert np.array_equal(registry.load(version).predict(X), model.predict(X))
    registry.close()
