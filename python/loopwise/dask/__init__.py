"""loopwise on Dask: profiles, drift and explanations of Dask DataFrames, computed per
partition by the engine-free functions of loopwise.

Install with ``pip install 'loopwise[dask]'``."""

# MERGE NOTE: this file holds only the profile exports (branch wip-profiles). The explain
# exports (from ._explain) come from the other branch; the merge keeps both import lines
# and both sets of names in __all__.
from ._profile import compare, ks, profile

__all__ = ["profile", "ks", "compare"]
