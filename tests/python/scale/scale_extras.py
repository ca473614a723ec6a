"""The extras rule of the scale-out tests: skip (outside CI) or fail (CI=true) when an
optional dependency is missing, naming the extra to install."""

from __future__ import annotations

import importlib
import os

import pytest


def require(module: str, extra: str):
    """Import ``module`` or skip (outside CI) / fail (under CI) naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        message = f"{module} is not installed ({error}); pip install 'loopwise[{extra}]'"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
