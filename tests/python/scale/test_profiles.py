"""Engine-free profiles: merging partition profiles gives the whole table's numbers, and
count-based drift statistics from profiles equal loopwise.drift's frame functions exactly
(scipy is the oracle for the exact KS and for the moments' numpy references)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from scale_extras import require

require("datasketches", "spark")

from loopwise import drift  # noqa: E402
from loopwise.drift import statistics as st  # noqa: E402
from loopwise.profiles import Profile, build, compare, ks_combine, ks_partial, merge  # noqa: E402


def _tables(seed: int = 0, n: int = 6000):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": rng.normal(size=n), "y": rng.exponential(size=n).round(1),
                        "c": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])})
    cur = pd.DataFrame({"x": rng.normal(0.2, 1.1, size=n // 2), "y": rng.exponential(1.2, size=n // 2).round(1),
                        "c": rng.choice(["a", "b", "c", "e"], n // 2, p=[0.3, 0.3, 0.3, 0.1])})
    ref.loc[rng.random(n) < 0.05, "x"] = np.nan
    ref.loc[rng.random(n) < 0.05, "c"] = None
    return ref, cur


def _in_parts(frame: pd.DataFrame, cuts, **options) -> Profile:
    bounds = [0, *cuts, len(frame)]
    return merge([build(frame.iloc[a:b], **options) for a, b in zip(bounds[:-1], bounds[1:])])


def _exact_edges(frame: pd.DataFrame) -> dict:
    return {c: st.quantile_edges(st.sorted_finite(frame[c].to_numpy(dtype=float))) for c in ("x", "y")}


def test_merged_partitions_equal_the_whole_table():
    ref, _ = _tables()
    edges = _exact_edges(ref)
    whole = build(ref, edges=edges)
    merged = _in_parts(ref, [1, 1000, 4321], edges=edges)
    for name in ("x", "y"):
        a, b = whole.column(name), merged.column(name)
        values = ref[name].dropna().to_numpy()
        assert b.n_rows == len(ref) and b.n_missing == ref[name].isna().sum()
        assert b.moments.n == values.size and b.moments.minimum == values.min() and b.moments.maximum == values.max()
        assert b.moments.mean == pytest.approx(values.mean(), rel=1e-13)
        assert b.moments.variance(ddof=1) == pytest.approx(np.var(values, ddof=1), rel=1e-12)
        assert np.array_equal(a.counts, b.counts) and b.counts.sum() == values.size
        assert b.kll.n == values.size
    counts = ref["c"].dropna().value_counts(sort=False)
    assert merged.column("c").categories == list(counts.index)
    assert merged.column("c").counts.tolist() == counts.tolist()


@pytest.mark.parametrize("test", ["psi", "jensen_shannon", "hellinger"])
def test_count_statistics_equal_the_frame_functions_exactly(test):
    ref, cur = _tables(1)
    with pytest.raises(ValueError, match="bin edges"):  # each part's own quantiles: not mergeable
        _in_parts(ref, [2000, 2001, 5000])
    reference = _in_parts(ref, [2000, 2001, 5000], edges=_exact_edges(ref))
    current = _in_parts(cur, [700, 1500], reference=reference)
    report = compare(reference, current, tests=test, correction=None)
    frame_function = getattr(drift, test)
    for name in ("x", "y", "c"):
        expected = frame_function(ref[name].dropna(), cur[name].dropna()).statistic
        assert report.table.set_index("column").loc[name, "statistic"] == expected  # exactly


@pytest.mark.parametrize("test", ["chi2", "g_test"])
def test_contingency_tests_equal_the_frame_functions_exactly(test):
    ref, cur = _tables(2)
    reference = _in_parts(ref, [3000], edges=None)
    current = _in_parts(cur, [10, 2000], reference=reference)
    row = compare(reference, current, tests={"c": test}, correction=None).table.set_index("column").loc["c"]
    expected = getattr(drift, test)(ref["c"].dropna(), cur["c"].dropna())
    assert row["statistic"] == expected.statistic and row["p_value"] == expected.p_value
    table = pd.crosstab(np.r_[np.zeros(ref["c"].notna().sum()), np.ones(len(cur))],
                        np.r_[ref["c"].dropna().to_numpy(), cur["c"].to_numpy()])
    if test == "chi2":  # and scipy's, the independent oracle
        assert row["statistic"] == pytest.approx(scipy.stats.chi2_contingency(table).statistic, rel=1e-12)


def test_bytes_round_trip_and_version():
    ref, _ = _tables()
    profile = build(ref)
    data = profile.to_bytes()
    back = Profile.from_bytes(data)
    assert back.to_bytes() == data and back.columns == profile.columns
    assert np.array_equal(back.column("x").counts, profile.column("x").counts)
    assert back.column("x").kll.get_quantile(0.5) == profile.column("x").kll.get_quantile(0.5)
    assert len(data) < 20_000
    future = data[:4] + (99).to_bytes(2, "little") + data[6:]
    with pytest.raises(ValueError, match="version 99"):
        Profile.from_bytes(future)
    with pytest.raises(ValueError, match="not a loopwise profile"):
        Profile.from_bytes(b"PK\x03\x04 not a profile")


def test_sketch_ks_reports_a_bound_and_no_p_value():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=200_000), rng.normal(size=200_000)
    reference = build(pd.DataFrame({"x": a}))
    same = compare(reference, build(pd.DataFrame({"x": b}), reference=reference), tests="ks_sketch")
    row = same.table.iloc[0]
    d_true = scipy.stats.ks_2samp(a, b).statistic
    bound = same.statistics.iloc[0]["bound"]
    assert np.isnan(row["p_value"]) and not row["drifted"]
    assert 0 < bound < 0.05 and abs(row["statistic"] - d_true) <= bound
    shifted = b + 0.5
    moved = compare(reference, build(pd.DataFrame({"x": shifted}), reference=reference), tests="ks_sketch")
    assert moved.table.iloc[0]["drifted"]
    assert abs(moved.table.iloc[0]["statistic"] - scipy.stats.ks_2samp(a, shifted).statistic) <= bound


def test_sketch_wasserstein_is_close_to_the_exact_one_and_the_default():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=100_000), rng.normal(0.3, size=100_000)
    reference = build(pd.DataFrame({"x": a}))
    report = drift.compare(reference, build(pd.DataFrame({"x": b}), reference=reference))  # via loopwise.drift
    row = report.table.iloc[0]
    assert row["test"] == "wasserstein" and row["drifted"]
    assert row["statistic"] == pytest.approx(scipy.stats.wasserstein_distance(a, b) / np.std(a), abs=0.03)


@pytest.mark.parametrize("sizes", [(300, 200), (40_000, 25_000)])
def test_exact_ks_from_value_ranges_equals_scipy(sizes):
    rng = np.random.default_rng(5)
    a = rng.normal(size=sizes[0]).round(1)  # ties inside and across the samples
    b = rng.normal(0.05, size=sizes[1]).round(1)
    values, ia = np.unique(a, return_counts=True)
    grouped = pd.DataFrame({"value": np.union1d(a, b)})
    grouped["count_a"] = pd.Series(ia, index=values).reindex(grouped["value"], fill_value=0).to_numpy()
    vb, ib = np.unique(b, return_counts=True)
    grouped["count_b"] = pd.Series(ib, index=vb).reindex(grouped["value"], fill_value=0).to_numpy()
    cuts = np.sort(rng.choice(np.arange(1, len(grouped)), 4, replace=False))
    bounds = [0, *cuts.tolist(), len(grouped)]
    # Value ranges in any order, rows shuffled within each range.
    ranges = [grouped.iloc[lo:hi].sample(frac=1, random_state=0) for lo, hi in zip(bounds[:-1], bounds[1:])]
    expected = scipy.stats.ks_2samp(a, b)
    result = ks_combine([ks_partial(r, a.size, b.size) for r in reversed(ranges)], a.size, b.size)
    assert result.statistic == expected.statistic
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert result.method == ("exact" if max(sizes) <= 10_000 else "asymp")
    with pytest.raises(ValueError, match="do not add up"):
        ks_combine([ks_partial(r, a.size, b.size) for r in ranges[1:]], a.size, b.size)


def test_cardinality_cap_keeps_heavy_hitters_and_refuses_p_values():
    rng = np.random.default_rng(6)
    ids = np.r_[rng.choice(["x", "y"], 5000), [f"id{i}" for i in range(3000)]]
    reference = _in_parts(pd.DataFrame({"c": ids}), [4000], max_categories=100)
    column = reference.column("c")
    assert column.truncated and column.counts is None
    current = build(pd.DataFrame({"c": ids[::-1]}), reference=reference)
    assert current.column("c").truncated
    row = compare(reference, current).table.iloc[0]
    assert row["test"] == "jensen_shannon" and "approximate" in row["method"] and not row["drifted"]
    with pytest.raises(ValueError, match="cardinality cap"):
        compare(reference, current, tests={"c": "chi2"})


def test_bad_inputs_name_the_problem():
    frame = pd.DataFrame({"x": [1.0, np.inf]})
    with pytest.raises(ValueError, match="'x' has infinite values"):
        build(frame)
    with pytest.raises(ValueError, match="strictly increasing"):
        build(pd.DataFrame({"x": [1.0]}), edges={"x": [2.0, 1.0]})
    a = build(pd.DataFrame({"x": [1.0, 2.0]}), edges={"x": [1.5]})
    b = build(pd.DataFrame({"x": [1.0, 2.0]}), edges={"x": [1.7]})
    with pytest.raises(ValueError, match="bin edges"):
        merge([a, b])
    with pytest.raises(ValueError, match="reference's edges"):
        compare(a, b)
    with pytest.raises(TypeError, match="both be tables or both be loopwise Profiles"):
        drift.compare(a, pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match="needs exact_ks"):
        compare(a, build(pd.DataFrame({"x": [3.0]}), reference=a), tests={"x": "ks"})


def test_a_loop_monitors_a_table_it_never_loads(tmp_path):
    from sklearn.linear_model import LogisticRegression

    from loopwise.loop import FeedbackLoop

    rng = np.random.default_rng(7)
    X = pd.DataFrame({"x": rng.normal(size=200), "y": rng.normal(size=200)})
    model = LogisticRegression().fit(X, (X["x"] > 0).astype(int))
    loop = FeedbackLoop(str(tmp_path / "loop"), model=model, durability="process")  # no reference table
    big = pd.DataFrame({"x": rng.normal(size=50_000), "y": rng.normal(size=50_000)})
    profile = build(big)  # KLL compaction is randomised: the same object's bytes are compared
    loop.set_reference_profile(profile)
    reopened = FeedbackLoop(str(tmp_path / "loop"), durability="process")
    stored = reopened.reference_profile()
    assert stored.to_bytes() == profile.to_bytes()
    today = pd.DataFrame({"x": rng.normal(size=20_000), "y": rng.normal(1.0, size=20_000)})
    report = reopened.monitor_profile(build(today, reference=stored))
    assert report.drifted_columns == ["y"]
    assert not os.path.exists(tmp_path / "loop" / "reference.parquet")
    assert len(reopened.audit.entries(kind="reference profile")) == 1
