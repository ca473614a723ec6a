"""Online learning: sequential linear learners in C++, recursive least squares, leaf refresh
of tree ensembles and the churn between two models.

The learners update one sample at a time inside C++ (a batch is a loop of single-sample
steps, not one averaged step), are scikit-learn estimators (``fit``, ``partial_fit``,
``predict``...), pickle, and round-trip through ``to_dict()``/``from_dict()`` (JSON).
``prox``/``anchor`` keep a retrained model close to its champion.
"""

from __future__ import annotations

import importlib
from typing import Any

from .churn import churn
from .rls import RLSRegressor
from .sgd import SGDClassifier, SGDRegressor

__all__ = ["SGDClassifier", "SGDRegressor", "RLSRegressor", "refresh_leaves", "churn"]


def __getattr__(name: str) -> Any:
    # refresh_leaves pulls in the model adapters; load it on first use.
    if name == "refresh_leaves":
        value = importlib.import_module(".refresh", __name__).refresh_leaves
        globals()[name] = value
        return value
    raise AttributeError(f"module 'loopwise.online' has no attribute {name!r}")
