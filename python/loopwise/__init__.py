"""loopwise: keep deployed models good.

Explain (TreeSHAP, KernelSHAP, LIME, surrogates), monitor (data quality, drift, streaming
detectors) and retrain (online learners, champion/challenger gate, registry) with a fast
C++ core. Heavy submodules load on first use, so ``import loopwise`` stays fast.

Examples
--------
>>> import loopwise
>>> loopwise.__version__
'0.1.0'
"""

from __future__ import annotations

import importlib
from typing import Any

from ._core import LoopwiseError

__version__ = "0.1.0"

# Public name -> submodule that defines it. Resolved lazily on first attribute access.
_LAZY = {
    "TreeEnsemble": "loopwise.models",
    "Explanation": "loopwise.explain",
    "TreeExplainer": "loopwise.explain",
    "KernelExplainer": "loopwise.explain",
    "PermutationExplainer": "loopwise.explain",
    "ExactExplainer": "loopwise.explain",
    "LinearExplainer": "loopwise.explain",
    "LimeTabular": "loopwise.explain",
    "FeedbackLoop": "loopwise.loop.feedback_loop",
}
_SUBMODULES = {"models", "explain", "drift", "online", "loop", "tasks", "cli"}

__all__ = ["LoopwiseError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"loopwise.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'loopwise' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
