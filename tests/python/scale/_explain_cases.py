"""The explainers the distributed tests run, each with its single-machine oracle.

One small seeded table (with an id column, NaN-free floats) and one explainer per kind:
TreeSHAP path-dependent, TreeSHAP interventional, KernelSHAP over a plain Python function
(which must travel beside the JSON) and over a classifier's predict_proba (two outputs),
and LIME. ``expected(case)`` is the single-machine explainer on the whole pandas frame,
laid out like the distributed result, so a test compares the two row for row.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

FEATURES = ["x0", "x1", "x2", "x3", "x4"]
N_ROWS = 120
CASES = ["tree_path", "tree_interventional", "kernel_callable", "kernel_proba", "lime"]


@lru_cache(maxsize=None)
def table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(N_ROWS, len(FEATURES))), columns=FEATURES)
    frame.insert(0, "id", np.arange(N_ROWS, dtype=np.int64) * 3 + 1)
    return frame


def _target(X: pd.DataFrame) -> np.ndarray:
    return 2.0 * X["x0"] - X["x1"] * X["x2"] + 0.5 * (X["x3"] > 0)


@lru_cache(maxsize=None)
def models():
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor

    X = table()[FEATURES]
    y = _target(X)
    forest = RandomForestRegressor(n_estimators=8, max_depth=4, random_state=0).fit(X, y)
    boost = GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0).fit(X, y > y.median())
    return forest, boost


def plain_function(X) -> np.ndarray:
    """A model that is only a Python function (no native shortcut, no JSON form)."""
    X = np.asarray(X, dtype=np.float64)
    return np.tanh(X[:, 0]) * X[:, 1] + 0.3 * X[:, 2] ** 2 - X[:, 3] * X[:, 4]


@lru_cache(maxsize=None)
def case(name: str):
    """(explainer, model or None, explain options)."""
    from loopwise.explain import KernelExplainer, LimeTabular, TreeExplainer

    X = table()[FEATURES]
    forest, boost = models()
    background = X.iloc[::12]
    if name == "tree_path":
        return TreeExplainer(forest), None, {}
    if name == "tree_interventional":
        return TreeExplainer(forest, background), None, {}
    if name == "kernel_callable":
        return KernelExplainer(plain_function, background.to_numpy(), random_state=5), plain_function, {"nsamples": 24}
    if name == "kernel_proba":
        return KernelExplainer(boost.predict_proba, background, random_state=9), boost.predict_proba, {"nsamples": 24}
    if name == "lime":
        lime = LimeTabular(X, mode="regression", random_state=3)
        return lime, forest.predict, {"num_samples": 300, "num_features": 3}
    raise KeyError(name)


def expected(name: str) -> pd.DataFrame:
    """The single-machine result in the distributed layout (id, values..., base/intercept...)."""
    explainer, model, options = case(name)
    X = table()[FEATURES]
    out = pd.DataFrame({"id": table()["id"]})
    if name == "lime":
        explanations = explainer.explain_many(X, model, labels=(1,), **options)
        weights = np.zeros((len(X), len(FEATURES)))
        for i, e in enumerate(explanations):
            for j, w in e.local_exp[0]:
                weights[i, j] = w
        for j, c in enumerate(FEATURES):
            out[c] = weights[:, j]
        out["intercept"] = [e.intercept[0] for e in explanations]
        out["score"] = [e.score[0] for e in explanations]
        out["local_pred"] = [e.local_pred[0] for e in explanations]
        return out
    explanation = explainer(X, **options)
    values = np.asarray(explanation.values)
    if values.ndim == 2:
        for j, c in enumerate(FEATURES):
            out[c] = values[:, j]
        out["base_value"] = np.broadcast_to(np.asarray(explanation.base_values, dtype=np.float64).reshape(-1), (len(X),))
        return out
    classes = [str(c) for c in models()[1].classes_]
    for o, label in enumerate(classes):
        for j, c in enumerate(FEATURES):
            out[f"{c}__{label}"] = values[:, j, o]
    for o, label in enumerate(classes):
        out[f"base_value__{label}"] = np.asarray(explanation.base_values)[:, o]
    return out


def assert_same(result: pd.DataFrame, name: str, tolerance: float = 1e-12) -> float:
    """Row-for-row comparison by id; returns the largest absolute difference."""
    want = expected(name)
    got = result.sort_values("id").reset_index(drop=True)
    assert list(got.columns) == list(want.columns), (list(got.columns), list(want.columns))
    assert got["id"].tolist() == want["id"].tolist()
    diff = np.abs(got.drop(columns="id").to_numpy(dtype=np.float64) - want.drop(columns="id").to_numpy(dtype=np.float64))
    worst = float(diff.max())
    assert worst <= tolerance, f"{name}: distributed values differ from the single-machine explainer by {worst:.3g}"
    return worst
