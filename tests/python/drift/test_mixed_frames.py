"""Mixed frames (str, category, bool, datetime, NaN, int, float) through every public drift
function that takes a table: each accepts it or raises a message naming the column and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopwise import drift
from loopwise.drift.multivariate import ReconstructionDrift

CITIES = np.array(["Paris", "Lyon", "Nice", "Lille", "Brest"])
PLANS = ["free", "pro", "team"]


def mixed_frame(seed: int, n: int, *, signup_shift_days: float = 0.0) -> pd.DataFrame:
    """A realistic table: every dtype a user's frame brings, with missing values."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    days = rng.integers(0, 365, n) + signup_shift_days
    income = rng.lognormal(10, 0.5, n)
    income[rng.random(n) < 0.1] = np.nan
    city = CITIES[rng.choice(5, n, p=[0.4, 0.25, 0.15, 0.1, 0.1])].astype(object)
    city[rng.random(n) < 0.05] = None
    return pd.DataFrame({
        "city": city,                                                       # object strings with None
        "plan": pd.Categorical(rng.choice(PLANS, n, p=[0.6, 0.3, 0.1]), categories=PLANS),
        "active": rng.random(n) < 0.7,                                      # bool
        "signup": start + pd.to_timedelta(days, unit="D"),                  # tz-naive datetime
        "last_login": (start + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s")).tz_localize("UTC").tz_convert("Europe/Paris"),
        "income": income,                                                   # float with NaN
        "age": rng.integers(18, 80, n),                                     # int
        "score": rng.normal(size=n),                                        # float
        "zip": [f"{z:05d}" for z in rng.zipf(1.3, n) % 5000],               # high-cardinality str
    })


def test_compare_accepts_a_mixed_frame_and_types_each_column():
    report = drift.compare(mixed_frame(0, 4000), mixed_frame(1, 2000))
    table = report.table.set_index("column")
    kinds = table["kind"].to_dict()
    assert kinds == {"city": "categorical", "plan": "categorical", "active": "categorical", "signup": "datetime",
                     "last_login": "datetime", "income": "numeric", "age": "numeric", "score": "numeric",
                     "zip": "categorical"}
    assert table.loc["signup", "test"] == "wasserstein" and table.loc["last_login", "test"] == "wasserstein"
    assert "datetime compared as time" in table.loc["signup", "method"]
    assert table.loc["zip", "test"] == "high_cardinality"
    assert table.loc["city", "test"] == "jensen_shannon"
    assert not report.drifted and report.drifted_columns == []
    assert table.loc["city", "missing_current"] > 0 and table.loc["income", "missing_reference"] > 0
    report.to_json()
    assert report.to_html().count("<svg") == len(table)


def test_small_mixed_frame_uses_evidently_small_sample_tests():
    table = drift.compare(mixed_frame(0, 600), mixed_frame(1, 300)).table.set_index("column")
    assert table.loc["active", "test"] == "z"      # two values
    assert table.loc["city", "test"] == "chi2"     # more than two
    assert table.loc["signup", "test"] == "ks"     # time, never categories
    assert table.loc["signup", "p_value"] > 0.001


def test_reference_profile_round_trip_keeps_time_columns(tmp_path):
    ref = drift.Reference.fit(mixed_frame(0, 1500))
    assert "2 datetime/timedelta" in repr(ref)
    ref.save(tmp_path / "ref.npz")
    loaded = drift.Reference.load(tmp_path / "ref.npz")
    current = mixed_frame(1, 800)
    a = ref.compare(current).table
    b = loaded.compare(current).table
    pd.testing.assert_frame_equal(a, b)


def test_monitor_quality_and_attribute_accept_a_mixed_frame():
    ref, cur = mixed_frame(0, 2000), mixed_frame(1, 2000, signup_shift_days=120)
    chunks = drift.monitor(ref, cur, chunk=1000)
    assert chunks["drifted_columns"].map(lambda c: "signup" in c).all()
    by_time = drift.monitor(ref, cur, timestamp="signup", chunk="90D")
    assert len(by_time) >= 2 and "signup_statistic" not in by_time.columns
    findings = drift.quality(ref, cur).findings
    assert not ((findings["column"].isin(["signup", "last_login"])) & (findings["check"] == "unseen_categories")).any()
    ranking = drift.attribute(ref, cur, random_state=0, max_rows=500)
    assert ranking["feature"].iloc[0] == "signup"


@pytest.mark.parametrize("call", [
    lambda r, c: drift.mmd_test(r, c, n_permutations=10, random_state=0),
    lambda r, c: drift.classifier_test(r, c, random_state=0),
    lambda r, c: ReconstructionDrift(chunk_size=100).fit(r),
], ids=["mmd_test", "classifier_test", "ReconstructionDrift"])
def test_numeric_only_tests_name_the_column_and_the_fix(call):
    with pytest.raises(ValueError, match=r"\['city', 'plan', 'zip'\].*encode"):
        call(mixed_frame(0, 400), mixed_frame(1, 400))


def test_numeric_only_tests_take_datetime_columns_as_seconds():
    ref = mixed_frame(0, 300)[["signup", "score"]]
    cur = mixed_frame(1, 300, signup_shift_days=200)[["signup", "score"]]
    assert drift.classifier_test(ref, cur, random_state=0).auc > 0.8
    assert drift.mmd_test(ref, cur, n_permutations=50, random_state=0).p_value < 0.05


def test_compare_multivariate_verdict_on_a_mixed_frame():
    report = drift.compare(mixed_frame(0, 500), mixed_frame(1, 500), multivariate="mmd", random_state=0)
    assert 0 <= report.settings["multivariate"]["p_value"] <= 1


def test_time_zone_mismatch_names_the_column_and_the_fix():
    ref = mixed_frame(0, 300)
    cur = mixed_frame(1, 300)
    cur["last_login"] = cur["last_login"].dt.tz_convert(None)
    with pytest.raises(ValueError, match=r"'last_login' is tz-aware in reference but tz-naive in current.*tz_localize"):
        drift.compare(ref, cur)


def test_datetime_as_text_names_the_column_and_the_fix():
    ref = mixed_frame(0, 300)
    cur = mixed_frame(1, 300)
    cur["signup"] = cur["signup"].astype(str)
    with pytest.raises(ValueError, match=r"'signup'.*pd\.to_datetime"):
        drift.compare(ref, cur)


def test_numeric_column_turned_text_names_the_column_and_the_fix():
    ref = mixed_frame(0, 300)
    cur = mixed_frame(1, 300)
    cur["age"] = cur["age"].astype(str) + " years"
    with pytest.raises(ValueError, match=r"age.*pd\.to_numeric"):
        drift.compare(ref, cur)


def test_nan_share_drift_is_reported_per_column():
    ref, cur = mixed_frame(0, 1000), mixed_frame(1, 1000)
    cur.loc[cur.index[:300], "income"] = np.nan
    table = drift.compare(ref, cur).table.set_index("column")
    assert table.loc["income", "missing_drifted"] and not table.loc["score", "missing_drifted"]


def test_time_zones_are_compared_in_utc():
    ref = mixed_frame(0, 800)[["last_login"]]
    same_instants = ref.copy()
    same_instants["last_login"] = ref["last_login"].dt.tz_convert("America/New_York")
    table = drift.compare(ref, same_instants).table
    assert table.loc[0, "statistic"] == 0.0


def test_z_test_requested_on_a_many_valued_column_names_it():
    ref, cur = mixed_frame(0, 300), mixed_frame(1, 300)
    with pytest.raises(ValueError, match=r"'city' has 5.*'chi2'"):
        drift.compare(ref, cur, tests={"city": "z"})
    table = drift.compare(ref, cur, tests="z").table.set_index("column")  # applies where it fits
    assert table.loc["active", "test"] == "z" and table.loc["city", "test"] == "chi2"
