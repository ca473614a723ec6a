"""scikit-learn tree models -> TreeEnsemble, reproducing sklearn's own predictions."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ._builder import CAST_CHECK_SIGN_THEN_TRUNCATE, CategoricalSplit, EnsembleBuilder
from .tree_ensemble import TreeEnsemble

_SINGLE_TREES = ("DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor")
_FORESTS = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor")
_BOOSTING = ("GradientBoostingClassifier", "GradientBoostingRegressor")
_HIST = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")


def _feature_names(model: Any) -> Optional[list[str]]:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _allows_nan(model: Any) -> bool:
    try:
        return bool(model.__sklearn_tags__().input_tags.allow_nan)
    except AttributeError:  # scikit-learn < 1.6
        return bool(getattr(model, "_get_tags", lambda: {})().get("allow_nan", False))


def _check_fitted(model: Any) -> None:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)


def _add_sklearn_tree(builder: EnsembleBuilder, tree: Any, *, scale: float, output: int, normalize: bool) -> None:
    """Add one fitted ``sklearn.tree._tree.Tree``; leaf values are multiplied by ``scale``."""
    values = np.asarray(tree.value, dtype=np.float64)  # (n_nodes, n_outputs, max_classes)
    if normalize:
        totals = values.sum(axis=2, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
        values = values[:, 0, :]
    else:
        values = values[:, :, 0]
    values = values * scale
    if output >= 0:
        values = values[:, output] if values.ndim == 2 and values.shape[1] > 1 else values.reshape(-1)
        output = 0 if builder.n_outputs == 1 else output
    missing_left = getattr(tree, "missing_go_to_left", None)
    builder.add_tree(
        feature=tree.feature,
        threshold=tree.threshold,
        left=tree.children_left,
        right=tree.children_right,
        value=values,
        cover=tree.weighted_n_node_samples,
        output=output if values.ndim == 1 else -1,
        default_left=None if missing_left is None else np.asarray(missing_left, dtype=np.uint8),
    )


def _forest(model: Any, trees: list, name: str) -> TreeEnsemble:
    is_classifier = hasattr(model, "classes_")
    n_features = int(model.n_features_in_)
    if is_classifier:
        if getattr(model, "n_outputs_", 1) != 1:
            raise ValueError(f"{name}: multi-output classifiers are not supported")
        n_outputs = len(model.classes_)
    else:
        n_outputs = int(getattr(model, "n_outputs_", 1))
    builder = EnsembleBuilder(n_features, n_outputs)
    scale = 1.0 / len(trees)
    for estimator in trees:
        _add_sklearn_tree(builder, estimator.tree_, scale=scale, output=-1, normalize=is_classifier)
    fields = builder.build(
        base_score=np.zeros(n_outputs), comparison="<=", float32_inputs=True, link="identity"
    )
    task = "regression"
    if is_classifier:
        task = "binary" if n_outputs == 2 else "multiclass"
    return TreeEnsemble(
        fields,
        feature_names=_feature_names(model),
        task=task,
        classes=list(model.classes_) if is_classifier else None,
        supports_missing=_allows_nan(model),
        source=f"sklearn.{name}",
    )


def _gradient_boosting(model: Any, name: str) -> TreeEnsemble:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    init = model.init_
    if not (init == "zero" or isinstance(init, (DummyClassifier, DummyRegressor))):
        raise ValueError(
            f"{name}: init={type(init).__name__} predicts per row and cannot be represented as a constant base score"
        )
    n_features = int(model.n_features_in_)
    estimators = model.estimators_
    n_outputs = estimators.shape[1]
    base = np.asarray(model._raw_predict_init(np.zeros((1, n_features), dtype=np.float32)), dtype=np.float64)[0]
    builder = EnsembleBuilder(n_features, n_outputs)
    for stage in estimators:
        for k, estimator in enumerate(stage):
            _add_sklearn_tree(builder, estimator.tree_, scale=model.learning_rate, output=k, normalize=False)
    is_classifier = hasattr(model, "classes_")
    link = "identity"
    task = "regression"
    if is_classifier:
        link = "logistic" if n_outputs == 1 else "softmax"
        task = "binary" if n_outputs == 1 else "multiclass"
    fields = builder.build(base_score=base, comparison="<=", float32_inputs=True, link=link)
    return TreeEnsemble(
        fields,
        feature_names=_feature_names(model),
        task=task,
        classes=list(model.classes_) if is_classifier else None,
        supports_missing=_allows_nan(model),
        source=f"sklearn.{name}",
    )


def _hist_link(model: Any, n_outputs: int) -> tuple[str, str]:
    loss = type(model._loss).__name__
    if hasattr(model, "classes_"):
        return ("logistic", "binary") if n_outputs == 1 else ("softmax", "multiclass")
    if loss in ("HalfPoissonLoss", "HalfGammaLoss", "HalfTweedieLoss", "HalfTweedieLossIdentity"):
        return ("exp" if loss != "HalfTweedieLossIdentity" else "identity", "regression")
    return "identity", "regression"


def _hist_gradient_boosting(model: Any, name: str) -> TreeEnsemble:
    predictors = model._predictors
    n_features = int(model.n_features_in_)
    n_outputs = len(predictors[0]) if predictors else 1
    base = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    if base.size == 1 and n_outputs > 1:
        base = np.repeat(base, n_outputs)
    # A ColumnTransformer (categorical_features="from_dtype" on a DataFrame) puts the
    # categorical columns first and ordinal-encodes them: map back to the input columns.
    preprocessor = getattr(model, "_preprocessor", None)
    column_of = np.arange(n_features)
    categories: dict[int, list] = {}
    if preprocessor is not None:
        order: list[int] = []
        for transformer_name, transformer, columns in preprocessor.transformers_:
            if transformer_name == "remainder" and transformer == "drop":
                continue
            indices = list(np.arange(n_features)[columns]) if not isinstance(columns, list) else list(columns)
            indices = [int(i) for i in (np.flatnonzero(indices) if np.asarray(indices).dtype == bool else indices)]
            if hasattr(transformer, "categories_"):
                for index, values in zip(indices, transformer.categories_):
                    # Missing values are encoded as NaN (sorted last), not as a category code.
                    known = [v.item() if isinstance(v, np.generic) else v for v in values]
                    categories[index] = [v for v in known if not (isinstance(v, float) and np.isnan(v))]
            order.extend(indices)
        column_of = np.asarray(order, dtype=np.int64)
    known_bitsets, f_idx_map = (None, None)
    if getattr(model, "is_categorical_", None) is not None:
        known_bitsets, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    builder = EnsembleBuilder(n_features, n_outputs)
    for stage in predictors:
        for k, predictor in enumerate(stage):
            nodes = predictor.nodes
            is_leaf = nodes["is_leaf"].astype(bool)
            feature = np.where(is_leaf, -1, column_of[nodes["feature_idx"]])
            categorical = {}
            for local in np.flatnonzero(nodes["is_categorical"].astype(bool) & ~is_leaf):
                node = nodes[local]
                left = _bits_to_categories(predictor.raw_left_cat_bitsets[node["bitset_idx"]])
                known = _bits_to_categories(known_bitsets[f_idx_map[node["feature_idx"]]])
                right = sorted(set(known) - set(left))
                categorical[int(local)] = CategoricalSplit(left, right, other_left=bool(node["missing_go_to_left"]))
            builder.add_tree(
                feature=feature,
                threshold=nodes["num_threshold"],
                left=nodes["left"],
                right=nodes["right"],
                value=nodes["value"],
                cover=nodes["count"],
                output=k,
                default_left=nodes["missing_go_to_left"],
                categorical=categorical,
            )
    link, task = _hist_link(model, n_outputs)
    fields = builder.build(
        base_score=base,
        comparison="<=",
        float32_inputs=False,
        link=link,
        category_cast=CAST_CHECK_SIGN_THEN_TRUNCATE,
    )
    return TreeEnsemble(
        fields,
        feature_names=_feature_names(model),
        task=task,
        classes=list(model.classes_) if hasattr(model, "classes_") else None,
        supports_missing=True,
        categories=categories,
        source=f"sklearn.{name}",
    )


def _bits_to_categories(bits: np.ndarray) -> list[int]:
    words = np.asarray(bits, dtype=np.uint32)
    flags = ((words[:, None] >> np.arange(32, dtype=np.uint32)) & 1).astype(bool).ravel()
    return [int(i) for i in np.flatnonzero(flags)]


def from_sklearn(model: Any) -> TreeEnsemble:
    """Convert a fitted scikit-learn tree model (see ``TreeEnsemble.from_model``)."""
    name = type(model).__name__
    if name not in _SINGLE_TREES + _FORESTS + _BOOSTING + _HIST:
        raise TypeError(f"scikit-learn model {name} is not a supported tree model")
    _check_fitted(model)
    if name in _SINGLE_TREES:
        return _forest(model, [model], name)
    if name in _FORESTS:
        return _forest(model, list(model.estimators_), name)
    if name in _BOOSTING:
        return _gradient_boosting(model, name)
    return _hist_gradient_boosting(model, name)
