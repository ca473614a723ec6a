"""The PostgreSQL part of benchmarks/loop_store.py (run through it: ``--part postgres``).

- Logging in batches of 10,000 rows x 10 features (COPY into a staging table, INSERT ... ON
  CONFLICT) against pandas ``DataFrame.to_sql`` (SQLAlchemy 2 + psycopg 3, default method) of the
  same rows into the same server. Median of 3 runs, each into a fresh PostgreSQL schema.
- Single-row ``log_predictions`` from 4 writer processes at once, against 4 processes calling
  ``to_sql`` with one row each. Both commit every row (``synchronous_commit = on``).
- >= 200 random SIGKILLs across 4 single-row writers (tests/python/kill_writers.py), on SQLite
  and on PostgreSQL: acknowledged rows lost, duplicated, or with wrong content.

The peer does less work than loopwise: no duplicate/conflict check, no counters, no type
restoration. The server is a throwaway local cluster on the same 2-core machine (shared with
the clients), started by tests/python/pg_cluster.py.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import textwrap
import time

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(os.path.dirname(HERE), "tests", "python")
sys.path.insert(0, TESTS)
from _common import header, table, write_result  # noqa: E402

import kill_writers  # noqa: E402
import pg_cluster  # noqa: E402
from loopwise.loop import FeedbackStore  # noqa: E402

QUICK = os.environ.get("LOOPWISE_BENCH_QUICK") == "1"  # a smoke run of the script, not a measurement
BATCH = 10_000
BATCHES = 1 if QUICK else 10
N_FEATURES = 10
RUNS = 1 if QUICK else 3
SINGLE_ROWS = 20 if QUICK else 500  # per writer

_PEER_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(sys.argv[1].replace("postgresql://", "postgresql+psycopg://"))
    worker, count = int(sys.argv[2]), int(sys.argv[3])
    print("ready", flush=True)
    sys.stdin.readline()
    for s in range(count):
        row = pd.DataFrame({"id": [f"w{worker}-{s}"], "x0": [float(worker)], "x1": [float(s)], "prediction": [s % 3],
                            "model_version": [1], "timestamp": ["2026-01-01 00:00:00+00:00"]})
        row.to_sql("peer_single", engine, if_exists="append", index=False)
        print(s, flush=True)
    print("done", flush=True)
    """
)


def _batches() -> list:
    rng = np.random.default_rng(0)
    out = []
    for b in range(BATCHES):
        X = pd.DataFrame(rng.normal(size=(BATCH, N_FEATURES)), columns=[f"f{j}" for j in range(N_FEATURES)])
        out.append(([f"b{b}-{i}" for i in range(BATCH)], X, (X["f0"].to_numpy() > 0).astype(np.int64)))
    return out


def batch_logging(base: str) -> tuple[float, float]:
    """(loopwise rows/s, to_sql rows/s) for BATCHES batches of BATCH rows."""
    from sqlalchemy import create_engine

    batches = _batches()
    ours, theirs = [], []
    for _ in range(RUNS):
        url = pg_cluster.schema_url(base)
        with FeedbackStore(url) as store:
            start = time.perf_counter()
            for ids, X, predictions in batches:
                store.log_predictions(ids, X, predictions, model_version=1, timestamp="2026-01-01")
            ours.append(BATCH * BATCHES / (time.perf_counter() - start))
            assert store.counts()["predictions"] == BATCH * BATCHES
        engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://"))
        name = f"peer_{len(theirs)}"
        start = time.perf_counter()
        for ids, X, predictions in batches:
            frame = X.copy()
            frame.insert(0, "id", ids)
            frame["prediction"] = predictions
            frame["model_version"] = 1
            frame["timestamp"] = "2026-01-01 00:00:00+00:00"
            frame.to_sql(name, engine, if_exists="append", index=False)
        theirs.append(BATCH * BATCHES / (time.perf_counter() - start))
        engine.dispose()
    return statistics.median(ours), statistics.median(theirs)


