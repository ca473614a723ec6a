"""``ModelRegistry``: immutable model versions, aliases with history, rollback, audit.

Layout of a registry directory::

    index.db          SQLite index (WAL, synchronous=FULL): versions, aliases, alias history,
                      and the audit log
    models/<uuid>.*   one file per version, never rewritten

Crash safety. A version's file is written under a temporary name, fsynced, renamed to its
final unique name and the directory fsynced; only then does the index row commit. A crash
before the commit leaves an unreferenced file that no query ever sees and that
:meth:`ModelRegistry.clean_orphans` removes later; never a row pointing to a missing file.
Each row keeps the file's SHA-256, so a damaged file is refused when loaded. Version rows
cannot be updated or deleted (SQLite triggers refuse it).

File formats, chosen per model:

``loopwise-json``
    Objects of loopwise itself (``TreeEnsemble``, the online learners) that expose
    ``to_dict()`` and ``from_dict()``: JSON with the class path; numpy arrays inside are kept
    bit-exact as base64 with their dtype and shape. Only classes under ``loopwise.`` are
    imported on load.
``skops``
    Other estimators (scikit-learn, ...) when ``skops`` is installed and can save them.
    Loading types outside skops' trusted defaults requires ``trusted=True``.
``pickle``
    The fallback. Unpickling runs arbitrary code, so loading requires ``trusted=True``.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import pickle
import time
import uuid
from typing import Any, Optional, Union

import numpy as np
import pandas as pd

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

_MIGRATIONS = [lambda connection: execute_script(connection, _SCHEMA), create_audit_table]
_HISTORY_COLUMNS = ["timestamp", "alias", "version", "previous", "reason", "action"]
_EXTENSIONS = {"loopwise-json": "json", "skops": "skops", "pickle": "pkl"}
_ORPHAN_AGE = 600.0  # seconds: younger unreferenced files may belong to a register() in flight


class RegistryLookupError(KeyError, ValueError):
    """An unknown version or alias (a KeyError and a ValueError, with a readable message)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UntrustedModelError(ValueError):
    """Loading this model file would run code the caller has not declared trusted."""


