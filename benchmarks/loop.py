"""The loopwise feedback loop vs river's DriftRetrainingClassifier and a no-change baseline.

Same seeded drifting streams (abrupt, gradual, recurring), same label delay (one batch),
prequential accuracy: every row is predicted before its label is known. Throughput is rows
served per second, including loopwise's durable logging (SQLite, synchronous commits).
Run: python benchmarks/loop.py [--rows N]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from _common import header, table, write_result
from loopwise.datasets import make_drifting_stream
from loopwise.loop.feedback_loop import FeedbackLoop
from loopwise.loop.policy import DetectorTrigger, LabelCountTrigger, PerformanceTrigger, Policy, Refit, SlidingWindow

BATCH = 500


def _train(X, y, sample_weight=None):
    from loopwise.online import SGDClassifier

    return SGDClassifier(optimizer="adam", eta0=0.02, standardize=True, max_iter=5, random_state=0).fit(X, y, sample_weight=sample_weight)


def run_loopwise(stream, warmup):
    champion = _train(stream.X.iloc[:warmup], stream.y[:warmup])
    policy = Policy(triggers=[PerformanceTrigger(0.05), DetectorTrigger(), LabelCountTrigger(n=2 * BATCH)],
                    selection=SlidingWindow(2 * BATCH), retrain=Refit(train_fn=_train), min_labels=2 * BATCH)
    folder = tempfile.mkdtemp()
    start = time.perf_counter()
    loop = FeedbackLoop(folder, model=champion, reference=stream.X.iloc[:warmup], reference_labels=stream.y[:warmup],
                        policy=policy)
    served, pending = [], []
    for index, (X, y, stamp) in enumerate(stream.batches(BATCH)):
        if index * BATCH < warmup:
            continue
        ids = [f"{index}-{i}" for i in range(len(X))]
        served.append(loop.predict(X, ids=ids, timestamp=stamp))
        pending.append((ids, y))
        if len(pending) > 1:
            loop.feedback(*pending.pop(0))
        loop.step()
    loop.close()
    elapsed = time.perf_counter() - start
    return np.concatenate(served), elapsed, champion


def run_online(stream, warmup):
    """loopwise's in-memory engines alone: the online learner updated on every delayed batch of
    labels, restarted on the new concept when DDM over its errors signals drift (no store, no gate)."""
    from loopwise.drift import DDM
    from loopwise.online import SGDClassifier

    def fresh():
        return SGDClassifier(optimizer="adam", eta0=0.02, standardize=True, random_state=0)

    X, y = stream.X.to_numpy(), stream.y
    model = fresh().partial_fit(X[:warmup], y[:warmup], classes=[0, 1])
    detector = DDM()
    start = time.perf_counter()
    served = []
    for begin in range(warmup, len(y), BATCH):
        served.append(model.predict(X[begin:begin + BATCH]))
        labelled = begin - BATCH  # the same one-batch label delay
        if labelled >= warmup:
            rows = slice(labelled, labelled + BATCH)
            errors = (model.predict(X[rows]) != y[rows]).astype(float)
            if len(detector.update_many(errors)):
                model, detector = fresh().partial_fit(X[rows], y[rows], classes=[0, 1]), DDM()
            else:
                model.partial_fit(X[rows], y[rows])
    return np.concatenate(served), time.perf_counter() - start


def run_river(stream, warmup):
    from river import drift, linear_model, preprocessing
    from river.drift import binary

    def make():
        return preprocessing.StandardScaler() | linear_model.LogisticRegression()

    model = drift.DriftRetrainingClassifier(model=make(), drift_detector=binary.DDM())
    rows = stream.X.to_dict(orient="records")
    for x, y in zip(rows[:warmup], stream.y[:warmup]):
        model.learn_one(x, int(y))
    start = time.perf_counter()
    served = []
    for i in range(warmup, len(rows)):
        served.append(model.predict_one(rows[i]) or 0)
        j = i - BATCH  # the same label delay as the loop
        if j >= warmup:
            model.learn_one(rows[j], int(stream.y[j]))
    return np.asarray(served), time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args(argv)
    out = []
    for kind in ("abrupt", "gradual", "recurring"):
        stream = make_drifting_stream(n_samples=args.rows, kind=kind, random_state=0)
        warmup = 2 * BATCH
        truth = stream.y[warmup:]
        ours, our_time, frozen_model = run_loopwise(stream, warmup)
        frozen = np.asarray(frozen_model.predict(stream.X.iloc[warmup:]))
        rows = len(truth)
        out.append((kind, "no change (never retrained)", float(np.mean(frozen == truth)), "-"))
        out.append((kind, "loopwise FeedbackLoop (durable store, gate, registry)", float(np.mean(ours == truth)),
                    f"{rows / our_time:,.0f}"))
        online, online_time = run_online(stream, warmup)
        out.append((kind, "loopwise online learner + DDM (in memory)", float(np.mean(online == truth)),
                    f"{rows / online_time:,.0f}"))
        try:
            theirs, their_time = run_river(stream, warmup)
            out.append((kind, "river DriftRetrainingClassifier (DDM)", float(np.mean(theirs == truth)), f"{rows / their_time:,.0f}"))
        except ImportError:
            out.append((kind, "river (not installed)", float("nan"), "-"))
    text = header(f"Feedback loop on drifting streams ({args.rows} rows, label delay {BATCH} rows, 1 thread)")
    text += "\n" + table(out, ["stream", "system", "prequential accuracy", "rows/s"])
    text += ("\n\nThe FeedbackLoop retrains on a 1000-row window behind its champion/challenger gate, runs a "
             "drift check every batch and logs every prediction and label durably (SQLite, synchronous "
             "commits); river and loopwise's online learner update in memory with nothing persisted.")
    write_result("loop", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
