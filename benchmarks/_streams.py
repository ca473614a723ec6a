"""Seeded drifting streams for the feedback-loop benchmark, and the tuned/untuned split.

Every stream knows, for each row, which concept produced it, and can draw fresh rows of any
concept (``Stream.fresh``), so the per-concept ceiling can be computed: the accuracy (or RMSE) that
the same model type reaches on the stream's rows of a concept when it is trained on 5,000 fresh
rows of that concept.

The split lives here and only here: ``TUNED`` are the streams the loop's defaults may be tuned
on; every other stream is ``UNTUNED`` and is what counts.

    >>> from _streams import tuned_streams, untuned_streams, get_stream
    >>> s = get_stream("sea", n_rows=6000)
    >>> s.X.shape, s.task, sorted(set(s.concept))
    ((6000, 3), 'classification', [0, 1, 2, 3])

Categorical-ish river features (STAGGER, Agrawal, LED, Mixed) are kept numeric exactly as river
gives them (integer codes, 0/1 flags): no one-hot encoding, the same matrix for every system.

Continuous drift (Hyperplane, RandomRBFDrift) has no discrete concepts: there a "concept" is a
2,000-row segment and its fresh rows are drawn from a frozen copy of the generator taken at the
segment's middle, so the ceiling is an approximation. For abrupt/gradual switches between river
generators the switching rule is ConceptDriftStream's (the new concept is drawn with probability
1 / (1 + exp(-4 (t - position) / width))), re-implemented so the concept of each row is known.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import pandas as pd

WARMUP = 2000
BATCH = 500
FRESH_ROWS = 5000
SEGMENT = 2000  # concept length of continuously drifting streams

# The split, in one place. Names are the keys of STREAMS below.
TUNED = ("lw-abrupt", "lw-gradual", "lw-recurring", "agrawal", "stagger")

Fresh = Callable[[int, int, int], "tuple[pd.DataFrame, np.ndarray]"]


@dataclass
class Stream:
    """One benchmark stream: data in serving order, true concept per row, fresh-row sampler."""

    name: str
    X: pd.DataFrame
    y: np.ndarray
    concept: np.ndarray
    task: str  # "classification" or "regression"
    fresh: Fresh = field(repr=False)
    description: str = ""
    timestamp: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.timestamp is None:
            self.timestamp = pd.date_range("2026-01-01", periods=len(self.y), freq="1min").to_numpy()

    @property
    def group(self) -> str:
        return "tuned" if self.name in TUNED else "untuned"

    @property
    def n(self) -> int:
        return len(self.y)

    def ceiling(self, model_factory: Callable[[], object], warmup: int = WARMUP, n_fresh: int = FRESH_ROWS,
                seed: int = 10_000) -> float:
        """Score on the served rows (after ``warmup``) of per-concept models trained on fresh rows.

        Accuracy for classification, RMSE for regression; averaged over rows (so a concept
        counts by how many rows it serves).
        """
        served = np.arange(warmup, self.n)
        concepts = self.concept[served]
        predictions = np.empty(len(served), dtype=object if self.task == "classification" else float)
        for c in np.unique(concepts):
            Xf, yf = self.fresh(int(c), n_fresh, seed + int(c))
            model = model_factory()
            model.fit(Xf, yf)
            rows = served[concepts == c]
            predictions[concepts == c] = list(np.asarray(model.predict(self.X.iloc[rows])))
        truth = self.y[served]
        if self.task == "classification":
            return float(np.mean(predictions.astype(truth.dtype) == truth))
        return float(np.sqrt(np.mean((predictions.astype(float) - truth) ** 2)))


# ------------------------------------------------------------------ helpers
def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows)
    frame.columns = [c if isinstance(c, str) else f"x{c}" for c in frame.columns]
    return frame.astype(np.float64)


def _labels(values: list, task: str) -> np.ndarray:
    if task == "regression":
        return np.asarray(values, dtype=np.float64)
    return np.asarray([int(v) for v in values], dtype=np.int64)


def _switching_concepts(n: int, segments: list[int], positions: list[int], width: int, seed: int) -> np.ndarray:
    """Concept id per row: ``segments[i]`` between switches, ConceptDriftStream's sigmoid around each."""
    rng = np.random.default_rng(seed)
    rows = np.arange(n)
    index = np.searchsorted(positions, rows, side="right")
    if width > 1:
        u = rng.random(n)
        for i, p in enumerate(positions):
            near = np.abs(rows - p) < 4 * width
            share_new = 1.0 / (1.0 + np.exp(-4.0 * (rows[near] - p) / width))
            index[near] = np.where(u[near] < share_new, i + 1, i)
    return np.asarray(segments)[index]


