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
    "RefreshTrigger",
    "SlidingWindow",
    "AdaptiveWindow",
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
    labels_since_attempt: int


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


@dataclass
class RefreshTrigger:
    """Fire when at least ``every`` labels arrived since the last training attempt.

    The cheap periodic refresh between alarms: a fresh challenger is trained and must still
    pass the gate, so a refresh that does not pay is rejected and costs one fit. Unlike
    :class:`LabelCountTrigger` (labels since the champion was trained), it counts from the
    last attempt, so after a rejection the loop tries again once ``every`` more labels came.

    Examples
    --------
    >>> RefreshTrigger(every=500).every
    500
    """

    every: int = 500
    name: str = "refresh"

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, (int, np.integer)) or self.every < 1:
            raise ValueError(f"every must be a positive number of labels, got {self.every!r}")

    def __call__(self, status: _StatusLike) -> Optional[str]:
        if status.labels_since_attempt >= self.every:
            return f"{status.labels_since_attempt} new labels since the last training attempt (refresh every {self.every})"
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
class AdaptiveWindow:
    """Several candidate windows of the newest rows; the loop keeps the one that validates best.

    One window size cannot suit every stream: a stable concept wants many rows, a concept that
    moves wants few, and right after an abrupt change only the rows since the change are of
    the new concept. So the loop trains one challenger per candidate — the newest ``n`` rows
    for each ``n`` in ``sizes`` and, after the error-stream detector signalled a change, the
    rows since its estimated cut point (at least ``min_rows``) — and takes the one with the
    best score on the newest labels, which none of them trained on.

    Parameters
    ----------
    sizes : tuple of int
        Window lengths in rows (newest rows first).
    min_rows : int
        Fewest rows a candidate is trained on; the since-change window is widened to it.

    Examples
    --------
    >>> stamps = np.arange(10).astype("datetime64[s]")
    >>> [(name, rows.tolist()) for name, rows, _ in AdaptiveWindow(sizes=(3, 6), min_rows=2).candidates(stamps, 4)]
    [('since_change', [6, 7, 8, 9]), ('newest_3', [7, 8, 9]), ('newest_6', [4, 5, 6, 7, 8, 9])]
    """

    sizes: tuple = (500, 1500, 4000)
    min_rows: int = 200

    def __post_init__(self) -> None:
        sizes = tuple(self.sizes)
        if not sizes or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
            raise ValueError(f"sizes must be positive row counts, got {self.sizes!r}")
        self.sizes = tuple(sorted(int(n) for n in sizes))
        if isinstance(self.min_rows, bool) or not isinstance(self.min_rows, (int, np.integer)) or self.min_rows < 1:
            raise ValueError(f"min_rows must be a positive number of rows, got {self.min_rows!r}")

    def candidates(self, timestamps: np.ndarray, since_change: Optional[int] = None,
                   random_state: int = 0) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(name, row positions, weights)`` per candidate window, oldest row first.

        Windows that would hold the same rows as a smaller one are left out.
        """
        order = np.argsort(timestamps, kind="stable")
        n = len(order)
        lengths: list[tuple[str, int]] = []
        if since_change is not None:
            lengths.append(("since_change", min(n, max(int(since_change), self.min_rows))))
        for size in self.sizes:
            lengths.append((f"newest_{size}", min(n, size)))
        out, seen = [], set()
        for name, length in lengths:
            if length in seen or length < 1:
                continue
            seen.add(length)
            chosen = order[n - length:]
            out.append((name, chosen, np.ones(length)))
        return out

    def select(self, timestamps: np.ndarray, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The largest window (what a single-window caller gets)."""
        _, chosen, weights = self.candidates(timestamps)[-1]
        return chosen, weights


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
    cloned with scikit-learn and refitted, the weights routed to where it takes them (the
    final step of a ``Pipeline``).

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

        from ._fit import fit_with_weights

        # Weights go where the estimator takes them (a Pipeline's final step); a model that
        # takes none is fitted without them, with a warning naming it.
        return fit_with_weights(clone(champion), X, y, sample_weight)


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

        # The selection's weights (time decay, label confidence) weigh each row's leaf update.
        return refresh_leaves(champion, X, y, decay=self.decay, sample_weight=sample_weight)


# -------------------------------------------------------------------------------- policy
def _default_triggers() -> list:
    return [DetectorTrigger(), PerformanceTrigger(), DriftTrigger(), RefreshTrigger()]


