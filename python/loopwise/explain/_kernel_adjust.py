"""Regression adjustment of KernelSHAP: subtract a fitted higher-order game, estimate the rest.

With paired sampling the KernelSHAP regression is exact for any game whose interactions have
order at most 2 (Mayer & Wuethrich 2025), so its error comes from interactions of order 3
and more. A polynomial game ``g(z) = sum_j a_j z_j + sum_{T} c_T prod_{j in T} z_j`` over the
third- and fourth-order subsets ``T`` of the K most important features is fitted to the
coalition values by kernel-weighted least squares. Its Shapley values are known in closed
form (each ``c_T`` splits equally over ``T``), and KernelSHAP then only estimates the residual
game ``v - g``, whose higher-order part is much smaller. The sum is the control-variate
(regression-adjusted) estimator of Witter et al. (2025) with a polynomial instead of a tree
surrogate. It stays exact when every coalition is evaluated (both parts are then exact).

K is the largest size whose term count keeps at least ``_SAMPLES_PER_TERM`` (4) evaluated
coalitions per fitted coefficient (2.5 overfitted: worse than no adjustment at 600 coalitions
for 12 features), and one K-set (by the block's mean ``|phi|``) serves all
rows of a block so the Gram matrix is built and factorised once.
"""

from __future__ import annotations

import itertools
from math import comb
from typing import Optional

import numpy as np

__all__ = ["adjustment_terms", "fit_adjustment"]

_SAMPLES_PER_TERM = 4.0  # evaluated coalitions per fitted coefficient (fewer: overfitting, measured)
_MIN_TOP = 4  # below 4 features there are no fourth-order terms worth fitting
_MAX_TERMS = 800  # bounds the Gram matrix (n_masks x terms^2 flops)
_RIDGE = 1e-6  # relative ridge: keeps the fit defined when a term never varies


def adjustment_terms(first_pass: np.ndarray, n_masks: int) -> Optional[list[tuple[int, ...]]]:
    """Third- and fourth-order subsets of the most important features, or None when too few samples.

    ``first_pass`` is the unadjusted estimate of shape (n, M, k); the K features with the
    largest mean absolute value are used.

    Examples
    --------
    >>> import numpy as np
    >>> phi = np.array([[[3.0], [0.1], [2.0], [1.0], [0.5]]])
    >>> terms = adjustment_terms(phi, 1000)
    >>> len(terms), terms[0]
    (15, (0, 1, 2))
    """
    M = first_pass.shape[1]
    best = 0
    for K in range(_MIN_TOP, M + 1):
        n_terms = M + comb(K, 3) + comb(K, 4)
        if n_terms > _MAX_TERMS or _SAMPLES_PER_TERM * n_terms > n_masks:
            break
        best = K
    if best == 0:
        return None
    importance = np.abs(first_pass).mean(axis=(0, 2))
    # Ties broken by feature index so the choice never depends on sort internals.
    top = sorted(int(j) for j in np.lexsort((np.arange(M), -importance))[:best])
    return [t for order in (3, 4) for t in itertools.combinations(top, order)]


def fit_adjustment(
    masks: np.ndarray, weights: np.ndarray, targets: np.ndarray, terms: list[tuple[int, ...]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit the polynomial game; return (its values on the masks, at the full coalition, its Shapley values).

    Parameters
    ----------
    masks : ndarray of shape (c, M), 0/1
    weights : ndarray of shape (c,)
        Kernel weights of the coalitions in the regression.
    targets : ndarray of shape (c, t)
        Coalition values minus the base value, one column per (row, output).
    terms : list of tuples
        The interaction subsets (from :func:`adjustment_terms`).

    Returns
    -------
    fitted : ndarray (c, t), at_full : ndarray (t,), shapley : ndarray (M, t)

    Examples
    --------
    >>> import itertools
    >>> import numpy as np
    >>> Z = np.array(list(itertools.product([0, 1], repeat=4))[1:-1], dtype=np.uint8)
    >>> y = (Z[:, 0] * Z[:, 1] * Z[:, 2] + Z[:, 3]).astype(float)[:, None]
    >>> fitted, full, phi = fit_adjustment(Z, np.ones(len(Z)), y, [(0, 1, 2)])
    >>> phi[:, 0].round(4).tolist()
    [0.3333, 0.3333, 0.3333, 1.0]
    """
    Z = masks.astype(np.float64)
    M = Z.shape[1]
    columns = [Z] + [Z[:, list(t)].prod(axis=1, keepdims=True) for t in terms]
    F = np.hstack(columns)
    weighted = F * weights[:, None]
    gram = F.T @ weighted
    gram[np.diag_indices_from(gram)] += _RIDGE * np.trace(gram) / gram.shape[0] + 1e-300
    coef = np.linalg.solve(gram, weighted.T @ targets)
    fitted = F @ coef
    at_full = coef.sum(axis=0)
    shapley = coef[:M].copy()
    for index, t in enumerate(terms):
        shapley[list(t)] += coef[M + index] / len(t)
    return fitted, at_full, shapley
