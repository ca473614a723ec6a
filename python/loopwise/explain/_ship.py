"""What a distributed explain ships to its workers: the explainer's JSON, the model callable
beside it when the JSON has none, and a key naming that model for the workers' cache.

Shared by the Spark and Dask adapters so both accept the same arguments.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Optional

from ._json import dumps, header

__all__ = ["Shipment", "ship"]


@dataclass(frozen=True)
class Shipment:
    """The explainer's JSON text, the prediction callable (or None) and its cache key."""

    text: str
    model: Any
    model_key: Optional[str]


def ship(explainer: Any, model: Any = None) -> Shipment:
    """Turn an explainer (or its JSON text) and an optional model into a :class:`Shipment`.

    A KernelExplainer over a Python callable takes its model from the explainer object;
    LIME needs ``model`` (its ``predict_fn``), which is not part of the explainer.

    Examples
    --------
    >>> import numpy as np
    >>> from loopwise.explain import KernelExplainer
    >>> f = lambda X: X.sum(1)
    >>> ship(KernelExplainer(f, np.zeros((1, 2)))).model is f
    True
    """
    text = explainer if isinstance(explainer, str) else dumps(explainer)
    data = header(text)
    kind = data["kind"]
    if model is None and kind == "KernelExplainer" and data.get("model") is None:
        model = getattr(explainer, "model", None)
        if model is None:
            raise ValueError("the KernelExplainer JSON has no model (a Python callable): pass model=...")
    if kind == "LimeTabular" and model is None:
        raise ValueError("LIME needs the model's prediction function: pass model=predict_fn")
    if kind == "TreeExplainer" or (kind == "KernelExplainer" and data.get("model") is not None):
        model = None  # the trees travel inside the JSON
    if model is not None and not callable(model):
        raise TypeError(f"model must be a callable (e.g. model.predict), got {type(model).__name__}")
    # One key per call: every task of this call shares the workers' cached explainer.
    return Shipment(text, model, None if model is None else uuid.uuid4().hex)
