"""The feedback loop: durable store, model registry, validation gate, audit log, policies.

``FeedbackStore``, ``ModelRegistry``, ``AuditLog`` and ``validate`` are small modules over
SQLite and numpy; importing this package does not import scikit-learn, scipy or skops (they
load when a function needs them).

Examples
--------
>>> from loopwise.loop import FeedbackStore, ModelRegistry, validate, ValidationResult, AuditLog
"""

from __future__ import annotations

from .audit import AuditLog
from .feedback_loop import FeedbackLoop
from .mlflow_loop import MlflowSettings
from .policy import *  # noqa: F401,F403 - the policy names are part of this package's API
from .policy import __all__ as _policy_all
from .registry import ModelRegistry, RegistryLookupError, UntrustedModelError
from .store import FeedbackStore, Records
from .validation import ValidationResult, delong_test, mcnemar_test, validate

__all__ = [
    "FeedbackLoop",
    "MlflowSettings",
    "FeedbackStore",
    "Records",
    "ModelRegistry",
    "RegistryLookupError",
    "UntrustedModelError",
    "AuditLog",
    "validate",
    "ValidationResult",
    "mcnemar_test",
    "delong_test",
    *_policy_all,
]
