"""A generated binary task with a built-in group bias, for examples, tests and the notebook."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["make_biased_classification"]


def make_biased_classification(n_samples: int = 10_000, *, minority_share: float = 0.3, bias: float = 0.8,
                               random_state: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows of two groups ``"a"`` and ``"b"`` whose labels the features predict unequally well.

    Four numeric features drive a latent score. In group ``"b"`` (share ``minority_share``)
    the features are shifted down by ``bias`` (a proxy that under-states its members) and the
    label is noisier, so one threshold on a model's score gives the groups different TPR and
    FPR: an equalised-odds gap.

    Returns
    -------
    X : DataFrame with columns ``x0..x3`` and ``group``
    y : ndarray of 0/1

    Examples
    --------
    >>> X, y = make_biased_classification(100, random_state=1)
    >>> list(X.columns), y.shape
    (['x0', 'x1', 'x2', 'x3', 'group'], (100,))
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 10:
        raise ValueError(f"n_samples must be an int >= 10, got {n_samples!r}")
    if not 0.0 < minority_share < 1.0:
        raise ValueError(f"minority_share must lie in (0, 1), got {minority_share}")
    rng = np.random.default_rng(random_state)
    minority = rng.random(n_samples) < minority_share
    features = rng.normal(size=(n_samples, 4))
    latent = features @ np.array([1.2, -0.8, 0.6, 0.4])
    noise = rng.normal(size=n_samples) * np.where(minority, 0.9, 0.7)
    y = (latent + noise > 0.2).astype(np.int64)
    observed = features.copy()
    observed[minority] -= bias * np.array([0.6, -0.4, 0.3, 0.2])  # the features under-state group b
    X = pd.DataFrame(observed, columns=[f"x{i}" for i in range(4)])
    X["group"] = np.where(minority, "b", "a")
    return X, y
