"""compare(), Reference and DriftReport."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loopwise import drift


def _frames(n=400, seed=0, shift=1.0):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y", "z"], n)})
    cur = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(shift, size=n),
                        "c": rng.choice(["x", "y", "z"], n, p=[0.6, 0.2, 0.2])})
    return ref, cur


def test_compare_rows_match_scipy_and_verdict():
    ref, cur = _frames()
    report = drift.compare(ref, cur, correction=None)
    table = report.table.set_index("column")
    assert list(table["test"]) == ["ks", "ks", "chi2"]
    for col in ("a", "b"):
        theirs = stats.ks_2samp(ref[col], cur[col])
        assert table.loc[col, "p_value"] == pytest.approx(theirs.pvalue, rel=1e-10)
    counts = pd.crosstab(pd.concat([ref["c"], cur["c"]]).to_numpy(), np.r_[np.zeros(400), np.ones(400)]).to_numpy().T
    assert table.loc["c", "p_value"] == pytest.approx(stats.chi2_contingency(counts).pvalue, rel=1e-10)
    assert table.loc["b", "drifted"] and table.loc["c", "drifted"] and not table.loc["a", "drifted"]
    assert report.drifted and report.share_drifted == pytest.approx(2 / 3)
    assert set(report.drifted_columns) == {"b", "c"}


def test_auto_rule_uses_effect_size_for_large_samples():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(50_000, 1))
    cur = rng.normal(0.03, size=(50_000, 1))  # tiny shift: KS would call it significant
    assert drift.ks(ref[:, 0], cur[:, 0]).p_value < 1e-5
    row = drift.compare(ref, cur).table.iloc[0]
    assert row["test"] == "wasserstein" and row["threshold"] == 0.1 and not row["drifted"]
    assert row["statistic"] == pytest.approx(stats.wasserstein_distance(ref[:, 0], cur[:, 0]) / ref.std(), rel=1e-9)
    big = drift.compare(ref, cur + 0.5).table.iloc[0]
    assert big["drifted"]


def test_corrections_match_statsmodels():
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    rng = np.random.default_rng(5)
    ref = rng.normal(size=(200, 12))
    cur = rng.normal(size=(200, 12)) + np.linspace(0, 0.4, 12)
    raw = drift.compare(ref, cur, correction=None).table["p_value"].to_numpy()
    for ours, theirs in (("fdr", "fdr_bh"), ("bonferroni", "bonferroni")):
        table = drift.compare(ref, cur, correction=ours).table
        expected = multipletests(raw, alpha=0.05, method=theirs)
        np.testing.assert_allclose(table["p_value_adjusted"], expected[1], rtol=1e-12)
        assert list(table["drifted"]) == list(expected[0])


def test_explicit_tests_and_thresholds():
    ref, cur = _frames()
    report = drift.compare(ref, cur, tests={"a": "cvm", "b": "psi", "c": "g_test"}, thresholds={"psi": 0.05})
    table = report.table.set_index("column")
    assert list(table["test"]) == ["cvm", "psi", "g_test"]
    assert table.loc["a", "p_value"] == pytest.approx(stats.cramervonmises_2samp(ref["a"], cur["a"]).pvalue, rel=1e-10)
    assert table.loc["b", "threshold"] == 0.05
    assert table.loc["b", "statistic"] == pytest.approx(drift.psi(ref["b"], cur["b"]).statistic, rel=1e-12)
    with pytest.raises(ValueError, match="does not apply"):
        drift.compare(ref, cur, tests={"c": "ks"})


def test_missing_values_reported_and_excluded():
    ref, cur = _frames(shift=0.0)
    cur.loc[:199, "a"] = np.nan
    table = drift.compare(ref, cur).table.set_index("column")
    assert table.loc["a", "missing_current"] == 0.5 and table.loc["a", "missing_drifted"]
    assert table.loc["a", "n_current"] == 200
    expected = stats.ks_2samp(ref["a"], cur["a"].dropna()).pvalue
    assert table.loc["a", "p_value"] == pytest.approx(expected, rel=1e-10)


def test_all_nan_column_is_a_finding_not_a_crash():
    ref, cur = _frames(shift=0.0)
    cur["a"] = np.nan
    table = drift.compare(ref, cur).table.set_index("column")
    assert table.loc["a", "drifted"] and table.loc["a", "missing_current"] == 1.0


@pytest.mark.parametrize("kind", ["polars", "pyarrow", "numpy"])
def test_table_types_agree_with_pandas(kind):
    ref, cur = _frames()
    expected = drift.compare(ref, cur).table
    if kind == "polars":
        pl = pytest.importorskip("polars")
        got = drift.compare(pl.from_pandas(ref), pl.from_pandas(cur)).table
    elif kind == "pyarrow":
        pa = pytest.importorskip("pyarrow")
        got = drift.compare(pa.Table.from_pandas(ref), pa.Table.from_pandas(cur)).table
    else:
        got = drift.compare(ref[["a", "b"]].to_numpy(), cur[["a", "b"]].to_numpy()).table
        expected = drift.compare(ref[["a", "b"]], cur[["a", "b"]]).table
        got["column"] = expected["column"]
    pd.testing.assert_frame_equal(got, expected)


def test_schema_mismatch_lists_columns():
    ref, cur = _frames()
    with pytest.raises(ValueError, match=r"missing columns \['b'\].*unexpected columns \['q'\]"):
        drift.compare(ref, cur.rename(columns={"b": "q"}))
    bad = cur.copy()
    bad["a"] = "text"
    with pytest.raises(ValueError, match="non-numeric values in numeric reference columns.*'?a"):
        drift.compare(ref, bad)


@pytest.mark.parametrize("mutate,match", [
    (lambda c: c.iloc[:0], "current is empty"),
    (lambda c: c.assign(a=np.where(np.arange(len(c)) == 3, np.inf, c["a"])), "infinite values in columns \\['a'\\]"),
])
def test_bad_current(mutate, match):
    ref, cur = _frames()
    with pytest.raises(ValueError, match=match):
        drift.compare(ref, mutate(cur))


def test_bad_arguments():
    ref, cur = _frames()
    with pytest.raises(ValueError, match="correction"):
        drift.compare(ref, cur, correction="holm")
    with pytest.raises(ValueError, match="alpha"):
        drift.compare(ref, cur, alpha=1.5)
    with pytest.raises(ValueError, match="categorical names columns"):
        drift.compare(ref, cur, categorical=["nope"])
    with pytest.raises(ValueError, match="reference is empty"):
        drift.compare(ref.iloc[:0], cur)


def test_thread_count_does_not_change_results():
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(size=(3000, 8)), rng.normal(0.05, size=(2500, 8))
    one = drift.compare(ref, cur, n_jobs=1, tests="ks")
    two = drift.compare(ref, cur, n_jobs=2, tests="ks")
    pd.testing.assert_frame_equal(one.table, two.table, check_exact=True)
    pd.testing.assert_frame_equal(one.statistics, two.statistics, check_exact=True)


def test_reference_save_load_roundtrip(tmp_path):
    ref, cur = _frames()
    profile = drift.Reference.fit(ref)
    path = tmp_path / "profile.npz"
    profile.save(path)
    loaded = drift.Reference.load(path)
    pd.testing.assert_frame_equal(loaded.compare(cur).table, drift.compare(ref, cur).table)
    (tmp_path / "junk.npz").write_bytes(b"not a profile")
    with pytest.raises(ValueError, match="not a loopwise reference profile"):
        drift.Reference.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a loopwise reference profile"):
        drift.Reference.load(tmp_path / "other.npz")


def test_report_serialises(tmp_path):
    ref, cur = _frames()
    ref.loc[0, "a"] = np.nan
    report = drift.compare(ref, cur)
    data = json.loads(report.to_json(tmp_path / "r.json"))
    assert data["drifted"] is True and len(data["columns"]) == 3
    assert data["settings"]["js_base"] == pytest.approx(np.e) and "auto_rule" in data["settings"]
    html = report.to_html(tmp_path / "r.html")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 3
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    html_repr = report._repr_html_()  # the notebook view: the plain-words summary
    assert "What happened" in html_repr and all(c in html_repr for c in report.drifted_columns)


def test_single_test_name_applies_where_it_fits():
    ref, cur = _frames()
    table = drift.compare(ref, cur, tests="anderson").table.set_index("column")
    assert list(table["test"]) == ["anderson", "anderson", "chi2"]


@pytest.mark.parametrize("method", ["mmd", "classifier"])
def test_multivariate_verdict(method):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(600, 1))
    ref = pd.DataFrame(np.hstack([base, base + 0.1 * rng.normal(size=(600, 1))]), columns=["u", "v"])
    cur = pd.DataFrame(np.hstack([base, -base + 0.1 * rng.normal(size=(600, 1))]), columns=["u", "v"])
    report = drift.compare(ref, cur, multivariate=method, random_state=0, n_jobs=1)
    assert report.settings["multivariate"]["p_value"] < 0.05 and report.drifted
    same = drift.compare(ref.iloc[:300], ref.iloc[300:], multivariate=method, random_state=0, n_jobs=1)
    assert not same.drifted