@dataclass
class Policy:
    """What the loop does each step.

    The defaults are the loop that wins on drifting streams it was never tuned on
    (``benchmarks/loop.py``): try a fresh challenger every 500 labels and on every alarm,
    train candidates on several windows (and on the rows since a detected change), judge them
    on the newest labels none of them saw, and ship the winning recipe refitted on those labels
    too, so the promoted model is as fresh as the labels.

    Parameters
    ----------
    triggers : list of callables
        Each takes the current status and returns a reason string or None; any reason
        starts a training attempt.
    selection : AdaptiveWindow, SlidingWindow, Reservoir or TimeDecay
        Which labelled rows to train on, with weights. ``AdaptiveWindow`` offers several
        candidate windows; the others one.
    retrain : Refit, Incremental or RefreshLeaves
        How to produce the challenger.
    validation_rows : int or None
        The newest this many labelled rows are held out from training and judge the
        challengers against the champion. ``None``: hold out the newest
        ``validation_fraction`` of the selected window instead.
    validation_fraction : float
        Used when ``validation_rows`` is None.
    min_labels : int
        Fewest labelled rows needed before retraining is attempted.
    refit_with_holdout : bool
        After a challenger passed the gate, train its recipe (retrainer and window) again
        with the held-out rows included and promote that model: the gate judged the recipe on
        rows it had not seen, and the promoted model then also knows the newest labels.
        False promotes exactly the model the gate judged.
    gate : dict
        Keyword arguments for :func:`loopwise.loop.validate` (``min_gain``, ``alpha``,
        ``max_churn``, ``slices``, ``sensitive``, ``max_fairness_gap`` ...) over the loop's
        defaults.
    stale_alpha : float or None
        When the champion scores significantly below its own baseline on the held-out rows
        (one-sided test at this level), it is stale: a challenger then needs only to score
        better on those rows, not significantly better (unless ``gate`` sets
        ``require_significance`` itself). Under continuous drift this keeps the champion
        fresh; on a stable stream a champion is rarely stale, so it keeps the benefit of the
        doubt. Off (None) by default: on the streams the defaults were tuned on it promoted
        more often without a better mean score.
    shadow : bool
        Run a passing challenger in shadow mode first and promote it only after it passes the
        gate again on labels that arrive while it shadows.
    alert_drift_p : float
        ``check()`` raises the ``prediction_drift`` alert when the KS test of the champion's
        scores (reference vs current rows) gives a p-value below this (0 turns it off).
    alert_drop : float
        ``check()`` raises the ``performance_drop`` alert when the champion's labelled metric
        is worse than its baseline by more than this (in the metric's better direction). An
        alert only reports (``inf`` turns it off); retraining is the triggers' decision
        (:class:`PerformanceTrigger`).

    Examples
    --------
    >>> policy = Policy(triggers=[LabelCountTrigger(n=500)], selection=SlidingWindow(2000))
    >>> policy.validation_rows
    500
    """

    triggers: Sequence[Callable[[Any], Optional[str]]] = field(default_factory=_default_triggers)
    selection: Any = field(default_factory=AdaptiveWindow)
    retrain: Any = field(default_factory=Refit)
    validation_rows: Optional[int] = 500
    validation_fraction: float = 0.25
    min_labels: int = 200
    refit_with_holdout: bool = True
    gate: dict = field(default_factory=dict)
    stale_alpha: Optional[float] = None
    shadow: bool = False
    alert_drift_p: float = 0.01
    alert_drop: float = 0.02

    def __post_init__(self) -> None:
        for name, low, high in (("alert_drift_p", 0.0, 1.0), ("alert_drop", 0.0, float("inf"))):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not low <= float(value) <= high:
                raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
        if self.validation_rows is not None and (
            isinstance(self.validation_rows, bool) or not isinstance(self.validation_rows, (int, np.integer))
            or self.validation_rows < 1
        ):
            raise ValueError(f"validation_rows must be a positive number of rows or None, got {self.validation_rows!r}")
        if not 0.0 < float(self.validation_fraction) < 1.0:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        if isinstance(self.min_labels, bool) or not isinstance(self.min_labels, (int, np.integer)) or self.min_labels < 1:
            raise ValueError(f"min_labels must be a positive number of rows, got {self.min_labels!r}")
        if self.stale_alpha is not None and not 0.0 < float(self.stale_alpha) < 1.0:
            raise ValueError(f"stale_alpha must be in (0, 1) or None, got {self.stale_alpha}")
        if not isinstance(self.gate, dict):
            raise TypeError(f"gate must be a dict of validate() options, got {type(self.gate).__name__}")

    def reasons(self, status: Any) -> list[str]:
        """Reasons to retrain now (empty when no trigger fires)."""
        found = []
        for trigger in self.triggers:
            reason = trigger(status)
            if reason:
                found.append(reason)
        return found

    def windows(self, timestamps: np.ndarray, since_change: Optional[int], random_state: int = 0
                ) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """Candidate training windows ``(name, positions, weights)`` from the selection.

        Examples
        --------
        >>> stamps = np.arange(5).astype("datetime64[s]")
        >>> [name for name, _, _ in Policy(selection=SlidingWindow(3)).windows(stamps, None)]
        ['sliding_window']
        """
        if callable(getattr(self.selection, "candidates", None)):
            return list(self.selection.candidates(timestamps, since_change, random_state))
        chosen, weights = self.selection.select(timestamps, random_state)
        name = "".join("_" + c.lower() if c.isupper() else c for c in type(self.selection).__name__).lstrip("_")
        return [(name, np.asarray(chosen), np.asarray(weights, dtype=np.float64))]
