"""FeedbackStore throughput: log_predictions, add_feedback and labeled() in rows per second.

Peer: MLflow is not installed here and logs no per-request predictions anyway, so the peer is
what a team writes by hand: pandas ``DataFrame.to_sql`` into SQLite (same WAL +
``synchronous=FULL`` settings, same rows), and ``pandas.read_sql`` of the label join. The
baseline is not equivalent work: it checks no duplicate or conflicting ids, keeps no label
precedence and restores no types; loopwise does all of that inside the timed calls.

A design check is reported too: the same store layout with per-row JSON features instead of
one float64 BLOB per row (the choice documented in loopwise/loop/store.py).

Every timing is the median of 5 runs after one warm-up, each on a fresh database file.
Both sides are single-threaded (SQLite).

``--part postgres`` (also run by default) measures the PostgreSQL store on a throwaway local
server (tests/python/pg_cluster.py): logging in batches of 10k rows (COPY) and single-row logs
from 4 concurrent writer processes, each against pandas ``to_sql`` (SQLAlchemy + psycopg) on the
same server, then >= 200 random SIGKILLs across 4 writers on both backends, counting lost
acknowledged rows. Its table goes to results/loop_store_postgres.md.

Usage: PYTHONPATH=python python benchmarks/loop_store.py [--part sqlite|postgres|all]
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import header, table, write_result  # noqa: E402

from loopwise.loop import FeedbackStore  # noqa: E402

N_FEATURES = 10
REPEATS = 5


def timed_fresh(setup: Callable[[str], Any], run: Callable[[Any], Any]) -> tuple[float, Any]:
    """Median time of ``run(state)`` where ``state = setup(fresh_directory)`` is not timed."""
    times, result = [], None
    for repeat in range(REPEATS + 1):
        folder = tempfile.mkdtemp(prefix="loopwise-bench-")
        try:
            state = setup(folder)
            start = time.perf_counter()
            result = run(state)
            elapsed = time.perf_counter() - start
            if hasattr(state, "close"):
                state.close()
            elif isinstance(state, tuple) and hasattr(state[0], "close"):
                state[0].close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if repeat:  # the first run is the warm-up
            times.append(elapsed)
    return statistics.median(times), result


def make_data(n: int) -> tuple[list[str], pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(n, N_FEATURES)), columns=[f"f{j}" for j in range(N_FEATURES)])
    predictions = (X["f0"].to_numpy() > 0).astype(np.int64)
    labels = (X["f0"].to_numpy() + 0.3 * rng.normal(size=n) > 0).astype(np.int64)
    return [f"req-{i}" for i in range(n)], X, predictions, labels


# ------------------------------------------------------------------------------- loopwise
def loopwise_cases(n: int) -> dict:
    ids, X, predictions, labels = make_data(n)
    stamps = pd.Timestamp("2026-01-01", tz="UTC")

    def fresh_store(folder: str) -> FeedbackStore:
        return FeedbackStore(os.path.join(folder, "store.db"))

    def logged_store(folder: str) -> FeedbackStore:
        store = fresh_store(folder)
        store.log_predictions(ids, X, predictions, model_version=1, timestamp=stamps)
        return store

    def labelled_store(folder: str) -> FeedbackStore:
        store = logged_store(folder)
        store.add_feedback(ids, labels)
        return store

    out = {}
    out["log"] = timed_fresh(fresh_store, lambda s: s.log_predictions(ids, X, predictions, model_version=1,
                                                                        timestamp=stamps))
    out["feedback"] = timed_fresh(logged_store, lambda s: s.add_feedback(ids, labels))
    out["read"] = timed_fresh(labelled_store, lambda s: s.labeled().to_frame())
    return out


# ------------------------------------------------------------------------------- pandas baseline
def _connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    return connection


def baseline_cases(n: int) -> dict:
    ids, X, predictions, labels = make_data(n)
    frame = X.copy()
    frame.insert(0, "id", ids)
    frame["prediction"] = predictions
    frame["model_version"] = 1
    frame["timestamp"] = "2026-01-01 00:00:00+00:00"
    label_frame = pd.DataFrame({"id": ids, "label": labels, "source": "ground_truth"})

    def fresh(folder: str) -> sqlite3.Connection:
        return _connect(os.path.join(folder, "baseline.db"))

    def logged(folder: str) -> sqlite3.Connection:
        connection = fresh(folder)
        frame.to_sql("predictions", connection, index=False)
        return connection

    def labelled(folder: str) -> sqlite3.Connection:
        connection = logged(folder)
        label_frame.to_sql("labels", connection, index=False)
        return connection

    out = {}
    out["log"] = timed_fresh(fresh, lambda c: frame.to_sql("predictions", c, index=False))
    out["feedback"] = timed_fresh(logged, lambda c: label_frame.to_sql("labels", c, index=False))
    out["read"] = timed_fresh(labelled, lambda c: pd.read_sql(
        "SELECT p.*, l.label, l.source FROM predictions p JOIN labels l ON l.id = p.id", c))
    return out


# ------------------------------------------------------------------------------- JSON design check
def json_cases(n: int) -> dict:
    """The store's table with features as one JSON array per row (encode + insert, read + decode)."""
    ids, X, predictions, _ = make_data(n)
    values = X.to_numpy()

    def fresh(folder: str) -> sqlite3.Connection:
        connection = _connect(os.path.join(folder, "json.db"))
        connection.execute("CREATE TABLE p (rid INTEGER PRIMARY KEY, id TEXT UNIQUE, prediction, features TEXT)")
        return connection

    def write(connection: sqlite3.Connection) -> None:
        rows = ((i, p, json.dumps(r)) for i, p, r in zip(ids, predictions.tolist(), values.tolist()))
        with connection:
            connection.executemany("INSERT INTO p (id, prediction, features) VALUES (?, ?, ?)", rows)

    def filled(folder: str) -> sqlite3.Connection:
        connection = fresh(folder)
        write(connection)
        return connection

    def read(connection: sqlite3.Connection) -> np.ndarray:
        rows = connection.execute("SELECT features FROM p ORDER BY rid").fetchall()
        return np.array([json.loads(r[0]) for r in rows])

    return {"log": timed_fresh(fresh, write), "read": timed_fresh(filled, read)}


