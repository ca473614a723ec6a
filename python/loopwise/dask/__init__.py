"""loopwise on Dask: thin adapters over the engine-free
per-partition functions. Needs ``pip install loopwise[dask]``.

``explain(ddf, explainer, ...)`` explains a Dask DataFrame through ``map_partitions``.

Examples
--------
>>> import loopwise.dask
>>> callable(loopwise.dask.explain)
True
"""

from __future__ import annotations

from ._explain import explain

# profile: the per-partition profile adapter (loopwise.dask._profile) is imported here.

__all__ = ["explain"]
