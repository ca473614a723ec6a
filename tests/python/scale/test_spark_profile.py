"""loopwise.spark profiles on local[2]: merged partition profiles give loopwise.drift's
count statistics exactly, and the sort-based KS gives scipy's D and p-value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from loopwise import drift
from loopwise.drift import statistics as st


def _frames(seed: int = 0, n: int = 4000):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": rng.normal(size=n).round(2), "n": rng.integers(0, 50, n).astype(np.int64),
                        "c": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])})
    cur = pd.DataFrame({"x": rng.normal(0.1, 1.2, size=n // 2).round(2), "n": rng.integers(0, 55, n // 2),
                        "c": rng.choice(["a", "b", "e"], n // 2)})
    ref.loc[rng.random(n) < 0.05, "x"] = np.nan
    return ref, cur


def test_spark_profiles_give_the_frame_statistics_exactly(spark):
    from loopwise.profiles import compare
    from loopwise.spark import profile

    ref, cur = _frames()
    edges = {c: st.quantile_edges(st.sorted_finite(ref[c].to_numpy(dtype=float))) for c in ("x", "n")}
    ref_df = spark.createDataFrame(ref).repartition(3)
    reference = profile(ref_df, edges=edges)
    current = profile(spark.createDataFrame(cur), reference=reference)
    assert reference.n_rows == len(ref) and reference.column("x").n_missing == ref["x"].isna().sum()
    assert reference.column("x").moments.mean == pytest.approx(ref["x"].mean(), rel=1e-12)
    assert reference.column("n").moments.variance() == pytest.approx(np.var(ref["n"]), rel=1e-12)
    for test in ("psi", "jensen_shannon"):
        table = compare(reference, current, tests=test).table.set_index("column")
        for c in ("x", "n", "c"):
            assert table.loc[c, "statistic"] == getattr(drift, test)(ref[c].dropna(), cur[c]).statistic, (test, c)
    row = compare(reference, current, tests={"c": "chi2"}).table.set_index("column").loc["c"]
    expected = drift.chi2(ref["c"], cur["c"])
    assert row["statistic"] == expected.statistic and row["p_value"] == expected.p_value


def test_sketch_edges_two_passes_count_every_value(spark):
    from loopwise.spark import profile

    ref, _ = _frames(1)
    reference = profile(spark.createDataFrame(ref))
    column = reference.column("x")
    assert column.edges.size == 9 and column.counts.sum() == ref["x"].notna().sum()
    # The edges are KLL estimates of the deciles: every bin holds about a tenth of the values.
    assert np.all(np.abs(column.counts / column.counts.sum() - 0.1) < 0.04)
    data = reference.to_bytes()
    assert len(data) < 20_000


def test_spark_exact_ks_equals_scipy(spark):
    from loopwise.spark import compare

    ref, cur = _frames(2)
    report = compare(spark.createDataFrame(ref), spark.createDataFrame(cur), exact=True, tests="ks")
    table = report.table.set_index("column")
    assert table.loc["c", "test"] != "ks"  # a categorical column keeps its own test
    for c in ("x", "n"):
        expected = scipy.stats.ks_2samp(ref[c].dropna(), cur[c])
        assert table.loc[c, "test"] == "ks" and table.loc[c, "statistic"] == expected.statistic
        assert table.loc[c, "p_value"] == pytest.approx(expected.pvalue, rel=1e-9)


def test_spark_bad_input(spark):
    from loopwise.spark import profile

    with pytest.raises(TypeError, match="pyspark.sql.DataFrame"):
        profile(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match="no columns"):
        profile(spark.createDataFrame(pd.DataFrame({"x": [1.0]})), ["y"])
