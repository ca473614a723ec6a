"""What is particular to the PostgreSQL feedback store: its schema versioning, what it refuses,
its durability setting, and that the loop's windowed reads use its indexes (EXPLAIN).

The behaviour shared with SQLite is tested once for both backends in test_store.py and
test_durability.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.loop import FeedbackStore
from pg_cluster import schema_url


def _connect(url: str):
    import psycopg

    from loopwise.loop._store_postgres import split_url

    conninfo, schema = split_url(url)
    connection = psycopg.connect(conninfo, autocommit=True)
    connection.execute(f"SET search_path = {schema}")
    return connection


def test_newer_schema_foreign_tables_and_closed_store_are_refused(postgres_url):
    url = schema_url(postgres_url)
    FeedbackStore(url).close()
    with _connect(url) as connection:
        assert connection.execute("SELECT version FROM schema_version").fetchone()[0] == 1
        connection.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(ValueError, match="schema version 99"):
        FeedbackStore(url)
    other = schema_url(postgres_url)
    with _connect(postgres_url) as connection:
        schema = other.rsplit("=", 1)[1]
        connection.execute(f"CREATE SCHEMA {schema}")
        connection.execute(f"CREATE TABLE {schema}.users (name text)")
    with pytest.raises(ValueError, match="not a loopwise feedback store"):
        FeedbackStore(other)
    with pytest.raises(ValueError, match="schema"):
        FeedbackStore(postgres_url + "?schema=Bad-Name")
    with pytest.raises(ValueError, match="cannot be reached"):
        FeedbackStore("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    store = FeedbackStore(schema_url(postgres_url))
    store.close()
    with pytest.raises(ValueError, match="closed"):
        store.log_predictions(["a"], np.zeros((1, 1)), [0], model_version=1)


def test_durability_sets_synchronous_commit_and_flush_commits(postgres_url):
    url = schema_url(postgres_url)
    with FeedbackStore(url) as store:
        assert store._backend.connection.execute("SHOW synchronous_commit").fetchone()[0] == "on"
    with FeedbackStore(url, durability="process") as store:
        assert store._backend.connection.execute("SHOW synchronous_commit").fetchone()[0] == "off"
        store.log_predictions(["a"], np.zeros((1, 2)), [1], model_version=1)
        store.flush()
    with FeedbackStore(url) as store:
        assert store.predictions()["id"].tolist() == ["a"]


def test_large_batches_go_through_copy_and_odd_ids_survive(postgres_url):
    from loopwise.loop._store_postgres import COPY_ROWS

    url = schema_url(postgres_url)
    n = COPY_ROWS * 3
    ids = [f"id\t{i}\\n\n\r'\"" for i in range(n)]  # every character COPY's text format escapes
    X = np.random.default_rng(0).normal(size=(n, 4))
    with FeedbackStore(url) as store:
        assert store.log_predictions(ids, X, [f"c\t{i % 2}" for i in range(n)], model_version=2,
                                     proba=np.full((n, 2), 0.5))["n_logged"] == n
        assert store.log_predictions(ids, X, [f"c\t{i % 2}" for i in range(n)], model_version=2,
                                     proba=np.full((n, 2), 0.5))["n_duplicates"] == n
        frame = store.records().to_frame().set_index("id").loc[ids]
    np.testing.assert_array_equal(frame[["x0", "x1", "x2", "x3"]].to_numpy(), X)  # bit for bit
    assert frame["prediction"].tolist() == [f"c\t{i % 2}" for i in range(n)]


def test_windowed_reads_use_the_indexes(postgres_url):
    url = schema_url(postgres_url)
    n = 20_000
    with FeedbackStore(url) as store:
        ids = [f"r{i}" for i in range(n)]
        stamps = np.datetime64("2026-01-01") + np.arange(n).astype("timedelta64[s]")
        store.log_predictions(ids, np.zeros((n, 1)), np.zeros(n, dtype=int), model_version=1, timestamp=stamps)
        store.add_feedback(ids[::2], np.ones(n // 2, dtype=int), timestamp=stamps[::2] + np.timedelta64(60, "s"))
    with _connect(url) as connection:
        connection.execute("ANALYZE")

        def plan(sql: str) -> str:
            return "\n".join(row[0] for row in connection.execute("EXPLAIN " + sql))

        assert "predictions_ts" in plan("SELECT * FROM predictions WHERE true ORDER BY ts DESC, rid DESC LIMIT 100")
        assert "labels_pts" in plan("SELECT id, pts FROM labels WHERE source = ANY('{ground_truth}') ORDER BY pts DESC, id DESC "
                                    "LIMIT 4096")
        assert "labels_arrival" in plan("SELECT ts, id FROM labels WHERE (ts, id) > (0, '') ORDER BY ts, id LIMIT 100")
        assert "predictions_version" in plan("SELECT count(*) FROM predictions WHERE model_version = 7")
