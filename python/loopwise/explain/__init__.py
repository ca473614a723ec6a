"""Explanations: TreeSHAP for tree ensembles, model-agnostic explainers, and the shared
``Explanation`` result object with its plots.

Examples
--------
>>> from loopwise.explain import Explanation
>>> Explanation([[0.5, -0.25]], 1.0).output().tolist()
[1.25]
"""

from __future__ import annotations

from .explanation import Explanation
from .tree import TreeExplainer

__all__ = ["Explanation", "TreeExplainer"]