def _from_generators(make: Callable[[int, int], object], concept: np.ndarray, seed: int, task: str
                     ) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw each row from its concept's own seeded river generator."""
    iters = {c: iter(make(int(c), seed + 101 * int(c))) for c in np.unique(concept)}
    xs, ys = [], []
    for c in concept:
        x, y = next(iters[c])
        xs.append(x)
        ys.append(y)
    return _frame(xs), _labels(ys, task)


def _river_stream(name: str, make: Callable[[int, int], object], n: int, segments: list[int], width: int,
                  seed: int, description: str, task: str = "classification") -> Stream:
    positions = [round(n * (i + 1) / len(segments)) for i in range(len(segments) - 1)]
    # The first switch comes after the warm-up even on short streams.
    positions = [max(p, WARMUP + BATCH) for p in positions]
    concept = _switching_concepts(n, segments, positions, width, seed)
    X, y = _from_generators(make, concept, seed, task)

    def fresh(c: int, rows: int, fresh_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
        # The concept's own generator (same seed: some generators draw the concept from it),
        # continued past every row the stream could have taken from it.
        del fresh_seed
        data = list(itertools.islice(iter(make(c, seed + 101 * c)), n, n + rows))
        return _frame([d[0] for d in data]), _labels([d[1] for d in data], task)

    return Stream(name, X, y, concept, task, fresh, description)


# ------------------------------------------------------------------ river streams
def _sea(n: int, seed: int) -> Stream:
    from river.datasets import synth

    return _river_stream("sea", lambda c, s: synth.SEA(variant=c, noise=0.1, seed=s), n, [0, 1, 2, 3], 1, seed,
                         "river SEA, variants 0->1->2->3 (3 abrupt changes), 10% noise")


# Agrawal's attributes range over 1 .. 1e6; divided by their documented maxima (a fixed unit
# change, not a learned scaling) so that LogisticRegression converges in reasonable time.
_AGRAWAL_UNITS = {"salary": 150_000, "commission": 75_000, "age": 80, "elevel": 4, "car": 20, "zipcode": 8,
                  "hvalue": 1_350_000, "hyears": 30, "loan": 500_000}


def _agrawal_gen(function: int, seed: int):
    from river.datasets import synth

    for x, y in synth.Agrawal(classification_function=function, seed=seed):
        yield {k: v / _AGRAWAL_UNITS[k] for k, v in x.items()}, y


def _agrawal(n: int, seed: int) -> Stream:
    functions = [0, 2, 5, 8]
    return _river_stream("agrawal", lambda c, s: _agrawal_gen(functions[c], s), n, [0, 1, 2, 3], 1, seed,
                         "river Agrawal (attributes in units of their maxima), functions 0->2->5->8 (abrupt)")


def _stagger(n: int, seed: int) -> Stream:
    from river.datasets import synth

    return _river_stream("stagger", lambda c, s: synth.STAGGER(classification_function=c, seed=s), n, [0, 1, 2], 1,
                         seed, "river STAGGER, functions 0->1->2 (abrupt)")


def _led(n: int, seed: int) -> Stream:
    from river.datasets import synth

    # Each concept permutes 7 of the 24 inputs differently (a different LEDDrift seed).
    return _river_stream(
        "led", lambda c, s: synth.LEDDrift(seed=s, noise_percentage=0.1, irrelevant_features=True, n_drift_features=7),
        n, [0, 1, 2], 1, seed, "river LEDDrift, 10 classes, 7 swapped digits per concept (abrupt), 10% noise")


def _mixed(n: int, seed: int) -> Stream:
    from river.datasets import synth

    return _river_stream("mixed", lambda c, s: synth.Mixed(classification_function=c, seed=s), n, [0, 1, 0, 1], 1,
                         seed, "river Mixed, functions 0->1->0->1 (abrupt, recurring)")


def _sine(n: int, seed: int) -> Stream:
    from river.datasets import synth

    return _river_stream("sine", lambda c, s: synth.Sine(classification_function=c, seed=s, has_noise=True), n,
                         [0, 2, 1, 3], 1, seed, "river Sine with noise features, functions 0->2->1->3 (abrupt)")


def _cds(kind: str, width: int) -> Callable[[int, int], Stream]:
    def build(n: int, seed: int) -> Stream:
        from river.datasets import synth

        # Three fixed hyperplanes (one Hyperplane seed each, no rotation): a concept a linear
        # model can learn, so the switches themselves are what costs accuracy.
        return _river_stream(f"cds-{kind}", lambda c, s: synth.Hyperplane(seed=s, n_features=10, mag_change=0.0,
                                                                           noise_percentage=0.05),
                             n, [0, 1, 2], width, seed,
                             f"ConceptDriftStream rule, 3 fixed river Hyperplanes (own seeds), width {width} ({kind})")

    return build


def _hyperplane(n: int, seed: int) -> Stream:
    from river.datasets import synth

    gen = synth.Hyperplane(seed=seed, n_features=10, n_drift_features=5, mag_change=0.001, noise_percentage=0.05,
                           sigma=0.1)
    xs, ys, snaps = [], [], {}
    for i, (x, y) in enumerate(itertools.islice(iter(gen), n)):
        if i % SEGMENT == SEGMENT // 2 or (i == n - 1 and i // SEGMENT not in snaps):
            snaps[i // SEGMENT] = list(gen._weights)
        xs.append(x)
        ys.append(y)
    concept = np.arange(n) // SEGMENT

    def fresh(c: int, rows: int, fresh_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
        w = np.asarray(snaps[c])
        rng = np.random.default_rng(fresh_seed)
        X = rng.random((rows, len(w)))
        y = (X @ w >= 0.5 * w.sum()).astype(np.int64)
        flip = 0.01 + rng.random(rows) <= 0.05  # river's noise rule
        y[flip] = 1 - y[flip]
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(len(w))]), y

    return Stream("hyperplane", _frame(xs), _labels(ys, "classification"), concept, "classification", fresh,
                  "river Hyperplane, 5 of 10 weights rotating (mag_change 0.001), 5% noise; concept = 2,000-row segment")


def _rbf(n: int, seed: int) -> Stream:
    from river.datasets import synth

    gen = synth.RandomRBFDrift(seed_model=seed, seed_sample=seed + 1, n_classes=2, n_features=10, n_centroids=50,
                               change_speed=0.001, n_drift_centroids=50)
    xs, ys, snaps = [], [], {}
    for i, (x, y) in enumerate(itertools.islice(iter(gen), n)):
        if i % SEGMENT == SEGMENT // 2 or (i == n - 1 and i // SEGMENT not in snaps):
            snaps[i // SEGMENT] = copy.deepcopy(gen)
        xs.append(x)
        ys.append(y)
    concept = np.arange(n) // SEGMENT

    def fresh(c: int, rows: int, fresh_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
        frozen, rng = snaps[c], random.Random(fresh_seed)
        data = [frozen._generate_sample(rng) for _ in range(rows)]
        return _frame([d[0] for d in data]), _labels([d[1] for d in data], "classification")

    return Stream("rbf", _frame(xs), _labels(ys, "classification"), concept, "classification", fresh,
                  "river RandomRBFDrift, 50 moving centroids (speed 0.001); concept = 2,000-row segment")


def _friedman(n: int, seed: int) -> Stream:
    from river.datasets import synth

    p1, p2 = max(WARMUP + BATCH, n // 3), max(WARMUP + 2 * BATCH, 2 * n // 3)
    gen = synth.FriedmanDrift(drift_type="gra", position=(p1, p2), seed=seed)
    data = list(itertools.islice(iter(gen), n))
    rows = np.arange(n)
    concept = ((rows >= p1) & (rows < p2)).astype(np.int64)

    def fresh(c: int, count: int, fresh_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
        far = 10 ** 9
        position = (1, far) if c == 1 else (far, far + 1)
        more = list(itertools.islice(iter(synth.FriedmanDrift(drift_type="gra", position=position, seed=fresh_seed)),
                                     count + 1))[1:]
        return _frame([d[0] for d in more]), _labels([d[1] for d in more], "regression")

    return Stream("friedman", _frame([d[0] for d in data]), _labels([d[1] for d in data], "regression"), concept,
                  "regression", fresh, "river FriedmanDrift 'gra' (global recurring abrupt): A -> B -> A")


# ------------------------------------------------------------------ our own streams
def _gaussian_concepts(n_features: int, weights: list[np.ndarray], segments: list[int], n: int, seed: int,
                       name: str, description: str, noise: float = 0.05,
                       flip_rows: Optional[tuple[int, int, float]] = None) -> Stream:
    """Standard normal inputs; label = logistic(4 * w_c . x) with ``noise`` flips (fixed P(x))."""

    def draw(c: int, rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        X = rng.normal(size=(rows, n_features))
        y = (rng.random(rows) < 1.0 / (1.0 + np.exp(-4.0 * X @ weights[c]))).astype(np.int64)
        flip = rng.random(rows) < noise
        y[flip] = 1 - y[flip]
        return X, y

    positions = [max(round(n * (i + 1) / len(segments)), WARMUP + BATCH) for i in range(len(segments) - 1)]
    concept = _switching_concepts(n, segments, positions, 1, seed)
    rng = np.random.default_rng(seed)
    X, y = np.empty((n, n_features)), np.empty(n, dtype=np.int64)
    for c in np.unique(concept):
        rows = np.flatnonzero(concept == c)
        X[rows], y[rows] = draw(int(c), len(rows), rng)
    if flip_rows is not None:
        start, stop, share = flip_rows
        burst = np.arange(min(start, n), min(stop, n))
        flip = burst[rng.random(len(burst)) < share]
        y[flip] = 1 - y[flip]
    columns = [f"x{j}" for j in range(n_features)]

    def fresh(c: int, rows: int, fresh_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
        Xf, yf = draw(c, rows, np.random.default_rng(fresh_seed))
        return pd.DataFrame(Xf, columns=columns), yf

    return Stream(name, pd.DataFrame(X, columns=columns), y, concept, "classification", fresh, description)


def _recurring_ab(n: int, seed: int) -> Stream:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=10)
    b = rng.normal(size=10)
    b[:5] = -a[:5]  # B disagrees with A on the strong half
    return _gaussian_concepts(10, [a, b], [0, 1, 0, 1], n, seed, "recurring-ab",
                              "own: two logistic concepts A,B,A,B (abrupt, recurring), fixed P(x)")


def _moving_features(n: int, seed: int) -> Stream:
    rng = np.random.default_rng(seed)
    first, second = np.zeros(10), np.zeros(10)
    first[0:3] = rng.choice([-1.0, 1.0], 3) * rng.uniform(0.7, 1.3, 3)
    second[5:8] = rng.choice([-1.0, 1.0], 3) * rng.uniform(0.7, 1.3, 3)
    return _gaussian_concepts(10, [first, second], [0, 1], n, seed, "moving-features",
                              "own: the label depends on features 0-2, then on features 5-7 (abrupt, mid-stream)")


def _noisy_trap(n: int, seed: int) -> Stream:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=8)
    start = max(WARMUP + 2 * BATCH, int(0.4 * n))
    return _gaussian_concepts(8, [w], [0], n, seed, "noisy-trap",
                              f"own: one fixed concept; 30% of labels flipped in rows {start}-{start + 3000} "
                              "(the loop should be no worse than never retraining)",
                              flip_rows=(start, start + 3000, 0.3))


def _prior_shift(n: int, seed: int) -> Stream:
    """P(x|y) fixed (two Gaussians); P(y=1) moves 0.5 -> 0.15 -> 0.85 -> 0.5."""
    priors = [0.5, 0.15, 0.85, 0.5]
    n_features = 8
    shift = np.random.default_rng(seed).normal(size=n_features) * 0.35
    positions = [max(round(n * (i + 1) / 4), WARMUP + BATCH) for i in range(3)]
    concept = _switching_concepts(n, [0, 1, 2, 3], positions, 1, seed)

    def draw(c: int, rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        y = (rng.random(rows) < priors[c]).astype(np.int64)
        X = rng.normal(size=(rows, n_features)) + np.outer(y, shift)
        return X, y

    rng = np.random.default_rng(seed + 1)
    X, y = np.empty((n, n_features)), np.empty(n, dtype=np.int64)
    for c in np.unique(concept):
        rows = np.flatnonzero(concept == c)
        X[rows], y[rows] = draw(int(c), len(rows), rng)
    columns = [f"x{j}" for j in range(n_features)]

    def fresh(c: int, rows: int, fresh_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
        Xf, yf = draw(c, rows, np.random.default_rng(fresh_seed))
        return pd.DataFrame(Xf, columns=columns), yf

    return Stream("prior-shift", pd.DataFrame(X, columns=columns), y, concept, "classification", fresh,
                  "own: label shift, P(y=1) 0.5 -> 0.15 -> 0.85 -> 0.5 with P(x|y) fixed")


def _covariate_digits(n: int, seed: int) -> Stream:
    """scikit-learn's digits, resampled with jitter; the order follows the first principal axis."""
    from sklearn.datasets import load_digits

    data = load_digits()
    source_X, source_y = data.data.astype(np.float64), data.target.astype(np.int64)
    centred = source_X - source_X.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    score = centred @ axis
    score = (score - score.mean()) / score.std()
    bins = np.quantile(score, [0.25, 0.5, 0.75])
    region = np.searchsorted(bins, score)  # 4 regions of the input space

    def draw(rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.clip(source_X[rows] + rng.normal(scale=0.5, size=(len(rows), source_X.shape[1])), 0.0, 16.0)

    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(source_y), n)
    # Sort by a noisy copy of the principal score: the input distribution moves along it.
    picks = picks[np.argsort(score[picks] + rng.normal(scale=0.6, size=n), kind="stable")]
    X = draw(picks, rng)
    columns = [f"px{j}" for j in range(source_X.shape[1])]
    concept = region[picks]

    def fresh(c: int, rows: int, fresh_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
        r = np.random.default_rng(fresh_seed)
        chosen = r.choice(np.flatnonzero(region == c), rows)
        return pd.DataFrame(draw(chosen, r), columns=columns), source_y[chosen]

    return Stream("covariate-digits", pd.DataFrame(X, columns=columns), source_y[picks], concept, "classification",
                  fresh, "sklearn load_digits resampled with N(0, 0.5) jitter, ordered along the first principal "
                  "axis (P(y|x) fixed, P(x) moves); concept = quarter of that axis")


def _loopwise(kind: str) -> Callable[[int, int], Stream]:
    def build(n: int, seed: int) -> Stream:
        from loopwise.datasets import make_drifting_stream

        s = make_drifting_stream(n_samples=n, kind=kind, random_state=seed)
        change_points = list(s.change_points)

        def fresh(c: int, rows: int, fresh_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
            # Same random_state = same concept weights. An abrupt stream that is longer than
            # this one and is in concept c exactly on rows it never served (n+1 .. n+rows).
            del fresh_seed
            k = len(change_points)
            total = n + rows + k + 2
            points = list(range(1, c + 1)) + [n + rows + 1 + i for i in range(k - c)]
            longer = make_drifting_stream(n_samples=total, kind="abrupt", change_points=points, random_state=seed)
            keep = np.arange(n + 1, n + 1 + rows)
            assert (longer.concept[keep] == c).all()
            return longer.X.iloc[keep].reset_index(drop=True), longer.y[keep]

        return Stream(f"lw-{kind}", s.X, s.y, np.asarray(s.concept), "classification", fresh,
                      f"loopwise make_drifting_stream(kind={kind!r})", timestamp=s.timestamp)

    return build


# Name -> builder(n_rows, seed). Order is the print order.
STREAMS: dict[str, Callable[[int, int], Stream]] = {
    "lw-abrupt": _loopwise("abrupt"),
    "lw-gradual": _loopwise("gradual"),
    "lw-recurring": _loopwise("recurring"),
    "agrawal": _agrawal,
    "stagger": _stagger,
    "sea": _sea,
    "hyperplane": _hyperplane,
    "rbf": _rbf,
    "led": _led,
    "mixed": _mixed,
    "sine": _sine,
    "cds-abrupt": _cds("abrupt", 1),
    "cds-gradual": _cds("gradual", 2000),
    "recurring-ab": _recurring_ab,
    "prior-shift": _prior_shift,
    "moving-features": _moving_features,
    "covariate-digits": _covariate_digits,
    "noisy-trap": _noisy_trap,
    "friedman": _friedman,
}
UNTUNED = tuple(name for name in STREAMS if name not in TUNED)
FULL_ROWS = 24_000
QUICK_ROWS = 10_000


def get_stream(name: str, n_rows: int = FULL_ROWS, seed: int = 0) -> Stream:
    """Build one stream by name (seeded; equal arguments give equal streams)."""
    if name not in STREAMS:
        raise ValueError(f"unknown stream {name!r}; choose from {', '.join(STREAMS)}")
    return STREAMS[name](int(n_rows), int(seed))


def tuned_streams(n_rows: int = FULL_ROWS, seed: int = 0, names: Optional[list[str]] = None) -> list[Stream]:
    """The streams the loop's defaults may be tuned on."""
    return [get_stream(n, n_rows, seed) for n in TUNED if names is None or n in names]


def untuned_streams(n_rows: int = FULL_ROWS, seed: int = 0, names: Optional[list[str]] = None) -> list[Stream]:
    """The held-out streams: the numbers that count."""
    return [get_stream(n, n_rows, seed) for n in UNTUNED if names is None or n in names]
