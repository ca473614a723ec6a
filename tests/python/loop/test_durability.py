"""Durability under kills and concurrency: real processes, SIGKILL, four writers at once.

Children import loopwise from the same place as this test process (its package directory is
prepended to PYTHONPATH) and announce readiness and every acknowledged batch on stdout; the
parent never relies on sleeps for ordering, only on those lines.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

import loopwise
import loopwise.loop.registry as registry_module
from loopwise.loop import FeedbackStore, ModelRegistry

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL semantics")

_TIMEOUT = 120  # seconds; generous for a loaded 2-core machine
_BATCH = 200


def _env() -> dict:
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(loopwise.__file__)))
    return {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, *[p for p in sys.path if p]])}


def _spawn(script_path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script_path), *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())


def _readline(process: subprocess.Popen) -> str:
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=_TIMEOUT)
        raise AssertionError(f"child exited early ({process.returncode}): {process.stderr.read()}")
    return line.strip()


def _reap(*processes: subprocess.Popen) -> None:
    """Kill whatever child is still running and close its pipes (test cleanup)."""
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=_TIMEOUT)
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()


def _batch(index: int) -> tuple[list, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(index)
    X = pd.DataFrame(rng.normal(size=(_BATCH, 6)), columns=[f"f{j}" for j in range(6)])
    X["kind"] = np.where(rng.random(_BATCH) < 0.5, "common", f"batch{index % 7}")
    return [f"{index}-{j}" for j in range(_BATCH)], X, (X["f0"].to_numpy() > 0).astype(int)


_LOGGER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[3])
    from durability_data import batch
    from loopwise.loop import FeedbackStore

    store = FeedbackStore(sys.argv[1])
    print("ready", flush=True)
    index = int(sys.argv[2])
    while True:
        ids, X, predictions = batch(index)
        store.log_predictions(ids, X, predictions, model_version=1)
        print(index, flush=True)  # only after the call returned: the batch is acknowledged
        index += 1
    """
)

_DATA = textwrap.dedent(
    f"""
    import numpy as np
    import pandas as pd

    def batch(index):
        rng = np.random.default_rng(index)
        X = pd.DataFrame(rng.normal(size=({_BATCH}, 6)), columns=[f"f{{j}}" for j in range(6)])
        X["kind"] = np.where(rng.random({_BATCH}) < 0.5, "common", f"batch{{index % 7}}")
        return [f"{{index}}-{{j}}" for j in range({_BATCH})], X, (X["f0"].to_numpy() > 0).astype(int)
    """
)


