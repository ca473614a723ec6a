"""The systems the loop benchmark compares, under one protocol.

Protocol (identical for every system): a model trained on the first ``WARMUP`` rows; rows
then served in batches of ``BATCH``; the labels of batch k arrive after batch k+1 is served;
every served row is predicted before its label is known (prequential score over all served rows).

    >>> from _streams import get_stream
    >>> from _loop_systems import run_never, run_feedback_loop
    >>> s = get_stream("sea", n_rows=4000)
    >>> run_never(s, "lr").score > 0.5
    True

Each ``run_*`` returns a :class:`Result`. ``model`` is a key of ``MODELS`` ("lr", "pipe",
"hgb"), a zero-argument factory, or an unfitted scikit-learn estimator (cloned).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import numpy as np
from threadpoolctl import threadpool_limits

from _streams import BATCH, WARMUP, Stream

# Every system runs on one thread (BLAS and OpenMP too): the loop is sequential, and on a shared
# 2-core machine multi-threaded BLAS inside LogisticRegression spins and runs up to 40x slower.
threadpool_limits(1)

BAD_PROMOTION_ROWS = 2000
BAD_PROMOTION_MARGIN = 0.01  # accuracy points (classification) or relative RMSE (regression)


# ------------------------------------------------------------------ models
def _lr():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def _pipe():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def _hgb():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=100, random_state=0)


def _ridge():
    from sklearn.linear_model import Ridge

    return Ridge()


def _pipe_reg():
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), Ridge())


def _hgb_reg():
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(max_iter=100, random_state=0)


MODELS: dict[str, dict[str, Callable[[], Any]]] = {
    "lr": {"classification": _lr, "regression": _ridge},
    "pipe": {"classification": _pipe, "regression": _pipe_reg},
    "hgb": {"classification": _hgb, "regression": _hgb_reg},
}
MODEL_LABELS = {"lr": "LogisticRegression / Ridge", "pipe": "Scaler+LR / Scaler+Ridge", "hgb": "HistGB"}


def model_factory(model: Union[str, Callable[[], Any], Any], task: str) -> Callable[[], Any]:
    """A zero-argument factory of fresh unfitted models."""
    if isinstance(model, str):
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
        return MODELS[model][task]
    if hasattr(model, "fit") and hasattr(model, "get_params"):
        from sklearn.base import clone

        return lambda: clone(model)
    if callable(model):
        return model
    raise ValueError("model must be a key of MODELS, a factory or an unfitted estimator")


# ------------------------------------------------------------------ results
@dataclass
class Result:
    system: str
    stream: str
    model: str
    score: float  # accuracy, or RMSE for regression
    seconds: float
    rows: int
    predictions: np.ndarray = field(repr=False)
    promotions: Optional[int] = None
    bad_promotions: Optional[int] = None
    events: list = field(default_factory=list, repr=False)  # per-step results of the loop
    note: str = ""

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def score(stream: Stream, predictions: np.ndarray, rows: Optional[np.ndarray] = None) -> float:
    rows = np.arange(WARMUP, stream.n) if rows is None else rows
    truth = stream.y[rows]
    if stream.task == "classification":
        return float(np.mean(np.asarray(predictions).astype(truth.dtype) == truth))
    return float(np.sqrt(np.mean((np.asarray(predictions, dtype=float) - truth) ** 2)))


def _batches(stream: Stream) -> list[tuple[int, int]]:
    return [(start, min(start + BATCH, stream.n)) for start in range(WARMUP, stream.n, BATCH)]


def _name(model: Any) -> str:
    return model if isinstance(model, str) else getattr(model, "__name__", type(model).__name__)


# ------------------------------------------------------------------ baselines
def run_never(stream: Stream, model: Any) -> Result:
    """The warm-up model, never retrained."""
    start = time.perf_counter()
    fitted = model_factory(model, stream.task)().fit(stream.X.iloc[:WARMUP], stream.y[:WARMUP])
    predictions = np.concatenate([np.asarray(fitted.predict(stream.X.iloc[a:b])) for a, b in _batches(stream)])
    elapsed = time.perf_counter() - start
    return Result("never", stream.name, _name(model), score(stream, predictions), elapsed, stream.n - WARMUP,
                  predictions)


def run_refit_every_batch(stream: Stream, model: Any, window: int = 2000) -> Result:
    """Refit on the newest ``window`` labelled rows after every batch (labels one batch late)."""
    factory = model_factory(model, stream.task)
    start = time.perf_counter()
    fitted = factory().fit(stream.X.iloc[:WARMUP], stream.y[:WARMUP])
    served = []
    for a, b in _batches(stream):
        served.append(np.asarray(fitted.predict(stream.X.iloc[a:b])))
        labelled_until = a  # labels of the previous batch have arrived
        lo = max(0, labelled_until - window)
        y = stream.y[lo:labelled_until]
        if a > WARMUP and (stream.task == "regression" or len(np.unique(y)) > 1):
            fitted = factory().fit(stream.X.iloc[lo:labelled_until], y)
    predictions = np.concatenate(served)
    elapsed = time.perf_counter() - start
    return Result("refit", stream.name, _name(model), score(stream, predictions), elapsed, stream.n - WARMUP,
                  predictions)


# ------------------------------------------------------------------ the feedback loop
def run_feedback_loop(stream: Stream, model: Any, policy: Any = None, loop_kwargs: Optional[dict] = None,
                      keep_dir: bool = False) -> Result:
    """loopwise's FeedbackLoop with its default policy (or ``policy``), one step per batch.

    ``loop_kwargs`` go to ``FeedbackLoop`` (``trusted=True`` by default: the models are the
    benchmark's own scikit-learn objects, loaded back from the loop's registry).
    Promotions are counted; a promotion is *bad* when, on the next ``BAD_PROMOTION_ROWS``
    served rows, the new champion scores worse than the champion it replaced by more than
    ``BAD_PROMOTION_MARGIN``.
    """
    from loopwise.loop.feedback_loop import FeedbackLoop

    factory = model_factory(model, stream.task)
    kwargs = {"trusted": True, **(loop_kwargs or {})}
    if policy is not None:
        kwargs["policy"] = policy
    champion = factory().fit(stream.X.iloc[:WARMUP], stream.y[:WARMUP])
    folder = tempfile.TemporaryDirectory(prefix="loopbench-")
    start = time.perf_counter()
    loop = FeedbackLoop(folder.name, model=champion, reference=stream.X.iloc[:WARMUP],
                        reference_labels=stream.y[:WARMUP], **kwargs)
    served, events, promotions = [], [], []
    previous: Optional[tuple[list[str], np.ndarray]] = None
    for k, (a, b) in enumerate(_batches(stream)):
        ids = [f"{k}-{i}" for i in range(b - a)]
        served.append(np.asarray(loop.predict(stream.X.iloc[a:b], ids=ids, timestamp=stream.timestamp[a:b])))
        if previous is not None:
            loop.feedback(*previous)
        previous = (ids, stream.y[a:b])
        old_version = loop.champion_version
        result = loop.step()
        events.append({"batch": k, "row": b, "action": result.get("action"), "reasons": result.get("reasons"),
                       "champion": result.get("champion")})
        if result.get("action") == "promoted":
            promotions.append((b, old_version, loop.champion_version))
    elapsed = time.perf_counter() - start
    predictions = np.concatenate(served)
    bad = 0
    for row, old, new in promotions:
        rows = np.arange(row, min(row + BAD_PROMOTION_ROWS, stream.n))
        if len(rows) < BATCH:
            continue
        before = score(stream, loop.model(old).predict(stream.X.iloc[rows]), rows)
        after = score(stream, loop.model(new).predict(stream.X.iloc[rows]), rows)
        if stream.task == "classification":
            bad += after < before - BAD_PROMOTION_MARGIN
        else:
            bad += after > before * (1 + BAD_PROMOTION_MARGIN)
    closing = getattr(loop, "close", None)
    if closing is not None:
        closing()
    if keep_dir:
        folder._finalizer.detach()  # type: ignore[attr-defined]
    else:
        folder.cleanup()
    return Result("loop", stream.name, _name(model), score(stream, predictions), elapsed, stream.n - WARMUP,
                  predictions, promotions=len(promotions), bad_promotions=int(bad), events=events)


# ------------------------------------------------------------------ river
def _river_serve(stream: Stream, learner: Any, system: str, model: str) -> Result:
    """Serve row by row with ``predict_one``; ``learn_one`` a batch only once its labels arrive."""
    records = stream.X.to_dict(orient="records")
    labels = stream.y.tolist()
    default = labels[0]
    start = time.perf_counter()
    for i in range(WARMUP):
        learner.learn_one(records[i], labels[i])
    served = []
    previous: Optional[tuple[int, int]] = None
    for a, b in _batches(stream):
        for i in range(a, b):
            p = learner.predict_one(records[i])
            served.append(default if p is None else p)
        if previous is not None:
            for i in range(*previous):
                learner.learn_one(records[i], labels[i])
        previous = (a, b)
    elapsed = time.perf_counter() - start
    predictions = np.asarray(served)
    return Result(system, stream.name, model, score(stream, predictions), elapsed, stream.n - WARMUP, predictions,
                  note="warm-up learning included in the time")


def river_linear() -> Any:
    from river import linear_model, multiclass, preprocessing  # noqa: F401

    return preprocessing.StandardScaler() | linear_model.LogisticRegression()


def _multiclass(stream: Stream) -> bool:
    return stream.task == "classification" and len(np.unique(stream.y)) > 2


def run_river_drc(stream: Stream, base: str = "linear") -> Result:
    """river's DriftRetrainingClassifier (DDM, river's default detector) around a linear model
    (StandardScaler | LogisticRegression, SoftmaxRegression for multi-class) or a Hoeffding tree."""
    from river import drift, linear_model, preprocessing, tree

    if stream.task != "classification":
        raise ValueError("DriftRetrainingClassifier is a classifier")
    if base == "linear":
        inner = linear_model.SoftmaxRegression() if _multiclass(stream) else linear_model.LogisticRegression()
        learner = preprocessing.StandardScaler() | inner
    elif base == "tree":
        learner = tree.HoeffdingTreeClassifier()
    else:
        raise ValueError("base must be 'linear' or 'tree'")
    wrapped = drift.DriftRetrainingClassifier(model=learner, drift_detector=drift.binary.DDM())
    return _river_serve(stream, wrapped, f"river-drc-{base}", base)


def run_river_arf(stream: Stream) -> Result:
    """river's Adaptive Random Forest (ARFClassifier / ARFRegressor, seed 0, defaults)."""
    from river import forest

    learner = forest.ARFClassifier(seed=0) if stream.task == "classification" else forest.ARFRegressor(seed=0)
    return _river_serve(stream, learner, "river-arf", "arf")
