"""Data quality findings, chunked monitoring and the `loopwise drift` command."""

import json

import numpy as np
import pandas as pd
import pytest

from loopwise import drift
from loopwise.cli import main


def test_quality_findings_and_severities():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"num": rng.normal(size=200), "cat": rng.choice(["a", "b"], 200), "flat": rng.normal(size=200),
                        "kind": rng.normal(size=200), "gone": 1.0})
    cur = pd.DataFrame({"num": rng.normal(size=200), "cat": rng.choice(["a", "b", "NEW"], 200), "flat": 3.0,
                        "kind": ["t"] * 200, "extra": 0})
    cur.loc[:79, "num"] = np.nan          # 40% missing
    cur.loc[100:119, "num"] = 50.0        # 10% outside the reference range
    cur = pd.concat([cur, cur.iloc[:30]], ignore_index=True)  # duplicates
    report = drift.quality(ref, cur)
    f = report.findings.set_index(["check", "column"])
    assert f.loc[("schema", "gone"), "severity"] == "critical"
    assert f.loc[("schema", "extra"), "severity"] == "warning"
    assert f.loc[("type_change", "kind"), "severity"] == "critical"
    assert f.loc[("missing_rate", "num"), "severity"] == "critical"
    assert f.loc[("missing_rate", "num"), "value"] == pytest.approx(cur["num"].isna().mean())
    assert f.loc[("out_of_range", "num"), "value"] == pytest.approx(
        ((cur["num"] > ref["num"].max()) | (cur["num"] < ref["num"].min())).sum() / cur["num"].notna().sum())
    assert f.loc[("unseen_categories", "cat"), "value"] == pytest.approx((cur["cat"] == "NEW").mean())
    assert f.loc[("constant_column", "flat"), "severity"] == "critical"
    assert ("duplicate_rows", None) in f.index or report.findings["check"].eq("duplicate_rows").any()
    assert not report.ok and report.worst == "critical"
    json.dumps(report.to_dict())


def test_quality_clean_data_has_no_findings():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"a": rng.normal(size=100)})
    assert drift.quality(ref, ref.iloc[10:90]).findings.empty


def test_monitor_row_chunks_flag_the_shifted_period():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(2000, 2))
    cur = rng.normal(size=(3000, 2))
    cur[2000:, 1] += 1.5
    result = monitor = drift.monitor(ref, cur, chunk=1000, drift_share=0.5)
    assert list(result["drifted"]) == [False, False, True]
    assert list(result["n_rows"]) == [1000, 1000, 1000]
    assert result["drifted_columns"].iloc[2] == ["x1"]
    assert "x0_statistic" in monitor.columns


def test_monitor_by_day():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"v": rng.normal(size=600)})
    stamps = pd.date_range("2024-01-01", periods=900, freq="4min")  # 2.5 days
    cur = pd.DataFrame({"ts": stamps, "v": rng.normal(size=900)})
    cur.loc[cur["ts"] >= "2024-01-03", "v"] += 2.0
    result = drift.monitor(ref, cur, timestamp="ts", chunk="1D")
    assert list(result["start"]) == list(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]))
    assert list(result["drifted"]) == [False, False, True]
    with pytest.raises(ValueError, match="timestamp"):
        drift.monitor(ref, cur.drop(columns="ts"), chunk="1D")


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y"], 300)})
    same = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y"], 300)})
    moved = pd.DataFrame({"a": rng.normal(2.0, size=300), "b": rng.choice(["x", "y"], 300, p=[0.9, 0.1])})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    same.to_csv(tmp_path / "same.csv", index=False)
    moved.to_parquet(tmp_path / "moved.parquet")
    return tmp_path


def test_cli_exit_codes_and_outputs(files, capsys):
    d = files
    assert main(["drift", str(d / "ref.csv"), str(d / "same.csv"), "--fail-on-drift"]) == 0
    assert main(["drift", str(d / "ref.csv"), str(d / "moved.parquet")]) == 0
    code = main(["drift", str(d / "ref.csv"), str(d / "moved.parquet"), "--fail-on-drift",
                 "--json", str(d / "r.json"), "--html", str(d / "r.html")])
    assert code == 3
    assert json.loads((d / "r.json").read_text())["drifted"] is True
    assert (d / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert "DRIFT" in capsys.readouterr().out


def test_cli_bad_input_exits_2_with_message(files, capsys):
    d = files
    assert main(["drift", str(d / "ref.csv"), str(d / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    (d / "data.xlsx").write_text("x")
    assert main(["drift", str(d / "ref.csv"), str(d / "data.xlsx")]) == 2
    pd.DataFrame({"q": [1.0, 2.0]}).to_csv(d / "other.csv", index=False)
    assert main(["drift", str(d / "ref.csv"), str(d / "other.csv")]) == 2
    assert "missing columns" in capsys.readouterr().err
    assert main(["drift"]) == 2
    assert main([]) == 2
