"""The user's data reaches the user's model unchanged (issue 13): a recording model checks
every call made through predict, step (training and gate), check() and report(); a failed
constructor leaves nothing behind; unknown feedback ids raise; predict_proba serves and logs."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the helper modules beside this file (pytest runs with importlib mode)

import _recording  # noqa: E402
import _streams as S  # noqa: E402
from loopwise.loop.feedback_loop import FeedbackLoop  # noqa: E402


def _pipeline():
    prep = ColumnTransformer([
        ("categories", OneHotEncoder(handle_unknown="ignore"), ["city", "plan", "member"]),
        ("numbers", StandardScaler(), ["visits", "spend", "age"]),
    ])
    return Pipeline([("prep", prep), ("model", HistGradientBoostingClassifier(max_iter=30, random_state=0))])


def _drive_and_inspect(tmp_path, stream, inner):
    _recording.expect(stream.X)
    model = _recording.RecordingClassifier(inner)
    run = S.run_loop(tmp_path / "loop", model, stream, n_train=1000, batch=500, trusted=True)
    steps_calls = len(_recording.CALLS)
    with FeedbackLoop(tmp_path / "loop", trusted=True) as loop:
        status = loop.check()
        with _recording.recombined_rows_allowed():  # the report's permutation importance
            loop.report(tmp_path / "report.html", status=status)
            loop.report(tmp_path / "report2.html")
        proba = loop.predict_proba(S.rows(stream.X, 0, 20), ids=[f"again{i}" for i in range(20)])
    assert np.allclose(proba.sum(axis=1), 1.0)
    return run, steps_calls


def test_user_frame_reaches_the_model_unchanged_everywhere(tmp_path):
    stream = S.realistic_drift(n=4000, change=2000, seed=3)
    run, steps_calls = _drive_and_inspect(tmp_path, stream, _pipeline())
    methods = {m for m, _ in _recording.CALLS}
    fits = [n for m, n in _recording.CALLS if m == "fit"]
    assert _recording.VIOLATIONS == [], _recording.VIOLATIONS[:3]
    assert {"fit", "predict", "predict_proba"} <= methods
    assert len(fits) >= 2, "step() never trained a challenger, so training inputs were not checked"
    assert any(r.get("action") in ("promoted", "rejected") for r in run.results)
    assert len(_recording.CALLS) > steps_calls, "check()/report() did not call the model"


def test_user_array_reaches_the_model_unchanged_everywhere(tmp_path):
    stream = S.moving_concept(n=4000, change=2000, seed=4)
    stream.X = stream.X.astype(np.float32)  # the user's own array dtype must survive the store
    run, _ = _drive_and_inspect(tmp_path, stream, LogisticRegression())
    assert _recording.VIOLATIONS == [], _recording.VIOLATIONS[:3]
    assert len([m for m, _ in _recording.CALLS if m == "fit"]) >= 2
    assert any(r.get("action") in ("promoted", "rejected") for r in run.results)


# ------------------------------------------------------------------ failed constructor
def _fitted():
    X, y = S.moving_concept(n=600, change=600, seed=5).X, S.moving_concept(n=600, change=600, seed=5).y
    return LogisticRegression().fit(X, y), X, y


def _listing(path):
    out = {}
    for root, dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as handle:
                out[os.path.relpath(full, path)] = handle.read()
        for name in dirs:
            out[os.path.relpath(os.path.join(root, name), path) + "/"] = None
    return out


def test_failed_constructor_removes_a_new_directory(tmp_path):
    model, X, y = _fitted()
    target = tmp_path / "new"
    with pytest.raises(ValueError, match="reference_labels"):
        FeedbackLoop(target, model=model, reference=X, reference_labels=y[:-1])
    assert not target.exists()
    # and a retry in the same place starts clean
    with FeedbackLoop(target, model=model, reference=X, reference_labels=y) as loop:
        assert loop.champion_version == 1


def test_failed_constructor_restores_an_existing_directory(tmp_path):
    model, X, y = _fitted()
    target = tmp_path / "existing"
    (target / "sub").mkdir(parents=True)
    (target / "notes.txt").write_text("mine")
    (target / "sub" / "data.csv").write_text("a,b\n1,2\n")
    before = _listing(target)
    with pytest.raises(ValueError):
        FeedbackLoop(target, model=model, reference=X, reference_labels=y[:10])
    assert _listing(target) == before


def test_failed_constructor_on_a_model_that_cannot_score_its_reference(tmp_path):
    model, X, y = _fitted()
    wrong = np.hstack([X, X])  # the model was fitted on 8 columns; the reference has 16
    with pytest.raises(ValueError):
        FeedbackLoop(tmp_path / "bad", model=model, reference=wrong, reference_labels=y)
    assert not (tmp_path / "bad").exists()


def test_opening_a_live_loop_with_a_model_changes_nothing(tmp_path):
    model, X, y = _fitted()
    path = tmp_path / "loop"
    FeedbackLoop(path, model=model, reference=X, reference_labels=y).close()
    before = _listing(path)
    with pytest.raises(ValueError, match="already has a champion"):
        FeedbackLoop(path, model=model)
    assert _listing(path).keys() == before.keys()
    with FeedbackLoop(path) as loop:
        assert loop.champion_version == 1


# ------------------------------------------------------------------ feedback and predict_proba
def test_feedback_with_unknown_ids_raises_and_stores_nothing(tmp_path):
    model, X, y = _fitted()
    with FeedbackLoop(tmp_path / "loop", model=model, reference=X, reference_labels=y) as loop:
        loop.predict(X[:10], ids=[f"a{i}" for i in range(10)])
        with pytest.raises(ValueError, match="never-logged|unknown|not logged|never logged"):
            loop.feedback(["a0", "a1", "ghost"], [0, 1, 1])
        assert len(loop.store.labeled()) == 0
        report = loop.feedback(["a0", "a1", "ghost"], [0, 1, 1], unknown="ignore")
        assert report["n_labeled"] == 2 and list(report["unknown_ids"]) == ["ghost"]
        labeled = loop.store.labeled().to_frame()
        assert sorted(labeled["id"].astype(str)) == ["a0", "a1"]


def test_loop_predict_proba_returns_and_logs_the_champions_probabilities(tmp_path):
    model, X, y = _fitted()
    with FeedbackLoop(tmp_path / "loop", model=model, reference=X, reference_labels=y) as loop:
        ids = [f"p{i}" for i in range(25)]
        proba = loop.predict_proba(X[:25], ids=ids)
        np.testing.assert_allclose(proba, model.predict_proba(X[:25]), rtol=0, atol=1e-12)
        logged = loop.store.predictions()
        logged = logged[logged["id"].astype(str).isin(ids)]
        assert len(logged) == 25
        assert (logged.set_index("id").loc[ids, "prediction"].astype(int).to_numpy() == model.predict(X[:25])).all()
        assert loop.feedback(ids, y[:25])["n_labeled"] == 25
    with FeedbackLoop(tmp_path / "reg", model=__import__("sklearn.linear_model").linear_model.Ridge().fit(X, y),
                      reference=X, reference_labels=y) as loop:
        with pytest.raises((TypeError, ValueError)):
            loop.predict_proba(X[:5])
