"""Inputs of a nanny model as a float matrix, encoded the same way on the reference and later.

The user's model never sees this encoding: it is only what the nanny model learns from.
Numbers stay numbers; any other column becomes the code of its value in the reference (the
most frequent values, up to what a histogram tree takes as categories), NaN when unseen.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FeatureEncoder"]

# HistGradientBoosting takes at most 255 categories per feature (codes 0..254; NaN is missing).
_MAX_CATEGORIES = 250


class FeatureEncoder:
    """Fitted on the reference's columns; turns frames or arrays into ``float64`` matrices.

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [1.0, 2.0], "colour": ["red", "blue"]})
    >>> encoder = FeatureEncoder().fit(frame)
    >>> encoder.transform(pd.DataFrame({"x": [3.0], "colour": ["green"]})).tolist(), encoder.categorical_
    ([[3.0, nan]], [False, True])
    """

    def fit(self, X: Any) -> "FeatureEncoder":
        frame = self._frame(X, None)
        self.columns_ = list(frame.columns)
        self.vocabulary_ = {}
        for column in self.columns_:
            values = frame[column]
            if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
                counts = values.dropna().astype(str).value_counts()
                self.vocabulary_[column] = {v: i for i, v in enumerate(counts.index[:_MAX_CATEGORIES])}
        self.categorical_ = [c in self.vocabulary_ for c in self.columns_]
        return self

    def transform(self, X: Any) -> np.ndarray:
        frame = self._frame(X, self.columns_)
        out = np.empty((len(frame), len(self.columns_)), dtype=np.float64)
        for j, column in enumerate(self.columns_):
            values = frame[column]
            if column in self.vocabulary_:
                codes = values.astype(object).where(values.notna(), None).map(
                    lambda v, vocab=self.vocabulary_[column]: vocab.get(str(v)) if v is not None else None)
                out[:, j] = pd.to_numeric(codes, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                out[:, j] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        return out

    @staticmethod
    def _frame(X: Any, columns: Any) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            frame = X
        else:
            array = np.asarray(X)
            if array.ndim != 2:
                raise ValueError(f"X must be 2-D (rows, features), got shape {array.shape}")
            frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        if columns is not None:
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ValueError(f"X lacks the reference's columns {missing[:5]}")
            frame = frame[columns]
        return frame