def test_sigkill_while_logging_loses_no_acknowledged_batch(tmp_path, store_location):
    (tmp_path / "durability_data.py").write_text(_DATA)
    script = tmp_path / "logger.py"
    script.write_text(_LOGGER)
    path = store_location()
    rng = np.random.default_rng(0)
    acknowledged: set[int] = set()
    start = 0
    for _ in range(4):
        process = _spawn(script, path, start, tmp_path)
        try:
            assert _readline(process) == "ready"
            wanted = int(rng.integers(2, 12))
            for _ in range(wanted):
                acknowledged.add(int(_readline(process)))
            # Kill at a random moment, most likely inside the next batch's transaction.
            time.sleep(float(rng.uniform(0.0, 0.03)))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=_TIMEOUT)
            # Lines already written before the kill are acknowledgements too.
            acknowledged.update(int(line) for line in process.stdout.read().split() if line.strip().isdigit())
        finally:
            _reap(process)
        assert process.returncode == -signal.SIGKILL
        with FeedbackStore(path) as store:
            ids = store.predictions()["id"]
            present = ids.str.split("-").str[0].astype(int).value_counts()
            missing = sorted(acknowledged - set(present.index))
            assert not missing, f"acknowledged batches lost: {missing}"
            partial = present[present != _BATCH]
            assert partial.empty, f"partial batches visible: {partial.to_dict()}"
            assert ids.is_unique
            start = int(present.index.max()) + 1
    with FeedbackStore(path) as store:
        frame = store.unlabeled().to_frame().set_index("id")
        for index in sorted(acknowledged)[:: max(1, len(acknowledged) // 5)]:
            ids, X, predictions = _batch(index)
            got = frame.loc[ids]
            np.testing.assert_array_equal(got[list(X.columns[:6])].to_numpy(), X.iloc[:, :6].to_numpy())
            assert got["kind"].tolist() == X["kind"].tolist()
            assert got["prediction"].tolist() == predictions.tolist()
        if not path.startswith("postgresql://"):
            assert store._db.query("PRAGMA integrity_check")[0][0] == "ok"


def test_four_writers_killed_at_random_keep_every_acknowledged_row_once(tmp_path, store_location):
    """4 writers logging single rows, 8 random SIGKILLs (benchmarks/loop_store.py does >= 200)."""
    from kill_writers import check_store, run_kills

    location = store_location("killed")
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(loopwise.__file__)))
    result = run_kills(location, str(tmp_path), package_root, kills=8, seed=3)
    assert result["kills"] == 8
    report = check_store(location, result["acknowledged"])
    assert report["acknowledged"] > 0
    assert not report["lost"], f"acknowledged rows lost: {report['lost'][:10]}"
    assert report["duplicated"] == 0 and report["counter_matches"] and not report["wrong_content"]


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    from loopwise.loop import FeedbackStore

    path, worker = sys.argv[1], int(sys.argv[2])
    store = FeedbackStore(path)  # four processes create the same new store at once
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for b in range(12):
        rng = np.random.default_rng(1000 * worker + b)
        X = pd.DataFrame({"v": rng.normal(size=100), "s": [f"w{worker}-{b % 3}" if j % 2 else "common" for j in range(100)]})
        ids = [f"w{worker}-{b}-{j}" for j in range(100)]
        store.log_predictions(ids, X, np.full(100, worker), model_version=1)
        shared = pd.DataFrame({"v": np.arange(50.0) + b, "s": ["shared"] * 50})
        store.log_predictions([f"s-{b}-{j}" for j in range(50)], shared, np.zeros(50, dtype=int), model_version=1)
        store.add_feedback(ids[:50], np.full(50, worker), source="ground_truth")
        store.add_feedback([f"s-{b}-{j}" for j in range(50)], np.full(50, 9), source="weak")
    print("done", flush=True)
    """
)


def test_four_concurrent_writers_exact_counts(tmp_path, store_location):
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    path = store_location("shared")
    processes = [_spawn(script, path, worker) for worker in range(4)]
    try:
        for process in processes:
            assert _readline(process) == "ready"
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in processes:
            assert _readline(process) == "done"
            process.wait(timeout=_TIMEOUT)
            assert process.returncode == 0, process.stderr.read()
    finally:
        _reap(*processes)
    with FeedbackStore(path) as store:
        counts = store.counts()
        assert counts["predictions"] == 4 * 12 * 100 + 12 * 50
        assert counts["labeled"] == 4 * 12 * 50 + 12 * 50
        assert counts["by_source"] == {"ground_truth": 4 * 12 * 50, "weak": 12 * 50}
        table = store.predictions()
        assert table["id"].is_unique
        frame = store.records().to_frame().set_index("id")
        for worker in range(4):
            for b in (0, 11):
                rng = np.random.default_rng(1000 * worker + b)
                ids = [f"w{worker}-{b}-{j}" for j in range(100)]
                np.testing.assert_array_equal(frame.loc[ids, "v"].to_numpy(), rng.normal(size=100))
                expected = [f"w{worker}-{b % 3}" if j % 2 else "common" for j in range(100)]
                assert frame.loc[ids, "s"].tolist() == expected  # the shared dictionary stayed consistent
                assert frame.loc[ids, "prediction"].tolist() == [worker] * 100
        assert (frame.filter(like="s-", axis=0)["s"] == "shared").all()


_REGISTER_AND_DIE = textwrap.dedent(
    """
    import os, signal, sys
    from sklearn.linear_model import LogisticRegression
    import loopwise.loop.registry as registry_module
    from loopwise.loop import ModelRegistry

    registry = ModelRegistry(sys.argv[1])

    def crash(path):
        print("written", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # after the file, before the index row

    registry_module._after_file_written = crash
    registry.register(LogisticRegression().fit([[0.0], [1.0], [2.0]], [0, 1, 1]))
    print("unreachable", flush=True)
    """
)


def test_registry_killed_between_file_and_index_stays_consistent(tmp_path):
    from sklearn.linear_model import LogisticRegression

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LogisticRegression().fit(X, [0, 0, 1, 1])
    with ModelRegistry(tmp_path / "reg") as registry:
        registry.promote(registry.register(model), reason="initial")
    script = tmp_path / "die.py"
    script.write_text(_REGISTER_AND_DIE)
    process = _spawn(script, tmp_path / "reg")
    try:
        assert _readline(process) == "written"
        process.wait(timeout=_TIMEOUT)
        assert process.returncode == -signal.SIGKILL
        assert "unreachable" not in process.stdout.read()
    finally:
        _reap(process)
    with ModelRegistry(tmp_path / "reg") as registry:
        assert registry.versions()["version"].tolist() == [1]
        assert registry.champion() == 1
        np.testing.assert_array_equal(registry.load("champion").predict_proba(X), model.predict_proba(X))
        files = os.listdir(os.path.join(registry.path, "models"))
        assert len(files) == 2  # the orphan of the killed register() is on disk but in no row
        assert registry.clean_orphans() == []  # too young: could belong to a register() in flight
        removed = registry.clean_orphans(min_age=0)
        assert len(removed) == 1 and removed[0] not in registry.info(1)["file"]
        assert registry.register(model) == 2
        assert [e for e in registry.audit.entries()["kind"]] == ["register", "promotion", "register"]
        connection = sqlite3.connect(os.path.join(registry.path, "index.db"))
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        connection.close()


def test_registry_error_between_file_and_index_leaves_no_version(tmp_path, monkeypatch):
    from sklearn.dummy import DummyRegressor

    registry = ModelRegistry(tmp_path / "reg")
    registry.register(DummyRegressor().fit([[0.0]], [1.0]))

    def fail(path):
        raise OSError("disk vanished")

    monkeypatch.setattr(registry_module, "_after_file_written", fail)
    with pytest.raises(OSError, match="disk vanished"):
        registry.register(DummyRegressor().fit([[0.0]], [2.0]))
    monkeypatch.undo()
    assert registry.versions()["version"].tolist() == [1]
    assert registry.register(DummyRegressor().fit([[0.0]], [3.0])) == 2
    assert registry.load(2).predict([[0.0]]).tolist() == [3.0]
    registry.close()


_REGISTER_MANY = textwrap.dedent(
    """
    import sys
    from sklearn.dummy import DummyRegressor
    from loopwise.loop import ModelRegistry

    registry = ModelRegistry(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    worker = int(sys.argv[2])
    for k in range(4):
        version = registry.register(DummyRegressor().fit([[0.0]], [100.0 * worker + k]), tags={"worker": worker, "k": k})
        print(version, flush=True)
    registry.close()
    """
)


def test_concurrent_registers_get_distinct_versions(tmp_path):
    script = tmp_path / "many.py"
    script.write_text(_REGISTER_MANY)
    processes = [_spawn(script, tmp_path / "reg", worker) for worker in range(2)]
    try:
        for process in processes:
            assert _readline(process) == "ready"
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        returned = {worker: [int(_readline(p)) for _ in range(4)] for worker, p in enumerate(processes)}
        for process in processes:
            process.wait(timeout=_TIMEOUT)
            assert process.returncode == 0, process.stderr.read()
    finally:
        _reap(*processes)
    assert sorted(returned[0] + returned[1]) == list(range(1, 9))
    with ModelRegistry(tmp_path / "reg") as registry:
        for worker, versions in returned.items():
            for k, version in enumerate(versions):
                assert registry.info(version)["tags"] == {"worker": worker, "k": k}
                assert registry.load(version).predict([[0.0]]).tolist() == [100.0 * worker + k]
