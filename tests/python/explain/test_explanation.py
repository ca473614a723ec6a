"""Explanation: construction checks, indexing, serialisation, plots."""

import json

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from loopwise.explain import Explanation  # noqa: E402


def make(k=None, n=6, m=4, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, m) if k is None else (n, m, k)
    base = 0.5 if k is None else np.arange(k, dtype=float)
    return Explanation(
        rng.normal(size=shape), base, data=rng.normal(size=(n, m)), feature_names=list("abcd")[:m],
        output_names=None if k is None else [f"c{i}" for i in range(k)],
    )


def test_shapes_and_base_broadcast():
    e = make(k=3)
    assert e.base_values.shape == (6, 3)
    np.testing.assert_array_equal(e.base_values[4], [0.0, 1.0, 2.0])
    np.testing.assert_allclose(e.output(), e.values.sum(axis=1) + e.base_values)


def test_indexing_by_row_feature_and_output():
    e = make(k=2)
    assert e[0].shape == (1, 4, 2)
    assert e["c"].shape == (6, 1, 2)
    np.testing.assert_array_equal(e["c"].values[:, 0], e.values[:, 2])
    sub = e[1:3, ["d", "a"], "c1"]
    assert sub.shape == (2, 2)
    np.testing.assert_array_equal(sub.values, e.values[1:3][:, [3, 0], 1])
    assert sub.feature_names == ["d", "a"]
    np.testing.assert_array_equal(sub.data, e.data[1:3][:, [3, 0]])
    with pytest.raises(KeyError, match="unknown feature name 'zz'"):
        e["zz"]


def test_mean_abs_is_global_importance():
    e = make()
    np.testing.assert_allclose(e.mean_abs(), np.abs(e.values).mean(axis=0))


def test_to_dict_round_trip_and_frame():
    for k in (None, 2):
        e = make(k=k)
        back = Explanation.from_dict(json.loads(json.dumps(e.to_dict())))
        np.testing.assert_array_equal(back.values, e.values)
        np.testing.assert_array_equal(back.base_values, e.base_values)
        assert back.feature_names == e.feature_names
    frame = make().to_frame()
    assert list(frame.columns) == ["a", "b", "c", "d", "base_value"]
    assert make(k=2).to_frame().shape == (6, 10)


def test_std_errors_follow_indexing():
    values = np.ones((3, 2))
    e = Explanation(values, 0.0, std_errors=values * 0.1)
    assert e[1:].std_errors.shape == (2, 2)
    with pytest.raises(ValueError, match="std_errors has shape"):
        Explanation(values, 0.0, std_errors=np.ones(3))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(values=np.ones(3), base_values=0.0), "values must have shape"),
        (dict(values=np.ones((2, 2)), base_values=np.ones(3)), "base_values has shape"),
        (dict(values=np.ones((2, 2)), base_values=0.0, feature_names=["a"]), "feature_names has 1"),
        (dict(values=np.ones((2, 2)), base_values=0.0, data=np.ones((2, 3))), "data has shape"),
    ],
)
def test_bad_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Explanation(**kwargs)


def test_plots_return_axes_and_show_ten_features():
    rng = np.random.default_rng(1)
    e = Explanation(rng.normal(size=(20, 15)), 0.0, data=rng.normal(size=(20, 15)))
    ax = e.plot.bar()
    assert len(ax.get_yticklabels()) == 11  # 10 features + "sum of 5 other features"
    ax.clear()
    assert len(e.plot.waterfall(3, ax=ax).get_yticklabels()) == 11
    ax.clear()
    assert len(e.plot.beeswarm(ax=ax).get_yticklabels()) == 10
    assert e.plot.scatter("x4").get_xlabel() == "x4"
    assert "<table>" in e._repr_html_()
    with pytest.raises(ValueError, match="pass output"):
        make(k=2).plot.bar()
