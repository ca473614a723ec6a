"""Model files: what loads in a new process without trusted=True, and what is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn import calibration, ensemble, neighbors, neural_network, pipeline, preprocessing, tree
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import loopwise
from loopwise.loop import ModelRegistry, UntrustedModelError
from loopwise.loop._model_formats import deserialise, serialise
from loopwise.loop._trusted_types import TRUSTED_TYPES, refused_types

_PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(loopwise.__file__)))


def _users_function(values):
    """A user's own function: another package as far as the allowlist is concerned."""
    return values * 2.0


class Opaque:
    def __init__(self, offset: float) -> None:
        self.offset = offset

    def predict(self, X):
        return np.asarray(X)[:, 0] + self.offset


@pytest.fixture()
def frame():
    rng = np.random.default_rng(3)
    n = 500
    X = pd.DataFrame({"city": rng.choice(["paris", "oslo", "rome"], n), "amount": rng.gamma(2.0, 50.0, n),
                      "age": rng.integers(18, 80, n).astype(float)})
    score = (X["city"] == "oslo") * 1.0 + (X["amount"] - 100) / 50 + rng.normal(size=n)
    return X, np.where(score > 0.5, "fraud", "ok")


def _encoder():
    return ColumnTransformer([("city", OneHotEncoder(handle_unknown="ignore"), ["city"]),
                              ("num", StandardScaler(), ["amount", "age"])])


