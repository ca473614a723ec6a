"""CBPE against the truth it estimates, scikit-learn's own calibration, and the labels."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from loopwise.performance import CBPE

from ._data import draw, draw_multiclass, features, softmax_truth, truth

CHUNK = 1000


@pytest.fixture(scope="module")
def shifted():
    """A model's training rows, a labelled reference, and 8 chunks drifting in x0."""
    rng = np.random.default_rng(0)
    X_train = features(rng, 3000)
    X_ref = features(rng, 8000)
    X = np.vstack([features(rng, CHUNK, shift=0.07 * c) for c in range(8)])
    return (X_train, draw(rng, X_train)), (X_ref, draw(rng, X_ref)), (X, draw(rng, X))


def _expected_accuracy(X, predicted):
    q = truth(X)
    return np.where(predicted == 1, q, 1 - q).reshape(-1, CHUNK).mean(axis=1)


@pytest.mark.parametrize("model", [LogisticRegression(), GaussianNB()], ids=["calibrated", "overconfident"])
def test_accuracy_follows_the_truth_under_covariate_shift(shifted, model):
    (X_train, y_train), (X_ref, y_ref), (X, y) = shifted
    model.fit(X_train, y_train)
    predicted = model.predict(X)
    found = CBPE(random_state=0).fit(y_ref, model.predict_proba(X_ref), model.predict(X_ref)).estimate(
        model.predict_proba(X), predicted, chunk_size=CHUNK)
    expected = _expected_accuracy(X, predicted)
    assert np.max(np.abs(found["accuracy"] - expected)) < 0.02
    assert np.mean(np.abs(found["accuracy"] - expected)) < 0.01
    # Against the labels: within three sampling errors on every chunk.
    realised = (predicted == y).reshape(-1, CHUNK).mean(axis=1)
    assert np.all(np.abs(found["accuracy"] - realised) < 3 * found["accuracy_sampling_error"])
    if isinstance(model, GaussianNB):
        # The model's raw confidence overstates its accuracy; CBPE is closer on every chunk.
        raw = model.predict_proba(X).max(axis=1).reshape(-1, CHUNK).mean(axis=1)
        assert np.all(np.abs(found["accuracy"] - expected) < np.abs(raw - expected))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_calibration_equals_scikit_learn_isotonic_calibration(n_classes):
    rng = np.random.default_rng(3)
    X_ref = features(rng, 4000)
    y_ref = draw(rng, X_ref) if n_classes == 2 else draw_multiclass(rng, X_ref)
    model = GaussianNB().fit(X_ref[:2000], y_ref[:2000])
    X_new = features(rng, 500, shift=0.5)
    sklearn_calibrated = CalibratedClassifierCV(FrozenEstimator(model), method="isotonic").fit(X_ref[2000:], y_ref[2000:])
    cbpe = CBPE(calibration="isotonic").fit(y_ref[2000:], model.predict_proba(X_ref[2000:]))
    np.testing.assert_allclose(cbpe.calibrate(model.predict_proba(X_new)), sklearn_calibrated.predict_proba(X_new),
                               atol=1e-12)


def test_the_auto_rule_calibrates_an_overconfident_model_only():
    rng = np.random.default_rng(4)
    X_ref = features(rng, 6000)
    y_ref = draw(rng, X_ref)
    q = truth(X_ref)
    # Scores sharpened away from the truth need the map; "none" never fits one.
    sharp = q ** 3 / (q ** 3 + (1 - q) ** 3)
    assert CBPE().fit(y_ref, sharp).calibrated_ == [True]
    assert CBPE(calibration="none").fit(y_ref, sharp).calibrated_ == [False]


def test_multiclass_accuracy_follows_the_truth():
    rng = np.random.default_rng(5)
    X_train, X_ref = features(rng, 3000), features(rng, 8000)
    X = features(rng, 4 * CHUNK, shift=0.4)
    model = GaussianNB().fit(X_train, draw_multiclass(rng, X_train))
    y_ref = draw_multiclass(rng, X_ref)
    found = CBPE(random_state=0).fit(y_ref, model.predict_proba(X_ref)).estimate(
        model.predict_proba(X), model.predict(X), chunk_size=CHUNK)
    P = softmax_truth(X)
    predicted = model.predict(X)
    expected = P[np.arange(len(X)), predicted].reshape(-1, CHUNK).mean(axis=1)
    assert np.max(np.abs(found["accuracy"] - expected)) < 0.02
    assert set(found.columns) >= {"precision", "recall", "f1", "roc_auc", "roc_auc_sampling_error"}


def test_sampling_error_is_the_binomial_one_and_shrinks_with_the_chunk():
    rng = np.random.default_rng(6)
    X_ref = features(rng, 5000)
    y_ref = draw(rng, X_ref)
    model = LogisticRegression().fit(X_ref, y_ref)
    cbpe = CBPE(random_state=0, n_resamples=300).fit(y_ref, model.predict_proba(X_ref))
    a = cbpe.reference_metrics_["accuracy"]
    found = cbpe.estimate(model.predict_proba(X_ref[:4000]), chunk_size=1000)
    assert found["accuracy_sampling_error"][0] == pytest.approx(np.sqrt(a * (1 - a) / 1000), rel=0.15)
    half = cbpe.estimate(model.predict_proba(X_ref[:250]))["accuracy_sampling_error"][0]
    assert half == pytest.approx(2 * found["accuracy_sampling_error"][0])


