"""The one place that turns an ``n_jobs`` argument into a thread count."""

from __future__ import annotations

import os
from numbers import Integral
from typing import Optional

__all__ = ["resolve_n_jobs", "cpu_count"]


def cpu_count() -> int:
    """Cores this process may run on (affinity-aware), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS and Windows have no affinity API
        return max(1, os.cpu_count() or 1)


def resolve_n_jobs(n_jobs: Optional[int]) -> int:
    """Resolve ``n_jobs`` to a positive thread count.

    ``None`` uses every core, or ``OMP_NUM_THREADS`` when it is set; ``-1`` uses every
    core; ``-2`` all but one, and so on (``n_cpus + 1 + n_jobs``); ``0`` is an error.

    Parameters
    ----------
    n_jobs : int or None
        The caller's request.

    Returns
    -------
    int
        Number of threads, at least 1.

    Examples
    --------
    >>> from loopwise._threads import resolve_n_jobs
    >>> resolve_n_jobs(1)
    1
    """
    n_cpus = cpu_count()
    if n_jobs is None:
        env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
        if env.isdigit() and int(env) > 0:
            return int(env)
        return n_cpus
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral):
        raise TypeError(f"n_jobs must be an int or None, got {type(n_jobs).__name__}")
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs=0 is not valid: use None or -1 for all cores, or a positive count")
    if n_jobs < 0:
        return max(1, n_cpus + 1 + n_jobs)
    return n_jobs
