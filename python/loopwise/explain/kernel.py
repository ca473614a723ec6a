"""``KernelExplainer``: KernelSHAP for any model, with standard errors and early stopping."""

from __future__ import annotations

import re
from numbers import Integral, Real
from typing import Any, Optional, Union

import numpy as np

from .. import _core
from .._threads import resolve_n_jobs
from ._kernel_adjust import adjustment_terms, fit_adjustment, interaction_scores
from ._sandwich import CoalitionExplainer
from .explanation import Explanation

__all__ = ["KernelExplainer"]

_ROW_BLOCK = 256  # explained rows whose coalition values are held in memory at once
_ROUNDS = 8  # early stopping checks the standard errors after each eighth of the budget


def _parse_l1(l1_reg: Any) -> Optional[tuple[str, int]]:
    if l1_reg is None or l1_reg is False:
        return None
    if isinstance(l1_reg, bool):
        raise ValueError("l1_reg=True is ambiguous: use 'aic', 'bic', 'num_features(k)' or an int k")
    if isinstance(l1_reg, Integral):
        if l1_reg < 1:
            raise ValueError(f"l1_reg must select at least 1 feature, got {l1_reg}")
        return ("k", int(l1_reg))
    if isinstance(l1_reg, str):
        if l1_reg in ("aic", "bic"):
            return (l1_reg, 0)
        match = re.fullmatch(r"num_features\((\d+)\)", l1_reg.strip())
        if match and int(match.group(1)) >= 1:
            return ("k", int(match.group(1)))
    raise ValueError(f"l1_reg must be False, 'aic', 'bic', 'num_features(k)' or an int k >= 1, got {l1_reg!r}")


