"""Shared timing and table helpers for the benchmark scripts (not part of the package)."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from typing import Callable, Sequence


def median_time(run: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``repeats`` calls after ``warmup`` untimed calls."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def header(title: str) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"## {title}\n\n{now}; {cpu_model()}; {os.cpu_count()} cores; Python {platform.python_version()}\n"


def table(rows: Sequence[Sequence[object]], columns: Sequence[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_format(v) for v in row) + " |")
    return "\n".join(lines)


def _format(value: object) -> str:
    if isinstance(value, float):
        if value == 0.0:
            return "0"
        if abs(value) < 1e-3 or abs(value) >= 1e5:
            return f"{value:.2e}"
        return f"{value:.3g}"
    return str(value)


def write_result(name: str, text: str) -> None:
    """Print the table and keep it in benchmarks/results/<name>.md."""
    print(text)
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{name}.md"), "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
