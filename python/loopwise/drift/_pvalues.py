"""Distribution functions that turn the core's statistics into p-values.

The core computes statistics and the combinatorial exact p-values; the smooth limiting
distributions come from ``scipy.special`` / ``scipy.stats`` here, vectorised over columns.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["ks_asymptotic_pvalue", "cvm_t_statistic", "cvm_asymptotic_pvalue", "anderson_standardize",
           "anderson_pvalue", "chi2_sf"]

# Scholz & Stephens (1987), Table 2: interpolation coefficients of the critical values
# of the standardised k-sample Anderson-Darling statistic at these significance levels.
_AD_LEVELS = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
_AD_B0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
_AD_B1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
_AD_B2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])


def ks_asymptotic_pvalue(d: np.ndarray, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Two-sided KS p-value from the one-sample Kolmogorov distribution at the effective
    size round(n m / (n + m)) (the rule scipy's ``ks_2samp(method="asymp")`` uses)."""
    from scipy.stats import kstwo

    n = np.asarray(n, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    effective = np.round(n * m / (n + m))
    return np.clip(kstwo.sf(np.asarray(d, dtype=np.float64), effective), 0.0, 1.0)


def cvm_t_statistic(u: float, n: int, m: int) -> float:
    """Anderson's (1962) T = U / (n m N) - (4 n m - 1) / (6 N) from the rank statistic U."""
    k, total = n * m, n + m
    return u / (k * total) - (4 * k - 1) / (6 * total)


def _cvm_limit_cdf(x: float) -> float:
    """CDF of the limiting Cramér-von Mises distribution (Csörgő & Faraway 1996, eq. 1.2),
    summed until a term drops below 1e-7 as the reference implementations do."""
    total, k = 0.0, 0
    while True:
        y = 4 * k + 1
        q = y * y / (16 * x)
        term = (math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (math.pi**1.5 * math.sqrt(x))
                * math.sqrt(y) * math.exp(-q) * special.kv(0.25, q))
        total += term
        k += 1
        if abs(term) < 1e-7:
            return total


def cvm_asymptotic_pvalue(t: float, n: int, m: int) -> float:
    """Asymptotic two-sample Cramér-von Mises p-value: T is standardised with its exact
    mean and variance (Anderson 1962, eqs. 11, 14, 15) and referred to the limit law."""
    k, total = n * m, n + m
    mean = (1 + 1 / total) / 6
    var = (total + 1) * (4 * k * total - 3 * (n**2 + m**2) - 2 * k) / (45 * total**2 * 4 * k)
    tn = 1 / 6 + (t - mean) / math.sqrt(45 * var)
    if tn < 0.003:  # the limit CDF is below 1.3e-18 there
        return 1.0
    return max(0.0, 1.0 - _cvm_limit_cdf(tn))


def anderson_standardize(a2akn: float, n: int, m: int) -> float:
    """Standardised statistic (A2akN - (k - 1)) / sigma_N of Scholz & Stephens (1987), k = 2."""
    k = 2
    total = n + m
    H = 1.0 / n + 1.0 / m
    hs_cs = np.cumsum(1.0 / np.arange(total - 1, 1, -1))
    h = hs_cs[-1] + 1
    g = float(np.sum(hs_cs / np.arange(2, total)))
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * total**3 + b * total**2 + c * total + d) / ((total - 1.0) * (total - 2.0) * (total - 3.0))
    return (a2akn - (k - 1)) / math.sqrt(sigmasq)


def anderson_pvalue(a2: float) -> float:
    """p-value of the standardised statistic by quadratic interpolation of log(level)
    against the tabulated critical values; outside the table it is capped to
    [0.001, 0.25], the range the table supports (as scipy's ``anderson_ksamp``)."""
    m = 1  # k - 1
    critical = _AD_B0 + _AD_B1 / math.sqrt(m) + _AD_B2 / m
    if a2 < critical.min():
        return float(_AD_LEVELS.max())
    if a2 > critical.max():
        return float(_AD_LEVELS.min())
    coefficients = np.polyfit(critical, np.log(_AD_LEVELS), 2)
    return math.exp(np.polyval(coefficients, a2))


def chi2_sf(statistic: float, dof: int) -> float:
    """Upper tail of the chi-squared distribution."""
    return float(special.chdtrc(dof, statistic))
