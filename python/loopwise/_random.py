"""Seeds for the core's random streams."""

from __future__ import annotations

from numbers import Integral
from typing import Optional, Union

import numpy as np

__all__ = ["RandomState", "resolve_seed"]

RandomState = Optional[Union[int, np.random.Generator, np.random.RandomState]]


def resolve_seed(random_state: RandomState) -> int:
    """Turn ``random_state`` into a 63-bit seed for the C++ random streams.

    An int is used as is (so equal ints give equal results); a numpy ``Generator`` or
    ``RandomState`` contributes one draw; ``None`` draws fresh entropy.

    Examples
    --------
    >>> from loopwise._random import resolve_seed
    >>> resolve_seed(7)
    7
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    if isinstance(random_state, bool):
        raise TypeError("random_state must be an int, a numpy Generator/RandomState or None, not bool")
    if isinstance(random_state, Integral):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}")
        return int(random_state) & ((1 << 63) - 1)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise TypeError(
        f"random_state must be an int, a numpy Generator/RandomState or None, got {type(random_state).__name__}"
    )
