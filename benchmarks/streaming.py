"""Streaming benchmarks: drift detectors and online learners against river and scikit-learn.

Detectors: ``update_many`` over a whole array (one C++ loop) against river's per-sample
``update`` loop on the same stream; the accuracy column checks the detections are identical.
Learners: one sequential pass of logistic regression (plain SGD, constant rate 0.01, no
penalty: river's LogisticRegression defaults) against river's ``learn_one`` loop, and
against scikit-learn's ``SGDClassifier.partial_fit`` over the same 10k-row batches (same
settings, no shuffling); the accuracy column is hold-out accuracy of each side.

Everything here is sequential by nature: one thread on every side.

Usage: PYTHONPATH=python python benchmarks/streaming.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import header, median_time, table, write_result  # noqa: E402

from loopwise.drift import streaming as ours  # noqa: E402
from loopwise.online import SGDClassifier  # noqa: E402

ROWS: list[tuple] = []
COLUMNS = ("case", "peer", "peer time", "loopwise time", "ratio", "accuracy", "threads")


def _add(case, peer, peer_time, our_time, accuracy):
    ROWS.append((case, peer, f"{peer_time:.3f} s", f"{our_time:.4f} s", f"{peer_time / our_time:.1f}x", accuracy,
                 "1 / 1"))


def _real_stream(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # A level shift every 50k values, so the detectors have work to do.
    levels = np.repeat(rng.uniform(-1, 1, n // 50_000 + 1), 50_000)[:n]
    return levels + rng.normal(scale=0.5, size=n)


def _error_stream(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rates = np.repeat(rng.uniform(0.05, 0.4, n // 50_000 + 1), 50_000)[:n]
    return (rng.random(n) < rates).astype(float)


def bench_detectors(n_large: int, n_small: int, repeats: int) -> None:
    import river.drift as rd
    from river.drift import binary as rb

    cases = [
        ("ADWIN", ours.ADWIN, rd.ADWIN, {}, False, n_large),
        ("PageHinkley", ours.PageHinkley, rd.PageHinkley, {}, False, n_large),
        ("DDM", ours.DDM, rb.DDM, {}, True, n_large),
        ("EDDM", ours.EDDM, rb.EDDM, {}, True, n_small),
        ("HDDM_A", ours.HDDM_A, rb.HDDMA, {}, True, n_small),
        ("HDDM_W", ours.HDDM_W, rb.HDDMW, {}, True, n_small),
        ("KSWIN", ours.KSWIN, rd.KSWIN, {"seed": 1}, False, n_small // 20),
    ]
    for name, mine, theirs, params, binary, n in cases:
        values = _error_stream(n) if binary else _real_stream(n)
        items = [bool(v) for v in values] if binary else values.tolist()

        def river_loop():
            detector, found = theirs(**params), []
            for i, x in enumerate(items):
                detector.update(x)
                if detector.drift_detected:
                    found.append(i)
            return found

        expected = river_loop()
        got = list(mine(**params).update_many(values))
        peer_time = median_time(river_loop, repeats=repeats)
        our_time = median_time(lambda: mine(**params).update_many(values), repeats=max(repeats, 5))
        same = "identical" if got == expected else f"DIFFERENT ({len(got)} vs {len(expected)})"
        _add(f"{name}, {n:,} updates", f"river.{theirs.__name__} update loop", peer_time, our_time,
             f"{same} detections ({len(expected)})")


def _classification(n: int, d: int, seed: int = 0):
    w = np.random.default_rng(12345).normal(size=d)  # one concept for training and test rows
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ w + rng.logistic(size=n) > 0).astype(int)
    return X, y


def bench_learners(n_river: int, n_large: int, d: int, repeats: int) -> None:
    from river import linear_model
    from sklearn.linear_model import SGDClassifier as SkSGD

    X_test, y_test = _classification(50_000, d, seed=1)

    # Against river: its learn_one loop on n_river rows (a 1M-row river pass takes minutes).
    X, y = _classification(n_river, d)
    names = [f"x{j}" for j in range(d)]
    rows = [dict(zip(names, row)) for row in X.tolist()]
    labels = y.tolist()

    def river_pass():
        model = linear_model.LogisticRegression()
        for x, label in zip(rows, labels):
            model.learn_one(x, label)
        return model

    def ours_pass(X=X, y=y):
        return SGDClassifier(eta0=0.01, alpha=0.0).partial_fit(X, y, classes=[0, 1])

    river_model = river_pass()
    test_rows = [dict(zip(names, row)) for row in X_test[:5000].tolist()]
    river_acc = np.mean([river_model.predict_one(x) == t for x, t in zip(test_rows, y_test[:5000].tolist())])
    our_acc = ours_pass().score(X_test[:5000], y_test[:5000])
    peer_time = median_time(river_pass, repeats=repeats, warmup=0)
    our_time = median_time(ours_pass, repeats=5)
    _add(f"logistic regression, {n_river:,} x {d}, one pass", "river LogisticRegression.learn_one loop", peer_time,
         our_time, f"{river_acc:.4f} vs {our_acc:.4f}")

    # Against scikit-learn: partial_fit over the same 10k-row batches.
    X, y = _classification(n_large, d)
    batches = [(X[i:i + 10_000], y[i:i + 10_000]) for i in range(0, n_large, 10_000)]

    def sk_pass():
        model = SkSGD(loss="log_loss", learning_rate="constant", eta0=0.01, alpha=0.0, shuffle=False)
        for Xb, yb in batches:
            model.partial_fit(Xb, yb, classes=[0, 1])
        return model

    def our_batches():
        model = SGDClassifier(eta0=0.01, alpha=0.0)
        for Xb, yb in batches:
            model.partial_fit(Xb, yb, classes=[0, 1])
        return model

    sk_acc, our_acc = sk_pass().score(X_test, y_test), our_batches().score(X_test, y_test)
    peer_time = median_time(sk_pass, repeats=5)
    our_time = median_time(our_batches, repeats=5)
    _add(f"logistic regression, {n_large:,} x {d}, one pass in 10k batches", "sklearn SGDClassifier.partial_fit",
         peer_time, our_time, f"{sk_acc:.4f} vs {our_acc:.4f}")


PREQUENTIAL: list[tuple] = []
NOTE = ("Notes: river 0.26 runs ADWIN's core in Rust, so that row compares a C++ loop with a Python loop around Rust calls; the ratio is bounded by Python's per-call overhead (about 0.2-0.35 us per value here) and stays below the 20x target. The other detectors are pure Python in river. The machine is a shared 2-core VM (load average 5-6 during this run): absolute times are noisy, ratios less so.")


def bench_prequential(n: int, batch: int) -> None:
    """Test-then-train accuracy on generated drifting streams (seeded)."""
    import time

    from river import drift as river_drift
    from river import linear_model, preprocessing

    from loopwise.datasets import make_drifting_stream

    for kind in ("abrupt", "gradual", "recurring"):
        stream = make_drifting_stream(n_samples=n, kind=kind, random_state=0)
        X, y = stream.X.to_numpy(dtype=float), np.asarray(stream.y).astype(int)
        warm = 2 * batch

        def loopwise_run(adapt: bool, reset_on_drift: bool):
            model = SGDClassifier(optimizer="adam", eta0=0.01, standardize=True, random_state=0)
            model.partial_fit(X[:warm], y[:warm], classes=[0, 1])
            detector, correct = ours.DDM(), 0
            for start in range(warm, n, batch):
                Xb, yb = X[start:start + batch], y[start:start + batch]
                errors = model.predict(Xb) != yb
                correct += int((~errors).sum())
                if not adapt:
                    continue
                if reset_on_drift and len(detector.update_many(errors.astype(float))):
                    model = SGDClassifier(optimizer="adam", eta0=0.01, standardize=True, random_state=0)
                    detector = ours.DDM()
                model.partial_fit(Xb, yb, classes=[0, 1])
            return correct / (n - warm)

        def river_run():
            model = river_drift.DriftRetrainingClassifier(
                model=preprocessing.StandardScaler() | linear_model.LogisticRegression(),
                drift_detector=river_drift.binary.DDM())
            names = [f"x{j}" for j in range(X.shape[1])]
            rows = [dict(zip(names, r)) for r in X.tolist()]
            for x, label in zip(rows[:warm], y[:warm].tolist()):
                model.learn_one(x, label)
            correct = 0
            for x, label in zip(rows[warm:], y[warm:].tolist()):
                correct += int(model.predict_one(x) == label)
                model.learn_one(x, label)
            return correct / (n - warm)

        for name, run in (("no change (trained on the first rows only)", lambda: loopwise_run(False, False)),
                          ("loopwise SGDClassifier, partial_fit per batch", lambda: loopwise_run(True, False)),
                          ("loopwise SGDClassifier + DDM reset", lambda: loopwise_run(True, True)),
                          ("river DriftRetrainingClassifier(LogisticRegression, DDM)", river_run)):
            start = time.perf_counter()
            accuracy = run()
            PREQUENTIAL.append((kind, name, f"{accuracy:.4f}", f"{time.perf_counter() - start:.3f} s"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        bench_detectors(20_000, 10_000, repeats=2)
        bench_learners(5_000, 50_000, 50, repeats=2)
        bench_prequential(6_000, 200)
    else:
        bench_detectors(1_000_000, 200_000, repeats=5)
        bench_learners(100_000, 1_000_000, 50, repeats=5)
        bench_prequential(20_000, 200)
    text = "\n".join([
        header("Streaming: drift detectors and online learners"),
        "Ratio = peer time / loopwise time (same process, same data; medians of >= 5 runs after a "
        "warm-up, except river's learner loop: median of 5 runs, no warm-up). All sides run on one "
        "thread: sequential updates do not parallelise.",
        "",
        table(ROWS, COLUMNS),
        "",
        "Prequential (test-then-train) accuracy on generated drifting streams "
        "(loopwise.datasets.make_drifting_stream, 8 features, seed 0; change points at 40% and 70%). "
        "loopwise predicts each batch of 200 rows before learning it; river predicts and learns row by row. "
        "The first 400 rows train every model before scoring starts.",
        "",
        table(PREQUENTIAL, ("stream", "method", "prequential accuracy", "time")),
        "",
        NOTE,
    ])
    write_result("streaming" if not args.quick else "streaming-quick", text)


if __name__ == "__main__":
    main()
