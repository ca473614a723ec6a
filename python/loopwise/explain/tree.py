"""``TreeExplainer``: exact SHAP values and interaction values for tree ensembles."""

from __future__ import annotations

import sys
from typing import Any, Iterator, Optional, Union

import numpy as np

from .. import _core
from .._input import feature_names_of
from .._threads import resolve_n_jobs
from ..models import TreeEnsemble
from ._pipeline import Preprocessing, group_explanation, split_pipeline, wrong_width_hint
from .explanation import Explanation

__all__ = ["TreeExplainer"]

_PERTURBATIONS = ("auto", "tree_path_dependent", "interventional")
_OUTPUTS = ("raw", "probability")
_VALUE_CHUNK = 4096  # rows per call into the core: bounds the progress granularity
_INTERACTION_BUDGET = 32 * 2**20  # doubles per interaction chunk (256 MB)
_PROGRESS_MIN_ROWS = 20_000


def _ensemble(model: Any) -> TreeEnsemble:
    """The model's trees, or an error that names the explainer to use instead."""
    try:
        return TreeEnsemble.from_model(model)
    except (TypeError, ValueError) as error:
        name = type(model).__name__
        if hasattr(model, "coef_") or name.endswith(("Regression", "Regressor", "Classifier")) and "Linear" in name:
            hint = (f"{name} is a linear model: use LinearExplainer(model, background) (exact), or "
                    "KernelExplainer(model.predict_proba or model.predict, background)")
        else:
            hint = (f"{name} is not a tree model loopwise can read: use KernelExplainer(model.predict, background) "
                    "or PermutationExplainer(model.predict, background), which work with any model")
        raise type(error)(f"{error}. {hint}") from error


def _interactive() -> bool:
    return hasattr(sys, "ps1") or "ipykernel" in sys.modules


