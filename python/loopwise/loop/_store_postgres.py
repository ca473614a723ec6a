"""The feedback store's PostgreSQL backend (``FeedbackStore("postgresql://user@host:port/db")``).

Many processes on many machines log to one store; the promises are the SQLite backend's:

- A call that returned is committed with ``synchronous_commit = on`` (the commit record is
  flushed to the server's WAL); ``durability="process"`` turns that off per session (a server
  crash can lose the newest commits, never tear one) and :meth:`PostgresBackend.flush` makes
  them durable.
- Batches of :data:`COPY_ROWS` rows or more are sent with ``COPY ... FROM STDIN`` (text
  format, built column-wise: features as one hex string) into a temporary staging table and
  moved with ``INSERT ... ON CONFLICT (id) DO NOTHING``; smaller ones with one
  ``INSERT ... SELECT FROM unnest(...)``. An identical re-log is
  a no-op; a conflicting one is found afterwards and raises, rolling the batch back.
- Writers run at READ COMMITTED and do not serialise each other: the rare writes of shared
  settings (the feature schema, value kinds, a categorical column's dictionary) take a
  transaction-level advisory lock and re-check what the transaction read, restarting it when
  another process changed it first; label joins take their own advisory lock so the running
  counts stay exact; counts are kept in per-connection shards so writers never wait on one row.
- Reads run in one REPEATABLE READ snapshot.
- Tables live in one PostgreSQL schema (``loopwise`` unless the URL says ``?schema=name``) with a
  ``schema_version`` table and ordered migrations, applied under an advisory lock.

Ids are stored with the ``"C"`` collation so cursors order them as Python and SQLite do; the
prediction and label scalars as JSON text (ints stay ints, floats round-trip exactly).
"""

from __future__ import annotations

import json
import re
import threading
import time
import zlib
from typing import Any, Callable, Iterator, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["PostgresBackend", "MIGRATIONS", "COPY_ROWS", "split_url", "with_schema"]

#: Batches at least this long go through COPY; shorter ones through one INSERT ... unnest.
COPY_ROWS = 64
_SHARDS = 16
_MAX_ATTEMPTS = 12

MIGRATIONS = [
    """
    CREATE TABLE predictions (
        rid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        ts bigint NOT NULL,
        model_version bigint NOT NULL,
        prediction text,
        proba bytea,
        acted_on smallint,
        features bytea NOT NULL
    );
    CREATE INDEX predictions_ts ON predictions (ts, rid);
    CREATE INDEX predictions_version ON predictions (model_version);
    CREATE TABLE labels (
        id text COLLATE "C" NOT NULL,
        source text NOT NULL,
        rank integer NOT NULL,
        label text,
        confidence double precision,
        ts bigint NOT NULL,
        pts bigint NOT NULL,
        PRIMARY KEY (id, source)
    );
    CREATE INDEX labels_arrival ON labels (ts, id);
    CREATE INDEX labels_pts ON labels (pts, id);
    CREATE TABLE codes (
        feature text NOT NULL,
        code integer NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (feature, code),
        UNIQUE (feature, value)
    );
    CREATE TABLE counters (
        name text NOT NULL,
        shard integer NOT NULL,
        value bigint NOT NULL,
        PRIMARY KEY (name, shard)
    );
    """,
]

_PREDICTION_COLUMNS = "id, ts, model_version, prediction, proba, acted_on, features"
# Per-connection staging tables, created when the connection opens (outside any transaction
# a rollback could undo); ON COMMIT DELETE ROWS empties them at every commit.
_STAGING = [
    """CREATE TEMP TABLE staging_predictions (id text COLLATE "C", ts bigint, model_version bigint,
       prediction text, proba bytea, acted_on smallint, features bytea) ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE staging_labels (id text COLLATE "C", label text, confidence double precision, ts bigint)
       ON COMMIT DELETE ROWS""",
]
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class _Restart(Exception):
    """Another process changed a shared setting this transaction had read: run it again."""


