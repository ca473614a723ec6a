"""LimeTabular against the lime package (bins, same-neighbourhood fits, distributions)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import loopwise
from loopwise.explain import LimeTabular

import lime.lime_tabular as lime_tabular  # noqa: E402 - test oracle from the [test] extra


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 6)) * [1.0, 2.0, 0.5, 1.0, 3.0, 1.0] + [0, 1, 0, -2, 0, 5]
    return X


def regression_model(Z):
    Z = np.asarray(Z, dtype=float)
    return 4.0 * Z[:, 0] + 2.0 * np.tanh(Z[:, 1]) - 0.5 * Z[:, 2] * Z[:, 3] + 0.05 * Z[:, 4]


def classifier(Z):
    Z = np.asarray(Z, dtype=float)
    logits = np.column_stack([Z[:, 0] - Z[:, 1], 0.5 * Z[:, 2] + Z[:, 3], -Z[:, 0] + 0.2 * Z[:, 5]])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("discretizer", ["quartile", "decile", "entropy"])
def test_same_bins_and_bin_statistics_as_lime(data, discretizer):
    labels = (regression_model(data) > 0).astype(int)
    names = [f"f{j}" for j in range(data.shape[1])]
    ours = LimeTabular(data, training_labels=labels, feature_names=names, discretizer=discretizer, random_state=0)
    theirs = lime_tabular.LimeTabularExplainer(
        data, training_labels=labels, feature_names=names, discretizer=discretizer, random_state=0
    ).discretizer
    for j in range(data.shape[1]):
        lows = np.asarray(theirs.mins[j])
        np.testing.assert_allclose(ours.boundaries[j], lows[1:], rtol=0, atol=1e-12)
        spec = ours._specs[j]
        present = spec["values"].astype(int)
        np.testing.assert_allclose(spec["bin_mean"], np.asarray(theirs.means[j])[present], atol=1e-12)
        np.testing.assert_allclose(spec["bin_std"], np.asarray(theirs.stds[j])[present], atol=1e-12)
        np.testing.assert_allclose(spec["bin_max"], np.asarray(theirs.maxs[j])[present], atol=1e-12)
    np.testing.assert_array_equal(ours.discretize(data[:50]), theirs.discretize(data[:50]))
    row = data[3]
    codes = theirs.discretize(row)
    expected = [theirs.names[j][int(codes[j])] for j in range(data.shape[1])]
    assert ours._display_names(row) == expected


@pytest.mark.parametrize("num_features", [3, 5])
@pytest.mark.parametrize("mode", ["regression", "classification"])
def test_identical_fit_on_lime_neighbourhood(data, mode, num_features):
    explainer = lime_tabular.LimeTabularExplainer(data, mode=mode, random_state=1)
    row = data[7]
    inverse_data, inverse = explainer._LimeTabularExplainer__data_inverse(row, 2000)
    scaled = (inverse_data - explainer.scaler.mean_) / explainer.scaler.scale_
    distances = np.sqrt(((scaled - scaled[0]) ** 2).sum(axis=1))
    model = regression_model if mode == "regression" else classifier
    predictions = model(inverse)
    ours = LimeTabular(data, mode=mode, random_state=0)
    label = 0 if mode == "regression" else 1
    yss = predictions.reshape(len(inverse), -1)
    intercept, exp, score, local_pred = explainer.base.explain_instance_with_data(
        scaled, yss if mode != "regression" else predictions.reshape(-1, 1), distances, label, num_features,
        feature_selection="auto",
    )
    e = ours.explain_neighborhood(scaled, predictions, num_features=num_features, labels=(label,), distances=distances)
    key = e.available_labels[0]
    assert [j for j, _ in e.local_exp[key]] == [j for j, _ in exp]
    np.testing.assert_allclose([w for _, w in e.local_exp[key]], [w for _, w in exp], rtol=1e-8, atol=1e-10)
    assert e.intercept[key] == pytest.approx(intercept, rel=1e-8, abs=1e-10)
    assert e.score[key] == pytest.approx(score, rel=1e-8, abs=1e-10)
    assert e.local_pred[key] == pytest.approx(float(np.ravel(local_pred)[0]), rel=1e-8, abs=1e-10)


def test_highest_weights_selection_matches_lime(data):
    rng = np.random.default_rng(3)
    wide = np.column_stack([data, rng.normal(size=(len(data), 4))])
    explainer = lime_tabular.LimeTabularExplainer(wide, mode="regression", random_state=2)
    inverse_data, inverse = explainer._LimeTabularExplainer__data_inverse(wide[0], 1500)
    scaled = (inverse_data - explainer.scaler.mean_) / explainer.scaler.scale_
    distances = np.sqrt(((scaled - scaled[0]) ** 2).sum(axis=1))
    predictions = regression_model(inverse) + inverse[:, 8]
    _, exp, _, _ = explainer.base.explain_instance_with_data(
        scaled, predictions.reshape(-1, 1), distances, 0, 8, feature_selection="auto"
    )
    e = LimeTabular(wide, mode="regression").explain_neighborhood(scaled, predictions, num_features=8, distances=distances)
    assert sorted(j for j, _ in e.local_exp[0]) == sorted(j for j, _ in exp)
    np.testing.assert_allclose(sorted(w for _, w in e.local_exp[0]), sorted(w for _, w in exp), rtol=1e-8)


def test_coefficients_agree_with_lime_in_distribution(data):
    row = data[11]
    ours = LimeTabular(data, mode="regression", feature_selection="none", random_state=0)
    theirs = lime_tabular.LimeTabularExplainer(data, mode="regression", feature_selection="none", random_state=0)
    n_runs, n = 12, 1000
    a = np.zeros((n_runs, 6))
    b = np.zeros((n_runs, 6))
    for r in range(n_runs):
        e = ours.explain(row, regression_model, num_features=6, num_samples=n, random_state=r)
        for j, w in e.local_exp[0]:
            a[r, j] = w
        f = theirs.explain_instance(row, regression_model, num_features=6, num_samples=n)
        for j, w in f.local_exp[1]:
            b[r, j] = w
    se = np.sqrt(a.var(axis=0, ddof=1) / n_runs + b.var(axis=0, ddof=1) / n_runs)
    assert np.all(np.abs(a.mean(0) - b.mean(0)) <= 4 * se + 1e-6), (a.mean(0), b.mean(0), se)
    assert np.argmax(np.abs(a.mean(0))) == np.argmax(np.abs(b.mean(0))) == 0


def test_top_features_identical_to_lime_on_dominant_model(data):
    def dominant(Z):
        return 10.0 * Z[:, 0] - 6.0 * Z[:, 4] + 0.01 * Z[:, 1]

    names = [f"f{j}" for j in range(6)]
    ours = LimeTabular(data, mode="regression", feature_names=names, random_state=0).explain(
        data[5], dominant, num_features=2
    )
    theirs = lime_tabular.LimeTabularExplainer(data, mode="regression", feature_names=names, random_state=0).explain_instance(
        data[5], dominant, num_features=2
    )
    assert {j for j, _ in ours.local_exp[0]} == {j for j, _ in theirs.local_exp[1]} == {0, 4}
    assert [name for name, _ in ours.as_list()] == [name for name, _ in theirs.as_list()]


def test_recovers_true_slopes_without_discretisation(data):
    beta = np.array([1.0, -2.0, 0.5, 0.0, 3.0, -1.0])
    lime = LimeTabular(data, mode="regression", discretize_continuous=False, feature_selection="none", random_state=0)
    e = lime.explain(data[0], lambda Z: Z @ beta + 2.0, num_features=6)
    scale = data.std(axis=0)
    slopes = np.zeros(6)
    for j, w in e.local_exp[0]:
        slopes[j] = w / scale[j]
    np.testing.assert_allclose(slopes, beta, atol=5e-3)
    assert e.score[0] == pytest.approx(1.0, abs=1e-6)
    assert e.local_pred[0] == pytest.approx(float(data[0] @ beta + 2.0), rel=1e-3)


def test_multiclass_score_is_per_label(data):
    lime = LimeTabular(data, mode="classification", class_names=["a", "b", "c"], random_state=0)
    e = lime.explain(data[2], classifier, labels=(0, 1, 2), num_features=3, keep_neighborhood=True)
    scores = [e.score[k] for k in (0, 1, 2)]
    assert len(set(np.round(scores, 12))) == 3
    # check one label's score by hand: weighted R^2 of the ridge on its selected features
    scaled, predictions = e.neighborhood["scaled"], e.neighborhood["predictions"]
    d = np.sqrt(((scaled - scaled[0]) ** 2).sum(axis=1))
    w = np.sqrt(np.exp(-(d**2) / lime.kernel_width**2))
    from sklearn.linear_model import Ridge

    used = [j for j, _ in e.local_exp[2]]
    ridge = Ridge(alpha=1.0).fit(scaled[:, used], predictions[:, 2], sample_weight=w)
    assert e.score[2] == pytest.approx(ridge.score(scaled[:, used], predictions[:, 2], sample_weight=w), rel=1e-8)
    top = lime.explain(data[2], classifier, top_labels=2, num_features=2)
    assert top.available_labels == list(np.argsort(-classifier(data[2:3])[0])[:2])
    assert "class" in e._repr_html_() and e.to_frame(0).shape == (3, 2)


def test_seeded_determinism_and_explain_many(data):
    lime = LimeTabular(data, mode="regression", random_state=4)
    a = lime.explain(data[1], regression_model, num_features=4)
    b = lime.explain(data[1], regression_model, num_features=4)
    assert a.local_exp == b.local_exp and a.score == b.score
    c = LimeTabular(data, mode="regression", random_state=5).explain(data[1], regression_model, num_features=4)
    assert c.local_exp != a.local_exp
    many = lime.explain_many(data[:3], regression_model, num_features=4)
    assert many[1].local_exp == a.local_exp
    threaded = LimeTabular(data, mode="regression", random_state=4, n_jobs=2).explain_many(
        data[:3], regression_model, num_features=4
    )
    serial = LimeTabular(data, mode="regression", random_state=4, n_jobs=1).explain_many(
        data[:3], regression_model, num_features=4
    )
    assert [e.local_exp for e in threaded] == [e.local_exp for e in serial] == [e.local_exp for e in many]


def test_dataframes_and_categoricals_reach_the_model():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"x": rng.normal(size=400), "colour": pd.Categorical(rng.choice(["red", "blue"], size=400)), "n": rng.integers(0, 9, 400)}
    )

    def model(df):
        assert isinstance(df, pd.DataFrame) and isinstance(df["colour"].dtype, pd.CategoricalDtype)
        return df["x"].to_numpy() + 3.0 * (df["colour"] == "red").to_numpy()

    lime = LimeTabular(frame, mode="regression", random_state=0)
    e = lime.explain(frame.iloc[[0]], model, num_features=2)
    names = [name for name, _ in e.as_list()]
    assert any(name.startswith("colour=") for name in names)
    assert loopwise.LimeTabular is LimeTabular


def test_stability_indices(data):
    lime = LimeTabular(data, mode="regression", random_state=0)
    result = lime.stability(data[0], regression_model, n_runs=4, num_features=3, num_samples=1500)
    assert 0 <= result["vsi"] <= 100 and 0 <= result["csi"] <= 100
    frame = result["coefficients"]
    assert list(frame.columns) == ["mean", "std", "ci_low", "ci_high", "selected"]
    assert frame.loc["x0", "selected"] == 1.0


def test_bad_inputs(data):
    with pytest.raises(ValueError, match="mode"):
        LimeTabular(data, mode="ranking")
    with pytest.raises(ValueError, match="discretizer"):
        LimeTabular(data, discretizer="octile")
    with pytest.raises(ValueError, match="training_labels"):
        LimeTabular(data, discretizer="entropy")
    with pytest.raises(ValueError, match="feature_names"):
        LimeTabular(data, feature_names=["a"])
    with pytest.raises(ValueError, match="kernel_width"):
        LimeTabular(data, kernel_width=0)
    with pytest.raises(ValueError, match="categorical_features"):
        LimeTabular(data, categorical_features=[99])
    with pytest.raises(ValueError, match="training_data"):
        LimeTabular(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="n_jobs"):
        LimeTabular(data, n_jobs=0)
    lime = LimeTabular(data, mode="classification", random_state=0)
    with pytest.raises(ValueError, match="x"):
        lime.explain(data[0, :3], classifier)
    with pytest.raises(ValueError, match="num_features"):
        lime.explain(data[0], classifier, num_features=0)
    with pytest.raises(ValueError, match="num_samples"):
        lime.explain(data[0], classifier, num_samples=1)
    with pytest.raises(ValueError, match="predict_fn"):
        lime.explain(data[0], lambda Z: np.zeros(len(Z)))
    with pytest.raises(ValueError, match="predict_fn"):
        lime.explain(data[0], lambda Z: np.full((len(Z), 3), np.nan))
    with pytest.raises(ValueError, match="labels"):
        lime.explain(data[0], classifier, labels=(7,))
    with pytest.raises(TypeError, match="predict_fn"):
        lime.explain(data[0], "not callable")


def test_native_tree_model_gives_the_same_explanation(data):
    from sklearn.ensemble import GradientBoostingRegressor

    model = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(data, regression_model(data))
    lime = LimeTabular(data, mode="regression", random_state=0)
    assert lime._native(model.predict) is not None
    native = lime.explain(data[0], model.predict, num_features=4)
    opaque = lime.explain(data[0], lambda Z: model.predict(Z), num_features=4)
    assert [j for j, _ in native.local_exp[0]] == [j for j, _ in opaque.local_exp[0]]
    np.testing.assert_allclose([w for _, w in native.local_exp[0]], [w for _, w in opaque.local_exp[0]], rtol=1e-9)


def test_categorical_features_match_lime_statistics(data):
    rng = np.random.default_rng(8)
    table = np.column_stack([data[:, :3], rng.integers(0, 4, size=len(data))])
    ours = LimeTabular(table, categorical_features=[3], random_state=0)
    theirs = lime_tabular.LimeTabularExplainer(table, categorical_features=[3], random_state=0)
    spec = ours._specs[3]
    np.testing.assert_array_equal(spec["values"], theirs.feature_values[3])
    np.testing.assert_allclose(spec["frequencies"], theirs.feature_frequencies[3])
    e = ours.explain(table[0], lambda Z: np.column_stack([1 - 0.1 * Z[:, 3], 0.1 * Z[:, 3]]), num_features=2,
                     keep_neighborhood=True)
    samples = e.neighborhood["samples"][1:, 3]
    assert set(np.unique(samples)) <= set(spec["values"])
    observed = np.array([(samples == v).mean() for v in spec["values"]])
    np.testing.assert_allclose(observed, spec["frequencies"], atol=0.03)
    assert any(name.startswith("x3=") for name, _ in e.as_list())


def test_sampling_around_instance_and_row_formats(data):
    lime = LimeTabular(data, mode="regression", discretize_continuous=False, sample_around_instance=True, random_state=0)
    e = lime.explain(pd.Series(data[4], index=[f"x{j}" for j in range(6)]), regression_model, keep_neighborhood=True)
    np.testing.assert_allclose(e.neighborhood["samples"].mean(axis=0), data[4], atol=0.15 * data.std(axis=0).max())
    frame_row = pd.DataFrame([data[4]], columns=[f"x{j}" for j in range(6)])
    same = lime.explain(frame_row, regression_model)
    assert same.local_exp == e.local_exp
