"""The shrinkage (learning rate) a boosting library applied to its leaves, read off the model."""

from __future__ import annotations

import numbers
from typing import Any, Optional

__all__ = ["model_learning_rate"]


def model_learning_rate(model: Any) -> Optional[float]:
    """The shrinkage a boosting library applied to its leaves, when the model tells it."""
    for attribute in ("learning_rate",):
        value = getattr(model, attribute, None)
        if isinstance(value, numbers.Real):
            return float(value)
    get_params = getattr(model, "get_params", None)
    if callable(get_params):
        try:
            params = get_params()
        except Exception:  # pragma: no cover - foreign estimators
            params = {}
        for key in ("learning_rate", "eta"):
            if isinstance(params.get(key), numbers.Real):
                return float(params[key])
    module = type(model).__module__
    if module.startswith("xgboost"):
        booster = model.get_booster() if hasattr(model, "get_booster") else model
        import json

        config = json.loads(booster.save_config())
        # gbtree keeps it at gradient_booster.tree_train_param, dart one level deeper (gbtree).
        return _find_eta(config.get("learner", {}).get("gradient_booster", {}))
    if module.startswith("lightgbm"):
        booster = model.booster_ if hasattr(model, "booster_") else model
        params = getattr(booster, "params", {}) or {}
        for key in ("learning_rate", "shrinkage_rate", "eta"):
            if key in params:
                return float(params[key])
        return 0.1  # LightGBM's documented default
    return None


def _find_eta(config: Any) -> Optional[float]:
    if isinstance(config, dict):
        train = config.get("tree_train_param")
        if isinstance(train, dict) and "eta" in train:
            return float(train["eta"])
        for value in config.values():
            found = _find_eta(value)
            if found is not None:
                return found
    return None
