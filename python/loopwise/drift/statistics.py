"""Two-sample drift tests on 1-D samples: each returns a :class:`TestResult`.

The statistics are computed by the C++ core; p-values agree with scipy.stats to 1e-10.
Missing values (NaN / None) are dropped first; infinite values are an error.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from numbers import Real
from typing import Any, Optional

import numpy as np

from .. import _core
from . import _pvalues

__all__ = ["TestResult", "ks", "cvm", "anderson", "wasserstein", "energy", "psi", "jensen_shannon",
           "hellinger", "chi2", "g_test", "z_test", "quantile_edges", "PSI_EPSILON", "PSI_BINS", "JS_BASE",
           "STD_FLOOR"]

#: Default number of reference-quantile bins for PSI, Jensen-Shannon and Hellinger.
PSI_BINS = 10
#: Proportions below this are raised to it before PSI takes logarithms.
PSI_EPSILON = 1e-4
#: Log base of the Jensen-Shannon distance: the natural log, as evidently (which calls
#: ``scipy.spatial.distance.jensenshannon`` with its default base e). Its drift threshold
#: 0.1 is meant for this base; base 2 gives values sqrt(1 / ln 2) = 1.20 times larger.
JS_BASE = math.e
#: The normalised Wasserstein / energy distances divide by max(reference std, STD_FLOOR),
#: evidently's floor for a constant reference.
STD_FLOOR = 0.001

# Mirrors loopwise::drift::Statistic (column_compare.hpp).
KS, KS_EXACT, CVM, CVM_EXACT, ANDERSON, WASSERSTEIN, ENERGY, BINNED = (1 << i for i in range(8))
ALL = 0xFF
EXACT_KS_MAX_N = 10000  # scipy's method="auto": exact when max(n, m) <= 10000


@dataclass
class TestResult:
    """Outcome of one two-sample test.

    Attributes
    ----------
    test : str
        Name of the test (``"ks"``, ``"chi2"``, ...).
    statistic : float
        The test statistic or distance.
    p_value : float or None
        p-value where the test has one, else None (distances).
    method : str
        How the p-value or statistic was obtained (e.g. ``"exact"``, ``"asymp"``).
    details : dict
        Test-specific settings (bins, epsilon, log base, degrees of freedom...).

    Examples
    --------
    >>> import numpy as np
    >>> from loopwise.drift import ks
    >>> result = ks(np.arange(10.0), np.arange(10.0) + 0.5)
    >>> round(result.statistic, 2)
    0.1
    """

    __test__ = False  # not a pytest class, despite the name

    test: str
    statistic: float
    p_value: Optional[float] = None
    method: str = ""
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-serialisable dictionary of the result."""
        return asdict(self)


def _numeric_sample(x: Any, name: str) -> np.ndarray:
    array = np.asarray(x)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    # Complex numbers would lose their imaginary part and text would be parsed as numbers:
    # both are refused, as scikit-learn's check_array refuses them for numeric input.
    if array.dtype.kind in "cUSV" or (array.dtype.kind == "O" and any(
            isinstance(v, (complex, np.complexfloating, str, bytes)) for v in array.ravel())):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}"
                         + (" holding complex or text values" if array.dtype.kind == "O" else ""))
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numeric, got dtype {array.dtype}") from None
    array = np.ascontiguousarray(array, dtype=np.float64)
    if np.isinf(array).any():
        raise ValueError(f"{name} contains infinite values")
    return array


def _sorted_pair(reference: Any, current: Any, min_size: int = 1) -> tuple[np.ndarray, np.ndarray]:
    a = _numeric_sample(reference, "reference")
    b = _numeric_sample(current, "current")
    sa, sb = sorted_finite(a), sorted_finite(b)
    for sample, name in ((sa, "reference"), (sb, "current")):
        if sample.size < min_size:
            raise ValueError(f"{name} needs at least {min_size} non-missing value(s), got {sample.size}")
    return sa, sb


def sorted_finite(values: np.ndarray) -> np.ndarray:
    """Sorted copy of a 1-D float64 array without its NaN.

    numpy's vectorised sort (x86-simd-sort) is about 3x faster than the core's radix
    sort on the machines we measured, so sorting happens here; NaN sorts last and is cut off.
    """
    ordered = np.sort(values, axis=-1)
    if ordered.size and np.isnan(ordered[-1]):
        ordered = ordered[: ordered.size - int(np.count_nonzero(np.isnan(ordered)))]
    return ordered


