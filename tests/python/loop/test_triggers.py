"""Retraining triggers, Policy.reasons, data selections and time_split at their boundaries.

Each table row is one status and whether the trigger must fire; expected values are written
from the documented rule (">= threshold", "drop > max_drop", ...), never from our own output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd
import pytest

from loopwise.loop.policy import (
    DetectorTrigger,
    DriftTrigger,
    LabelCountTrigger,
    PerformanceTrigger,
    Policy,
    Reservoir,
    ScheduleTrigger,
    SlidingWindow,
    TimeDecay,
    time_split,
)


@dataclass
class Status:
    drift_share: Optional[float] = None
    dataset_drift: bool = False
    metric: Optional[float] = None
    baseline_metric: Optional[float] = None
    higher_is_better: bool = True
    new_labels: int = 0
    since_training: Optional[pd.Timedelta] = None
    detector_alarm: bool = False


# ------------------------------------------------------------------------------ DriftTrigger
@pytest.mark.parametrize("status, fires", [
    (Status(), False),                                        # no drift report at all
    (Status(dataset_drift=True), True),                       # the dataset verdict alone
    (Status(dataset_drift=True, drift_share=0.0), True),
    (Status(drift_share=0.25), True),                         # exactly at the threshold
    (Status(drift_share=np.nextafter(0.25, 0)), False),       # just below
    (Status(drift_share=np.nextafter(0.25, 1)), True),        # just above
    (Status(drift_share=0.0), False),
    (Status(drift_share=1.0), True),
])
def test_drift_trigger_table(status, fires):
    assert (DriftTrigger(min_share=0.25)(status) is not None) is fires


def test_drift_trigger_default_threshold_and_message():
    assert DriftTrigger()(Status(drift_share=0.5)) == "input drift: 50% of columns drifted (threshold 50%)"
    assert DriftTrigger()(Status(drift_share=0.49)) is None
    assert DriftTrigger()(Status(dataset_drift=True)) == "input drift: 0% of columns drifted (threshold 50%)"
    assert DriftTrigger().name == "drift"


# ------------------------------------------------------------------------ PerformanceTrigger
# max_drop 0.25 and metrics in quarters: the differences are exact in binary floating point.
@pytest.mark.parametrize("status, fires", [
    (Status(metric=None, baseline_metric=0.75), False),
    (Status(metric=0.5, baseline_metric=None), False),
    (Status(metric=None, baseline_metric=None), False),
    # higher is better (accuracy): a drop is baseline - metric
    (Status(metric=0.5, baseline_metric=0.75), False),                       # drop exactly max_drop
    (Status(metric=np.nextafter(0.5, 0), baseline_metric=0.75), True),       # just more
    (Status(metric=np.nextafter(0.5, 1), baseline_metric=0.75), False),      # just less
    (Status(metric=0.25, baseline_metric=0.75), True),
    (Status(metric=1.0, baseline_metric=0.75), False),                       # an improvement
    # lower is better (RMSE): a drop is metric - baseline
    (Status(metric=1.0, baseline_metric=0.75, higher_is_better=False), False),           # exactly
    (Status(metric=np.nextafter(1.0, 2), baseline_metric=0.75, higher_is_better=False), True),
    (Status(metric=np.nextafter(1.0, 0), baseline_metric=0.75, higher_is_better=False), False),
    (Status(metric=0.25, baseline_metric=0.75, higher_is_better=False), False),          # better
    (Status(metric=2.0, baseline_metric=0.75, higher_is_better=False), True),
])
def test_performance_trigger_table(status, fires):
    assert (PerformanceTrigger(max_drop=0.25)(status) is not None) is fires


def test_performance_trigger_message_and_default():
    message = PerformanceTrigger(max_drop=0.25)(Status(metric=0.25, baseline_metric=0.75))
    assert message == "performance dropped by 0.5000 vs the champion's baseline 0.7500 (allowed 0.25)"
    lower = PerformanceTrigger(max_drop=0.25)(Status(metric=2.0, baseline_metric=0.75, higher_is_better=False))
    assert lower == "performance dropped by 1.2500 vs the champion's baseline 0.7500 (allowed 0.25)"
    assert PerformanceTrigger().max_drop == 0.05 and PerformanceTrigger().name == "performance"
    assert PerformanceTrigger()(Status(metric=0.5, baseline_metric=0.5625)) is not None  # drop 0.0625 > 0.05
    assert PerformanceTrigger()(Status(metric=0.5, baseline_metric=0.53125)) is None      # drop 0.03125


# --------------------------------------------------------------------------- ScheduleTrigger
@pytest.mark.parametrize("since, fires", [
    (None, False),
    (pd.Timedelta("1D"), True),                              # exactly due
    (pd.Timedelta("1D") - pd.Timedelta(1, "ns"), False),     # just before
    (pd.Timedelta("1D") + pd.Timedelta(1, "ns"), True),
    (pd.Timedelta(0), False),
    (pd.Timedelta("30D"), True),
])
def test_schedule_trigger_table(since, fires):
    assert (ScheduleTrigger(every="1D")(Status(since_training=since)) is not None) is fires


def test_schedule_trigger_message_and_default():
    assert ScheduleTrigger(every="1D")(Status(since_training=pd.Timedelta("2D"))) == \
        "scheduled: last training 2 days 00:00:00 ago (every 1D)"
    assert ScheduleTrigger().every == "7D" and ScheduleTrigger().name == "schedule"
    assert ScheduleTrigger()(Status(since_training=pd.Timedelta("7D"))) is not None
    assert ScheduleTrigger()(Status(since_training=pd.Timedelta("6D 23h"))) is None


# ------------------------------------------------------------------------- LabelCountTrigger
@pytest.mark.parametrize("new_labels, fires", [(0, False), (99, False), (100, True), (101, True), (10_000, True)])
def test_label_count_trigger_table(new_labels, fires):
    assert (LabelCountTrigger(n=100)(Status(new_labels=new_labels)) is not None) is fires


def test_label_count_trigger_message_and_default():
    assert LabelCountTrigger(n=100)(Status(new_labels=100)) == "100 new labels since the last training (threshold 100)"
    assert LabelCountTrigger().n == 1000 and LabelCountTrigger().name == "new_labels"
    assert LabelCountTrigger()(Status(new_labels=999)) is None
    assert LabelCountTrigger()(Status(new_labels=1000)) is not None


# --------------------------------------------------------------------------- DetectorTrigger
@pytest.mark.parametrize("alarm, fires", [(False, False), (True, True)])
def test_detector_trigger_table(alarm, fires):
    assert (DetectorTrigger()(Status(detector_alarm=alarm)) is not None) is fires


def test_detector_trigger_message():
    assert DetectorTrigger()(Status(detector_alarm=True)) == \
        "the streaming detector over the prediction-error stream signalled a change"
    assert DetectorTrigger().name == "error_detector"


# ---------------------------------------------------------------------------- Policy.reasons
def test_policy_reasons_lists_every_firing_trigger_in_order():
    policy = Policy(triggers=[LabelCountTrigger(n=10), DetectorTrigger(), DriftTrigger(min_share=0.5)])
    assert policy.reasons(Status()) == []
    both = policy.reasons(Status(new_labels=10, drift_share=0.5))
    assert both == ["10 new labels since the last training (threshold 10)",
                    "input drift: 50% of columns drifted (threshold 50%)"]
    # A custom callable: None and the empty string are both "no reason".
    custom = Policy(triggers=[lambda s: "", lambda s: None, lambda s: "manual"])
    assert custom.reasons(Status()) == ["manual"]
    assert Policy(triggers=[]).reasons(Status(detector_alarm=True)) == []


def test_policy_defaults():
    policy = Policy()
    assert policy.validation_fraction == 0.25 and policy.min_labels == 200
    assert policy.gate == {} and policy.shadow is False


# ------------------------------------------------------------------------------- selections
def _times(order):
    return np.asarray(order, dtype="datetime64[s]")


SHUFFLED = [5, 2, 9, 0, 7, 3, 8, 1, 6, 4]  # position p holds second SHUFFLED[p]


def _positions_of(seconds):
    return [SHUFFLED.index(s) for s in seconds]


def test_sliding_window_takes_the_newest_rows_in_time_order():
    chosen, weights = SlidingWindow(n_rows=3).select(_times(SHUFFLED))
    assert chosen.tolist() == _positions_of([7, 8, 9])
    assert weights.tolist() == [1.0, 1.0, 1.0]
    everything, w = SlidingWindow(n_rows=50).select(_times(SHUFFLED))
    assert everything.tolist() == _positions_of(range(10)) and w.tolist() == [1.0] * 10
    assert SlidingWindow().n_rows == 5000 and SlidingWindow().duration is None


@pytest.mark.parametrize("duration, seconds", [("2s", [7, 8, 9]), ("0s", [9]), ("100s", [4, 5, 6, 7, 8, 9])])
def test_sliding_window_duration_is_inclusive(duration, seconds):
    chosen, weights = SlidingWindow(n_rows=6, duration=duration).select(_times(SHUFFLED))
    assert chosen.tolist() == _positions_of(seconds)
    assert weights.tolist() == [1.0] * len(seconds)


def test_reservoir_keeps_everything_when_small_and_samples_uniformly_otherwise():
    chosen, weights = Reservoir(n_rows=10).select(_times(SHUFFLED))
    assert chosen.tolist() == _positions_of(range(10)) and weights.tolist() == [1.0] * 10
    times = _times(SHUFFLED)
    counts = np.zeros(10)
    for seed in range(400):
        chosen, weights = Reservoir(n_rows=4).select(times, random_state=seed)
        assert len(chosen) == 4 and len(set(chosen.tolist())) == 4
        assert np.all(np.diff(times[chosen].astype(np.int64)) > 0)  # in time order
        assert weights.tolist() == [1.0] * 4
        counts[chosen] += 1
    # Each row is kept with probability 4/10: 160 of 400, binomial SD about 9.8.
    assert np.all(np.abs(counts - 160) < 5 * 9.8), counts
    first = Reservoir(n_rows=4).select(times, random_state=1)[0]
    assert np.array_equal(first, Reservoir(n_rows=4).select(times, random_state=1)[0])
    assert Reservoir().n_rows == 5000


def test_time_decay_weights_halve_every_half_life():
    chosen, weights = TimeDecay(half_life="2s", max_rows=4).select(_times(SHUFFLED))
    assert chosen.tolist() == _positions_of([6, 7, 8, 9])
    np.testing.assert_allclose(weights, [0.5 ** 1.5, 0.5, 0.5 ** 0.5, 1.0], rtol=1e-15)
    chosen, weights = TimeDecay(half_life="1s").select(_times(SHUFFLED))
    assert chosen.tolist() == _positions_of(range(10))
    np.testing.assert_allclose(weights, 0.5 ** np.arange(9, -1, -1.0), rtol=1e-15)
    assert TimeDecay().half_life == "7D" and TimeDecay().max_rows == 50_000


# ---------------------------------------------------------------------------------- time_split
@pytest.mark.parametrize("n, fraction, n_valid", [(10, 0.25, 2), (10, 0.5, 5), (10, 0.01, 1), (4, 0.5, 2),
                                                  (10, 0.35, 4), (3, 0.99, 3)])
def test_time_split_newest_rows_validate(n, fraction, n_valid):
    seconds = SHUFFLED[:n] if n == 10 else list(range(n))[::-1]
    train, valid = time_split(_times(seconds), fraction)
    by_time = np.argsort(seconds, kind="stable")
    assert valid.tolist() == by_time[n - n_valid:].tolist()
    assert train.tolist() == by_time[:n - n_valid].tolist()


def test_time_split_ties_keep_input_order_and_bad_fractions_raise():
    train, valid = time_split(_times([1, 1, 1, 1]), 0.5)
    assert train.tolist() == [0, 1] and valid.tolist() == [2, 3]
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="validation_fraction"):
            time_split(_times([0, 1]), bad)
    train, valid = time_split(_times([3, 1, 2, 0]))  # default fraction 0.25
    assert train.tolist() == [3, 1, 2] and valid.tolist() == [0]


def test_selections_and_split_keep_input_order_among_equal_times_on_long_inputs():
    # Long enough (> 16 rows) that an unstable sort would reorder equal keys.
    times = _times(np.repeat([2, 0, 1], 40))
    train, valid = time_split(times, 0.5)
    assert train.tolist() == list(range(40, 80)) + list(range(80, 100))
    assert valid.tolist() == list(range(100, 120)) + list(range(0, 40))
    assert SlidingWindow(n_rows=50).select(times)[0].tolist() == list(range(110, 120)) + list(range(0, 40))
    assert TimeDecay(half_life="1s", max_rows=50).select(times)[0].tolist() == list(range(110, 120)) + list(range(40))
    chosen = Reservoir(n_rows=200).select(times)[0]
    assert chosen.tolist() == list(range(40, 80)) + list(range(80, 120)) + list(range(40))


def test_reservoir_default_seed_is_zero():
    times = _times(SHUFFLED)
    assert np.array_equal(Reservoir(n_rows=4).select(times)[0], Reservoir(n_rows=4).select(times, random_state=0)[0])


def test_reservoir_of_exactly_n_rows_keeps_input_order_among_equal_times():
    # n == n_rows is "everything": no sampling, so equal times stay in input order.
    times = _times([3] * 20)
    assert Reservoir(n_rows=20).select(times)[0].tolist() == list(range(20))
