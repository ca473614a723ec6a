"""Every scikit-learn model form a user deploys runs through predict -> feedback -> step ->
promote on a stream with an abrupt concept change (issue 11, item 3), without trusted=True,
and a new process reopens the loop and steps it, still without trusted=True."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the helper modules beside this file (pytest runs with importlib mode)

import _streams as S  # noqa: E402
N, CHANGE, N_TRAIN, BATCH, TAIL = 6000, 3000, 1000, 500, 1000


def _numeric(labels=None):
    stream = S.moving_concept(n=N, change=CHANGE, seed=1)
    if labels is not None:
        stream.y = np.asarray(labels, dtype=object)[stream.y]
        stream.y_true = stream.y
    return stream


def _regression():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(N, 5))
    y = np.where(np.arange(N) < CHANGE, X @ [2.0, -1.0, 0.0, 0.5, 0.0], X @ [-1.0, 0.0, 2.0, 0.0, 1.5])
    y = y + rng.normal(scale=0.3, size=N)
    return S.Stream(X, y, y, (np.arange(N) >= CHANGE).astype(int), "regression")


def _column_pipeline():
    prep = ColumnTransformer([
        ("categories", OneHotEncoder(handle_unknown="ignore"), ["city", "plan", "member"]),
        ("numbers", StandardScaler(), ["visits", "spend", "age"]),
    ])
    return Pipeline([("prep", prep), ("model", HistGradientBoostingClassifier(max_iter=40, random_state=0))])


def _xgb():
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=40, max_depth=3, learning_rate=0.3, n_jobs=1)


def _lgbm():
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_estimators=40, num_leaves=15, verbose=-1, n_jobs=1)


def _neg_rmse(predictions, labels):
    return -float(np.sqrt(np.mean((np.asarray(predictions, dtype=float) - np.asarray(labels, dtype=float)) ** 2)))


FORMS = {
    "logistic_regression": (lambda: LogisticRegression(), _numeric),
    "scaler_logistic_pipeline": (lambda: make_pipeline(StandardScaler(), LogisticRegression()), _numeric),
    "column_transformer_hgb_on_realistic_frame": (_column_pipeline, lambda: S.realistic_drift(N, CHANGE, seed=0)),
    "string_labels": (lambda: LogisticRegression(), lambda: _numeric(["ok", "fraud"])),
    "xgboost_classifier": (_xgb, _numeric),
    "lightgbm_classifier": (_lgbm, _numeric),
    "ridge_regressor": (lambda: Ridge(alpha=1.0), _regression),
    "hgb_regressor": (lambda: HistGradientBoostingRegressor(max_iter=40, random_state=0), _regression),
    "no_sample_weight_knn": (lambda: KNeighborsClassifier(n_neighbors=15), _numeric),
}


def _subprocess_env() -> dict:
    root = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
    # The loopwise under test (installed, or the caller's PYTHONPATH), never the bare source tree.
    paths = [os.path.join(root, "tests", "python"), HERE]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths + [os.environ.get("PYTHONPATH", "")])}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_model_form_is_served_retrained_and_promoted(form, tmp_path):
    make_model, make_stream = FORMS[form]
    stream = make_stream()
    head = S.Stream(S.rows(stream.X, 0, N - TAIL), stream.y[:N - TAIL], stream.y_true[:N - TAIL],
                    stream.concept[:N - TAIL], stream.name)
    regression = form.endswith("regressor")
    score = _neg_rmse if regression else S.accuracy
    model = make_model()
    path = tmp_path / "loop"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = S.run_loop(path, model, head, n_train=N_TRAIN, batch=BATCH, score=score)  # trusted=False
    weight_warnings = [w for w in caught if "sample_weight" in str(w.message) or "weights" in str(w.message)]
    if form == "no_sample_weight_knn":
        # The default policy's weights are all ones (no confidences given): nothing is lost by
        # fitting without them, so no warning; real weights on such a model do warn.
        assert not weight_warnings, [str(w.message) for w in weight_warnings]
        from loopwise.loop._fit import fit_with_weights

        X0, y0 = S.rows(stream.X, 0, 200), stream.y[:200]
        with pytest.warns(UserWarning, match="KNeighborsClassifier"):
            fit_with_weights(make_model(), X0, y0, np.linspace(0.5, 1.0, len(y0)))
    assert run.promotions, f"{form}: no promotion after an abrupt concept change; results: {run.results}"
    # The promoted champion is the user's kind of model, not a loopwise substitute.
    from loopwise.loop.feedback_loop import FeedbackLoop

    with FeedbackLoop(path) as loop:
        champion = loop.model()
        assert type(champion) is type(model)
        if isinstance(model, Pipeline):
            assert [type(s) for _, s in champion.steps] == [type(s) for _, s in model.steps]
        if form == "string_labels":
            assert set(map(str, champion.classes_)) == {"ok", "fraud"}
            assert set(np.asarray(champion.predict(S.rows(stream.X, 0, 50))).astype(str)) <= {"ok", "fraud"}
    # After the change the loop serves clearly better than the model it started with.
    after = slice(CHANGE + 2 * BATCH - N_TRAIN, len(run.served))
    truth = head.y_true[N_TRAIN:][after]
    loop_score, never_score = score(run.served[after], truth), score(run.never[after], truth)
    assert loop_score > never_score + (0.1 if not regression else 0.5), (loop_score, never_score)

    # A new process reopens the loop without trusted=True, serves, labels and steps it.
    last = (len(run.served) + N_TRAIN - BATCH, N - TAIL)
    data = {"X": S.rows(stream.X, N - TAIL, N), "y": stream.y[N - TAIL:], "batch": BATCH,
            "pending_ids": [f"r{i:07d}" for i in range(*last)], "pending_y": stream.y[last[0]:last[1]]}
    with open(tmp_path / "data.pkl", "wb") as handle:
        pickle.dump(data, handle)
    done = subprocess.run([sys.executable, os.path.join(HERE, "_reopen_step.py"), str(path), str(tmp_path / "data.pkl")],
                          capture_output=True, text=True, env=_subprocess_env(), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["champion_types"] == [type(model).__name__] * 2
    assert all(action in ("none", "promoted", "rejected") for action in out["actions"]), out
