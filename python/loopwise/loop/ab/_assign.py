"""Deterministic traffic split: an arm from a keyed hash of the request id.

The same id always lands in the same arm, in every process, on every machine and after
every restart: the hash is BLAKE2b keyed with the experiment's salt (Python's ``hash()`` is
salted per process and would reshuffle users at each restart). A new salt gives an
independent split, so consecutive experiments do not reuse the same users as challengers.
"""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

import numpy as np

__all__ = ["bucket", "assign"]

_SCALE = float(2 ** 64)


def _check_salt(salt: Any) -> bytes:
    if not isinstance(salt, str) or not salt:
        raise ValueError(f"salt must be a non-empty str (e.g. the experiment's name), got {salt!r}")
    key = salt.encode()
    if len(key) > 64:  # BLAKE2b's key limit; a longer salt is hashed down first
        key = hashlib.blake2b(key, digest_size=64).digest()
    return key


def bucket(ids: Sequence[Any], salt: str) -> np.ndarray:
    """A uniform number in [0, 1) per request id, fixed by ``(salt, id)``.

    Examples
    --------
    >>> bucket(["user-1", "user-2"], "exp-1").round(4).tolist()
    [0.584, 0.21]
    """
    key = _check_salt(salt)
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
        raise TypeError(f"ids must be a sequence of request ids, got {type(ids).__name__}")
    out = np.empty(len(ids), dtype=np.float64)
    for index, value in enumerate(ids):
        digest = hashlib.blake2b(str(value).encode(), key=key, digest_size=8).digest()
        out[index] = int.from_bytes(digest, "big") / _SCALE
    return out


def assign(ids: Sequence[Any], *, share: float, salt: str) -> np.ndarray:
    """True for the ids the challenger serves (a ``share`` of them), False for the champion.

    Raising ``share`` only moves ids from the champion to the challenger, never back: an id
    keeps its arm as an experiment ramps up.

    Examples
    --------
    >>> assign(["a", "b", "c", "d", "e", "f"], share=0.5, salt="exp-1").tolist()
    [False, True, True, True, False, True]
    """
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be a number in [0, 1] (the challenger's share of traffic), got {share!r}")
    return bucket(ids, salt) < float(share)
