"""``ExactExplainer``: Shapley values from every coalition (for a few features)."""

from __future__ import annotations

from numbers import Integral
from typing import Any, Optional

import numpy as np

from .. import _core
from .._threads import resolve_n_jobs
from ._sandwich import _CHUNK_ROWS, CoalitionExplainer
from .explanation import Explanation

__all__ = ["ExactExplainer"]

_HARD_LIMIT = 30


class ExactExplainer(CoalitionExplainer):
    """Exact interventional Shapley values: the model is evaluated on all 2^M coalitions.

    ``phi_j = sum over S not containing j of |S|! (M - |S| - 1)! / M! (v(S + j) - v(S))``
    with ``v(S)`` the (linked) mean output over the background rows with the features in
    S taken from the explained row. Same background semantics as :class:`KernelExplainer`.

    Parameters
    ----------
    model : callable or TreeEnsemble
    background : array-like, DataFrame or Background
    link : {"identity", "logit"}
    n_jobs : int, optional
    max_features : int
        Refuse more features than this (the cost is 2^M x background rows per row).
    chunk_size : int
        Synthetic rows per model call.
    progress : bool, optional
        Show a tqdm bar; ``None`` shows it for 20 rows or more in an interactive session.

    Examples
    --------
    >>> import numpy as np
    >>> explainer = ExactExplainer(lambda X: X[:, 0] * X[:, 1], np.zeros((1, 2)))
    >>> explainer([[2.0, 3.0]]).values.tolist()
    [[3.0, 3.0]]
    """

    _explainer = "ExactExplainer"

    def __init__(
        self,
        model: Any,
        background: Any,
        *,
        link: str = "identity",
        n_jobs: Optional[int] = None,
        max_features: int = 16,
        chunk_size: int = _CHUNK_ROWS,
        progress: Optional[bool] = None,
    ) -> None:
        if isinstance(max_features, bool) or not isinstance(max_features, Integral) or not 1 <= max_features <= _HARD_LIMIT:
            raise ValueError(f"max_features must be an int in [1, {_HARD_LIMIT}], got {max_features!r}")
        self.max_features = int(max_features)
        super().__init__(
            model, background, link=link, n_jobs=n_jobs, random_state=0, chunk_size=chunk_size, progress=progress
        )
        if self.n_features > self.max_features:
            raise ValueError(
                f"background has {self.n_features} features but the exact explainer enumerates 2^M coalitions and is "
                f"limited to max_features={self.max_features}; use KernelExplainer or PermutationExplainer"
            )

    def __call__(self, X: Any) -> Explanation:
        """Explain the rows of ``X`` exactly.

        Examples
        --------
        >>> import numpy as np
        >>> ExactExplainer(lambda X: X.sum(1), np.zeros((1, 3)))([[1.0, 2.0, 3.0]]).values.tolist()
        [[1.0, 2.0, 3.0]]
        """
        rows = self._rows(X)
        M = self.n_features
        patterns = np.arange(1 << M, dtype=np.int64)
        masks = ((patterns[:, None] >> np.arange(M)) & 1).astype(np.uint8)
        phi = np.empty((rows.shape[0], M, self._base.size))
        # 2^M coalitions per row are held at once: bound the rows per block accordingly.
        block = max(1, min(256, (1 << 22) // masks.shape[0]))
        for start, stop in self._blocks(rows.shape[0], block):
            values = self._coalition_values(rows[start:stop], masks, 0, masks.shape[0])
            phi[start:stop] = _core.exact_shapley(np.ascontiguousarray(values), M, resolve_n_jobs(self.n_jobs))
        return self._explanation(rows, phi, None, X)
