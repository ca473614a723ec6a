"""loopwise on Spark (classic and Spark Connect): thin adapters over the engine-free
per-partition functions. Needs ``pip install loopwise[spark]`` and Java 17.

``explain(df, explainer, ...)`` explains a Spark DataFrame through ``mapInPandas``.

Examples
--------
>>> import loopwise.spark
>>> callable(loopwise.spark.explain)
True
"""

from __future__ import annotations

from ._explain import explain

# profile: the per-partition profile adapter (loopwise.spark._profile) is imported here.

__all__ = ["explain"]
