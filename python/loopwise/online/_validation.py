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
    """``values`` unchanged, after a TypeError if it holds complex numbers.

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
        return values
    if values is None or isinstance(values, (str, bytes)):
        return values
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        return values  # ragged and the like: validate_data reports it, named
    check_real_dtype(array, name)
    return values


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
