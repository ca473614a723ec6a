"""A/B tests on split traffic: deterministic assignment by request id, both arms logged in
the loop's store, an always-valid sequential decision (mixture SPRT) that may be looked at
after every batch, the fixed-horizon test beside it, and guardrails that stop early.

Examples
--------
>>> from loopwise.loop.ab import ABTest, assign
>>> assign(["u1", "u2", "u3"], share=0.5, salt="exp").tolist()
[False, True, True]
>>> ABTest(alpha=0.05).look().decision
'continue'
"""

from __future__ import annotations

from ._assign import assign, bucket
from ._experiment import ABResult, ABTest
from ._sequential import confidence_sequence, fixed_horizon_test, mixture_variance, msprt_log_lr
from ._simulate import simulate
from ._split import SplitTest

__all__ = ["assign", "bucket", "ABTest", "ABResult", "SplitTest", "msprt_log_lr", "confidence_sequence",
           "mixture_variance", "fixed_horizon_test", "simulate"]
