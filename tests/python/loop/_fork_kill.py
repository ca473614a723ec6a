"""Run work in a forked child and kill it at a random moment.

The kill is a ``SIGALRM`` with its default action, armed in the child: the kernel ends the
process at once, wherever it is — between two Python lines or inside C code (an SQLite
commit, an fsync, a model fit) — and no Python cleanup runs, exactly as with SIGKILL. Forking
(not a new interpreter) keeps a killed run to the cost of the work itself.
"""

from __future__ import annotations

import json
import os
import signal
import time
import traceback


def in_child(work, *, kill_after: float | None = None, measure_to: str | None = None) -> int:
    """Run ``work()`` in a forked child; its exit status (``-signal`` when killed).

    ``kill_after``: seconds after which the child dies. ``measure_to``: a JSON file the child
    writes its run time into (``{"seconds": ...}``).
    """
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            if kill_after is not None:
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                signal.setitimer(signal.ITIMER_REAL, max(kill_after, 1e-4))
            started = time.perf_counter()
            work()
            signal.setitimer(signal.ITIMER_REAL, 0)
            if measure_to is not None:
                with open(measure_to, "w", encoding="utf-8") as handle:
                    json.dump({"seconds": time.perf_counter() - started}, handle)
        except BaseException:  # noqa: BLE001 - reported through the exit status
            traceback.print_exc()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def measured(path: str) -> float:
    with open(path, encoding="utf-8") as handle:
        return float(json.load(handle)["seconds"])
