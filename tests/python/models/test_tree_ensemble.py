"""TreeEnsemble: serialisation, hostile input, threads, input formats, bad input."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor

from loopwise.models import TreeEnsemble


@pytest.fixture(scope="module")
def forest(mixed_data):
    X, _, targets = mixed_data
    model = RandomForestRegressor(n_estimators=20, max_depth=8, random_state=0).fit(np.nan_to_num(X), targets["regression"])
    return model, TreeEnsemble.from_model(model), np.nan_to_num(X)


@pytest.fixture(scope="module")
def hist_classifier(mixed_data):
    X, _, targets = mixed_data
    model = HistGradientBoostingClassifier(max_iter=20, categorical_features=[6, 7], random_state=0)
    return model.fit(X, targets["multiclass"]), X


def test_json_round_trip_is_bit_identical(hist_classifier, tmp_path):
    model, X = hist_classifier
    original = TreeEnsemble.from_model(model)
    restored = TreeEnsemble.from_json(original.to_json())
    assert restored == original
    for key, value in original.fields.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value.view(np.uint8), restored.fields[key].view(np.uint8)), key
    assert np.array_equal(original.decision_function(X).view(np.uint64), restored.decision_function(X).view(np.uint64))
    np.testing.assert_array_equal(restored.predict(X), original.predict(X))
    path = tmp_path / "model.json"
    original.to_json(path)
    assert TreeEnsemble.from_json(path) == original
    assert TreeEnsemble.from_json(str(path)).classes == original.classes


def test_pickle_and_copy(forest):
    _, ensemble, X = forest
    for clone in (pickle.loads(pickle.dumps(ensemble)), copy.deepcopy(ensemble)):
        assert clone == ensemble
        np.testing.assert_array_equal(clone.predict(X), ensemble.predict(X))


def test_properties(forest):
    model, ensemble, _ = forest
    assert ensemble.n_trees == 20
    assert ensemble.n_features == 8
    assert ensemble.n_outputs == 1
    assert ensemble.max_depth == max(e.get_depth() for e in model.estimators_)
    assert ensemble.feature_names is None
    assert "n_trees=20" in repr(ensemble)


def test_results_do_not_depend_on_threads_or_float_width(forest):
    _, ensemble, X = forest
    serial = ensemble.predict(X, n_jobs=1)
    assert np.array_equal(serial, ensemble.predict(X, n_jobs=2))
    assert np.array_equal(serial, ensemble.predict(X, n_jobs=-1))
    # scikit-learn trees compare float32(x), so float32 input gives the same answer.
    assert np.array_equal(serial, ensemble.predict(X.astype(np.float32)))
    assert np.array_equal(ensemble.apply(X, n_jobs=1), ensemble.apply(X, n_jobs=2))


def test_apply_matches_sklearn(forest):
    model, ensemble, X = forest
    np.testing.assert_array_equal(ensemble.apply(X[:500]), model.apply(X[:500].astype(np.float32)))


def test_table_inputs_keep_names(mixed_data):
    X, _, targets = mixed_data
    frame = pd.DataFrame(np.nan_to_num(X), columns=[f"c{i}" for i in range(8)])
    model = RandomForestRegressor(n_estimators=5, max_depth=5, random_state=0).fit(frame, targets["regression"])
    ensemble = TreeEnsemble.from_model(model)
    assert ensemble.feature_names == list(frame.columns)
    expected = model.predict(frame)
    np.testing.assert_allclose(ensemble.predict(frame[frame.columns[::-1]]), expected)  # reordered by name
    polars = pytest.importorskip("polars")
    np.testing.assert_allclose(ensemble.predict(polars.from_pandas(frame)), expected)
    pyarrow = pytest.importorskip("pyarrow")
    np.testing.assert_allclose(ensemble.predict(pyarrow.Table.from_pandas(frame)), expected)
    with pytest.raises(ValueError, match=r"missing columns \['c7'\]"):
        ensemble.predict(frame.drop(columns="c7"))
    with pytest.raises(ValueError, match=r"unexpected columns \['zzz'\]"):
        ensemble.predict(frame.rename(columns={"c7": "zzz"}))


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.ones((0, 8)), "0 rows"),
        (np.ones((3, 7)), "7 columns but 8"),
        (np.ones(8), "must be 2-D"),
        ([["a"] * 8], "holds text"),
    ],
)
def test_bad_inputs(forest, bad, message):
    _, ensemble, _ = forest
    with pytest.raises(ValueError, match=message):
        ensemble.predict(bad)


def test_predict_proba_on_regressor_is_refused(forest):
    with pytest.raises(ValueError, match="regressor"):
        forest[1].predict_proba(forest[2][:2])


def test_n_jobs_zero_is_refused(forest):
    with pytest.raises(ValueError, match="n_jobs=0"):
        forest[1].predict(forest[2][:2], n_jobs=0)


def _tiny_fields():
    """A stump on feature 0: x <= 0.5 -> 1.0, else 2.0."""
    return dict(
        n_features=2,
        n_outputs=1,
        tree_offsets=[0, 3],
        tree_output=[0],
        feature=[0, -1, -1],
        threshold=[0.5, 0.0, 0.0],
        left=[1, 0, 0],
        right=[2, 0, 0],
        default_left=[1, 0, 0],
        missing_rule=[0, 0, 0],
        cover=[2.0, 1.0, 1.0],
        value=[0.0, 1.0, 2.0],
        cat_node=[],
        cat_left_ptr=[0],
        cat_left=[],
        cat_right_ptr=[0],
        cat_right=[],
        cat_other_left=[],
        base_score=[0.0],
        comparison=0,
        float32_inputs=False,
        category_cast=0,
        link=0,
        link_scale=1.0,
    )


def test_hand_built_stump_routes_missing_values():
    stump = TreeEnsemble(_tiny_fields())
    np.testing.assert_array_equal(stump.predict([[0.5, 0.0], [0.6, 0.0], [np.nan, 0.0]]), [1.0, 2.0, 1.0])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"left": [7, 0, 0]}, r"tree 0, node 0: left child index 7 is outside \[0, 3\)"),
        ({"left": [0, 0, 0]}, "reached twice"),
        ({"right": [1, 0, 0]}, "reached twice"),
        ({"feature": [5, -1, -1]}, "split feature 5 >= n_features 2"),
        ({"threshold": [float("nan"), 0.0, 0.0]}, "threshold is NaN"),
        ({"value": [0.0, float("inf"), 2.0]}, "leaf value is not finite"),
        ({"value": [0.0, 1.0]}, "'value' has 2 entries, expected 3"),
        ({"tree_offsets": [0, 0, 3], "tree_output": [0, 0]}, "empty tree"),
        ({"tree_offsets": [0]}, "no trees"),
        ({"tree_output": [3]}, "output index 3"),
        ({"cover": [2.0, -1.0, 1.0]}, "cover"),
        ({"base_score": [0.0, 1.0]}, "base_score"),
        ({"missing_rule": [9, 0, 0]}, "missing_rule"),
        ({"cat_node": [5], "cat_left_ptr": [0, 0], "cat_right_ptr": [0, 0], "cat_other_left": [0]}, "cat_node holds a node index"),
        ({"cat_node": [0], "cat_left_ptr": [0, 1], "cat_left": [-4], "cat_right_ptr": [0, 0], "cat_other_left": [0]}, "category value"),
    ],
)
def test_hostile_ensembles_are_rejected(change, message):
    fields = {**_tiny_fields(), **change}
    with pytest.raises(ValueError, match=message):
        TreeEnsemble(fields)


def test_absurd_depth_is_rejected():
    depth = 5000
    n = 2 * depth + 1
    feature = np.full(n, -1)
    left = np.zeros(n, dtype=int)
    right = np.zeros(n, dtype=int)
    for level in range(depth):  # a chain: node 2l splits into leaf 2l+1 and node 2l+2
        feature[2 * level] = 0
        left[2 * level] = 2 * level + 1
        right[2 * level] = 2 * level + 2
    fields = {
        **_tiny_fields(),
        "tree_offsets": [0, n],
        "feature": feature,
        "threshold": np.zeros(n),
        "left": left,
        "right": right,
        "default_left": np.zeros(n),
        "missing_rule": np.zeros(n),
        "cover": np.ones(n),
        "value": np.zeros(n),
    }
    with pytest.raises(ValueError, match="deeper than 4096"):
        TreeEnsemble(fields)


def test_corrupt_serialised_input():
    with pytest.raises(ValueError, match="not valid JSON"):
        TreeEnsemble.from_json("{not json")
    with pytest.raises(ValueError, match="not a serialised TreeEnsemble"):
        TreeEnsemble.from_dict({"format": "something else"})
    with pytest.raises(ValueError, match="fields is missing"):
        TreeEnsemble({"n_features": 1})


# ---------------------------------------------------------------------- predict is the estimator's
def _classifiers():
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    return [
        lambda: GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0),
        lambda: HistGradientBoostingClassifier(max_iter=15, random_state=0),
        lambda: RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0),
        lambda: DecisionTreeClassifier(max_depth=4, random_state=0),
    ]


@pytest.mark.parametrize("make", _classifiers())
@pytest.mark.parametrize("labels", [[0, 1], ["no", "yes"], [10, 20, 30], ["a", "b", "c"]])
def test_classifier_predict_gives_the_estimators_labels(make, labels):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 4))
    codes = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.4, 0.4])[:, None] if len(labels) == 3 else (X[:, 0] > 0)[:, None]
    y = np.asarray(labels)[codes.ravel().astype(int)]
    model = make().fit(X, y)
    ensemble = TreeEnsemble.from_model(model)
    predicted = ensemble.predict(X)
    np.testing.assert_array_equal(predicted, model.predict(X))
    assert predicted.dtype.kind == np.asarray(labels).dtype.kind
    # The margins keep their own, clear name; probabilities stay what they were.
    if hasattr(model, "decision_function"):
        np.testing.assert_allclose(ensemble.decision_function(X), model.decision_function(X), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ensemble.predict_proba(X), model.predict_proba(X), rtol=1e-9, atol=1e-12)
    # A saved and restored ensemble predicts the same labels.
    np.testing.assert_array_equal(TreeEnsemble.from_json(ensemble.to_json()).predict(X), predicted)


def test_classifier_without_classes_predicts_indices(hist_classifier):
    model, X = hist_classifier
    fields = TreeEnsemble.from_model(model)
    anonymous = TreeEnsemble(fields.fields, task=fields.task, classes=None, categories=fields.categories)
    np.testing.assert_array_equal(anonymous.predict(X), model.predict_proba(X).argmax(axis=1))
    assert anonymous.predict(X).dtype.kind == "i"


def test_binary_ties_go_to_the_first_class():
    """A zero margin is probability 0.5 for both classes: scikit-learn picks the first."""
    from sklearn.ensemble import GradientBoostingClassifier

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = GradientBoostingClassifier(n_estimators=3, max_depth=1).fit(X, [0, 1, 0, 1])
    ensemble = TreeEnsemble.from_model(model)
    fields = {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in ensemble.fields.items()}
    fields["value"] = np.zeros_like(fields["value"])
    fields["base_score"] = np.zeros_like(fields["base_score"])
    flat = TreeEnsemble(fields, task="binary", classes=["neg", "pos"])
    assert flat.decision_function(X).tolist() == [0.0] * 4
    assert flat.predict(X).tolist() == ["neg"] * 4


def test_regressor_predict_is_the_value_and_equals_the_margin(forest):
    model, ensemble, X = forest
    np.testing.assert_allclose(ensemble.predict(X), model.predict(X), rtol=1e-12)
    np.testing.assert_array_equal(ensemble.predict(X), ensemble.decision_function(X))
