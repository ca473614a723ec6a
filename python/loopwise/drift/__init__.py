"""Drift: two-sample tests, multivariate detection, attribution, data quality and
streaming detectors."""

from __future__ import annotations

import importlib
from typing import Any

# Streaming detectors live in loopwise.drift.streaming and load on first use.
_LAZY = {
    name: "loopwise.drift.streaming"
    for name in ("ADWIN", "PageHinkley", "KSWIN", "DDM", "EDDM", "HDDM_A", "HDDM_W")
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'loopwise.drift' has no attribute {name!r}")
