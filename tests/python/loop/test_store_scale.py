"""The store's bounded reads agree with a full read of the history (the oracle)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopwise.loop._sqlite import open_database
from loopwise.loop.store import _MIGRATIONS, FeedbackStore


def _fill(store: FeedbackStore, seed: int = 0, n: int = 400) -> None:
    rng = np.random.default_rng(seed)
    ids = [f"r{i}" for i in range(n)]
    # Many equal prediction times: the newest-n read must break ties by logging order.
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 50, size=n), unit="s")
    versions = rng.integers(1, 3, size=n)
    X = rng.normal(size=(n, 3))
    for version in (1, 2):
        chosen = np.flatnonzero(versions == version)
        store.log_predictions([ids[i] for i in chosen], X[chosen], rng.integers(0, 2, size=len(chosen)),
                              model_version=version, timestamp=stamps[chosen])
    labelled = rng.permutation(n)[: int(n * 0.8)]
    label_times = pd.Timestamp("2024-02-01") + pd.to_timedelta(rng.integers(0, 30, size=len(labelled)), unit="s")
    store.add_feedback([ids[i] for i in labelled], rng.integers(0, 2, size=len(labelled)), source="weak",
                       timestamp=label_times)
    half = labelled[: len(labelled) // 2]
    store.add_feedback([ids[i] for i in half], rng.integers(0, 2, size=len(half)), timestamp="2024-02-02")
    # A replaced label of the same source and a human correction.
    store.add_feedback([ids[i] for i in half[:20]], rng.integers(0, 2, size=20), timestamp="2024-02-03")
    store.add_feedback([ids[i] for i in half[10:30]], rng.integers(0, 2, size=20), source="human",
                       timestamp="2024-02-04")
    store.add_feedback(["never-logged"], [1], unknown="ignore")


@pytest.fixture
def store(tmp_path):
    with FeedbackStore(tmp_path / "s.db") as handle:
        _fill(handle)
        yield handle


def _recount(store: FeedbackStore) -> dict:
    query = store._db.query
    by_source = dict(query("SELECT source, count(*) FROM labels GROUP BY source"))
    predictions = query("SELECT count(*) FROM predictions")[0][0]
    labeled = query("SELECT count(DISTINCT id) FROM labels")[0][0]
    return {"predictions": predictions, "labeled": labeled, "unlabeled": predictions - labeled,
            "labels": sum(by_source.values()), "by_source": by_source}


def test_running_counts_equal_a_recount(store):
    assert store.counts() == _recount(store)
    # Re-logging identical rows and re-sending labels changes no count wrongly.
    store.add_feedback(["r1", "r2"], [0, 1], source="human")
    assert store.counts() == _recount(store)


@pytest.mark.parametrize("window", [1, 7, 100, 319, 320, 1000])
@pytest.mark.parametrize("sources", [None, ["weak"], ["human", "ground_truth"]])
def test_newest_labelled_rows_equal_the_tail_of_the_full_read(store, window, sources):
    full = store._read("labeled", None, None, store._sources(sources))
    expected = full.iloc[-window:].reset_index(drop=True)
    got = store.labeled(window=window, sources=sources).to_frame()
    pd.testing.assert_frame_equal(got, expected)


def test_newest_labelled_rows_respect_since_and_until(store):
    since, until = "2024-01-01 00:00:10", "2024-01-01 00:00:40"
    full = store.labeled(since=since, until=until).to_frame()
    got = store.labeled(since=since, until=until, window=25).to_frame()
    pd.testing.assert_frame_equal(got, full.iloc[-25:].reset_index(drop=True))


def test_labeled_by_id_equals_a_filter_of_the_full_read(store):
    wanted = [f"r{i}" for i in range(0, 400, 3)] + ["unknown"]
    full = store.labeled().to_frame()
    expected = full[full["id"].isin(wanted)].reset_index(drop=True)
    pd.testing.assert_frame_equal(store.labeled_by_id(wanted).to_frame(), expected)


def _stream_oracle(store: FeedbackStore, version: int) -> pd.DataFrame:
    frame = store.labeled().to_frame()
    frame = frame[frame["model_version"] == version]
    return frame.sort_values(["label_timestamp", "id"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("limit", [7, 1000])
def test_label_stream_in_chunks_equals_the_sorted_full_read(store, limit):
    for version in (1, 2):
        oracle = _stream_oracle(store, version)
        times, labels, predictions, cursor, more = [], [], [], None, True
        while more:
            t, lab, pred, cursor, more = store.label_stream(version, cursor, limit=limit)
            times.extend(t.tolist()), labels.extend(lab.tolist()), predictions.extend(pred.tolist())
        assert times == oracle["label_timestamp"].astype("int64").tolist()
        assert labels == oracle["label"].tolist()
        assert predictions == oracle["prediction"].tolist()


def test_label_stream_reads_only_what_arrived_after_the_cursor(store):
    *_, cursor, more = store.label_stream(1)
    assert not more
    assert len(store.label_stream(1, cursor)[0]) == 0
    ids = store.predictions().query("model_version == 1")["id"].tolist()[:5]
    store.add_feedback(ids, [1, 0, 1, 0, 1], source="human", timestamp="2024-03-01")
    times, labels, _, _, _ = store.label_stream(1, cursor)
    # Equal arrival times: the stream orders them by id.
    assert labels.tolist() == [label for _, label in sorted(zip(ids, [1, 0, 1, 0, 1]))]
    assert set(times.tolist()) == {pd.Timestamp("2024-03-01", tz="UTC").value}


def test_version_one_store_is_migrated_with_its_counts(tmp_path):
    path = tmp_path / "old.db"
    with FeedbackStore(path) as store:
        _fill(store, seed=3)
        expected = store.counts()
    # Roll the file back to schema version 1 (no counters, no new indexes), as an old loopwise left it.
    database = open_database(path, kind="feedback_store", migrations=_MIGRATIONS)
    with database.write() as connection:
        for name in ("labels_arrival", "labels_pts", "predictions_version"):
            connection.execute(f"DROP INDEX {name}")
        connection.execute("DROP TABLE counters")
        connection.execute("UPDATE schema_version SET version = 1")
    database.close()
    with FeedbackStore(path) as store:
        assert store._db.query("SELECT version FROM schema_version")[0][0] == 2
        assert store.counts() == expected == _recount(store)


def test_process_durability_sets_normal_sync_and_flushes(tmp_path):
    with FeedbackStore(tmp_path / "p.db", durability="process") as store:
        assert store._db.connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        store.log_predictions(["a"], [[1.0]], [0], model_version=1)
        store.flush()
    with FeedbackStore(tmp_path / "p.db") as store:
        assert store._db.connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL by default
        assert store.counts()["predictions"] == 1
    with pytest.raises(ValueError, match="durability"):
        FeedbackStore(tmp_path / "q.db", durability="fast")


def test_numeric_fast_path_logs_what_the_general_path_logs(tmp_path):
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=5), "b": rng.integers(0, 9, size=5), "c": rng.random(5) > 0.5})
    with FeedbackStore(tmp_path / "f.db") as fast, FeedbackStore(tmp_path / "g.db") as general:
        fast.log_predictions(list("abcde"), X, [0, 1, 0, 1, 1], model_version=1)
        # An object column forces the general, per-column path on the same values.
        general.log_predictions(list("abcde"), X.astype({"a": "float64"}).assign(
            b=X["b"].astype("Int64")), [0, 1, 0, 1, 1], model_version=1)
        pd.testing.assert_frame_equal(fast.records().X, general.records().X)
        # Columns in another order land in the stored order.
        fast.log_predictions(list("fgh"), X[["c", "a", "b"]].iloc[:3], [1, 1, 0], model_version=1)
        back = fast.records().X.iloc[5:].reset_index(drop=True)
        pd.testing.assert_frame_equal(back, X.iloc[:3].reset_index(drop=True))
