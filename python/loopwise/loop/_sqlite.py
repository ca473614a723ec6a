"""SQLite plumbing shared by the feedback store, the registry index and the audit log.

Every database loopwise writes is opened the same way:

- WAL journal with ``synchronous=FULL``: a commit returns only after the write-ahead log is
  fsynced, so an acknowledged write survives a crash or a kill; readers never block writers.
- Writes run in ``BEGIN IMMEDIATE`` transactions (the write lock is taken up front, so two
  writers never deadlock upgrading a read lock) and are retried with exponential backoff plus
  jitter when another process holds the lock longer than SQLite's own busy timeout.
- A ``schema_version`` table and an ordered list of migrations: opening an older database
  upgrades it in one transaction; opening a newer one fails with a clear message.
- A ``meta`` key/value table whose ``kind`` row says what the file is, so a registry index
  opened as a feedback store (or a random file) is refused instead of being written into.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, Sequence, Union

__all__ = ["Database", "open_database", "execute_script"]

# SQLite's own busy handler waits this long per statement before raising "database is locked";
# our retry loop then backs off and tries the whole transaction again.
_BUSY_TIMEOUT_MS = 5_000
_MAX_ATTEMPTS = 12
_BASE_DELAY = 0.02
_MAX_DELAY = 2.0

Migration = Union[str, Callable[[sqlite3.Connection], None]]


def execute_script(connection: sqlite3.Connection, sql: str) -> None:
    """Run ``;``-separated statements inside the current transaction.

    ``Connection.executescript`` would commit first, breaking the all-or-nothing migration.
    Statements end at a line ending with ``;`` (or a trigger's closing ``END``), so the
    semicolons inside a trigger body do not split it.
    """
    current: list[str] = []
    for line in sql.strip().splitlines():
        current.append(line)
        stripped = line.rstrip()
        if stripped.endswith(";") or stripped.upper().endswith("END"):
            statement = "\n".join(current).strip().rstrip(";")
            if statement:
                connection.execute(statement)
            current = []
    rest = "\n".join(current).strip()
    if rest:
        connection.execute(rest)


def _is_busy(error: BaseException) -> bool:
    message = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in message or "busy" in message)


class Database:
    """One connection to a loopwise SQLite file, with retrying write transactions.

    Parameters
    ----------
    path : str
        Database file.
    kind : str
        What this file holds (``"feedback_store"``, ``"registry"``); checked on open.
    migrations : sequence of str or callables
        Migration ``i`` moves the schema from version ``i`` to ``i + 1``. A string is run as an
        SQL script; a callable receives the connection.

    Examples
    --------
    >>> import tempfile, os
    >>> db = Database(os.path.join(tempfile.mkdtemp(), "x.db"), kind="demo",
    ...               migrations=["CREATE TABLE t (a INTEGER)"])
    >>> with db.write() as connection:
    ...     _ = connection.execute("INSERT INTO t VALUES (1)")
    >>> db.query("SELECT count(*) FROM t")[0][0]
    1
    >>> db.close()
    """

    def __init__(self, path: str, *, kind: str, migrations: Sequence[Migration]) -> None:
        self.path = path
        self.kind = kind
        self._lock = threading.RLock()
        self._connection: Optional[sqlite3.Connection] = None
        if os.path.isdir(path):
            raise ValueError(f"path {path!r} is a directory; expected a database file")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise ValueError(f"path {path!r}: the directory {parent!r} does not exist")
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves so a batch is one transaction.
            connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                         check_same_thread=False)
        except sqlite3.Error as error:
            raise ValueError(f"path {path!r} cannot be opened as a database: {error}") from error
        self._connection = connection
        try:
            self._retry(lambda: self._configure(connection))
            self._retry(lambda: self._migrate(list(migrations)))
        except sqlite3.DatabaseError as error:
            self.close()
            raise ValueError(f"path {path!r} is not a loopwise {kind} database or is corrupted: {error}") from error
        except Exception:
            self.close()
            raise

    # ------------------------------------------------------------------ setup
    @staticmethod
    def _configure(connection: sqlite3.Connection) -> None:
        connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"could not switch the journal to WAL (got {mode!r})")
        connection.execute("PRAGMA synchronous = FULL")
        # A 64 MiB page cache keeps the id index of a large batch in memory while inserting;
        # batch-scoped temporary tables live in memory.
        connection.execute("PRAGMA cache_size = -65536")
        connection.execute("PRAGMA temp_store = MEMORY")
        connection.execute("PRAGMA foreign_keys = ON")

    def _migrate(self, migrations: list) -> None:
        with self.write() as connection:
            connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            connection.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = connection.execute("SELECT version FROM schema_version").fetchone()
            kind_row = connection.execute("SELECT value FROM meta WHERE key = 'kind'").fetchone()
            if kind_row is None:
                has_tables = connection.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT IN ('schema_version', 'meta')"
                ).fetchone()[0]
                if has_tables:
                    raise ValueError(f"path {self.path!r} is an SQLite database but not a loopwise {self.kind}")
                connection.execute("INSERT INTO meta (key, value) VALUES ('kind', ?)", (json.dumps(self.kind),))
            elif json.loads(kind_row[0]) != self.kind:
                raise ValueError(
                    f"path {self.path!r} holds a loopwise {json.loads(kind_row[0])}, not a {self.kind}"
                )
            current = 0 if row is None else int(row[0])
            if row is None:
                connection.execute("INSERT INTO schema_version (version) VALUES (0)")
            if current > len(migrations):
                raise ValueError(
                    f"path {self.path!r} has schema version {current}; this loopwise knows up to "
                    f"{len(migrations)}: upgrade loopwise to open it"
                )
            for version in range(current, len(migrations)):
                step = migrations[version]
                try:
                    if callable(step):
                        step(connection)
                    else:
                        execute_script(connection, step)
                except sqlite3.OperationalError as error:
                    if _is_busy(error):
                        raise  # retried whole by the caller
                    # All steps run in one transaction: the rollback leaves the file as it was.
                    raise ValueError(
                        f"path {self.path!r}: migration to schema version {version + 1} failed ({error}); "
                        f"the database was left at version {current}"
                    ) from error
                connection.execute("UPDATE schema_version SET version = ?", (version + 1,))

    # ------------------------------------------------------------------ use
    @property
    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError(f"the {self.kind} database {self.path!r} is closed")
        return self._connection

    def _retry(self, work: Callable[[], Any]) -> Any:
        delay = _BASE_DELAY
        for attempt in range(_MAX_ATTEMPTS):
            try:
                return work()
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or attempt == _MAX_ATTEMPTS - 1:
                    raise
                # Jitter keeps several waiting writers from retrying in lockstep.
                time.sleep(delay * (0.5 + random.random()))
                delay = min(_MAX_DELAY, delay * 2)
        raise AssertionError("unreachable")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), rolled back on error.

        The lock is taken with retries; once the body runs it is not re-run, so callers that
        want the whole body retried use :meth:`transaction`.
        """
        with self._lock:
            connection = self.connection
            self._retry(lambda: connection.execute("BEGIN IMMEDIATE"))
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            else:
                # COMMIT can meet a busy reader checkpointing; retrying it is safe.
                self._retry(lambda: connection.execute("COMMIT"))

    def transaction(self, body: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``body(connection)`` in one write transaction, retrying it whole when busy."""

        def attempt() -> Any:
            with self.write() as connection:
                return body(connection)

        return self._retry(attempt)

    def read(self, body: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``body(connection)`` in one read transaction (one consistent snapshot of the file).

        Several queries inside ``body`` see the same committed state even while other
        processes write; the whole body is retried when the database is busy.
        """
        with self._lock:
            connection = self.connection

            def attempt() -> Any:
                connection.execute("BEGIN")
                try:
                    return body(connection)
                finally:
                    connection.execute("COMMIT")

            return self._retry(attempt)

    def set_synchronous(self, level: str) -> None:
        """``"FULL"`` (every commit fsyncs the WAL) or ``"NORMAL"`` (commits survive a process
        crash; the WAL is fsynced at checkpoints, so an OS crash or power loss can lose the
        newest commits)."""
        if level not in ("FULL", "NORMAL"):
            raise ValueError(f"level must be 'FULL' or 'NORMAL', got {level!r}")
        with self._lock:
            self.connection.execute(f"PRAGMA synchronous = {level}")

    def checkpoint(self) -> None:
        """Copy the WAL into the database file and fsync it (makes NORMAL-mode commits durable)."""
        with self._lock:
            connection = self.connection
            self._retry(lambda: connection.execute("PRAGMA wal_checkpoint(FULL)").fetchall())

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list:
        """Rows of a read query (retried when the database is busy)."""
        with self._lock:
            connection = self.connection
            return self._retry(lambda: connection.execute(sql, parameters).fetchall())

    def get_meta(self, key: str, default: Any = None) -> Any:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    @staticmethod
    def set_meta(connection: sqlite3.Connection, key: str, value: Any) -> None:
        connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @property
    def closed(self) -> bool:
        return self._connection is None


def open_database(path: Any, *, kind: str, migrations: Sequence[Migration]) -> Database:
    """Open (creating when missing) a loopwise SQLite database; ``path`` must be str or PathLike.

    Examples
    --------
    >>> import tempfile, os
    >>> db = open_database(os.path.join(tempfile.mkdtemp(), "y.db"), kind="demo", migrations=[])
    >>> db.get_meta("kind")
    'demo'
    >>> db.close()
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return Database(os.fspath(path), kind=kind, migrations=migrations)
