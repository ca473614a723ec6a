"""Drift benchmarks: loopwise.drift against the libraries a user would otherwise pick.

Prints a Markdown table (case, peer, peer time, loopwise time, ratio, accuracy, threads)
and writes it to benchmarks/results/drift.md. Timings are medians of >= 5 runs after a
warm-up unless the row says otherwise.

Usage: PYTHONPATH=python python benchmarks/drift.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy import stats

from loopwise import drift
from loopwise._threads import cpu_count

ROWS: list[tuple] = []


def timed(func: Callable[[], Any], repeats: int = 5, warmup: bool = True) -> tuple[float, Any]:
    if warmup:
        func()
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def add(case: str, peer: str, peer_time: float, ours: float, accuracy: str, threads: str) -> None:
    ROWS.append((case, peer, f"{peer_time:.3f} s", f"{ours:.3f} s", f"{peer_time / ours:.1f}x", accuracy, threads))


def bench_ks(n: int) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=n), rng.normal(0.002, size=n)
    peer_time, theirs = timed(lambda: stats.ks_2samp(a, b))
    for threads in (1, cpu_count()):
        ours_time, ours = timed(lambda: drift.ks(a, b)) if threads > 1 else timed(lambda: _ks_one_thread(a, b))
        add(f"KS {n:,} vs {n:,}", "scipy.stats.ks_2samp", peer_time, ours_time,
            f"|dp| = {abs(ours.p_value - theirs.pvalue):.1e}, |dD| = {abs(ours.statistic - theirs.statistic):.1e}",
            f"scipy 1 / loopwise {threads}")


def _ks_one_thread(a: np.ndarray, b: np.ndarray) -> Any:
    # drift.ks with its core call pinned to one thread (numpy's sort is single-threaded).
    from loopwise import _core
    from loopwise.drift import statistics as st

    sa, sb = st.sorted_finite(a), st.sorted_finite(b)
    out = _core.drift_compare_numeric([sa], [sb], [], st.KS, st.EXACT_KS_MAX_N, st.PSI_EPSILON, st.JS_BASE, 1)
    return st._ks_result(float(out["ks"][0]), float(out["ks_exact_pvalue"][0]), sa.size, sb.size)


def _evidently_rule_with_scipy(ref: np.ndarray, cur: np.ndarray) -> list[bool]:
    """evidently's default data-drift rule for numeric columns with > 1000 reference rows,
    written out with scipy: Wasserstein-1 / max(std(ref), 0.001) >= 0.1 per column."""
    return [stats.wasserstein_distance(ref[:, j], cur[:, j]) / max(float(np.std(ref[:, j])), 0.001) >= 0.1
            for j in range(ref.shape[1])]


def bench_table(rows: int, cols: int) -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(rows, cols))
    cur = rng.normal(size=(rows, cols)) + np.where(np.arange(cols) % 4 == 0, 0.3, 0.0)
    peer_name = "evidently DataDriftPreset"
    try:
        import pandas as pd
        from evidently import Report  # noqa: F401
        from evidently.presets import DataDriftPreset  # noqa: F401

        ref_frame, cur_frame = pd.DataFrame(ref), pd.DataFrame(cur)
        ref_frame.columns = cur_frame.columns = [f"x{j}" for j in range(cols)]

        def peer() -> list[bool]:
            snapshot = Report([DataDriftPreset()]).run(cur_frame, ref_frame)
            values = snapshot.dict()["metrics"]
            return [m["value"] >= 0.1 for m in values if "ValueDrift" in m.get("metric_id", "")]
    except Exception as error:  # evidently 0.7.23 fails to import with pandas 3 (see results note)
        peer_name = f"evidently's rule via scipy (evidently import failed: {type(error).__name__})"

        def peer() -> list[bool]:
            return _evidently_rule_with_scipy(ref, cur)

    peer_time, peer_verdicts = timed(peer)
    for threads in (1, cpu_count()):
        ours_time, report = timed(lambda: drift.compare(ref, cur, n_jobs=threads))
        same = int(np.sum(np.asarray(peer_verdicts) == report.table["drifted"].to_numpy()))
        add(f"table {cols} cols x {rows:,} rows", peer_name, peer_time, ours_time,
            f"same verdict {same}/{cols} columns", f"peer 1 / loopwise {threads}")


def _numpy_mmd_permutation(x: np.ndarray, y: np.ndarray, sigma: float, n_permutations: int, seed: int) -> tuple:
    """Straightforward numpy MMD permutation test: full kernel matrix once, then one
    quadratic form per permutation (what alibi-detect's MMDDrift does with torch)."""
    z = np.vstack([x, y])
    sq = (z * z).sum(axis=1)
    kernel = np.exp(-np.maximum(sq[:, None] + sq[None, :] - 2.0 * z @ z.T, 0.0) / (2 * sigma**2))
    np.fill_diagonal(kernel, 0.0)
    n, m = len(x), len(y)
    total, rows = kernel.sum(), kernel.sum(axis=1)

    def mmd(s: np.ndarray) -> float:
        s_xx = s @ (kernel @ s)
        s_x = s @ rows
        return s_xx / (n * (n - 1)) + (total - 2 * s_x + s_xx) / (m * (m - 1)) - 2 * (s_x - s_xx) / (n * m)

    observed = mmd(np.r_[np.ones(n), np.zeros(m)])
    rng = np.random.default_rng(seed)
    null = []
    for _ in range(n_permutations):
        s = np.zeros(n + m)
        s[rng.permutation(n + m)[:n]] = 1.0
        null.append(mmd(s))
    return observed, (np.sum(np.asarray(null) >= observed) + 1) / (n_permutations + 1)


def bench_mmd(n: int, d: int, permutations: int) -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(n, d)), rng.normal(0.02, size=(n, d))
    sigma = drift.multivariate.median_bandwidth(np.vstack([x, y]), seed=0)
    start = time.perf_counter()
    peer_stat, peer_p = _numpy_mmd_permutation(x, y, sigma, permutations, 0)
    peer_time = time.perf_counter() - start  # one run: a multi-minute peer, see the note
    for threads in (1, cpu_count()):
        ours_time, ours = timed(lambda: drift.mmd_test(x, y, bandwidth=sigma, n_permutations=permutations,
                                                       random_state=0, n_jobs=threads), repeats=5)
        add(f"MMD {n:,} x {n:,} x {d}, {permutations} perms", "numpy permutation MMD (1 run)", peer_time, ours_time,
            f"|dMMD2| = {abs(ours.statistic - peer_stat):.1e}; p {peer_p:.3f} vs {ours.p_value:.3f}",
            f"numpy BLAS {cpu_count()} / loopwise {threads}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = parser.parse_args()
    if args.quick:
        bench_ks(100_000)
        bench_table(20_000, 20)
        bench_mmd(1000, 20, 100)
    else:
        bench_ks(1_000_000)
        bench_table(100_000, 100)
        bench_mmd(5000, 20, 500)
    header = ("| case | peer | peer time | loopwise time | ratio | accuracy | threads |\n"
              "|---|---|---|---|---|---|---|\n")
    body = "\n".join("| " + " | ".join(row) + " |" for row in ROWS)
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    text = (f"# drift benchmarks\n\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu}, {cpu_count()} cores "
            f"(load average {os.getloadavg()[0]:.1f} at the end: the machine is shared)\n\n{header}{body}\n")
    print(text)
    out = Path(__file__).parent / "results" / "drift.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
