"""Profiles at scale: loopwise.spark.profile + compare on local[2] against the same work in
one process (the engine-free functions over the same number of rows), profile size, a
scaling curve and the arithmetic for a cluster.

Run: PYTHONPATH=python python benchmarks/scale.py [--rows 1000000 10000000] [--columns 20]
Writes benchmarks/results/scale.md. Needs the spark extra (pyspark, datasketches) and Java 17.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import header  # noqa: E402

from loopwise.profiles import build, compare, count_bins, merge, with_bins  # noqa: E402

CHUNK = 1_000_000  # rows per chunk in the single process (and per Arrow gather in Spark)
SHIFT = 0.05  # the current table's mean shift in the last 5 columns (std units)


def _chunk(rng: np.random.Generator, rows: int, columns: int, current: bool) -> pd.DataFrame:
    data = rng.normal(size=(rows, columns))
    if current:
        data[:, -5:] += SHIFT
    return pd.DataFrame(data, columns=[f"c{i}" for i in range(columns)])


def single_process(rows: int, columns: int) -> tuple[float, object, object]:
    """The same passes as loopwise.spark.profile(edges="sketch") + profile(reference=) +
    compare, in one Python process over 1M-row chunks (generation time excluded)."""
    sizes = [min(CHUNK, rows - s) for s in range(0, rows, CHUNK)]
    elapsed = 0.0

    def timed(fn):
        nonlocal elapsed
        start = time.perf_counter()
        out = fn()
        elapsed += time.perf_counter() - start
        return out

    seeds = {"ref": 1, "cur": 2}  # the reference is regenerated for its second pass (memory)
    parts = []
    gen = np.random.default_rng(seeds["ref"])
    for n in sizes:
        frame = _chunk(gen, n, columns, False)
        parts.append(timed(lambda: build(frame, edges=None)))
    reference = timed(lambda: merge(parts))
    edges = timed(lambda: {k: v.tolist() for k, v in reference.sketch_edges().items()})
    totals = {c: np.zeros(len(e) + 1, dtype=np.int64) for c, e in edges.items()}
    gen = np.random.default_rng(seeds["ref"])
    for n in sizes:
        frame = _chunk(gen, n, columns, False)
        counted = timed(lambda: count_bins(frame, edges))
        for c in totals:
            totals[c] += counted[c]
    reference = timed(lambda: with_bins(reference, edges, totals))
    parts = []
    gen = np.random.default_rng(seeds["cur"])
    for n in sizes:
        frame = _chunk(gen, n, columns, True)
        parts.append(timed(lambda: build(frame, reference=reference)))
    current = timed(lambda: merge(parts))
    report = timed(lambda: compare(reference, current))
    return elapsed, reference, report


def spark_session():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[2]").appName("loopwise-scale")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.driver.memory", "4g").config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .config("spark.sql.execution.arrow.maxRecordsPerBatch", "100000").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_tables(spark, rows: int, columns: int):
    from pyspark.sql import functions as F

    def table(seed: int, shift: float):
        base = spark.range(rows, numPartitions=2)
        cols = [(F.randn(seed * 1000 + i) + (shift if i >= columns - 5 else 0.0)).alias(f"c{i}") for i in range(columns)]
        return base.select(*cols).cache()

    ref, cur = table(1, 0.0), table(2, SHIFT)
    ref.count(), cur.count()  # materialise the generated data: the timing covers profiling only
    return ref, cur


def spark_run(spark, ref, cur) -> tuple[float, object, object]:
    from loopwise.spark import profile

    start = time.perf_counter()
    reference = profile(ref)
    current = profile(cur, reference=reference)
    report = compare(reference, current)
    return time.perf_counter() - start, reference, report


def merge_cost(columns: int, partitions: int = 200) -> tuple[float, int]:
    """Driver seconds to merge ``partitions`` partition profiles, and one profile's bytes."""
    rng = np.random.default_rng(3)
    reference = build(_chunk(rng, 50_000, columns, False))
    blobs = [build(_chunk(rng, 20_000, columns, True), reference=reference).to_bytes() for _ in range(partitions)]
    start = time.perf_counter()
    merge(blobs)
    return time.perf_counter() - start, int(np.mean([len(b) for b in blobs]))


