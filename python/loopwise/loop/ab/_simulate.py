"""Simulated A/B tests on a 0/1 outcome: false positives under peeking, power, stopping time.

Thousands of experiments run as array operations: each batch's split and successes are drawn
as binomial counts, the arms' running means and variances follow from the counts, and each
experiment is looked at after every batch, exactly as :class:`ABTest` does.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ._sequential import fixed_horizon_test, mixture_variance, msprt_log_lr

__all__ = ["simulate"]


def simulate(*, p_champion: float, p_challenger: float, n_runs: int = 1000, n_batches: int = 20,
             batch_size: int = 500, share: float = 0.5, alpha: float = 0.05, effect_size: float = 0.1,
             min_samples: int = 100, random_state: Optional[int] = 0) -> dict:
    """Run ``n_runs`` experiments with a look after every batch; summarise the decisions.

    Parameters
    ----------
    p_champion, p_challenger : float
        Success probability of each arm (equal: a null experiment).
    n_runs, n_batches, batch_size : int
        Experiments, looks per experiment, rows per batch (the horizon is
        ``n_batches * batch_size`` rows).
    share : float
        The challenger's share of the traffic.
    alpha, effect_size, min_samples :
        As for :class:`ABTest`.

    Returns
    -------
    dict
        ``msprt`` (share of runs the always-valid test rejected at any look),
        ``naive_peeking`` (share where the z-test had p < alpha at any look),
        ``fixed_horizon`` (share where the z-test rejects at the last look only),
        ``msprt_mean_stop`` (mean rows to stop among rejecting runs, as a share of the
        horizon), and ``arrays``: per run and look, the counts, means and variances.

    Examples
    --------
    >>> out = simulate(p_champion=0.8, p_challenger=0.8, n_runs=200, n_batches=10, random_state=1)
    >>> out["msprt"] <= 0.05 < out["naive_peeking"]
    True
    """
    rng = np.random.default_rng(random_state)
    shape = (int(n_runs), int(n_batches))
    n_b = rng.binomial(int(batch_size), share, size=shape)
    n_a = int(batch_size) - n_b
    k_a = rng.binomial(n_a, p_champion)
    k_b = rng.binomial(n_b, p_challenger)
    n_a, n_b, k_a, k_b = (np.cumsum(x, axis=1) for x in (n_a, n_b, k_a, k_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_a, mean_b = k_a / n_a, k_b / n_b
        var_a = mean_a * (1 - mean_a) * n_a / np.maximum(n_a - 1, 1)
        var_b = mean_b * (1 - mean_b) * n_b / np.maximum(n_b - 1, 1)
        variance = var_a / n_a + var_b / n_b
    difference = mean_b - mean_a
    ready = (np.minimum(n_a, n_b) >= min_samples) & (variance > 0)
    log_lr = np.where(ready, msprt_log_lr(difference, np.where(ready, variance, 1.0),
                                          mixture_variance(var_a, var_b, effect_size)), -np.inf)
    crossed = log_lr >= np.log(1.0 / alpha)
    p_fixed = np.where(ready, fixed_horizon_test(difference, np.where(ready, variance, 1.0)), 1.0)
    rejected = crossed.any(axis=1)
    first = np.argmax(crossed, axis=1)
    horizon_rows = int(n_batches) * int(batch_size)
    stop_rows = (first + 1) * int(batch_size)
    return {
        "msprt": float(rejected.mean()),
        "naive_peeking": float((p_fixed < alpha).any(axis=1).mean()),
        "fixed_horizon": float((p_fixed[:, -1] < alpha).mean()),
        "msprt_mean_stop": float(stop_rows[rejected].mean() / horizon_rows) if rejected.any() else None,
        "arrays": {"n_champion": n_a, "n_challenger": n_b, "successes_champion": k_a, "successes_challenger": k_b,
                   "log_lr": log_lr, "p_fixed": p_fixed},
    }
