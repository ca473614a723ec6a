"""Apache DataSketches behind one small seam: KLL quantile sketches of numeric columns and
frequent-item sketches of categorical ones (the ``datasketches`` package, extras ``spark``
and ``dask``)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["require", "new_kll", "merge_kll", "kll_points", "new_frequent", "merge_frequent"]


def require() -> Any:
    """The ``datasketches`` module, or an ImportError that says how to install it."""
    try:
        import datasketches
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("profiles need Apache DataSketches: pip install 'loopwise[spark]' (or "
                          "'loopwise[dask]', or just 'datasketches')") from error
    return datasketches


def new_kll(k: int, values: np.ndarray) -> Any:
    sketch = require().kll_doubles_sketch(int(k))
    if values.size:
        sketch.update(values)
    return sketch


def merge_kll(k: int, sketches: list) -> Any:
    merged = require().kll_doubles_sketch(int(k))
    for sketch in sketches:
        merged.merge(sketch)
    return merged


def kll_points(sketch: Any) -> tuple[np.ndarray, np.ndarray]:
    """The sketch's retained items (sorted) and the weight each stands for: a weighted
    sample whose empirical distribution is the sketch's estimate of the column's."""
    if sketch.is_empty():
        return np.empty(0), np.empty(0)
    pairs = np.array([(item, weight) for item, weight in sketch], dtype=np.float64)
    order = np.argsort(pairs[:, 0], kind="stable")
    return pairs[order, 0], pairs[order, 1]


def new_frequent(lg_max_k: int, categories: list, counts: np.ndarray) -> Any:
    sketch = require().frequent_strings_sketch(int(lg_max_k))
    for category, count in zip(categories, counts):
        sketch.update(str(category), int(count))
    return sketch


def merge_frequent(lg_max_k: int, sketches: list) -> Any:
    merged = require().frequent_strings_sketch(int(lg_max_k))
    for sketch in sketches:
        merged.merge(sketch)
    return merged