class KernelExplainer(CoalitionExplainer):
    """KernelSHAP: Shapley values of any model from a weighted linear regression.

    A coalition S of features is valued by the model's mean output over the background
    rows with the features in S replaced by the explained row's values (interventional
    SHAP). The Shapley values are the solution of a weighted least squares over coalitions
    (Shapley kernel weights) constrained to add up to ``f(x) - E[f]`` (Lundberg & Lee 2017).

    Parameters
    ----------
    model : callable or TreeEnsemble
        The prediction function, e.g. ``model.predict`` or ``model.predict_proba``; it is
        called on chunks of synthetic rows (a DataFrame of the background's schema when
        the background is a DataFrame). A ``TreeEnsemble``, a scikit-learn tree model's
        ``predict``/``predict_proba`` or a linear model's ``predict`` is evaluated natively
        (checked to reproduce the callable on the background first).
    background : array-like, DataFrame or Background
        Rows that stand in for "feature unknown"; summarise large sets with
        :func:`loopwise.explain.kmeans` or :func:`loopwise.explain.sample`.
    link : {"identity", "logit"}
        Explain the mean output (``"identity"``) or its log-odds (``"logit"``).
    n_jobs : int, optional
        Threads for building rows and solving (``None``: all cores). Results do not depend on it.
    random_state : int, Generator or None
        Seed of the coalition sampling; the same seed gives identical values.
    chunk_size : int
        Synthetic rows per model call (bounds memory).
    progress : bool, optional
        Show a tqdm bar; ``None`` shows it for 20 rows or more in an interactive session.

    Attributes
    ----------
    expected_value : float or ndarray
        The (linked) mean model output over the background.

    Notes
    -----
    Budget and sampling follow the KernelSHAP defaults: ``nsamples="auto"`` is
    ``2 M + 2048`` distinct coalitions; all ``2^M - 2`` are used when they fit (the result
    is then exact); otherwise complete subset sizes (1 and M - 1, then 2 and M - 2, ...)
    are enumerated while the budget covers them and the remaining sizes are sampled from
    the Shapley kernel as pairs (z, 1 - z). Repeated draws share one model evaluation.

    Regression adjustment: paired KernelSHAP is exact for games with interactions of
    order at most 2, so the error comes from higher orders. A polynomial game with the
    second- to fourth-order terms of the K least additive features (those whose first and
    last marginal contributions stray most from their estimate; K as large as keeps 4
    evaluated coalitions per coefficient) is fitted to the evaluated coalitions by
    kernel-weighted least squares; its Shapley values are exact in closed form and only the
    residual game is estimated by the regression (a control variate, as in Witter et al.
    2025 with a polynomial surrogate). A full enumeration is exact either way.

    Standard errors: the sampled pairs are independent, and the solution moves with each
    pair through ``C r_p`` where ``C`` maps the regression's right-hand side to the
    constrained solution and ``r_p`` is the pair's score (the sum over its two coalitions
    of ``z (y(z) - z . phi)``). The reported error is the square root of
    ``(W^2 / (4 n)) diag(C Cov(r) C')`` with ``W`` the kernel mass of the sampled sizes and
    ``n`` pairs. This is the delta-method (sandwich) variance of the regression estimator
    over its independent paired draws, following Covert & Lee (2021), who show KernelSHAP
    is asymptotically normal and estimate its variance from paired samples; enumerated
    sizes are exact and contribute no variance. It is 0 for a fully enumerated design and
    NaN with fewer than 2 pairs. Tests check the intervals cover the exact values at close
    to the nominal rate.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> background = rng.normal(size=(20, 3))
    >>> f = lambda X: X[:, 0] * X[:, 1] + X[:, 2]
    >>> explainer = KernelExplainer(f, background, random_state=0)
    >>> e = explainer(background[:2])
    >>> e.values.shape
    (2, 3)
    >>> bool(np.allclose(e.values.sum(1) + e.base_values, f(background[:2])))
    True
    """

    _explainer = "KernelExplainer"


    def _budget(self, nsamples: Any) -> int:
        M = self.n_features
        if isinstance(nsamples, str):
            if nsamples != "auto":
                raise ValueError(f"nsamples must be 'auto' or an int >= 2, got {nsamples!r}")
            return 2 * M + 2048
        if isinstance(nsamples, bool) or not isinstance(nsamples, Integral):
            raise TypeError(f"nsamples must be 'auto' or an int, got {type(nsamples).__name__}")
        if nsamples < 2:
            raise ValueError(f"nsamples must be at least 2, got {nsamples}")
        return int(nsamples)

    def design(self, nsamples: Union[str, int] = "auto") -> Any:
        """The coalition design used for ``nsamples`` (masks, weights, sampled pairs).

        Examples
        --------
        >>> import numpy as np
        >>> KernelExplainer(lambda X: X.sum(1), np.zeros((1, 4)), random_state=0).design().n_masks
        14
        """
        return _core.KernelDesign(self.n_features, self._budget(nsamples), self._seed)

    def __call__(
        self,
        X: Any,
        nsamples: Union[str, int] = "auto",
        *,
        l1_reg: Union[bool, str, int] = False,
        tol: Optional[float] = None,
        adjust: bool = True,
    ) -> Explanation:
        """Explain the rows of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, m)
        nsamples : "auto" or int
            Most distinct coalitions evaluated per row (``"auto"``: ``2 m + 2048``).
        l1_reg : False, "aic", "bic", "num_features(k)" or int
            Keep only the features a LARS/lasso path selects (by information criterion or
            the first k to enter) and solve the constrained regression on them; the others
            get 0. Off by default. Standard errors are not reported with selection.
        tol : float, optional
            Early stopping (Covert & Lee's rule): a row stops drawing pairs once every
            standard error is at most ``tol`` times the range of its values; checked after
            each eighth of the budget.
        adjust : bool
            Regression adjustment (default): fit a polynomial game with the second- to
            fourth-order interactions of the least additive features to the evaluated
            coalitions, take its Shapley values exactly and let the sampled regression
            estimate only the rest. Same model calls, less error when the model has
            higher-order interactions (see Notes). Not combined with ``tol`` or
            ``l1_reg``; the standard errors are then those of the residual game.

        Returns
        -------
        Explanation
            With ``std_errors`` (0 for a fully enumerated design).

        Examples
        --------
        >>> import numpy as np
        >>> explainer = KernelExplainer(lambda X: 2 * X[:, 0] - X[:, 1], np.zeros((1, 2)))
        >>> explainer([[1.0, 1.0]]).values.round(9).tolist()
        [[2.0, -1.0]]
        """
        budget = self._budget(nsamples)
        selection = _parse_l1(l1_reg)
        if tol is not None:
            if isinstance(tol, bool) or not isinstance(tol, Real) or not tol > 0:
                raise ValueError(f"tol must be a positive number or None, got {tol!r}")
        rows = self._rows(X)
        full = self._full(rows)
        n, M = rows.shape
        k = full.shape[1]
        phi = np.zeros((n, M, k))
        se = np.zeros((n, M, k))
        if M == 1:
            phi[:, 0, :] = full - self._base
            return self._explanation(rows, phi, se, X)
        design = _core.KernelDesign(M, budget, self._seed)
        for start, stop in self._blocks(n, _ROW_BLOCK):
            block_phi, block_se = self._explain_block(
                design, rows[start:stop], full[start:stop], tol, selection, adjust
            )
            phi[start:stop], se[start:stop] = block_phi, block_se
        return self._explanation(rows, phi, None if selection else se, X)

    def to_json(self) -> str:
        """The explainer as JSON text (background, link, resolved seed, settings).

        A ``TreeEnsemble`` model is embedded; any other model is a Python callable with no
        JSON form and must be passed again to :meth:`from_json`.

        Examples
        --------
        >>> import numpy as np
        >>> f = lambda X: 2 * X[:, 0] - X[:, 1]
        >>> explainer = KernelExplainer(f, np.zeros((1, 2)), random_state=0)
        >>> KernelExplainer.from_json(explainer.to_json(), model=f)([[1.0, 1.0]]).values.round(9).tolist()
        [[2.0, -1.0]]
        """
        from ._json import dumps

        return dumps(self)

    @classmethod
    def from_json(cls, text: str, *, model: Any = None, n_jobs: Optional[int] = None) -> "KernelExplainer":
        """Rebuild an explainer from :meth:`to_json` text (``model``: the callable, unless embedded).

        Examples
        --------
        >>> import numpy as np
        >>> f = lambda X: X.sum(1)
        >>> KernelExplainer.from_json(KernelExplainer(f, np.ones((2, 2))).to_json(), model=f).expected_value
        2.0
        """
        from ._json import loads

        return loads(text, model=model, n_jobs=n_jobs, expect=cls)

    # ------------------------------------------------------------------ internals
    def _explain_block(
        self,
        design: Any,
        rows: np.ndarray,
        full: np.ndarray,
        tol: Optional[float],
        selection: Any,
        adjust: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        n, M = rows.shape
        k = full.shape[1]
        n_jobs = resolve_n_jobs(self.n_jobs)
        masks = design.masks
        needed = np.asarray(design.masks_needed, dtype=np.int64)
        total = design.n_pairs
        if tol is None or total < 2 * _ROUNDS or selection is not None:
            schedule = [total]
        else:
            schedule = sorted({max(2, -(-total * r // _ROUNDS)) for r in range(1, _ROUNDS + 1)})
        values = np.empty((n, design.n_masks, k))
        phi = np.empty((n, M, k))
        se = np.empty((n, M, k))
        active = np.arange(n)
        evaluated = 0
        for pairs in schedule:
            need = int(needed[pairs - 1]) if pairs > 0 else int(design.n_enumerated)
            if need > evaluated:
                values[active, evaluated:need] = self._coalition_values(rows[active], masks, evaluated, need)
                evaluated = need
            used = np.ascontiguousarray(values[active, :need])
            step_phi, step_se = design.solve(pairs, used, self._base, np.ascontiguousarray(full[active]), n_jobs)
            phi[active], se[active] = step_phi, step_se
            if tol is not None and pairs < total:
                spread = step_phi.max(axis=1) - step_phi.min(axis=1)
                converged = np.all(step_se.max(axis=1) <= tol * spread, axis=1)
                active = active[~converged]
                if active.size == 0:
                    break
        if selection is None and tol is None and adjust and design.sampled_weight > 0:
            phi, se = self._adjusted(design, total, values[:, :evaluated], full, phi, n_jobs)
        if selection is not None:
            need = evaluated
            weights = self._coalition_weights(design, total, need)
            for i in range(n):
                phi[i] = self._select_and_solve(masks[:need], weights, values[i, :need], full[i], selection)
        return phi, se

    def _adjusted(
        self, design: Any, n_pairs: int, values: np.ndarray, full: np.ndarray, first: np.ndarray, n_jobs: int
    ) -> tuple[np.ndarray, np.ndarray]:
        # KernelSHAP of the residual game plus the exact Shapley values of a fitted
        # higher-order polynomial game (see _kernel_adjust): same model calls, less error.
        n, need, k = values.shape
        M = self.n_features
        masks = design.masks[:need]
        terms = adjustment_terms(interaction_scores(first, masks, values, self._base, full), need)
        if not terms:
            se = design.solve(n_pairs, np.ascontiguousarray(values), self._base, np.ascontiguousarray(full), n_jobs)[1]
            return first, se
        weights = self._coalition_weights(design, n_pairs, need)
        targets = (values - self._base).transpose(1, 0, 2).reshape(need, n * k)
        fitted, at_full, shapley = fit_adjustment(masks, weights, targets, terms)
        residual = np.ascontiguousarray((targets - fitted).reshape(need, n, k).transpose(1, 0, 2))
        residual_full = np.ascontiguousarray((full - self._base) - at_full.reshape(n, k))
        phi, se = design.solve(n_pairs, residual, np.zeros(k), residual_full, n_jobs)
        return phi + shapley.reshape(M, n, k).transpose(1, 0, 2), se

    @staticmethod
    def _coalition_weights(design: Any, n_pairs: int, need: int) -> np.ndarray:
        weights = np.zeros(need)
        weights[: design.n_enumerated] = design.enumerated_weights
        if n_pairs:
            draws = np.asarray(design.pairs[: 2 * n_pairs], dtype=np.int64)
            np.add.at(weights, draws, design.sampled_weight / (2.0 * n_pairs))
        return weights

    def _select_and_solve(
        self, masks: np.ndarray, weights: np.ndarray, values: np.ndarray, full: np.ndarray, selection: tuple
    ) -> np.ndarray:
        from sklearn.linear_model import LassoLarsIC, lars_path

        Z = masks.astype(np.float64)
        M = Z.shape[1]
        out = np.zeros((M, values.shape[1]))
        for o in range(values.shape[1]):
            y = values[:, o] - self._base[o]
            delta = full[o] - self._base[o]
            # The full coalition (all ones, target f(x) - E f) has infinite kernel weight;
            # for selection it enters as one row carrying the total weight (a soft constraint).
            root = np.sqrt(np.r_[weights, weights.sum()])
            design = np.r_[Z, np.ones((1, M))] * root[:, None]
            target = np.r_[y, delta] * root
            rule, count = selection
            if rule == "k":
                _, active, _ = lars_path(design, target, method="lar", max_iter=min(count, M))
                chosen = list(active)[:count]
            else:
                model = LassoLarsIC(criterion=rule, fit_intercept=False).fit(design, target)
                chosen = list(np.flatnonzero(model.coef_))
            if not chosen:
                _, active, _ = lars_path(design, target, method="lar", max_iter=1)
                chosen = list(active)[:1]
            chosen = sorted(int(j) for j in chosen)
            Zs = Z[:, chosen]
            A = Zs.T @ (weights[:, None] * Zs)
            b = Zs.T @ (weights * y)
            p = len(chosen)
            kkt = np.zeros((p + 1, p + 1))
            kkt[:p, :p] = A
            kkt[:p, p] = kkt[p, :p] = 1.0
            solution = np.linalg.lstsq(kkt, np.r_[b, delta], rcond=None)[0]
            out[chosen, o] = solution[:p]
        return out
