"""Always-valid inference for a difference in means: the normal-mixture SPRT (mSPRT).

Johari, Koomen, Pekelis & Walsh, "Always valid inference: continuous monitoring of A/B
tests" (Operations Research, 2022). With ``d`` the challenger's mean minus the champion's and
``V = s_a^2/n_a + s_b^2/n_b`` its variance, the likelihood ratio of ``d ~ N(theta, V)`` mixed
over ``theta ~ N(0, tau^2)`` against ``theta = 0`` is::

    Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 d^2 / (2 V (V + tau^2)))

a martingale under the null in the Gaussian limit, so by Ville's inequality
``P(sup_n Lambda_n >= 1/alpha) <= alpha``: the test may be looked at after every batch and
stopped at any look. The always-valid p-value is the running minimum of ``1/Lambda``; the
matching confidence sequence is ``d +- sqrt(V (V + tau^2) / tau^2 * (log((V + tau^2)/V) - 2 log alpha))``.

All functions take numpy arrays (one element per experiment or per look), so a simulation of
thousands of experiments runs as a few array operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["msprt_log_lr", "confidence_sequence", "mixture_variance", "fixed_horizon_test"]


def mixture_variance(var_a: Any, var_b: Any, effect_size: float) -> np.ndarray:
    """``tau^2`` for a mixture whose standard deviation is ``effect_size`` outcome standard
    deviations (pooled over the arms), so the test does not depend on the outcome's units.

    Examples
    --------
    >>> round(float(mixture_variance(1.0, 1.0, 0.1)), 6)
    0.01
    """
    if not np.isfinite(effect_size) or effect_size <= 0:
        raise ValueError(f"effect_size must be a positive number of standard deviations, got {effect_size!r}")
    return float(effect_size) ** 2 * (np.asarray(var_a, dtype=float) + np.asarray(var_b, dtype=float)) / 2.0


def msprt_log_lr(difference: Any, variance: Any, tau2: Any) -> np.ndarray:
    """Log of the mixture likelihood ratio ``Lambda`` (see the module docstring).

    Examples
    --------
    >>> round(float(msprt_log_lr(0.0, 0.01, 0.01)), 4)  # no difference: evidence for the null
    -0.3466
    """
    d = np.asarray(difference, dtype=float)
    v = np.asarray(variance, dtype=float)
    t = np.asarray(tau2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 0.5 * np.log(v / (v + t)) + t * d * d / (2.0 * v * (v + t))
    return np.where(v > 0, out, np.where(d != 0, np.inf, 0.0))


def confidence_sequence(difference: Any, variance: Any, tau2: Any, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Always-valid ``1 - alpha`` interval for the difference: it excludes 0 exactly when
    ``Lambda >= 1/alpha``.

    Examples
    --------
    >>> low, high = confidence_sequence(0.05, 0.0001, 0.0004, 0.05)
    >>> bool(low > 0)
    True
    """
    d = np.asarray(difference, dtype=float)
    v = np.asarray(variance, dtype=float)
    t = np.asarray(tau2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.sqrt(v * (v + t) / t * (np.log((v + t) / v) - 2.0 * np.log(alpha)))
    half = np.where(v > 0, half, 0.0)
    return d - half, d + half


def fixed_horizon_test(difference: Any, variance: Any) -> np.ndarray:
    """Two-sided p-value of the usual z-test (Welch's unpooled variance): valid only when
    looked at once, at a sample size fixed in advance.

    Examples
    --------
    >>> round(float(fixed_horizon_test(0.0196, 0.0001)), 3)
    0.05
    """
    from scipy.special import ndtr

    d = np.asarray(difference, dtype=float)
    v = np.asarray(variance, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(d) / np.sqrt(v)
    return np.where(v > 0, 2.0 * ndtr(-z), np.where(d != 0, 0.0, 1.0))
