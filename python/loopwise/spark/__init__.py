"""loopwise on Spark (classic and Spark Connect): thin adapters over the engine-free
per-partition functions. Needs ``pip install 'loopwise[spark]'`` and Java 17.

- ``explain(df, explainer, ...)`` explains a Spark DataFrame through ``mapInPandas``;
- ``profile(df, ...)`` summarises it into a small mergeable profile (per partition, merged on
  the driver); ``compare`` profiles two tables and compares them; ``ks`` is the exact
  distributed Kolmogorov-Smirnov test.

Examples
--------
>>> import loopwise.spark
>>> callable(loopwise.spark.explain) and callable(loopwise.spark.profile)
True
"""

from __future__ import annotations

from ._explain import explain
from ._profile import compare, ks, profile

__all__ = ["explain", "profile", "ks", "compare"]
