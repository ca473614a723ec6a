"""Fixtures for the model-agnostic explainer tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def small_problem():
    rng = np.random.default_rng(42)
    background = rng.normal(size=(4, 6))
    X = rng.normal(size=(3, 6))
    return X, background
