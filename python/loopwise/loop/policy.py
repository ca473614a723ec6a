"""Retraining policy: when to retrain (triggers), on what (data selection, time split) and
how (refit, incremental update with a proximal pull, leaf refresh).

Every piece is a small object with one method, so a policy reads like a sentence and a user
can swap any part for their own callable.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "Policy",
    "DriftTrigger",
    "PerformanceTrigger",
    "ScheduleTrigger",
    "LabelCountTrigger",
    "DetectorTrigger",
    "SlidingWindow",
    "Reservoir",
    "TimeDecay",
    "Refit",
    "Incremental",
    "RefreshLeaves",
    "time_split",
]


class _StatusLike(Protocol):
    drift_share: Optional[float]
    dataset_drift: bool
    metric: Optional[float]
    baseline_metric: Optional[float]
    higher_is_better: bool
    new_labels: int
    since_training: Optional[pd.Timedelta]
    detector_alarm: bool


# ----------------------------------------------------------------------------- triggers
@dataclass
class DriftTrigger:
    """Fire when the inputs drifted: the dataset verdict, or a share of drifted columns.

    Examples
    --------
    >>> DriftTrigger(min_share=0.3).name
    'drift'
    """

    min_share: float = 0.5
    name: str = "drift"

    def __call__(self, status: _StatusLike) -> Optional[str]:
        share = status.drift_share
        if status.dataset_drift or (share is not None and share >= self.min_share):
            return f"input drift: {0.0 if share is None else share:.0%} of columns drifted (threshold {self.min_share:.0%})"
        return None


@dataclass
class PerformanceTrigger:
    """Fire when labelled performance fell more than ``max_drop`` below the champion's baseline.

    Examples
    --------
    >>> PerformanceTrigger(max_drop=0.02).max_drop
    0.02
    """

    max_drop: float = 0.05
    name: str = "performance"

    def __call__(self, status: _StatusLike) -> Optional[str]:
        if status.metric is None or status.baseline_metric is None:
            return None
        drop = status.baseline_metric - status.metric
        if not status.higher_is_better:
            drop = -drop
        if drop > self.max_drop:
            return f"performance dropped by {drop:.4f} vs the champion's baseline {status.baseline_metric:.4f} (allowed {self.max_drop})"
        return None


@dataclass
class ScheduleTrigger:
    """Fire when the champion is older than ``every`` (a pandas offset such as "7D").

    Examples
    --------
    >>> ScheduleTrigger(every="1D").every
    '1D'
    """

    every: str = "7D"
    name: str = "schedule"

    def __call__(self, status: _StatusLike) -> Optional[str]:
        if status.since_training is not None and status.since_training >= pd.Timedelta(self.every):
            return f"scheduled: last training {status.since_training} ago (every {self.every})"
        return None


@dataclass
class LabelCountTrigger:
    """Fire when at least ``n`` new labels arrived since the last training.

    Examples
    --------
    >>> LabelCountTrigger(n=500).n
    500
    """

    n: int = 1000
    name: str = "new_labels"

    def __call__(self, status: _StatusLike) -> Optional[str]:
        if status.new_labels >= self.n:
            return f"{status.new_labels} new labels since the last training (threshold {self.n})"
        return None


@dataclass
class DetectorTrigger:
    """Fire when the streaming detector over the error stream signalled a change.

    Examples
    --------
    >>> DetectorTrigger().name
    'error_detector'
    """

    name: str = "error_detector"

    def __call__(self, status: _StatusLike) -> Optional[str]:
        if status.detector_alarm:
            return "the streaming detector over the prediction-error stream signalled a change"
        return None


# ------------------------------------------------------------------------ data selection
@dataclass
class SlidingWindow:
    """Train on the most recent ``n_rows`` labelled rows (optionally within ``duration``).

    Examples
    --------
    >>> SlidingWindow(n_rows=3).select(np.arange(10).astype("datetime64[s]"))[0].tolist()
    [7, 8, 9]
    """

    n_rows: int = 5000
    duration: Optional[str] = None

    def select(self, timestamps: np.ndarray, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(timestamps, kind="stable")
        chosen = order[-self.n_rows :]
        if self.duration is not None and len(chosen):
            newest = pd.Timestamp(timestamps[chosen[-1]])
            keep = pd.to_datetime(timestamps[chosen]) >= newest - pd.Timedelta(self.duration)
            chosen = chosen[np.asarray(keep)]
        return chosen, np.ones(len(chosen))


@dataclass
class Reservoir:
    """A uniform sample of ``n_rows`` over all labelled history (keeps old concepts alive).

    Examples
    --------
    >>> len(Reservoir(n_rows=4).select(np.arange(10).astype("datetime64[s]"))[0])
    4
    """

    n_rows: int = 5000

    def select(self, timestamps: np.ndarray, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
        n = len(timestamps)
        if n <= self.n_rows:
            chosen = np.arange(n)
        else:
            chosen = np.random.default_rng(random_state).choice(n, size=self.n_rows, replace=False)
        chosen = chosen[np.argsort(timestamps[chosen], kind="stable")]
        return chosen, np.ones(len(chosen))


@dataclass
class TimeDecay:
    """All labelled rows (up to ``max_rows`` newest), weighted 0.5 ** (age / half_life).

    Examples
    --------
    >>> _, w = TimeDecay(half_life="1s").select(np.arange(3).astype("datetime64[s]"))
    >>> w.tolist()
    [0.25, 0.5, 1.0]
    """

    half_life: str = "7D"
    max_rows: int = 50_000

    def select(self, timestamps: np.ndarray, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(timestamps, kind="stable")[-self.max_rows :]
        times = pd.to_datetime(timestamps[order])
        age = (times.max() - times) / pd.Timedelta(self.half_life)
        return order, np.power(0.5, np.asarray(age, dtype=np.float64))


def time_split(timestamps: np.ndarray, validation_fraction: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Split row positions by time: the oldest rows train, the newest validate.

    A random split would leak the future into training on temporal data, which makes a
    challenger look better than it will be.

    Examples
    --------
    >>> train, valid = time_split(np.array([3, 1, 2, 0]).astype("datetime64[s]"), 0.5)
    >>> train.tolist(), valid.tolist()
    ([3, 1], [2, 0])
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    order = np.argsort(np.asarray(timestamps), kind="stable")
    n_valid = max(1, int(round(len(order) * validation_fraction)))
    return order[:-n_valid], order[-n_valid:]


# ---------------------------------------------------------------------------- retrainers
@dataclass
class Refit:
    """Train a new model from scratch on the selected window.

    ``train_fn(X, y, sample_weight)`` returns a fitted model; by default the champion is
    cloned with scikit-learn and refitted.

    Examples
    --------
    >>> Refit().name
    'refit'
    """

    train_fn: Optional[Callable[..., Any]] = None
    name: str = "refit"

    def __call__(self, champion: Any, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray) -> Any:
        if self.train_fn is not None:
            return self.train_fn(X, y, sample_weight)
        from sklearn.base import clone

        model = clone(champion)
        try:
            return model.fit(X, y, sample_weight=sample_weight)
        except TypeError:  # estimators without sample_weight support
            return model.fit(X, y)


@dataclass
class Incremental:
    """Continue training a copy of the champion on the new rows (``partial_fit``).

    For loopwise learners, ``prox`` pulls the weights toward the champion's, which bounds the
    churn between the two models.

    Examples
    --------
    >>> Incremental(prox=0.1).name
    'incremental'
    """

    prox: float = 0.0
    epochs: int = 1
    name: str = "incremental"

    def __call__(self, champion: Any, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray) -> Any:
        if not hasattr(champion, "partial_fit"):
            raise TypeError(f"{type(champion).__name__} has no partial_fit; use Refit or RefreshLeaves")
        model = copy.deepcopy(champion)
        if self.prox > 0 and hasattr(model, "set_params") and "prox" in model.get_params():
            model.set_params(prox=self.prox, anchor=champion)
        for _ in range(self.epochs):
            try:
                model.partial_fit(X, y, sample_weight=sample_weight)
            except TypeError:
                model.partial_fit(X, y)
        return model


@dataclass
class RefreshLeaves:
    """Keep a tree ensemble's structure and re-estimate its leaf values on new labels.

    Examples
    --------
    >>> RefreshLeaves(decay=0.5).decay
    0.5
    """

    decay: float = 0.9
    name: str = "refresh_leaves"

    def __call__(self, champion: Any, X: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray) -> Any:
        from ..online import refresh_leaves

        return refresh_leaves(champion, X, y, decay=self.decay)


# -------------------------------------------------------------------------------- policy
def _default_triggers() -> list:
    return [DriftTrigger(), PerformanceTrigger(), DetectorTrigger()]


@dataclass
class Policy:
    """What the loop does each step.

    Parameters
    ----------
    triggers : list of callables
        Each takes the current status and returns a reason string or None; any reason
        starts a retraining.
    selection : SlidingWindow, Reservoir or TimeDecay
        Which labelled rows to train on, with weights.
    retrain : Refit, Incremental or RefreshLeaves
        How to produce the challenger.
    validation_fraction : float
        Newest share of the selected rows held out for the champion/challenger gate.
    min_labels : int
        Fewest labelled rows needed before retraining is attempted.
    gate : dict
        Keyword arguments for :func:`loopwise.loop.validate` (``min_gain``, ``alpha``,
        ``max_churn``, ``slices``, ``sensitive``, ``max_fairness_gap`` ...).
    shadow : bool
        Run a passing challenger in shadow mode first and promote it only after it passes the
        gate again on labels that arrive while it shadows.

    Examples
    --------
    >>> policy = Policy(triggers=[LabelCountTrigger(n=500)], selection=SlidingWindow(2000))
    >>> policy.validation_fraction
    0.25
    """

    triggers: Sequence[Callable[[Any], Optional[str]]] = field(default_factory=_default_triggers)
    selection: Any = field(default_factory=SlidingWindow)
    retrain: Any = field(default_factory=Refit)
    validation_fraction: float = 0.25
    min_labels: int = 200
    gate: dict = field(default_factory=dict)
    shadow: bool = False

    def reasons(self, status: Any) -> list[str]:
        """Reasons to retrain now (empty when no trigger fires)."""
        found = []
        for trigger in self.triggers:
            reason = trigger(status)
            if reason:
                found.append(reason)
        return found
