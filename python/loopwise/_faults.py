"""Named crash points for the kill tests.

``LOOPWISE_TEST_KILL_AT=<name>`` in the environment makes :func:`crash_point` SIGKILL the
process when it reaches the point of that name (the tests set it in a child process only);
unset — always, outside the kill tests — a crash point is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

__all__ = ["crash_point"]

_VARIABLE = "LOOPWISE_TEST_KILL_AT"


def crash_point(name: str) -> None:
    """Die here, as a power cut or ``kill -9`` would, when the kill tests ask for it.

    Examples
    --------
    >>> crash_point("nowhere")  # no LOOPWISE_TEST_KILL_AT: nothing happens
    """
    if os.environ.get(_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
