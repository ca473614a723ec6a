"""Kill a forked child at its N-th executed line of loopwise code ("a kill at any line")."""

from __future__ import annotations

import os
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__import__("loopwise").__file__)))


def _kill_at_line(limit: int) -> None:
    """SIGKILL this process at the ``limit``-th line loopwise executes from now on."""
    import signal
    import sys

    count = [0]

    def local(frame, event, arg):
        if event == "line":
            count[0] += 1
            if count[0] >= limit:
                os.kill(os.getpid(), signal.SIGKILL)
        return local

    def trace(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(_PACKAGE_DIR) else None

    sys.settrace(trace)


def _count_lines(out: list) -> None:
    import sys

    def local(frame, event, arg):
        if event == "line":
            out[0] += 1
        return local

    sys.settrace(lambda frame, event, arg: local if frame.f_code.co_filename.startswith(_PACKAGE_DIR) else None)


def in_child(work, kill_at: int | None = None, count_to: str | None = None) -> int:
    """Run ``work()`` in a forked child, killed at its ``kill_at``-th loopwise line; its exit status.

    ``count_to``: a file the child writes the number of loopwise lines it ran into.
    Forking (not a new interpreter) keeps a killed run to the cost of the work itself.
    """
    import signal
    import traceback

    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            counter = [0]
            if kill_at is not None:
                _kill_at_line(kill_at)
            elif count_to is not None:
                _count_lines(counter)
            work()
            import sys

            sys.settrace(None)
            if count_to is not None:
                with open(count_to, "w", encoding="utf-8") as handle:
                    handle.write(str(counter[0]))
        except BaseException:  # noqa: BLE001 - reported through the exit status
            traceback.print_exc()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status) if os.WTERMSIG(status) != signal.SIGKILL else -signal.SIGKILL
    return os.WEXITSTATUS(status)
