"""One lock per learner, so threads sharing a learner take turns in fit/partial_fit.

The core updates the state arrays in place with the GIL released, and the Python side
replaces them when classes or features arrive; two threads in ``partial_fit`` at once would
interleave both. The lock is created lazily (estimators store only their parameters in
``__init__``) and is left out of pickles and copies.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

_CREATE = threading.Lock()
_ATTR = "_loopwise_fit_lock"

F = TypeVar("F", bound=Callable[..., Any])


def instance_lock(obj: Any) -> threading.RLock:
    """The learner's own re-entrant lock (fit may call partial_fit)."""
    lock = obj.__dict__.get(_ATTR)
    if lock is None:
        with _CREATE:
            lock = obj.__dict__.get(_ATTR)
            if lock is None:
                lock = threading.RLock()
                obj.__dict__[_ATTR] = lock
    return lock


def serialised(method: F) -> F:
    """Run ``method`` holding the instance's lock."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with instance_lock(self):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def without_lock(state: dict) -> dict:
    """A copy of an instance ``__dict__`` fit for pickling."""
    state = dict(state)
    state.pop(_ATTR, None)
    return state
