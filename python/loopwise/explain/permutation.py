"""``PermutationExplainer``: Shapley values by antithetic permutation sampling."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from .. import _core
from .._threads import resolve_n_jobs
from ._sandwich import CoalitionExplainer
from .explanation import Explanation

__all__ = ["PermutationExplainer"]

_ROW_BLOCK = 256  # explained rows whose coalition values are held in memory at once


class PermutationExplainer(CoalitionExplainer):
    """Shapley values as average marginal contributions along random feature orders.

    Each random order is used forwards and backwards (antithetic pairs), which makes the
    estimate exact for additive models and cancels much of the noise otherwise. Each order
    walks from the empty to the full coalition, so the values always add up to
    ``f(x) - E[f]`` (efficiency). Same background semantics as :class:`KernelExplainer`.

    Parameters
    ----------
    model : callable or TreeEnsemble
    background : array-like, DataFrame or Background
    link : {"identity", "logit"}
    n_jobs : int, optional
    random_state : int, Generator or None
    chunk_size : int
        Synthetic rows per model call (bounds memory).
    progress : bool, optional
        Show a tqdm bar; ``None`` shows it for 20 rows or more in an interactive session.

    Examples
    --------
    >>> import numpy as np
    >>> explainer = PermutationExplainer(lambda X: X[:, 0] + 2 * X[:, 1], np.zeros((1, 2)), random_state=0)
    >>> explainer([[1.0, 1.0]]).values.tolist()
    [[1.0, 2.0]]
    """

    _explainer = "PermutationExplainer"


    def __call__(self, X: Any, max_evals: int = 500) -> Explanation:
        """Explain the rows of ``X`` with at most ``max_evals`` coalitions per row.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, m)
        max_evals : int
            Coalition evaluations per row; each antithetic pair of orders costs
            ``2 (m - 1)`` plus the 2 shared end points, so at least ``2 m`` are needed.

        Returns
        -------
        Explanation
            ``std_errors`` from the spread of the pair means (NaN with a single pair).

        Examples
        --------
        >>> import numpy as np
        >>> e = PermutationExplainer(lambda X: X.prod(1), np.zeros((1, 3)), random_state=0)([[1.0, 2.0, 3.0]])
        >>> round(float(e.values.sum()), 6)
        6.0
        """
        if isinstance(max_evals, bool) or not isinstance(max_evals, Integral):
            raise TypeError(f"max_evals must be an int, got {type(max_evals).__name__}")
        M = self.n_features
        if max_evals < 2 * M:
            raise ValueError(f"max_evals must be at least 2 * n_features = {2 * M} (one antithetic pair), got {max_evals}")
        rows = self._rows(X)
        if M == 1:
            full = self._full(rows)
            phi = (full - self._base)[:, None, :]
            return self._explanation(rows, phi, np.zeros_like(phi), X)
        n_pairs = max(1, (int(max_evals) - 2) // (2 * (M - 1)))
        design = _core.PermutationDesign(M, n_pairs, self._seed)
        phi = np.empty((rows.shape[0], M, self._base.size))
        se = np.empty_like(phi)
        for start, stop in self._blocks(rows.shape[0], _ROW_BLOCK):
            values = self._coalition_values(rows[start:stop], design.masks, 0, design.n_masks)
            phi[start:stop], se[start:stop] = design.solve(np.ascontiguousarray(values), resolve_n_jobs(self.n_jobs))
        return self._explanation(rows, phi, se, X)
