"""``FeedbackStore``: every served prediction and every label that arrives for it, durably.

Layout (one SQLite file, WAL, ``synchronous=FULL``; see :mod:`loopwise.loop._sqlite`):

``predictions``
    One row per logged prediction: the caller's ``id`` (unique), prediction time (UTC
    nanoseconds), model version, the prediction (stored with its own SQLite type, so ints stay
    ints and strings stay strings), class probabilities (one float64 BLOB), ``acted_on`` and the
    features as **one float64 BLOB per row**.
``labels``
    One row per ``(id, source)``: the newest label of each source for each id.
``codes``
    The per-column dictionary of non-numeric feature values.

Feature encoding. The feature schema (column names, in order, and a kind per column) is fixed
by the first logged batch and kept in the ``meta`` table. Numeric columns (float, int, bool) are
stored as float64; non-numeric ones (strings, pandas categoricals, datetimes) are stored as an
integer code into the ``codes`` dictionary of that column, also inside the float64 row, so every
row is ``8 * n_features`` bytes and a batch is encoded with one ``tobytes``. Reading restores each
column's kind: ints come back as int64 (float64 when a value is missing), bools as bool,
strings as str, categoricals as a pandas categorical, datetimes as UTC timestamps. Measured
against per-row JSON in the same table (``benchmarks/loop_store.py``), the BLOB writes 2-3x
faster, reads slightly faster and round-trips floats bit for bit.

Labels. :meth:`FeedbackStore.add_feedback` records labels by ``source``. When several sources
labelled the same id, the effective label follows the precedence
``human > ground_truth > weak`` (a human correction outranks the delayed ground truth, which
outranks a weak label); a later label from the same source replaces the earlier one.

Backends. A path stores everything in one SQLite file (:mod:`loopwise.loop._store_sqlite`);
a ``postgresql://`` URL stores it on a PostgreSQL server (:mod:`loopwise.loop._store_postgres`),
so processes on many machines can log to one store. Both keep the same tables, the same
promises and return the same values; the type codec (:mod:`loopwise.loop._codec`) and the
review queue (:mod:`loopwise.loop._review`) are shared.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ._codec import (CODED_KINDS, NAT, NUMERIC_KINDS, RANK, SOURCES, as_ids, as_values, bound_ns, compatible,
                     feature_table, numeric_matrix, proba_matrix, restore, same_value, split_rows, timestamps_ns)
from ._review import STRATEGIES, pick, review_scores
from ._store_sqlite import MIGRATIONS as _MIGRATIONS  # noqa: F401 - the SQLite schema, for tests and tools
from ._store_sqlite import SQLiteBackend

__all__ = ["FeedbackStore", "Records", "SOURCES"]

_same_value = same_value  # kept under its old name for callers of the first release

#: ``durability=`` choices of :class:`FeedbackStore`.
DURABILITY = ("full", "process")
_URL_SCHEMES = ("postgresql://", "postgres://")


def _is_url(location: Any) -> bool:
    return isinstance(location, str) and location.startswith(_URL_SCHEMES)


def loop_store_locations(directory: str, url: Optional[str]) -> tuple[str, str]:
    """Where a feedback loop keeps its served and its shadow predictions.

    ``url`` None: two SQLite files in ``directory``. A ``postgresql://`` URL: the served
    store in the URL's schema (``loopwise`` by default) and the shadow store in that schema
    + ``_shadow``. The URL is saved in the loop's configuration file, so it must not hold a
    password (use ``PGPASSWORD`` or a ``~/.pgpass`` file, which libpq reads).

    Examples
    --------
    >>> loop_store_locations("/loops/a", None)
    ('/loops/a/store.db', '/loops/a/shadow.db')
    >>> loop_store_locations("/loops/a", "postgresql://me@db:5432/app?schema=churn")[1]
    'postgresql://me@db:5432/app?schema=churn_shadow'
    """
    if url is None:
        return os.path.join(directory, "store.db"), os.path.join(directory, "shadow.db")
    if not _is_url(url):
        raise ValueError(f"store must be a postgresql://user@host:port/database URL, got {url!r}")
    from urllib.parse import urlsplit

    if urlsplit(url).password is not None:
        raise ValueError("store: the URL is saved in the loop's configuration, so it must not contain a password; "
                         "give it through PGPASSWORD or ~/.pgpass instead")
    from ._store_postgres import split_url, with_schema

    return url, with_schema(url, split_url(url)[1] + "_shadow")


# ---------------------------------------------------------------------------- records
class Records:
    """Logged predictions (with labels when asked for labelled ones), as one table.

    Attributes
    ----------
    feature_names : list of str
        The feature columns as logged, in order.

    Examples
    --------
    >>> import tempfile, os
    >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
    >>> _ = store.log_predictions(["a", "b"], [[1.0, 2.0], [3.0, 4.0]], [0, 1], model_version=1)
    >>> _ = store.add_feedback(["a"], [1])
    >>> records = store.labeled()
    >>> len(records), records.feature_names, records.y.tolist()
    (1, ['x0', 'x1'], [1])
    >>> store.close()
    """

    def __init__(self, frame: pd.DataFrame, feature_names: list[str]) -> None:
        self._frame = frame
        self.feature_names = list(feature_names)

    def __len__(self) -> int:
        return len(self._frame)

    @property
    def ids(self) -> np.ndarray:
        """The ids, in logging order."""
        return self._frame["id"].to_numpy()

    @property
    def X(self) -> pd.DataFrame:
        """The features with their logged names and kinds."""
        return self._frame[self.feature_names].copy()

    @property
    def y(self) -> np.ndarray:
        """The effective labels (None/NaN where unlabelled)."""
        return self._frame["label"].to_numpy()

    @property
    def weights(self) -> np.ndarray:
        """Per-row weights: the label's confidence (1.0 when none was given)."""
        return self._frame["weight"].to_numpy(dtype=np.float64)

    @property
    def timestamps(self) -> pd.Series:
        """Prediction times (UTC)."""
        return self._frame["timestamp"].copy()

    def to_frame(self) -> pd.DataFrame:
        """One DataFrame: ``id``, the features, ``prediction``, ``model_version``, ``timestamp``,
        ``acted_on``, ``label``, ``label_timestamp``, ``source``, ``confidence``, ``weight`` and
        ``proba_0 ...`` when probabilities were logged.

        Examples
        --------
        >>> # store.labeled().to_frame().columns[:3] -> ['id', 'x0', 'x1']
        """
        return self._frame.copy()

    def __repr__(self) -> str:
        return f"Records(n={len(self)}, features={len(self.feature_names)})"


