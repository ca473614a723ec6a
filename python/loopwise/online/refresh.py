"""Refresh the leaf values of a tree ensemble on new labelled data, keeping its structure."""

from __future__ import annotations

import numbers
from typing import Any, Optional

import numpy as np

__all__ = ["refresh_leaves"]

_MIN_HESSIAN = 1e-12


def _check_targets(ensemble: Any, y: Any, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape[0] != n:
        raise ValueError(f"y has {y.shape[0]} values for {n} rows of X")
    if ensemble.task == "regression":
        y = y.astype(np.float64)
        if not np.isfinite(y).all():
            raise ValueError("y must be finite")
        return y.reshape(n, -1)
    classes = ensemble.classes
    if classes is None:
        codes = y.astype(np.int64)
        n_classes = max(ensemble.n_outputs, 2)
        if (codes != y).any() or (codes < 0).any() or (codes >= n_classes).any():
            raise ValueError("y must hold class indices 0..K-1 for an ensemble without class labels")
        return codes
    lookup = {c: i for i, c in enumerate(classes)}
    try:
        return np.array([lookup[v.item() if isinstance(v, np.generic) else v] for v in y.reshape(-1)], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"y holds a label the ensemble does not know: {exc.args[0]!r} (classes: {classes})") from None


def _gradients(link: str, margin: np.ndarray, codes_or_y: np.ndarray, k: int, n_outputs: int):
    """Gradient and hessian of the training loss implied by the link, for output k."""
    if link == "identity":
        return margin[:, k] - codes_or_y[:, k], np.ones(len(margin))
    if link == "exp":  # Poisson deviance with a log link
        mu = np.exp(margin[:, k])
        return mu - codes_or_y[:, 0], mu
    if link == "logistic":
        p = 1.0 / (1.0 + np.exp(-margin[:, 0]))
        return p - (codes_or_y == 1), p * (1.0 - p)
    shifted = margin - margin.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    return p[:, k] - (codes_or_y == k), p[:, k] * (1.0 - p[:, k])


def refresh_leaves(ensemble: Any, X: Any, y: Any, *, decay: float = 0.9, learning_rate: Optional[float] = None,
                   reg_lambda: float = 0.0, sample_weight: Any = None) -> Any:
    """Re-estimate the leaf values of a tree ensemble on new labelled rows; keep every split.

    Boosted ensembles are refreshed tree by tree in boosting order: each tree's leaves get
    the Newton step ``-learning_rate * sum(g) / (sum(h) + reg_lambda)`` of the loss implied by
    the ensemble's link (squared error, logistic, softmax, Poisson) at the margin of the
    refreshed trees before it (the idea of LightGBM's ``refit``, for any supported library).
    Forests get the mean target (class frequencies for classifiers) of the rows in each leaf.
    New and old values blend as ``decay * old + (1 - decay) * new``; leaves no new row reaches
    keep their value.

    Parameters
    ----------
    ensemble : TreeEnsemble or a fitted scikit-learn / XGBoost / LightGBM tree model
        The champion; a library model is converted with ``TreeEnsemble.from_model``.
    X : array-like or DataFrame
        New rows.
    y : array-like
        Their labels (class labels of the ensemble for classifiers).
    decay : float in [0, 1], default 0.9
        Weight of the old leaf values; 1 keeps the ensemble unchanged, 0 replaces the values.
    learning_rate : float, optional
        Shrinkage of the boosted leaf updates. Default: the model's own (``learning_rate`` of
        scikit-learn and LightGBM models, ``eta`` of XGBoost). A ``TreeEnsemble`` does not
        record it; then it is estimated as the hessian-weighted root-mean-square ratio of the
        existing leaf values to the unshrunk Newton steps on the new rows along the old
        boosting path (about the training rate when the data did not change; smaller, i.e.
        more cautious, under drift), clipped to [0.001, 1]. Pass it explicitly when known.
    reg_lambda : float, default 0.0
        L2 regularisation of the boosted leaf updates.
    sample_weight : array-like, optional
        Row weights.

    Returns
    -------
    TreeEnsemble
        Same structure, new leaf values; it predicts, explains and saves like any other.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import GradientBoostingRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3)); y = X[:, 0] + rng.normal(scale=0.1, size=500)
    >>> gbm = GradientBoostingRegressor(n_estimators=50, random_state=0).fit(X, y)
    >>> refreshed = refresh_leaves(gbm, X, y + 1.0, decay=0.0)
    >>> bool(np.mean((refreshed.predict(X) - y - 1) ** 2) < np.mean((gbm.predict(X) - y - 1) ** 2))
    True
    """
    from ..models import TreeEnsemble

    if isinstance(decay, bool) or not isinstance(decay, (numbers.Real, np.number)):
        raise TypeError(f"decay must be a number in [0, 1], got {type(decay).__name__}")
    if not 0.0 <= float(decay) <= 1.0:
        raise ValueError(f"decay must be in [0, 1], got {decay}")
    if learning_rate is not None and not (isinstance(learning_rate, numbers.Real) and 0 < learning_rate <= 1e6):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if not (isinstance(reg_lambda, numbers.Real) and reg_lambda >= 0):
        raise ValueError(f"reg_lambda must be >= 0, got {reg_lambda!r}")
    if not isinstance(ensemble, TreeEnsemble):
        ensemble = TreeEnsemble.from_model(ensemble)
    # A known shrinkage (given, or the source model's, which from_model records) travels with the
    # refreshed ensemble, so refreshing it again uses the same rate instead of estimating one.
    known_rate = learning_rate if learning_rate is not None else ensemble.learning_rate
    leaves = ensemble.apply(X)  # validates X (width, names, NaN policy)
    n = leaves.shape[0]
    if n == 0:
        raise ValueError("X has no rows")
    targets = _check_targets(ensemble, y, n)
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if weights.shape[0] != n or not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("sample_weight must hold one finite, non-negative weight per row")

    fields = {k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in ensemble.fields.items()}
    offsets, outputs, value = fields["tree_offsets"], fields["tree_output"], fields["value"]
    n_outputs = ensemble.n_outputs
    widths = np.where(outputs < 0, n_outputs, 1)
    value_offsets = np.concatenate([[0], np.cumsum((offsets[1:] - offsets[:-1]) * widths)])
    n_trees = len(outputs)
    new_value = value.copy()

    if (outputs < 0).all():
        # Forest: leaf means (class frequencies) scaled like the existing values (1 / n_trees).
        if ensemble.task == "regression":
            encoded = targets
        else:
            encoded = np.zeros((n, n_outputs))
            encoded[np.arange(n), targets] = 1.0
        scale = 1.0 / n_trees
        for t in range(n_trees):
            size = int(offsets[t + 1] - offsets[t])
            mass = np.bincount(leaves[:, t], weights=weights, minlength=size)
            reached = mass > 0
            if not reached.any():
                continue
            block = new_value[value_offsets[t]:value_offsets[t + 1]].reshape(size, n_outputs)
            for k in range(n_outputs):
                sums = np.bincount(leaves[:, t], weights=weights * encoded[:, k], minlength=size)
                fresh = np.divide(sums, mass, out=np.zeros(size), where=reached) * scale
                block[reached, k] = decay * block[reached, k] + (1.0 - decay) * fresh[reached]
    else:
        if (outputs < 0).any():
            raise ValueError("ensembles mixing forest-style and boosted trees are not supported")
        link = ensemble.link
        rate = None if known_rate is None else float(known_rate)

        def newton_pass(update: bool, rate: float) -> tuple[float, float]:
            margin = np.tile(ensemble.base_score, (n, 1)).astype(np.float64)
            cross = norm = 0.0
            for t in range(n_trees):
                k = int(outputs[t])
                size = int(offsets[t + 1] - offsets[t])
                g, h = _gradients(link, margin, targets, k, n_outputs)
                G = np.bincount(leaves[:, t], weights=weights * g, minlength=size)
                H = np.bincount(leaves[:, t], weights=weights * h, minlength=size)
                mass = np.bincount(leaves[:, t], weights=weights, minlength=size)
                usable = (mass > 0) & (H > _MIN_HESSIAN)
                step = np.divide(-G, H + reg_lambda, out=np.zeros(size), where=usable)
                old = value[value_offsets[t]:value_offsets[t + 1]]
                if update:
                    block = new_value[value_offsets[t]:value_offsets[t + 1]]
                    block[usable] = decay * old[usable] + (1.0 - decay) * rate * step[usable]
                    margin[:, k] += block[leaves[:, t]]
                else:
                    cross += float(np.sum(old[usable] ** 2 * H[usable]))
                    norm += float(np.sum(step[usable] ** 2 * H[usable]))
                    margin[:, k] += old[leaves[:, t]]
            return cross, norm

        if rate is None:
            cross, norm = newton_pass(False, 1.0)
            rate = float(np.clip(np.sqrt(cross / norm), 1e-3, 1.0)) if norm > 0 else 0.1
        newton_pass(True, rate)

    fields["value"] = new_value
    return TreeEnsemble(fields, feature_names=ensemble.feature_names, task=ensemble.task, classes=ensemble.classes,
                        supports_missing=ensemble.supports_missing, categories=ensemble.categories,
                        source=ensemble.source, learning_rate=known_rate,
                        missing_value=ensemble.missing_value)
