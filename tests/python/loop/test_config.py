"""The loop's configuration lives with the loop (issue 12, item 1): a DAG-like sequence of
tasks, each in its own process, runs the custom policy the loop was created with; opening
with contradicting settings raises; reconfigure=True changes them and is audited; a policy
that cannot be saved is refused on reopening with a clear message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the helper modules beside this file (pytest runs with importlib mode)

import _custom_policy  # noqa: E402
from loopwise.loop import config as loop_config  # noqa: E402
from loopwise.loop.feedback_loop import FeedbackLoop  # noqa: E402
from loopwise.loop.policy import LabelCountTrigger, Policy, Refit, SlidingWindow  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def _env(marker) -> dict:
    # The loopwise under test (installed, or the caller's PYTHONPATH), never the bare source tree.
    paths = [HERE, os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), _custom_policy.MARKER: str(marker)}


def _task(code: str, marker, *args: str) -> str:
    """Run ``code`` (or a module with -m) in a new Python process; return its stdout."""
    command = [sys.executable, *args] if code is None else [sys.executable, "-c", textwrap.dedent(code), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(marker), timeout=300, cwd=HERE)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _marks(marker) -> list:
    if not os.path.exists(marker):
        return []
    with open(marker, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


CREATE = """
import sys, numpy as np
from sklearn.linear_model import LogisticRegression
from loopwise.loop.feedback_loop import FeedbackLoop
import _custom_policy as cp
X, y = cp.make_data()
model = LogisticRegression().fit(X[:1000], y[:1000])
loop = FeedbackLoop(sys.argv[1], model=model, reference=X[:1000], reference_labels=y[:1000], policy=cp.make_policy())
loop.close()
"""

SERVE = """
import sys
from loopwise.loop.feedback_loop import FeedbackLoop
import _custom_policy as cp
X, y = cp.make_data()
start, stop = int(sys.argv[2]), int(sys.argv[3])
with FeedbackLoop(sys.argv[1]) as loop:  # no policy=: the saved one
    ids = [f"r{i:06d}" for i in range(start, stop)]
    loop.predict(X[start:stop], ids=ids)
    loop.feedback(ids, y[start:stop])
    print(type(loop.policy.retrain.train_fn).__name__, loop.policy.retrain.train_fn.__module__)
