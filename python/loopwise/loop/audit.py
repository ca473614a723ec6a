"""``AuditLog``: an append-only record of every decision the loop takes.

Each entry has a time, a kind (``trigger``, ``training``, ``validation``, ``register``,
``promotion``, ``rollback``, ``alias`` or anything the caller names), the model version it
concerns, whether it passed (for gates), the reasons in words and a JSON ``details`` object
(the inputs' summary, metrics). Entries live in an SQLite table whose triggers refuse
``UPDATE`` and ``DELETE``, so history cannot be rewritten through the database API.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .._atomic import write_atomic
from ._sqlite import Database, execute_script, open_database

__all__ = ["AuditLog", "AUDIT_SCHEMA"]

#: SQL creating the audit table (also used by the registry's index, which embeds the log).
AUDIT_SCHEMA = """
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    model_version INTEGER,
    passed INTEGER,
    reasons TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_kind ON audit (kind);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
"""

_COLUMNS = ["timestamp", "kind", "model_version", "passed", "reasons", "details"]


def jsonable(value: Any) -> Any:
    """Numpy scalars/arrays, pandas times and tuples -> plain JSON types (NaN/inf -> None)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (str, type(None))):
        return value
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64, pd.Timedelta, _dt.timedelta)):
        return str(value)
    if isinstance(value, pd.DataFrame):
        return jsonable(value.to_dict(orient="records"))
    if isinstance(value, pd.Series):
        return jsonable(value.tolist())
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return str(value)


def create_audit_table(connection: Any) -> None:
    """Migration step creating the audit table and its append-only triggers."""
    execute_script(connection, AUDIT_SCHEMA)