def _write(lines: list[str], merge_seconds: float, partition_bytes: int, columns: int, pending: list[int]) -> str:
    text = "\n".join([
        header("scale: profiles on Spark local[2] vs one process"),
        "Work on both sides: reference profile (pass 1: moments, KLL k=200 and edges from the sketch; pass 2: exact "
        "counts on those 10 bins), current profile on the reference's bins, `compare` on the driver. Spark: "
        "`loopwise.spark.profile` on `local[2]` over tables generated and cached in the JVM (randn; generation not "
        "timed). One process: the same engine-free functions over 1M-row numpy chunks (generation not timed). "
        f"The current table's last 5 columns are shifted by {SHIFT} std; the auto rule (Wasserstein >= 0.1) flags "
        "none, as it should for a shift that small. One run per size after a 100k-row warm-up (not a median of "
        "5: a 10M-row run takes minutes on this shared machine); the load column is the 1-minute load average "
        "at the end of the run (2 cores).\n",
        "| rows x columns | one process | Spark local[2] | Spark / one process | profile size | drifted "
        "(Spark / one process) | load |",
        "|---|---|---|---|---|---|---|",
        *lines,
        *([f"\nNot measured (the run was stopped before them): {', '.join(f'{r:,}' for r in pending)} rows."]
          if pending else []),
        "",
        "Targets: Spark within 1.5x of one process, and a 10M-row profile <= 1 MB. The size target holds (about "
        "100 KB for 20 columns). The time target is NOT met on this run: the engine's overhead (Arrow transfer "
        "JVM -> Python, Python workers started per stage, each importing loopwise.drift, and two cores shared "
        "with a load average near 20 from other jobs) costs more than the profiling itself here. The one-process "
        "side runs one core for one job; Spark's two tasks compete for the same two busy cores. 50M rows was not "
        "run (a 10M-row run took 10 minutes under this load).",
        "",
        "Cluster arithmetic (measured here, scales linearly): each partition sends one profile to the driver "
        f"(a collect, no shuffle): {partition_bytes / 1024:.1f} KB for {columns} numeric columns, so a "
        f"1,000-partition table moves {partition_bytes * 1000 / 2**20:.1f} MB per profile pass (the reference's "
        "second pass sends 11 counts per column, well under 1 KB per partition). Driver work per merge: "
        f"{merge_seconds / 200 * 1000:.2f} ms per partition profile ({columns} KLL merges + counts, measured "
        f"over 200 profiles), i.e. about {merge_seconds / 200 * 1000:.1f} s for 1,000 partitions: linear in "
        "partitions and columns, independent of rows. The merged profile's size grows only with log(rows) "
        "(KLL keeps O(k log(n/k)) items). Time per row is dominated by DataSketches' KLL update (20 columns "
        "x 2 profiles per row).",
    ])
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "scale.md"), "w") as handle:
        handle.write(text + "\n")
    return text


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--columns", type=int, default=20)
    args = parser.parse_args()
    merge_seconds, partition_bytes = merge_cost(args.columns)
    spark = spark_session()
    warm_ref, warm_cur = spark_tables(spark, 100_000, args.columns)
    spark_run(spark, warm_ref, warm_cur)  # warm-up: JVM JIT and Python workers
    warm_ref.unpersist(), warm_cur.unpersist()
    lines: list[str] = []
    for i, rows in enumerate(args.rows):
        ref, cur = spark_tables(spark, rows, args.columns)
        spark_seconds, reference, report = spark_run(spark, ref, cur)
        ref.unpersist(), cur.unpersist()
        single_seconds, single_reference, single_report = single_process(rows, args.columns)
        size = len(reference.to_bytes())
        same = report.drifted_columns == single_report.drifted_columns
        load = os.getloadavg()[0]
        lines.append(f"| {rows:,} x {args.columns} | {single_seconds:.1f} s | {spark_seconds:.1f} s | "
                     f"{spark_seconds / single_seconds:.2f}x | {size / 1024:.1f} KB | "
                     f"{len(report.drifted_columns)} / {len(single_report.drifted_columns)} "
                     f"({'same' if same else 'different'}) | {load:.1f} |")
        print(lines[-1], flush=True)
        text = _write(lines, merge_seconds, partition_bytes, args.columns, args.rows[i + 1:])  # kept if stopped
    spark.stop()
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
