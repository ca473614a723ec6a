"""Drift: two-sample tests, multivariate detection, attribution, data quality and
streaming detectors."""

from __future__ import annotations

import importlib
from typing import Any

from .attribution import attribute, explanation_drift
from .monitor import monitor
from .multivariate import MMDResult, ClassifierTestResult, ReconstructionDrift, classifier_test, mmd_test
from .quality import QualityReport, quality
from .reference import Reference, compare
from .report import DriftReport
from .statistics import (TestResult, anderson, chi2, cvm, energy, g_test, hellinger, jensen_shannon, ks, psi,
                         wasserstein, z_test)

__all__ = [
    "compare", "Reference", "DriftReport", "TestResult", "ks", "cvm", "anderson", "wasserstein", "energy", "psi",
    "jensen_shannon", "hellinger", "chi2", "g_test", "z_test", "mmd_test", "MMDResult", "classifier_test",
    "ClassifierTestResult", "ReconstructionDrift", "attribute", "explanation_drift", "quality", "QualityReport",
    "monitor",
]

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
