"""Does a FeedbackLoop's step stay flat as the history grows, and what does serving cost?

For each history size (logged-and-labelled rows, 20 features) a loop is built with bulk
``log_predictions`` / ``add_feedback`` batches (not row-by-row ``predict``), then a fresh
process opens it and runs: one catch-up step (the error-stream cursor reads the bulk-loaded
labels once), then steady steps, each after 500 new rows were served and labelled. Each
measurement process reports its peak RSS. Serving: single-row ``loop.predict`` (champion
``predict`` + ``predict_proba`` + log) against the bare model's two calls, for both durability
modes, and batches of 500; the floor of the disk is shown as the bare SQLite commit.

Run: python benchmarks/loop_scale.py [--sizes 100000,1000000] [--serve-rows 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

from _common import header, table, write_result

N_FEATURES = 20
BUILD_BATCH = 50_000
STEP_ROWS = 500


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_FEATURES))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=n) > 0).astype(np.int64)
    return X, y


def _model():
    from sklearn.linear_model import LogisticRegression

    X, y = _data(5000, 0)
    return LogisticRegression().fit(X, y), X, y


def build(path: str, n: int) -> dict:
    """A loop whose store holds ``n`` logged and labelled rows, written in bulk batches."""
    from loopwise.loop import FeedbackLoop

    model, X_ref, y_ref = _model()
    loop = FeedbackLoop(path, model=model, reference=X_ref[:2000], reference_labels=y_ref[:2000], trusted=True)
    start = time.perf_counter()
    base = np.datetime64("2024-01-01T00:00:00", "ns")
    for offset in range(0, n, BUILD_BATCH):
        size = min(BUILD_BATCH, n - offset)
        X, y = _data(size, 1000 + offset)
        ids = [f"h{offset + i}" for i in range(size)]
        stamps = base + (np.arange(offset, offset + size) * 1_000_000_000).astype("timedelta64[ns]")
        proba = model.predict_proba(X)
        loop.store.log_predictions(ids, X, model.predict(X), model_version=loop.champion_version, proba=proba,
                                   timestamp=stamps)
        loop.store.add_feedback(ids, y, timestamp=stamps + np.timedelta64(3600, "s"))
    seconds = time.perf_counter() - start
    loop.close()
    return {"rows": n, "build_seconds": seconds, "db_bytes": os.path.getsize(os.path.join(path, "store.db"))}


def steps(path: str, n_steps: int) -> dict:
    """Open the loop in this (fresh) process: one catch-up step, then steady steps."""
    from loopwise.loop import FeedbackLoop

    model, _, _ = _model()
    loop = FeedbackLoop(path, trusted=True)
    counts = loop.store.counts()
    start = time.perf_counter()
    loop.step()
    catch_up = time.perf_counter() - start
    rss_catch_up = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n0 = counts["predictions"]
    base = np.datetime64("2024-01-01T00:00:00", "ns") + np.timedelta64(n0, "s")
    times, checks = [], []
    for k in range(n_steps):
        X, y = _data(STEP_ROWS, 7 + k)
        ids = [f"s{k}_{i}" for i in range(STEP_ROWS)]
        stamps = base + (np.arange(k * STEP_ROWS, (k + 1) * STEP_ROWS) * 1_000_000_000).astype("timedelta64[ns]")
        loop.predict(X, ids=ids, timestamp=stamps)
        loop.feedback(ids, y, timestamp=stamps + np.timedelta64(60, "s"))
        start = time.perf_counter()
        result = loop.step()
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        loop.check()
        checks.append(time.perf_counter() - start)
    loop.close()
    return {"catch_up_step": catch_up, "rss_after_catch_up_kb": rss_catch_up, "step_median": float(np.median(times)),
            "step_max": float(np.max(times)), "check_median": float(np.median(checks)),
            "last_action": result.get("action"), "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _child(args: list[str]) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, os.path.abspath(__file__), *args], capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def serve(n_rows: int) -> list[list]:
    from loopwise.loop import FeedbackLoop

    model, X, y = _model()
    rows = []
    folder = tempfile.mkdtemp(prefix="loop_scale_serve_")
    try:
        # The disk's floor: one bare SQLite WAL commit of one small row, fsynced (FULL) or not.
        for level in ("FULL", "NORMAL"):
            connection = sqlite3.connect(os.path.join(folder, f"floor_{level}.db"), isolation_level=None)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(f"PRAGMA synchronous = {level}")
            connection.execute("CREATE TABLE t (id TEXT PRIMARY KEY, features BLOB)")
            blob = np.zeros(N_FEATURES).tobytes()
            latencies = []
            for i in range(min(n_rows, 1000)):
                start = time.perf_counter()
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO t VALUES (?, ?)", (f"r{i}", blob))
                connection.execute("COMMIT")
                latencies.append(time.perf_counter() - start)
            connection.close()
            ms = np.array(latencies) * 1e3
            rows.append([f"bare SQLite commit of one row, synchronous={level}", "-", "-",
                         float(np.median(ms)), float(np.percentile(ms, 99)), "-"])
        for durability in ("full", "process"):
            loop = FeedbackLoop(os.path.join(folder, durability), model=model, reference=X[:1000],
                                reference_labels=y[:1000], trusted=True, durability=durability)
            loop.predict(X[:1], ids=["warm"])
            bare, served = [], []
            for i in range(n_rows):
                row = X[i % len(X): i % len(X) + 1]
                start = time.perf_counter()
                model.predict(row)
                model.predict_proba(row)
                bare.append(time.perf_counter() - start)
                start = time.perf_counter()
                loop.predict(row, ids=[f"{durability}{i}"])
                served.append(time.perf_counter() - start)
            b, s = np.array(bare) * 1e3, np.array(served) * 1e3
            rows.append([f"single-row loop.predict + log, durability={durability!r}",
                         float(np.median(b)), float(np.percentile(b, 99)), float(np.median(s)),
                         float(np.percentile(s, 99)),
                         f"over bare: p50 {np.median(s) - np.median(b):.3f} ms, p99 {np.percentile(s, 99) - np.percentile(b, 99):.3f} ms"])
            batches = [[f"{durability}b{j}_{i}" for i in range(500)] for j in range(40)]
            start = time.perf_counter()
            for j in range(40):
                loop.predict(X[(j * 500) % 4500:(j * 500) % 4500 + 500], ids=batches[j])
            rate = 40 * 500 / (time.perf_counter() - start)
            start = time.perf_counter()
            for j in range(40):
                chunk = X[(j * 500) % 4500:(j * 500) % 4500 + 500]
                model.predict(chunk)
                model.predict_proba(chunk)
            bare_rate = 40 * 500 / (time.perf_counter() - start)
            rows.append([f"batches of 500, durability={durability!r}", "-", "-", "-", "-",
                         f"{rate:,.0f} rows/s logged (bare model {bare_rate:,.0f} rows/s)"])
            loop.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--serve-rows", type=int, default=2000)
    parser.add_argument("--keep", default=None, help="folder for the built loops (kept); default: a temp folder")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.child:
        what, path, number = args.child
        result = build(path, int(number)) if what == "build" else steps(path, int(number))
        print(json.dumps(result))
        return 0

    root = args.keep or tempfile.mkdtemp(prefix="loop_scale_")
    scale_rows = []
    try:
        for n in [int(v) for v in args.sizes.split(",")]:
            path = os.path.join(root, f"loop_{n}")
            if not os.path.exists(os.path.join(path, "store.db")):
                built = _child(["--child", "build", path, str(n)])
            else:
                built = {"build_seconds": float("nan"), "db_bytes": os.path.getsize(os.path.join(path, "store.db"))}
            stepped = _child(["--child", "steps", path, str(args.steps)])
            scale_rows.append([f"{n:,}", f"{built['build_seconds']:.0f} s", f"{built['db_bytes'] / 1e9:.2f} GB",
                               stepped["catch_up_step"], stepped["step_median"], stepped["step_max"],
                               stepped["check_median"], f"{stepped['peak_rss_kb'] / 1024:.0f} MB",
                               stepped["last_action"]])
            print(scale_rows[-1], flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    serving = serve(args.serve_rows)
    text = "\n\n".join([
        header(f"Feedback loop at scale ({N_FEATURES} features, LogisticRegression, default policy, 1 process)"),
        table(scale_rows, ["labelled rows", "bulk build", "store size", "catch-up step (s)", "step median (s)",
                           "step max (s)", "check median (s)", "peak RSS", "last step's action"]),
        f"Each steady step follows {STEP_ROWS} new rows served and labelled; median of {args.steps} steps in a "
        "fresh process. The catch-up step is the first step after the bulk load: the error-stream cursor reads "
        "every bulk-loaded label once.",
        table(serving, ["case", "bare model p50 (ms)", "bare model p99 (ms)", "loop p50 (ms)", "loop p99 (ms)",
                        "note"]),
        f"Load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
    ])
    write_result("loop_scale", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
