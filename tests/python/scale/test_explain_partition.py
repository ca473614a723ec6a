"""The engine-free step: explainers to JSON and back, and one partition explained from JSON.

No engine here: splitting the table into arbitrary partitions and explaining each from the
JSON text must give the single-machine explainer's values row for row.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _explain_cases import CASES, FEATURES, assert_same, case, models, table  # noqa: E402

from loopwise.explain import KernelExplainer, LimeTabular, TreeExplainer, explain_partition  # noqa: E402
from loopwise.explain import _partition  # noqa: E402


@pytest.mark.parametrize("name", CASES)
def test_partitions_from_json_equal_the_single_machine_explainer(name):
    explainer, model, options = case(name)
    text = explainer.to_json()
    json.loads(text)  # strict JSON (no NaN literals)
    frame = table()
    cuts = [0, 1, 37, 38, 90, len(frame)]  # uneven partitions, one of a single row
    parts = [
        explain_partition(frame.iloc[a:b], text, columns=FEATURES, keep=["id"], model=model, **options) for a, b in zip(cuts, cuts[1:])
    ]
    assert_same(pd.concat(parts), name, tolerance=0.0)


@pytest.mark.parametrize("name", CASES)
def test_json_round_trip_rebuilds_the_same_explainer(name):
    explainer, model, options = case(name)
    cls = type(explainer)
    kwargs = {"model": model} if cls is KernelExplainer else {}
    again = cls.from_json(explainer.to_json(), **kwargs)
    assert again.to_json() == explainer.to_json()
    X = table()[FEATURES].iloc[:6]
    if cls is LimeTabular:
        a = explainer.explain_many(X, model, **options)
        b = again.explain_many(X, model, **options)
        assert [e.to_dict() for e in a] == [e.to_dict() for e in b]
    else:
        assert np.array_equal(explainer(X, **options).values, again(X, **options).values)
        assert np.array_equal(np.asarray(explainer.expected_value), np.asarray(again.expected_value))


def test_background_with_missing_values_and_float32_model_round_trips_exactly():
    from sklearn.ensemble import HistGradientBoostingRegressor

    X = table()[FEATURES].to_numpy().copy()
    X[::7, 2] = np.nan
    model = HistGradientBoostingRegressor(max_iter=10, random_state=0).fit(X, np.nan_to_num(X[:, 0]) + X[:, 1])
    explainer = TreeExplainer(model, X[:25])
    again = TreeExplainer.from_json(explainer.to_json())
    assert np.array_equal(explainer.shap_values(X), again.shap_values(X))


def test_unsupported_explainers_say_why():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeRegressor

    X = table()[FEATURES]
    pipeline = make_pipeline(StandardScaler(), DecisionTreeRegressor(max_depth=2)).fit(X, X["x0"])
    with pytest.raises(ValueError, match="Pipeline has no JSON form"):
        TreeExplainer(pipeline).to_json()
    mixed = X.assign(city=["Oslo", "Rome"] * (len(X) // 2))
    with pytest.raises(ValueError, match="city"):
        LimeTabular(mixed, mode="regression").to_json()
    with pytest.raises(ValueError, match="not a loopwise explainer"):
        explain_partition(table(), json.dumps({"format": "other"}))
    text = case("kernel_callable")[0].to_json()
    with pytest.raises(ValueError, match="pass it as model="):
        explain_partition(table(), text, columns=FEATURES, keep=["id"])
    with pytest.raises(ValueError, match="LIME needs"):
        explain_partition(table(), case("lime")[0].to_json())


def test_argument_errors_name_the_argument():
    text = case("tree_path")[0].to_json()
    with pytest.raises(ValueError, match=r"frame lacks the columns \['x4'\]"):
        explain_partition(table().drop(columns="x4"), text)
    with pytest.raises(ValueError, match="keep names columns that the result also holds"):
        explain_partition(table(), text, keep=["x0"])
    with pytest.raises(ValueError, match="columns names 2 columns"):
        explain_partition(table(), text, columns=["x0", "x1"])
    with pytest.raises(TypeError, match="unknown: \\['nsamples'\\]"):
        explain_partition(table(), text, nsamples=10)
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame"):
        explain_partition([[1.0] * 5], text)


def test_empty_partition_and_arrow_partition():
    import pyarrow as pa

    text = case("tree_interventional")[0].to_json()
    empty = explain_partition(table().iloc[:0], text, keep=["id"])
    assert list(empty.columns) == ["id", *FEATURES, "base_value"] and len(empty) == 0
    arrow = explain_partition(pa.Table.from_pandas(table().iloc[:10], preserve_index=False), text, keep=["id"])
    assert isinstance(arrow, pa.Table)
    pandas = explain_partition(table().iloc[:10], text, keep=["id"])
    assert arrow.to_pandas().equals(pandas.reset_index(drop=True))


def test_the_explainer_is_built_once_per_process_and_text():
    text = case("tree_interventional")[0].to_json()
    _partition._cache.clear()
    explain_partition(table().iloc[:5], text)
    first = _partition._explainer(text, None, None, 1)
    explain_partition(table().iloc[5:9], text)
    assert _partition._explainer(text, None, None, 1) is first
    assert len(_partition._cache) == 1
    forest, _ = models()
    other = TreeExplainer(forest, table()[FEATURES].iloc[::5]).to_json()
    assert _partition._explainer(other, None, None, 1) is not first
