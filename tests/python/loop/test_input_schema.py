"""InputSchema restores stored rows to exactly what the user gave (issue 13, item 4): the
user's own frame or array is the oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopwise.loop._frames import InputSchema
from loopwise.loop.store import FeedbackStore


def _round_trip(tmp_path, X):
    schema = InputSchema.from_dict(InputSchema.from_data(X, "X").to_dict())
    with FeedbackStore(str(tmp_path / "store.db")) as store:
        ids = [f"r{i}" for i in range(len(X))]
        store.log_predictions(ids, schema.frame(X, "X"), np.zeros(len(X), dtype=int), model_version=1)
        frame = store.records().to_frame()
    frame = frame.set_index(frame["id"].astype(str)).loc[ids].reset_index(drop=True)
    return schema.restore(frame)


def test_realistic_frame_comes_back_as_given(tmp_path):
    from realistic_frame import make_frame

    X, _ = make_frame(300, seed=1)
    restored = _round_trip(tmp_path, X)
    pd.testing.assert_frame_equal(restored.reset_index(drop=True), X.reset_index(drop=True), check_exact=True)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("zone", [None, "Europe/Paris"])
def test_datetime_columns_keep_their_unit_and_zone(tmp_path, unit, zone):
    stamps = pd.Series(pd.to_datetime(["2021-03-28 01:30:00", None, "2024-02-29 23:59:59"])).astype(f"datetime64[{unit}]")
    if zone is not None:
        stamps = stamps.dt.tz_localize(zone)
    X = pd.DataFrame({"t": stamps, "v": [1.0, np.nan, 3.0]})
    restored = _round_trip(tmp_path, X)
    pd.testing.assert_frame_equal(restored.reset_index(drop=True), X, check_exact=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_arrays_come_back_as_arrays_of_their_dtype(tmp_path, dtype):
    X = (np.random.default_rng(0).normal(size=(50, 3)) * 100).astype(dtype)
    restored = _round_trip(tmp_path, X)
    assert type(restored) is np.ndarray and restored.dtype == X.dtype
    np.testing.assert_array_equal(restored, X)