def _lock_key(schema: str, what: str) -> int:
    """A stable 63-bit advisory-lock key per (schema, purpose)."""
    return zlib.crc32(f"loopwise:{schema}:{what}".encode()) | (len(what) << 32)


def split_url(url: str) -> tuple[str, str]:
    """``postgresql://...?schema=name&...`` -> (libpq URL without ``schema``, schema name).

    Examples
    --------
    >>> split_url("postgresql://me@db:5432/app?schema=shop&sslmode=require")
    ('postgresql://me@db:5432/app?sslmode=require', 'shop')
    >>> split_url("postgres://me@db/app")[1]
    'loopwise'
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = "loopwise"
    kept = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            kept.append((key, value))
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"schema in the store URL must be a lower-case SQL identifier, got {schema!r}")
    return urlunsplit(parts._replace(query=urlencode(kept))), schema


def with_schema(url: str, schema: str) -> str:
    """``url`` with its ``schema=`` query parameter set to ``schema``.

    Examples
    --------
    >>> with_schema("postgresql://me@db/app?sslmode=require", "churn")
    'postgresql://me@db/app?sslmode=require&schema=churn'
    """
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "schema"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("schema", schema)])))


def _decode_scalar(text: Optional[str]) -> Any:
    return None if text is None else json.loads(text)


def _decode_rows(rows: list, position: int) -> list:
    """Rows with the JSON scalar at ``position`` decoded (tuples, like SQLite's)."""
    return [(*row[:position], _decode_scalar(row[position]), *row[position + 1:]) for row in rows]


def _scalars_as_json(values: list) -> list:
    """Predictions or labels (one kind per batch: int, float or str) -> JSON texts.

    ``str(int)`` and ``repr(float)`` are what ``json.dumps`` writes for them, without its
    per-call overhead (NaN and infinities never get here: the codec refuses them).
    """
    if all(type(v) is int for v in values):
        return list(map(str, values))
    if all(type(v) is float for v in values):
        return list(map(repr, values))
    return [json.dumps(v) for v in values]


_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _hex_column(blobs: list) -> list:
    """bytea values in COPY text form (``\\\\x`` + hex; ``\\N`` for NULL), hexed in one call."""
    if any(b is None for b in blobs):
        return ["\\N" if b is None else "\\\\x" + b.hex() for b in blobs]
    width = 2 * len(blobs[0]) if blobs else 0
    if any(len(b) * 2 != width for b in blobs):
        return ["\\\\x" + b.hex() for b in blobs]
    text = b"".join(blobs).hex()
    return ["\\\\x" + text[i:i + width] for i in range(0, len(text), width)]


def _escaped(texts: list) -> list:
    """Texts with COPY's special characters escaped (checked once for the whole column)."""
    joined = "".join(texts)
    if not any(special in joined for special in "\\\t\n\r"):
        return texts
    return [text.translate(_TEXT_ESCAPES) for text in texts]


def _copy_text(columns: dict, predictions: list) -> str:
    """One batch as COPY text format (tab-separated, one line per row), built column-wise."""
    ids = _escaped(columns["id"])
    texts = _escaped(predictions)
    acted = ["\\N" if a is None else str(a) for a in columns["acted_on"]]
    fields = zip(ids, map(str, columns["ts"]), map(str, columns["model_version"]), texts,
                 _hex_column(columns["proba"]), acted, _hex_column(columns["features"]))
    return "\n".join(map("\t".join, fields)) + "\n"


def _where(column: str, lower: Optional[int], upper: Optional[int]) -> tuple[str, list]:
    clauses, params = [], []
    if lower is not None:
        clauses.append(f"{column} >= %s")
        params.append(lower)
    if upper is not None:
        clauses.append(f"{column} < %s")
        params.append(upper)
    return (" AND ".join(clauses) or "true"), params


class _Transaction:
    """The store's operations inside one PostgreSQL transaction."""

    def __init__(self, backend: "PostgresBackend", connection: Any) -> None:
        self.backend = backend
        self.c = connection
        self._seen: dict[str, Any] = {}
        self._meta: Optional[dict] = None
        self._locked = False

    def _rows(self, sql: str, params: Any = ()) -> list:
        return self.c.execute(sql, params).fetchall()

    # -- settings and dictionaries
    def meta(self, key: str, default: Any = None) -> Any:
        if self._meta is None:  # the table is a handful of rows: one round trip reads them all
            self._meta = {k: json.loads(v) for k, v in self._rows("SELECT key, value FROM meta")}
        value = self._meta.get(key)
        self._seen.setdefault(key, value)
        return default if value is None else value

    def _lock(self) -> None:
        if not self._locked:
            self.c.execute("SELECT pg_advisory_xact_lock(%s)", (self.backend.settings_lock,))
            self._locked = True

    def set_meta(self, key: str, value: Any) -> None:
        self._lock()
        rows = self._rows("SELECT value FROM meta WHERE key = %s", (key,))
        current = json.loads(rows[0][0]) if rows else None
        if key in self._seen and current != self._seen[key]:
            raise _Restart(key)  # decided on a value another process has changed since
        self.c.execute("INSERT INTO meta (key, value) VALUES (%s, %s) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, json.dumps(value)))
        self._seen[key] = value
        if self._meta is not None:
            self._meta[key] = value

    def lock_codes(self) -> None:
        self._lock()

    def codes(self, feature: str) -> dict:
        return dict(self._rows("SELECT value, code FROM codes WHERE feature = %s", (feature,)))

    def add_codes(self, feature: str, added: dict) -> None:
        with self.c.cursor() as cursor:
            cursor.executemany("INSERT INTO codes (feature, code, value) VALUES (%s, %s, %s)",
                               [(feature, code, value) for value, code in added.items()])

    def _add_counts(self, pairs: list) -> None:
        pairs = [(name, delta) for name, delta in pairs if delta]
        if not pairs:
            return
        # Sorted names: two writers always lock counter rows in the same order (no deadlock).
        pairs.sort()
        with self.c.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO counters (name, shard, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (name, shard) DO UPDATE SET value = counters.value + excluded.value",
                [(name, self.backend.shard, int(delta)) for name, delta in pairs])

    # -- predictions
    def insert_predictions(self, columns: dict) -> int:
        n = len(columns["id"])
        predictions = _scalars_as_json(columns["prediction"])
        # The insert and the running count in one statement: one round trip.
        counted = (", counted AS (INSERT INTO counters (name, shard, value) SELECT 'predictions', %s, count(*) "
                   "FROM written HAVING count(*) > 0 ON CONFLICT (name, shard) DO UPDATE "
                   "SET value = counters.value + excluded.value) SELECT count(*) FROM written")
        if n < COPY_ROWS:
            return int(self._rows(
                f"WITH written AS (INSERT INTO predictions ({_PREDICTION_COLUMNS}) "
                "SELECT * FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::bytea[], "
                "%s::smallint[], %s::bytea[]) ON CONFLICT (id) DO NOTHING RETURNING 1)" + counted,
                (columns["id"], columns["ts"], columns["model_version"], predictions, columns["proba"],
                 columns["acted_on"], columns["features"], self.backend.shard))[0][0])
        with self.c.cursor() as cursor:
            with cursor.copy(f"COPY staging_predictions ({_PREDICTION_COLUMNS}) FROM STDIN") as copy:
                copy.write(_copy_text(columns, predictions))
        return int(self._rows(f"WITH written AS (INSERT INTO predictions ({_PREDICTION_COLUMNS}) "
                              f"SELECT {_PREDICTION_COLUMNS} FROM staging_predictions ON CONFLICT (id) DO NOTHING "
                              "RETURNING 1)" + counted, (self.backend.shard,))[0][0])

    def stored_predictions(self, keys: list) -> dict:
        return {row[0]: (row[1], _decode_scalar(row[2]), row[3], bytes(row[4])) for row in self._rows(
            "SELECT id, model_version, prediction, proba, features FROM predictions WHERE id = ANY(%s)", (keys,))}

    # -- labels
    def join_labels(self, batch: dict, source: str, rank: int, window: Optional[int]) -> dict:
        # One label join at a time per store: the "first label of this id" count stays exact
        # when two processes label the same id from two sources at once.
        self.c.execute("SELECT pg_advisory_xact_lock(%s)", (self.backend.labels_lock,))
        n = len(batch["id"])
        labels = _scalars_as_json(batch["label"])
        self.c.execute("INSERT INTO staging_labels SELECT * FROM unnest(%s::text[], %s::text[], %s::float8[], %s::bigint[])",
                       (batch["id"], labels, batch["confidence"], batch["ts"]))
        late: list = []
        condition = ""
        if window is not None:
            late = [r[0] for r in self._rows(
                "SELECT b.id FROM staging_labels b JOIN predictions p ON p.id = b.id WHERE b.ts - p.ts > %s", (window,))]
            condition = f" AND b.ts - p.ts <= {int(window)}"
        first_labels = self._rows(
            "SELECT count(*) FROM staging_labels b JOIN predictions p ON p.id = b.id WHERE NOT EXISTS "
            "(SELECT 1 FROM labels l WHERE l.id = b.id)" + condition)[0][0]
        # xmax = 0 marks a freshly inserted row; an updated one carries our transaction id.
        outcome = self._rows(
            "WITH written AS (INSERT INTO labels (id, source, rank, label, confidence, ts, pts) "
            "SELECT b.id, %s, %s, b.label, b.confidence, b.ts, p.ts FROM staging_labels b JOIN predictions p ON p.id = b.id "
            "WHERE true" + condition + " "
            "ON CONFLICT (id, source) DO UPDATE SET label = excluded.label, confidence = excluded.confidence, "
            "ts = excluded.ts, rank = excluded.rank RETURNING (xmax = 0) AS fresh) "
            "SELECT count(*), count(*) FILTER (WHERE NOT fresh) FROM written", (source, rank))[0]
        stored, replaced = int(outcome[0]), int(outcome[1])
        self._add_counts([("labeled", first_labels), (f"source:{source}", stored - replaced)])
        unknown: list = []
        if stored + len(late) < n:
            unknown = [r[0] for r in self._rows(
                "SELECT b.id FROM staging_labels b LEFT JOIN predictions p ON p.id = b.id WHERE p.id IS NULL")]
        return {"n_labeled": stored, "n_replaced": replaced, "unknown_ids": unknown, "late_ids": late}

    # -- reads
    def newest_ts(self) -> Optional[int]:
        return self._rows("SELECT max(ts) FROM predictions")[0][0]

    def scan(self, lower: Optional[int], upper: Optional[int], sources: list, last: Optional[int]) -> tuple[list, list]:
        where, params = _where("ts", lower, upper)
        select = f"SELECT {_PREDICTION_COLUMNS} FROM predictions"
        label_lower = lower
        if last is None:
            rows = self._rows(f"{select} WHERE {where} ORDER BY ts, rid", params)
        else:
            rows = self._rows(f"{select} WHERE {where} ORDER BY ts DESC, rid DESC LIMIT %s", [*params, int(last)])[::-1]
            if rows:
                label_lower = max(lower if lower is not None else rows[0][1], rows[0][1])
        label_where, label_params = _where("pts", label_lower, upper)
        label_rows = self._rows(f"SELECT id, rank, label, ts, source, confidence FROM labels "
                                f"WHERE source = ANY(%s) AND {label_where}", [sources, *label_params])
        return _decode_rows(rows, 3), _decode_rows(label_rows, 2)

    def rows_for_ids(self, ids: list, sources: list) -> tuple[list, list]:
        rows = self._rows(f"SELECT {_PREDICTION_COLUMNS} FROM predictions WHERE id = ANY(%s) ORDER BY ts, rid", (ids,))
        label_rows = self._rows("SELECT id, rank, label, ts, source, confidence FROM labels "
                                "WHERE id = ANY(%s) AND source = ANY(%s)", (ids, sources))
        return _decode_rows(rows, 3), _decode_rows(label_rows, 2)

    def labels_newest_first(self, sources: list, lower: Optional[int], upper: Optional[int]) -> Iterator[list]:
        where, params = _where("pts", lower, upper)
        offset, page = 0, 4096
        while True:  # pages through the pts index, newest first
            chunk = self._rows(f"SELECT id, pts FROM labels WHERE source = ANY(%s) AND {where} "
                               "ORDER BY pts DESC, id DESC LIMIT %s OFFSET %s", [sources, *params, page, offset])
            if not chunk:
                return
            yield chunk
            offset += len(chunk)
            page *= 2

    def label_stream(self, version: int, start: Optional[tuple], end: Optional[tuple], limit: int,
                     by_version: bool) -> list:
        effective = "NOT EXISTS (SELECT 1 FROM labels b WHERE b.id = l.id AND b.rank < l.rank)"
        if by_version:
            rows = self._rows("SELECT l.ts, l.id, l.label, p.prediction FROM predictions p JOIN labels l ON l.id = p.id "
                              f"WHERE p.model_version = %s AND {effective}", (version,))
        else:
            rows = self._rows(
                "SELECT l.ts, l.id, l.label, p.prediction FROM labels l JOIN predictions p ON p.id = l.id "
                f"WHERE (l.ts, l.id) > (%s, %s) AND (l.ts, l.id) <= (%s, %s) AND p.model_version = %s AND {effective} "
                "ORDER BY l.ts, l.id LIMIT %s", (*start, *end, version, int(limit)))
        return [(r[0], r[1], _decode_scalar(r[2]), _decode_scalar(r[3])) for r in rows]

    def newest_label(self) -> Optional[tuple]:
        rows = self._rows("SELECT ts, id FROM labels ORDER BY ts DESC, id DESC LIMIT 1")
        return rows[0] if rows else None

    def served(self, version: int) -> int:
        return self._rows("SELECT count(*) FROM predictions WHERE model_version = %s", (version,))[0][0]

    def prediction_table(self, lower: Optional[int], upper: Optional[int]) -> list:
        where, params = _where("p.ts", lower, upper)
        rows = self._rows(
            "SELECT p.id, p.ts, p.model_version, p.prediction, p.acted_on, l.label, l.source FROM predictions p "
            "LEFT JOIN (SELECT id, label, source, row_number() OVER (PARTITION BY id ORDER BY rank, ts DESC) AS rn "
            f"FROM labels) l ON l.id = p.id AND l.rn = 1 WHERE {where} ORDER BY p.ts, p.rid", params)
        return [(r[0], r[1], r[2], _decode_scalar(r[3]), r[4], _decode_scalar(r[5]), r[6]) for r in rows]

    def counters(self) -> dict:
        return {name: int(value) for name, value in self._rows("SELECT name, sum(value) FROM counters GROUP BY name")}


class PostgresBackend:
    """A feedback store on a PostgreSQL server.

    Parameters
    ----------
    url : str
        ``postgresql://user[:password]@host[:port]/database[?schema=name&<libpq options>]``.
    durability : {"full", "process"}

    Examples
    --------
    >>> PostgresBackend.__name__  # needs a server; see FeedbackStore and tests/python/loop
    'PostgresBackend'
    """

    def __init__(self, url: str, *, durability: str) -> None:
        try:
            import psycopg
        except ImportError as error:
            raise ImportError("a postgresql:// feedback store needs psycopg 3: pip install 'loopwise[postgres]'") from error
        self._psycopg = psycopg
        self.location = url
        conninfo, self.schema = split_url(url)
        self._lock = threading.RLock()
        try:
            self._connection: Any = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as error:
            raise ValueError(f"the feedback store {url!r} cannot be reached: {error}") from error
        self.settings_lock = _lock_key(self.schema, "settings")
        self.labels_lock = _lock_key(self.schema, "labels")
        try:
            self._connection.execute(f"SET synchronous_commit = {'on' if durability == 'full' else 'off'}")
            self._migrate()
            self._connection.execute(f"SET search_path = {self.schema}")
            for statement in _STAGING:
                self._connection.execute(statement)
            self.shard = int(self._connection.execute("SELECT pg_backend_pid()").fetchone()[0]) % _SHARDS
        except Exception:
            self.close()
            raise

    def _migrate(self) -> None:
        c = self.connection
        with c.transaction():
            c.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.schema, "migrate"),))
            c.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            c.execute(f"SET LOCAL search_path = {self.schema}")
            c.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
            c.execute("CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)")
            kind = c.execute("SELECT value FROM meta WHERE key = 'kind'").fetchone()
            if kind is None:
                others = c.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s "
                                   "AND table_name NOT IN ('schema_version', 'meta')", (self.schema,)).fetchone()[0]
                if others:
                    raise ValueError(f"schema {self.schema!r} of {self.location!r} holds other tables: "
                                     "not a loopwise feedback store (pass ?schema=another_name)")
                c.execute("INSERT INTO meta (key, value) VALUES ('kind', %s)", (json.dumps("feedback_store"),))
            elif json.loads(kind[0]) != "feedback_store":
                raise ValueError(f"{self.location!r} holds a loopwise {json.loads(kind[0])}, not a feedback_store")
            row = c.execute("SELECT version FROM schema_version").fetchone()
            current = 0 if row is None else int(row[0])
            if row is None:
                c.execute("INSERT INTO schema_version (version) VALUES (0)")
            if current > len(MIGRATIONS):
                raise ValueError(f"{self.location!r} has schema version {current}; this loopwise knows up to "
                                 f"{len(MIGRATIONS)}: upgrade loopwise to open it")
            for version in range(current, len(MIGRATIONS)):
                c.execute(MIGRATIONS[version])
                c.execute("UPDATE schema_version SET version = %s", (version + 1,))

    @property
    def connection(self) -> Any:
        if self._connection is None:
            raise ValueError(f"the feedback store {self.location!r} is closed")
        return self._connection

    def _run(self, body: Callable[[_Transaction], Any], *, read_only: bool) -> Any:
        errors = self._psycopg.errors
        retryable = (_Restart, errors.SerializationFailure, errors.DeadlockDetected, errors.UniqueViolation)
        with self._lock:
            connection = self.connection
            for attempt in range(_MAX_ATTEMPTS):
                try:
                    with connection.transaction():
                        if read_only:
                            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        return body(_Transaction(self, connection))
                except retryable:
                    # UniqueViolation: two writers added the same new dictionary code at once.
                    if attempt == _MAX_ATTEMPTS - 1:
                        raise
                    time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    def write(self, body: Callable[[_Transaction], Any]) -> Any:
        """``body(tx)`` in one transaction, run again whole when another writer got in the way."""
        return self._run(body, read_only=False)

    def read(self, body: Callable[[_Transaction], Any]) -> Any:
        """``body(tx)`` in one REPEATABLE READ snapshot."""
        return self._run(body, read_only=True)

    def flush(self) -> None:
        """One synchronous commit: the server flushes its WAL up to it, and so every earlier commit."""
        with self._lock:
            with self.connection.transaction():
                self.connection.execute("SET LOCAL synchronous_commit = on")
                self.connection.execute("SELECT txid_current()")

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @property
    def closed(self) -> bool:
        return self._connection is None
