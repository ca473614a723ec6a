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
