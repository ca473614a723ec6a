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

# No ``from __future__``/``typing`` imports here: every module-level name is part of what
# ``dir(loopwise)`` shows, so the module keeps only its public API at top level.
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
_SUBMODULES = {"models", "explain", "drift", "online", "loop", "fairness", "performance", "profiles", "spark", "dask",
               "tasks", "cli"}

# Submodules are public too (``dir`` lists them) but stay out of ``__all__``: a star import
# must not import every heavy submodule.
__all__ = ["LoopwiseError", "__version__", *_LAZY]


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"loopwise.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'loopwise' has no attribute {name!r}")


def __dir__() -> "list[str]":
    return sorted(set(__all__) | _SUBMODULES)
