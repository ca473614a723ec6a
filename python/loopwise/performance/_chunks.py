"""Consecutive chunks of rows that each get one estimate."""

from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ["chunk_bounds", "check_chunk_size"]


def check_chunk_size(chunk_size: Optional[int]) -> Optional[int]:
    """``chunk_size`` validated: None (one chunk) or an int >= 1."""
    if chunk_size is None:
        return None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be None or an int >= 1, got {chunk_size!r}")
    return int(chunk_size)


def chunk_bounds(n_rows: int, chunk_size: Optional[int]) -> list:
    """``[(start, stop), ...]`` of consecutive chunks; the last one may be shorter.

    Examples
    --------
    >>> chunk_bounds(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    size = n_rows if chunk_size is None else chunk_size
    return [(start, min(start + size, n_rows)) for start in range(0, n_rows, max(size, 1))]
