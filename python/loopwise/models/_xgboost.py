"""XGBoost models -> TreeEnsemble from the model's own JSON (no private API)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ._builder import CAST_CHECK_SIGN_THEN_TRUNCATE, CategoricalSplit, EnsembleBuilder
from .tree_ensemble import TreeEnsemble

# Objectives whose base_score is stored in probability space and enters the margin as a logit.
_LOGIT_BASE = {"binary:logistic", "reg:logistic", "binary:logitraw"}
# Objectives with a log link (base_score enters as its logarithm).
_LOG_BASE = {"count:poisson", "reg:gamma", "reg:tweedie", "survival:cox", "survival:aft"}
_IDENTITY_BASE = {
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:pseudohubererror",
    "reg:absoluteerror",
    "reg:quantileerror",
    "multi:softprob",
    "multi:softmax",
    "binary:hinge",
    "rank:pairwise",
    "rank:ndcg",
    "rank:map",
}


def _parse_floats(text: Any) -> np.ndarray:
    if isinstance(text, (int, float)):
        return np.array([float(text)], dtype=np.float32)
    text = str(text).strip().strip("[]")
    return np.array([float(v) for v in text.split(",") if v.strip()], dtype=np.float32)


def _base_margin(objective: str, base_score: np.ndarray) -> np.ndarray:
    # XGBoost converts in float32; so do we, to match its margins to the last bit.
    if objective in _LOGIT_BASE:
        if objective == "binary:logitraw":
            return base_score.astype(np.float64)
        with np.errstate(divide="ignore"):
            return (-np.log(np.float32(1.0) / base_score - np.float32(1.0))).astype(np.float32).astype(np.float64)
    if objective in _LOG_BASE:
        return np.log(base_score).astype(np.float32).astype(np.float64)
    if objective in _IDENTITY_BASE:
        return base_score.astype(np.float64)
    raise ValueError(f"XGBoost objective {objective!r} is not supported")


def _link(objective: str, n_outputs: int) -> tuple[str, str]:
    if objective in ("binary:logistic", "reg:logistic", "binary:logitraw"):
        return "logistic", ("binary" if objective != "reg:logistic" else "regression")
    if objective.startswith("multi:"):
        return "softmax", "multiclass"
    if objective in _LOG_BASE:
        return "exp", "regression"
    return "identity", "regression"


def from_xgboost(model: Any) -> TreeEnsemble:
    """Convert an XGBoost ``Booster``, ``XGBClassifier`` or ``XGBRegressor``."""
    import xgboost

    booster = model.get_booster() if hasattr(model, "get_booster") else model
    if not isinstance(booster, xgboost.Booster):
        raise TypeError(f"expected an XGBoost Booster or XGBModel, got {type(model).__name__}")
    learner = json.loads(bytes(booster.save_raw(raw_format="json")))["learner"]
    objective = learner["objective"]["name"]
    params = learner["learner_model_param"]
    n_features = int(params["num_feature"])
    num_class = int(params.get("num_class", "0"))
    booster_json = learner["gradient_booster"]
    name = booster_json["name"]
    weight_drop = None
    if name == "dart":
        weight_drop = np.asarray(booster_json.get("weight_drop", []), dtype=np.float64)
        booster_json = booster_json["gbtree"]
    elif name != "gbtree":
        raise ValueError(f"XGBoost booster {name!r} is not a tree booster")
    trees_json = booster_json["model"]["trees"]
    tree_info = booster_json["model"]["tree_info"]
    n_outputs = max(num_class, 1)
    if int(params.get("num_target", "1")) > 1:
        raise ValueError("XGBoost multi-target models are not supported yet")

    n_trees = len(trees_json)
    best = getattr(model, "best_iteration", None) if not isinstance(model, xgboost.Booster) else None
    if best is not None:
        indptr = booster_json["model"].get("iteration_indptr")
        if indptr is not None:
            n_trees = int(indptr[int(best) + 1])

    base = _base_margin(objective, _parse_floats(params["base_score"]))
    if base.size == 1 and n_outputs > 1:
        base = np.repeat(base, n_outputs)

    builder = EnsembleBuilder(n_features, n_outputs)
    for t in range(n_trees):
        tree = trees_json[t]
        if int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
            raise ValueError("XGBoost vector-leaf trees are not supported yet")
        left = np.asarray(tree["left_children"], dtype=np.int64)
        right = np.asarray(tree["right_children"], dtype=np.int64)
        is_leaf = left == -1
        conditions = np.asarray(tree["split_conditions"], dtype=np.float32).astype(np.float64)
        scale = 1.0 if weight_drop is None else float(weight_drop[t])
        value = np.where(is_leaf, conditions, 0.0) * scale
        categorical = {}
        split_type = np.asarray(tree.get("split_type", np.zeros(len(left))), dtype=np.int64)
        if np.any(split_type == 1):
            categories = tree["categories"]
            for node, start, size in zip(
                tree["categories_nodes"], tree["categories_segments"], tree["categories_sizes"]
            ):
                chosen = [int(c) for c in categories[int(start) : int(start) + int(size)]]
                # XGBoost sends the listed categories right and everything else left.
                categorical[int(node)] = CategoricalSplit(left=[], right=chosen, other_left=True)
        builder.add_tree(
            feature=np.where(is_leaf, -1, np.asarray(tree["split_indices"], dtype=np.int64)),
            threshold=np.where(is_leaf, 0.0, conditions),
            left=left,
            right=right,
            value=value,
            cover=np.asarray(tree["sum_hessian"], dtype=np.float64),
            output=int(tree_info[t]) if n_outputs > 1 else 0,
            default_left=np.asarray(tree["default_left"], dtype=np.uint8),
            categorical=categorical,
        )
    link, task = _link(objective, n_outputs)
    fields = builder.build(
        base_score=base,
        comparison="<",
        float32_inputs=True,
        link=link,
        category_cast=CAST_CHECK_SIGN_THEN_TRUNCATE,
    )
    feature_names = learner.get("feature_names") or None
    classes = None
    if hasattr(model, "classes_"):
        classes = list(model.classes_)
    # The sklearn wrappers keep `missing` (a Booster alone does not know it: it belongs to
    # the DMatrix the caller builds, so a bare Booster is taken with the default NaN).
    missing = getattr(model, "missing", None) if not isinstance(model, xgboost.Booster) else None
    return TreeEnsemble(
        fields,
        feature_names=feature_names if feature_names and len(feature_names) == n_features else None,
        task=task,
        classes=classes,
        supports_missing=True,
        source=f"xgboost.{type(model).__name__}",
        missing_value=missing,
    )
