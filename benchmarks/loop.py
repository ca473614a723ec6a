"""The feedback-loop judge: loopwise's default FeedbackLoop vs simple and river baselines.

Protocol (identical for every system): a model trained on the first 2,000 rows; rows served in
batches of 500; the labels of batch k arrive after batch k+1 is served; prequential score over
every served row (each row predicted before its label is known). The FeedbackLoop runs with its
default policy: ``predict`` -> ``feedback`` (previous batch) -> ``step`` per batch.

Streams and the tuned/untuned split: _streams.py. Systems: _loop_systems.py.

Run: python benchmarks/loop.py [--quick] [--streams a,b] [--models lr,pipe,hgb]
                               [--group tuned|untuned|all] [--rows N] [--jobs N] [--no-arf]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from typing import Any, Optional

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import header, table, write_result  # noqa: E402
from _loop_systems import (MODELS, model_factory, run_feedback_loop, run_never, run_refit_every_batch,  # noqa: E402
                           run_river_arf, run_river_drc)
from _streams import BATCH, FULL_ROWS, QUICK_ROWS, STREAMS, TUNED, UNTUNED, WARMUP, get_stream  # noqa: E402

MIN_DRIFT_COST = 0.03  # recovery is reported only where drift costs at least 3 points


def _recovery(loop: float, never: float, ceiling: float, task: str) -> Optional[float]:
    if task == "classification":
        cost = ceiling - never
        return (loop - never) / cost if cost >= MIN_DRIFT_COST else None
    cost = (never - ceiling) / never  # regression: RMSE, relative cost
    return (never - loop) / (never - ceiling) if cost >= MIN_DRIFT_COST else None


def run_stream(name: str, rows: int, models: list[str], river: bool, arf: bool, seed: int = 0) -> list[dict]:
    """Every system on one stream; one dict per (stream, model)."""
    warnings.filterwarnings("ignore")  # LogisticRegression convergence chatter on raw features
    stream = get_stream(name, rows, seed)
    shared: dict[str, Any] = {}
    if river and stream.task == "classification":
        if any(m in ("lr", "pipe") for m in models):
            shared["drc-linear"] = run_river_drc(stream, "linear")
        if "hgb" in models:
            shared["drc-tree"] = run_river_drc(stream, "tree")
    if arf:
        shared["arf"] = run_river_arf(stream)
    out = []
    for model in models:
        never = run_never(stream, model)
        refit = run_refit_every_batch(stream, model)
        loop = run_feedback_loop(stream, model)
        ceiling = stream.ceiling(model_factory(model, stream.task))
        drc = shared.get("drc-tree" if model == "hgb" else "drc-linear")
        arf_result = shared.get("arf")
        out.append({
            "stream": name, "group": stream.group, "task": stream.task, "model": model, "rows": stream.n,
            "description": stream.description, "ceiling": ceiling,
            "never": never.score, "refit": refit.score, "loop": loop.score,
            "drc": None if drc is None else drc.score, "arf": None if arf_result is None else arf_result.score,
            "recovery": _recovery(loop.score, never.score, ceiling, stream.task),
            "promotions": loop.promotions, "bad_promotions": loop.bad_promotions,
            "rps": {"never": never.rows_per_s, "refit": refit.rows_per_s, "loop": loop.rows_per_s,
                    "drc": None if drc is None else drc.rows_per_s,
                    "arf": None if arf_result is None else arf_result.rows_per_s},
            "loop_seconds": loop.seconds,
            "actions": [e["action"] for e in loop.events],
        })
    return out


def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _num(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3g}"


def _rps(r: dict, keys: list[str]) -> str:
    return " / ".join("-" if r["rps"].get(k) is None else f"{r['rps'][k]:,.0f}" for k in keys)


def _mean(values: list) -> Optional[float]:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def classification_table(results: list[dict]) -> str:
    columns = ["stream", "model", "ceiling", "never", "refit/batch", "river DRC", "river ARF", "FeedbackLoop",
               "recovery", "promotions (bad)", "rows/s never / refit / DRC / ARF / loop"]
    rows = []
    for r in results:
        rows.append([r["stream"], r["model"], _pct(r["ceiling"]), _pct(r["never"]), _pct(r["refit"]), _pct(r["drc"]),
                     _pct(r["arf"]), _pct(r["loop"]), "-" if r["recovery"] is None else f"{r['recovery']:.2f}",
                     f"{r['promotions']} ({r['bad_promotions']})", _rps(r, ["never", "refit", "drc", "arf", "loop"])])
    for model in dict.fromkeys(r["model"] for r in results):
        chosen = [r for r in results if r["model"] == model]
        rec = _mean([r["recovery"] for r in chosen])
        rows.append([f"**mean of {len(chosen)}**", model] + [
            _pct(_mean([r[k] for r in chosen])) for k in ("ceiling", "never", "refit", "drc", "arf", "loop")
        ] + ["-" if rec is None else f"{rec:.2f}",
             f"{sum(r['promotions'] for r in chosen)} ({sum(r['bad_promotions'] for r in chosen)})",
             " / ".join("-" if _mean([r["rps"][k] for r in chosen]) is None else f"{_mean([r['rps'][k] for r in chosen]):,.0f}"
                        for k in ("never", "refit", "drc", "arf", "loop"))])
    return table(rows, columns)


def regression_table(results: list[dict]) -> str:
    columns = ["stream", "model", "ceiling RMSE", "never", "refit/batch", "river ARF", "FeedbackLoop", "recovery",
               "promotions (bad)", "rows/s never / refit / ARF / loop"]
    rows = [[r["stream"], r["model"], _num(r["ceiling"]), _num(r["never"]), _num(r["refit"]), _num(r["arf"]),
             _num(r["loop"]), "-" if r["recovery"] is None else f"{r['recovery']:.2f}",
             f"{r['promotions']} ({r['bad_promotions']})", _rps(r, ["never", "refit", "arf", "loop"])]
            for r in results]
    return table(rows, columns)


def render(results: list[dict], args: argparse.Namespace, elapsed: float, loop_path: str) -> str:
    text = header(f"Feedback loop on drifting streams ({args.rows:,} rows each, warm-up {WARMUP}, batches of {BATCH}, "
                  "labels one batch late)")
    text += (f"\nloopwise from `{loop_path}`; FeedbackLoop with its default policy; whole run {elapsed / 60:.1f} min "
             f"with {args.jobs} stream(s) in parallel, every system on 1 thread (rows/s are wall-clock on a shared machine: compare within a row). "
             "Scores are prequential accuracy in % (RMSE for regression). ceiling = the same model type trained on "
             "5,000 fresh rows of each row's own concept. recovery = (loop - never) / (ceiling - never), shown where "
             "drift costs >= 3 points. A promotion is bad when the new champion serves the next 2,000 rows more "
             "than 1 point worse than the champion it replaced would have. River systems are per stream "
             "(DRC = DriftRetrainingClassifier with DDM around StandardScaler | LogisticRegression for the linear "
             "rows, a HoeffdingTree for the hgb rows; ARF = ARFClassifier), with the same one-batch label delay.\n")
    for group, names in (("untuned (what counts)", UNTUNED), ("tuned (defaults may be tuned on these)", TUNED)):
        chosen = [r for r in results if r["stream"] in names]
        cls = [r for r in chosen if r["task"] == "classification"]
        reg = [r for r in chosen if r["task"] == "regression"]
        if not chosen:
            continue
        text += f"\n### {group}\n\n"
        if cls:
            text += classification_table(cls) + "\n"
        if reg:
            text += "\nRegression (RMSE, lower is better):\n\n" + regression_table(reg) + "\n"
    descriptions = {r["stream"]: r["description"] for r in results}
    text += "\nStreams:\n\n" + "\n".join(f"- `{k}`: {v}" for k, v in descriptions.items()) + "\n"
    return text


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows, LogisticRegression only, no ARF")
    parser.add_argument("--streams", help="comma-separated stream names (default: the group's)")
    parser.add_argument("--models", help="comma-separated of lr,pipe,hgb (default: all; lr with --quick)")
    parser.add_argument("--group", choices=["tuned", "untuned", "all"], default="all")
    parser.add_argument("--rows", type=int, help=f"rows per stream (default {FULL_ROWS:,}; {QUICK_ROWS:,} with --quick)")
    parser.add_argument("--jobs", type=int, help="streams run in parallel processes (default 1; 2 with --quick)")
    parser.add_argument("--no-arf", action="store_true", help="skip river's ARF (the slowest system)")
    parser.add_argument("--no-river", action="store_true", help="skip every river system")
    parser.add_argument("--json", help="also write the raw results to this JSON file")
    parser.add_argument("--no-write", action="store_true", help="print only; keep benchmarks/results/loop.md as is")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/loop.md even for a partial run")
    args = parser.parse_args(argv)

    args.jobs = args.jobs or (2 if args.quick else 1)
    args.rows = args.rows or (QUICK_ROWS if args.quick else FULL_ROWS)
    models = args.models.split(",") if args.models else (["lr"] if args.quick else list(MODELS))
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {list(MODELS)}")
    group = {"tuned": TUNED, "untuned": UNTUNED, "all": tuple(STREAMS)}[args.group]
    names = [n for n in STREAMS if n in group]
    if args.streams:
        wanted = args.streams.split(",")
        bad = [n for n in wanted if n not in STREAMS]
        if bad:
            parser.error(f"unknown streams {bad}; choose from {list(STREAMS)}")
        names = [n for n in STREAMS if n in wanted]
    river = not args.no_river
    arf = river and not args.no_arf and not args.quick

    import loopwise

    loop_path = os.path.dirname(os.path.dirname(os.path.abspath(loopwise.__file__)))
    start = time.perf_counter()
    tasks = [(n, args.rows, models, river, arf) for n in names]
    results: list[dict] = []
    if args.jobs > 1:
        from multiprocessing import get_context

        with get_context("fork").Pool(args.jobs) as pool:
            for part in pool.imap_unordered(_run_task, tasks):
                _progress(part, args.json)
                results.extend(part)
    else:
        for task in tasks:
            part = run_stream(*task)
            _progress(part, args.json)
            results.extend(part)
    order = {n: i for i, n in enumerate(STREAMS)}
    results.sort(key=lambda r: (order[r["stream"]], list(MODELS).index(r["model"])))
    elapsed = time.perf_counter() - start
    text = render(results, args, elapsed, loop_path)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1, default=float)
    if args.write or not (args.no_write or args.quick or args.streams or args.group != "all"):
        write_result("loop", text)
    else:
        print(text)
    return 0


def _run_task(task: tuple) -> list[dict]:
    return run_stream(*task)


def _progress(part: list[dict], json_path: Optional[str]) -> None:
    """One line per (stream, model) on stderr as soon as it is done (and to <json>.partial)."""
    if json_path:
        with open(json_path + ".partial", "a", encoding="utf-8") as handle:
            for r in part:
                handle.write(json.dumps(r, default=float) + "\n")
    for r in part:
        f = _pct if r["task"] == "classification" else _num
        print(f"  {r['stream']:17s} {r['model']:4s} ceiling {f(r['ceiling'])} never {f(r['never'])} "
              f"refit {f(r['refit'])} drc {f(r['drc'])} arf {f(r['arf'])} loop {f(r['loop'])} "
              f"promotions {r['promotions']} ({r['bad_promotions']}) loop {r['loop_seconds']:.1f}s",
              file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