def _child(code: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": _PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_a_new_process_serves_common_models_without_trusted(tmp_path, frame):
    X, y = frame
    numeric = X[["amount", "age"]]
    y01 = (y == "fraud").astype(int)
    models = {
        "logistic_pipeline": make_pipeline(_encoder(), LogisticRegression()).fit(X, y),
        "hgb_pipeline": make_pipeline(_encoder(), HistGradientBoostingClassifier(max_iter=20, random_state=0)).fit(X, y),
        "xgboost": xgboost.XGBClassifier(n_estimators=15, max_depth=3, random_state=0).fit(numeric, y01),
        "lightgbm": lightgbm.LGBMClassifier(n_estimators=15, random_state=0, verbose=-1).fit(numeric, y),
    }
    inputs = {"logistic_pipeline": X, "hgb_pipeline": X, "xgboost": numeric, "lightgbm": numeric}
    X.to_pickle(tmp_path / "X.pkl")  # the child reads the rows; the models come from the registry
    with ModelRegistry(tmp_path / "reg") as registry:
        versions = {name: registry.register(model) for name, model in models.items()}
        opaque = registry.register(Opaque(1.0))
        formats = registry.versions().set_index("version")["format"].to_dict()
    assert {formats[v] for v in versions.values()} == {"skops"}
    result = _child("""
        import json, sys
        import numpy as np, pandas as pd
        from loopwise.loop import ModelRegistry, UntrustedModelError
        path, versions, opaque = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
        X = pd.read_pickle(path + "/X.pkl")
        inputs = {"logistic_pipeline": X, "hgb_pipeline": X, "xgboost": X[["amount", "age"]],
                  "lightgbm": X[["amount", "age"]]}
        out = {}
        with ModelRegistry(path + "/reg") as registry:
            for name, version in versions.items():
                model = registry.load(version)  # no trusted=True
                np.save(f"{path}/{name}.npy", model.predict_proba(inputs[name]))
                out[name] = [str(label) for label in model.predict(inputs[name])[:5]]
            try:
                registry.load(opaque)
                out["opaque"] = "loaded"
            except UntrustedModelError as error:
                out["opaque"] = str(error)
        print(json.dumps(out))
        """, str(tmp_path), json.dumps(versions), str(opaque))
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    for name, model in models.items():
        np.testing.assert_array_equal(np.load(tmp_path / f"{name}.npy"), model.predict_proba(inputs[name]))
        assert out[name] == [str(label) for label in model.predict(inputs[name])[:5]]
    assert "Opaque" in out["opaque"] and "trusted=True" in out["opaque"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("make, target", [
    (lambda: tree.DecisionTreeClassifier(max_depth=4), "label"),
    (lambda: ensemble.RandomForestRegressor(n_estimators=4, max_depth=3), "number"),
    (lambda: ensemble.GradientBoostingClassifier(n_estimators=5), "label"),
    (lambda: ensemble.HistGradientBoostingRegressor(max_iter=5), "number"),
    (lambda: ensemble.IsolationForest(n_estimators=5, random_state=0), None),
    (lambda: neighbors.KNeighborsClassifier(algorithm="kd_tree"), "label"),
    (lambda: neighbors.KNeighborsRegressor(algorithm="ball_tree"), "number"),
    (lambda: neural_network.MLPClassifier(hidden_layer_sizes=(4,), max_iter=500, random_state=0), "label"),
    (lambda: calibration.CalibratedClassifierCV(LogisticRegression(), cv=2), "label"),
    (lambda: ensemble.StackingClassifier([("lr", LogisticRegression()), ("dt", tree.DecisionTreeClassifier())]),
     "label"),
    (lambda: make_pipeline(preprocessing.SplineTransformer(), Ridge()), "number"),
    (lambda: make_pipeline(preprocessing.FunctionTransformer(np.log1p), Ridge()), "number"),
    (lambda: xgboost.XGBRegressor(n_estimators=5), "number"),
    (lambda: lightgbm.LGBMRegressor(n_estimators=5, verbose=-1), "number"),
])
def test_allowlisted_models_round_trip_bit_identically(make, target):
    rng = np.random.default_rng(0)
    X = np.abs(rng.normal(size=(120, 3)))
    y = {"label": np.where(X[:, 0] > 0.7, "a", "b"), "number": X[:, 0] * 3.0, None: None}[target]
    model = make().fit(X) if y is None else make().fit(X, y)
    file_format, payload = serialise(model)
    assert file_format == "skops"
    back = deserialise(file_format, payload, trusted=False, what="test")
    method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    np.testing.assert_array_equal(getattr(back, method)(X), getattr(model, method)(X))


def test_other_packages_and_user_code_need_trusted():
    X = np.abs(np.random.default_rng(0).normal(size=(50, 2)))
    y = X[:, 0]
    cases = [
        (make_pipeline(preprocessing.FunctionTransformer(_users_function), Ridge()).fit(X, y), "_users_function"),
        (Opaque(2.0), "Opaque"),
    ]
    for model, name in cases:
        file_format, payload = serialise(model)
        with pytest.raises(UntrustedModelError, match=name):
            deserialise(file_format, payload, trusted=False, what="test")
        back = deserialise(file_format, payload, trusted=True, what="test")
        np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_xgboost_with_a_callable_objective_needs_trusted():
    def squared(labels, predictions):
        return predictions - labels, np.ones_like(predictions)

    X = np.random.default_rng(0).normal(size=(60, 2))
    model = xgboost.XGBRegressor(n_estimators=3, objective=squared).fit(X, X[:, 0])
    file_format, payload = serialise(model)
    with pytest.raises(UntrustedModelError, match="squared"):
        deserialise(file_format, payload, trusted=False, what="test")


def test_allowlist_rules():
    assert refused_types(["sklearn.tree._tree.Tree", "xgboost.core.Booster", "os.system", "builtins.eval"]) == [
        "builtins.eval", "os.system"]
    # Nothing that runs arbitrary code by name is on the list.
    assert not {name for name in TRUSTED_TYPES if name.split(".")[0] in {"builtins", "os", "subprocess", "pickle",
                                                                         "joblib", "importlib", "posix"}}
    with pytest.raises(ValueError, match="unknown file format"):
        deserialise("zip", b"", trusted=True, what="version 1")
    with pytest.raises(UntrustedModelError, match="version 4 \\(m:C\\) is stored as a pickle"):
        deserialise("pickle", b"", trusted=False, what="version 4", class_name="m:C")
    with pytest.raises(ValueError, match="only loopwise"):
        deserialise("loopwise-json", json.dumps({"class": "os:system", "data": {}}).encode(), trusted=True,
                    what="version 1")
