"""loopwise on Dask: thin adapters over the engine-free per-partition functions. Needs
``pip install 'loopwise[dask]'``.

- ``explain(ddf, explainer, ...)`` explains a Dask DataFrame through ``map_partitions``;
- ``profile(ddf, ...)`` summarises it into a small mergeable profile; ``compare`` profiles two
  tables and compares them; ``ks`` is the exact distributed Kolmogorov-Smirnov test.

Examples
--------
>>> import loopwise.dask
>>> callable(loopwise.dask.explain) and callable(loopwise.dask.profile)
True
"""

from __future__ import annotations

from ._explain import explain
from ._profile import compare, ks, profile

__all__ = ["explain", "profile", "ks", "compare"]
