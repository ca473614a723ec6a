"""Every explain entry point that takes data, on a user's mixed-dtype frame and Pipeline.

The frame (``tests/python/realistic_frame.py``) has string, category, bool, datetime,
int and float columns with missing values; the model is a ColumnTransformer + gradient
boosting Pipeline fitted on it. The rule checked throughout: the user's model receives
DataFrames with the user's column names and dtypes, never loopwise's internal codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from realistic_frame import RecordingModel

from loopwise.explain import (
    ExactExplainer,
    KernelExplainer,
    LimeTabular,
    LinearExplainer,
    PermutationExplainer,
    TreeExplainer,
    kmeans,
    sample,
)
from loopwise.models import TreeEnsemble


def _assert_user_frames(model: RecordingModel, X: pd.DataFrame) -> None:
    assert model.calls, "the model was never called"
    for kind, columns, dtypes in model.calls:
        assert kind is pd.DataFrame
        assert columns == list(X.columns)
        assert [str(d) for d in dtypes] == [str(d) for d in X.dtypes]


def _outputs(realistic, X):
    return realistic.pipeline.predict_proba(X)


# ---------------------------------------------------------------- coalition explainers
@pytest.mark.parametrize("cls", [KernelExplainer, PermutationExplainer, ExactExplainer])
def test_coalition_explainers_get_user_frames_and_add_up(realistic, cls):
    X = realistic.X
    model = RecordingModel(realistic.pipeline.predict_proba)
    explainer = cls(model, X.iloc[:20]) if cls is ExactExplainer else cls(model, X.iloc[:20], random_state=0)
    e = explainer(X.iloc[:3])
    _assert_user_frames(model, X)
    assert e.values.shape == (3, X.shape[1], 2)
    assert e.feature_names == list(X.columns)
    gap = np.abs(e.values.sum(axis=1) + e.base_values - _outputs(realistic, X.iloc[:3]))
    assert gap.max() <= 1e-8
    # The explanation's data are the user's values, not codes.
    assert e.data[0, 0] == X["city"].iloc[0] and e.data[0, 3] == X["signup"].iloc[0]


def test_series_row_and_unseen_values(realistic):
    X = realistic.X
    model = RecordingModel(realistic.pipeline.predict_proba)
    explainer = KernelExplainer(model, X.iloc[:10], random_state=0)
    from_series = explainer(X.iloc[5])  # .iloc[0]-style rows lose their dtypes
    from_frame = explainer(X.iloc[[5]])
    np.testing.assert_allclose(from_series.values, from_frame.values, atol=1e-12)
    unseen = X.iloc[[5]].copy()
    unseen["city"] = "Berlin"  # a city the background never saw reaches the model as itself
    e = explainer(unseen)
    assert np.abs(e.values.sum(1) + e.base_values - _outputs(realistic, unseen)).max() <= 1e-8
    _assert_user_frames(model, X)


def test_bad_inputs_are_named(realistic):
    X = realistic.X
    explainer = KernelExplainer(realistic.pipeline.predict_proba, X.iloc[:10])
    with pytest.raises(ValueError, match="missing columns \\['age'\\]"):
        explainer(X.drop(columns="age").iloc[:2])
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        explainer(np.zeros((2, X.shape[1])))
    with pytest.raises(ValueError, match="empty DataFrame"):
        KernelExplainer(realistic.pipeline.predict_proba, X.iloc[:0])
    with pytest.raises(ValueError, match="should hold numbers"):
        explainer(X.iloc[:2].assign(age="old"))


# ---------------------------------------------------------------- background summaries
def test_kmeans_and_sample_keep_user_dtypes(realistic):
    X = realistic.X
    for background in (kmeans(X, 10, random_state=0), sample(X, 10, random_state=0)):
        frame = background.frame
        assert list(frame.columns) == list(X.columns)
        assert [str(d) for d in frame.dtypes] == [str(d) for d in X.dtypes]
        # Medoids and samples are actual rows of X.
        merged = frame.merge(X.drop_duplicates(), how="left", indicator=True)
        assert (merged["_merge"] == "both").all()
        assert abs(background.weights.sum() - 1) < 1e-12
    summary = kmeans(X, 10, random_state=0)
    assert summary.weights.min() > 0
    model = RecordingModel(realistic.pipeline.predict_proba)
    e = KernelExplainer(model, summary, random_state=0)(X.iloc[:2])
    _assert_user_frames(model, X)
    assert np.abs(e.values.sum(1) + e.base_values - _outputs(realistic, X.iloc[:2])).max() <= 1e-8


def test_kmeans_weights_are_cluster_sizes_on_separated_groups():
    frame = pd.DataFrame({"city": ["Oslo"] * 30 + ["Rome"] * 10, "n": [1.0] * 30 + [np.nan] * 10})
    b = kmeans(frame, 2, random_state=0)
    assert sorted(zip(b.frame["city"], b.weights.round(3))) == [("Oslo", 0.75), ("Rome", 0.25)]


# ---------------------------------------------------------------- LIME
def test_lime_on_mixed_frame(realistic):
    X = realistic.X
    model = RecordingModel(realistic.pipeline.predict_proba)
    lime = LimeTabular(X, random_state=0)
    e = lime.explain(X.iloc[0], model, num_features=7, keep_neighborhood=True)  # README's .iloc[0]
    _assert_user_frames(model, X)
    samples = e.neighborhood["samples"]
    pd.testing.assert_frame_equal(samples.iloc[[0]], X.iloc[[0]].reset_index(drop=True), check_dtype=True)
    # Categorical columns are drawn with their training frequencies (missing included).
    n = len(samples) - 1
    for column in ("city", "plan", "member"):
        drawn = samples[column].iloc[1:].astype(object).fillna("<na>").value_counts(normalize=True)
        train = X[column].astype(object).fillna("<na>").value_counts(normalize=True)
        for value, p in train.items():
            # A binomial proportion: 5 standard errors.
            assert abs(drawn.get(value, 0.0) - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12, (column, value)
    # Missing numeric/datetime values appear at about their training rate.
    for column in ("spend", "signup"):
        p = X[column].isna().mean()
        assert abs(samples[column].iloc[1:].isna().mean() - p) <= 5 * np.sqrt(p * (1 - p) / n)
    names = [name for name, _ in e.as_list()]
    assert any(name.startswith("city=") for name in names)
    many = lime.explain_many(X.iloc[:3], model, num_samples=300)
    assert len(many) == 3


def test_lime_needs_bins_for_missing_numbers(realistic):
    with pytest.raises(ValueError, match="discretize_continuous=True"):
        LimeTabular(realistic.X, discretize_continuous=False)


# ---------------------------------------------------------------- native explainers on pipelines
def test_tree_explainer_on_pipeline(realistic):
    X, pipe = realistic.X, realistic.pipeline
    ensemble = TreeEnsemble.from_model(pipe[-1])
    transformed = pipe[:-1].transform(X.iloc[:8])
    e = TreeExplainer(pipe)(X.iloc[:8])
    assert e.feature_names == list(pipe[:-1].get_feature_names_out())
    assert np.abs(e.values.sum(1) + e.base_values - ensemble.decision_function(transformed)).max() <= 1e-8
    direct = TreeExplainer(pipe[-1])(transformed)
    np.testing.assert_allclose(e.values, direct.values, atol=1e-12)
    grouped = TreeExplainer(pipe, X.iloc[:40], group_features=True, model_output="probability")(X.iloc[:8])
    assert grouped.feature_names == list(X.columns)
    assert np.abs(grouped.values.sum(1) + grouped.base_values - pipe.predict_proba(X.iloc[:8])[:, 1]).max() <= 1e-8
    # city's one-hot columns sum to city's attribution.
    ungrouped = TreeExplainer(pipe, X.iloc[:40], model_output="probability")(X.iloc[:8])
    city = [j for j, name in enumerate(ungrouped.feature_names) if name.startswith("onehot__city_")]
    np.testing.assert_allclose(grouped.values[:, 0], ungrouped.values[:, city].sum(1), atol=1e-12)


def test_clear_messages_for_native_explainers(realistic):
    from sklearn.linear_model import LogisticRegression

    X, pipe = realistic.X, realistic.pipeline
    with pytest.raises(ValueError, match="expects 15 transformed columns.*pass the whole pipeline"):
        TreeExplainer(pipe[-1])(X.iloc[:3])
    with pytest.raises(TypeError, match="use LinearExplainer"):
        TreeExplainer(LogisticRegression().fit([[0.0], [1.0]], [0, 1]))
    with pytest.raises(ValueError, match="group_features=True needs a Pipeline"):
        TreeExplainer(pipe[-1], group_features=True)
    with pytest.raises(ValueError, match="could not transform X"):
        TreeExplainer(pipe)(X.drop(columns="city").iloc[:2])


def test_linear_explainer_on_pipeline(realistic):
    from sklearn.base import clone
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import StandardScaler
    from realistic_frame import DaysSince

    X, y = realistic.X, realistic.y
    prep = clone(realistic.pipeline[0]).set_params(
        scale=make_pipeline(SimpleImputer(), StandardScaler()), time=make_pipeline(DaysSince(), SimpleImputer())
    )
    pipe = Pipeline([("prep", prep), ("model", LogisticRegression(max_iter=2000))]).fit(X, y)
    e = LinearExplainer(pipe, X)(X.iloc[:5])
    assert len(e.feature_names) == pipe[:-1].transform(X.iloc[:1]).shape[1]
    assert np.abs(e.values.sum(1) + e.base_values - pipe.decision_function(X.iloc[:5])).max() <= 1e-8
    g = LinearExplainer(pipe, X, group_features=True)(X.iloc[:5])
    assert g.feature_names == list(X.columns)
    assert np.abs(g.values.sum(1) + g.base_values - pipe.decision_function(X.iloc[:5])).max() <= 1e-8


# ---------------------------------------------------------------- oracle: shap
def _numeric_wrapper(X: pd.DataFrame, predict):
    """shap's own workaround for a mixed frame: integer codes per column, mapped back to
    the frame inside the prediction function (written here, independent of loopwise)."""
    tables = {c: pd.Index(pd.unique(X[c].dropna()), dtype=object) for c in X.columns}

    def encode(frame):
        out = np.empty(frame.shape, dtype=np.float64)
        for j, c in enumerate(X.columns):
            codes = tables[c].get_indexer(frame[c].astype(object)).astype(np.float64)
            codes[frame[c].isna().to_numpy()] = -1.0
            out[:, j] = codes
        return out

    def decode(codes):
        columns = {}
        for j, c in enumerate(X.columns):
            index = codes[:, j].astype(int)
            values = tables[c].to_numpy()[np.maximum(index, 0)].copy()
            values[index < 0] = None
            columns[c] = pd.Series(values, dtype=object).astype(X[c].dtype)
        return pd.DataFrame(columns)

    return encode, (lambda codes: predict(decode(np.atleast_2d(codes))))


def test_kernel_shap_matches_shap_with_numeric_wrapper(realistic):
    shap = pytest.importorskip("shap")
    X, pipe = realistic.X, realistic.pipeline
    background, rows = X.iloc[:25], X.iloc[100:104]
    encode, wrapped = _numeric_wrapper(X, pipe.predict_proba)
    # shap on the raw frame: record what happens (0.51 raises inside its frame handling).
    try:
        raw = shap.KernelExplainer(pipe.predict_proba, background).shap_values(rows.iloc[:1], nsamples=50, silent=True)
        shap_raw_error = None
    except Exception as error:  # noqa: BLE001 - the behaviour is what we record
        raw, shap_raw_error = None, error
    assert shap_raw_error is not None or raw is not None

    oracle = shap.KernelExplainer(wrapped, encode(background))
    M = X.shape[1]
    expected = np.asarray(oracle.shap_values(encode(rows), nsamples=2**M, silent=True))  # all coalitions: exact
    expected = expected if expected.shape[-1] == 2 else np.moveaxis(expected, 0, -1)
    ours = KernelExplainer(pipe.predict_proba, background, random_state=0)(rows)
    assert np.all(ours.std_errors == 0)  # 2^7 - 2 coalitions fit the default budget: enumerated
    assert np.abs(ours.values.sum(1) + ours.base_values - pipe.predict_proba(rows)).max() <= 1e-8
    np.testing.assert_allclose(ours.values, expected, atol=1e-8)

    # Sampled: the difference to the exact values is within the reported standard errors.
    sampled = KernelExplainer(pipe.predict_proba, background, random_state=1)(rows, nsamples=60)
    assert np.abs(sampled.values.sum(1) + sampled.base_values - pipe.predict_proba(rows)).max() <= 1e-8
    se = sampled.std_errors
    assert np.all(se > 0)
    z = np.abs(sampled.values - expected) / se
    assert z.max() < 5.0, z.max()
