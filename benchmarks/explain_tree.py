"""TreeSHAP of loopwise vs shap's TreeExplainer and the libraries' own contributions.

Each case explains the same rows of the same model on both sides; median of --repeats
runs after a warm-up, 1 and 2 threads. shap's TreeExplainer is single-threaded (its
threads column says 1). Run: python benchmarks/explain_tree.py [--rows N] [--repeats R]
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

import numpy as np
from sklearn.datasets import make_regression

from _common import header, median_time, table, write_result
from loopwise.explain import TreeExplainer


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=500, help="rows explained per case")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    repeats = args.repeats

    X, y = make_regression(n_samples=10_000, n_features=50, n_informative=20, noise=1.0, random_state=0)
    rows_X = X[: args.rows]
    results = []

    def case(name: str, peer: str, peer_fn: Callable[[int], Callable[[], np.ndarray]],
             ours_fn: Callable[[int], Callable[[], np.ndarray]], pairs: list, convert=lambda a: a) -> None:
        """Time each (peer threads, loopwise threads) pair; the peer is timed once per thread count."""
        peer_times = {}
        for peer_threads, threads in pairs:
            peer_run = peer_fn(peer_threads)
            if peer_threads not in peer_times:
                peer_times[peer_threads] = (median_time(peer_run, repeats=repeats), convert(peer_run()))
            peer_time, expected = peer_times[peer_threads]
            run = ours_fn(threads)
            diff = _max_diff(run(), expected)
            ours_time = median_time(run, repeats=repeats)
            results.append((name, peer, f"{peer_threads} / {threads}", peer_time, ours_time, peer_time / ours_time, diff))
            print(results[-1], file=sys.stderr, flush=True)

    try:
        import shap
    except ImportError:
        shap = None
        print("shap not installed: sklearn cases skipped", file=sys.stderr)

    from sklearn.ensemble import RandomForestRegressor

    single = [(1, 1), (1, 2)]  # shap is single-threaded
    equal = [(1, 1), (2, 2)]
    forest = RandomForestRegressor(n_estimators=200, max_depth=10, n_jobs=-1, random_state=0).fit(X, y)
    if shap is not None:
        peer = shap.TreeExplainer(forest)
        case(f"RandomForest 200 x depth 10, {args.rows} rows", f"shap {shap.__version__}",
             lambda n: lambda: peer.shap_values(rows_X, check_additivity=False),
             lambda n: (lambda e: lambda: e.shap_values(rows_X, check_additivity=False))(TreeExplainer(forest, n_jobs=n)),
             single)
        background = X[-100:]
        small = rows_X[: max(1, args.rows // 20)]
        peer_i = shap.TreeExplainer(forest, background, feature_perturbation="interventional")
        case(f"RandomForest interventional, 100 background, {len(small)} rows", f"shap {shap.__version__}",
             lambda n: lambda: peer_i.shap_values(small, check_additivity=False),
             lambda n: (lambda e: lambda: e.shap_values(small, check_additivity=False))(
                 TreeExplainer(forest, background, n_jobs=n)),
             single)

    try:
        import xgboost as xgb

        booster = xgb.train({"max_depth": 8, "eta": 0.1, "nthread": 2}, xgb.DMatrix(X, label=y), 500)
        matrix = xgb.DMatrix(rows_X)
        small = rows_X[: max(1, args.rows // 20)]
        small_matrix = xgb.DMatrix(small)

        def xgb_run(data, **kind):
            def make(n: int) -> Callable[[], np.ndarray]:
                def run() -> np.ndarray:
                    booster.set_param({"nthread": n})
                    return booster.predict(data, **kind)
                return run
            return make

        case(f"XGBoost 500 x depth 8, {args.rows} rows", f"xgboost {xgb.__version__} pred_contribs",
             xgb_run(matrix, pred_contribs=True),
             lambda n: (lambda e: lambda: e.shap_values(rows_X, check_additivity=False))(TreeExplainer(booster, n_jobs=n)),
             equal, convert=lambda a: a[:, :-1])
        case(f"XGBoost 500 x depth 8 interactions, {len(small)} rows", f"xgboost {xgb.__version__} pred_interactions",
             xgb_run(small_matrix, pred_interactions=True),
             lambda n: (lambda e: lambda: e.shap_interaction_values(small))(TreeExplainer(booster, n_jobs=n)),
             equal, convert=lambda a: a[:, :-1, :-1])
    except ImportError:
        print("xgboost not installed: skipped", file=sys.stderr)

    try:
        import lightgbm as lgb

        gbm = lgb.train({"num_leaves": 63, "verbose": -1}, lgb.Dataset(X, label=y), 500)
        case(f"LightGBM 500 x 63 leaves, {args.rows} rows", f"lightgbm {lgb.__version__} pred_contrib",
             lambda n: lambda: gbm.predict(rows_X, pred_contrib=True, num_threads=n),
             lambda n: (lambda e: lambda: e.shap_values(rows_X, check_additivity=False))(TreeExplainer(gbm, n_jobs=n)),
             equal, convert=lambda a: a[:, :-1])
    except ImportError:
        print("lightgbm not installed: skipped", file=sys.stderr)

    text = header(f"TreeSHAP (10000 x 50 training rows; median of {repeats} runs)") + "\n" + table(
        results, ["case", "peer", "threads (peer / loopwise)", "peer s", "loopwise s", "ratio (peer/loopwise)",
                  "max abs diff"]
    ) + "\n"
    write_result("explain_tree", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
