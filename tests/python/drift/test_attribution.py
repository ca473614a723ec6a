"""Attribution recovers the features a synthetic shift moved; explanation drift."""

import numpy as np
import pandas as pd
import pytest

from loopwise import drift


def _shifted(seed=0, n=500):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"f{i}" for i in range(6)])
    cur = pd.DataFrame(rng.normal(size=(n, 6)), columns=ref.columns)
    cur["f1"] += 1.0          # mean shift
    cur["f4"] *= 2.5          # scale shift
    return ref, cur


@pytest.mark.parametrize("method", ["shap", "permutation"])
def test_attribution_recovers_moved_features(method):
    ref, cur = _shifted()
    ranking = drift.attribute(ref, cur, method=method, random_state=0, n_jobs=1)
    assert set(ranking["feature"].iloc[:2]) == {"f1", "f4"}
    assert ranking["share"].iloc[:2].sum() > 0.6
    assert ranking.attrs["auc"] > 0.7 and ranking.attrs["method"] in ("treeshap", "permutation")
    assert list(ranking["rank"]) == list(range(1, 7))
    # per-feature statistics reported alongside agree on which columns drifted
    assert set(ranking.loc[ranking["drifted"], "feature"]) == {"f1", "f4"}


def test_attribution_with_categorical_column():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"num": rng.normal(size=400), "cat": rng.choice(["a", "b", "c"], 400)})
    cur = pd.DataFrame({"num": rng.normal(size=400), "cat": rng.choice(["a", "b", "c"], 400, p=[0.8, 0.1, 0.1])})
    ranking = drift.attribute(ref, cur, random_state=0, n_jobs=1)
    assert ranking["feature"].iloc[0] == "cat"


def test_attribution_schema_error():
    ref, cur = _shifted()
    with pytest.raises(ValueError, match="missing columns \\['f5'\\]"):
        drift.attribute(ref, cur.drop(columns="f5"))


def test_explanation_drift_from_arrays():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(100, 3)) * [1.0, 0.5, 0.1]
    cur = rng.normal(size=(100, 3)) * [1.0, 0.1, 0.9]
    frame = drift.explanation_drift(ref, cur, feature_names=["a", "b", "c"])
    assert list(frame["feature"]) == ["c", "b", "a"]
    np.testing.assert_allclose(frame.set_index("feature").loc["c", "change"],
                               np.abs(cur[:, 2]).mean() - np.abs(ref[:, 2]).mean())
    with pytest.raises(ValueError, match="features"):
        drift.explanation_drift(ref, cur[:, :2])


def test_explanation_drift_with_model_uses_treeshap():
    from sklearn.ensemble import GradientBoostingRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    model = GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0).fit(X, X[:, 0] + 0.5 * X[:, 1])
    later = X.copy()
    later[:, 0] *= 0.1  # feature 0 now barely varies: its SHAP magnitude falls
    frame = drift.explanation_drift(X, later, model=model)
    assert frame["feature"].iloc[0] == "x0" and frame["change"].iloc[0] < 0
