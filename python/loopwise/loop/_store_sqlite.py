"""The feedback store's SQLite backend: one file, WAL, ``synchronous=FULL`` (the default).

Every write runs in one ``BEGIN IMMEDIATE`` transaction (see :mod:`loopwise.loop._sqlite`), so
writers are serialised by SQLite's lock and a body never races another process. Rows are
returned in the shapes the store decodes (see :mod:`loopwise.loop._store_backend`).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional

from ._sqlite import Database, open_database

__all__ = ["SQLiteBackend", "MIGRATIONS"]

MIGRATIONS = [
    """
    CREATE TABLE predictions (
        rid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        ts INTEGER NOT NULL,
        model_version INTEGER NOT NULL,
        prediction,
        proba BLOB,
        acted_on INTEGER,
        features BLOB NOT NULL
    );
    CREATE INDEX predictions_ts ON predictions (ts);
    CREATE TABLE labels (
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        rank INTEGER NOT NULL,
        label,
        confidence REAL,
        ts INTEGER NOT NULL,
        pts INTEGER NOT NULL,
        PRIMARY KEY (id, source)
    );
    CREATE TABLE codes (
        feature TEXT NOT NULL,
        code INTEGER NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (feature, code),
        UNIQUE (feature, value)
    )
    """,
    # Version 2: what a step needs without reading the history. Labels by arrival time (the
    # error-stream cursor) and by prediction time (the newest labelled rows), predictions by
    # model version (a new champion's served rows), and running counts kept by every write.
    """
    CREATE INDEX labels_arrival ON labels (ts, id);
    CREATE INDEX labels_pts ON labels (pts);
    CREATE INDEX predictions_version ON predictions (model_version);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters (name, value) SELECT 'predictions', count(*) FROM predictions;
    INSERT INTO counters (name, value) SELECT 'labeled', count(DISTINCT id) FROM labels;
    INSERT INTO counters (name, value) SELECT 'source:' || source, count(*) FROM labels GROUP BY source;
    """,
]

_ADD_COUNT = ("INSERT INTO counters (name, value) VALUES (?, ?) "
              "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value")
_PREDICTION_COLUMNS = "id, ts, model_version, prediction, proba, acted_on, features"
#: ``durability=`` of the store -> SQLite's ``synchronous`` setting.
_SYNCHRONOUS = {"full": "FULL", "process": "NORMAL"}


def _where(column: str, lower: Optional[int], upper: Optional[int]) -> tuple[str, list]:
    clauses, params = [], []
    if lower is not None:
        clauses.append(f"{column} >= ?")
        params.append(lower)
    if upper is not None:
        clauses.append(f"{column} < ?")
        params.append(upper)
    return (" AND ".join(clauses) or "1"), params


class _Transaction:
    """The store's operations inside one SQLite transaction (read or write)."""

    def __init__(self, connection: Any) -> None:
        self.c = connection

    # -- settings and dictionaries
    def meta(self, key: str, default: Any = None) -> Any:
        row = self.c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        Database.set_meta(self.c, key, value)

    def lock_codes(self) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already holds the only write lock."""

    def codes(self, feature: str) -> dict:
        return {value: code for code, value in self.c.execute("SELECT code, value FROM codes WHERE feature = ?",
                                                              (feature,))}

    def add_codes(self, feature: str, added: dict) -> None:
        self.c.executemany("INSERT INTO codes (feature, code, value) VALUES (?, ?, ?)",
                           [(feature, code, value) for value, code in added.items()])

    # -- predictions
    def insert_predictions(self, columns: dict) -> int:
        """New rows of a batch (``columns``: equal-length lists, one per column); returns how
        many were new (an id already present is skipped)."""
        before = self.c.total_changes
        self.c.executemany(f"INSERT OR IGNORE INTO predictions ({_PREDICTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           zip(*(columns[k] for k in ("id", "ts", "model_version", "prediction", "proba",
                                                      "acted_on", "features"))))
        inserted = self.c.total_changes - before
        if inserted:
            self.c.execute(_ADD_COUNT, ("predictions", inserted))
        return inserted

    def stored_predictions(self, keys: list) -> dict:
        """id -> (model_version, prediction, proba, features) of the ``keys`` already stored."""
        return {row[0]: (row[1], row[2], row[3], bytes(row[4])) for row in self.c.execute(
            "SELECT id, model_version, prediction, proba, features FROM predictions "
            "WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(keys),))}

    # -- labels
    def join_labels(self, batch: dict, source: str, rank: int, window: Optional[int]) -> dict:
        """Store labels for the logged ids of ``batch`` (``id``, ``label``, ``confidence``,
        ``ts`` lists); see ``FeedbackStore.add_feedback`` for the report's keys."""
        c = self.c
        n = len(batch["id"])
        c.execute("CREATE TEMP TABLE IF NOT EXISTS batch_labels (id TEXT PRIMARY KEY, label, confidence REAL, ts INTEGER)")
        c.execute("DELETE FROM batch_labels")
        c.executemany("INSERT INTO batch_labels (id, label, confidence, ts) VALUES (?, ?, ?, ?)",
                      zip(batch["id"], batch["label"], batch["confidence"], batch["ts"]))
        late: list = []
        condition = ""
        if window is not None:
            late = [r[0] for r in c.execute(
                "SELECT b.id FROM batch_labels b JOIN predictions p ON p.id = b.id WHERE b.ts - p.ts > ?", (window,))]
            condition = f" AND b.ts - p.ts <= {int(window)}"
        replaced = c.execute(
            "SELECT count(*) FROM batch_labels b JOIN labels l ON l.id = b.id AND l.source = ? "
            "JOIN predictions p ON p.id = b.id WHERE 1" + condition, (source,)).fetchone()[0]
        first_labels = c.execute(
            "SELECT count(*) FROM batch_labels b JOIN predictions p ON p.id = b.id WHERE NOT EXISTS "
            "(SELECT 1 FROM labels l WHERE l.id = b.id)" + condition).fetchone()[0]
        before = c.total_changes
        c.execute(
            "INSERT INTO labels (id, source, rank, label, confidence, ts, pts) "
            "SELECT b.id, ?, ?, b.label, b.confidence, b.ts, p.ts FROM batch_labels b JOIN predictions p ON p.id = b.id "
            "WHERE 1" + condition + " "
            "ON CONFLICT (id, source) DO UPDATE SET label = excluded.label, confidence = excluded.confidence, "
            "ts = excluded.ts, rank = excluded.rank",
            (source, rank),
        )
        stored = c.total_changes - before
        if stored:
            c.executemany(_ADD_COUNT, [("labeled", first_labels), (f"source:{source}", stored - replaced)])
        unknown: list = []
        if stored + len(late) < n:  # only then can some ids be unknown: find which
            unknown = [r[0] for r in c.execute(
                "SELECT b.id FROM batch_labels b LEFT JOIN predictions p ON p.id = b.id WHERE p.id IS NULL")]
        return {"n_labeled": int(stored), "n_replaced": int(replaced), "unknown_ids": unknown, "late_ids": late}

    # -- reads
    def newest_ts(self) -> Optional[int]:
        return self.c.execute("SELECT max(ts) FROM predictions").fetchone()[0]

    def scan(self, lower: Optional[int], upper: Optional[int], sources: list, last: Optional[int]) -> tuple[list, list]:
        """Predictions in ``[lower, upper)`` (the newest ``last`` when given) in (ts, logging)
        order, and the label rows of the same prediction-time range.

        Two sequential scans joined in Python by the store: several times faster than SQLite's
        per-row index lookups on text ids."""
        where, params = _where("ts", lower, upper)
        select = f"SELECT {_PREDICTION_COLUMNS} FROM predictions "
        label_lower = lower
        if last is None:
            rows = self.c.execute(f"{select} WHERE {where} ORDER BY ts, rid", params).fetchall()
        else:
            rows = self.c.execute(f"{select} WHERE {where} ORDER BY ts DESC, rid DESC LIMIT ?",
                                  [*params, int(last)]).fetchall()[::-1]
            if rows:
                label_lower = max(lower if lower is not None else rows[0][1], rows[0][1])
        label_where, label_params = _where("pts", label_lower, upper)
        marks = ", ".join("?" for _ in sources)
        label_rows = self.c.execute(f"SELECT id, rank, label, ts, source, confidence FROM labels "
                                    f"WHERE source IN ({marks}) AND {label_where}",
                                    [*sources, *label_params]).fetchall()
        return rows, label_rows

    def rows_for_ids(self, ids: list, sources: list) -> tuple[list, list]:
        marks = ", ".join("?" for _ in sources)
        packed = json.dumps(ids)
        rows = self.c.execute(f"SELECT {_PREDICTION_COLUMNS} FROM predictions "
                              "WHERE id IN (SELECT value FROM json_each(?)) ORDER BY ts, rid", (packed,)).fetchall()
        label_rows = self.c.execute(
            f"SELECT id, rank, label, ts, source, confidence FROM labels WHERE id IN (SELECT value FROM json_each(?)) "
            f"AND source IN ({marks})", (packed, *sources)).fetchall()
        return rows, label_rows

    def labels_newest_first(self, sources: list, lower: Optional[int], upper: Optional[int]) -> Any:
        """An iterator of ``(id, pts)`` chunks, newest prediction time first (the pts index)."""
        marks = ", ".join("?" for _ in sources)
        where, params = _where("pts", lower, upper)
        cursor = self.c.execute(f"SELECT id, pts FROM labels WHERE source IN ({marks}) AND {where} "
                                "ORDER BY pts DESC", [*sources, *params])
        try:
            while True:
                chunk = cursor.fetchmany(4096)
                if not chunk:
                    return
                yield chunk
        finally:
            cursor.close()

    def label_stream(self, version: int, start: tuple, end: tuple, limit: int, by_version: bool) -> list:
        effective = "NOT EXISTS (SELECT 1 FROM labels b WHERE b.id = l.id AND b.rank < l.rank)"
        if by_version:
            return self.c.execute(
                "SELECT l.ts, l.id, l.label, p.prediction FROM predictions p INDEXED BY predictions_version "
                f"JOIN labels l ON l.id = p.id WHERE p.model_version = ? AND {effective}", (version,)).fetchall()
        return self.c.execute(
            "SELECT l.ts, l.id, l.label, p.prediction FROM labels l INDEXED BY labels_arrival "
            "JOIN predictions p ON p.id = l.id "
            f"WHERE (l.ts, l.id) > (?, ?) AND (l.ts, l.id) <= (?, ?) AND p.model_version = ? AND {effective} "
            "ORDER BY l.ts, l.id LIMIT ?", (*start, *end, version, int(limit))).fetchall()

    def newest_label(self) -> Optional[tuple]:
        return self.c.execute("SELECT ts, id FROM labels ORDER BY ts DESC, id DESC LIMIT 1").fetchone()

    def served(self, version: int) -> int:
        return self.c.execute("SELECT count(*) FROM predictions WHERE model_version = ?", (version,)).fetchone()[0]

    def prediction_table(self, lower: Optional[int], upper: Optional[int]) -> list:
        where, params = _where("p.ts", lower, upper)
        return self.c.execute(
            "SELECT p.id, p.ts, p.model_version, p.prediction, p.acted_on, l.label, l.source FROM predictions p "
            "LEFT JOIN (SELECT id, label, source, row_number() OVER (PARTITION BY id ORDER BY rank, ts DESC) AS rn "
            f"FROM labels) l ON l.id = p.id AND l.rn = 1 WHERE {where} ORDER BY p.ts, p.rid", params).fetchall()

    def counters(self) -> dict:
        return dict(self.c.execute("SELECT name, value FROM counters").fetchall())


class SQLiteBackend:
    """A feedback store in one SQLite file.

    Examples
    --------
    >>> import tempfile, os
    >>> backend = SQLiteBackend(os.path.join(tempfile.mkdtemp(), "s.db"), durability="full")
    >>> backend.read(lambda tx: tx.counters())
    {'predictions': 0, 'labeled': 0}
    >>> backend.close()
    """

    def __init__(self, path: str, *, durability: str) -> None:
        self.location = path
        self.database: Database = open_database(path, kind="feedback_store", migrations=MIGRATIONS)
        if durability != "full":
            self.database.set_synchronous(_SYNCHRONOUS[durability])

    def write(self, body: Callable[[_Transaction], Any]) -> Any:
        """``body(tx)`` in one write transaction, retried whole while another process holds the lock."""
        return self.database.transaction(lambda connection: body(_Transaction(connection)))

    def read(self, body: Callable[[_Transaction], Any]) -> Any:
        """``body(tx)`` in one read transaction: every query sees the same committed state."""
        return self.database.read(lambda connection: body(_Transaction(connection)))

    def flush(self) -> None:
        self.database.checkpoint()

    def close(self) -> None:
        self.database.close()

    @property
    def closed(self) -> bool:
        return self.database.closed
