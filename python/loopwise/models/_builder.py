"""Collects trees from an adapter and produces the flat arrays the core validates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

# Mirrors the C++ enums in cpp/include/loopwise/model/tree_ensemble.hpp.
LINKS = {"identity": 0, "logistic": 1, "softmax": 2, "exp": 3}
COMPARISONS = {"<=": 0, "<": 1}
MISSING_NAN_DEFAULT, MISSING_ZERO, MISSING_NAN_AS_ZERO = 0, 1, 2
CAST_CHECK_SIGN_THEN_TRUNCATE, CAST_TRUNCATE_THEN_CHECK_SIGN = 0, 1


@dataclass
class CategoricalSplit:
    """Categories a node sends left and right; anything else goes left iff other_left."""

    left: Sequence[int]
    right: Sequence[int]
    other_left: bool


@dataclass
class EnsembleBuilder:
    """Accumulates trees (local child indices, -1 feature for leaves)."""

    n_features: int
    n_outputs: int
    _trees: list = field(default_factory=list)

    def add_tree(
        self,
        *,
        feature: np.ndarray,
        threshold: np.ndarray,
        left: np.ndarray,
        right: np.ndarray,
        value: np.ndarray,
        cover: np.ndarray,
        output: int,
        default_left: Optional[np.ndarray] = None,
        missing_rule: Optional[np.ndarray] = None,
        categorical: Optional[dict[int, CategoricalSplit]] = None,
    ) -> None:
        """Add one tree; ``value`` is (n_nodes,) for a single output or (n_nodes, n_outputs)."""
        n = len(feature)
        feature = np.asarray(feature, dtype=np.int32)
        is_leaf = feature < 0
        self._trees.append(
            dict(
                feature=np.where(is_leaf, -1, feature).astype(np.int32),
                threshold=np.where(is_leaf, 0.0, np.asarray(threshold, dtype=np.float64)),
                left=np.where(is_leaf, 0, np.asarray(left)).astype(np.int32),
                right=np.where(is_leaf, 0, np.asarray(right)).astype(np.int32),
                value=np.asarray(value, dtype=np.float64).reshape(n, -1),
                cover=np.asarray(cover, dtype=np.float64),
                output=int(output),
                default_left=np.zeros(n, np.uint8) if default_left is None else np.asarray(default_left, np.uint8),
                missing_rule=(
                    np.zeros(n, np.uint8) if missing_rule is None else np.asarray(missing_rule, np.uint8)
                ),
                categorical=categorical or {},
            )
        )

    def build(
        self,
        *,
        base_score: Sequence[float],
        comparison: str,
        float32_inputs: bool,
        link: str,
        link_scale: float = 1.0,
        category_cast: int = CAST_CHECK_SIGN_THEN_TRUNCATE,
    ) -> dict:
        """Concatenate the trees into the field dictionary of ``loopwise._core.TreeEnsemble``."""
        sizes = [len(t["feature"]) for t in self._trees]
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])

        def cat(key: str, dtype) -> np.ndarray:
            if not self._trees:
                return np.zeros(0, dtype=dtype)
            return np.concatenate([np.asarray(t[key], dtype=dtype).ravel() for t in self._trees])

        cat_node, left_ptr, right_ptr, cat_left, cat_right, other_left = [], [0], [0], [], [], []
        for t, tree in enumerate(self._trees):
            for local in sorted(tree["categorical"]):
                split = tree["categorical"][local]
                cat_node.append(int(offsets[t]) + int(local))
                cat_left.extend(int(c) for c in split.left)
                cat_right.extend(int(c) for c in split.right)
                left_ptr.append(len(cat_left))
                right_ptr.append(len(cat_right))
                other_left.append(1 if split.other_left else 0)
        return dict(
            n_features=int(self.n_features),
            n_outputs=int(self.n_outputs),
            tree_offsets=offsets,
            tree_output=np.array([t["output"] for t in self._trees], dtype=np.int32),
            feature=cat("feature", np.int32),
            threshold=cat("threshold", np.float64),
            left=cat("left", np.int32),
            right=cat("right", np.int32),
            default_left=cat("default_left", np.uint8),
            missing_rule=cat("missing_rule", np.uint8),
            cover=cat("cover", np.float64),
            value=cat("value", np.float64),
            cat_node=np.array(cat_node, dtype=np.int64),
            cat_left_ptr=np.array(left_ptr, dtype=np.int64),
            cat_left=np.array(cat_left, dtype=np.int32),
            cat_right_ptr=np.array(right_ptr, dtype=np.int64),
            cat_right=np.array(cat_right, dtype=np.int32),
            cat_other_left=np.array(other_left, dtype=np.uint8),
            base_score=np.asarray(base_score, dtype=np.float64).reshape(-1),
            comparison=COMPARISONS[comparison],
            float32_inputs=bool(float32_inputs),
            category_cast=int(category_cast),
            link=LINKS[link],
            link_scale=float(link_scale),
        )
