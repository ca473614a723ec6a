"""Engine-free profiles: summarise a table (or each partition of it) into a small,
versioned, mergeable profile; merge profiles; compare two profiles on the driver.

``loopwise.spark.profile`` and ``loopwise.dask.profile`` call these functions per
partition; Fugue or any other engine can call them the same way (pandas in, bytes out)."""

from __future__ import annotations

from .compare import compare
from .exact_ks import ks_combine, ks_partial
from .profile import Profile, build, count_bins, merge, with_bins

__all__ = ["Profile", "build", "merge", "count_bins", "with_bins", "compare", "ks_partial", "ks_combine"]
