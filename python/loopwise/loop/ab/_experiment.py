"""``ABTest``: running statistics of two arms, looked at after every batch.

The decision is the always-valid mSPRT (:mod:`._sequential`): peeking at every batch does not
raise the false-positive rate above ``alpha``. The fixed-horizon z-test's p-value is reported
beside it for comparison only — it is valid once, at a sample size fixed in advance, and
stopping on it at the first look where it dips below ``alpha`` inflates false positives.

Guardrails are further per-row outcomes the challenger must not make worse; each has its own
always-valid test, and the experiment stops as soon as one shows harm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from ._sequential import confidence_sequence, fixed_horizon_test, mixture_variance, msprt_log_lr

__all__ = ["ABTest", "ABResult", "ARMS"]

ARMS = ("champion", "challenger")
PRIMARY = "primary"


@dataclass
class ABResult:
    """What one look at an :class:`ABTest` found.

    Attributes
    ----------
    decision : str
        ``"continue"``; ``"challenger"`` or ``"champion"`` (the primary metric differs, in
        the winner's favour); ``"guardrail"`` (a guardrail shows harm; the reason names it);
        ``"inconclusive"`` (``max_samples`` reached without a difference).
    stopped : bool
        A decision other than ``"continue"``; it stays once reached.
    reason : str
    looks : int
    metrics : dict
        Per metric (``"primary"`` and each guardrail): the arms' means and sizes, the
        difference (challenger - champion), its always-valid confidence sequence, the
        always-valid p-value and, for comparison, the fixed-horizon p-value.
    """

    decision: str
    stopped: bool
    reason: str
    looks: int
    metrics: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready fields.

        Examples
        --------
        >>> ABResult("continue", False, "too few rows", 0).to_dict()["decision"]
        'continue'
        """
        return {"decision": self.decision, "stopped": self.stopped, "reason": self.reason, "looks": self.looks,
                "metrics": self.metrics}


def _check_probability(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)


class ABTest:
    """An always-valid A/B test of a challenger against the champion.

    Parameters
    ----------
    higher_is_better : bool
        Direction of the primary per-row outcome (e.g. True for "correct", False for an
        absolute error).
    alpha : float
        False-positive rate of the primary decision, under continuous monitoring.
    guardrails : dict of str to bool, optional
        Further per-row outcomes, each mapped to whether higher is better. The test stops
        with decision ``"guardrail"`` when one is significantly worse for the challenger.
    guardrail_alpha : float, optional
        Level of each guardrail's test (default ``alpha``).
    effect_size : float
        Standard deviation of the mSPRT's mixture over effects, in outcome standard
        deviations: the size of difference the test is most sensitive to early.
    min_samples : int
        Rows per arm before the first decision (the variance estimates need them).
    max_samples : int, optional
        Total rows after which a test without a difference stops as ``"inconclusive"``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> test = ABTest(alpha=0.05)
    >>> for _ in range(40):
    ...     test.update("champion", rng.random(250) < 0.80)
    ...     test.update("challenger", rng.random(250) < 0.86)
    ...     result = test.look()
    ...     if result.stopped:
    ...         break
    >>> result.decision
    'challenger'
    """

    def __init__(self, *, higher_is_better: bool = True, alpha: float = 0.05,
                 guardrails: Optional[dict] = None, guardrail_alpha: Optional[float] = None,
                 effect_size: float = 0.1, min_samples: int = 100, max_samples: Optional[int] = None) -> None:
        self.higher_is_better = bool(higher_is_better)
        self.alpha = _check_probability(alpha, "alpha")
        self.guardrail_alpha = self.alpha if guardrail_alpha is None else _check_probability(
            guardrail_alpha, "guardrail_alpha")
        guardrails = dict(guardrails or {})
        for name, direction in guardrails.items():
            if not isinstance(name, str) or name == PRIMARY or not isinstance(direction, bool):
                raise ValueError(f"guardrails must map names (not {PRIMARY!r}) to higher_is_better (bool); "
                                 f"got {name!r}: {direction!r}")
        self.guardrails = guardrails
        if isinstance(effect_size, bool) or not isinstance(effect_size, (int, float)) or not (
                math.isfinite(effect_size) and effect_size > 0):
            raise ValueError(f"effect_size must be a positive number of standard deviations, got {effect_size!r}")
        self.effect_size = float(effect_size)
        if isinstance(min_samples, bool) or not isinstance(min_samples, (int, np.integer)) or min_samples < 2:
            raise ValueError(f"min_samples must be an int >= 2, got {min_samples!r}")
        self.min_samples = int(min_samples)
        if max_samples is not None and (isinstance(max_samples, bool) or not isinstance(max_samples, (int, np.integer))
                                        or max_samples < 2 * self.min_samples):
            raise ValueError(f"max_samples must be None or an int >= 2 * min_samples, got {max_samples!r}")
        self.max_samples = None if max_samples is None else int(max_samples)
        names = [PRIMARY, *guardrails]
        # Sufficient statistics per metric and arm: count, sum, sum of squares.
        self.sums_ = {name: {arm: [0, 0.0, 0.0] for arm in ARMS} for name in names}
        self.min_p_ = {name: 1.0 for name in names}
        self.looks_ = 0
        self.final_: Optional[dict] = None

    def update(self, arm: str, primary: Any, **guardrails: Any) -> None:
        """Add one batch of per-row outcomes served by ``arm`` (``"champion"`` or ``"challenger"``).

        Examples
        --------
        >>> test = ABTest(guardrails={"latency": False})
        >>> test.update("champion", [1, 0, 1], latency=[12.0, 15.0, 11.0])
        >>> test.sums_["latency"]["champion"][0]
        3
        """
        if arm not in ARMS:
            raise ValueError(f"arm must be one of {list(ARMS)}, got {arm!r}")
        if set(guardrails) != set(self.guardrails):
            raise ValueError(f"update needs exactly the guardrails {sorted(self.guardrails)}, got {sorted(guardrails)}")
        values = {PRIMARY: primary, **guardrails}
        arrays = {}
        for name, value in values.items():
            array = np.asarray(value, dtype=float).ravel()
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{name} outcomes must be finite numbers")
            arrays[name] = array
        sizes = {len(a) for a in arrays.values()}
        if len(sizes) != 1:
            raise ValueError(f"primary and guardrail outcomes must have one value per row; got lengths "
                             f"{ {k: len(a) for k, a in arrays.items()} }")
        for name, array in arrays.items():
            stats = self.sums_[name][arm]
            stats[0] += int(len(array))
            stats[1] += float(array.sum())
            stats[2] += float(np.square(array).sum())

    def _metric(self, name: str) -> dict:
        (n_a, s_a, q_a), (n_b, s_b, q_b) = (self.sums_[name][arm] for arm in ARMS)
        mean_a, mean_b = s_a / max(n_a, 1), s_b / max(n_b, 1)
        var_a = max(q_a - n_a * mean_a ** 2, 0.0) / max(n_a - 1, 1)
        var_b = max(q_b - n_b * mean_b ** 2, 0.0) / max(n_b - 1, 1)
        variance = var_a / max(n_a, 1) + var_b / max(n_b, 1)
        difference = mean_b - mean_a
        tau2 = mixture_variance(var_a, var_b, self.effect_size)
        alpha = self.alpha if name == PRIMARY else self.guardrail_alpha
        ready = min(n_a, n_b) >= self.min_samples and variance > 0
        if ready:
            self.min_p_[name] = min(self.min_p_[name], float(np.exp(-min(msprt_log_lr(difference, variance, tau2),
                                                                          700.0))))
            low, high = (float(v) for v in confidence_sequence(difference, variance, tau2, alpha))
        else:
            low, high = -math.inf, math.inf
        return {"champion_mean": mean_a, "challenger_mean": mean_b, "n_champion": n_a, "n_challenger": n_b,
                "difference": difference, "interval": [low, high], "p_always_valid": self.min_p_[name],
                "p_fixed_horizon": float(fixed_horizon_test(difference, variance)) if variance > 0 else None,
                "ready": ready}

    def look(self) -> ABResult:
        """Update the always-valid p-values with everything added so far and decide.

        Examples
        --------
        >>> ABTest().look().decision
        'continue'
        """
        if self.final_ is not None:
            return ABResult(**{**self.final_, "looks": self.looks_})
        self.looks_ += 1
        metrics = {name: self._metric(name) for name in self.sums_}
        decision, reason = "continue", "no difference shown yet"
        for name, better_high in self.guardrails.items():
            m = metrics[name]
            worse = m["difference"] < 0 if better_high else m["difference"] > 0
            if m["ready"] and worse and m["p_always_valid"] <= self.guardrail_alpha:
                decision = "guardrail"
                reason = (f"guardrail {name!r}: the challenger is worse ({m['challenger_mean']:.4g} vs "
                          f"{m['champion_mean']:.4g}, always-valid p = {m['p_always_valid']:.3g})")
                break
        primary = metrics[PRIMARY]
        if decision == "continue" and not primary["ready"]:
            reason = f"fewer than {self.min_samples} rows in an arm"
        elif decision == "continue" and primary["p_always_valid"] <= self.alpha:
            challenger_better = primary["difference"] > 0 if self.higher_is_better else primary["difference"] < 0
            decision = "challenger" if challenger_better else "champion"
            reason = (f"the {decision} is better ({primary['challenger_mean']:.4g} vs {primary['champion_mean']:.4g}, "
                      f"always-valid p = {primary['p_always_valid']:.3g})")
        elif decision == "continue" and self.max_samples is not None and (
                primary["n_champion"] + primary["n_challenger"] >= self.max_samples):
            decision, reason = "inconclusive", f"{self.max_samples} rows without a difference"
        result = ABResult(decision, decision != "continue", reason, self.looks_, metrics)
        if result.stopped:
            self.final_ = {k: v for k, v in result.to_dict().items() if k != "looks"}
        return result

    def to_dict(self) -> dict:
        """The settings and running state as JSON-ready data (see :meth:`from_dict`).

        Examples
        --------
        >>> ABTest.from_dict(ABTest(alpha=0.01).to_dict()).alpha
        0.01
        """
        return {"settings": {"higher_is_better": self.higher_is_better, "alpha": self.alpha,
                             "guardrails": dict(self.guardrails), "guardrail_alpha": self.guardrail_alpha,
                             "effect_size": self.effect_size, "min_samples": self.min_samples,
                             "max_samples": self.max_samples},
                "sums": self.sums_, "min_p": self.min_p_, "looks": self.looks_, "final": self.final_}

    @classmethod
    def from_dict(cls, data: dict) -> "ABTest":
        """Rebuild a test written by :meth:`to_dict`."""
        test = cls(**data["settings"])
        test.sums_ = {name: {arm: list(stats) for arm, stats in arms.items()} for name, arms in data["sums"].items()}
        test.min_p_ = dict(data["min_p"])
        test.looks_ = int(data["looks"])
        test.final_ = data.get("final")
        return test
