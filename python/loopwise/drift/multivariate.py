"""Multivariate drift: kernel MMD permutation test, domain-classifier test and PCA
reconstruction-error drift."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from .. import _core
from .._random import RandomState, resolve_seed
from .._threads import resolve_n_jobs
from ._columns import as_float_frame
from ._table import to_frame

__all__ = ["MMDResult", "mmd_test", "median_bandwidth", "ClassifierTestResult", "classifier_test",
           "ReconstructionDrift", "numeric_matrix"]


def numeric_matrix(data: Any, name: str, columns: Optional[list[str]] = None) -> tuple[np.ndarray, list[str]]:
    """A finite float64 matrix and its column names; datetime / timedelta columns become
    seconds, any other non-numeric column is an error naming it."""
    frame = to_frame(data, name)
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        extra = [c for c in frame.columns if c not in set(columns)]
        if missing or extra:
            raise ValueError(f"{name} columns differ from the reference: missing {missing}, unexpected {extra}")
        frame = frame[columns]
    try:
        matrix = as_float_frame(frame).to_numpy(dtype=np.float64)
    except ValueError as error:
        raise ValueError(f"{name}: a multivariate test needs numeric columns; {error}") from None
    if not np.isfinite(matrix).all():
        bad = [c for c, ok in zip(frame.columns, np.isfinite(matrix).all(axis=0)) if not ok]
        raise ValueError(f"{name} has missing or infinite values in columns {bad}; impute or drop them first")
    return np.ascontiguousarray(matrix), list(frame.columns)


@dataclass
class MMDResult:
    """Kernel two-sample test result.

    Attributes
    ----------
    statistic : float
        Unbiased MMD^2 estimate.
    p_value : float
        (number of permuted statistics >= observed + 1) / (n_permutations + 1).
    bandwidth : float
        Gaussian kernel bandwidth used.
    null_distribution : ndarray
        The permuted statistics.
    """

    statistic: float
    p_value: float
    bandwidth: float
    null_distribution: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        return {"test": "mmd", "statistic": self.statistic, "p_value": self.p_value, "bandwidth": self.bandwidth,
                "n_permutations": int(self.null_distribution.size)}


def median_bandwidth(Z: np.ndarray, *, max_rows: int = 1000, seed: int = 0) -> float:
    """Median heuristic: the median Euclidean distance between distinct pooled rows
    (on a seeded subsample of ``max_rows`` rows for large inputs).

    Examples
    --------
    >>> median_bandwidth(np.array([[0.0], [1.0], [3.0]]))
    2.0
    """
    if Z.shape[0] > max_rows:
        Z = Z[np.random.default_rng(seed).choice(Z.shape[0], max_rows, replace=False)]
    sq = (Z * Z).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * Z @ Z.T, 0.0)
    distances = np.sqrt(d2[np.triu_indices(Z.shape[0], k=1)])
    positive = distances[distances > 0]
    return float(np.median(positive)) if positive.size else 1.0


def mmd_test(X: Any, Y: Any, *, kernel: str = "rbf", bandwidth: Any = "median", n_permutations: int = 500,
             random_state: RandomState = None, n_jobs: Optional[int] = None) -> MMDResult:
    """Maximum mean discrepancy two-sample test with a Gaussian kernel.

    The unbiased MMD^2 of the observed split is compared with ``n_permutations`` random
    relabellings of the pooled rows. The C++ core builds the kernel in row blocks (no
    n^2 matrix is stored) and evaluates all permutations at once per block.

    Parameters
    ----------
    X, Y : table of shape (n, d) and (m, d)
        Numeric samples, at least 2 rows each, no missing values.
    kernel : {"rbf"}
        ``exp(-||a - b||^2 / (2 bandwidth^2))``.
    bandwidth : "median" or float
        ``"median"``: median pairwise distance of the pooled rows (seeded subsample of 1000).
    n_permutations : int
        Number of permutations (>= 1).
    random_state : int, numpy Generator or None
        Seed; the same seed gives the same p-value for any ``n_jobs``.
    n_jobs : int, optional
        Threads (``None``: all cores).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = mmd_test(rng.normal(size=(100, 3)), rng.normal(0.8, size=(100, 3)), n_permutations=100,
    ...                   random_state=0)
    >>> result.p_value < 0.05
    True
    """
    if kernel != "rbf":
        raise ValueError(f"kernel must be 'rbf', got {kernel!r}")
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, (int, np.integer)) or n_permutations < 1:
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations!r}")
    x, names = numeric_matrix(X, "X")
    y, _ = numeric_matrix(Y, "Y", names if not isinstance(X, np.ndarray) and not isinstance(Y, np.ndarray) else None)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"X has {x.shape[1]} columns but Y has {y.shape[1]}")
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError("X and Y need at least 2 rows each")
    seed = resolve_seed(random_state)
    if isinstance(bandwidth, str):
        if bandwidth != "median":
            raise ValueError(f"bandwidth must be 'median' or a positive number, got {bandwidth!r}")
        sigma = median_bandwidth(np.vstack([x, y]), seed=seed)
    else:
        sigma = float(bandwidth)
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"bandwidth must be positive and finite, got {bandwidth!r}")
    statistic, null = _core.drift_mmd(x, y, sigma, int(n_permutations), seed, resolve_n_jobs(n_jobs))
    p_value = (int(np.count_nonzero(null >= statistic)) + 1) / (n_permutations + 1)
    return MMDResult(float(statistic), float(p_value), sigma, np.asarray(null))


@dataclass
class ClassifierTestResult:
    """Domain-classifier test: can a model tell reference rows from current rows?

    Attributes
    ----------
    auc : float
        Cross-validated (out-of-fold) ROC AUC; 0.5 means indistinguishable.
    p_value : float
        One-sided Mann-Whitney p-value that the out-of-fold scores of current rows are
        not larger than those of reference rows (equivalent to AUC > 0.5).
    model : estimator
        The classifier refitted on all rows (for attribution).
    feature_names : list of str
    scores : ndarray
        Out-of-fold probability of "current" per pooled row (reference rows first).
    """

    auc: float
    p_value: float
    model: Any = field(repr=False)
    feature_names: list = field(repr=False)
    scores: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        return {"test": "classifier", "auc": self.auc, "p_value": self.p_value}


def _default_classifier(random_state: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=100, max_depth=4, learning_rate=0.1, random_state=random_state)


def classifier_test(X: Any, Y: Any, model: Any = None, *, n_splits: int = 5,
                    random_state: RandomState = None, n_jobs: Optional[int] = None) -> ClassifierTestResult:
    """Domain-classifier drift test with cross-validated AUC.

    Parameters
    ----------
    X, Y : table
        Reference and current rows with the same numeric columns (datetime / timedelta
        columns are used as seconds; NaN allowed when the model supports it; the default
        HistGradientBoostingClassifier does).
    model : scikit-learn classifier, optional
        Any classifier with ``predict_proba``; default a small histogram gradient boosting.
    n_splits : int
        Stratified folds for the out-of-fold scores.
    random_state : int, optional
    n_jobs : int, optional
        Threads for the model's OpenMP/BLAS pools (small inputs always use 1: spinning
        up threads costs more than a few hundred rows of boosting).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = classifier_test(rng.normal(size=(300, 3)), rng.normal(size=(300, 3)) + [1, 0, 0],
    ...                          random_state=0)
    >>> result.auc > 0.6
    True
    """
    from scipy.stats import mannwhitneyu
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    fx = to_frame(X, "X")
    fy = to_frame(Y, "Y")
    if list(fx.columns) != list(fy.columns):
        raise ValueError(f"X and Y must have the same columns: {list(fx.columns)} vs {list(fy.columns)}")
    try:
        x = as_float_frame(fx).to_numpy(dtype=np.float64)
        y = as_float_frame(fy).to_numpy(dtype=np.float64)
    except ValueError as error:
        raise ValueError(f"classifier_test needs numeric columns (datetime ones are used as seconds): {error}; "
                         "or use loopwise.drift.attribute, which encodes categorical columns itself") from None
    if np.isinf(x).any() or np.isinf(y).any():
        raise ValueError("X and Y must not contain infinite values")
    if min(len(x), len(y)) < n_splits:
        raise ValueError(f"each side needs at least n_splits={n_splits} rows")
    seed = resolve_seed(random_state) % (2**31)
    estimator = _default_classifier(seed) if model is None else clone(model)
    Z = np.vstack([x, y])
    labels = np.r_[np.zeros(len(x)), np.ones(len(y))]
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    from threadpoolctl import threadpool_limits

    threads = 1 if len(Z) < 20_000 else resolve_n_jobs(n_jobs)
    with threadpool_limits(limits=threads):
        scores = cross_val_predict(estimator, Z, labels, cv=folds, method="predict_proba")[:, 1]
        fitted = clone(estimator).fit(Z, labels)
    auc = float(roc_auc_score(labels, scores))
    p_value = float(mannwhitneyu(scores[labels == 1], scores[labels == 0], alternative="greater").pvalue)
    return ClassifierTestResult(auc, p_value, fitted, list(fx.columns), scores)


class ReconstructionDrift:
    """PCA reconstruction-error drift (the multivariate view NannyML popularised).

    ``fit`` standardises the reference, keeps the principal components explaining
    ``variance`` of it, and measures the mean reconstruction error of reference chunks;
    the alert band is their mean +- ``n_std`` standard deviations. ``score`` reports the
    error of each current chunk and whether it leaves the band.

    Parameters
    ----------
    variance : float
        Share of reference variance the components keep (0 < variance <= 1).
    chunk_size : int
        Rows per chunk.
    n_std : float
        Width of the alert band in standard deviations of the reference chunk errors.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> base = rng.normal(size=(2000, 1))
    >>> ref = np.hstack([base, base + 0.1 * rng.normal(size=(2000, 1))])
    >>> detector = ReconstructionDrift(chunk_size=200).fit(ref)
    >>> broken = np.hstack([base, rng.normal(size=(2000, 1))])  # correlation lost
    >>> bool(detector.score(broken)["alert"].all())
    True
    """

    def __init__(self, *, variance: float = 0.9, chunk_size: int = 500, n_std: float = 3.0) -> None:
        self.variance = variance
        self.chunk_size = chunk_size
        self.n_std = n_std

    def _errors(self, matrix: np.ndarray) -> np.ndarray:
        z = (matrix - self.mean_) / self.scale_
        back = (z @ self.components_.T) @ self.components_
        return np.sqrt(((z - back) ** 2).sum(axis=1))

    def fit(self, reference: Any) -> "ReconstructionDrift":
        if not (0 < self.variance <= 1):
            raise ValueError(f"variance must be in (0, 1], got {self.variance}")
        if not isinstance(self.chunk_size, (int, np.integer)) or self.chunk_size < 2:
            raise ValueError(f"chunk_size must be an integer >= 2, got {self.chunk_size!r}")
        matrix, self.feature_names_ = numeric_matrix(reference, "reference")
        if matrix.shape[0] < 2 * self.chunk_size:
            raise ValueError(f"reference needs at least 2 chunks of {self.chunk_size} rows, got {matrix.shape[0]} rows")
        self.mean_ = matrix.mean(axis=0)
        std = matrix.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        z = (matrix - self.mean_) / self.scale_
        _, singular, vt = np.linalg.svd(z, full_matrices=False)
        explained = np.cumsum(singular**2) / max(float((singular**2).sum()), 1e-300)
        k = int(np.searchsorted(explained, self.variance - 1e-12) + 1)
        self.components_ = vt[: min(k, vt.shape[0])]
        errors = self._chunk_means(self._errors(matrix))
        self.reference_errors_ = errors
        spread = float(errors.std(ddof=1)) if errors.size > 1 else 0.0
        self.lower_ = float(errors.mean() - self.n_std * spread)
        self.upper_ = float(errors.mean() + self.n_std * spread)
        return self

    def _chunk_means(self, errors: np.ndarray) -> np.ndarray:
        n_chunks = max(errors.size // self.chunk_size, 1)
        return np.array([c.mean() for c in np.array_split(errors[: n_chunks * self.chunk_size], n_chunks)])

    def score(self, current: Any):
        """Per-chunk reconstruction error of ``current`` with alerts (pandas DataFrame)."""
        import pandas as pd

        if not hasattr(self, "components_"):
            raise ValueError("call fit(reference) before score(current)")
        matrix, _ = numeric_matrix(current, "current", self.feature_names_)
        errors = self._errors(matrix)
        starts = np.arange(0, errors.size, self.chunk_size)
        means = np.array([errors[s:s + self.chunk_size].mean() for s in starts])
        return pd.DataFrame({"start": starts, "stop": np.minimum(starts + self.chunk_size, errors.size),
                             "error": means, "lower": self.lower_, "upper": self.upper_,
                             "alert": (means < self.lower_) | (means > self.upper_)})
