"""A loop's reference kept as a profile (``reference.lwprofile``): the summary of a table
the loop never loads, built where the table lives (Spark, Dask, any engine) and compared
with profiles of new data on the driver."""

from __future__ import annotations

import os
from typing import Any, Optional

from .._atomic import write_atomic

__all__ = ["PROFILE_REFERENCE_FILE", "save", "load"]

PROFILE_REFERENCE_FILE = "reference.lwprofile"


def save(directory: str, profile: Any) -> str:
    """Write ``profile``'s bytes atomically into the loop directory; returns the path."""
    from ..profiles import Profile

    if not isinstance(profile, Profile):
        raise TypeError(f"profile must be a loopwise.profiles.Profile, got {type(profile).__name__}")
    data = profile.to_bytes()
    path = os.path.join(directory, PROFILE_REFERENCE_FILE)

    def write(temporary: str) -> None:
        with open(temporary, "wb") as handle:
            handle.write(data)

    write_atomic(path, write)
    return path


def load(directory: str) -> Optional[Any]:
    """The stored reference profile, or None when the loop has none."""
    from ..profiles import Profile

    path = os.path.join(directory, PROFILE_REFERENCE_FILE)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        return Profile.from_bytes(handle.read())
