"""Input checks of the online learners that name the argument.

scikit-learn's ``validate_data`` says "Found array with dim 3" or "Complex data not
supported" without saying which argument; the learners run it inside :func:`named_errors`
so every message starts with the argument's name, and refuse complex input first with a
``TypeError`` (scikit-learn raises ``ValueError`` for it).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from .._input import ComplexInputError, check_real_dtype


def refuse_complex(values: Any, name: str) -> Any:
    """``values`` unchanged, after an error if it holds complex numbers, text or timestamps.

    Examples
    --------
    >>> refuse_complex([1.0, 2.0], "y")
    [1.0, 2.0]
    """
    dtypes = getattr(values, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "__iter__"):
        if any(getattr(d, "kind", "") == "c" for d in dtypes):
            raise ComplexInputError(f"{name} has complex columns; the learners need real numbers "
                                    "(Complex data not supported)")
        for column, dtype in zip(getattr(values, "columns", []), dtypes):
            if getattr(dtype, "kind", "") in "mM":
                raise TypeError(f"{name} column {column!r} holds {dtype} values; convert the time to a "
                                "number explicitly (e.g. seconds since an origin)")
            # scikit-learn parses an object column of strings ("1.5") as numbers: refuse text.
            if getattr(dtype, "kind", "") in "OUS" and any(isinstance(v, (str, bytes)) for v in values[column]):
                raise ValueError(f"{name} column {column!r} holds text; the learners need numbers")
        return values
    if values is None or isinstance(values, (str, bytes)):
        return values
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        return values  # ragged and the like: validate_data reports it, named
    check_real_dtype(array, name)
    return values


def as_float(values: Any, name: str, *, finite: bool = True) -> np.ndarray:
    """``values`` as a C-contiguous float64 array, or a ValueError naming ``name``.

    scikit-learn's ``dtype="numeric"`` leaves a list of objects as objects (``None`` included),
    so the final conversion can still meet a value that is no number (or a None that becomes
    NaN, refused when ``finite``).

    Examples
    --------
    >>> as_float([[1, 2]], "X").dtype
    dtype('float64')
    """
    try:
        array = np.ascontiguousarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} holds values that are not numbers: {error}") from None
    if finite and not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN, None or infinity")
    return array


@contextlib.contextmanager
def named_errors(name: str) -> Iterator[None]:
    """Prefix ValueError/TypeError messages raised inside with the argument name.

    Examples
    --------
    >>> with named_errors("X"):
    ...     pass
    """
    try:
        yield
    except (ValueError, TypeError) as error:
        message = str(error)
        if message.startswith(name) or isinstance(error, ComplexInputError):
            raise
        raise type(error)(f"{name}: {message}") from error
