"""loopwise.dask profiles: partition profiles merged in order give loopwise.drift's count
statistics exactly; the sort-based KS gives scipy's D and p-value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from loopwise import drift
from loopwise.drift import statistics as st


def test_dask_profiles_and_exact_ks(dask_ready):
    import dask.dataframe as dd

    from loopwise.dask import ks, profile
    from loopwise.profiles import compare

    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=3000).round(2), "c": rng.choice(["a", "b", "c"], 3000)})
    cur = pd.DataFrame({"x": rng.normal(0.1, size=2000).round(2), "c": rng.choice(["a", "b", "d"], 2000)})
    edges = {"x": st.quantile_edges(st.sorted_finite(ref["x"].to_numpy()))}
    reference = profile(dd.from_pandas(ref, npartitions=3), edges=edges)
    current = profile(dd.from_pandas(cur, npartitions=2), reference=reference)
    table = compare(reference, current, tests="psi").table.set_index("column")
    assert table.loc["x", "statistic"] == drift.psi(ref["x"], cur["x"]).statistic
    assert table.loc["c", "statistic"] == drift.psi(ref["c"], cur["c"]).statistic
    result = ks(dd.from_pandas(ref, npartitions=3), dd.from_pandas(cur, npartitions=2), ["x"])["x"]
    expected = scipy.stats.ks_2samp(ref["x"], cur["x"])
    assert result.statistic == expected.statistic
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    sketched = profile(dd.from_pandas(ref, npartitions=3))
    assert sketched.column("x").counts.sum() == len(ref)
