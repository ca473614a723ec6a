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
from ._codec import FrameCodec, is_frame

__all__ = ["Background", "kmeans", "sample", "as_background"]


@dataclass
class Background:
    """Background rows with weights (summing to 1) and, for tables, their schema.

    Attributes
    ----------
    data : ndarray of shape (n_rows, n_features)
        Numeric rows; for a DataFrame, loopwise's internal codes of its values
        (see ``codec``), never shown to the model.
    weights : ndarray of shape (n_rows,)
        Non-negative weights summing to 1.
    feature_names : list of str or None
        Column names when the rows came from a table.
    template : pandas.DataFrame or None
        A zero-row frame with the original columns and dtypes, so synthetic rows reach
        the model as DataFrames of the same schema.
    codec : FrameCodec or None
        For a DataFrame: turns the coded rows back into a frame with the user's values,
        column names and dtypes (strings, categories, booleans, datetimes, missing values).

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
    codec: Any = None

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

    @property
    def frame(self) -> Any:
        """The rows as a DataFrame with the user's columns and dtypes (None for arrays).

        Examples
        --------
        >>> import pandas as pd
        >>> as_background(pd.DataFrame({"city": ["Oslo", "Rome"]})).frame["city"].tolist()
        ['Oslo', 'Rome']
        """
        return None if self.codec is None else self.codec.decode(self.data)

    def __repr__(self) -> str:
        return f"Background(rows={self.data.shape[0]}, features={self.data.shape[1]})"


def _template(X: Any) -> Any:
    if is_frame(X):
        return X.iloc[:0].copy()
    return None


def _from_frame(X: Any, rows: Optional[np.ndarray], weights: Optional[np.ndarray]) -> Background:
    """Background of (some) rows of a DataFrame, coded by a codec built on the whole frame."""
    codec = FrameCodec(X)
    data = codec.encode(X)
    if rows is not None:
        data = data[rows]
    return Background(data, np.ones(len(data)) if weights is None else weights, codec.names, _template(X), codec)


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
    if is_frame(data):
        if len(data) == 0:
            raise ValueError(f"{name} is an empty DataFrame; pass at least one row")
        return _from_frame(data, None, None)
    matrix = as_matrix(data, name=name, keep_float32=False)
    return Background(matrix.values, np.ones(matrix.values.shape[0]), matrix.feature_names, _template(data))


def _check_count(k: Any, name: str, n_rows: int) -> int:
    if isinstance(k, bool) or not isinstance(k, Integral):
        raise TypeError(f"{name} must be an int, got {type(k).__name__}")
    if k < 1:
        raise ValueError(f"{name} must be at least 1, got {k}")
    return min(int(k), n_rows)


def _embedding(X: Any) -> np.ndarray:
    """Numbers for clustering a mixed frame: standardised numeric/datetime columns (with a
    missing indicator) and one-hot categories scaled so two categories are 1 apart."""
    import pandas as pd

    parts = []
    for j in range(X.shape[1]):
        column = X.iloc[:, j]
        dtype = column.dtype
        numeric = (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)) and not isinstance(
            dtype, pd.CategoricalDtype
        )
        if numeric or pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            if numeric:
                values = pd.Series(column).to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                if getattr(dtype, "tz", None) is not None:
                    column = column.dt.tz_convert(None)
                missing = pd.isna(column).to_numpy()
                values = column.to_numpy().astype("int64").astype(np.float64)
                values[missing] = np.nan
            missing = np.isnan(values)
            finite = values[~missing]
            centre = finite.mean() if finite.size else 0.0
            scale = finite.std() if finite.size and finite.std() > 0 else 1.0
            parts.append(np.where(missing, 0.0, (values - centre) / scale)[:, None])
            if missing.any():
                parts.append(missing.astype(np.float64)[:, None])
        else:
            codes = pd.factorize(column.astype(object), use_na_sentinel=False)[0]
            parts.append(np.eye(codes.max() + 1)[codes] / np.sqrt(2.0))
    return np.hstack(parts) if parts else np.zeros((len(X), 0))


def _medoids(X: Any, k: int, seed: int) -> Background:
    from sklearn.cluster import KMeans

    embedded = _embedding(X)
    model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(embedded)
    rows, weights = [], []
    for c in range(k):
        members = np.flatnonzero(model.labels_ == c)
        if members.size == 0:
            continue
        distance = ((embedded[members] - model.cluster_centers_[c]) ** 2).sum(axis=1)
        rows.append(int(members[np.argmin(distance)]))
        weights.append(float(members.size))
    order = np.argsort(rows)
    return _from_frame(X, np.asarray(rows)[order], np.asarray(weights)[order])


def kmeans(X: Any, k: int, *, round_values: bool = True, random_state: RandomState = None) -> Background:
    """Summarise ``X`` by ``k`` weighted k-means centres (weights = cluster sizes).

    Parameters
    ----------
    X : array-like or DataFrame of shape (n, m)
        Rows to summarise. A DataFrame may hold strings, categories, booleans,
        datetimes and missing values (see Notes).
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
        For a DataFrame, ``background.frame`` shows the summary with the user's dtypes.

    Notes
    -----
    A numeric array (or an all-numeric/categorical DataFrame without missing values) is
    summarised by k-means centres as in shap. A DataFrame with string, boolean-with-missing,
    datetime or other non-numeric columns, or with missing values, cannot be averaged:
    it is summarised by weighted *medoids* instead. The rows are clustered with k-means on
    standardised numeric and datetime columns (missing values at the mean plus a missing
    indicator) and one-hot categories scaled so that two different categories are 1 apart
    (a k-prototypes-like distance); each cluster is represented by its member nearest to
    the centre, an actual row of ``X`` with all its values, weighted by the cluster size.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.zeros((30, 2)), np.ones((10, 2))]
    >>> b = kmeans(X, 2, random_state=0)
    >>> sorted(b.weights.round(2).tolist())
    [0.25, 0.75]
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"city": ["Oslo"] * 30 + ["Rome"] * 10, "n": [1] * 30 + [None] * 10})
    >>> kmeans(frame, 2, random_state=0).frame.sort_values("city")["city"].tolist()
    ['Oslo', 'Rome']
    """
    from sklearn.cluster import KMeans

    seed = resolve_seed(random_state) % (2**32)
    if is_frame(X):
        if len(X) == 0:
            raise ValueError("X is an empty DataFrame; pass at least one row")
        codec = FrameCodec(X)
        codes = codec.encode(X)
        if codec.mixed or np.isnan(codes).any():
            return _medoids(X, _check_count(k, "k", len(X)), seed)
    matrix = as_matrix(X, name="X", allow_nan=False, allow_inf=False, keep_float32=False)
    values = matrix.values
    k = _check_count(k, "k", values.shape[0])
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
    codec = FrameCodec(X) if is_frame(X) else None
    return Background(centres[keep], counts[keep], matrix.feature_names or feature_names_of(X), _template(X), codec)


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
    if is_frame(X):
        n = _check_count(n, "n", len(X))
        rng = np.random.default_rng(resolve_seed(random_state))
        return _from_frame(X, np.sort(rng.choice(len(X), size=n, replace=False)), None)
    matrix = as_matrix(X, name="X", keep_float32=False)
    values = matrix.values
    n = _check_count(n, "n", values.shape[0])
    rng = np.random.default_rng(resolve_seed(random_state))
    rows = np.sort(rng.choice(values.shape[0], size=n, replace=False))
    return Background(values[rows], np.ones(n), matrix.feature_names, _template(X))