# ---------------------------------------------------------------------------- the store
class FeedbackStore:
    """Durable log of predictions and the labels that arrive for them later.

    Parameters
    ----------
    path : str or os.PathLike
        SQLite file (created with its parent directory when missing).
    join_window : timedelta-like, optional
        Labels arriving later than this after their prediction are reported as late and not
        stored (they would describe a different world than the one the model saw).
    classes : sequence, optional
        The label set of a classification task. Stored in the file on first use; labels
        outside it are refused with a ValueError.
    durability : {"full", "process"}
        What a returned write promises. ``"full"`` (default): the transaction's commit
        record is fsynced to the write-ahead log before the call returns (SQLite WAL,
        ``synchronous=FULL``), so it survives a killed process, an OS crash and a power loss.
        ``"process"``: the commit is in the WAL file (the OS page cache) when the call
        returns, so it survives a killed or crashed process, but an OS crash or power loss
        can lose the commits made since the last :meth:`flush` or automatic checkpoint
        (SQLite WAL, ``synchronous=NORMAL``); the file is never corrupted either way. It
        saves one fsync per write: use it on a request path whose disk fsyncs slowly, and
        call :meth:`flush` where a power-loss-safe point is needed.

    Notes
    -----
    Every write is one transaction, acknowledged only once committed (see ``durability``);
    several processes may write at once (busy retries with backoff). Re-logging an id with the
    same features, prediction, model version and probabilities is a no-op (so a retried task
    is harmless even when its timestamp differs); logging an id again with different content
    raises. Label precedence: ``human > ground_truth > weak``; a later label from the same
    source replaces the earlier one.

    Examples
    --------
    >>> import tempfile, os
    >>> with FeedbackStore(os.path.join(tempfile.mkdtemp(), "store.db")) as store:
    ...     _ = store.log_predictions(["r1", "r2"], [[0.1, 2.0], [0.3, 1.0]], [1, 0], model_version=1)
    ...     store.add_feedback(["r1", "zz"], [1, 0])["unknown_ids"]
    ['zz']
    """

    def __init__(self, path: Union[str, os.PathLike], *, join_window: Any = None,
                 classes: Optional[Sequence[Any]] = None, durability: str = "full") -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        self.path = os.fspath(path)
        if not _is_url(self.path):
            parent = os.path.dirname(os.path.abspath(self.path))
            if os.path.exists(parent) and not os.path.isdir(parent):
                raise ValueError(f"path {self.path!r}: {parent!r} is a file, not a directory")
            os.makedirs(parent, exist_ok=True)
        if join_window is not None:
            try:
                join_window = pd.Timedelta(join_window)
            except (ValueError, TypeError) as error:
                raise ValueError(f"join_window must be a duration like '7D', got {join_window!r}") from error
            if pd.isna(join_window) or join_window <= pd.Timedelta(0):
                raise ValueError(f"join_window must be a positive duration, got {join_window!r}")
        self.join_window: Optional[pd.Timedelta] = join_window
        if durability not in DURABILITY:
            raise ValueError(f"durability must be one of {list(DURABILITY)}, got {durability!r}")
        self.durability = durability
        if _is_url(self.path):
            from ._store_postgres import PostgresBackend  # psycopg is imported only for a server store

            self._backend: Any = PostgresBackend(self.path, durability=durability)
        else:
            self._backend = SQLiteBackend(self.path, durability=durability)
        self._codes: dict[str, dict[str, int]] = {}
        if classes is not None:
            if isinstance(classes, (str, bytes)) or not hasattr(classes, "__len__") or len(classes) < 2:
                self.close()
                raise ValueError("classes must be a sequence of at least two class labels")
            values, _ = as_values(list(classes), len(classes), "classes")
            stored = self._backend.read(lambda tx: tx.meta("classes"))
            if stored is not None and [str(v) for v in stored] != [str(v) for v in values]:
                self.close()
                raise ValueError(f"classes {values} differ from the classes stored in {self.path!r}: {stored}")
            self._backend.write(lambda tx: tx.set_meta("classes", values))

    @property
    def _db(self) -> Any:
        """The SQLite database of a file store (for tests and tools that inspect the file)."""
        return self._backend.database

    def _meta(self, key: str, default: Any = None) -> Any:
        return self._backend.read(lambda tx: tx.meta(key, default))

    # ------------------------------------------------------------------ writing
    def _encode(self, tx: Any, feature: str, values: np.ndarray, new_codes: dict) -> np.ndarray:
        """Text values -> float codes, adding unseen values to the column's dictionary."""
        known = self._codes.get(feature)
        if known is None:
            known = tx.codes(feature)
            self._codes[feature] = known
        missing = pd.isna(values)
        texts = [None if m else str(v) for v, m in zip(values.tolist(), missing.tolist())]
        unseen = {t for t in texts if t is not None and t not in known}
        if unseen:
            # Another process may have added codes since we cached: read the dictionary again
            # under the write lock before assigning new ones.
            tx.lock_codes()
            known.update(tx.codes(feature))
            unseen = sorted(t for t in unseen if t not in known)
            start = len(known)
            added = {value: start + k for k, value in enumerate(unseen)}
            if added:
                tx.add_codes(feature, added)
            new_codes.setdefault(feature, {}).update(added)
            lookup = {**known, **added}
        else:
            lookup = known
        return np.array([np.nan if t is None else lookup[t] for t in texts], dtype=np.float64)

    def log_predictions(
        self,
        ids: Sequence[Any],
        X: Any,
        predictions: Any,
        *,
        model_version: int,
        proba: Any = None,
        timestamp: Any = None,
        acted_on: Any = None,
    ) -> dict:
        """Log one batch of served predictions, as one durable transaction.

        Parameters
        ----------
        ids : sequence
            Caller-supplied request ids (converted to str), unique within the store.
        X : DataFrame or 2-D array
            The features the model saw. The first batch fixes the columns; later batches must
            have the same columns (in any order).
        predictions : array-like of shape (n,)
        model_version : int
            Registry version that made the predictions.
        proba : array-like of shape (n, n_classes), optional
        timestamp : time or sequence of times, optional
            Prediction time (naive times are taken as UTC); now by default.
        acted_on : bool or sequence of bool, optional
            Whether the prediction was acted on (for feedback-loop bias analysis).

        Returns
        -------
        dict
            ``n_logged`` (new rows) and ``n_duplicates`` (identical rows already present).

        Raises
        ------
        ValueError
            When an id was already logged with different content (naming the ids); nothing
            of the batch is written then.

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> store.log_predictions(["a"], [[1.0]], [0], model_version=1)
        {'n_logged': 1, 'n_duplicates': 0}
        >>> store.log_predictions(["a"], [[1.0]], [0], model_version=1)
        {'n_logged': 0, 'n_duplicates': 1}
        >>> store.close()
        """
        keys = as_ids(ids)
        n = len(keys)
        fast = numeric_matrix(X)
        if fast is not None:
            names, kinds, numeric = fast
            columns: list = []
            rows_given = numeric.shape[0]
        else:
            names, kinds, columns = feature_table(X)
            numeric = None
            rows_given = len(columns[0])
        if rows_given != n:
            raise ValueError(f"ids has {n} entries but X has {rows_given} rows")
        values, prediction_kind = as_values(predictions, n, "predictions")
        if isinstance(model_version, bool) or not isinstance(model_version, (int, np.integer)):
            raise TypeError(f"model_version must be an int, got {type(model_version).__name__}")
        if model_version < 0:
            raise ValueError(f"model_version must be >= 0, got {model_version}")
        probabilities = proba_matrix(proba, n)
        stamps = timestamps_ns(timestamp, n, "timestamp")
        if acted_on is None:
            acted: list = [None] * n
        elif isinstance(acted_on, (bool, np.bool_)):
            acted = [int(acted_on)] * n
        else:
            acted_array = np.asarray(acted_on)
            if acted_array.shape != (n,) or acted_array.dtype != bool:
                raise ValueError(f"acted_on must be a bool or {n} bools, got {acted_array.dtype} of shape {acted_array.shape}")
            acted = acted_array.astype(int).tolist()
        if n == 0:
            return {"n_logged": 0, "n_duplicates": 0}

        version = int(model_version)
        proba_blobs = split_rows(probabilities) if probabilities is not None else None
        new_codes: dict = {}

        def body(tx: Any) -> dict:
            new_codes.clear()
            schema = tx.meta("features")
            if schema is None:
                schema = [{"name": name, "kind": kind} for name, kind in zip(names, kinds)]
                tx.set_meta("features", schema)
            stored_names = [s["name"] for s in schema]
            if set(stored_names) != set(names):
                extra = sorted(set(names) - set(stored_names))
                lacking = sorted(set(stored_names) - set(names))
                raise ValueError(f"X has different columns than the store: unexpected {extra}, missing {lacking}")
            position = {name: j for j, name in enumerate(names)}
            if numeric is not None:
                if any(spec["kind"] not in NUMERIC_KINDS for spec in schema):
                    bad = [s for s in schema if s["kind"] not in NUMERIC_KINDS][0]
                    raise ValueError(f"column {bad['name']!r} of X is {kinds[position[bad['name']]]} "
                                     f"but the store holds it as {bad['kind']}")
                order = [position[name] for name in stored_names]
                matrix = numeric if order == list(range(len(names))) else numeric[:, order]
            else:
                matrix = np.empty((n, len(schema)), dtype=np.float64)
            for j, spec in enumerate(schema if numeric is None else ()):
                k = position[spec["name"]]
                given = kinds[k]
                if (spec["kind"] in NUMERIC_KINDS) != (given in NUMERIC_KINDS):
                    raise ValueError(
                        f"column {spec['name']!r} of X is {given} but the store holds it as {spec['kind']}"
                    )
                if given in CODED_KINDS:
                    matrix[:, j] = self._encode(tx, spec["name"], columns[k], new_codes)
                else:
                    matrix[:, j] = columns[k]
            self._check_kind(tx, "prediction_kind", prediction_kind, "predictions")
            if probabilities is not None:
                stored = tx.meta("n_proba")
                if stored is None:
                    tx.set_meta("n_proba", probabilities.shape[1])
                elif int(stored) != probabilities.shape[1]:
                    raise ValueError(f"proba has {probabilities.shape[1]} columns but the store holds {stored}")
            blobs = split_rows(matrix)
            inserted = tx.insert_predictions({
                "id": keys, "ts": stamps.tolist(), "model_version": [version] * n, "prediction": values,
                "proba": proba_blobs if proba_blobs is not None else [None] * n, "acted_on": acted,
                "features": blobs})
            if inserted < n:
                self._check_duplicates(tx, keys, version, values, proba_blobs, blobs)
            return {"n_logged": int(inserted), "n_duplicates": int(n - inserted)}

        try:
            report = self._backend.write(body)
        except BaseException:
            # Codes cached during a rolled-back transaction were never committed.
            for feature in new_codes:
                self._codes.pop(feature, None)
            raise
        for feature, added in new_codes.items():  # committed now: later batches need not re-read
            self._codes.setdefault(feature, {}).update(added)
        return report

    @staticmethod
    def _check_kind(tx: Any, key: str, kind: str, name: str) -> None:
        stored = tx.meta(key)
        if stored is None:
            tx.set_meta(key, kind)
            return
        if not compatible(stored, kind):
            raise ValueError(f"{name} are {kind} values but the store holds {stored} values")
        widths = {"bool": 0, "int": 1, "float": 2}
        if stored in widths and widths[kind] > widths[stored]:
            tx.set_meta(key, kind)  # e.g. int labels, then a batch of floats

    @staticmethod
    def _check_duplicates(tx: Any, keys: list, version: int, values: list,
                          proba_blobs: Optional[list], blobs: list) -> None:
        """Raise when an id of the batch was logged before with different content."""
        stored = tx.stored_predictions(keys)
        conflicts = []
        for i, key in enumerate(keys):
            mv, prediction, proba, features = stored[key]
            expected_proba = None if proba_blobs is None else proba_blobs[i]
            same = (mv == version and same_value(prediction, values[i])
                    and (None if proba is None else bytes(proba)) == expected_proba and features == blobs[i])
            if not same:
                conflicts.append(key)
        if conflicts:
            raise ValueError(
                f"ids were already logged with different features, prediction, model version or "
                f"probabilities: {conflicts[:10]}{' ...' if len(conflicts) > 10 else ''} "
                f"({len(conflicts)} conflicting); nothing of this batch was written"
            )

    def add_feedback(
        self,
        ids: Sequence[Any],
        labels: Any,
        *,
        source: str = "ground_truth",
        confidence: Any = None,
        timestamp: Any = None,
        unknown: str = "ignore",
    ) -> dict:
        """Join labels (delayed ground truth, human corrections, weak labels) to logged ids.

        Parameters
        ----------
        ids : sequence
            Ids given to :meth:`log_predictions`.
        labels : array-like of shape (n,)
        source : {"ground_truth", "human", "weak"}
            Precedence when an id has labels from several sources: human > ground_truth >
            weak. A later label from the same source replaces the earlier one.
        confidence : float or array-like of floats in [0, 1], optional
            Becomes the row's training weight (1.0 when omitted).
        unknown : {"ignore", "raise"}
            Ids that were never logged: reported in ``unknown_ids`` ("ignore"), or a
            ``ValueError`` that stores nothing of the batch ("raise").
        timestamp : time or sequence of times, optional
            When the label arrived; now by default.

        Returns
        -------
        dict
            ``n_labeled`` (labels stored), ``n_replaced`` (of those, replacing an earlier
            label of the same source), ``unknown_ids`` (never logged; not stored) and
            ``late_ids`` (outside ``join_window``; not stored).

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> _ = store.log_predictions(["a", "b"], [[1.0], [2.0]], [0, 1], model_version=1)
        >>> report = store.add_feedback(["a", "c"], [1, 0])
        >>> report["n_labeled"], report["unknown_ids"]
        (1, ['c'])
        >>> store.close()
        """
        if source not in RANK:
            raise ValueError(f"source must be one of {list(SOURCES)}, got {source!r}")
        keys = as_ids(ids)
        n = len(keys)
        values, label_kind = as_values(labels, n, "labels")
        if confidence is None:
            confidences: list = [None] * n
        else:
            if isinstance(confidence, (str, bytes)):
                raise TypeError(f"confidence must be a number or numbers, got {confidence!r}")
            array = np.asarray(confidence, dtype=np.float64) if not np.isscalar(confidence) else np.full(n, float(confidence))
            if array.shape != (n,):
                raise ValueError(f"confidence must be one number or {n} numbers, got shape {array.shape}")
            if not np.all((array >= 0) & (array <= 1)):
                raise ValueError("confidence must lie in [0, 1]")
            confidences = array.tolist()
        stamps = timestamps_ns(timestamp, n, "timestamp")
        if n == 0:
            return {"n_labeled": 0, "n_replaced": 0, "unknown_ids": [], "late_ids": []}
        classes = self._meta("classes")
        if classes is not None:
            allowed = {str(c) for c in classes}
            unknown_classes = sorted({str(v) for v in values} - allowed)
            if unknown_classes:
                raise ValueError(f"labels has values outside the store's classes {classes}: {unknown_classes[:10]}")
        rank = RANK[source]
        window = None if self.join_window is None else int(self.join_window.value)

        if unknown not in ("ignore", "raise"):
            raise ValueError(f"unknown must be 'ignore' or 'raise', got {unknown!r}")
        def body(tx: Any) -> dict:
            stored = tx.meta("prediction_kind")
            if stored is not None and (stored == "str") != (label_kind == "str"):
                raise ValueError(
                    f"labels are {label_kind} values but the predictions are {stored} values: "
                    "labels for classes the model does not predict"
                )
            self._check_kind(tx, "label_kind", label_kind, "labels")
            report = tx.join_labels({"id": keys, "label": values, "confidence": confidences, "ts": stamps.tolist()},
                                    source, rank, window)
            unknown_ids = report["unknown_ids"]
            if unknown_ids and unknown == "raise":  # raising inside the transaction rolls the batch back
                shown = ", ".join(repr(i) for i in unknown_ids[:5]) + (" ..." if len(unknown_ids) > 5 else "")
                raise ValueError(f"{len(unknown_ids)} of {n} ids were never logged ({shown}); nothing was stored. "
                                 "Pass unknown='ignore' to store the others")
            return report

        return self._backend.write(body)

    # ------------------------------------------------------------------ reading
    def _decoder(self) -> tuple[list[dict], dict[str, np.ndarray], Optional[str], Optional[str], int]:
        def body(tx: Any) -> tuple:
            schema = tx.meta("features") or []
            dictionaries = {}
            for spec in schema:
                if spec["kind"] in CODED_KINDS:
                    codes = tx.codes(spec["name"])
                    table = np.empty(len(codes) + 1, dtype=object)
                    table[-1] = None  # index -1 (NaN code) -> missing
                    for value, code in codes.items():
                        table[code] = value
                    dictionaries[spec["name"]] = table
            return (schema, dictionaries, tx.meta("prediction_kind"), tx.meta("label_kind"), int(tx.meta("n_proba", 0)))

        return self._backend.read(body)

    def _frame(self, rows: list, labels: Optional[list]) -> pd.DataFrame:
        """Decode prediction rows (and their aligned effective labels, or None) into a frame."""
        schema, dictionaries, prediction_kind, label_kind, n_proba = self._decoder()
        names = [s["name"] for s in schema]
        n = len(rows)
        columns = list(zip(*rows)) if rows else [[] for _ in range(7)]
        frame: dict[str, Any] = {"id": np.array(columns[0], dtype=object)}
        width = len(schema)
        raw = np.frombuffer(b"".join(columns[6]), dtype=np.float64).reshape(n, width) if n else np.zeros((0, width))
        for j, spec in enumerate(schema):
            column = raw[:, j]
            kind = spec["kind"]
            if kind in CODED_KINDS:
                codes = np.where(np.isnan(column), -1, column).astype(np.int64)
                decoded = dictionaries[spec["name"]][codes]
                if kind == "category":
                    values = [v for v in dictionaries[spec["name"]][:-1]]
                    frame[spec["name"]] = pd.Categorical(decoded, categories=values)
                elif kind == "datetime":
                    frame[spec["name"]] = pd.to_datetime(pd.Series(decoded, dtype=object), utc=True)
                else:
                    frame[spec["name"]] = decoded
            elif kind in ("int", "bool") and not np.isnan(column).any():
                frame[spec["name"]] = column.astype(np.int64) if kind == "int" else column.astype(bool)
            else:
                frame[spec["name"]] = column.copy()
        frame["prediction"] = restore(list(columns[3]), prediction_kind)
        frame["model_version"] = np.array(columns[2], dtype=np.int64)
        frame["timestamp"] = pd.to_datetime(np.array(columns[1], dtype=np.int64), unit="ns", utc=True)
        acted = list(columns[5])
        frame["acted_on"] = (np.array(acted, dtype=bool) if acted and all(a is not None for a in acted)
                             else np.array([None if a is None else bool(a) for a in acted], dtype=object))
        if not n:
            label_columns: list = [[] for _ in range(6)]
        elif labels is None:
            label_columns = [[None] * n for _ in range(6)]
        else:
            missing = (None, None, None, None, None, None)
            label_columns = list(zip(*[missing if entry is None else entry for entry in labels]))
        frame["label"] = restore(list(label_columns[2]), label_kind)
        try:
            label_times = np.fromiter(label_columns[3], dtype=np.int64, count=n)
        except TypeError:  # some rows have no label
            label_times = np.array([NAT if t is None else t for t in label_columns[3]], dtype=np.int64)
        frame["label_timestamp"] = pd.to_datetime(label_times, unit="ns", utc=True)
        frame["source"] = np.array(label_columns[4], dtype=object)
        confidence = np.array([np.nan if c is None else c for c in label_columns[5]], dtype=np.float64)
        frame["confidence"] = confidence
        frame["weight"] = np.where(np.isnan(confidence), 1.0, confidence)
        if n_proba:
            blobs = columns[4]
            matrix = np.full((n, n_proba), np.nan)
            present = np.array([b is not None for b in blobs], dtype=bool)
            if present.any():
                matrix[present] = np.frombuffer(b"".join(b for b in blobs if b is not None),
                                                dtype=np.float64).reshape(-1, n_proba)
            for j in range(n_proba):
                frame[f"proba_{j}"] = matrix[:, j]
        result = pd.DataFrame(frame)
        result.attrs["feature_names"] = names
        return result

    def _bounds(self, since: Any, until: Any, window: Any = None) -> tuple[Optional[int], Optional[int]]:
        lower = bound_ns(since, "since")
        upper = bound_ns(until, "until")
        if window is not None and not isinstance(window, (int, np.integer)):
            try:
                span = pd.Timedelta(window)
            except (ValueError, TypeError) as error:
                raise ValueError(f"window must be a duration like '7D' or a number of rows, got {window!r}") from error
            if pd.isna(span) or span <= pd.Timedelta(0):
                raise ValueError(f"window must be a positive duration, got {window!r}")
            newest = self._backend.read(lambda tx: tx.newest_ts())
            if newest is not None:
                start = int(newest) - int(span.value)
                lower = start if lower is None else max(lower, start)
        return lower, upper

    @staticmethod
    def _sources(sources: Any) -> list[str]:
        if sources is None:
            return list(SOURCES)
        if isinstance(sources, str):
            sources = [sources]
        if not isinstance(sources, (list, tuple, set, frozenset)):
            raise TypeError(f"sources must be a source name or a list of them, got {type(sources).__name__}")
        bad = [s for s in sources if s not in RANK]
        if bad or not sources:
            raise ValueError(f"sources must be a non-empty subset of {list(SOURCES)}, got {list(sources)}")
        return list(sources)

    def _read(self, mode: str, lower: Optional[int], upper: Optional[int], sources: list[str],
              last: Optional[int] = None) -> pd.DataFrame:
        """Predictions in ``[lower, upper)`` (only the newest ``last`` of them, if given) with
        their effective labels.

        The label join runs in Python over two sequential scans: one over the predictions and
        one over the labels of the same prediction-time range (labels keep their prediction's
        time), which is several times faster than per-row index lookups on text ids.
        """
        # Both scans see the same committed state (one read transaction).
        rows, label_rows = self._backend.read(lambda tx: tx.scan(lower, upper, sources, last))
        # Most trusted source last, so it wins in the dict.
        label_rows.sort(key=lambda r: r[1], reverse=True)
        best = {r[0]: r for r in label_rows}
        matched = [best.get(r[0]) for r in rows]
        if mode == "labeled":
            keep = [k for k, m in enumerate(matched) if m is not None]
            rows, matched = [rows[k] for k in keep], [matched[k] for k in keep]
        elif mode == "unlabeled":
            rows = [r for r, m in zip(rows, matched) if m is None]
            matched = None
        return self._frame(rows, matched)

    def _labeled_frame(self, rows: list, label_rows: list) -> pd.DataFrame:
        label_rows.sort(key=lambda r: r[1], reverse=True)  # most trusted source last wins
        best = {r[0]: r for r in label_rows}
        matched = [best.get(r[0]) for r in rows]
        keep = [k for k, m in enumerate(matched) if m is not None]
        return self._frame([rows[k] for k in keep], [matched[k] for k in keep])

    def _newest_labeled(self, n: int, sources: list[str], lower: Optional[int], upper: Optional[int]) -> pd.DataFrame:
        """The newest ``n`` labelled predictions (by prediction time, then logging order).

        Walks the labels' prediction-time index from the newest end until ``n`` distinct ids
        (and every id tied with the oldest of them) are found, then reads just those rows:
        the cost follows ``n``, not the history.
        """
        def body(tx: Any) -> tuple[list, list]:
            found: dict[str, None] = {}
            boundary = None
            for chunk in tx.labels_newest_first(sources, lower, upper):
                for key, pts in chunk:
                    if boundary is not None and pts < boundary:
                        return tx.rows_for_ids(list(found), sources)  # past the ties of the n-th id
                    found[key] = None
                    if boundary is None and len(found) >= n:
                        boundary = pts
            return tx.rows_for_ids(list(found), sources)

        rows, label_rows = self._backend.read(body)
        frame = self._labeled_frame(rows, label_rows)
        names = frame.attrs["feature_names"]
        frame = frame.iloc[-int(n):].reset_index(drop=True)
        frame.attrs["feature_names"] = names
        return frame

    def label_stream(self, model_version: int, after: Optional[tuple[int, str]] = None, *,
                     limit: int = 200_000) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, str], bool]:
        """Effective labels of rows served by ``model_version``, in label-arrival order.

        The incremental read behind the loop's error stream: only labels that arrived after
        the cursor ``after`` = ``(label time ns, id)`` are read, through the labels' arrival
        index. A row's effective label is its most trusted source's (``human >
        ground_truth > weak``); a label that replaced an earlier one arrives again.

        Parameters
        ----------
        model_version : int
            Only rows this version served.
        after : (int, str), optional
            Cursor returned by the previous call; ``None`` reads from the beginning (through
            the model-version index when the version served few rows).
        limit : int
            At most this many rows per call; ``more`` says whether to call again.

        Returns
        -------
        label_times, labels, predictions : ndarray
            Aligned, in (label time, id) order; labels and predictions of their stored kinds.
        cursor : (int, str)
            Where the next call starts.
        more : bool
            True when ``limit`` rows were returned and more may follow.

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> _ = store.log_predictions(["a", "b"], [[1.0], [2.0]], [0, 1], model_version=1)
        >>> _ = store.add_feedback(["b", "a"], [1, 1], timestamp=["2024-01-02", "2024-01-01"])
        >>> times, labels, predictions, cursor, more = store.label_stream(1)
        >>> labels.tolist(), predictions.tolist(), more
        ([1, 1], [0, 1], False)
        >>> len(store.label_stream(1, cursor)[1])
        0
        >>> store.close()
        """
        version = int(model_version)

        def body(tx: Any) -> tuple[list, tuple[int, str], bool, Any, Any]:
            kinds = tx.meta("label_kind"), tx.meta("prediction_kind")
            newest = tx.newest_label()
            end = (int(newest[0]), str(newest[1])) if newest is not None else (after or (NAT, ""))
            if after is None and tx.served(version) <= limit:
                # A new champion served few rows: read them by version, not every label.
                rows = tx.label_stream(version, None, None, limit, by_version=True)
                rows.sort(key=lambda r: (r[0], r[1]))
                return rows, end, False, *kinds
            start = after if after is not None else (NAT, "")
            rows = tx.label_stream(version, start, end, limit, by_version=False)
            if len(rows) >= limit:
                return rows, (int(rows[-1][0]), str(rows[-1][1])), True, *kinds
            return rows, end, False, *kinds

        rows, cursor, more, label_kind, prediction_kind = self._backend.read(body)
        columns = list(zip(*rows)) if rows else [[], [], [], []]
        times = np.array(columns[0], dtype=np.int64)
        labels = restore(list(columns[2]), label_kind)
        predictions = restore(list(columns[3]), prediction_kind)
        return times, labels, predictions, cursor, more

    def labeled_by_id(self, ids: Sequence[Any], *, sources: Any = None) -> Records:
        """The labelled predictions among ``ids`` (by prediction time), read by the id index.

        Ids that were never logged or have no label are left out.

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> _ = store.log_predictions(["a", "b", "c"], [[1.0], [2.0], [3.0]], [0, 1, 1], model_version=1)
        >>> _ = store.add_feedback(["a", "c"], [0, 0])
        >>> store.labeled_by_id(["c", "b", "zz"]).ids.tolist()
        ['c']
        >>> store.close()
        """
        keys = [str(i) for i in (ids.tolist() if hasattr(ids, "tolist") else ids)]
        chosen = self._sources(sources)
        frame = self._labeled_frame(*self._backend.read(lambda tx: tx.rows_for_ids(keys, chosen)))
        return Records(frame, frame.attrs["feature_names"])

    def labeled(self, *, since: Any = None, until: Any = None, window: Any = None, sources: Any = None) -> Records:
        """Labelled predictions with their effective label (by source precedence).

        Parameters
        ----------
        since, until : time, optional
            Keep predictions made in ``[since, until)`` (naive times are UTC).
        window : duration or int, optional
            A duration (``"7D"``) keeps predictions made within it of the newest logged
            prediction; an int keeps the newest that many labelled rows.
        sources : str or list of str, optional
            Only consider labels from these sources (precedence still applies among them).

        Returns
        -------
        Records

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> _ = store.log_predictions(["a"], [[1.0]], ["cat"], model_version=1)
        >>> _ = store.add_feedback(["a"], ["dog"], source="weak")
        >>> _ = store.add_feedback(["a"], ["cat"], source="human")
        >>> store.labeled().to_frame()[["label", "source"]].values.tolist()
        [['cat', 'human']]
        >>> store.close()
        """
        if window is not None and (isinstance(window, bool) or isinstance(window, (int, np.integer)) and window < 1):
            raise ValueError(f"window must be a positive number of rows or a duration, got {window!r}")
        chosen = self._sources(sources)
        if isinstance(window, (int, np.integer)):
            # The newest rows through the prediction-time index of the labels: bounded by the window.
            frame = self._newest_labeled(int(window), chosen, *self._bounds(since, until))
        else:
            frame = self._read("labeled", *self._bounds(since, until, window), chosen)
        return Records(frame, frame.attrs["feature_names"])

    def records(self, *, since: Any = None, until: Any = None, last: Optional[int] = None) -> Records:
        """Every logged prediction with its effective label (None/NaN when unlabelled).

        Parameters
        ----------
        since, until : time, optional
            Keep predictions made in ``[since, until)`` (naive times are UTC).
        last : int, optional
            Only the newest ``last`` predictions (by prediction time): what a monitor looks
            at, read without scanning the whole history.

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> _ = store.log_predictions(["a", "b"], [[1.0], [2.0]], [0, 1], model_version=1)
        >>> _ = store.add_feedback(["b"], [1])
        >>> store.records().to_frame()["source"].isna().tolist()
        [True, False]
        >>> store.close()
        """
        if last is not None and (isinstance(last, bool) or not isinstance(last, (int, np.integer)) or last < 1):
            raise ValueError(f"last must be a positive number of rows, got {last!r}")
        frame = self._read("all", *self._bounds(since, until), list(SOURCES), last=last)
        return Records(frame, frame.attrs["feature_names"])

    def unlabeled(self, *, since: Any = None, until: Any = None, sources: Any = None) -> Records:
        """Predictions that have no label yet (from ``sources``, all by default).

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> _ = store.log_predictions(["a", "b"], [[1.0], [2.0]], [0, 1], model_version=1)
        >>> _ = store.add_feedback(["a"], [0])
        >>> store.unlabeled().ids.tolist()
        ['b']
        >>> store.close()
        """
        frame = self._read("unlabeled", *self._bounds(since, until), self._sources(sources))
        return Records(frame, frame.attrs["feature_names"])

    def predictions(self, since: Any = None, until: Any = None) -> pd.DataFrame:
        """Every logged prediction (without features) with its label state.

        Returns
        -------
        DataFrame
            ``id``, ``timestamp``, ``model_version``, ``prediction``, ``acted_on``,
            ``labeled`` (bool), ``label`` and ``source`` (the effective label, or None).

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> _ = store.log_predictions(["a", "b"], [[1.0], [2.0]], [0, 1], model_version=3)
        >>> _ = store.add_feedback(["b"], [1])
        >>> store.predictions()["labeled"].tolist()
        [False, True]
        >>> store.close()
        """
        lower, upper = self._bounds(since, until)
        rows, prediction_kind, label_kind = self._backend.read(
            lambda tx: (tx.prediction_table(lower, upper), tx.meta("prediction_kind"), tx.meta("label_kind")))
        columns = list(zip(*rows)) if rows else [[] for _ in range(7)]
        sources = np.array(columns[6], dtype=object)
        return pd.DataFrame({
            "id": np.array(columns[0], dtype=object),
            "timestamp": pd.to_datetime(np.array(columns[1], dtype=np.int64), unit="ns", utc=True),
            "model_version": np.array(columns[2], dtype=np.int64),
            "prediction": restore(list(columns[3]), prediction_kind),
            "acted_on": np.array([None if a is None else bool(a) for a in columns[4]], dtype=object),
            "labeled": np.array([s is not None for s in columns[6]], dtype=bool),
            "label": restore(list(columns[5]), label_kind),
            "source": sources,
        })

    def counts(self) -> dict:
        """Numbers of predictions, labelled ids, label rows and labels per source.

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> store.counts()["predictions"]
        0
        >>> store.close()
        """
        # Running counts kept by every write (schema version 2): no scan of the history.
        counters = self._backend.read(lambda tx: tx.counters())
        predictions = counters.get("predictions", 0)
        labeled = counters.get("labeled", 0)
        by_source = {name[len("source:"):]: value for name, value in counters.items()
                     if name.startswith("source:") and value}
        return {"predictions": int(predictions), "labeled": int(labeled), "unlabeled": int(predictions - labeled),
                "labels": int(sum(by_source.values())), "by_source": {k: int(v) for k, v in by_source.items()}}

    def review_queue(self, n: int, strategy: str = "uncertainty", *, other: Any = None,
                     random_state: int = 0) -> Records:
        """Pick unlabelled predictions for human labelling.

        Parameters
        ----------
        n : int
            How many to pick (fewer when fewer are unlabelled).
        strategy : {"uncertainty", "margin", "disagreement", "random"}
            ``uncertainty``: lowest top-class probability first; ``margin``: smallest gap
            between the two most probable classes first; ``disagreement``: ids where
            ``other`` (a FeedbackStore such as the shadow challenger's, or a mapping id ->
            prediction) predicted differently, newest first; ``random``: a seeded sample.
        other : FeedbackStore or mapping, optional
            Required by ``disagreement``.
        random_state : int

        Returns
        -------
        Records
            With an extra ``review_score`` column (higher = more worth reviewing).

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"))
        >>> _ = store.log_predictions(["a", "b"], [[1.0], [2.0]], [0, 1], model_version=1,
        ...                           proba=[[0.9, 0.1], [0.45, 0.55]])
        >>> store.review_queue(1).ids.tolist()
        ['b']
        >>> store.close()
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {list(STRATEGIES)}, got {strategy!r}")
        records = self.unlabeled()
        frame, score = review_scores(records.to_frame(), strategy, other, random_state)
        picked = pick(frame, score, int(n))
        return Records(picked, records.feature_names)

    def export_parquet(self, path: Union[str, os.PathLike]) -> str:
        """Write every prediction with its features and effective label to one Parquet file.

        The file is written to a temporary name and renamed, so a reader never sees half of it.

        Examples
        --------
        >>> # store.export_parquet("feedback.parquet")
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        target = os.fspath(path)
        if os.path.isdir(target):
            raise ValueError(f"path {target!r} is a directory; expected a file name")
        frame = self.records().to_frame()
        # Parquet needs one type per column; labels of unlabelled rows are None.
        for column in ("label", "prediction", "acted_on", "source"):
            if frame[column].dtype == object:
                frame[column] = frame[column].astype("string") if frame[column].map(
                    lambda v: v is None or isinstance(v, str)).all() else frame[column]
        temporary = f"{target}.tmp-{os.getpid()}"
        frame.to_parquet(temporary, index=False)
        os.replace(temporary, target)
        return target

    def flush(self) -> None:
        """Make every committed write durable against power loss (a WAL checkpoint with fsync).

        A no-op promise-wise with ``durability="full"``, where each write already is.

        Examples
        --------
        >>> import tempfile, os
        >>> store = FeedbackStore(os.path.join(tempfile.mkdtemp(), "s.db"), durability="process")
        >>> _ = store.log_predictions(["a"], [[1.0]], [0], model_version=1)
        >>> store.flush()
        >>> store.close()
        """
        self._backend.flush()

    @property
    def feature_names(self) -> list[str]:
        """The feature columns fixed by the first logged batch (empty before)."""
        return [s["name"] for s in (self._meta("features") or [])]

    def close(self) -> None:
        """Close the database (later calls raise ValueError)."""
        self._backend.close()

    def __enter__(self) -> "FeedbackStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._backend.closed else f"{self.counts()['predictions']} predictions"
        return f"FeedbackStore({self.path!r}, {state})"


