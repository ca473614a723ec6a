"""Airflow-friendly task functions: paths and parameters in, small JSON dicts out.

Each function is idempotent per ``key`` (use the DAG run's data interval): calling it again
with a key that already completed returns the stored result and does nothing. "Nothing to
do" is a result (``{"skip": True, ...}``) that a DAG can turn into a skip with
``AirflowSkipException``; bad input raises ``ValueError`` with a clear message.

Every task runs the policy the loop was created with: the loop keeps its configuration
(policy, slices, sensitive columns, monitor size, seed) in ``loop.json`` in its directory,
and custom callables in it (a ``train_fn``, a trigger) are saved by import path
(``"package.module:function"``). Pass ``policy=`` only to a loop whose policy could not be
saved (a callable defined in the DAG file itself); a policy that contradicts the saved one
raises.

Examples
--------
>>> from loopwise import tasks
>>> sorted(n for n in tasks.__all__)
['check_drift', 'promote', 'retrain', 'run_step', 'validate']
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Union

import pandas as pd

__all__ = ["check_drift", "retrain", "validate", "promote", "run_step"]

PathLike = Union[str, os.PathLike]


def _read_table(path: PathLike, name: str) -> pd.DataFrame:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ValueError(f"{name}: file {path!r} does not exist")
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    if lower.endswith((".csv", ".csv.gz", ".txt")):
        return pd.read_csv(path)
    raise ValueError(f"{name}: {path!r} is neither CSV nor Parquet (by its extension)")


def _open(loop_path: PathLike, trusted: bool, policy: Any) -> Any:
    from .loop.feedback_loop import FeedbackLoop

    if not os.path.isdir(os.fspath(loop_path)):
        raise ValueError(f"loop_path {os.fspath(loop_path)!r} is not a feedback-loop directory")
    return FeedbackLoop(loop_path, trusted=trusted, policy=policy)


def _remembered(loop: Any, task: str, key: Optional[str]) -> Optional[dict]:
    if key is None:
        return None
    done = loop._state.setdefault("tasks", {}).get(f"{task}:{key}")
    return None if done is None else {**done, "repeated": True}


def _remember(loop: Any, task: str, key: Optional[str], result: dict) -> dict:
    result = json.loads(json.dumps(result, default=str))
    if key is not None:
        loop._state.setdefault("tasks", {})[f"{task}:{key}"] = result
        loop._save_state()
    return result


def _recorded_validation(loop: Any, challenger: str) -> Optional[dict]:
    """The gate's decision on ``challenger`` from the audit log, when it was already taken."""
    entries = loop.audit.entries(kind="validation")
    for _, entry in entries.iloc[::-1].iterrows():
        if (entry["details"] or {}).get("candidate") == challenger:
            return {"skip": False, "challenger": challenger, "passed": bool(entry["passed"]),
                    "reasons": list(entry["reasons"])}
    return None


def check_drift(
    loop_path: Optional[PathLike] = None,
    *,
    reference_path: Optional[PathLike] = None,
    current_path: Optional[PathLike] = None,
    key: Optional[str] = None,
    policy: Any = None,
    trusted: bool = False,
) -> dict:
    """Check a loop (or two data files) and say whether retraining is called for.

    Either ``loop_path`` (uses the loop's reference, logged data, labels and policy) or
    ``reference_path`` and ``current_path`` (CSV or Parquet; a plain drift comparison).

    Returns
    -------
    dict
        ``skip`` (True when nothing calls for retraining), ``reasons``, ``alerts``,
        ``drift_share``, ``drifted_columns``.
    """
    if loop_path is None:
        if reference_path is None or current_path is None:
            raise ValueError("pass loop_path, or both reference_path and current_path")
        from . import drift

        report = drift.compare(_read_table(reference_path, "reference_path"), _read_table(current_path, "current_path"))
        table = report.table
        drifted = [str(c) for c in table.loc[table["drifted"].astype(bool), table.columns[0]]]
        return {"skip": not bool(report.drifted), "drifted": bool(report.drifted),
                "drift_share": float(report.share_drifted), "drifted_columns": drifted}
    loop = _open(loop_path, trusted, policy)
    try:
        done = _remembered(loop, "check_drift", key)
        if done is not None:
            return done
        status = loop.check()
        reasons = loop.policy.reasons(status)
        return _remember(loop, "check_drift", key, {
            "skip": not reasons, "reasons": reasons, "alerts": status.alerts, "drift_share": status.drift_share,
            "drifted_columns": status.drifted_columns, "metric": status.metric, "champion": status.champion_version,
        })
    finally:
        loop.close()


def retrain(loop_path: PathLike, *, key: Optional[str] = None, reasons: Optional[list] = None, policy: Any = None,
            trusted: bool = False) -> dict:
    """Train a challenger by the loop's policy and keep it as a registry candidate.

    Returns
    -------
    dict
        ``challenger`` (candidate id; a version only once :func:`promote` registers it) and
        ``training_window``, or ``skip`` with a ``note``.
    """
    loop = _open(loop_path, trusted, policy)
    try:
        done = _remembered(loop, "retrain", key)
        if done is not None:
            return done
        trained = loop.train_challenger(reasons or ["requested by task"])
        trained["skip"] = trained["challenger"] is None
        return _remember(loop, "retrain", key, trained)
    finally:
        loop.close()


def validate(loop_path: PathLike, challenger: Optional[str], *, key: Optional[str] = None, policy: Any = None,
             trusted: bool = False) -> dict:
    """Run the champion/challenger gate for a challenger trained by :func:`retrain`.

    Returns
    -------
    dict
        ``passed``, ``reasons`` (each failed rule in words), ``challenger``; ``skip`` when
        there is no challenger.
    """
    if challenger is None:
        return {"skip": True, "note": "no challenger to validate"}
    loop = _open(loop_path, trusted, policy)
    try:
        done = _remembered(loop, "validate", key)
        if done is not None:
            return done
        recorded = _recorded_validation(loop, str(challenger))
        if recorded is not None:  # decided before a kill: the candidate may be gone already
            return _remember(loop, "validate", key, recorded)
        gate = loop.validate_challenger(str(challenger))
        return _remember(loop, "validate", key, {"skip": False, "challenger": str(challenger),
                                                 "passed": bool(gate.passed), "reasons": list(gate.reasons)})
    finally:
        loop.close()


def promote(loop_path: PathLike, challenger: Optional[str], *, passed: bool, key: Optional[str] = None,
            reason: str = "passed the validation gate", policy: Any = None, trusted: bool = False) -> dict:
    """Promote a validated challenger; refuses (as a skip) when the gate did not pass.

    Returns
    -------
    dict
        ``promoted`` and ``champion``.
    """
    if challenger is None or not passed:
        return {"skip": True, "promoted": False, "note": "no challenger passed the gate"}
    loop = _open(loop_path, trusted, policy)
    try:
        done = _remembered(loop, "promote", key)
        if done is not None:
            return done
        loop.promote(str(challenger), reason=reason)
        return _remember(loop, "promote", key, {"skip": False, "promoted": True, "champion": loop.champion_version})
    finally:
        loop.close()


def run_step(loop_path: PathLike, *, key: Optional[str] = None, policy: Any = None, trusted: bool = False) -> dict:
    """One whole turn of the loop (check, retrain, validate, promote) in one task.

    Returns
    -------
    dict
        The result of :meth:`loopwise.FeedbackLoop.step`, with ``skip`` when nothing happened.
    """
    loop = _open(loop_path, trusted, policy)
    try:
        result = loop.step(key=key)
        result["skip"] = result.get("action") == "none"
        return result
    finally:
        loop.close()
