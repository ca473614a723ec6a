"""LightGBM models -> TreeEnsemble from ``Booster.dump_model()``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._builder import (
    CAST_TRUNCATE_THEN_CHECK_SIGN,
    MISSING_NAN_AS_ZERO,
    MISSING_NAN_DEFAULT,
    MISSING_ZERO,
    CategoricalSplit,
    EnsembleBuilder,
)
from .tree_ensemble import TreeEnsemble

_MISSING = {"None": MISSING_NAN_AS_ZERO, "Zero": MISSING_ZERO, "NaN": MISSING_NAN_DEFAULT}
_EXP_OBJECTIVES = ("poisson", "gamma", "tweedie")
_LOGISTIC_OBJECTIVES = ("binary", "cross_entropy", "xentropy")


def _objective(text: str) -> tuple[str, str, float, int]:
    """(link, task, sigmoid scale, n_outputs) from LightGBM's objective string."""
    parts = text.split()
    name = parts[0] if parts else "regression"
    options = dict(p.split(":", 1) for p in parts[1:] if ":" in p)
    if "sqrt" in parts[1:]:
        raise ValueError("LightGBM models trained with reg_sqrt are not supported")
    if name in _LOGISTIC_OBJECTIVES:
        return "logistic", "binary", float(options.get("sigmoid", 1.0)), 1
    if name in ("multiclass", "softmax"):
        return "softmax", "multiclass", 1.0, int(options["num_class"])
    if name in ("multiclassova", "multiclass_ova", "ova", "ovr"):
        return "logistic", "multiclass", float(options.get("sigmoid", 1.0)), int(options["num_class"])
    if name in _EXP_OBJECTIVES:
        return "exp", "regression", 1.0, 1
    return "identity", "regression", 1.0, 1


def _flatten(structure: dict, tree_index: int) -> dict:
    """Pre-order flattening of LightGBM's nested tree dict, without recursion."""
    feature, threshold, left, right, value, cover = [], [], [], [], [], []
    default_left, missing_rule, categorical = [], [], {}
    stack = [(structure, -1, False)]
    while stack:
        node, parent, is_right = stack.pop()
        local = len(feature)
        if parent >= 0:
            (right if is_right else left)[parent] = local
        if "leaf_value" in node or "split_index" not in node:
            if "leaf_coeff" in node or "leaf_features" in node:
                raise ValueError(f"tree {tree_index}: LightGBM linear trees are not supported")
            feature.append(-1)
            threshold.append(0.0)
            left.append(0)
            right.append(0)
            value.append(float(node.get("leaf_value", 0.0)))
            cover.append(float(node.get("leaf_count", 0)))
            default_left.append(0)
            missing_rule.append(MISSING_NAN_DEFAULT)
            continue
        feature.append(int(node["split_feature"]))
        left.append(-1)
        right.append(-1)
        value.append(float(node.get("internal_value", 0.0)))
        cover.append(float(node.get("internal_count", 0)))
        missing_rule.append(_MISSING.get(node.get("missing_type", "None"), MISSING_NAN_AS_ZERO))
        if node.get("decision_type", "<=") == "==":
            chosen = [int(c) for c in str(node["threshold"]).split("||") if c != ""]
            # LightGBM: listed categories go left; NaN, negative and unlisted go right.
            categorical[local] = CategoricalSplit(left=chosen, right=[], other_left=False)
            threshold.append(0.0)
            default_left.append(0)
        else:
            threshold.append(float(node["threshold"]))
            default_left.append(1 if node.get("default_left", False) else 0)
        stack.append((node["right_child"], local, True))
        stack.append((node["left_child"], local, False))
    return dict(
        feature=np.asarray(feature),
        threshold=np.asarray(threshold),
        left=np.asarray(left),
        right=np.asarray(right),
        value=np.asarray(value),
        cover=np.asarray(cover),
        default_left=np.asarray(default_left),
        missing_rule=np.asarray(missing_rule),
        categorical=categorical,
    )


def from_lightgbm(model: Any) -> TreeEnsemble:
    """Convert a LightGBM ``Booster``, ``LGBMClassifier`` or ``LGBMRegressor``."""
    import lightgbm

    booster = model.booster_ if hasattr(model, "booster_") else model
    if not isinstance(booster, lightgbm.Booster):
        raise TypeError(f"expected a LightGBM Booster or LGBMModel, got {type(model).__name__}")
    best = int(getattr(model, "best_iteration_", 0) or 0) if hasattr(model, "booster_") else booster.best_iteration
    dump = booster.dump_model(num_iteration=best if best and best > 0 else None)
    link, task, scale, n_outputs = _objective(dump.get("objective", "regression"))
    per_iteration = int(dump.get("num_tree_per_iteration", 1))
    if per_iteration != n_outputs:
        n_outputs = per_iteration
    n_features = int(dump["max_feature_idx"]) + 1
    trees = dump["tree_info"]
    shrink = 1.0
    if dump.get("average_output", False):
        shrink = 1.0 / max(1, len(trees) // per_iteration)
    builder = EnsembleBuilder(n_features, n_outputs)
    for index, info in enumerate(trees):
        flat = _flatten(info["tree_structure"], index)
        builder.add_tree(
            feature=flat["feature"],
            threshold=flat["threshold"],
            left=flat["left"],
            right=flat["right"],
            value=flat["value"] * shrink,
            cover=flat["cover"],
            output=index % per_iteration,
            default_left=flat["default_left"],
            missing_rule=flat["missing_rule"],
            categorical=flat["categorical"],
        )
    fields = builder.build(
        base_score=np.zeros(n_outputs),
        comparison="<=",
        float32_inputs=False,
        link=link,
        link_scale=scale,
        category_cast=CAST_TRUNCATE_THEN_CHECK_SIGN,
    )
    names = dump.get("feature_names")
    if names and all(n == f"Column_{i}" for i, n in enumerate(names)):
        names = None  # LightGBM's placeholder names for unnamed numpy input
    classes = list(model.classes_) if hasattr(model, "classes_") else None
    return TreeEnsemble(
        fields,
        feature_names=names if names and len(names) == n_features else None,
        task=task,
        classes=classes,
        supports_missing=True,
        source=f"lightgbm.{type(model).__name__}",
    )
