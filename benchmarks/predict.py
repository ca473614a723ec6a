"""Native batch prediction of loopwise.TreeEnsemble vs each library's own predict.

500-tree models on generated data; median of 5 runs after a warm-up, 1 and 2 threads.
Run: python benchmarks/predict.py [--rows N]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from sklearn.datasets import make_classification

from _common import header, median_time, table, write_result
from loopwise.models import TreeEnsemble


def _threadpool(n: int):
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    X, y = make_classification(n_samples=args.rows, n_features=args.features, n_informative=20, random_state=0)
    X_train, y_train = X[:20_000], y[:20_000]
    X[np.random.default_rng(0).random(X.shape) < 0.02] = np.nan
    rows = []

    cases = []
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    rf = RandomForestClassifier(n_estimators=500, max_depth=8, n_jobs=-1, random_state=0).fit(X_train, y_train)
    cases.append(("sklearn RandomForest 500 x depth 8", "scikit-learn", rf,
                  lambda n: (lambda: (rf.set_params(n_jobs=n), rf.predict_proba(X))[1]), "proba"))
    hgb = HistGradientBoostingClassifier(max_iter=500, early_stopping=False, random_state=0).fit(X_train, y_train)

    def hgb_run(n):
        def run():
            with _threadpool(n):
                return hgb.decision_function(X)
        return run

    cases.append(("sklearn HistGradientBoosting 500 iters", "scikit-learn", hgb, hgb_run, "margin"))
    try:
        import xgboost as xgb

        booster = xgb.train({"max_depth": 8, "objective": "binary:logistic", "nthread": 2}, xgb.DMatrix(X_train, y_train), 500)

        def xgb_run(n):
            booster.set_param({"nthread": n})
            return lambda: booster.inplace_predict(X, predict_type="margin")

        cases.append(("XGBoost 500 x depth 8", f"xgboost {xgb.__version__}", booster, xgb_run, "margin"))
    except ImportError:
        print("xgboost not installed: skipped", file=sys.stderr)
    try:
        import lightgbm as lgb

        lgbm = lgb.train({"num_leaves": 63, "objective": "binary", "verbose": -1}, lgb.Dataset(X_train, y_train), 500)
        cases.append(("LightGBM 500 x 63 leaves", f"lightgbm {lgb.__version__}", lgbm,
                      lambda n: (lambda: lgbm.predict(X, raw_score=True, num_threads=n)), "margin"))
    except ImportError:
        print("lightgbm not installed: skipped", file=sys.stderr)

    for name, peer, model, peer_run, kind in cases:
        ensemble = TreeEnsemble.from_model(model)
        ours_fn = ensemble.predict_proba if kind == "proba" else ensemble.decision_function
        X_ours = X if ensemble.supports_missing else np.nan_to_num(X)
        for threads in (1, 2):
            X_peer = X_ours
            if kind == "proba":
                theirs = model.set_params(n_jobs=threads).predict_proba(X_peer)
                peer_time = median_time(lambda: model.predict_proba(X_peer), args.repeats)
            else:
                theirs = peer_run(threads)()
                peer_time = median_time(peer_run(threads), args.repeats)
            ours = ours_fn(X_ours, n_jobs=threads)
            our_time = median_time(lambda: ours_fn(X_ours, n_jobs=threads), args.repeats)
            diff = float(np.max(np.abs(np.asarray(ours).reshape(np.shape(theirs)) - theirs)))
            rows.append((name, peer, threads, peer_time, our_time, peer_time / our_time, diff))

    text = header(f"Tree-ensemble batch prediction ({args.rows} rows x {args.features} features, 2% NaN)")
    text += "\n" + table(rows, ["case", "peer", "threads", "peer s", "loopwise s", "ratio (peer/loopwise)", "max abs diff"])
    write_result("predict", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
