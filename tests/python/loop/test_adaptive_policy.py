"""The default policy's pieces: the refresh trigger, adaptive candidate windows, the holdout
that shrinks after a detected change, and the saved configuration's encoding."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from loopwise.loop import config as loop_config
from loopwise.loop.policy import (
    AdaptiveWindow,
    DetectorTrigger,
    DriftTrigger,
    LabelCountTrigger,
    PerformanceTrigger,
    Policy,
    Refit,
    RefreshTrigger,
    SlidingWindow,
    TimeDecay,
)
from loopwise.loop.status import Status


def _status(**values):
    return Status(checked_at="t", champion_version=1, **values)


@pytest.mark.parametrize("since, every, fires", [(0, 500, False), (499, 500, False), (500, 500, True),
                                                  (501, 500, True), (1, 1, True)])
def test_refresh_trigger_counts_labels_since_the_last_attempt(since, every, fires):
    # new_labels (since the champion) must not matter: only the attempt counter does.
    status = _status(labels_since_attempt=since, new_labels=10**6 if not fires else 0)
    assert (RefreshTrigger(every=every)(status) is not None) is fires


@pytest.mark.parametrize("every", [0, -1, 2.5, True, "500"])
def test_refresh_trigger_rejects_bad_every(every):
    with pytest.raises(ValueError, match="every"):
        RefreshTrigger(every=every)


def test_default_policy_tries_on_alarms_and_every_500_labels():
    policy = Policy()
    kinds = [type(t) for t in policy.triggers]
    assert kinds == [DetectorTrigger, PerformanceTrigger, DriftTrigger, RefreshTrigger]
    assert isinstance(policy.selection, AdaptiveWindow)
    assert policy.validation_rows == 500 and policy.refit_with_holdout
    assert policy.reasons(_status()) == []
    assert len(policy.reasons(_status(labels_since_attempt=500, detector_alarm=True))) == 2


def _stamps(n):
    # Out of order on purpose: windows are the newest rows by time, not by position.
    order = np.random.default_rng(0).permutation(n)
    return order.astype("datetime64[s]")


def test_adaptive_window_candidates_are_the_newest_rows_by_time():
    stamps = _stamps(50)
    newest_first = np.argsort(stamps, kind="stable")[::-1]
    windows = AdaptiveWindow(sizes=(5, 20), min_rows=3).candidates(stamps, since_change=8)
    assert [name for name, _, _ in windows] == ["since_change", "newest_5", "newest_20"]
    for (name, rows, weights), length in zip(windows, (8, 5, 20)):
        assert sorted(rows.tolist()) == sorted(newest_first[:length].tolist())
        assert np.all(np.diff(stamps[rows].astype(np.int64)) > 0)  # oldest first
        assert np.array_equal(weights, np.ones(length))


def test_adaptive_window_widens_a_short_since_change_window_and_drops_duplicates():
    stamps = _stamps(30)
    windows = AdaptiveWindow(sizes=(5, 100), min_rows=5).candidates(stamps, since_change=2)
    # since_change widened to min_rows = 5 equals newest_5: kept once; newest_100 is capped at 30.
    assert [(name, len(rows)) for name, rows, _ in windows] == [("since_change", 5), ("newest_100", 30)]
    assert [(name, len(rows)) for name, rows, _ in AdaptiveWindow(sizes=(5,)).candidates(stamps)] == [("newest_5", 5)]


@pytest.mark.parametrize("kwargs", [{"sizes": ()}, {"sizes": (0,)}, {"sizes": (10, -1)}, {"sizes": (2.5,)},
                                    {"min_rows": 0}, {"min_rows": True}])
def test_adaptive_window_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        AdaptiveWindow(**kwargs)


def test_policy_windows_wraps_single_window_selections():
    stamps = _stamps(10)
    (name, rows, weights), = Policy(selection=SlidingWindow(3)).windows(stamps, since_change=None)
    assert name == "sliding_window" and sorted(rows.tolist()) == sorted(np.argsort(stamps)[-3:].tolist())
    (name, _, weights), = Policy(selection=TimeDecay(half_life="1s", max_rows=4)).windows(stamps, None)
    assert name == "time_decay" and weights.tolist() == [0.125, 0.25, 0.5, 1.0]


@pytest.mark.parametrize("kwargs, match", [({"validation_rows": 0}, "validation_rows"),
                                           ({"validation_rows": 1.5}, "validation_rows"),
                                           ({"validation_fraction": 1.0}, "validation_fraction"),
                                           ({"min_labels": 0}, "min_labels"), ({"gate": [1]}, "gate")])
def test_policy_rejects_bad_settings(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Policy(**kwargs)


# ------------------------------------------------------------------ saved configuration
def test_policies_round_trip_through_the_saved_form():
    policies = [
        Policy(),
        Policy(triggers=[LabelCountTrigger(n=7), PerformanceTrigger(max_drop=0.01)], selection=SlidingWindow(300, "2D"),
               retrain=Refit(train_fn=np.mean), validation_rows=None, validation_fraction=0.3, min_labels=50,
               gate={"alpha": 0.1, "slices": ["region"], "max_churn": None}, shadow=True),
        Policy(selection=AdaptiveWindow(sizes=(100, 200), min_rows=20), refit_with_holdout=False),
    ]
    for policy in policies:
        encoded = loop_config.encode(policy)
        assert loop_config.decode(encoded) == policy
        assert loop_config.encode(loop_config.decode(encoded)) == encoded  # stable: no drift on re-save


def test_a_lambda_or_local_callable_cannot_be_saved_and_says_why():
    def local(X, y, sample_weight=None):
        return None

    for fn in (lambda X, y, w: None, local):
        with pytest.raises(loop_config.UnsavedCallable, match="cannot be imported by path"):
            loop_config.encode(Policy(retrain=Refit(train_fn=fn)))
        config = loop_config.LoopConfig(policy=Policy(retrain=Refit(train_fn=fn)), sensitive=[], slices=[],
                                        monitor_rows=100, random_state=0)
        saved = config.to_dict()
        assert saved["policy"] is None and "cannot be imported" in saved["policy_not_saved"]
        assert loop_config.LoopConfig.from_dict(saved).saved_policy is False


def test_config_differences_name_each_changed_setting():
    base = loop_config.LoopConfig(policy=Policy(), sensitive=["g"], slices=[], monitor_rows=2000, random_state=0)
    assert base.differences(dataclasses.replace(base)) == []
    changed = dataclasses.replace(base, policy=Policy(min_labels=10), monitor_rows=500, slices=["s"])
    assert base.differences(changed) == ["slices", "monitor_rows", "policy"]


@pytest.mark.parametrize("data, match", [
    ({"format": "other"}, "not a loopwise loop configuration"),
    ({"format": "loopwise.loop-config", "version": 99}, "version"),
])
def test_config_refuses_foreign_or_future_files(data, match):
    with pytest.raises(ValueError, match=match):
        loop_config.LoopConfig.from_dict(data)


@pytest.mark.parametrize("entry, match", [
    ({"type": "loopwise.loop.policy:NoSuchThing", "params": {}}, "cannot be imported"),
    ({"type": "os:path", "params": {}}, "not a policy class"),
    ({"callable": "not-a-path"}, "import path"),
    ({"weird": 1}, "unrecognised"),
])
def test_config_decode_refuses_bad_entries(entry, match):
    with pytest.raises(ValueError, match=match):
        loop_config.decode(entry)


# ------------------------------------------------------------- boundaries and delegation
def test_adaptive_window_accepts_one_row_windows():
    stamps = _stamps(10)
    newest = np.argsort(stamps, kind="stable")[-1:]
    window = AdaptiveWindow(sizes=(1,), min_rows=1)
    assert window.sizes == (1,) and window.min_rows == 1
    (name, rows, weights), = window.candidates(stamps)
    assert name == "newest_1" and rows.tolist() == newest.tolist() and weights.tolist() == [1.0]
    # since_change=1 is a one-row window too (then newest_1 repeats it and is left out).
    assert [(n, r.tolist()) for n, r, _ in window.candidates(stamps, since_change=1)] == [("since_change", newest.tolist())]


@pytest.mark.parametrize("kwargs, match", [({"sizes": (0,)}, "sizes must be positive"),
                                           ({"min_rows": 0}, "min_rows must be a positive")])
def test_adaptive_window_errors_name_the_setting(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptiveWindow(**kwargs)


def test_adaptive_window_select_is_the_largest_window():
    stamps = _stamps(50)
    by_time = np.argsort(stamps, kind="stable")
    rows, weights = AdaptiveWindow(sizes=(20, 5, 10), min_rows=3).select(stamps)
    assert rows.tolist() == by_time[-20:].tolist() and weights.tolist() == [1.0] * 20
    rows, _ = AdaptiveWindow(sizes=(5, 100)).select(stamps)  # capped at every row
    assert rows.tolist() == by_time.tolist()


def test_adaptive_window_keeps_input_order_among_equal_times_on_long_inputs():
    # > 16 rows with ties: an unstable sort would reorder equal times (same rule as SlidingWindow).
    times = np.repeat([2, 0, 1], 40).astype("datetime64[s]")
    (_, rows, _), = AdaptiveWindow(sizes=(50,), min_rows=1).candidates(times)
    assert rows.tolist() == list(range(110, 120)) + list(range(0, 40))


class _RecordingSelection:
    """A user selection: records how the policy calls it; integer weights on purpose."""

    def __init__(self, with_candidates):
        self.calls = []
        if with_candidates:
            self.candidates = self._candidates

    def _candidates(self, timestamps, since_change, random_state):
        self.calls.append(("candidates", timestamps, since_change, random_state))
        return iter([("mine", np.array([0]), np.array([1.0]))])

    def select(self, timestamps, random_state=0):
        self.calls.append(("select", timestamps, random_state))
        return [0, 1, 2], [1, 2, 3]


def test_policy_windows_passes_everything_to_a_selections_candidates():
    stamps = _stamps(5)
    selection = _RecordingSelection(with_candidates=True)
    windows = Policy(selection=selection).windows(stamps, 3, random_state=7)
    assert [name for name, _, _ in windows] == ["mine"] and isinstance(windows, list)
    (kind, passed, since, seed), = selection.calls
    assert kind == "candidates" and passed is stamps and since == 3 and seed == 7
    Policy(selection=selection).windows(stamps, None)
    assert selection.calls[-1][2:] == (None, 0)  # default random_state is 0
    adaptive = AdaptiveWindow(sizes=(2,), min_rows=3)
    names = [name for name, _, _ in Policy(selection=adaptive).windows(stamps, since_change=4)]
    assert names == ["since_change", "newest_2"]


def test_policy_windows_wraps_select_with_the_seed_and_float_weights():
    stamps = _stamps(5)
    selection = _RecordingSelection(with_candidates=False)
    (name, rows, weights), = Policy(selection=selection).windows(stamps, None, random_state=7)
    assert name == "recording_selection"  # CamelCase to snake_case, no leading underscore
    assert rows.tolist() == [0, 1, 2] and weights.dtype == np.float64 and weights.tolist() == [1.0, 2.0, 3.0]
    assert selection.calls[-1] == ("select", stamps, 7)
    Policy(selection=selection).windows(stamps, None)
    assert selection.calls[-1][2] == 0


@pytest.mark.parametrize("kwargs", [{"validation_rows": 1}, {"validation_rows": None}, {"min_labels": 1},
                                    {"validation_fraction": 0.01}, {"stale_alpha": 0.05},
                                    {"stale_alpha": np.nextafter(1.0, 0)}])
def test_policy_accepts_boundary_settings(kwargs):
    policy = Policy(**kwargs)
    assert all(getattr(policy, key) == value for key, value in kwargs.items())


@pytest.mark.parametrize("kwargs, match", [({"validation_fraction": 0.0}, "validation_fraction"),
                                           ({"min_labels": True}, "min_labels"),
                                           ({"min_labels": 2.5}, "min_labels"),
                                           ({"stale_alpha": 0.0}, "stale_alpha must be in"),
                                           ({"stale_alpha": 1.0}, "stale_alpha must be in"),
                                           ({"stale_alpha": 1.5}, "stale_alpha must be in"),
                                           ({"gate": [1]}, "got list")])
def test_policy_rejects_more_bad_settings(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Policy(**kwargs)
