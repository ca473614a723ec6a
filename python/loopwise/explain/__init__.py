"""Explanations: TreeSHAP for tree ensembles, model-agnostic explainers (KernelSHAP,
permutation and exact SHAP, linear SHAP, LIME, surrogate trees), background helpers and
the shared ``Explanation`` result object with its plots; ``explain_partition`` explains one
partition of a table from an explainer's JSON (what the Spark and Dask adapters run).

Examples
--------
>>> from loopwise.explain import Explanation
>>> Explanation([[0.5, -0.25]], 1.0).output().tolist()
[1.25]
"""

from __future__ import annotations

from ._partition import explain_partition
from .background import Background, kmeans, sample
from .exact import ExactExplainer
from .explanation import Explanation
from .kernel import KernelExplainer
from .lime import LimeExplanation, LimeTabular
from .linear import LinearExplainer
from .permutation import PermutationExplainer
from .surrogate import SurrogateTree, surrogate_tree
from .tree import TreeExplainer

__all__ = [
    "Background",
    "ExactExplainer",
    "Explanation",
    "KernelExplainer",
    "LimeExplanation",
    "LimeTabular",
    "LinearExplainer",
    "PermutationExplainer",
    "SurrogateTree",
    "TreeExplainer",
    "explain_partition",
    "kmeans",
    "sample",
    "surrogate_tree",
]