def test_labels_and_classes_keep_the_models_order():
    rng = np.random.default_rng(7)
    X = features(rng, 2000)
    y = np.where(draw(rng, X) == 1, "yes", "no")
    model = LogisticRegression().fit(X, y)
    cbpe = CBPE(random_state=0).fit(y, model.predict_proba(X), model.predict(X), classes=model.classes_)
    one = cbpe.estimate_one(model.predict_proba(X[:500]), model.predict(X[:500]))
    assert 0.5 < one["accuracy"][0] < 1.0
    clone = pickle.loads(pickle.dumps(cbpe))
    assert clone.estimate_one(model.predict_proba(X[:500]), model.predict(X[:500])) == one


@pytest.mark.parametrize("call, message", [
    (lambda: CBPE(metrics=["auc"]).fit([0, 1], [0.2, 0.8]), "metrics"),
    (lambda: CBPE(calibration="platt").fit([0, 1], [0.2, 0.8]), "calibration"),
    (lambda: CBPE().fit([0, 1, 1], [0.2, 0.8]), "y_true"),
    (lambda: CBPE().fit([0, 1], [0.2, np.nan]), "NaN"),
    (lambda: CBPE().fit([0, 1, 2], [[0.2, 0.8]] * 3), "classes"),
    (lambda: CBPE().fit([0, 1], [0.2, 0.8], y_pred=[0, 5]), "y_pred"),
    (lambda: CBPE().estimate([0.5]), "not fitted"),
    (lambda: CBPE(calibration="none").fit([0, 1, 0, 1], [0.2, 0.8, 0.3, 0.6]).estimate([0.5], chunk_size=0), "chunk_size"),
    (lambda: CBPE(calibration="none").fit([0, 1, 0, 1], [0.2, 0.8, 0.3, 0.6]).estimate([[0.1, 0.2, 0.7]]), "columns"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        call()


def test_the_loop_matches_reference_labels_to_the_models_classes(tmp_path):
    import pandas as pd

    from loopwise.loop import FeedbackLoop, Policy
    from loopwise.loop._estimate import _as_classes

    classes = np.array([0, 1], dtype=object)
    # 1.0 and "1" are the label 1, as everywhere in the loop; an unknown label is named.
    assert _as_classes(np.array([1.0, 0.0]), classes, "reference_labels").tolist() == [1, 0]
    assert _as_classes(np.array(["1", "0"]), classes, "reference_labels").tolist() == [1, 0]
    with pytest.raises(ValueError, match="reference_labels holds 2"):
        _as_classes(np.array([2, 0]), classes, "reference_labels")

    rng = np.random.default_rng(8)
    X_ref, X = features(rng, 3000), features(rng, 1000, shift=0.4)
    y_ref, y = draw(rng, X_ref), draw(rng, X)
    columns = ["a", "b", "c"]
    model = GaussianNB().fit(pd.DataFrame(X_ref, columns=columns), y_ref)
    loop = FeedbackLoop(tmp_path / "loop", model=model, reference=pd.DataFrame(X_ref, columns=columns),
                        reference_labels=y_ref.astype(float), policy=Policy(triggers=[]), monitor_rows=1000,
                        trusted=True)
    frame = pd.DataFrame(X, columns=columns)
    loop.predict(frame, ids=[f"r{i}" for i in range(1000)])
    status = loop.check()
    realised = float(np.mean(model.predict(frame) == y))
    assert abs(status.estimated_metric - realised) < 3 * status.estimated_metric_error
    assert status.to_dict()["estimated_metrics"]["roc_auc"]["sampling_error"] > 0
    loop.close()


def test_a_reference_label_the_model_never_learned_leaves_the_check_without_an_estimate(tmp_path):
    import pandas as pd

    from loopwise.loop import FeedbackLoop, Policy

    rng = np.random.default_rng(9)
    X_ref = pd.DataFrame(features(rng, 400), columns=["a", "b", "c"])
    y_ref = draw(rng, X_ref.to_numpy())
    model = LogisticRegression().fit(X_ref, y_ref)
    y_ref[:5] = 2  # a class the model has no probability column for
    loop = FeedbackLoop(tmp_path / "loop", model=model, reference=X_ref, reference_labels=y_ref,
                        policy=Policy(triggers=[]), monitor_rows=100, trusted=True)
    loop.predict(X_ref.iloc[:100], ids=[f"r{i}" for i in range(100)])
    with pytest.warns(UserWarning, match="reference_labels holds 2"):
        status = loop.check()
    assert status.estimated_metric is None and status.estimated_metrics == {}
    loop.close()
