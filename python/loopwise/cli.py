"""The ``loopwise`` command.

Each subcommand is one ``_add_<name>(subparsers)`` function that registers its parser
and sets ``handler``; adding a subcommand means writing one such function and listing it
in ``_SUBCOMMANDS``.

Exit codes: 0 the command ran (and found nothing to fail on), 2 bad input or usage
(with a message on stderr), 3 drift found with ``--fail-on-drift`` (or an alert with
``check --fail-on-alert``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

__all__ = ["main", "EXIT_OK", "EXIT_BAD_INPUT", "EXIT_DRIFT"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_DRIFT = 3


class UsageError(Exception):
    """Bad input detected by a handler; reported on stderr with exit code 2."""


def read_table(path: str) -> Any:
    """Read a CSV or Parquet file into a pandas DataFrame (chosen by extension)."""
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path}: no such file")
    suffix = file.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            return pd.read_csv(file)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(file)
    except Exception as error:  # pandas raises many types for unreadable files
        raise UsageError(f"{path}: cannot read ({type(error).__name__}: {error})") from error
    raise UsageError(f"{path}: unsupported file type {suffix!r} (use .csv or .parquet)")


# ----------------------------------------------------------------------------- drift
def _run_drift(args: argparse.Namespace) -> int:
    from .drift import compare

    reference = read_table(args.reference)
    current = read_table(args.current)
    categorical = [c.strip() for c in args.categorical.split(",") if c.strip()] if args.categorical else None
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    report = compare(reference, current, tests=args.tests, alpha=args.alpha,
                     correction=None if args.correction == "none" else args.correction,
                     categorical=categorical, columns=columns, drift_share=args.drift_share, n_jobs=args.n_jobs)
    if args.json:
        report.to_json(args.json)
    if args.html:
        report.to_html(args.html)
    verdict = "DRIFT" if report.drifted else "no drift"
    print(f"{verdict}: {len(report.drifted_columns)} of {len(report.table)} columns drifted "
          f"({report.share_drifted:.1%}; dataset threshold {args.drift_share:.0%})")
    for column in report.drifted_columns:
        row = report.table.set_index("column").loc[column]
        print(f"  {column}: {row['test']} statistic={row['statistic']:.4g} threshold={row['threshold']:.4g}")
    return EXIT_DRIFT if (args.fail_on_drift and report.drifted) else EXIT_OK


def _add_drift(subparsers: Any) -> None:
    parser = subparsers.add_parser("drift", help="compare two tables column by column",
                                   description="Compare CURRENT with REFERENCE (CSV or Parquet).")
    parser.add_argument("reference", help="reference table (.csv or .parquet)")
    parser.add_argument("current", help="current table (.csv or .parquet)")
    parser.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON")
    parser.add_argument("--fail-on-drift", action="store_true", help="exit with code 3 when the dataset drifted")
    parser.add_argument("--tests", default="auto", help="'auto' or one test name for every column")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--correction", choices=("fdr", "bonferroni", "none"), default="fdr")
    parser.add_argument("--drift-share", type=float, default=0.5, help="share of drifted columns for a dataset verdict")
    parser.add_argument("--categorical", help="comma-separated columns to treat as categorical")
    parser.add_argument("--columns", help="comma-separated columns to compare (default: all)")
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.set_defaults(handler=_run_drift)


def _loop_subcommands() -> list[Callable[[Any], None]]:
    from ._cli_loop import LOOP_SUBCOMMANDS

    return list(LOOP_SUBCOMMANDS)


def _init_subcommand(subparsers: Any) -> None:
    from ._cli_init import add_init

    add_init(subparsers)


_SUBCOMMANDS: list[Callable[[Any], None]] = [_init_subcommand, *_loop_subcommands(), _add_drift]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="loopwise", description="Keep deployed models good.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``loopwise`` command and return its exit code.

    Examples
    --------
    >>> main(["drift", "missing.csv", "missing.csv"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on usage errors and 0 on --help
        return int(exit_.code or 0)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.handler(args)
    except (UsageError, ValueError, TypeError, OSError) as error:
        print(f"loopwise {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
