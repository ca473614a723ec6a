"""``ModelRegistry``: immutable model versions, aliases with history, rollback, candidates, audit.

Layout of a registry directory::

    index.db          SQLite index (WAL, synchronous=FULL): versions, aliases, alias history,
                      registered candidates and the audit log
    models/<uuid>.*   one file per version, never rewritten
    candidates/       challengers awaiting validation (see ``add_candidate``): a model file and
                      a small JSON metadata file each, removed when registered or discarded

Crash safety. A version's file is written under a temporary name, fsynced, renamed to its
final unique name and the directory fsynced; only then does the index row commit. A crash
before the commit leaves an unreferenced file that no query ever sees and that
:meth:`ModelRegistry.clean_orphans` removes later; never a row pointing to a missing file.
Each row keeps the file's SHA-256, so a damaged file is refused when loaded. Version rows
cannot be updated or deleted (SQLite triggers refuse it). Candidates follow the same rules
with their metadata file as the commit (:mod:`loopwise.loop._candidates`).

File formats (:mod:`loopwise.loop._model_formats`): ``loopwise-json`` for loopwise's own
models, ``skops`` for scikit-learn models, pipelines and the XGBoost/LightGBM wrappers, which
load in any process without ``trusted=True`` when all their types are on loopwise's allowlist
(:mod:`loopwise.loop._trusted_types`), and ``pickle`` as the fallback, which always needs
``trusted=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import uuid
from typing import Any, Optional, Union

import numpy as np
import pandas as pd

from .._atomic import write_bytes_atomic as write_atomic
from ._candidates import CandidateArea, check_candidate_id, remove_orphans
from ._model_formats import EXTENSIONS, class_path, deserialise, serialise
from ._registry_errors import RegistryLookupError, UntrustedModelError
from ._sqlite import Database, execute_script, open_database
from .audit import AuditLog, create_audit_table, jsonable

__all__ = ["ModelRegistry", "RegistryLookupError", "UntrustedModelError"]

_SCHEMA = """
CREATE TABLE versions (
    version INTEGER PRIMARY KEY,
    created INTEGER NOT NULL,
    format TEXT NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    class_path TEXT NOT NULL,
    metrics TEXT NOT NULL,
    tags TEXT NOT NULL,
    parent INTEGER,
    data_window TEXT
);
CREATE TRIGGER versions_no_update BEFORE UPDATE ON versions BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
CREATE TRIGGER versions_no_delete BEFORE DELETE ON versions BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
CREATE TABLE aliases (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL REFERENCES versions (version)
);
CREATE TABLE alias_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    previous INTEGER,
    action TEXT NOT NULL,
    reason TEXT NOT NULL
)
"""

# Which candidate became which version: the primary key makes registering a candidate
# idempotent (a retry after a crash, or two processes at once, yield one version).
_CANDIDATES_SCHEMA = """
CREATE TABLE registered_candidates (
    candidate TEXT PRIMARY KEY,
    version INTEGER NOT NULL REFERENCES versions (version)
)
"""

_MIGRATIONS = [lambda connection: execute_script(connection, _SCHEMA), create_audit_table,
               lambda connection: execute_script(connection, _CANDIDATES_SCHEMA)]
_HISTORY_COLUMNS = ["timestamp", "alias", "version", "previous", "reason", "action"]
_CANDIDATE_COLUMNS = ["candidate", "created", "format", "class", "metrics", "tags", "parent", "data_window"]
_ORPHAN_AGE = 600.0  # seconds: younger unreferenced files may belong to a register() in flight


def _after_file_written(path: str) -> None:
    """Hook between writing a version's file and committing its index row (tests crash here)."""


def _after_candidate_file_written(path: str) -> None:
    """Hook between writing a candidate's model file and its metadata (tests crash here)."""


def _json_documents(**values: Any) -> dict:
    """Validate the optional dict arguments and dump each to a JSON string."""
    documents = {}
    for name, value in values.items():
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict or None, got {type(value).__name__}")
        documents[name] = json.dumps(jsonable(value or {}), allow_nan=False)
    return documents


