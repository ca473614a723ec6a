"""Count, mean, sum of squared deviations, min and max of a numeric column, mergeable in
any grouping (Chan, Golub & LeVeque 1979): a partition's moments and the merged moments of
many partitions describe the same numbers as one pass over all values."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Moments"]


@dataclass(frozen=True)
class Moments:
    """Moments of the non-missing values of one column.

    Attributes
    ----------
    n : int
        Number of values.
    mean : float
        Their mean (NaN when ``n == 0``).
    m2 : float
        Sum of squared deviations from the mean.
    minimum, maximum : float
        Extremes (NaN when ``n == 0``).

    Examples
    --------
    >>> import numpy as np
    >>> a, b = Moments.of(np.array([1.0, 2.0])), Moments.of(np.array([3.0, 4.0, 5.0]))
    >>> merged = a.merge(b)
    >>> merged.n, merged.mean, bool(merged.variance() == np.var([1.0, 2, 3, 4, 5]))
    (5, 3.0, True)
    """

    n: int
    mean: float
    m2: float
    minimum: float
    maximum: float

    @classmethod
    def empty(cls) -> "Moments":
        return cls(0, math.nan, 0.0, math.nan, math.nan)

    @classmethod
    def of(cls, values: np.ndarray) -> "Moments":
        """Moments of a 1-D float array without NaN (two passes over the values)."""
        if values.size == 0:
            return cls.empty()
        mean = float(values.mean())
        deviations = values - mean
        return cls(int(values.size), mean, float(np.dot(deviations, deviations)), float(values.min()),
                   float(values.max()))

    def merge(self, other: "Moments") -> "Moments":
        """Moments of the union of both value sets (Chan et al.'s pairwise update)."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        m2 = self.m2 + other.m2 + delta * delta * (self.n * other.n / n)
        return Moments(n, mean, m2, min(self.minimum, other.minimum), max(self.maximum, other.maximum))

    def variance(self, ddof: int = 0) -> float:
        """Variance with ``ddof`` delta degrees of freedom (NaN when ``n <= ddof``)."""
        return self.m2 / (self.n - ddof) if self.n > ddof else math.nan

    def to_list(self) -> list:
        return [self.n, self.mean, self.m2, self.minimum, self.maximum]

    @classmethod
    def from_list(cls, values: list) -> "Moments":
        n, mean, m2, minimum, maximum = values
        return cls(int(n), float(mean), float(m2), float(minimum), float(maximum))
