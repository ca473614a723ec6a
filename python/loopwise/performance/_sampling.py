"""Sampling error of a per-chunk metric, measured once on the labelled reference.

The realised metric is recomputed on bootstrap resamples of the reference; its standard
deviation at the reference's size ``n_ref`` is scaled to a chunk of ``n`` rows by
``sqrt(n_ref / n)`` (every metric here is a smooth function of means, so its spread shrinks as
one over the square root of the rows). This is the spread of the realised metric on a chunk
drawn like the reference, the noise that no estimate of it can remove; for accuracy it is the
binomial ``sqrt(a (1 - a) / n)``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["MAX_RESAMPLE_ROWS", "bootstrap_sd", "scale_sd"]


# Largest resample: the spread at this many rows, scaled, serves any larger reference.
MAX_RESAMPLE_ROWS = 20_000
# Cells of one block of resample weights (8 bytes each): 2,000,000 is 16 MB.
_BLOCK_CELLS = 2_000_000


def bootstrap_sd(n_rows: int, statistic: Callable[[np.ndarray], dict], n_resamples: int,
                 random_state: int) -> dict:
    """Standard deviation of each entry of ``statistic(W)`` over bootstrap resamples of
    ``min(n_rows, MAX_RESAMPLE_ROWS)`` rows.

    ``statistic`` takes a ``(b, n_rows)`` matrix whose rows count how often each row was drawn
    and returns ``{name: array of b values}``; resamples are evaluated in blocks to bound memory.

    Examples
    --------
    >>> values = np.arange(100.0)
    >>> sd = bootstrap_sd(100, lambda W: {"mean": W @ values / W.sum(axis=1)}, 200, 0)["mean"]
    >>> 2.0 < sd < 4.0  # the standard error of the mean, 28.9 / 10
    True
    """
    rng = np.random.default_rng(random_state)
    size = min(n_rows, MAX_RESAMPLE_ROWS)
    block = max(1, min(n_resamples, _BLOCK_CELLS // max(n_rows, 1)))
    draws: dict = {}
    for first in range(0, n_resamples, block):
        b = min(block, n_resamples - first)
        W = np.zeros((b, n_rows))
        for i in range(b):
            W[i] = np.bincount(rng.integers(0, n_rows, size), minlength=n_rows)
        for name, values in statistic(W).items():
            draws.setdefault(name, []).append(np.asarray(values, dtype=float))
    return {name: _sd(np.concatenate(values)) for name, values in draws.items()}


def _sd(values: np.ndarray) -> float:
    # A metric undefined on most resamples (one class only, no predicted positives) has no spread.
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(np.std(finite, ddof=1)) if len(finite) >= 2 else float("nan")


def scale_sd(sd_at_reference: float, n_reference: int, n_rows: int) -> float:
    """The sampling error for ``n_rows`` rows from the one measured at ``n_reference`` rows.

    Examples
    --------
    >>> scale_sd(0.01, 4000, 1000)
    0.02
    """
    return float(sd_at_reference * np.sqrt(n_reference / n_rows))