def main_sqlite() -> None:
    rows = []
    for n in (10_000, 100_000):
        ours, theirs, as_json = loopwise_cases(n), baseline_cases(n), json_cases(n)
        read_back = ours["read"][1]
        peer_back = theirs["read"][1]
        same = (len(read_back) == len(peer_back) == n and float(np.max(np.abs(
            read_back[[f"f{j}" for j in range(N_FEATURES)]].to_numpy()
            - peer_back[[f"f{j}" for j in range(N_FEATURES)]].to_numpy()))) == 0.0)
        for case, label in (("log", "log_predictions"), ("feedback", "add_feedback"), ("read", "labeled() read")):
            ours_s, theirs_s = ours[case][0], theirs[case][0]
            rows.append([f"{label}, {n:,} rows x {N_FEATURES}", "pandas to_sql / read_sql", 1,
                         f"{n / theirs_s:,.0f}", f"{n / ours_s:,.0f}", theirs_s / ours_s,
                         "same rows, |dX| = 0" if same and case == "read" else ""])
        rows.append([f"design check, {n:,} rows: write", "per-row JSON features", 1, f"{n / as_json['log'][0]:,.0f}",
                     f"{n / ours['log'][0]:,.0f}", as_json["log"][0] / ours["log"][0], ""])
        rows.append([f"design check, {n:,} rows: read", "per-row JSON features", 1, f"{n / as_json['read'][0]:,.0f}",
                     f"{n / ours['read'][0]:,.0f}", as_json["read"][0] / ours["read"][0], ""])
    text = "\n".join([
        header("FeedbackStore throughput (rows/s; higher is better)"),
        "Peer: pandas `to_sql`/`read_sql` on SQLite with the same WAL + synchronous=FULL settings, measured in "
        "the same run (MLflow is not installed and has no per-prediction log). The peer does less work: no "
        "duplicate/conflict check, no label precedence, no type restoration. Ratio = peer time / loopwise time. "
        f"Median of {REPEATS} runs after a warm-up, fresh database file each run; both sides single-threaded.",
        "",
        table(rows, ["case", "peer", "threads", "peer rows/s", "loopwise rows/s", "ratio", "check"]),
    ])
    write_result("loop_store", text)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--kills", type=int, default=200)
    part = parser.parse_args()
    if part.part in ("sqlite", "all"):
        main_sqlite()
    if part.part in ("postgres", "all"):
        from loop_store_postgres import main_postgres

        main_postgres(kills=part.kills)


if __name__ == "__main__":
    main()