def peer_single_rate(base: str, folder: str, package_root: str) -> float:
    script = os.path.join(folder, "peer_writer.py")
    with open(script, "w", encoding="utf-8") as handle:
        handle.write(_PEER_WRITER)
    import subprocess

    from sqlalchemy import create_engine

    # The table exists before the writers start (to_sql would race to create it).
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://"))
    pd.DataFrame({"id": ["x"], "x0": [0.0], "x1": [0.0], "prediction": [0], "model_version": [1],
                  "timestamp": ["2026-01-01 00:00:00+00:00"]}).iloc[:0].to_sql("peer_single", engine, index=False)
    engine.dispose()
    env = kill_writers.env_for(package_root)
    processes = [subprocess.Popen([sys.executable, script, base, str(w), str(SINGLE_ROWS)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for w in range(4)]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready", process.stderr.read()
        start = time.perf_counter()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in processes:
            for line in process.stdout:
                if line.strip() == "done":
                    break
            process.wait(timeout=600)
            assert process.returncode == 0, process.stderr.read()
        return 4 * SINGLE_ROWS / (time.perf_counter() - start)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def main_postgres(kills: int = 200) -> None:
    import loopwise

    package_root = os.path.dirname(os.path.dirname(os.path.abspath(loopwise.__file__)))
    binaries = pg_cluster.binaries()
    if binaries is None:
        raise SystemExit("no PostgreSQL binaries: run scripts/services/postgres.sh")
    cluster = pg_cluster.Cluster(binaries)
    rows, kill_rows = [], []
    try:
        ours, theirs = batch_logging(cluster.url)
        rows.append([f"log_predictions, batches of {BATCH:,} x {N_FEATURES} (COPY)", "pandas to_sql", 1,
                     f"{theirs:,.0f}", f"{ours:,.0f}", ours / theirs, ">= 200,000 rows/s",
                     "met" if ours >= 200_000 else "NOT met"])
        with tempfile.TemporaryDirectory(prefix="loopwise-bench-") as folder:
            url = pg_cluster.schema_url(cluster.url)
            FeedbackStore(url).close()
            ours_single = kill_writers.single_row_rate(url, folder, package_root, rows_per_writer=SINGLE_ROWS)
            theirs_single = peer_single_rate(cluster.url, folder, package_root)
        rows.append([f"single-row log_predictions, 4 writer processes x {SINGLE_ROWS}", "pandas to_sql, 1 row",
                     "4 processes", f"{theirs_single:,.0f}", f"{ours_single:,.0f}", ours_single / theirs_single,
                     ">= 2,000 rows/s", "met" if ours_single >= 2_000 else "NOT met"])
        for backend in ("sqlite", "postgresql"):
            with tempfile.TemporaryDirectory(prefix="loopwise-kill-") as folder:
                location = (os.path.join(folder, "store.db") if backend == "sqlite"
                            else pg_cluster.schema_url(cluster.url))
                result = kill_writers.run_kills(location, folder, package_root, kills=kills, seed=11)
                report = kill_writers.check_store(location, result["acknowledged"])
            kill_rows.append([backend, result["kills"], f"{report['acknowledged']:,}", f"{report['stored']:,}",
                              len(report["lost"]), report["duplicated"], len(report["wrong_content"]),
                              "yes" if report["counter_matches"] else "NO", f"{result['seconds']:.0f}"])
    finally:
        cluster.stop()
    load = os.getloadavg()[0]
    text = "\n".join([
        header("FeedbackStore on PostgreSQL: logging throughput and random SIGKILLs"),
        f"PostgreSQL {os.path.basename(os.path.dirname(binaries))} throwaway local cluster on the same machine "
        f"(client and server share the 2 cores; 1-minute load average at the end: {load:.1f}, other engineers' jobs "
        "included). Peer: pandas `to_sql` (SQLAlchemy 2 + psycopg 3, default method) into the same server; it "
        "checks no duplicates or conflicts and keeps no counters. Ratio = loopwise rows/s / peer rows/s. "
        f"Batches: {BATCHES} batches per run, median of {RUNS} runs, fresh schema each run.",
        "",
        table(rows, ["case", "peer", "clients", "peer rows/s", "loopwise rows/s", "ratio", "target", "status"]),
        "",
        "Random SIGKILLs across 4 writer processes logging single rows (tests/python/kill_writers.py): each kill "
        "hits a random writer 0-50 ms after it is ready; it restarts from its last acknowledged row. "
        "'lost' = acknowledged rows missing; 'duplicated' = rows stored twice; 'wrong' = sampled rows whose "
        "features differ from what was logged; 'counter' = counts() equals the rows stored.",
        "",
        table(kill_rows, ["backend", "kills", "acknowledged rows", "rows stored", "lost", "duplicated", "wrong",
                          "counter", "seconds"]),
    ])
    write_result("loop_store_postgres", text)