# ---------------------------------------------------------------------------- serialisation
def _encode_arrays(value: Any) -> Any:
    """``to_dict`` output -> JSON: arrays become base64 + dtype + shape (bit-exact)."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"__list__": [_encode_arrays(v) for v in value.tolist()]}
        array = np.ascontiguousarray(value)
        return {"__ndarray__": base64.b64encode(array.tobytes()).decode("ascii"), "dtype": array.dtype.str,
                "shape": list(array.shape)}
    if isinstance(value, dict):
        return {str(k): _encode_arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode_arrays(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode_arrays(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value and set(value) == {"__ndarray__", "dtype", "shape"}:
            raw = base64.b64decode(value["__ndarray__"])
            return np.frombuffer(raw, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
        if set(value) == {"__list__"}:
            return np.array([_decode_arrays(v) for v in value["__list__"]], dtype=object)
        return {k: _decode_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_arrays(v) for v in value]
    return value


def _class_path(model: Any) -> str:
    return f"{type(model).__module__}:{type(model).__qualname__}"


def _is_loopwise_serialisable(model: Any) -> bool:
    module = type(model).__module__ or ""
    return (module.startswith("loopwise.") and callable(getattr(model, "to_dict", None))
            and callable(getattr(type(model), "from_dict", None)))


def _serialise(model: Any) -> tuple[str, bytes]:
    """Pick the safest format that can hold ``model``; returns (format, file bytes)."""
    if _is_loopwise_serialisable(model):
        document = {"class": _class_path(model), "data": _encode_arrays(model.to_dict())}
        return "loopwise-json", json.dumps(document, allow_nan=True, separators=(",", ":")).encode("utf-8")
    try:
        import skops.io as sio
    except ImportError:  # skops is optional
        sio = None
    if sio is not None:
        try:
            return "skops", sio.dumps(model)
        except Exception:  # noqa: BLE001 - skops cannot hold every object; pickle can
            pass
    try:
        return "pickle", pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # noqa: BLE001
        raise TypeError(f"model of type {type(model).__name__} cannot be saved: {error}") from error


def _import_class(path: str) -> type:
    module_name, _, qualname = path.partition(":")
    if not (module_name == "loopwise" or module_name.startswith("loopwise.")):
        raise ValueError(f"refusing to import {module_name!r} from a loopwise-json model file (only loopwise.*)")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _fsync_directory(path: str) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; the rename is still atomic
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _write_atomic(path: str, data: bytes) -> None:
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_directory(os.path.dirname(path))


def _after_file_written(path: str) -> None:
    """Hook between writing a version's file and committing its index row (tests crash here)."""


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
        documents = {}
        for name, value in (("metrics", metrics), ("tags", tags), ("data_window", data_window)):
            if value is not None and not isinstance(value, dict):
                raise TypeError(f"{name} must be a dict or None, got {type(value).__name__}")
            documents[name] = json.dumps(jsonable(value or {}), allow_nan=False)
        if parent is not None:
            if isinstance(parent, bool) or not isinstance(parent, (int, np.integer)):
                raise TypeError(f"parent must be an int version or None, got {type(parent).__name__}")
            self._check_version(int(parent), "parent")
        file_format, payload = _serialise(model)
        name = f"{uuid.uuid4().hex}.{_EXTENSIONS[file_format]}"
        target = os.path.join(self._models_dir, name)
        _write_atomic(target, payload)
        _after_file_written(target)
        digest = hashlib.sha256(payload).hexdigest()
        class_path = _class_path(model)

        def body(connection: Any) -> int:
            version = int(connection.execute("SELECT coalesce(max(version), 0) + 1 FROM versions").fetchone()[0])
            connection.execute(
                "INSERT INTO versions (version, created, format, file, sha256, class_path, metrics, tags, parent, "
                "data_window) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (version, int(pd.Timestamp.now(tz="UTC").value), file_format, f"models/{name}", digest, class_path,
                 documents["metrics"], documents["tags"], None if parent is None else int(parent),
                 documents["data_window"]),
            )
            AuditLog._insert(connection, AuditLog._row(
                "register", model_version=version, inputs={"format": file_format, "class": class_path,
                                                            "data_window": json.loads(documents["data_window"]),
                                                            "parent": parent},
                metrics=json.loads(documents["metrics"])))
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
            Allow pickle files and skops files with types outside skops' safe defaults.
            Never pass True for a registry you did not write.

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
        if not isinstance(trusted, (bool, np.bool_)):
            raise TypeError(f"trusted must be a bool, got {type(trusted).__name__}")
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
        if meta["format"] == "loopwise-json":
            document = json.loads(payload.decode("utf-8"))
            cls = _import_class(document["class"])
            return cls.from_dict(_decode_arrays(document["data"]))
        if meta["format"] == "skops":
            import skops.io as sio

            untrusted = sio.get_untrusted_types(data=payload)
            if untrusted and not trusted:
                raise UntrustedModelError(
                    f"version {version} contains types skops does not trust by default: {untrusted}; "
                    "pass trusted=True only if you trust this registry"
                )
            return sio.loads(payload, trusted=untrusted or None)
        if meta["format"] == "pickle":
            if not trusted:
                raise UntrustedModelError(
                    f"version {version} ({meta['class']}) is stored as a pickle, and unpickling runs arbitrary "
                    "code: pass trusted=True only if you trust this registry"
                )
            return pickle.loads(payload)
        raise ValueError(f"version {version} has unknown file format {meta['format']!r}")

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

    # ------------------------------------------------------------------ housekeeping
    def clean_orphans(self, *, min_age: float = _ORPHAN_AGE) -> list[str]:
        """Delete model files no version refers to (left by a crash before the index commit).

        Files younger than ``min_age`` seconds are kept: they may belong to a ``register`` that
        another process is finishing right now.

        Returns
        -------
        list of str
            The removed file names.

        Examples
        --------
        >>> import tempfile
        >>> ModelRegistry(tempfile.mkdtemp()).clean_orphans()
        []
        """
        if not isinstance(min_age, (int, float)) or isinstance(min_age, bool) or min_age < 0:
            raise ValueError(f"min_age must be a number of seconds >= 0, got {min_age!r}")
        referenced = {os.path.basename(r[0]) for r in self._db.query("SELECT file FROM versions")}
        removed = []
        now = time.time()
        for name in sorted(os.listdir(self._models_dir)):
            full = os.path.join(self._models_dir, name)
            if name in referenced or not os.path.isfile(full):
                continue
            try:
                if now - os.path.getmtime(full) < min_age:
                    continue
                os.remove(full)
                removed.append(name)
            except OSError:  # another process removed it first
                continue
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
