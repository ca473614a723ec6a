"""Hostile inputs for the online learners: never a crash, hang or silent NaN weights; errors
name the argument. Plus: overflow raises (as scikit-learn does), NaN is no class label,
threads sharing one learner give the serial result, corrupt saved states are refused."""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest

import hostile
from loopwise.online import RLSRegressor, SGDClassifier, SGDRegressor

LEARNERS = {"sgd_clf": lambda **k: SGDClassifier(random_state=0, **k),
            "sgd_reg": lambda **k: SGDRegressor(random_state=0, **k),
            "rls": lambda **k: RLSRegressor(**k)}


def _data(n=40, d=3):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] > 0).astype(int)


def _fitted(name):
    X, y = _data()
    return LEARNERS[name]().fit(X, y)


def sweep_cases():
    entries = []
    X, y = _data(5)
    for name, make in LEARNERS.items():
        for label, bad_X in hostile.hostile_matrices(3).items():
            if label == "bad_names":
                continue  # a DataFrame with any names is valid for a learner fitted on an array
            bad_label = label in hostile.INVALID
            n_rows = len(bad_X) if hasattr(bad_X, "__len__") else 5
            y_rows = (np.arange(max(n_rows, 0)) % 2) if n_rows != 5 else y
            entries.append((f"{name}.fit[X={label}]", lambda m=make, X_=bad_X, y_=y_rows: m().fit(X_, y_).predict(X),
                            ["X", "y"], bad_label or (label in ("one_row", "zero_rows") and name == "sgd_clf")))
            entries.append((f"{name}.predict[X={label}]", lambda n=name, X_=bad_X: _fitted(n).predict(X_),
                            ["X", "feature"], bad_label))
        for label, bad_y in hostile.hostile_vectors(5).items():
            if name == "sgd_clf" and label == "ok":
                bad_y = (bad_y > 0.5).astype(int)
            entries.append((f"{name}.fit[y={label}]", lambda m=make, y_=bad_y: m().fit(X, y_).predict(X), ["y"],
                            label != "ok" and not (label == "1e308" and name != "sgd_clf")))
        params = ["eta0", "alpha", "power_t"] if name != "rls" else ["forgetting", "alpha"]
        for param in params:
            for label, value in hostile.hostile_numbers().items():
                entries.append((f"{name}({param}={label})",
                                lambda m=make, p=param, v=value: m(**{p: v}).fit(X, y).predict(X), [param],
                                label in hostile.INVALID))
        for label, data in _corruptions(name).items():
            cls = type(LEARNERS[name]())
            entries.append((f"{name}.from_dict[{label}]", lambda c=cls, d=data: c.from_dict(d).predict(X),
                            ["data", "state", "RLS", "params"], True))
    for label, classes in {"nan": [0, 1, np.nan], "inf": [0.0, 1.0, np.inf], "complex": [0, 1j],
                           "2d": [[0, 1]], "none_in": np.array([0, None], dtype=object)}.items():
        entries.append((f"sgd_clf.partial_fit[classes={label}]",
                        lambda c=classes: SGDClassifier().partial_fit(X, y, classes=c).predict(X), ["classes", "y"],
                        True))
    big = np.full((5, 3), 1e154)
    entries.append(("sgd_reg.overflow_X", lambda: SGDRegressor(standardize=False).fit(big, np.ones(5)).coef_, ["overflow"], True))
    entries.append(("sgd_reg.overflow_eta0", lambda: SGDRegressor(eta0=1e300).fit(X * 1e10, np.ones(5) * 1e10).coef_,
                    ["overflow", "eta0"], True))
    entries.append(("rls.overflow", lambda: RLSRegressor(alpha=1e-300).fit(big, np.full(5, 1e300)).coef_,
                    ["overflow"], True))
    return hostile.cases_from(entries)


def _corruptions(name):
    good = _fitted(name).to_dict()
    out = {}
    if name == "rls":
        for label, change in (("theta_nan", ("theta", 0, float("nan"))), ("P_str", ("P", 0, "x"))):
            data = copy.deepcopy(good)
            key, i, value = change
            data[key][i] = value if key == "theta" else [value] * len(data[key][i])
            out[label] = data
        data = copy.deepcopy(good)
        data["P"] = data["P"][:-1]
        out["P_short"] = data
        return out
    for key in ("coef", "intercept", "scaler"):
        data = copy.deepcopy(good)
        data["state"][key]["values"][0] = float("nan")
        out[f"{key}_nan"] = data
    data = copy.deepcopy(good)
    data["state"]["moment1"]["shape"] = [7, 7]
    out["bad_shape"] = data
    data = copy.deepcopy(good)
    del data["state"]["coef"]
    out["no_coef"] = data
    data = copy.deepcopy(good)
    data["state"] = []
    out["state_list"] = data
    return out


@pytest.fixture(scope="module")
def sweep():
    return hostile.run_sweep(__file__, "sweep_cases", timeout=150)


def test_sweep_has_no_crash_hang_nan_or_unclear_error(sweep):
    hostile.assert_sweep_clean(sweep, min_cases=200)


def test_overflow_raises_and_keeps_the_state():
    X = np.full((4, 2), 1e154)
    y = np.ones(4)
    model = SGDRegressor(standardize=False).fit(np.ones((4, 2)), y)
    before = model.to_dict()
    with pytest.raises(ValueError, match="overflow"):
        model.partial_fit(X, y)
    assert model.to_dict() == before


def test_nan_is_no_class_label():
    X, y = _data(4)
    with pytest.raises(ValueError, match="classes"):
        SGDClassifier().partial_fit(X, y, classes=[0, 1, np.nan])


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_threads_sharing_one_learner_match_a_serial_run(name):
    X, y = _data(200, 5)
    y = y if name == "sgd_clf" else X @ np.arange(1.0, 6.0)
    shared = LEARNERS[name]().partial_fit(X[:2], y[:2]) if name != "sgd_clf" else \
        LEARNERS[name]().partial_fit(X[:2], y[:2], classes=[0, 1])
    serial = copy.deepcopy(shared)
    n_threads, repeats = 8, 5
    barrier = threading.Barrier(n_threads)

    def work():
        barrier.wait()
        for _ in range(repeats):
            shared.partial_fit(X, y)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(n_threads * repeats):
        serial.partial_fit(X, y)
    np.testing.assert_array_equal(shared.coef_, serial.coef_)
    np.testing.assert_array_equal(shared.intercept_, serial.intercept_)


def test_learners_still_pickle_and_deepcopy_after_fitting():
    import pickle

    for name in LEARNERS:
        model = _fitted(name)
        again = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(again.coef_, model.coef_)
        np.testing.assert_array_equal(copy.deepcopy(model).coef_, model.coef_)
