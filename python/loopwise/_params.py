"""Declarative checks of scalar parameters, in the spirit of scikit-learn's ``Interval``.

One place decides what a valid number is, so every public function refuses the same things
with the same words: bools where numbers are meant, NaN and ±inf, complex numbers, strings,
None, containers and values out of range, each named with the value and the valid range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Optional


@dataclass(frozen=True)
class Interval:
    """A range of valid real (or integer) values; an end of None is unbounded.

    Examples
    --------
    >>> Interval(0.0, 1.0, closed="neither").check("alpha", 0.05)
    0.05
    >>> Interval(0.0, 1.0, closed="neither").check("alpha", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: alpha must be a real number in (0, 1), got 1.0
    """

    low: Optional[float] = None
    high: Optional[float] = None
    closed: str = "both"  # "both", "left", "right" or "neither"
    integer: bool = False

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a real number"
        if self.low is None and self.high is None:
            return f"a finite {'integer' if self.integer else 'real number'}"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else _short(self.low)
        high = "inf" if self.high is None else _short(self.high)
        return f"{kind} in {left}{low}, {high}{right}"

    def check(self, name: str, value: Any) -> Any:
        """Return ``value`` if valid, else raise a ValueError/TypeError naming ``name``."""
        wanted = Integral if self.integer else Real
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise TypeError(f"{name} must be {self.describe()}, got {type(value).__name__} {value!r}")
        if not self.integer and not math.isfinite(float(value)):
            raise ValueError(f"{name} must be {self.describe()}, got {value!r}")
        low_ok = self.low is None or (value >= self.low if self.closed in ("both", "left") else value > self.low)
        high_ok = self.high is None or (value <= self.high if self.closed in ("both", "right") else value < self.high)
        if not (low_ok and high_ok):
            raise ValueError(f"{name} must be {self.describe()}, got {value!r}")
        return value


def _short(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def check_params(**checks: tuple[Interval, Any]) -> None:
    """Check several parameters at once: ``check_params(alpha=(Interval(0, 1), alpha))``.

    Examples
    --------
    >>> check_params(alpha=(Interval(0, 1, closed="neither"), 0.05), bins=(Interval(2, None, integer=True), 10))
    """
    for name, (interval, value) in checks.items():
        interval.check(name, value)
