"""Seeded synthetic streams with known drift, for demos, tests and benchmarks.

Nothing is downloaded: every stream is generated from a seed, and the true change points are
returned with the data so detectors and retraining policies can be scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

__all__ = ["DriftingStream", "make_drifting_stream"]

_KINDS = ("abrupt", "gradual", "recurring", "none")
_TASKS = ("classification", "regression")


@dataclass
class DriftingStream:
    """A generated stream: features, targets, timestamps and the true concept per row."""

    X: pd.DataFrame
    y: np.ndarray
    timestamp: np.ndarray
    concept: np.ndarray
    change_points: list[int] = field(default_factory=list)
    task: str = "classification"

    def batches(self, size: int):
        """Yield ``(X, y, timestamp)`` chunks of ``size`` rows in stream order.

        Examples
        --------
        >>> stream = make_drifting_stream(n_samples=1000, random_state=0)
        >>> sum(len(X) for X, _, _ in stream.batches(256))
        1000
        """
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        for start in range(0, len(self.y), size):
            stop = start + size
            yield self.X.iloc[start:stop], self.y[start:stop], self.timestamp[start:stop]


def _concept_weights(rng: np.random.Generator, n_features: int, n_concepts: int) -> np.ndarray:
    weights = rng.normal(size=(n_concepts, n_features))
    weights[:, n_features // 2 :] *= 0.2  # the later features matter less
    # Each new concept flips the sign of a block of strong features (a real concept drift).
    for c in range(1, n_concepts):
        block = slice(0, max(2, n_features // 3)) if c % 2 else slice(max(2, n_features // 3), n_features // 2 + 1)
        weights[c, block] = -weights[0, block]
    return weights


def make_drifting_stream(
    n_samples: int = 20_000,
    n_features: int = 8,
    *,
    kind: str = "abrupt",
    task: str = "classification",
    change_points: Optional[list[int]] = None,
    width: int = 2000,
    covariate_shift: float = 0.5,
    noise: float = 0.05,
    start: str = "2026-01-01",
    freq: str = "1min",
    random_state: int = 0,
) -> DriftingStream:
    """Generate a stream whose feature->target relation (and input distribution) changes.

    Parameters
    ----------
    n_samples, n_features : int
        Size of the stream.
    kind : {"abrupt", "gradual", "recurring", "none"}
        Abrupt switches concept at each change point; gradual mixes old and new concepts over
        ``width`` rows; recurring alternates between two concepts; none never changes.
    task : {"classification", "regression"}
        Binary labels from a logistic model, or a continuous target.
    change_points : list of int, optional
        Rows where the concept changes; by default at 40% and 70% of the stream.
    width : int
        Transition length of gradual drift.
    covariate_shift : float
        Mean shift of the first features after each change (data drift on top of concept drift).
    noise : float
        Label noise (flip rate) or target noise (standard deviation).
    start, freq : str
        Timestamps: first one and spacing (pandas offset alias).
    random_state : int
        Seed; equal seeds give equal streams.

    Returns
    -------
    DriftingStream

    Examples
    --------
    >>> stream = make_drifting_stream(n_samples=2000, kind="abrupt", random_state=1)
    >>> stream.X.shape, stream.change_points
    ((2000, 8), [800, 1400])
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if task not in _TASKS:
        raise ValueError(f"task must be one of {_TASKS}, got {task!r}")
    if n_samples < 10 or n_features < 2:
        raise ValueError("n_samples must be >= 10 and n_features >= 2")
    if not 0.0 <= noise < 0.5 and task == "classification":
        raise ValueError(f"noise must be in [0, 0.5) for classification, got {noise}")
    if kind == "none" and change_points:
        raise ValueError("kind='none' is a stream that never changes: pass no change_points")
    if change_points is None:
        change_points = [] if kind == "none" else [int(0.4 * n_samples), int(0.7 * n_samples)]
    change_points = sorted(int(c) for c in change_points)
    if any(c <= 0 or c >= n_samples for c in change_points):
        raise ValueError("change_points must lie strictly inside the stream")
    rng = np.random.default_rng(random_state)
    n_concepts = len(change_points) + 1
    weights = _concept_weights(rng, n_features, max(n_concepts, 2))

    rows = np.arange(n_samples)
    segment = np.searchsorted(change_points, rows, side="right")
    if kind == "recurring":
        concept = segment % 2
    elif kind == "gradual":
        concept = segment.copy()
        for index, point in enumerate(change_points):
            inside = (rows >= point) & (rows < point + width)
            share_new = (rows[inside] - point) / width
            keep_old = rng.random(inside.sum()) > share_new
            concept[inside] = np.where(keep_old, index, index + 1)
    else:
        concept = segment
    X = rng.normal(size=(n_samples, n_features))
    X[:, :2] += covariate_shift * concept[:, None]
    margin = np.einsum("ij,ij->i", X, weights[concept])
    if task == "classification":
        y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-4.0 * margin))).astype(np.int64)
        flip = rng.random(n_samples) < noise
        y[flip] = 1 - y[flip]
    else:
        y = margin + noise * rng.normal(size=n_samples)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(n_features)])
    timestamps = pd.date_range(start=start, periods=n_samples, freq=freq).to_numpy()
    return DriftingStream(frame, y, timestamps, concept, change_points, task)