class AuditLog:
    """Append-only log of the loop's decisions.

    Parameters
    ----------
    path_or_database : str, os.PathLike or Database
        A standalone audit file, or an open loopwise database that already has the audit
        table (the registry passes its index so decisions and alias moves share one file).

    Examples
    --------
    >>> import tempfile, os
    >>> log = AuditLog(os.path.join(tempfile.mkdtemp(), "audit.db"))
    >>> _ = log.record("trigger", model_version=1, reasons=["input drift"], inputs={"share": 0.4})
    >>> log.entries()[["kind", "model_version", "reasons"]].values.tolist()
    [['trigger', 1, ['input drift']]]
    >>> log.close()
    """

    def __init__(self, path_or_database: Union[str, os.PathLike, Database]) -> None:
        if isinstance(path_or_database, Database):
            self._db = path_or_database
            self._owned = False
        else:
            self._db = open_database(path_or_database, kind="audit_log", migrations=[create_audit_table])
            self._owned = True

    def record(
        self,
        kind: str,
        *,
        model_version: Optional[int] = None,
        reasons: Optional[Sequence[str]] = None,
        inputs: Any = None,
        passed: Optional[bool] = None,
        metrics: Any = None,
        **extra: Any,
    ) -> int:
        """Append one entry; returns its sequence number.

        Parameters
        ----------
        kind : str
            What happened (``"trigger"``, ``"training"``, ``"promotion"`` ...).
        model_version : int, optional
        reasons : list of str, optional
            Why, in words.
        inputs : JSON-like, optional
            Summary of what the decision looked at.
        passed : bool, optional
            For gates.
        metrics : JSON-like, optional
        **extra
            Further JSON-like fields kept in ``details``.

        Examples
        --------
        >>> import tempfile, os
        >>> log = AuditLog(os.path.join(tempfile.mkdtemp(), "audit.db"))
        >>> log.record("training", model_version=2, inputs={"rows": 500})
        1
        >>> log.close()
        """
        row = self._row(kind, model_version=model_version, reasons=reasons, inputs=inputs, passed=passed,
                        metrics=metrics, **extra)
        return self._db.transaction(lambda connection: self._insert(connection, row))

    @staticmethod
    def _row(kind: str, *, model_version: Optional[int] = None, reasons: Optional[Sequence[str]] = None,
             inputs: Any = None, passed: Optional[bool] = None, metrics: Any = None, **extra: Any) -> tuple:
        """Validate one entry and turn it into the table's row."""
        if not isinstance(kind, str) or not kind.strip():
            raise ValueError(f"kind must be a non-empty str, got {kind!r}")
        if model_version is not None and (isinstance(model_version, bool)
                                          or not isinstance(model_version, (int, np.integer))):
            raise TypeError(f"model_version must be an int or None, got {type(model_version).__name__}")
        if reasons is None:
            reasons = []
        elif isinstance(reasons, str):
            reasons = [reasons]
        elif not isinstance(reasons, (list, tuple)):
            raise TypeError(f"reasons must be a list of str, got {type(reasons).__name__}")
        if passed is not None and not isinstance(passed, (bool, np.bool_)):
            raise TypeError(f"passed must be a bool or None, got {type(passed).__name__}")
        details = jsonable({"inputs": inputs, "metrics": metrics, **extra})
        details = {k: v for k, v in details.items() if v is not None}
        return (
            int(pd.Timestamp.now(tz="UTC").value),
            kind,
            None if model_version is None else int(model_version),
            None if passed is None else int(bool(passed)),
            json.dumps([str(r) for r in reasons]),
            json.dumps(details, allow_nan=False),
        )

    @staticmethod
    def _insert(connection: Any, row: tuple) -> int:
        """Insert a prepared row inside the caller's transaction (the registry's alias moves)."""
        cursor = connection.execute(
            "INSERT INTO audit (ts, kind, model_version, passed, reasons, details) VALUES (?, ?, ?, ?, ?, ?)", row
        )
        return int(cursor.lastrowid)

    def record_validation(self, result: Any, *, model_version: int) -> int:
        """Append a ``validation`` entry from a :class:`ValidationResult`.

        Examples
        --------
        >>> # loop.audit.record_validation(validate(champion, challenger, X, y), model_version=2)
        """
        if not hasattr(result, "passed") or not hasattr(result, "to_dict"):
            raise TypeError(f"result must be a ValidationResult, got {type(result).__name__}")
        data = result.to_dict()
        return self.record("validation", model_version=model_version, reasons=list(result.reasons),
                           passed=bool(result.passed), metrics=data.get("metrics"),
                           settings=data.get("settings"), rules=data.get("rules"))

    def entries(self, *, kind: Optional[str] = None, model_version: Optional[int] = None,
                since: Any = None) -> pd.DataFrame:
        """The log as a DataFrame, oldest first.

        Returns
        -------
        DataFrame
            ``timestamp`` (UTC), ``kind``, ``model_version`` (nullable Int64), ``passed``
            (True/False/None), ``reasons`` (list of str), ``details`` (dict).

        Examples
        --------
        >>> import tempfile, os
        >>> log = AuditLog(os.path.join(tempfile.mkdtemp(), "audit.db"))
        >>> list(log.entries().columns)
        ['timestamp', 'kind', 'model_version', 'passed', 'reasons', 'details']
        >>> log.close()
        """
        clauses, params = [], []
        if kind is not None:
            clauses.append("kind = ?")
            params.append(str(kind))
        if model_version is not None:
            clauses.append("model_version = ?")
            params.append(int(model_version))
        if since is not None:
            clauses.append("ts >= ?")
            params.append(int(pd.Timestamp(since).tz_localize("UTC").value if pd.Timestamp(since).tzinfo is None
                              else pd.Timestamp(since).value))
        where = " AND ".join(clauses) or "1"
        rows = self._db.query(
            f"SELECT ts, kind, model_version, passed, reasons, details FROM audit WHERE {where} ORDER BY seq", params
        )
        columns = list(zip(*rows)) if rows else [[] for _ in range(6)]
        return pd.DataFrame({
            "timestamp": pd.to_datetime(np.array(columns[0], dtype=np.int64), unit="ns", utc=True),
            "kind": np.array(columns[1], dtype=object),
            "model_version": pd.array([v for v in columns[2]], dtype="Int64"),
            "passed": np.array([None if p is None else bool(p) for p in columns[3]], dtype=object),
            "reasons": [json.loads(r) for r in columns[4]],
            "details": [json.loads(d) for d in columns[5]],
        }, columns=_COLUMNS)

    def export(self, path: Union[str, os.PathLike]) -> str:
        """Write the log to ``.jsonl`` (one JSON object per line), ``.csv`` or ``.parquet``.

        Examples
        --------
        >>> # loop.audit.export("audit.jsonl")
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        target = os.fspath(path)
        frame = self.entries()
        if not target.endswith((".jsonl", ".csv", ".parquet")):
            raise ValueError(f"path {target!r} must end with .jsonl, .csv or .parquet")

        def write(temporary: str) -> None:
            if target.endswith(".jsonl"):
                with open(temporary, "w", encoding="utf-8") as handle:
                    for record in frame.to_dict(orient="records"):
                        handle.write(json.dumps(jsonable(record)) + "\n")
                return
            flat = frame.assign(reasons=frame["reasons"].map(json.dumps), details=frame["details"].map(json.dumps),
                                passed=frame["passed"].map(lambda p: None if p is None else bool(p)).astype("boolean"))
            if target.endswith(".csv"):
                flat.to_csv(temporary, index=False)
            else:
                flat.to_parquet(temporary, index=False)

        write_atomic(target, write)
        return target

    def __len__(self) -> int:
        return int(self._db.query("SELECT count(*) FROM audit")[0][0])

    def close(self) -> None:
        """Close the log's own database (a shared one is closed by its owner)."""
        if self._owned:
            self._db.close()

    def __repr__(self) -> str:
        return f"AuditLog({self._db.path!r})"
