"""Streaming detectors: identical to river on seeded streams, state round-trips, bad input."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

from loopwise import drift
from loopwise.drift.streaming import ADWIN, DDM, EDDM, HDDM_A, HDDM_W, KSWIN, PageHinkley

import river.drift as river_drift  # noqa: E402 - test oracle from the [test] extra
from river.drift import binary as river_binary  # noqa: E402


def _real_stream(seed: int, n: int = 3000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    third = n // 3
    return np.r_[rng.normal(0, 1, third), rng.normal(rng.uniform(-2, 2), 1, third),
                 rng.normal(0, rng.uniform(0.5, 3), n - 2 * third)]


def _error_stream(seed: int, n: int = 3000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    third = n // 3
    p = np.r_[np.full(third, rng.uniform(0.05, 0.3)), np.full(third, rng.uniform(0.2, 0.6)),
              np.full(n - 2 * third, rng.uniform(0.05, 0.3))]
    return (rng.random(n) < p).astype(float)


def _river_positions(detector, values, binary):
    drifts, warnings = [], []
    for i, x in enumerate(values):
        detector.update(bool(x) if binary else float(x))
        if detector.drift_detected:
            drifts.append(i)
        if getattr(detector, "warning_detected", False):
            warnings.append(i)
    return drifts, warnings


CASES = [
    ("adwin", ADWIN, river_drift.ADWIN, {}, False),
    ("adwin-clock1", ADWIN, river_drift.ADWIN, {"clock": 1, "delta": 0.01, "grace_period": 30}, False),
    ("adwin-errors", ADWIN, river_drift.ADWIN, {"max_buckets": 3, "min_window_length": 10}, True),
    ("page-hinkley", PageHinkley, river_drift.PageHinkley, {"threshold": 20.0}, False),
    ("page-hinkley-up", PageHinkley, river_drift.PageHinkley, {"threshold": 10.0, "mode": "up"}, False),
    ("page-hinkley-down", PageHinkley, river_drift.PageHinkley, {"threshold": 10.0, "mode": "down", "alpha": 0.99}, False),
    ("kswin", KSWIN, river_drift.KSWIN, {"seed": 7}, False),
    ("kswin-large", KSWIN, river_drift.KSWIN, {"seed": 2**40 + 3, "window_size": 400, "stat_size": 100, "alpha": 0.01}, False),
    ("ddm", DDM, river_binary.DDM, {}, True),
    ("ddm-tight", DDM, river_binary.DDM, {"warm_start": 50, "warning_threshold": 1.5, "drift_threshold": 2.5}, True),
    ("eddm", EDDM, river_binary.EDDM, {}, True),
    ("hddm-a", HDDM_A, river_binary.HDDMA, {}, True),
    ("hddm-a-two-sided", HDDM_A, river_binary.HDDMA, {"two_sided_test": True}, True),
    ("hddm-w", HDDM_W, river_binary.HDDMW, {}, True),
    ("hddm-w-two-sided", HDDM_W, river_binary.HDDMW, {"two_sided_test": True, "lambda_val": 0.1}, True),
]


@pytest.mark.parametrize("name,ours,theirs,params,binary", CASES, ids=[c[0] for c in CASES])
def test_identical_to_river(name, ours, theirs, params, binary):
    total = 0
    for seed in range(8):
        values = _error_stream(seed) if binary else _real_stream(seed)
        expected, expected_warnings = _river_positions(theirs(**params), values,
                                                       binary and theirs is not river_drift.ADWIN)
        drifts, warnings = ours(**params).update_many(values, return_warnings=True)
        assert list(drifts) == expected, (name, seed)
        assert list(warnings) == expected_warnings, (name, seed)
        total += len(expected)
    assert total > 0, "the streams must exercise detections"


@pytest.mark.parametrize("name,ours,theirs,params,binary", CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_update_loop_equals_update_many(name, ours, theirs, params, binary):
    values = _error_stream(3) if binary else _real_stream(3)
    detector = ours(**params)
    looped = [i for i, x in enumerate(values) if detector.update(x).drift_detected]
    assert looped == list(ours(**params).update_many(values))


@pytest.mark.parametrize("name,ours,theirs,params,binary", CASES, ids=[c[0] for c in CASES])
def test_round_trips_mid_stream(name, ours, theirs, params, binary):
    values = _error_stream(5) if binary else _real_stream(5)
    whole = list(ours(**params).update_many(values))
    for cut in (1, 777, 1500, 2222):
        first = ours(**params)
        head = list(first.update_many(values[:cut]))
        via_json = type(first).from_dict(json.loads(json.dumps(first.to_dict(), allow_nan=False)))
        via_pickle = pickle.loads(pickle.dumps(first))
        via_copy = copy.deepcopy(first)
        for resumed in (via_json, via_pickle, via_copy):
            assert resumed.drift_detected == first.drift_detected
            tail = [cut + int(i) for i in resumed.update_many(values[cut:])]
            assert head + tail == whole, (name, cut)


def test_kswin_without_seed_resumes_identically():
    values = _real_stream(9)
    detector = KSWIN()
    detector.update_many(values[:1400])
    resumed = KSWIN.from_dict(json.loads(json.dumps(detector.to_dict())))
    assert resumed.seed is None
    assert list(resumed.update_many(values[1400:])) == list(detector.update_many(values[1400:]))


def test_reset_and_flags():
    detector = ADWIN()
    detections = detector.update_many(_real_stream(1))
    assert len(detections) > 0
    detector.reset()
    assert detector.width == 0 and not detector.drift_detected
    assert list(detector.update_many(_real_stream(1))) == list(detections)
    ddm = DDM()
    assert ddm.update(1) is ddm and ddm.warning_detected is False


def test_lazy_export_from_drift_package():
    assert drift.ADWIN is ADWIN and drift.HDDM_W is HDDM_W


@pytest.mark.parametrize("detector_class", [ADWIN, PageHinkley, HDDM_A, HDDM_W])
def test_detection_delay_and_false_alarms(detector_class):
    rng = np.random.default_rng(11)
    delays, false_alarms = [], 0
    for _ in range(10):
        if detector_class in (HDDM_A, HDDM_W):
            stationary = (rng.random(5000) < 0.2).astype(float)
            changed = np.r_[(rng.random(2000) < 0.2), (rng.random(2000) < 0.6)].astype(float)
        else:
            stationary = rng.normal(0, 0.2, 5000)
            changed = np.r_[rng.normal(0, 0.2, 2000), rng.normal(1.5, 0.2, 2000)]
        false_alarms += len(detector_class().update_many(stationary))
        after = [i for i in detector_class().update_many(changed) if i >= 2000]
        delays.append(after[0] - 2000 if after else 10_000)
    assert false_alarms <= 5  # at most one alarm per 10,000 stationary values
    assert max(delays) < 300


def test_bad_inputs():
    with pytest.raises(ValueError, match="finite"):
        ADWIN().update(float("nan"))
    with pytest.raises(ValueError, match=r"values\[2\]"):
        ADWIN().update_many([0.0, 1.0, np.nan])
    with pytest.raises(TypeError, match="x must be a real number"):
        ADWIN().update("a")
    with pytest.raises(TypeError, match="values must be numeric"):
        PageHinkley().update_many(["a", "b"])
    with pytest.raises(ValueError, match="0 or 1"):
        DDM().update_many([0, 1, 0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        HDDM_A().update(2.0)
    with pytest.raises(ValueError, match="values must be 1-D"):
        ADWIN().update_many(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="delta"):
        ADWIN(delta=2.0)
    with pytest.raises(TypeError, match="clock must be an int"):
        ADWIN(clock=32.5)
    with pytest.raises(TypeError, match="two_sided_test must be a bool"):
        HDDM_W(two_sided_test="yes")
    with pytest.raises(TypeError, match="delta must be a real number"):
        PageHinkley(delta="small")
    with pytest.raises(ValueError, match="mode"):
        PageHinkley(mode="sideways")
    with pytest.raises(ValueError, match="stat_size"):
        KSWIN(window_size=10, stat_size=30)
    with pytest.raises(ValueError, match="beta"):
        EDDM(alpha=0.5, beta=0.9)
    with pytest.raises(ValueError, match="not a ADWIN|not an ADWIN|not a"):
        ADWIN.from_dict(DDM().to_dict())
    with pytest.raises(ValueError, match="missing keys"):
        broken = ADWIN().to_dict()
        del broken["state"]["width"]
        ADWIN.from_dict(broken)
    with pytest.raises(ValueError, match="to_dict"):
        ADWIN.from_dict({"nope": 1})


def test_kswin_p_values_equal_rivers():
    values = _real_stream(4, n=600)
    theirs, mine = river_drift.KSWIN(seed=3), KSWIN(seed=3)
    for x in values:
        theirs.update(float(x))
        mine.update(x)
        assert mine.p_value == pytest.approx(theirs.p_value, abs=1e-12)
