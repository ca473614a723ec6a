"""DLE against the expected error of data with known noise, and the labels."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.linear_model import LinearRegression

from loopwise.loop import FeedbackLoop, Policy
from loopwise.performance import DLE

CHUNK = 1000


def _data(rng, n, shift=0.0):
    X = rng.normal(size=(n, 3))
    X[:, 1] += shift
    mean = X[:, 0] + 0.5 * X[:, 2] ** 2
    scale = 0.5 + np.abs(X[:, 1])  # the noise grows with |x1|: the error depends on the inputs
    return X, mean, scale, mean + scale * rng.normal(size=n)


def _expected_errors(mean, scale, predicted):
    """Per row E|y - prediction| (a folded normal's mean) and E(y - prediction)^2."""
    bias = mean - predicted
    absolute = scale * np.sqrt(2 / np.pi) * np.exp(-bias ** 2 / (2 * scale ** 2)) + bias * (1 - 2 * norm.cdf(-bias / scale))
    return absolute, bias ** 2 + scale ** 2


def test_mae_and_rmse_follow_the_truth_under_covariate_shift():
    rng = np.random.default_rng(0)
    X_train, _, _, y_train = _data(rng, 3000)
    X_ref, _, _, y_ref = _data(rng, 10_000)
    parts = [_data(rng, CHUNK, shift=0.25 * c) for c in range(5)]
    X = np.vstack([p[0] for p in parts])
    mean, scale, y = (np.concatenate([p[i] for p in parts]) for i in (1, 2, 3))
    model = LinearRegression().fit(X_train, y_train)
    predicted = model.predict(X)
    found = DLE(random_state=0).fit(X_ref, y_ref, model.predict(X_ref)).estimate(X, predicted, chunk_size=CHUNK)
    absolute, squared = _expected_errors(mean, scale, predicted)
    expected_mae = absolute.reshape(-1, CHUNK).mean(axis=1)
    expected_rmse = np.sqrt(squared.reshape(-1, CHUNK).mean(axis=1))
    # The error grows with the shift and the estimate follows it (within 3% of the truth).
    assert expected_mae[-1] > expected_mae[0] + 0.04
    np.testing.assert_allclose(found["mae"], expected_mae, rtol=0.03)
    np.testing.assert_allclose(found["rmse"], expected_rmse, rtol=0.04)
    realised = np.abs(y - predicted).reshape(-1, CHUNK).mean(axis=1)
    assert np.all(np.abs(found["mae"] - realised) < 3 * found["mae_sampling_error"] + 0.03)


def test_sampling_error_is_the_standard_error_of_the_mean_absolute_error():
    rng = np.random.default_rng(1)
    X, _, _, y = _data(rng, 4000)
    predicted = LinearRegression().fit(X, y).predict(X)
    dle = DLE(metrics=["mae"], max_iter=20, n_resamples=300, random_state=0).fit(X, y, predicted)
    standard_error = np.std(np.abs(y - predicted), ddof=1) / np.sqrt(1000)
    assert dle.estimate(X[:1000], predicted[:1000])["mae_sampling_error"][0] == pytest.approx(standard_error, rel=0.15)


def test_frames_with_text_columns_and_pickling():
    rng = np.random.default_rng(2)
    n = 3000
    frame = pd.DataFrame({"x": rng.normal(size=n), "kind": rng.choice(["calm", "wild"], size=n)})
    noise = np.where(frame["kind"] == "wild", 3.0, 0.3)
    y = frame["x"].to_numpy() + noise * rng.normal(size=n)
    predicted = frame["x"].to_numpy()
    dle = DLE(metrics=["mae"], random_state=0).fit(frame, y, predicted)
    losses = dle.expected_losses(frame, predicted)["mae"]
    wild = frame["kind"].to_numpy() == "wild"
    # E|N(0, s^2)| = s sqrt(2 / pi): 2.39 for the wild rows, 0.24 for the calm ones.
    assert np.mean(losses[wild]) == pytest.approx(3.0 * np.sqrt(2 / np.pi), rel=0.1)
    assert np.mean(losses[~wild]) == pytest.approx(0.3 * np.sqrt(2 / np.pi), rel=0.15)
    unseen = pd.DataFrame({"x": [0.0], "kind": ["never seen"]})
    assert np.isfinite(dle.expected_losses(unseen, [0.0])["mae"]).all()
    clone = pickle.loads(pickle.dumps(dle))
    np.testing.assert_array_equal(clone.expected_losses(frame, predicted)["mae"], losses)


@pytest.mark.parametrize("call, message", [
    (lambda: DLE(metrics=["mape"]).fit([[0.0]], [0.0], [0.0]), "metrics"),
    (lambda: DLE().fit([[0.0], [1.0]], [0.0, 1.0], [0.0]), "y_pred"),
    (lambda: DLE().fit([[0.0], [1.0]], [0.0, np.nan], [0.0, 1.0]), "y_true"),
    (lambda: DLE().fit([0.0, 1.0], [0.0, 1.0], [0.0, 1.0]), "2-D"),
    (lambda: DLE().estimate([[0.0]], [0.0]), "not fitted"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        call()


def test_the_loop_estimates_a_regressors_rmse_without_labels(tmp_path):
    rng = np.random.default_rng(3)
    columns = ["a", "b", "c"]
    X_ref, _, _, y_ref = _data(rng, 3000)
    model = LinearRegression().fit(pd.DataFrame(X_ref, columns=columns), y_ref)
    loop = FeedbackLoop(tmp_path / "loop", model=model, reference=pd.DataFrame(X_ref, columns=columns),
                        reference_labels=y_ref, policy=Policy(triggers=[]), monitor_rows=1000, trusted=True)
    X, _, _, y = _data(rng, 1000, shift=0.5)
    loop.predict(pd.DataFrame(X, columns=columns), ids=[f"r{i}" for i in range(1000)])
    status = loop.check()
    realised = float(np.sqrt(np.mean((y - model.predict(pd.DataFrame(X, columns=columns))) ** 2)))
    assert status.metric_name == "rmse" and set(status.estimated_metrics) == {"mae", "rmse"}
    assert abs(status.estimated_metric - realised) < 3 * status.estimated_metric_error + 0.05
    loop.close()
