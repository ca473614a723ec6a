"""FeedbackStore: round trips of every type, re-logging, label precedence, filters, bad inputs.

Every test taking ``store`` or ``store_location`` runs on both backends (SQLite file and a
PostgreSQL server, see conftest.py); the few about the SQLite file itself use ``sqlite_store``.

Expected values come from the inputs themselves (pandas frames built in the test, numpy
orderings), never from the store's own earlier output.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from loopwise.loop import FeedbackStore, Records


@pytest.fixture()
def store(store_location):
    with FeedbackStore(store_location()) as s:
        yield s


@pytest.fixture()
def sqlite_store(tmp_path):
    with FeedbackStore(tmp_path / "store.db") as s:
        yield s


def _mixed_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "f": rng.normal(size=n),
        "i": rng.integers(-5, 5, size=n),
        "b": rng.random(n) > 0.5,
        "s": rng.choice(["red", "green", "blue"], size=n).astype(object),
        "c": pd.Categorical(rng.choice(["lo", "hi"], size=n), categories=["lo", "hi"]),
        "t": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"),
    })


def test_round_trip_of_every_feature_type(store):
    X = _mixed_frame(50)
    X.loc[3, "f"] = np.nan
    X.loc[4, "s"] = None
    ids = [f"id{k}" for k in range(50)]
    proba = np.random.default_rng(1).dirichlet([1, 1, 1], size=50)
    predictions = np.array(["a", "b", "c"] * 16 + ["a", "b"], dtype=object)
    store.log_predictions(ids, X, predictions, model_version=3, proba=proba, timestamp="2026-02-01T12:00:00",
                          acted_on=np.arange(50) % 2 == 0)
    records = store.unlabeled()
    assert isinstance(records, Records) and len(records) == 50
    assert records.feature_names == list(X.columns)
    frame = records.to_frame()
    expected = X.copy()
    expected["s"] = expected["s"].astype(object)
    got = frame[list(X.columns)].copy()
    pdt.assert_series_equal(got["f"], expected["f"], check_names=False)
    assert got["i"].dtype == np.int64 and got["i"].tolist() == X["i"].tolist()
    assert got["b"].dtype == bool and got["b"].tolist() == X["b"].tolist()
    assert got["s"].tolist() == [None if v is None else v for v in X["s"].tolist()]
    assert isinstance(got["c"].dtype, pd.CategoricalDtype) and got["c"].astype(str).tolist() == X["c"].astype(str).tolist()
    assert (got["t"] == X["t"]).all()
    assert frame["prediction"].tolist() == predictions.tolist()
    assert frame["model_version"].tolist() == [3] * 50
    assert (frame["timestamp"] == pd.Timestamp("2026-02-01T12:00:00", tz="UTC")).all()
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert frame["acted_on"].tolist() == (np.arange(50) % 2 == 0).tolist()
    np.testing.assert_array_equal(frame[["proba_0", "proba_1", "proba_2"]].to_numpy(), proba)
    assert frame["id"].tolist() == ids


@pytest.mark.parametrize(
    "predictions, labels",
    [
        (np.array([0, 1, 2, 1]), np.array([1, 1, 2, 0])),  # ints stay ints
        (np.array(["cat", "dog", "cat", "eel"]), np.array(["dog", "dog", "cat", "eel"])),  # strings stay strings
        (np.array([0.5, 1.25, -3.0, 2.0]), np.array([0.25, 1.0, -2.5, 2.125])),  # regression floats
        (np.array([True, False, True, True]), np.array([False, False, True, True])),  # bools
    ],
)
def test_labels_and_predictions_round_trip_their_type(store, predictions, labels):
    ids = ["a", "b", "c", "d"]
    store.log_predictions(ids, np.eye(4), predictions, model_version=1)
    store.add_feedback(ids, labels)
    frame = store.labeled().to_frame()
    assert frame["prediction"].tolist() == predictions.tolist()
    assert frame["label"].tolist() == labels.tolist()
    assert type(frame["label"].tolist()[0]) is type(labels.tolist()[0])
    np.testing.assert_array_equal(store.labeled().y, labels)


def test_array_input_gets_default_names_and_x_matches(store):
    X = np.random.default_rng(2).normal(size=(20, 3))
    store.log_predictions(range(20), X, np.zeros(20), model_version=0)
    store.add_feedback(range(20), np.ones(20))
    records = store.labeled()
    assert records.feature_names == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(records.X.to_numpy(), X)
    np.testing.assert_array_equal(records.weights, np.ones(20))
    assert store.feature_names == ["x0", "x1", "x2"]


def test_later_batches_may_reorder_columns_but_not_change_them(store):
    X = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    store.log_predictions(["1", "2"], X, [0, 1], model_version=1)
    store.log_predictions(["3"], pd.DataFrame({"b": [6.0], "a": [5.0]}), [1], model_version=1)
    frame = store.unlabeled().to_frame()
    assert frame["a"].tolist() == [1.0, 2.0, 5.0] and frame["b"].tolist() == [3.0, 4.0, 6.0]
    with pytest.raises(ValueError, match=r"unexpected \['c'\], missing \['b'\]"):
        store.log_predictions(["4"], pd.DataFrame({"a": [1.0], "c": [2.0]}), [1], model_version=1)
    with pytest.raises(ValueError, match="column 'a'"):
        store.log_predictions(["5"], pd.DataFrame({"a": ["text"], "b": [1.0]}), [1], model_version=1)
    with pytest.raises(ValueError, match="predictions are str values"):
        store.log_predictions(["6"], X.iloc[:1], ["x"], model_version=1)


def test_identical_relog_is_a_noop_and_conflicts_raise_naming_ids(store):
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "s": ["u", "v", "w"]})
    first = store.log_predictions(["p", "q", "r"], X, [0, 1, 0], model_version=1, proba=[[1, 0], [0, 1], [1, 0]])
    assert first == {"n_logged": 3, "n_duplicates": 0}
    # A retried task logs the same rows again, later: a no-op even though the time differs.
    again = store.log_predictions(["p", "q", "r"], X, [0, 1, 0], model_version=1, proba=[[1, 0], [0, 1], [1, 0]],
                                  timestamp="2030-01-01")
    assert again == {"n_logged": 0, "n_duplicates": 3}
    partly = store.log_predictions(["r", "s"], pd.DataFrame({"a": [3.0, 4.0], "s": ["w", "new"]}), [0, 1],
                                   model_version=1, proba=[[1, 0], [0, 1]])
    assert partly == {"n_logged": 1, "n_duplicates": 1}
    for change in ({"X": pd.DataFrame({"a": [9.0], "s": ["v"]})}, {"predictions": [0]}, {"model_version": 2},
                   {"proba": [[0.5, 0.5]]}):
        arguments = {"X": X.iloc[[1]], "predictions": [1], "model_version": 1, "proba": [[0, 1]], **change}
        with pytest.raises(ValueError, match=r"\['q'\]"):
            store.log_predictions(["q"], arguments.pop("X"), arguments.pop("predictions"), **arguments)
    # A conflicting batch writes nothing, not even its new rows.
    with pytest.raises(ValueError, match="nothing of this batch was written"):
        store.log_predictions(["t", "q"], pd.DataFrame({"a": [5.0, 9.0], "s": ["x", "v"]}), [1, 1], model_version=1,
                              proba=[[0, 1], [0, 1]])
    assert store.counts()["predictions"] == 4
    assert "t" not in store.predictions()["id"].tolist()


def test_unknown_feedback_ids_are_reported_not_stored(store):
    store.log_predictions(["a", "b"], [[1.0], [2.0]], [0, 1], model_version=1)
    report = store.add_feedback(["a", "ghost", "b", "other"], [1, 0, 1, 1])
    assert report["n_labeled"] == 2
    assert sorted(report["unknown_ids"]) == ["ghost", "other"]
    assert store.counts()["labeled"] == 2 and store.counts()["labels"] == 2


def test_source_precedence_and_replacement(store):
    ids = ["a", "b", "c", "d"]
    store.log_predictions(ids, np.zeros((4, 1)), [0, 0, 0, 0], model_version=1)
    store.add_feedback(["a", "b", "c"], [1, 1, 1], source="weak", confidence=0.3)
    store.add_feedback(["b", "c"], [2, 2], source="ground_truth")
    store.add_feedback(["c"], [3], source="human", confidence=0.9)
    frame = store.labeled().to_frame().set_index("id")
    assert frame.loc["a", "label"] == 1 and frame.loc["a", "source"] == "weak"
    assert frame.loc["b", "label"] == 2 and frame.loc["b", "source"] == "ground_truth"
    assert frame.loc["c", "label"] == 3 and frame.loc["c", "source"] == "human"
    assert frame.loc["a", "weight"] == 0.3 and frame.loc["b", "weight"] == 1.0 and frame.loc["c", "weight"] == 0.9
    # Restricting sources applies precedence among the remaining ones.
    weak_only = store.labeled(sources="weak").to_frame().set_index("id")
    assert weak_only["label"].to_dict() == {"a": 1, "b": 1, "c": 1}
    no_human = store.labeled(sources=["weak", "ground_truth"]).to_frame().set_index("id")
    assert no_human.loc["c", "label"] == 2
    # A later label of the same source replaces the earlier one.
    report = store.add_feedback(["b"], [7], source="ground_truth")
    assert report["n_replaced"] == 1
    assert store.labeled().to_frame().set_index("id").loc["b", "label"] == 7
    assert store.unlabeled().ids.tolist() == ["d"]
    assert store.unlabeled(sources="human").ids.tolist() == ["a", "b", "d"]
    assert store.counts()["by_source"] == {"weak": 3, "ground_truth": 2, "human": 1}


def test_since_until_and_window_filter_by_prediction_time(store):
    times = pd.date_range("2026-03-01", periods=10, freq="D", tz="UTC")
    ids = [f"r{k}" for k in range(10)]
    store.log_predictions(ids, np.arange(10.0)[:, None], np.arange(10), model_version=1, timestamp=times)
    store.add_feedback(ids, np.arange(10))
    frame = pd.DataFrame({"id": ids, "t": times})
    for since, until in [("2026-03-03", "2026-03-06"), (pd.Timestamp("2026-03-05"), None),
                         (None, pd.Timestamp("2026-03-04", tz="UTC").to_pydatetime()),
                         (np.datetime64("2026-03-02T00:00"), "2026-03-02T00:00:00.000000001")]:
        mask = np.ones(10, dtype=bool)
        if since is not None:
            mask &= frame["t"] >= pd.Timestamp(since).tz_localize("UTC") if pd.Timestamp(since).tzinfo is None \
                else frame["t"] >= pd.Timestamp(since)
        if until is not None:
            bound = pd.Timestamp(until)
            mask &= frame["t"] < (bound.tz_localize("UTC") if bound.tzinfo is None else bound)
        expected = frame.loc[mask, "id"].tolist()
        assert store.labeled(since=since, until=until).ids.tolist() == expected
        assert store.predictions(since=since, until=until)["id"].tolist() == expected
    assert store.labeled(window="3D").ids.tolist() == ids[-4:]  # newest prediction minus 3 days, inclusive
    assert store.labeled(window=2).ids.tolist() == ids[-2:]
    assert store.labeled(since="2026-03-02", window=100).ids.tolist() == ids[1:]


def test_per_row_and_naive_timestamps(store):
    naive = pd.date_range("2026-01-01", periods=3, freq="min")
    store.log_predictions(["a", "b", "c"], np.zeros((3, 1)), [0, 0, 0], model_version=1, timestamp=naive.to_numpy())
    got = store.unlabeled().to_frame()["timestamp"]
    assert got.tolist() == list(naive.tz_localize("UTC"))
    store.add_feedback(["a"], [1], timestamp=pd.Timestamp("2026-01-02", tz="Europe/Paris"))
    assert store.labeled().to_frame()["label_timestamp"].iloc[0] == pd.Timestamp("2026-01-01T23:00", tz="UTC")


def test_join_window_reports_late_labels(store_location):
    with FeedbackStore(store_location(), join_window="2D") as store:
        store.log_predictions(["a", "b"], np.zeros((2, 1)), [0, 0], model_version=1, timestamp="2026-01-01")
        report = store.add_feedback(["a", "b"], [1, 1], timestamp=["2026-01-02", "2026-01-05"])
        assert report["n_labeled"] == 1 and report["late_ids"] == ["b"]
        assert store.labeled().ids.tolist() == ["a"]


def test_classes_are_enforced_and_kept(store_location):
    path = store_location()
    with FeedbackStore(path, classes=["no", "yes"]) as store:
        store.log_predictions(["a"], np.zeros((1, 1)), ["yes"], model_version=1)
        with pytest.raises(ValueError, match=r"outside the store's classes.*maybe"):
            store.add_feedback(["a"], ["maybe"])
    with FeedbackStore(path) as store:  # the classes live in the file
        with pytest.raises(ValueError, match="classes"):
            store.add_feedback(["a"], ["maybe"])
    with pytest.raises(ValueError, match="differ"):
        FeedbackStore(path, classes=["a", "b"])


def test_labels_of_another_kind_than_predictions_are_refused(store):
    store.log_predictions(["a"], np.zeros((1, 1)), [1], model_version=1)
    with pytest.raises(ValueError, match="labels are str values but the predictions are int"):
        store.add_feedback(["a"], ["one"])


def test_review_queue_strategies(store):
    proba = np.array([[0.9, 0.1], [0.55, 0.45], [0.7, 0.3], [0.5, 0.5], [0.2, 0.8]])
    ids = ["a", "b", "c", "d", "e"]
    store.log_predictions(ids, np.zeros((5, 1)), proba.argmax(axis=1), model_version=1, proba=proba)
    store.add_feedback(["d"], [0])  # already labelled: skipped
    unlabeled = [i for i in ids if i != "d"]
    rows = [ids.index(i) for i in unlabeled]
    expected = [unlabeled[k] for k in np.argsort(-(1 - proba[rows].max(axis=1)), kind="stable")]
    assert store.review_queue(4, "uncertainty").ids.tolist() == expected
    margins = np.abs(proba[rows, 0] - proba[rows, 1])
    assert store.review_queue(2, "margin").ids.tolist() == [unlabeled[k] for k in np.argsort(margins, kind="stable")[:2]]
    picked = store.review_queue(3, "random", random_state=5).ids.tolist()
    assert picked == store.review_queue(3, "random", random_state=5).ids.tolist() and len(set(picked)) == 3
    assert "d" not in picked
    other = {"a": 1, "b": 0, "c": 0, "e": 0}  # disagrees on a and e
    assert sorted(store.review_queue(10, "disagreement", other=other).ids.tolist()) == ["a", "e"]


def test_predictions_counts_and_parquet_export(store, tmp_path):
    X = _mixed_frame(6)
    store.log_predictions([str(k) for k in range(6)], X, [0, 1, 0, 1, 0, 1], model_version=2)
    store.add_feedback(["1", "4"], [1, 1], source="human")
    table = store.predictions()
    assert table["labeled"].tolist() == [False, True, False, False, True, False]
    assert table["source"].tolist()[1] == "human"
    assert store.counts() == {"predictions": 6, "labeled": 2, "unlabeled": 4, "labels": 2, "by_source": {"human": 2}}
    path = store.export_parquet(tmp_path / "out.parquet")
    back = pd.read_parquet(path)
    assert back["id"].tolist() == [str(k) for k in range(6)]
    np.testing.assert_array_equal(back["f"].to_numpy(), X["f"].to_numpy())
    assert back["s"].tolist() == X["s"].tolist()
    assert back["label"].isna().tolist() == [True, False, True, True, False, True]


def test_empty_store_reads(store):
    assert len(store.labeled()) == 0 and len(store.unlabeled()) == 0
    assert list(store.predictions().columns)[:3] == ["id", "timestamp", "model_version"]
    assert store.log_predictions([], np.zeros((0, 2)), [], model_version=1) == {"n_logged": 0, "n_duplicates": 0}


# ------------------------------------------------------------------------------------ bad inputs
def test_bad_inputs_of_log_predictions(store):
    X = np.zeros((2, 2))
    cases = [
        (dict(ids="ab"), TypeError, "ids"),
        (dict(ids=["a"]), ValueError, "ids has 1 entries but X has 2 rows"),
        (dict(ids=["a", "a"]), ValueError, "ids has duplicate"),
        (dict(X=np.zeros(2)), ValueError, "X must be 2-D"),
        (dict(X="x"), TypeError, "X must be"),
        (dict(X=pd.DataFrame({"id": [1, 2]})), ValueError, "store's own columns"),
        (dict(predictions=[1, 2, 3]), ValueError, "predictions has 3 entries"),
        (dict(predictions=np.zeros((2, 2))), ValueError, "predictions must be 1-D"),
        (dict(predictions=5), TypeError, "predictions"),
        (dict(predictions=[np.nan, 1.0]), ValueError, "predictions has missing"),
        (dict(model_version="1"), TypeError, "model_version"),
        (dict(model_version=-1), ValueError, "model_version"),
        (dict(proba=[0.1, 0.2]), ValueError, "proba must be 2-D"),
        (dict(proba=np.zeros((3, 2))), ValueError, "proba has 3 rows"),
        (dict(proba=[["a", "b"], ["c", "d"]]), TypeError, "proba"),
        (dict(timestamp=["2026-01-01"]), ValueError, "timestamp has 1 entries"),
        (dict(timestamp="not a time"), ValueError, "timestamp"),
        (dict(timestamp=5), TypeError, "timestamp"),
        (dict(acted_on=[1, 0]), ValueError, "acted_on"),
    ]
    for change, error, message in cases:
        arguments = {"ids": ["a", "b"], "X": X, "predictions": [0, 1], "model_version": 1, **change}
        with pytest.raises(error, match=message):
            store.log_predictions(arguments.pop("ids"), arguments.pop("X"), arguments.pop("predictions"), **arguments)
    assert store.counts()["predictions"] == 0


def test_bad_inputs_of_add_feedback_and_reads(store):
    store.log_predictions(["a", "b"], np.zeros((2, 1)), [0, 1], model_version=1, proba=[[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="source must be one of"):
        store.add_feedback(["a"], [1], source="oracle")
    with pytest.raises(ValueError, match="labels has 1 entries but there are 2 ids"):
        store.add_feedback(["a", "b"], [1])
    with pytest.raises(ValueError, match="confidence must lie in"):
        store.add_feedback(["a"], [1], confidence=1.5)
    with pytest.raises(ValueError, match="confidence must be one number or 1"):
        store.add_feedback(["a"], [1], confidence=[0.1, 0.2])
    with pytest.raises(ValueError, match="labels has missing"):
        store.add_feedback(["a"], [np.nan])
    with pytest.raises(TypeError, match="ids"):
        store.add_feedback(5, [1])
    with pytest.raises(TypeError, match="since"):
        store.labeled(since=3)
    with pytest.raises(ValueError, match="until"):
        store.labeled(until="tomorrowish")
    with pytest.raises(ValueError, match="sources"):
        store.labeled(sources=["expert"])
    with pytest.raises(TypeError, match="sources"):
        store.labeled(sources=3)
    with pytest.raises(ValueError, match="window"):
        store.labeled(window="soon")
    with pytest.raises(ValueError, match="window"):
        store.labeled(window=0)
    with pytest.raises(ValueError, match="n must be"):
        store.review_queue(0)
    with pytest.raises(ValueError, match="strategy must be"):
        store.review_queue(1, "loudest")
    with pytest.raises(ValueError, match="other="):
        store.review_queue(1, "disagreement")
    with pytest.raises(TypeError, match="path"):
        store.export_parquet(3)
    assert store.counts()["labels"] == 0


def test_review_queue_without_proba_is_refused(store):
    store.log_predictions(["a"], np.zeros((1, 1)), [0], model_version=1)
    with pytest.raises(ValueError, match="needs logged probabilities"):
        store.review_queue(1, "uncertainty")


def test_bad_paths_and_files(tmp_path):
    with pytest.raises(TypeError, match="path"):
        FeedbackStore(3)
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        FeedbackStore(tmp_path / "dir.db")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not an sqlite database at all" * 200)
    with pytest.raises(ValueError, match="corrupted"):
        FeedbackStore(garbage)
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE users (name TEXT)")
    connection.commit()
    connection.close()
    with pytest.raises(ValueError, match="not a loopwise feedback_store"):
        FeedbackStore(other)
    with pytest.raises(ValueError, match="join_window"):
        FeedbackStore(tmp_path / "j.db", join_window="-1D")
    with pytest.raises(ValueError, match="classes"):
        FeedbackStore(tmp_path / "k.db", classes=["only"])


def test_newer_schema_and_closed_store_are_refused(tmp_path):
    path = tmp_path / "s.db"
    FeedbackStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute("UPDATE schema_version SET version = 99")
    connection.commit()
    connection.close()
    with pytest.raises(ValueError, match="schema version 99"):
        FeedbackStore(path)
    store = FeedbackStore(tmp_path / "t.db")
    store.close()
    with pytest.raises(ValueError, match="closed"):
        store.log_predictions(["a"], np.zeros((1, 1)), [0], model_version=1)
    with pytest.raises(ValueError, match="closed"):
        store.labeled()


def test_wal_and_full_sync_are_on(sqlite_store):
    store = sqlite_store
    connection = store._db.connection
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store._db.query("SELECT version FROM schema_version")[0][0] == 2


def test_numeric_kinds_widen_instead_of_truncating(store):
    store.log_predictions(["a"], np.zeros((1, 1)), [1], model_version=1)
    store.log_predictions(["b"], np.zeros((1, 1)), [2.5], model_version=1)
    store.add_feedback(["a"], [True])
    store.add_feedback(["b"], [3])
    frame = store.labeled().to_frame()
    assert frame["prediction"].tolist() == [1.0, 2.5] and frame["prediction"].dtype == np.float64
    assert frame["label"].tolist() == [1, 3] and frame["label"].dtype == np.int64


def test_migrations_upgrade_in_place_and_keep_data(tmp_path):
    from loopwise.loop._sqlite import Database

    path = str(tmp_path / "m.db")
    first = ["CREATE TABLE t (a INTEGER)"]
    db = Database(path, kind="demo", migrations=first)
    db.transaction(lambda c: c.execute("INSERT INTO t VALUES (7)"))
    db.close()
    second = [*first, lambda c: c.execute("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'")]
    db = Database(path, kind="demo", migrations=second)
    assert db.query("SELECT a, b FROM t") == [(7, "x")]
    assert db.query("SELECT version FROM schema_version") == [(2,)]
    db.close()
    # A failing migration leaves the database at its previous version, untouched.
    broken = [*second, "ALTER TABLE missing ADD COLUMN c"]
    with pytest.raises(ValueError, match="migration to schema version 3 failed .*left at version 2"):
        Database(path, kind="demo", migrations=broken)
    db = Database(path, kind="demo", migrations=second)
    assert db.query("SELECT version FROM schema_version") == [(2,)]
    db.close()
    with pytest.raises(ValueError, match="holds a loopwise demo, not a feedback_store"):
        FeedbackStore(path)


def test_importing_the_loop_package_stays_cheap():
    import os
    import subprocess
    import sys

    import loopwise

    root = os.path.dirname(os.path.dirname(os.path.abspath(loopwise.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *[p for p in sys.path if p]])}
    code = "import sys, loopwise.loop; print(sorted(m for m in ('sklearn', 'scipy', 'skops', 'statsmodels') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_records_last_is_the_tail_of_all_records(store_location):
    store = FeedbackStore(store_location())
    rng = np.random.default_rng(5)
    stamps = pd.date_range("2026-01-01", periods=300, freq="min", tz="UTC")
    order = rng.permutation(300)  # logged out of time order
    ids = [f"r{i}" for i in order]
    store.log_predictions(ids, rng.normal(size=(300, 3)), rng.integers(0, 2, 300), model_version=1,
                          timestamp=stamps[order])
    store.add_feedback([f"r{i}" for i in range(0, 300, 3)], rng.integers(0, 2, 100))
    everything = store.records().to_frame()
    for last in (1, 17, 300, 1000):
        tail = store.records(last=last).to_frame()
        expected = everything.tail(last).reset_index(drop=True)
        # dtypes may differ (a tail without labels has an all-missing source column); values may not
        normal = lambda f: f.astype(object).where(f.notna(), None)  # noqa: E731
        pd.testing.assert_frame_equal(normal(tail), normal(expected))
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="last"):
            store.records(last=bad)
    store.close()


# --------------------------------------------- one precedence rule for labeled() and predictions()
_ORDERS = [(), ("weak",), ("ground_truth",), ("human",), ("weak", "ground_truth"), ("ground_truth", "weak"),
           ("weak", "human"), ("human", "weak"), ("ground_truth", "human"), ("human", "ground_truth"),
           ("weak", "ground_truth", "human"), ("human", "ground_truth", "weak"), ("ground_truth", "human", "weak"),
           ("weak", "human", "ground_truth"), ("human", "weak", "ground_truth"), ("ground_truth", "weak", "human")]


def test_labeled_and_predictions_agree_on_the_effective_label_for_every_combination(store):
    """Documented rule: human > ground_truth > weak, whatever the arrival order; a later label of
    the same source replaces the earlier one. Every subset of sources, in every arrival order,
    plus a second label from one source, read through both labeled() and predictions()."""
    rank = {"human": 0, "ground_truth": 1, "weak": 2}
    code = {"human": 100, "ground_truth": 200, "weak": 300}
    cases = []
    for order in _ORDERS:
        for relabel in (None,) + order:
            cases.append((order, relabel))
    ids = [f"r{k}" for k in range(len(cases))]
    store.log_predictions(ids, np.zeros((len(ids), 1)), [0] * len(ids), model_version=1)
    base = pd.Timestamp("2024-01-01", tz="UTC")
    expected = {}
    for k, (order, relabel) in enumerate(cases):
        latest = {}
        for step, source in enumerate(order):
            store.add_feedback([ids[k]], [code[source] + step], source=source, timestamp=base + pd.Timedelta(step, "s"))
            latest[source] = code[source] + step
        if relabel is not None:
            store.add_feedback([ids[k]], [code[relabel] + 50], source=relabel, timestamp=base + pd.Timedelta(9, "s"))
            latest[relabel] = code[relabel] + 50
        if latest:
            best = min(latest, key=rank.get)
            expected[ids[k]] = (latest[best], best)
    labeled = store.labeled().to_frame().set_index("id")
    assert {i: (int(r["label"]), r["source"]) for i, r in labeled.iterrows()} == expected
    served = store.predictions().set_index("id")
    assert set(served.index[served["labeled"]]) == set(expected)
    assert {i: (int(served.loc[i, "label"]), served.loc[i, "source"]) for i in expected} == expected
    assert served.loc[~served["labeled"], "source"].isna().all()
    records = store.records().to_frame().set_index("id")
    assert {i: (int(records.loc[i, "label"]), records.loc[i, "source"]) for i in expected} == expected
    # Restricting sources keeps the same rule among those left.
    for sources in (["weak"], ["ground_truth", "weak"], ["human", "weak"]):
        part = store.labeled(sources=sources).to_frame().set_index("id")
        for i, (order, relabel) in zip(ids, cases):
            kept = [s for s in order if s in sources]
            if not kept:
                assert i not in part.index
                continue
            best = min(kept, key=rank.get)
            value = code[best] + 50 if relabel == best else code[best] + order.index(best)
            assert (int(part.loc[i, "label"]), part.loc[i, "source"]) == (value, best)


@pytest.mark.parametrize("a, b, same", [
    (float("nan"), float("nan"), True),     # a missing prediction re-logged is the same row
    (float("nan"), 1.0, False), (1.0, float("nan"), False),
    (1, 1.0, True), (2.0, 2, True), (1, 2, False),  # numbers compare as numbers
    (True, True, True), ("x", "x", True), ("1", 1, False), ("x", "y", False),
])
def test_same_value_rules_for_relogged_predictions(a, b, same):
    from loopwise.loop.store import _same_value

    assert _same_value(a, b) is same


def test_time_bounds_name_the_argument(store):
    with pytest.raises(TypeError, match=r"^since must be a time \(str, datetime or pandas Timestamp\), got int$"):
        store.labeled(since=5)
    with pytest.raises(ValueError, match=r"^until is missing \(NaT\)$"):
        store.labeled(until="NaT")
