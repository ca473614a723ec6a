"""``loopwise demo | check | step | report``: the feedback loop from the command line.

Registered by ``loopwise.cli``; exit codes follow it (0 ran, 2 bad input, 3 an alert with
``--fail-on-alert``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable

__all__ = ["LOOP_SUBCOMMANDS"]


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(args.out, n_samples=args.rows, random_state=args.seed, verbose=True)
    return 0


def _add_demo(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole loop on a generated drifting stream",
        description="Serve, log, label, detect drift, retrain, validate, promote and report, in seconds.",
    )
    parser.add_argument("--out", default="loopwise-demo", help="output directory (default: ./loopwise-demo)")
    parser.add_argument("--rows", type=int, default=12_000, help="length of the stream")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=_run_demo)


def _open(args: argparse.Namespace) -> Any:
    import os

    from .loop.feedback_loop import FeedbackLoop

    if not os.path.isdir(args.loop):
        raise ValueError(f"{args.loop}: not a feedback-loop directory")
    return FeedbackLoop(args.loop, trusted=args.trusted)


def _run_check(args: argparse.Namespace) -> int:
    loop = _open(args)
    try:
        status = loop.check()
    finally:
        loop.close()
    print(json.dumps(status.to_dict(), indent=1) if args.json else _describe(status))
    return 3 if (args.fail_on_alert and status.alerts) else 0


def _describe(status: Any) -> str:
    lines = [f"champion v{status.champion_version}; {status.n_current} recent rows; {status.n_labeled} labelled"]
    if status.metric is not None:
        lines.append(f"{status.metric_name}: {status.metric:.4f} (baseline {status.baseline_metric})")
    if status.drift_share is not None:
        lines.append(f"drifted columns: {status.drift_share:.0%} {status.drifted_columns}")
    lines.extend(f"ALERT: {alert}" for alert in status.alerts)
    return "\n".join(lines) if status.alerts else "\n".join(lines + ["no alerts"])


def _run_step(args: argparse.Namespace) -> int:
    loop = _open(args)
    try:
        result = loop.step(key=args.key)
    finally:
        loop.close()
    print(json.dumps(result, indent=1))
    return 0


def _run_report(args: argparse.Namespace) -> int:
    loop = _open(args)
    try:
        path = loop.report(args.html)
    finally:
        loop.close()
    print(f"report written to {path}")
    return 0


def _add_loop_command(subparsers: Any, name: str, help_text: str, handler: Callable) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("loop", help="the feedback-loop directory")
    parser.add_argument("--trusted", action="store_true", help="allow loading pickle-based model files of this loop")
    parser.set_defaults(handler=handler)
    return parser


def _add_check(subparsers: Any) -> None:
    parser = _add_loop_command(subparsers, "check", "check drift, performance and alarms of a loop", _run_check)
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.add_argument("--fail-on-alert", action="store_true", help="exit with code 3 when there is an alert")


def _add_step(subparsers: Any) -> None:
    parser = _add_loop_command(subparsers, "step", "run one turn of a loop (check, retrain, validate, promote)", _run_step)
    parser.add_argument("--key", help="idempotency key, e.g. the data interval")


def _add_report(subparsers: Any) -> None:
    parser = _add_loop_command(subparsers, "report", "write a loop's HTML report", _run_report)
    parser.add_argument("--html", default="loopwise-report.html", help="output file")


LOOP_SUBCOMMANDS: list[Callable[[Any], None]] = [_add_demo, _add_check, _add_step, _add_report]