"""

TASK = """
import sys, json
from loopwise import tasks
print(json.dumps(getattr(tasks, sys.argv[2])(sys.argv[1], key=sys.argv[3])))
"""


def test_a_dag_of_processes_runs_the_custom_policy(tmp_path):
    path, marker = str(tmp_path / "loop"), tmp_path / "marker.jsonl"
    _task(CREATE, marker, path)
    saved = json.loads((tmp_path / "loop" / "loop.json").read_text())
    assert "_custom_policy:train_fn" in json.dumps(saved["policy"])
    assert "_custom_policy:EveryLabels" in json.dumps(saved["policy"])
    assert _task(SERVE, marker, path, "1000", "2400").split() == ["function", "_custom_policy"]

    checked = json.loads(_task(TASK, marker, path, "check_drift", "k1").strip().splitlines()[-1])
    assert checked["skip"] is False
    assert checked["reasons"] and all(r.startswith("custom trigger: ") for r in checked["reasons"]), checked

    stepped = json.loads(_task(TASK, marker, path, "run_step", "k1").strip().splitlines()[-1])
    assert stepped["reasons"] and all(r.startswith("custom trigger: ") for r in stepped["reasons"]), stepped
    first = _marks(marker)
    assert first, "the custom train_fn did not run in the run_step process"
    assert len({m["pid"] for m in first}) == 1
    # SlidingWindow(700) over the pool; the newest validation_rows=250 labels held out for the
    # gate (fewer right after a detected change: half the rows since it, at least 100); the
    # recipe refitted on window + holdout when it passed.
    training = _audit(path, "training")
    n_holdout = training[-1]["inputs"]["n_holdout"]
    assert 100 <= n_holdout <= 250
    assert training[-1]["inputs"]["training_window"]["window"] == "sliding_window"
    assert [c["rows"] for c in training[-1]["inputs"]["candidates"]] == [700]
    assert first[0]["n"] == 700
    assert [m["n"] for m in first] == ([700, 700 + n_holdout] if stepped["action"] == "promoted" else [700])

    _task(SERVE, marker, path, "2400", "3400")
    out = _task(None, marker, "-m", "loopwise", "step", path, "--key", "k2")
    result = json.loads(out[out.index("{"):])
    assert result["reasons"] and all(r.startswith("custom trigger: ") for r in result["reasons"]), result
    later = _marks(marker)[len(first):]
    assert later and len({m["pid"] for m in later}) == 1 and later[0]["pid"] != first[0]["pid"]
    assert later[0]["n"] == 700
    # nothing in any process ran the default policy's triggers
    triggers = _audit(path, "trigger")
    assert triggers and all(r.startswith("custom trigger: ") for entry in triggers for r in entry["reasons"])


def _audit(path: str, kind: str) -> list:
    with FeedbackLoop(path) as loop:
        entries = loop.audit.entries(kind=kind)
    return [{"reasons": r, **d} for r, d in zip(entries["reasons"], entries["details"])]


@pytest.fixture()
def saved_loop(tmp_path):
    X, y = _custom_policy.make_data(1200)
    path = tmp_path / "loop"
    model = LogisticRegression().fit(X[:1000], y[:1000])
    FeedbackLoop(path, model=model, reference=X[:1000], reference_labels=y[:1000], policy=_custom_policy.make_policy(),
                 slices=["x0"], monitor_rows=500, random_state=7).close()
    return path


@pytest.mark.parametrize("setting", [
    {"policy": Policy()},
    {"policy": Policy(triggers=[_custom_policy.EveryLabels(n=301)], selection=SlidingWindow(n_rows=700),
                      retrain=Refit(train_fn=_custom_policy.train_fn), validation_rows=250, min_labels=300,
                      gate={"alpha": 0.2, "min_gain": -0.05})},
    {"slices": ["x1"]},
    {"sensitive": ["x0"]},
    {"monitor_rows": 600},
    {"random_state": 8},
])
def test_opening_with_contradicting_settings_raises(saved_loop, setting):
    before = (saved_loop / "loop.json").read_text()
    name = next(iter(setting))
    with pytest.raises(ValueError, match=name):
        FeedbackLoop(saved_loop, **setting)
    assert (saved_loop / "loop.json").read_text() == before


def test_opening_with_the_same_settings_or_none_uses_the_saved_ones(saved_loop):
    with FeedbackLoop(saved_loop, policy=_custom_policy.make_policy(), slices=["x0"], monitor_rows=500) as loop:
        assert loop.random_state == 7
    with FeedbackLoop(saved_loop) as loop:
        assert loop.policy == _custom_policy.make_policy()
        assert (loop.slices, loop.monitor_rows, loop.random_state) == (["x0"], 500, 7)


def test_reconfigure_changes_the_settings_and_is_audited(saved_loop):
    new = Policy(triggers=[LabelCountTrigger(n=50)], selection=SlidingWindow(n_rows=300))
    with FeedbackLoop(saved_loop, policy=new, monitor_rows=900, reconfigure=True) as loop:
        entries = loop.audit.entries(kind="configuration")
    assert len(entries) == 1
    reason = " ".join(entries["reasons"].iloc[0])
    assert "policy" in reason and "monitor_rows" in reason
    details = entries["details"].iloc[0]
    assert details["inputs"]["before"]["monitor_rows"] == 500 and details["inputs"]["after"]["monitor_rows"] == 900
    saved = loop_config.read(str(saved_loop))
    assert saved.policy == new and saved.monitor_rows == 900 and saved.slices == ["x0"]
    with FeedbackLoop(saved_loop) as loop:  # the new settings are what later processes get
        assert loop.policy == new


def test_a_lambda_train_fn_cannot_be_saved_and_reopening_asks_for_the_policy(tmp_path):
    X, y = _custom_policy.make_data(1200)
    path = tmp_path / "loop"
    policy = Policy(retrain=Refit(train_fn=lambda X, y, w: LogisticRegression().fit(X, y)))
    model = LogisticRegression().fit(X[:1000], y[:1000])
    FeedbackLoop(path, model=model, reference=X[:1000], reference_labels=y[:1000], policy=policy).close()
    saved = json.loads((path / "loop.json").read_text())
    assert saved["policy"] is None and "lambda" in saved["policy_not_saved"]
    with pytest.raises(ValueError, match="policy="):
        FeedbackLoop(path)
    # in a new process too (what a CLI run or a task would do)
    done = subprocess.run([sys.executable, "-m", "loopwise", "step", str(path)], capture_output=True, text=True,
                          env=_env(tmp_path / "m"), timeout=300)
    assert done.returncode != 0 and "policy=" in done.stderr
    with FeedbackLoop(path, policy=policy) as loop:  # passing it again works
        assert loop.policy is policy


def test_config_encoding_round_trips_and_names_what_cannot_be_saved():
    policy = _custom_policy.make_policy()
    data = json.loads(json.dumps(loop_config.encode(policy)))
    assert loop_config.decode(data) == policy
    assert loop_config.decode(data).retrain.train_fn is _custom_policy.train_fn
    with pytest.raises(loop_config.UnsavedCallable, match="lambda|cannot be imported"):
        loop_config.encode(Refit(train_fn=lambda X, y, w: None))
    broken = json.loads(json.dumps(data).replace("_custom_policy:train_fn", "_no_such_module_xyz:train_fn"))
    with pytest.raises(ValueError, match="_no_such_module_xyz"):
        loop_config.decode(broken)