# ---------------------------------------------------------------------------- the registry
class ModelRegistry:
    """Immutable model versions in a directory, with aliases, rollback and an audit log.

    Parameters
    ----------
    path : str or os.PathLike
        Registry directory (created when missing).

    Attributes
    ----------
    audit : AuditLog
        The audit log, stored in the same index database.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> registry = ModelRegistry(tempfile.mkdtemp())
    >>> v1 = registry.register(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]), metrics={"rmse": 0.0})
    >>> registry.promote(v1, reason="first model")
    1
    >>> registry.champion(), registry.load("champion").predict([[2.0]]).round(6).tolist()
    (1, [2.0])
    >>> registry.close()
    """

    def __init__(self, path: Union[str, os.PathLike]) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        self.path = os.fspath(path)
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ValueError(f"path {self.path!r} is a file; a model registry needs a directory")
        self._models_dir = os.path.join(self.path, "models")
        os.makedirs(self._models_dir, exist_ok=True)
        self._candidates = CandidateArea(os.path.join(self.path, "candidates"))
        self._db: Database = open_database(os.path.join(self.path, "index.db"), kind="registry",
                                           migrations=_MIGRATIONS)
        self.audit = AuditLog(self._db)
        self.clean_orphans()

    # ------------------------------------------------------------------ versions
    def register(self, model: Any, *, metrics: Optional[dict] = None, data_window: Optional[dict] = None,
                 tags: Optional[dict] = None, parent: Optional[int] = None) -> int:
        """Store ``model`` as a new immutable version; returns its number (1, 2, ...).

        Parameters
        ----------
        model : object
            Anything with ``predict``; see the module notes for the file formats.
        metrics : dict, optional
            JSON-like metrics (e.g. ``{"accuracy": 0.91}``).
        data_window : dict, optional
            What it was trained on (rows, time span).
        tags : dict, optional
        parent : int, optional
            The version it was derived from (must exist).

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyClassifier
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> registry.register(DummyClassifier().fit([[0], [1]], [0, 1])), registry.register(DummyClassifier())
        (1, 2)
        >>> registry.close()
        """
        if model is None:
            raise TypeError("model must be an estimator, got None")
        documents = _json_documents(metrics=metrics, tags=tags, data_window=data_window)
        parent = self._check_parent(parent)
        file_format, payload = serialise(model)
        return self._store_version(file_format, payload, class_path(model), documents, parent)

    def _check_parent(self, parent: Any) -> Optional[int]:
        if parent is None:
            return None
        if isinstance(parent, bool) or not isinstance(parent, (int, np.integer)):
            raise TypeError(f"parent must be an int version or None, got {type(parent).__name__}")
        self._check_version(int(parent), "parent")
        return int(parent)

    def _store_version(self, file_format: str, payload: bytes, model_class: str, documents: dict,
                       parent: Optional[int], *, candidate: Optional[str] = None, reason: str = "") -> int:
        """Write the file durably, then commit the version row, its audit entry and candidate link."""
        name = f"{uuid.uuid4().hex}.{EXTENSIONS[file_format]}"
        target = os.path.join(self._models_dir, name)
        write_atomic(target, payload)
        _after_file_written(target)
        digest = hashlib.sha256(payload).hexdigest()

        def body(connection: Any) -> int:
            version = int(connection.execute("SELECT coalesce(max(version), 0) + 1 FROM versions").fetchone()[0])
            connection.execute(
                "INSERT INTO versions (version, created, format, file, sha256, class_path, metrics, tags, parent, "
                "data_window) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (version, int(pd.Timestamp.now(tz="UTC").value), file_format, f"models/{name}", digest, model_class,
                 documents["metrics"], documents["tags"], parent, documents["data_window"]),
            )
            inputs = {"format": file_format, "class": model_class,
                      "data_window": json.loads(documents["data_window"]), "parent": parent}
            if candidate is not None:
                connection.execute("INSERT INTO registered_candidates (candidate, version) VALUES (?, ?)",
                                   (candidate, version))
                inputs["candidate"] = candidate
            AuditLog._insert(connection, AuditLog._row(
                "register", model_version=version, inputs=inputs, metrics=json.loads(documents["metrics"]),
                reasons=[reason] if reason else []))
            return version

        return int(self._db.transaction(body))

    def _check_version(self, version: int, name: str = "version") -> None:
        if not self._db.query("SELECT 1 FROM versions WHERE version = ?", (int(version),)):
            known = [r[0] for r in self._db.query("SELECT version FROM versions ORDER BY version")]
            raise RegistryLookupError(f"{name} {version} is not in the registry {self.path!r} (versions: {known})")

    def resolve(self, version_or_alias: Union[int, str]) -> int:
        """The version number behind a version or an alias (``"champion"``, ``"latest"``, ...).

        Raises
        ------
        RegistryLookupError
            (a KeyError and a ValueError) for an unknown version or alias.

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> _ = registry.register(DummyRegressor())
        >>> registry.resolve("latest"), registry.resolve(1), registry.resolve("1")
        (1, 1, 1)
        >>> registry.close()
        """
        if isinstance(version_or_alias, bool):
            raise TypeError("version_or_alias must be an int version or an alias name, got a bool")
        if isinstance(version_or_alias, (int, np.integer)):
            self._check_version(int(version_or_alias))
            return int(version_or_alias)
        if not isinstance(version_or_alias, str):
            raise TypeError(f"version_or_alias must be an int or a str, got {type(version_or_alias).__name__}")
        if version_or_alias.strip().isdigit():
            return self.resolve(int(version_or_alias))
        if version_or_alias == "latest":
            latest = self._db.query("SELECT max(version) FROM versions")[0][0]
            if latest is None:
                raise RegistryLookupError(f"the registry {self.path!r} has no versions yet, so no 'latest'")
            return int(latest)
        rows = self._db.query("SELECT version FROM aliases WHERE name = ?", (version_or_alias,))
        if not rows:
            names = [r[0] for r in self._db.query("SELECT name FROM aliases ORDER BY name")]
            raise RegistryLookupError(
                f"alias {version_or_alias!r} is not set in the registry {self.path!r} (aliases: {names})"
            )
        return int(rows[0][0])

    def info(self, version_or_alias: Union[int, str]) -> dict:
        """Metadata of one version (format, metrics, tags, parent, data window, file).

        Examples
        --------
        >>> # registry.info("champion")["metrics"]
        """
        version = self.resolve(version_or_alias)
        row = self._db.query(
            "SELECT version, created, format, file, sha256, class_path, metrics, tags, parent, data_window "
            "FROM versions WHERE version = ?", (version,))[0]
        return {"version": row[0], "created": pd.Timestamp(row[1], unit="ns", tz="UTC"), "format": row[2],
                "file": row[3], "sha256": row[4], "class": row[5], "metrics": json.loads(row[6]),
                "tags": json.loads(row[7]), "parent": row[8], "data_window": json.loads(row[9] or "{}")}

    def load(self, version_or_alias: Union[int, str] = "champion", *, trusted: bool = False) -> Any:
        """Load a model version.

        Parameters
        ----------
        version_or_alias : int or str
        trusted : bool
            Allow pickle files and skops files holding types outside skops' defaults and
            loopwise's allowlist (scikit-learn models and pipelines, XGBoost/LightGBM
            wrappers load without it). Never pass True for a registry you did not write.

        Raises
        ------
        UntrustedModelError
            When loading needs ``trusted=True``.
        ValueError
            When the file is missing or its checksum does not match.

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> v = registry.register(DummyRegressor().fit([[0.0]], [3.0]))
        >>> registry.load(v).predict([[1.0]]).tolist()
        [3.0]
        >>> registry.close()
        """
        self._check_trusted(trusted)
        meta = self.info(version_or_alias)
        version = meta["version"]
        path = os.path.join(self.path, meta["file"])
        try:
            with open(path, "rb") as handle:
                payload = handle.read()
        except OSError as error:
            raise ValueError(f"the file of version {version} ({path!r}) cannot be read: {error}") from error
        if hashlib.sha256(payload).hexdigest() != meta["sha256"]:
            raise ValueError(f"the file of version {version} ({path!r}) is corrupted (checksum mismatch)")
        return deserialise(meta["format"], payload, trusted=bool(trusted), what=f"version {version}",
                           class_name=meta["class"])

    @staticmethod
    def _check_trusted(trusted: Any) -> None:
        if not isinstance(trusted, (bool, np.bool_)):
            raise TypeError(f"trusted must be a bool, got {type(trusted).__name__}")

    def versions(self) -> pd.DataFrame:
        """All versions, oldest first.

        Returns
        -------
        DataFrame
            ``version``, ``created``, ``format``, ``class``, ``metrics``, ``tags``, ``parent``,
            ``data_window``, ``aliases``.

        Examples
        --------
        >>> import tempfile
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> registry.versions()["version"].tolist()
        []
        >>> registry.close()
        """
        rows = self._db.query(
            "SELECT version, created, format, class_path, metrics, tags, parent, data_window FROM versions "
            "ORDER BY version")
        aliases: dict = {}
        for name, version in self._db.query("SELECT name, version FROM aliases ORDER BY name"):
            aliases.setdefault(version, []).append(name)
        columns = list(zip(*rows)) if rows else [[] for _ in range(8)]
        return pd.DataFrame({
            "version": np.array(columns[0], dtype=np.int64),
            "created": pd.to_datetime(np.array(columns[1], dtype=np.int64), unit="ns", utc=True),
            "format": np.array(columns[2], dtype=object),
            "class": np.array(columns[3], dtype=object),
            "metrics": [json.loads(m) for m in columns[4]],
            "tags": [json.loads(t) for t in columns[5]],
            "parent": pd.array(list(columns[6]), dtype="Int64"),
            "data_window": [json.loads(w or "{}") for w in columns[7]],
            "aliases": [aliases.get(v, []) for v in columns[0]],
        })

    # ------------------------------------------------------------------ candidates
    def add_candidate(self, model: Any, *, tags: Optional[dict] = None, metrics: Optional[dict] = None,
                      data_window: Optional[dict] = None, parent: Optional[int] = None) -> str:
        """Keep a challenger durably until validation decides: returns its candidate id.

        A candidate is not a version: it gets no number, no alias can point at it, and it is
        removed by :meth:`discard_candidate` (rejected), :meth:`register_candidate` (accepted:
        it becomes an immutable version) or :meth:`clean_candidates` (expired). So rejected
        challengers never pile up among the versions.

        Parameters
        ----------
        model : object
            Saved in the same formats as :meth:`register`.
        tags, metrics, data_window : dict, optional
            JSON-like metadata, carried over to the version when registered.
        parent : int, optional
            The version it was derived from (must exist).

        Returns
        -------
        str
            The candidate id (32 hex characters).

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> cid = registry.add_candidate(DummyRegressor().fit([[0.0]], [1.0]), metrics={"rmse": 0.1})
        >>> registry.candidates()["candidate"].tolist() == [cid], registry.versions().empty
        (True, True)
        >>> registry.close()
        """
        if model is None:
            raise TypeError("model must be an estimator, got None")
        documents = _json_documents(metrics=metrics, tags=tags, data_window=data_window)
        parent = self._check_parent(parent)
        file_format, payload = serialise(model)
        metadata = {"format": file_format, "class": class_path(model), "parent": parent,
                    **{name: json.loads(text) for name, text in documents.items()}}
        return self._candidates.add(payload, EXTENSIONS[file_format], metadata,
                                    after_file_written=lambda path: _after_candidate_file_written(path))

    def candidate_info(self, candidate_id: str) -> dict:
        """Metadata of one candidate (format, class, metrics, tags, parent, data window, created).

        Raises
        ------
        RegistryLookupError
            For an unknown (or already registered/discarded) candidate.

        Examples
        --------
        >>> # registry.candidate_info(cid)["metrics"]
        """
        meta = dict(self._candidates.metadata(check_candidate_id(candidate_id)))
        meta["created"] = pd.Timestamp(meta["created"], unit="ns", tz="UTC")
        return meta

    def load_candidate(self, candidate_id: str, *, trusted: bool = False) -> Any:
        """Load a candidate's model (same trust rules as :meth:`load`).

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> cid = registry.add_candidate(DummyRegressor().fit([[0.0]], [4.0]))
        >>> registry.load_candidate(cid).predict([[1.0]]).tolist()
        [4.0]
        >>> registry.close()
        """
        self._check_trusted(trusted)
        meta, payload = self._candidates.read(check_candidate_id(candidate_id))
        return deserialise(meta["format"], payload, trusted=bool(trusted), what=f"candidate {candidate_id}",
                           class_name=meta.get("class", ""))

    def candidates(self) -> pd.DataFrame:
        """The candidates awaiting a decision, oldest first.

        Returns
        -------
        DataFrame
            ``candidate``, ``created``, ``format``, ``class``, ``metrics``, ``tags``, ``parent``,
            ``data_window``.

        Examples
        --------
        >>> import tempfile
        >>> list(ModelRegistry(tempfile.mkdtemp()).candidates().columns)[:3]
        ['candidate', 'created', 'format']
        """
        registered = self._registered_candidates()
        rows = [m for m in self._candidates.all() if m.get("candidate") not in registered]
        return pd.DataFrame({
            "candidate": np.array([m["candidate"] for m in rows], dtype=object),
            "created": pd.to_datetime(np.array([m["created"] for m in rows], dtype=np.int64), unit="ns", utc=True),
            "format": np.array([m.get("format") for m in rows], dtype=object),
            "class": np.array([m.get("class") for m in rows], dtype=object),
            "metrics": [m.get("metrics", {}) for m in rows],
            "tags": [m.get("tags", {}) for m in rows],
            "parent": pd.array([m.get("parent") for m in rows], dtype="Int64"),
            "data_window": [m.get("data_window", {}) for m in rows],
        }, columns=_CANDIDATE_COLUMNS)

    def _registered_candidates(self, candidate_id: Optional[str] = None) -> dict:
        if candidate_id is None:
            rows = self._db.query("SELECT candidate, version FROM registered_candidates")
        else:
            rows = self._db.query("SELECT candidate, version FROM registered_candidates WHERE candidate = ?",
                                  (candidate_id,))
        return {candidate: int(version) for candidate, version in rows}

    def discard_candidate(self, candidate_id: str, reason: str) -> None:
        """Remove a rejected candidate, recording why in the audit log (kind ``discard_candidate``).

        Parameters
        ----------
        candidate_id : str
        reason : str
            Why it was rejected (e.g. the failed gate's reasons).

        Raises
        ------
        RegistryLookupError
            For an unknown (or already removed) candidate.
        ValueError
            When the candidate was already registered as a version (versions are immutable).

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> cid = registry.add_candidate(DummyRegressor())
        >>> registry.discard_candidate(cid, "worse log loss than the champion")
        >>> registry.candidates().empty, registry.audit.entries()["kind"].tolist()
        (True, ['discard_candidate'])
        >>> registry.close()
        """
        check_candidate_id(candidate_id)
        self._check_reason(reason)
        registered = self._registered_candidates(candidate_id)
        if registered:
            self._candidates.remove(candidate_id)  # a leftover of a register_candidate cut short
            raise ValueError(f"candidate {candidate_id!r} was registered as version {registered[candidate_id]}; "
                             "versions are immutable and cannot be discarded")
        meta = self._candidates.metadata(candidate_id)
        self._record_discard(meta, reason)
        self._candidates.remove(candidate_id)

    def _record_discard(self, meta: dict, reason: str) -> None:
        # The decision is logged before the files go: a crash in between leaves a candidate
        # whose discard is on record, and discarding it again is harmless.
        self.audit.record("discard_candidate", reasons=[reason] if reason else [], metrics=meta.get("metrics"),
                          inputs={"candidate": meta.get("candidate"), "format": meta.get("format"),
                                  "class": meta.get("class"), "parent": meta.get("parent"),
                                  "data_window": meta.get("data_window")})

    def register_candidate(self, candidate_id: str, *, metrics: Optional[dict] = None, tags: Optional[dict] = None,
                           reason: str = "") -> int:
        """Turn a candidate into an immutable version; returns the version number.

        The model file is copied byte for byte (no re-serialisation). ``metrics`` and ``tags``
        are merged over the candidate's (e.g. add the validation's numbers). Registering the
        same candidate again, after a crash or from another process, returns the same version.

        Parameters
        ----------
        candidate_id : str
        metrics, tags : dict, optional
            Merged over the candidate's own.
        reason : str
            Kept in the ``register`` audit entry.

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> cid = registry.add_candidate(DummyRegressor().fit([[0.0]], [2.0]), metrics={"rmse": 0.3})
        >>> version = registry.register_candidate(cid, metrics={"gate": "passed"}, reason="validated")
        >>> registry.promote(version), registry.info(version)["metrics"], registry.candidates().empty
        (1, {'rmse': 0.3, 'gate': 'passed'}, True)
        >>> registry.close()
        """
        check_candidate_id(candidate_id)
        self._check_reason(reason)
        documents = _json_documents(metrics=metrics, tags=tags)  # validates the types
        done = self._registered_candidates(candidate_id)
        if done:
            self._candidates.remove(candidate_id)
            return done[candidate_id]
        meta, payload = self._candidates.read(candidate_id)
        merged = {"metrics": {**meta.get("metrics", {}), **json.loads(documents["metrics"])},
                  "tags": {**meta.get("tags", {}), **json.loads(documents["tags"])},
                  "data_window": meta.get("data_window", {})}
        parent = meta.get("parent")
        if parent is not None:
            self._check_version(int(parent), "parent")
        try:
            version = self._store_version(meta["format"], payload, meta["class"],
                                          _json_documents(**merged), parent, candidate=candidate_id, reason=reason)
        except sqlite3.IntegrityError:  # another process registered it first
            self.clean_orphans(min_age=0.0, candidates=False)
            version = self._registered_candidates(candidate_id)[candidate_id]
        self._candidates.remove(candidate_id)
        return version

    def candidate_version(self, candidate_id: str) -> Optional[int]:
        """The version a candidate was registered as, or None (not registered, or unknown).

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> cid = registry.add_candidate(DummyRegressor().fit([[0.0]], [2.0]))
        >>> registry.candidate_version(cid), registry.candidate_version(cid) is None
        (None, True)
        >>> registry.candidate_version(registry.register_candidate(cid) and cid)
        1
        >>> registry.close()
        """
        return self._registered_candidates(check_candidate_id(candidate_id)).get(candidate_id)

    def clean_candidates(self, max_age_seconds: float) -> list[str]:
        """Discard candidates older than ``max_age_seconds`` (audited) and crash leftovers.

        Returns
        -------
        list of str
            The ids of the discarded candidates.

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> cid = registry.add_candidate(DummyRegressor())
        >>> registry.clean_candidates(3600.0), registry.clean_candidates(0) == [cid]
        ([], True)
        >>> registry.close()
        """
        if (isinstance(max_age_seconds, bool) or not isinstance(max_age_seconds, (int, float, np.integer, np.floating))
                or not max_age_seconds >= 0):
            raise ValueError(f"max_age_seconds must be a number of seconds >= 0, got {max_age_seconds!r}")
        registered = self._registered_candidates()
        now = time.time_ns()
        discarded = []
        for meta in self._candidates.all():
            candidate_id = meta["candidate"]
            if candidate_id in registered:
                self._candidates.remove(candidate_id)
            elif now - int(meta.get("created", 0)) >= float(max_age_seconds) * 1e9:
                self._record_discard(meta, f"expired: older than {max_age_seconds} s")
                if self._candidates.remove(candidate_id):
                    discarded.append(candidate_id)
        self._candidates.clean_orphans(_ORPHAN_AGE)
        return discarded

    # ------------------------------------------------------------------ aliases
    def _move(self, alias: str, version: Optional[int], *, action: str, reason: str, audit_kind: str) -> int:
        """Move ``alias`` in one transaction with its history row and audit entry."""

        def body(connection: Any) -> int:
            row = connection.execute("SELECT version FROM aliases WHERE name = ?", (alias,)).fetchone()
            previous = None if row is None else int(row[0])
            target = version
            if action == "rollback":
                stack = self._rollback_stack(connection, alias)
                if not stack:
                    raise ValueError(
                        f"nothing to roll back to: alias {alias!r} has no earlier version in its history"
                    )
                target = stack[-1]
            assert target is not None
            connection.execute("INSERT OR REPLACE INTO aliases (name, version) VALUES (?, ?)", (alias, int(target)))
            connection.execute(
                "INSERT INTO alias_history (ts, alias, version, previous, action, reason) VALUES (?, ?, ?, ?, ?, ?)",
                (int(pd.Timestamp.now(tz="UTC").value), alias, int(target), previous, action, reason))
            AuditLog._insert(connection, AuditLog._row(
                audit_kind, model_version=int(target), reasons=[reason] if reason else [],
                inputs={"alias": alias, "previous": previous}))
            return int(target)

        return int(self._db.transaction(body))

    @staticmethod
    def _rollback_stack(connection: Any, alias: str) -> list[int]:
        """Earlier versions of ``alias``, most recent last, replayed from its history.

        Each move pushes the version it replaced; each rollback pops one, so repeated
        rollbacks walk further back instead of toggling between two versions.
        """
        stack: list[int] = []
        for version, previous, action in connection.execute(
                "SELECT version, previous, action FROM alias_history WHERE alias = ? ORDER BY seq", (alias,)):
            if action == "rollback":
                if stack:
                    stack.pop()
            elif previous is not None and previous != version:
                stack.append(int(previous))
        return stack

    @staticmethod
    def _check_reason(reason: Any) -> str:
        if not isinstance(reason, str):
            raise TypeError(f"reason must be a str, got {type(reason).__name__}")
        return reason

    def alias(self, name: str, version: Union[int, str], *, reason: str = "") -> int:
        """Point alias ``name`` at ``version`` (recorded in the history and the audit log).

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> v = registry.register(DummyRegressor())
        >>> registry.alias("staging", v, reason="canary")
        1
        >>> registry.resolve("staging")
        1
        >>> registry.close()
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        if name.strip().isdigit() or name == "latest":
            raise ValueError(f"name {name!r} is reserved (numbers are versions, 'latest' is the newest version)")
        target = self.resolve(version)
        return self._move(name, target, action="promote" if name == "champion" else "alias",
                          reason=self._check_reason(reason), audit_kind="promotion" if name == "champion" else "alias")

    def promote(self, version: Union[int, str], *, reason: str = "") -> int:
        """Make ``version`` the champion; the previous champion becomes the rollback point.

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> a, b = registry.register(DummyRegressor()), registry.register(DummyRegressor())
        >>> registry.promote(a), registry.promote(b, reason="better"), registry.rollback()
        (1, 2, 1)
        >>> registry.close()
        """
        return self.alias("champion", version, reason=reason)

    def rollback(self, *, reason: str = "", alias: str = "champion") -> int:
        """Restore the version ``alias`` pointed to before its last move; returns it.

        Raises
        ------
        ValueError
            When there is nothing to roll back to.

        Examples
        --------
        >>> # registry.rollback(reason="error rate doubled") -> previous champion's version
        """
        self._check_reason(reason)
        if not isinstance(alias, str) or not alias:
            raise ValueError(f"alias must be a non-empty str, got {alias!r}")
        return self._move(alias, None, action="rollback", reason=reason, audit_kind="rollback")

    def champion(self) -> Optional[int]:
        """The champion's version, or None before the first promotion.

        Examples
        --------
        >>> import tempfile
        >>> ModelRegistry(tempfile.mkdtemp()).champion() is None
        True
        """
        rows = self._db.query("SELECT version FROM aliases WHERE name = 'champion'")
        return int(rows[0][0]) if rows else None

    def aliases(self) -> dict:
        """Current aliases: name -> version.

        Examples
        --------
        >>> # registry.aliases() -> {'champion': 3, 'staging': 4}
        """
        return {name: int(version) for name, version in self._db.query("SELECT name, version FROM aliases")}

    def history(self, alias: Optional[str] = "champion") -> pd.DataFrame:
        """Moves of ``alias`` (all aliases when None), oldest first.

        Returns
        -------
        DataFrame
            ``timestamp``, ``alias``, ``version``, ``previous``, ``reason``, ``action``
            (``promote``, ``alias`` or ``rollback``).

        Examples
        --------
        >>> import tempfile
        >>> list(ModelRegistry(tempfile.mkdtemp()).history().columns)
        ['timestamp', 'alias', 'version', 'previous', 'reason', 'action']
        """
        if alias is not None and not isinstance(alias, str):
            raise TypeError(f"alias must be a str or None, got {type(alias).__name__}")
        where, params = ("WHERE alias = ?", (alias,)) if alias is not None else ("", ())
        rows = self._db.query(
            f"SELECT ts, alias, version, previous, reason, action FROM alias_history {where} ORDER BY seq", params)
        columns = list(zip(*rows)) if rows else [[] for _ in range(6)]
        return pd.DataFrame({
            "timestamp": pd.to_datetime(np.array(columns[0], dtype=np.int64), unit="ns", utc=True),
            "alias": np.array(columns[1], dtype=object),
            "version": np.array(columns[2], dtype=np.int64),
            "previous": pd.array(list(columns[3]), dtype="Int64"),
            "reason": np.array(columns[4], dtype=object),
            "action": np.array(columns[5], dtype=object),
        }, columns=_HISTORY_COLUMNS)

    def card(self, version_or_alias: Union[int, str] = "champion") -> Any:
        """The model card of a version (:class:`loopwise.loop.cards.ModelCard`): HTML and JSON.

        The loop writes each card when it registers the version (``cards/v<n>.json`` and
        ``.html``); the promotions recorded since are added here. A version registered
        without the loop gets a card from its metadata alone.

        Examples
        --------
        >>> import tempfile
        >>> from sklearn.dummy import DummyRegressor
        >>> registry = ModelRegistry(tempfile.mkdtemp())
        >>> registry.promote(registry.register(DummyRegressor()), reason="first")
        1
        >>> registry.card("champion").to_dict()["lineage"]["promotions"][0]["reason"]
        'first'
        >>> registry.close()
        """
        from .cards import load_card

        return load_card(self, self.resolve(version_or_alias))

    # ------------------------------------------------------------------ housekeeping
    def clean_orphans(self, *, min_age: float = _ORPHAN_AGE, candidates: bool = True) -> list[str]:
        """Delete model files no version (or candidate) refers to, left by a crash before the commit.

        Files younger than ``min_age`` seconds are kept: they may belong to a ``register`` or
        ``add_candidate`` that another process is finishing right now.

        Returns
        -------
        list of str
            The removed file names (``candidates/<name>`` for the candidates area).

        Examples
        --------
        >>> import tempfile
        >>> ModelRegistry(tempfile.mkdtemp()).clean_orphans()
        []
        """
        if not isinstance(min_age, (int, float)) or isinstance(min_age, bool) or min_age < 0:
            raise ValueError(f"min_age must be a number of seconds >= 0, got {min_age!r}")
        referenced = {os.path.basename(r[0]) for r in self._db.query("SELECT file FROM versions")}
        removed = remove_orphans(self._models_dir, referenced, min_age)
        if candidates:
            removed += [f"candidates/{name}" for name in self._candidates.clean_orphans(min_age)]
        return removed

    def close(self) -> None:
        """Close the index database (the audit log shares it)."""
        self._db.close()

    def __enter__(self) -> "ModelRegistry":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ModelRegistry({self.path!r})"
