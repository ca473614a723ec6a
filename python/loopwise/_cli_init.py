"""``loopwise init LOOP --model FILE --reference FILE``: create a feedback loop once, from files.

The loop saves its configuration (``loop.json``) and its champion in its directory, so every
later process (``loopwise step``, an Airflow task) opens it by path alone. Model files:

- ``.skops``  a scikit-learn (or XGBoost/LightGBM wrapper) model saved with ``skops.io.dump``;
  loaded without running code from the file (types outside skops' and loopwise's allowlist
  need ``--trusted``)
- ``.json``   a loopwise model (``TreeEnsemble.to_json`` or a loopwise-json registry file)
- ``.pkl`` / ``.pickle`` / ``.joblib``  a pickle: unpickling runs code from the file, so it
  needs ``--trusted``
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

__all__ = ["add_init", "load_model_file"]


def load_model_file(path: str, *, trusted: bool) -> Any:
    """Load a model file by its extension (see the module docstring for the formats).

    Examples
    --------
    >>> import os, tempfile, skops.io
    >>> from sklearn.linear_model import LogisticRegression
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skops")
    >>> skops.io.dump(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), path)
    >>> type(load_model_file(path, trusted=False)).__name__
    'LogisticRegression'
    """
    from .loop._model_formats import deserialise

    if not os.path.isfile(path):
        raise ValueError(f"--model: {path}: no such file")
    lower = path.lower()
    with open(path, "rb") as handle:
        payload = handle.read()
    what = f"--model {path}"
    if lower.endswith(".skops"):
        return deserialise("skops", payload, trusted=trusted, what=what)
    if lower.endswith(".json"):
        document = json.loads(payload.decode("utf-8"))
        if isinstance(document, dict) and set(document) == {"class", "data"}:
            return deserialise("loopwise-json", payload, trusted=trusted, what=what)
        from .models import TreeEnsemble

        return TreeEnsemble.from_json(path)
    if lower.endswith((".pkl", ".pickle", ".joblib")):
        if lower.endswith(".joblib"):
            if not trusted:
                raise ValueError(f"{what} is a joblib pickle, and loading it runs code from the file: pass "
                                 "--trusted only if you trust whoever wrote it")
            import joblib

            return joblib.load(path)
        return deserialise("pickle", payload, trusted=trusted, what=what)
    raise ValueError(f"--model: {path}: unknown model file type (use .skops, .json, or .pkl with --trusted)")


def _run_init(args: argparse.Namespace) -> int:
    from .cli import read_table
    from .loop.feedback_loop import FeedbackLoop

    if os.path.isdir(args.loop) and os.listdir(args.loop):
        raise ValueError(f"{args.loop}: already exists and is not empty; a loop is created once")
    model = load_model_file(args.model, trusted=args.trusted)
    reference = read_table(args.reference) if args.reference else None
    labels = None
    if args.labels_column:
        if reference is None:
            raise ValueError("--labels-column needs --reference")
        if args.labels_column not in reference.columns:
            raise ValueError(f"--labels-column {args.labels_column!r} is not a column of {args.reference}")
        labels = reference[args.labels_column].to_numpy()
        reference = reference.drop(columns=[args.labels_column])
    split = (lambda text: [c.strip() for c in text.split(",") if c.strip()] if text else None)
    loop = FeedbackLoop(args.loop, model=model, reference=reference, reference_labels=labels,
                        sensitive=split(args.sensitive), slices=split(args.slices), trusted=args.trusted)
    try:
        print(f"created loop {args.loop}: champion v{loop.champion_version} ({type(model).__name__}); "
              f"configuration saved in {os.path.join(args.loop, 'loop.json')}")
    finally:
        loop.close()
    return 0


def add_init(subparsers: Any) -> None:
    """Register ``loopwise init``."""
    parser = subparsers.add_parser(
        "init", help="create a feedback loop from a model file and reference data",
        description="Create a feedback loop once; later commands and tasks open it by its path.",
    )
    parser.add_argument("loop", help="the feedback-loop directory to create")
    parser.add_argument("--model", required=True, help="model file: .skops, .json (loopwise), or .pkl (needs --trusted)")
    parser.add_argument("--reference", help="reference data (.csv or .parquet), usually the training data")
    parser.add_argument("--labels-column", help="column of --reference holding the labels (dropped from the features)")
    parser.add_argument("--sensitive", help="comma-separated columns checked for fairness gaps")
    parser.add_argument("--slices", help="comma-separated columns monitored as slices")
    parser.add_argument("--trusted", action="store_true",
                        help="allow model files whose loading runs code (pickles, skops types outside the allowlist)")
    parser.set_defaults(handler=_run_init)
