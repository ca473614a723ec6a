"""Four writer processes on one feedback store, SIGKILLed at random moments (tests and
benchmarks/loop_store.py share it).

Each writer logs rows ``w<worker>-<seq>`` whose content depends only on (worker, seq), and
prints ``seq`` only after ``log_predictions`` returned: a printed seq is an acknowledged row.
A killed writer restarts from its last acknowledged seq + 1, so a row committed but not yet
acknowledged is logged again, which must be a no-op. The parent never relies on sleeps for
ordering: it kills only writers that said ``ready``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Optional

import numpy as np

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from loopwise.loop import FeedbackStore

    location, worker, seq, count, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    store = FeedbackStore(location)
    print("ready", flush=True)
    if sys.argv[6] == "wait":
        sys.stdin.readline()  # start together
    end = seq + count if count >= 0 else None
    while end is None or seq < end:
        seqs = range(seq, seq + batch)
        X = np.array([[worker, s, s * 0.5, (s * 7919) % 101] for s in seqs], dtype=np.float64)
        store.log_predictions([f"w{worker}-{s}" for s in seqs], X, [s % 3 for s in seqs], model_version=1,
                              timestamp="2026-01-01")
        print(seq + batch - 1, flush=True)  # acknowledged: the call returned
        seq += batch
    print("done", flush=True)
    """
)


class Writer:
    """One writer process and a thread collecting its acknowledgements."""

    def __init__(self, script: str, env: dict, location: str, worker: int, start: int, count: int = -1,
                 batch: int = 1, wait: bool = False) -> None:
        self.worker = worker
        self.start = start
        self.acknowledged: list[int] = []
        self.ready = threading.Event()
        self.done = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, script, location, str(worker), str(start), str(count), str(batch),
             "wait" if wait else "go"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env)
        self._batch = batch
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            line = line.strip()
            if line == "ready":
                self.ready.set()
            elif line == "done":
                self.done.set()
            elif line.isdigit():
                last = int(line)
                self.acknowledged.extend(range(last - self._batch + 1, last + 1))
        self.ready.set()  # exited: nobody waits forever

    def go(self) -> None:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def kill(self, timeout: float = 120) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()

    def error(self) -> str:
        return f"writer {self.worker} exited with {self.process.returncode}"

    @property
    def next_seq(self) -> int:
        return (max(self.acknowledged) + 1) if self.acknowledged else self.start


def env_for(package_root: str) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, *[p for p in sys.path if p]])}


def write_script(folder: str) -> str:
    path = os.path.join(folder, "kill_writer.py")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(WRITER)
    return path


def run_kills(location: str, folder: str, package_root: str, *, kills: int, seed: int = 0, writers: int = 4,
              batch: int = 1, max_delay: float = 0.05, ready_timeout: float = 120) -> dict:
    """Run ``writers`` writers, SIGKILL one at a random moment ``kills`` times (restarting it),
    then kill the rest; returns acknowledged ids per worker, kills and seconds."""
    rng = np.random.default_rng(seed)
    script, env = write_script(folder), env_for(package_root)
    acknowledged: dict[int, set] = {w: set() for w in range(writers)}
    running = [Writer(script, env, location, w, 0, batch=batch) for w in range(writers)]
    started = time.perf_counter()
    done_kills = 0
    try:
        while done_kills < kills:
            # A random writer among those already logging (restarted ones are still importing).
            deadline = time.monotonic() + ready_timeout
            while not any(w.ready.is_set() for w in running):
                if time.monotonic() > deadline:
                    raise RuntimeError("no writer became ready")
                time.sleep(0.01)
            ready = [w.worker for w in running if w.ready.is_set()]
            worker = int(ready[int(rng.integers(len(ready)))])
            writer = running[worker]
            if writer.process.poll() is not None:
                raise RuntimeError(f"{writer.error()}: {writer.process.stderr.read()}")
            time.sleep(float(rng.uniform(0.0, max_delay)))  # inside some later log call, most likely
            writer.kill()
            if writer.process.returncode != -signal.SIGKILL:
                raise RuntimeError(f"{writer.error()} instead of being killed")
            done_kills += 1
            acknowledged[worker].update(writer.acknowledged)
            running[worker] = Writer(script, env, location, worker, writer.next_seq, batch=batch)
    finally:
        for writer in running:
            writer.kill()
            acknowledged[writer.worker].update(writer.acknowledged)
    return {"acknowledged": {w: sorted(s) for w, s in acknowledged.items()}, "kills": done_kills,
            "seconds": time.perf_counter() - started}


def check_store(location: str, acknowledged: dict) -> dict:
    """Every acknowledged row present exactly once, with its content; returns counts."""
    from loopwise.loop import FeedbackStore

    with FeedbackStore(location) as store:
        table = store.records().to_frame()
        counts = store.counts()
    ids = table["id"].tolist()
    present = set(ids)
    wanted = {f"w{w}-{s}" for w, seqs in acknowledged.items() for s in seqs}
    lost = sorted(wanted - present)
    duplicated = len(ids) - len(present)
    frame = table.set_index("id")
    sample = sorted(wanted)[:: max(1, len(wanted) // 50)]
    wrong = [key for key in sample if frame.loc[key, "x1"] != float(key.split("-")[1])
             or frame.loc[key, "x0"] != float(key[1:].split("-")[0])]
    return {"acknowledged": len(wanted), "stored": len(ids), "lost": lost, "duplicated": duplicated,
            "counter_matches": counts["predictions"] == len(ids), "wrong_content": wrong}


def single_row_rate(location: str, folder: str, package_root: str, *, rows_per_writer: int,
                    writers: int = 4) -> Optional[float]:
    """Rows per second of ``writers`` processes each logging ``rows_per_writer`` single rows at once."""
    script, env = write_script(folder), env_for(package_root)
    running = [Writer(script, env, location, w, 0, count=rows_per_writer, wait=True) for w in range(writers)]
    try:
        for writer in running:
            if not writer.ready.wait(120):
                raise RuntimeError(writer.error())
        started = time.perf_counter()
        for writer in running:
            writer.go()
        for writer in running:
            if not writer.done.wait(600):
                raise RuntimeError(f"{writer.error()}: {writer.process.stderr.read()}")
        return writers * rows_per_writer / (time.perf_counter() - started)
    finally:
        for writer in running:
            writer.kill()