class TreeExplainer:
    """Exact TreeSHAP for scikit-learn, XGBoost and LightGBM tree ensembles.

    Parameters
    ----------
    model : tree model, TreeEnsemble or scikit-learn Pipeline
        Anything :meth:`loopwise.TreeEnsemble.from_model` accepts, or a ``Pipeline`` whose
        last step is such a model: the explainer then applies ``pipeline[:-1].transform``
        to ``X`` (and ``data``) itself and explains the tree model on the transformed
        columns, named by ``get_feature_names_out()``. Pass the user's raw frame.
    data : array-like of shape (n_background, n_features), optional
        Background rows. With data, ``feature_perturbation="auto"`` is interventional:
        a coalition's value is the mean over background rows r of ``f(x_S, r_rest)``.
        Without data it is path-dependent: the cover-weighted expectation over the trees.
    feature_perturbation : {"auto", "tree_path_dependent", "interventional"}
    model_output : {"raw", "probability"}
        ``"raw"`` explains the margin (sum of leaves). ``"probability"`` explains the
        linked output; it needs background data (as in shap) unless the link is the identity.
        Each background pair's attributions are rescaled to the change in probability.
    n_jobs : int, optional
        Threads (``None``: all cores). Results are bit-identical for any value.
    progress : bool, optional
        Show a tqdm bar; ``None`` shows it for long runs in an interactive session.
    group_features : bool
        For a Pipeline whose preprocessing is a ColumnTransformer: sum the attributions of
        the columns derived from each input column (e.g. the one-hot columns of ``city``)
        so the explanation is in the user's columns, with the user's values as ``data``.
        Sums of SHAP values of a group are the SHAP values of the group as one player only
        approximately, but additivity is exact. Raises when an output cannot be mapped.

    Attributes
    ----------
    expected_value : float or ndarray of shape (n_outputs,)
        The base value the SHAP values of each row add up from.

    Notes
    -----
    Path-dependent values use a quadrature form of TreeSHAP: exact (Gauss-Legendre with
    ceil(depth / 2) points integrates the Shapley weight polynomial exactly), linear in the
    number of nodes, and free of the unwinding divisions that make classic TreeSHAP lose
    additivity on deep trees. A split whose children both have zero cover weighs them 1/2.
    The quadrature's per-edge factors depend only on the tree, so they are tabulated once,
    when the explainer is built (up to 256 MB; trees past that budget are tabulated per block
    of rows), and each tree is walked for four rows at a time (the last rows of a call one at
    a time, so a one-row call does only that row's walk). Trees whose tables would pass 64 MB
    (depth > 128, or huge trees) are walked directly.

    Interventional values walk each tree once per explained row, carrying the set of
    background rows that can still pair with it (as bitsets), instead of once per
    (row, background row) pair; subtrees no background row can reach are skipped. At each
    leaf, background rows that fail the same splits of its path are scored together: these
    patterns are found once, when the explainer is built (raw values only; paths of at most
    32 distinct features, at most 65,535 background rows and 256 MB of patterns, else the
    leaf scores each row). Paths with more than 64 distinct features, or backgrounds whose
    bitsets would exceed 512 MB, use the pairwise walk.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, random_state=0)
    >>> model = RandomForestRegressor(n_estimators=20, max_depth=5, random_state=0).fit(X, y)
    >>> explanation = TreeExplainer(model)(X[:10])
    >>> explanation.values.shape
    (10, 5)
    >>> bool(np.allclose(explanation.values.sum(1) + explanation.base_values, model.predict(X[:10])))
    True
    """

    def __init__(
        self,
        model: Any,
        data: Any = None,
        *,
        feature_perturbation: str = "auto",
        model_output: str = "raw",
        n_jobs: Optional[int] = None,
        progress: Optional[bool] = None,
        group_features: bool = False,
    ) -> None:
        if feature_perturbation not in _PERTURBATIONS:
            raise ValueError(f"feature_perturbation must be one of {_PERTURBATIONS}, got {feature_perturbation!r}")
        if model_output not in _OUTPUTS:
            raise ValueError(f"model_output must be one of {_OUTPUTS}, got {model_output!r}")
        self.model = model
        steps, final = split_pipeline(model)
        self.preprocessing = None if steps is None else Preprocessing(steps)
        self.ensemble = _ensemble(final)
        self.group_features = bool(group_features)
        self._groups: Optional[tuple[list[str], list[list[int]]]] = None
        if self.group_features:
            if self.preprocessing is None:
                raise ValueError("group_features=True needs a Pipeline (its preprocessing maps input columns to outputs)")
            self._groups = self.preprocessing.groups()
        self.feature_perturbation = feature_perturbation
        self.model_output = model_output
        self.n_jobs = n_jobs
        self.progress = progress
        resolve_n_jobs(n_jobs)  # fail early on n_jobs=0
        if feature_perturbation == "auto":
            feature_perturbation = "tree_path_dependent" if data is None else "interventional"
        self._mode = feature_perturbation
        if self._mode == "interventional" and data is None:
            raise ValueError("feature_perturbation='interventional' needs background data (the data argument)")
        self._transformed = model_output == "probability" and self.ensemble.link != "identity"
        if self._transformed and self._mode == "tree_path_dependent":
            raise ValueError(
                "model_output='probability' needs background data: path-dependent SHAP values explain the raw "
                f"margin of a model with a {self.ensemble.link} link (pass data=... or use model_output='raw')"
            )
        if self._transformed and self.ensemble.link == "softmax":
            raise ValueError(
                "model_output='probability' is not supported for multi-class (softmax) models; use model_output='raw'"
            )
        if model_output == "probability" and self.ensemble.task == "regression" and self.ensemble.link == "identity":
            raise ValueError("model_output='probability' is only meaningful for classifiers")
        if self._mode == "tree_path_dependent":
            self.data = None
            self._core = _core.PathDependentTreeShap(self.ensemble._core)
            expected = np.asarray(self._core.expected_value, dtype=np.float64)
        else:
            background = self._validate(data, "data")
            self.data = background
            self._core = _core.InterventionalTreeShap(self.ensemble._core, background)
            expected = np.asarray(self._core.expected_value(self._transformed), dtype=np.float64)
        self._expected = expected
        self.expected_value: Union[float, np.ndarray] = float(expected[0]) if expected.size == 1 else expected

    # ------------------------------------------------------------------ helpers
    def _validate(self, X: Any, name: str = "X") -> np.ndarray:
        if self.preprocessing is not None:
            X = self.preprocessing.transform(X, name)
        try:
            return self.ensemble._validate_X(X, name=name)
        except ValueError as error:
            hint = None if self.preprocessing is not None else wrong_width_hint(
                X, self.ensemble.n_features, self.ensemble.feature_names
            )
            if hint is None:
                raise
            raise ValueError(f"{error}; {hint}") from error

    def _rows(self, X: Any) -> tuple[np.ndarray, list[str]]:
        values = self._validate(X)
        if self.preprocessing is not None and self.preprocessing.output_names is not None:
            names = self.preprocessing.output_names
        else:
            names = self.ensemble.feature_names or feature_names_of(X)
        return values, list(names) if names else [f"x{j}" for j in range(self.ensemble.n_features)]

    def _grouped(self, explanation: Explanation, X: Any) -> Explanation:
        if self._groups is None:
            return explanation
        names, groups = self._groups
        return group_explanation(explanation, names, groups, X)

    def _chunks(self, n: int, size: int, what: str) -> Iterator[tuple[int, int]]:
        starts = range(0, n, size)
        show = self.progress if self.progress is not None else (_interactive() and n >= _PROGRESS_MIN_ROWS)
        if show and len(starts) > 1:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=what, unit="chunk")
        for start in starts:
            yield start, min(start + size, n)

    def _raw_values(self, values: np.ndarray) -> np.ndarray:
        n_jobs = resolve_n_jobs(self.n_jobs)
        m, k = self.ensemble.n_features, self.ensemble.n_outputs
        out = np.empty((values.shape[0], m, k), dtype=np.float64)
        for begin, end in self._chunks(values.shape[0], _VALUE_CHUNK, "TreeSHAP"):
            block = values[begin:end]
            if self._mode == "tree_path_dependent":
                out[begin:end] = self._core.shap_values(block, n_jobs)
            else:
                out[begin:end] = self._core.shap_values(block, self._transformed, n_jobs)
        return out

    def _check_additivity(self, values: np.ndarray, phi: np.ndarray) -> None:
        margin = self.ensemble._core.predict(values, resolve_n_jobs(self.n_jobs))
        target = self.ensemble._core.transform(margin) if self._transformed else margin
        total = phi.sum(axis=1) + self._expected
        # Each value is a sum of n_trees per-tree results, each exact up to a few rounding
        # errors per level: the bound scales with trees x depth x magnitude, in float64.
        scale = 1.0 + np.abs(target) + np.abs(phi).sum(axis=1)
        tolerance = 64 * np.finfo(np.float64).eps * (self.ensemble.n_trees * (self.ensemble.max_depth + 1)) * scale
        gap = np.abs(total - target)
        bad = np.argwhere(gap > tolerance)
        if bad.size:
            row, output = bad[0]
            raise AssertionError(
                f"additivity check failed for row {row} (output {output}): sum(values) + base_value = "
                f"{total[row, output]!r} but the model output is {target[row, output]!r} (difference "
                f"{gap[row, output]:.3g} > tolerance {tolerance[row, output]:.3g}); pass check_additivity=False "
                "to skip the check"
            )

    @staticmethod
    def _squeeze(array: np.ndarray) -> np.ndarray:
        return array[..., 0] if array.shape[-1] == 1 else array

    def _output_names(self) -> Optional[list[str]]:
        k = self.ensemble.n_outputs
        if k == 1:
            return None
        classes = self.ensemble.classes
        if classes is not None and len(classes) == k:
            return [str(c) for c in classes]
        return [f"output {i}" for i in range(k)]

    # ------------------------------------------------------------------ public API
    def shap_values(self, X: Any, *, check_additivity: bool = True) -> np.ndarray:
        """SHAP values, shape (n, m) for one output or (n, m, k) for k outputs.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, m)
        check_additivity : bool
            Verify ``values.sum(1) + expected_value`` equals the model output (raw margin,
            or probability with ``model_output="probability"``); raises naming the row.

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> tree = DecisionTreeRegressor(max_depth=2).fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 2, 3])
        >>> TreeExplainer(tree).shap_values([[1, 1]]).tolist()
        [[1.0, 0.5]]
        """
        if self._groups is not None:
            return self(X, check_additivity=check_additivity).values
        values, _ = self._rows(X)
        phi = self._raw_values(values)
        if check_additivity:
            self._check_additivity(values, phi)
        return self._squeeze(phi)

    def __call__(self, X: Any, *, check_additivity: bool = True) -> Explanation:
        """Explain rows: an :class:`Explanation` with values, base values, data and names.

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> tree = DecisionTreeRegressor(max_depth=2).fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 2, 3])
        >>> TreeExplainer(tree)([[1, 1]]).base_values.tolist()
        [1.5]
        """
        values, names = self._rows(X)
        phi = self._raw_values(values)
        if check_additivity:
            self._check_additivity(values, phi)
        base = self._expected if self._expected.size > 1 else float(self._expected[0])
        explanation = Explanation(
            self._squeeze(phi), base, data=values, feature_names=names, output_names=self._output_names()
        )
        return self._grouped(explanation, X)

    def shap_interaction_values(self, X: Any) -> np.ndarray:
        """Exact SHAP interaction values (path-dependent), shape (n, m, m) or (n, m, m, k).

        Off-diagonal entries split each pairwise interaction evenly between (i, j) and
        (j, i); the diagonal holds the main effects; ``values.sum(2)`` equals the SHAP
        values. Rows are processed in chunks so the working memory stays bounded.

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> tree = DecisionTreeRegressor(max_depth=2).fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 2, 3])
        >>> TreeExplainer(tree).shap_interaction_values([[1, 1]]).shape
        (1, 2, 2)
        """
        if self._mode != "tree_path_dependent" or self._transformed:
            raise ValueError(
                "interaction values are computed for feature_perturbation='tree_path_dependent' and "
                "model_output='raw'; build the explainer without background data"
            )
        values, _ = self._rows(X)
        m, k = self.ensemble.n_features, self.ensemble.n_outputs
        out = np.empty((values.shape[0], m, m, k), dtype=np.float64)
        chunk = max(1, _INTERACTION_BUDGET // max(1, m * m * k))
        n_jobs = resolve_n_jobs(self.n_jobs)
        for begin, end in self._chunks(values.shape[0], chunk, "TreeSHAP interactions"):
            out[begin:end] = self._core.interaction_values(values[begin:end], n_jobs)
        return self._squeeze(out)

    def to_json(self) -> str:
        """The explainer as JSON text (trees, background, settings), e.g. to ship it to workers.

        A Pipeline's preprocessing has no JSON form: such an explainer raises ``ValueError``.

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> tree = DecisionTreeRegressor(max_depth=2).fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 2, 3])
        >>> TreeExplainer.from_json(TreeExplainer(tree).to_json()).shap_values([[1, 1]]).tolist()
        [[1.0, 0.5]]
        """
        from ._json import dumps

        return dumps(self)

    @classmethod
    def from_json(cls, text: str, *, n_jobs: Optional[int] = None) -> "TreeExplainer":
        """Rebuild an explainer from :meth:`to_json` text; its values equal the original's bit for bit.

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> tree = DecisionTreeRegressor(max_depth=1).fit([[0.0], [1.0]], [0.0, 1.0])
        >>> TreeExplainer.from_json(TreeExplainer(tree).to_json()).expected_value
        0.5
        """
        from ._json import loads

        return loads(text, n_jobs=n_jobs, expect=cls)

    def __repr__(self) -> str:
        return (
            f"TreeExplainer(trees={self.ensemble.n_trees}, features={self.ensemble.n_features}, "
            f"feature_perturbation={self._mode!r}, model_output={self.model_output!r})"
        )