#: More bins than this describe no sample better; the limit keeps a typo from allocating
#: gigabytes of quantile positions.
MAX_BINS = 100_000


def quantile_edges(sorted_reference: np.ndarray, bins: int = PSI_BINS) -> np.ndarray:
    """Interior bin edges at the reference quantiles 1/bins, ..., (bins-1)/bins (duplicates
    merged). Bins are right-closed and the outermost ones open-ended, so current values
    outside the reference range still land in a bin.

    Examples
    --------
    >>> quantile_edges(np.arange(1.0, 101.0), bins=4).tolist()
    [25.75, 50.5, 75.25]
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 2 <= bins <= MAX_BINS:
        raise ValueError(f"bins must be an integer in [2, {MAX_BINS}], got {bins!r}")
    if sorted_reference.size == 0:
        raise ValueError("reference has no non-missing values to take bin edges from")
    return np.unique(np.quantile(sorted_reference, np.linspace(0.0, 1.0, bins + 1)[1:-1]))


def _compare_one(sa: np.ndarray, sb: np.ndarray, flags: int, edges: Optional[np.ndarray] = None,
                 psi_epsilon: float = PSI_EPSILON, js_base: float = JS_BASE,
                 exact_ks_max_n: int = EXACT_KS_MAX_N) -> dict:
    edge_list = [list(edges)] if edges is not None else []
    out = _core.drift_compare_numeric([sa], [sb], edge_list, flags, exact_ks_max_n, psi_epsilon, js_base, 1)
    return {key: float(value[0]) for key, value in out.items()}


def ks(reference: Any, current: Any, *, method: str = "auto") -> TestResult:
    """Two-sided two-sample Kolmogorov-Smirnov test.

    Parameters
    ----------
    reference, current : array-like of shape (n,)
        Samples; NaN values are dropped.
    method : {"auto", "exact", "asymp"}
        ``"exact"`` counts lattice paths (Hodges); ``"asymp"`` uses the Kolmogorov
        distribution at the effective size; ``"auto"`` is exact when both sizes are at
        most 10000 (scipy's rule).

    Returns
    -------
    TestResult
        ``statistic`` is sup |F_ref - F_cur|.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ks(rng.normal(size=200), rng.normal(1.0, size=200)).p_value < 1e-6
    True
    """
    if method not in ("auto", "exact", "asymp"):
        raise ValueError(f"method must be 'auto', 'exact' or 'asymp', got {method!r}")
    sa, sb = _sorted_pair(reference, current)
    limit = {"auto": EXACT_KS_MAX_N, "exact": 2**62, "asymp": 0}[method]
    flags = KS | (KS_EXACT if method != "asymp" else 0)
    stats = _compare_one(sa, sb, flags, exact_ks_max_n=limit)
    return _ks_result(stats["ks"], stats["ks_exact_pvalue"], sa.size, sb.size)


def _ks_result(d: float, exact_p: float, n: int, m: int) -> TestResult:
    if not math.isnan(exact_p):
        return TestResult("ks", d, exact_p, "exact", {"n_reference": n, "n_current": m})
    p = float(_pvalues.ks_asymptotic_pvalue(d, n, m))
    return TestResult("ks", d, p, "asymp", {"n_reference": n, "n_current": m})


def cvm(reference: Any, current: Any, *, method: str = "auto") -> TestResult:
    """Two-sample Cramér-von Mises test (Anderson 1962), midranks for ties.

    Parameters
    ----------
    reference, current : array-like of shape (n,)
        Samples with at least 2 non-missing values each.
    method : {"auto", "exact", "asymptotic"}
        ``"auto"`` is exact when both sizes are at most 20 (scipy's rule).

    Returns
    -------
    TestResult
        ``statistic`` is Anderson's T.

    Examples
    --------
    >>> import numpy as np
    >>> round(cvm(np.arange(10.0), np.arange(10.0)).p_value, 3)
    1.0
    """
    if method not in ("auto", "exact", "asymptotic"):
        raise ValueError(f"method must be 'auto', 'exact' or 'asymptotic', got {method!r}")
    sa, sb = _sorted_pair(reference, current, min_size=2)
    if method == "exact" and max(sa.size, sb.size) > 20:
        raise ValueError("the exact Cramér-von Mises p-value is limited to samples of at most 20")
    exact = method == "exact" or (method == "auto" and max(sa.size, sb.size) <= 20)
    stats = _compare_one(sa, sb, CVM | (CVM_EXACT if exact else 0))
    return _cvm_result(stats["cvm_u"], stats["cvm_exact_pvalue"], sa.size, sb.size)


def _cvm_result(u: float, exact_p: float, n: int, m: int) -> TestResult:
    t = _pvalues.cvm_t_statistic(u, n, m)
    if not math.isnan(exact_p):
        return TestResult("cvm", t, exact_p, "exact", {"u": u})
    return TestResult("cvm", t, _pvalues.cvm_asymptotic_pvalue(t, n, m), "asymptotic", {"u": u})


def anderson(reference: Any, current: Any) -> TestResult:
    """Anderson-Darling k-sample test for k = 2 (Scholz & Stephens 1987, midrank version).

    The p-value interpolates the published critical-value table and is therefore capped
    to [0.001, 0.25], as in scipy's ``anderson_ksamp``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> anderson(rng.normal(size=100), rng.normal(size=100)).p_value > 0.01
    True
    """
    sa, sb = _sorted_pair(reference, current)
    if sa.size + sb.size < 4:
        raise ValueError("the Anderson-Darling test needs at least 4 values in total")
    stats = _compare_one(sa, sb, ANDERSON)
    return _anderson_result(stats["anderson_a2akn"], sa, sb)


def _anderson_result(a2akn: float, sa: np.ndarray, sb: np.ndarray) -> TestResult:
    if sa[0] == sa[-1] == sb[0] == sb[-1]:  # one distinct value: nothing can differ
        return TestResult("anderson", float("nan"), 1.0, "constant", {})
    a2 = _pvalues.anderson_standardize(a2akn, sa.size, sb.size)
    return TestResult("anderson", a2, _pvalues.anderson_pvalue(a2), "table interpolation", {"a2akn": a2akn})


def wasserstein(reference: Any, current: Any, *, normalize: bool = False) -> TestResult:
    """Wasserstein-1 (earth mover's) distance between the empirical distributions.

    Parameters
    ----------
    normalize : bool
        Divide by max(reference standard deviation (population, ddof=0), 0.001), a
        scale-free effect size (evidently's ``wasserstein`` normalisation and floor).

    Examples
    --------
    >>> wasserstein([0.0, 1.0], [1.0, 2.0]).statistic
    1.0
    """
    sa, sb = _sorted_pair(reference, current)
    value = _compare_one(sa, sb, WASSERSTEIN)["wasserstein"]
    scale = _reference_scale(sa) if normalize else 1.0
    return TestResult("wasserstein", value / scale, None, "normalized" if normalize else "raw",
                      {"scale": scale})


def _reference_scale(sorted_reference: np.ndarray) -> float:
    return max(float(np.std(sorted_reference)), STD_FLOOR)


def energy(reference: Any, current: Any, *, normalize: bool = False) -> TestResult:
    """Energy distance sqrt(2 * integral (F_ref - F_cur)^2) (scipy's definition).

    Examples
    --------
    >>> round(energy([0.0], [1.0]).statistic, 6)
    1.414214
    """
    sa, sb = _sorted_pair(reference, current)
    value = _compare_one(sa, sb, ENERGY)["energy"]
    scale = math.sqrt(_reference_scale(sa)) if normalize else 1.0
    return TestResult("energy", value / scale, None, "normalized" if normalize else "raw", {"scale": scale})


def _is_categorical(x: Any, categorical: Optional[bool]) -> bool:
    if categorical is not None:
        return bool(categorical)
    array = np.asarray(x)
    if array.dtype.kind == "O":
        # An object column of plain numbers (pandas gives one after mixing in None) is numeric.
        present = [v for v in array.ravel() if v is not None and not (isinstance(v, float) and math.isnan(v))]
        return not present or not all(isinstance(v, Real) and not isinstance(v, bool) for v in present)
    return array.dtype.kind not in "biuf"


def _category_sample(x: Any, name: str) -> np.ndarray:
    array = np.asarray(x, dtype=object)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    # A complex number is no category anyone meant: it is a numeric column gone wrong.
    if any(isinstance(v, (complex, np.complexfloating)) for v in array):
        raise ValueError(f"{name} holds complex values; categories are labels or numbers")
    return array


def category_counts(reference: Any, current: Any) -> tuple[list, np.ndarray, np.ndarray]:
    """Counts of each category (union of both sides, missing values dropped)."""
    import pandas as pd

    ref = pd.Series(_category_sample(reference, "reference")).dropna()
    cur = pd.Series(_category_sample(current, "current")).dropna()
    if ref.empty or cur.empty:
        raise ValueError(f"{'reference' if ref.empty else 'current'} has no non-missing values")
    ref_counts = ref.value_counts(sort=False)
    cur_counts = cur.value_counts(sort=False)
    categories = list(ref_counts.index) + [c for c in cur_counts.index if c not in ref_counts.index]
    p = ref_counts.reindex(categories, fill_value=0).to_numpy(np.int64)
    q = cur_counts.reindex(categories, fill_value=0).to_numpy(np.int64)
    return categories, p, q


def _binned_counts(reference: Any, current: Any, bins: int, categorical: Optional[bool]) -> tuple[np.ndarray, np.ndarray, dict]:
    if _is_categorical(reference, categorical) or _is_categorical(current, categorical):
        categories, p, q = category_counts(reference, current)
        return p, q, {"binning": "categories", "n_categories": len(categories)}
    sa, sb = _sorted_pair(reference, current)
    edges = quantile_edges(sa, bins)
    positions = np.concatenate([[-np.inf], edges, [np.inf]])
    p = np.diff(np.searchsorted(sa, positions[1:-1], side="right"), prepend=0, append=sa.size).astype(np.int64)
    q = np.diff(np.searchsorted(sb, positions[1:-1], side="right"), prepend=0, append=sb.size).astype(np.int64)
    return p, q, {"binning": "reference quantiles", "bins": int(edges.size + 1)}


def psi(reference: Any, current: Any, *, bins: int = PSI_BINS, epsilon: float = PSI_EPSILON,
        categorical: Optional[bool] = None) -> TestResult:
    """Population stability index sum (q - p) ln(q / p).

    Drift threshold 0.1 in :func:`loopwise.drift.compare` (evidently's). Numeric samples
    are binned at reference quantiles (evidently: Sturges' rule over both samples, with a
    different floor for empty bins), so values can differ from evidently's.

    Parameters
    ----------
    bins : int
        Numeric samples: number of reference-quantile bins (right-closed, outer bins
        open-ended). Categorical samples use their categories.
    epsilon : float
        Proportions below ``epsilon`` are raised to it (an empty bin would give an infinite PSI).
    categorical : bool, optional
        Force categorical (True) or numeric (False) treatment; by default non-numeric
        dtypes are categorical.

    Examples
    --------
    >>> psi([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], bins=2).statistic
    0.0
    """
    if not (epsilon > 0):
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    p, q, details = _binned_counts(reference, current, bins, categorical)
    value, _, _ = _core.drift_count_divergences(p, q, float(epsilon), JS_BASE)
    return TestResult("psi", value, None, details["binning"], {**details, "epsilon": epsilon})


def jensen_shannon(reference: Any, current: Any, *, bins: int = PSI_BINS, base: float = JS_BASE,
                   categorical: Optional[bool] = None) -> TestResult:
    """Jensen-Shannon distance (square root of the divergence) in log base ``base``.

    The default base is e, as ``scipy.spatial.distance.jensenshannon`` and evidently use
    (the distance is then at most sqrt(ln 2) = 0.833); ``base=2`` bounds it by 1. Bins as
    in :func:`psi`; empty bins contribute 0 (0 log 0 = 0), no epsilon. (evidently bins a
    numeric column with more than 20 distinct values by Sturges' rule over both samples;
    here the bins are reference quantiles, the same for every current batch.)

    Examples
    --------
    >>> round(jensen_shannon(["a", "a"], ["b", "b"]).statistic, 4)
    0.8326
    >>> jensen_shannon(["a", "a"], ["b", "b"], base=2).statistic
    1.0
    """
    if not (base > 1):
        raise ValueError(f"base must be > 1, got {base}")
    p, q, details = _binned_counts(reference, current, bins, categorical)
    _, value, _ = _core.drift_count_divergences(p, q, PSI_EPSILON, float(base))
    return TestResult("jensen_shannon", value, None, details["binning"], {**details, "base": base})


def hellinger(reference: Any, current: Any, *, bins: int = PSI_BINS, categorical: Optional[bool] = None) -> TestResult:
    """Hellinger distance sqrt(1 - sum sqrt(p q)) on the bins of :func:`psi`.

    Examples
    --------
    >>> hellinger(["a"], ["a"]).statistic
    0.0
    """
    p, q, details = _binned_counts(reference, current, bins, categorical)
    _, _, value = _core.drift_count_divergences(p, q, PSI_EPSILON, JS_BASE)
    return TestResult("hellinger", value, None, details["binning"], details)


def contingency_test(p: np.ndarray, q: np.ndarray, *, log_likelihood: bool, correction: bool = True) -> tuple[float, float, int]:
    """Chi-squared or G statistic, p-value and degrees of freedom of the 2 x K table [p; q].

    Categories absent from both rows are dropped; with one degree of freedom and
    ``correction`` the observed counts move 0.5 toward the expected ones (Yates).
    """
    keep = (p + q) > 0
    observed = np.vstack([p[keep], q[keep]]).astype(np.float64)
    dof = observed.shape[1] - 1
    if dof <= 0:
        return 0.0, 1.0, 0
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
    if dof == 1 and correction:
        diff = expected - observed
        observed = observed + np.sign(diff) * np.minimum(0.5, np.abs(diff))
    if log_likelihood:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
        statistic = 2.0 * float(terms.sum())
    else:
        statistic = float(((observed - expected) ** 2 / expected).sum())
    return statistic, _pvalues.chi2_sf(statistic, dof), dof


def chi2(reference: Any, current: Any, *, correction: bool = True) -> TestResult:
    """Pearson chi-squared test of homogeneity of two categorical samples.

    Categories seen only in ``current`` (unseen in the reference) are part of the table,
    so a new category counts as drift. Yates' correction applies when there is one degree
    of freedom and ``correction`` is True (as ``scipy.stats.chi2_contingency``).

    Examples
    --------
    >>> chi2(["a"] * 50 + ["b"] * 50, ["a"] * 90 + ["b"] * 10).p_value < 1e-6
    True
    """
    categories, p, q = category_counts(reference, current)
    statistic, p_value, dof = contingency_test(p, q, log_likelihood=False, correction=correction)
    unseen = [str(c) for c, count in zip(categories, p) if count == 0]
    return TestResult("chi2", statistic, p_value, "pearson", {"dof": dof, "unseen_categories": unseen})


def g_test(reference: Any, current: Any, *, correction: bool = True) -> TestResult:
    """Likelihood-ratio (G) test of homogeneity of two categorical samples.

    Examples
    --------
    >>> g_test(["a", "b"] * 50, ["a", "b"] * 50).p_value
    1.0
    """
    categories, p, q = category_counts(reference, current)
    statistic, p_value, dof = contingency_test(p, q, log_likelihood=True, correction=correction)
    unseen = [str(c) for c, count in zip(categories, p) if count == 0]
    return TestResult("g_test", statistic, p_value, "log-likelihood", {"dof": dof, "unseen_categories": unseen})


def z_test(reference: Any, current: Any) -> TestResult:
    """Two-proportion z-test (pooled variance) for a column with at most two values.

    evidently's default for binary columns with at most 1000 reference values. The first
    value in sorted order is the "success"; ``statistic`` is z = (p_ref - p_cur) /
    sqrt(P (1 - P) (1/n + 1/m)) with the pooled proportion P, the p-value two-sided. z^2
    equals the chi-squared statistic without Yates' correction, so the two agree.

    Examples
    --------
    >>> z_test([0] * 50 + [1] * 50, [0] * 80 + [1] * 20).p_value < 1e-4
    True
    """
    categories, p, q = category_counts(reference, current)
    if len(categories) > 2:
        raise ValueError(f"the z-test needs at most 2 distinct values, got {len(categories)}; use chi2")
    statistic, p_value = proportion_z(p, q)
    return TestResult("z", statistic, p_value, "pooled two-proportion", {"categories": [str(c) for c in categories]})


def proportion_z(p: np.ndarray, q: np.ndarray) -> tuple[float, float]:
    """z statistic and two-sided p-value from the counts of (at most) two categories."""
    from scipy.stats import norm

    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.size < 2 or (p + q > 0).sum() < 2:
        return 0.0, 1.0  # one value on both sides: nothing can differ
    n, m = p.sum(), q.sum()
    pooled = (p[0] + q[0]) / (n + m)
    z = (p[0] / n - q[0] / m) / math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    return float(z), float(2 * norm.sf(abs(z)))
