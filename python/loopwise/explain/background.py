"""Background data for the model-agnostic explainers, and two ways to summarise it.

A coalition's value is the weighted mean of the model over background rows whose
features outside the coalition stay as they are; the cost of every explainer grows
linearly with the number of background rows, hence :func:`kmeans` and :func:`sample`.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any, Optional

import numpy as np

from .._input import as_matrix, feature_names_of
from .._random import RandomState, resolve_seed

__all__ = ["Background", "kmeans", "sample", "as_background"]


@dataclass
class Background:
    """Background rows with weights (summing to 1) and, for tables, their schema.

    Attributes
    ----------
    data : ndarray of shape (n_rows, n_features)
        Numeric rows (pandas categoricals as category codes).
    weights : ndarray of shape (n_rows,)
        Non-negative weights summing to 1.
    feature_names : list of str or None
        Column names when the rows came from a table.
    template : pandas.DataFrame or None
        A zero-row frame with the original columns and dtypes, so synthetic rows reach
        the model as DataFrames of the same schema.

    Examples
    --------
    >>> import numpy as np
    >>> b = Background(np.zeros((2, 3)), np.array([0.5, 0.5]))
    >>> b.data.shape
    (2, 3)
    """

    data: np.ndarray
    weights: np.ndarray
    feature_names: Optional[list[str]] = None
    template: Any = None

    def __post_init__(self) -> None:
        self.data = np.ascontiguousarray(self.data, dtype=np.float64)
        weights = np.asarray(self.weights, dtype=np.float64)
        if self.data.ndim != 2 or self.data.shape[0] == 0:
            raise ValueError(f"background must be a non-empty 2-D array, got shape {self.data.shape}")
        if weights.shape != (self.data.shape[0],):
            raise ValueError(f"background weights have shape {weights.shape}; expected ({self.data.shape[0]},)")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError("background weights must be finite, non-negative and not all zero")
        self.weights = weights / weights.sum()

    def __len__(self) -> int:
        return self.data.shape[0]

    def __repr__(self) -> str:
        return f"Background(rows={self.data.shape[0]}, features={self.data.shape[1]})"


def _template(X: Any) -> Any:
    if type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "columns"):
        return X.iloc[:0].copy()
    return None


def as_background(data: Any, *, name: str = "background") -> Background:
    """Turn an array, DataFrame or :class:`Background` into a :class:`Background`.

    Examples
    --------
    >>> as_background([[1.0, 2.0], [3.0, 4.0]]).weights.tolist()
    [0.5, 0.5]
    """
    if isinstance(data, Background):
        return data
    if data is None:
        raise ValueError(f"{name} is required: pass background rows (an array or DataFrame)")
    matrix = as_matrix(data, name=name, keep_float32=False)
    return Background(matrix.values, np.ones(matrix.values.shape[0]), matrix.feature_names, _template(data))


def _check_count(k: Any, name: str, n_rows: int) -> int:
    if isinstance(k, bool) or not isinstance(k, Integral):
        raise TypeError(f"{name} must be an int, got {type(k).__name__}")
    if k < 1:
        raise ValueError(f"{name} must be at least 1, got {k}")
    return min(int(k), n_rows)


def kmeans(X: Any, k: int, *, round_values: bool = True, random_state: RandomState = None) -> Background:
    """Summarise ``X`` by ``k`` weighted k-means centres (weights = cluster sizes).

    Parameters
    ----------
    X : array-like or DataFrame of shape (n, m)
        Rows to summarise; missing values are not allowed.
    k : int
        Number of centres (at most ``n``).
    round_values : bool
        Move each coordinate of a centre to the nearest value that feature takes among the
        cluster's rows, so integer, binary and category-coded columns stay valid.
    random_state : int, Generator or None
        Seed of the k-means initialisation.

    Returns
    -------
    Background

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.zeros((30, 2)), np.ones((10, 2))]
    >>> b = kmeans(X, 2, random_state=0)
    >>> sorted(b.weights.round(2).tolist())
    [0.25, 0.75]
    """
    from sklearn.cluster import KMeans

    matrix = as_matrix(X, name="X", allow_nan=False, allow_inf=False, keep_float32=False)
    values = matrix.values
    k = _check_count(k, "k", values.shape[0])
    seed = resolve_seed(random_state) % (2**32)
    model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(values)
    centres = model.cluster_centers_.copy()
    labels = model.labels_
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    if round_values:
        for c in range(k):
            members = values[labels == c]
            if len(members) == 0:
                continue
            nearest = np.abs(members - centres[c]).argmin(axis=0)
            centres[c] = members[nearest, np.arange(values.shape[1])]
    keep = counts > 0
    return Background(centres[keep], counts[keep], matrix.feature_names or feature_names_of(X), _template(X))


def sample(X: Any, n: int, *, random_state: RandomState = None) -> Background:
    """A uniform sample of ``n`` rows of ``X`` (without replacement), equally weighted.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_rows, m)
    n : int
        Rows to keep (all of them when ``n >= n_rows``).
    random_state : int, Generator or None

    Returns
    -------
    Background

    Examples
    --------
    >>> import numpy as np
    >>> len(sample(np.arange(20.0).reshape(10, 2), 4, random_state=0))
    4
    """
    matrix = as_matrix(X, name="X", keep_float32=False)
    values = matrix.values
    n = _check_count(n, "n", values.shape[0])
    rng = np.random.default_rng(resolve_seed(random_state))
    rows = np.sort(rng.choice(values.shape[0], size=n, replace=False))
    return Background(values[rows], np.ones(n), matrix.feature_names, _template(X))
