"""Generated drifting streams: seeded, with the drift where they say it is."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.datasets import make_drifting_stream


def test_seeded_and_shaped():
    a = make_drifting_stream(n_samples=3000, random_state=3)
    b = make_drifting_stream(n_samples=3000, random_state=3)
    assert a.X.equals(b.X) and np.array_equal(a.y, b.y)
    assert a.X.shape == (3000, 8) and a.change_points == [1200, 2100]
    assert np.all(np.diff(a.timestamp).astype(np.int64) > 0)


@pytest.mark.parametrize("kind", ["abrupt", "gradual", "recurring"])
def test_a_model_of_the_first_concept_fails_after_the_change(kind):
    stream = make_drifting_stream(n_samples=12_000, kind=kind, change_points=[6000], random_state=0)
    model = LogisticRegression().fit(stream.X[:5000], stream.y[:5000])
    before = (model.predict(stream.X[5000:6000]) == stream.y[5000:6000]).mean()
    after = (model.predict(stream.X[9000:]) == stream.y[9000:]).mean()
    assert before > 0.75 and after < before - 0.2


def test_no_drift_keeps_accuracy():
    stream = make_drifting_stream(n_samples=10_000, kind="none", random_state=0)
    model = LogisticRegression().fit(stream.X[:4000], stream.y[:4000])
    assert (model.predict(stream.X[6000:]) == stream.y[6000:]).mean() > 0.75
    assert (stream.concept == 0).all()


def test_regression_and_bad_arguments():
    stream = make_drifting_stream(n_samples=1000, task="regression", random_state=0)
    assert stream.y.dtype == np.float64
    with pytest.raises(ValueError, match="kind"):
        make_drifting_stream(kind="sudden")
    with pytest.raises(ValueError, match="change_points"):
        make_drifting_stream(n_samples=100, change_points=[100])
    with pytest.raises(ValueError, match="never changes"):
        make_drifting_stream(n_samples=100, kind="none", change_points=[50])
    with pytest.raises(ValueError, match="size"):
        next(stream.batches(0))
