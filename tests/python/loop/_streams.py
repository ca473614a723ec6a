"""Drifting streams of several kinds and a driver that runs a FeedbackLoop over one.

Protocol (the one issue 11 measures with): the model is fitted on the first ``n_train``
rows; rows are served in batches; the labels of a batch arrive one batch late (after the
next batch was served), then ``step()`` runs. "Never retrained" is the initial model on the
same rows. Every stream is seeded, nothing is downloaded.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd

from loopwise.loop.feedback_loop import FeedbackLoop


# --------------------------------------------------------------------------- streams
@dataclass
class Stream:
    X: Any  # DataFrame or ndarray
    y: np.ndarray  # labels as served to the loop (may be noisy)
    y_true: np.ndarray  # the concept's labels (for scoring)
    concept: np.ndarray  # concept id per row (for the per-concept ceiling)
    name: str = ""


def _river(dataset: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    rows = list(itertools.islice(dataset, n))
    keys = list(rows[0][0])
    X = np.array([[x[k] for k in keys] for x, _ in rows], dtype=np.float64)
    y = np.array([int(label) for _, label in rows])
    return X, y


def sea(n_per_concept: int = 3000, variants: tuple = (0, 2, 1, 3), noise: float = 0.1, seed: int = 0) -> Stream:
    """river SEA with abrupt concept switches (threshold on x0 + x1 changes)."""
    from river.datasets import synth

    parts = [_river(synth.SEA(variant=v, noise=noise, seed=seed + i), n_per_concept) for i, v in enumerate(variants)]
    X = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    # noise flips served labels; the concept's label is the noiseless rule x0 + x1 > threshold
    thresholds = np.repeat([synth.SEA(variant=v)._threshold for v in variants], n_per_concept)
    y_true = (X[:, 0] + X[:, 1] > thresholds).astype(int)
    concept = np.repeat(np.arange(len(variants)), n_per_concept)
    return Stream(X, y, y_true, concept, "sea")


def hyperplane(n: int = 10_000, seed: int = 0) -> Stream:
    """river rotating Hyperplane: a gradual, continual change of the boundary."""
    from river.datasets import synth

    X, y = _river(synth.Hyperplane(seed=seed, n_features=10, n_drift_features=5, mag_change=0.5,
                                   noise_percentage=0.05, sigma=0.1), n)
    # the concept moves continually: for the ceiling, a fresh model per 2000 rows (fitted on
    # the first 1000 of them, judged on the next 1000)
    return Stream(X, y, y, np.arange(n) // 2000, "hyperplane")


def stagger(n_per_concept: int = 3000, functions: tuple = (0, 1, 0), seed: int = 0) -> Stream:
    """river STAGGER, recurring concepts A-B-A, one-hot features as a user would encode them."""
    from river.datasets import synth

    parts = [list(itertools.islice(synth.STAGGER(classification_function=f, seed=seed + i, balance_classes=False),
                                   n_per_concept)) for i, f in enumerate(functions)]
    rows = [r for part in parts for r in part]
    frame = pd.DataFrame([x for x, _ in rows])
    X = pd.get_dummies(frame.astype(str), dtype=float).to_numpy()
    y = np.array([int(label) for _, label in rows])
    return Stream(X, y, y, np.repeat(np.arange(len(functions)), n_per_concept), "stagger")


def prior_shift(n: int = 10_000, change: int = 5000, seed: int = 0) -> Stream:
    """Class-conditional inputs fixed, the share of positives falls from 50% to 10%."""
    rng = np.random.default_rng(seed)
    prior = np.where(np.arange(n) < change, 0.5, 0.1)
    y = (rng.random(n) < prior).astype(int)
    X = rng.normal(size=(n, 4)) + np.outer(y, [0.8, 0.6, 0.0, 0.0])
    return Stream(X, y, y, (np.arange(n) >= change).astype(int), "prior_shift")


def moving_concept(n: int = 10_000, change: int = 5000, seed: int = 0) -> Stream:
    """The label depends on x0, x1 before the change and on x5, x6 after it."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    before = X[:, 0] + X[:, 1]
    after = X[:, 5] - X[:, 6]
    score = np.where(np.arange(n) < change, before, after) + rng.normal(scale=0.3, size=n)
    y = (score > 0).astype(int)
    return Stream(X, y, y, (np.arange(n) >= change).astype(int), "moving_concept")


def covariate_shift(dataset: str = "breast_cancer", n: int = 10_000, change: int = 5000, seed: int = 0) -> Stream:
    """Rows of a bundled sklearn data set resampled so that p(x) changes and p(y|x) does not.

    Before the change rows are drawn favouring one end of the first principal component,
    after it the other end (each drawn row keeps its own true label; a small jitter makes
    rows distinct). For digits the task is "digit >= 5".
    """
    from sklearn import datasets
    from sklearn.decomposition import PCA

    data = datasets.load_breast_cancer() if dataset == "breast_cancer" else datasets.load_digits()
    X0, y0 = data.data.astype(np.float64), data.target
    if dataset != "breast_cancer":
        y0 = (y0 >= 5).astype(int)
    rng = np.random.default_rng(seed)
    scaled = (X0 - X0.mean(axis=0)) / (X0.std(axis=0) + 1e-12)
    pc = PCA(n_components=1, random_state=0).fit_transform(scaled)[:, 0]
    rank = (np.argsort(np.argsort(pc)) + 0.5) / len(pc)
    first = np.exp(-4.0 * rank)
    second = np.exp(-4.0 * (1.0 - rank))
    picks = np.concatenate([rng.choice(len(pc), change, p=first / first.sum()),
                            rng.choice(len(pc), n - change, p=second / second.sum())])
    # rows as z-scores of the data set's columns (a fixed rescaling, so LogisticRegression
    # converges quickly; it does not change the shift), with a little jitter
    X = scaled[picks] + rng.normal(scale=0.01, size=(n, X0.shape[1]))
    y = y0[picks]
    return Stream(X, y, y, (np.arange(n) >= change).astype(int), f"covariate_{dataset}")


