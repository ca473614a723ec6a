"""An oracle from the test extra: required under CI (the test fails), skipped with a reason elsewhere."""

from __future__ import annotations

import importlib
import os

import pytest


def need(module: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is missing under CI: scripts/test.sh installs the 'test' extra")
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')")