def noisy_burst(n: int = 10_000, burst: tuple = (4000, 5500), flip: float = 0.35, seed: int = 0) -> Stream:
    """One unchanged concept; the labels served during a burst are flipped with probability ``flip``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y_true = (X[:, 0] + 0.8 * X[:, 1] - 0.5 * X[:, 2] + rng.normal(scale=0.4, size=n) > 0).astype(int)
    y = y_true.copy()
    inside = (np.arange(n) >= burst[0]) & (np.arange(n) < burst[1]) & (rng.random(n) < flip)
    y[inside] = 1 - y[inside]
    return Stream(X, y, y_true, np.zeros(n, dtype=int), "noisy_burst")


def realistic_drift(n: int = 6000, change: int = 3000, seed: int = 0) -> Stream:
    """The shared realistic frame (string/category/bool/datetime/NaN/int/float) with its label
    rule inverted at ``change`` (an abrupt concept change)."""
    from realistic_frame import make_frame

    X, y = make_frame(n, seed)
    y = np.where(np.arange(n) < change, y, 1 - y)
    return Stream(X, y, y, (np.arange(n) >= change).astype(int), "realistic")


# --------------------------------------------------------------------------- driver
def rows(X: Any, start: int, stop: int) -> Any:
    return X.iloc[start:stop] if isinstance(X, pd.DataFrame) else X[start:stop]


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.asarray(predictions).astype(str) == np.asarray(labels).astype(str)))


@dataclass
class Run:
    served: np.ndarray  # the loop's predictions for rows n_train:
    never: np.ndarray  # the initial model's predictions for the same rows
    promotions: list = field(default_factory=list)  # dicts: at (first row served), old, new, delta
    results: list = field(default_factory=list)
    n_train: int = 0


def run_loop(path: Any, model: Any, stream: Stream, *, n_train: int = 2000, batch: int = 500,
             policy: Any = None, trusted: bool = False, horizon: int = 2000,
             score: Callable[[np.ndarray, np.ndarray], float] = accuracy, after: Optional[Callable] = None,
             fit: bool = True) -> Run:
    """Run the loop over ``stream``; judge every promotion on the next ``horizon`` rows.

    ``score`` is higher-is-better. ``after(loop, start)`` is called after every step.
    """
    X, y, n = stream.X, stream.y, len(stream.y)
    X_train, y_train = rows(X, 0, n_train), y[:n_train]
    if fit:
        model.fit(X_train, y_train)
    never = np.asarray(model.predict(rows(X, n_train, n)))
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="s")
    loop = FeedbackLoop(path, model=model, reference=X_train, reference_labels=y_train, policy=policy,
                        trusted=trusted)
    served, promotions, results = [], [], []
    previous = None
    try:
        for start in range(n_train, n, batch):
            stop = min(n, start + batch)
            ids = [f"r{i:07d}" for i in range(start, stop)]
            served.append(np.asarray(loop.predict(rows(X, start, stop), ids=ids, timestamp=stamps[start:stop])))
            if previous is not None:
                p_start, p_stop, p_ids = previous
                loop.feedback(p_ids, y[p_start:p_stop], timestamp=stamps[stop - 1])
                old = loop.champion_version
                result = loop.step()
                results.append(result)
                if result.get("action") == "promoted":
                    new = loop.champion_version
                    X_next, y_next = rows(X, stop, stop + horizon), stream.y_true[stop:stop + horizon]
                    delta = None
                    if len(y_next):
                        delta = score(np.asarray(loop.model(new).predict(X_next)), y_next) - \
                            score(np.asarray(loop.model(old).predict(X_next)), y_next)
                    promotions.append({"at": stop, "old": old, "new": new, "delta": delta, "n_next": len(y_next),
                                       "reasons": result.get("reasons")})
                if after is not None:
                    after(loop, stop)
            previous = (start, stop, ids)
    finally:
        loop.close()
    return Run(np.concatenate(served), never, promotions, results, n_train)


def ceiling(model_factory: Callable[[], Any], stream: Stream, n_fit: int = 1000) -> np.ndarray:
    """Predictions of a model refitted on each concept's first ``n_fit`` rows (the per-concept
    ceiling of issue 11), for every row after each concept's fit rows; -1 where not defined."""
    out = np.full(len(stream.y), None, dtype=object)
    for concept in np.unique(stream.concept):
        where = np.flatnonzero(stream.concept == concept)
        if len(where) <= n_fit:
            continue
        fit_rows, eval_rows = where[:n_fit], where[n_fit:]
        model = model_factory().fit(rows(stream.X, fit_rows[0], fit_rows[-1] + 1), stream.y_true[fit_rows])
        out[eval_rows] = model.predict(rows(stream.X, eval_rows[0], eval_rows[-1] + 1))
    return out
