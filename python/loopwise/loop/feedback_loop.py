"""``FeedbackLoop``: serve, log, join labels, monitor, retrain, validate, promote.

One directory holds everything the loop remembers:

- ``store.db``     every served prediction and every label or correction (FeedbackStore)
- ``shadow.db``    predictions of a challenger running in shadow mode
- ``registry/``    immutable model versions, aliases and the audit log (ModelRegistry)
- ``reference.*``  the reference data the inputs are compared with (``reference.lwprofile``:
                   a profile of a reference table the loop never loads)
- ``state.json``   the loop's own small state (detector state, last training, step keys),
                   replaced atomically after every decision

A kill at any moment leaves these consistent: a model version is written before it is
promoted, and a step saves its decision (the intent: key, result, the candidate holding the
new model) in the state before it registers or promotes anything; registering a candidate
and promoting the champion are idempotent, so the next ``step`` finishes an interrupted one
without a second version (``step(key=...)`` is idempotent per key, through a kill at any
point; see ``tests/python/loop/test_step_kills.py``).
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .._atomic import write_atomic, write_json_atomic
from .._faults import crash_point
from ._frames import InputSchema
from ._scoring import REGRESSION_METRICS, higher_is_better, is_classifier, labels_equal
from .policy import AdaptiveWindow, Policy, SlidingWindow, TimeDecay, time_split
from .status import Status

__all__ = ["FeedbackLoop"]

_STATE_FILE = "state.json"
# ADWIN's confidence for the loop's error stream: more sensitive than ADWIN's own default
# (0.002) because a false alarm here costs only a challenger that must still pass the gate.
_DETECTOR_DELTA = 0.01
# Fewest held-out rows a gate judges on right after a detected change.
_MIN_HOLDOUT = 100
_REFERENCE_FILE = "reference.parquet"
# The drift profile of the reference (loopwise.drift.Reference), built once and kept beside it.
_PROFILE_FILE = "reference.profile.npz"
# Newest labelled rows a selection without its own window (Reservoir, a custom one) samples from.
_MAX_HISTORY_ROWS = 100_000
# Rows of the error stream read per query while catching up.
_STREAM_CHUNK = 200_000


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").tz_localize(None)


def _write_json_atomic(path: str, data: dict) -> None:
    write_json_atomic(path, data)


class FeedbackLoop:
    """The whole feedback loop over one directory.

    Parameters
    ----------
    path : str or os.PathLike
        Directory of the loop (created when missing). Opening an existing directory resumes it.
    model : estimator, optional
        First champion, for a new loop: registered and promoted. Any object with ``predict``
        (and ``predict_proba`` for classifiers) that the registry can store.
    reference : array-like or DataFrame, optional
        Data the inputs are compared with (usually the training data). Saved in the directory.
    reference_labels : array-like, optional
        Labels of ``reference``, for the champion's baseline metric.
    policy : Policy, optional
        Triggers, data selection, retraining and gate settings (default: retrain on input
        drift, a performance drop or an error-stream alarm; refit on the newest 5000 labels).
    sensitive : sequence of str, optional
        Columns whose groups are checked for fairness gaps (and by the gate).
    slices : sequence of str, optional
        Columns whose values are monitored as slices (and by the gate).
    monitor_rows : int
        Newest logged rows compared with the reference at each check.
    trusted : bool
        Allow loading pickle-based model files from this loop's registry.
    durability : {"full", "process"}
        What :meth:`predict` and :meth:`log` promise when they return. ``"full"``
        (default): the rows' transaction is committed and its write-ahead-log record fsynced
        (SQLite WAL, ``synchronous=FULL``): they survive a killed process, an OS crash and a
        power loss. ``"process"``: committed to the write-ahead log without an fsync
        (``synchronous=NORMAL``): they survive a killed or crashed process; an OS crash or
        power loss may lose the rows logged since the last :meth:`flush` (or automatic
        checkpoint), never corrupt the store. Labels, versions and decisions are written the
        same way. Not part of the saved configuration: each process chooses.
    alerts : list of sinks, optional
        Where the alerts of :meth:`step` go (:class:`~loopwise.loop.alerts.LogSink`,
        :class:`~loopwise.loop.alerts.CallableSink`, :class:`~loopwise.loop.alerts.WebhookSink`):
        each incident once per sink and cool-down, every outcome in the audit log (kind
        ``"alert"``). Saved in the loop's configuration (a webhook secret by the name of its
        environment variable only).
    mlflow : MlflowSettings, optional
        Keep the model versions in an MLflow registered model and/or log every step as an
        MLflow run (:mod:`loopwise.loop.mlflow_loop`); saved with the loop. ``model`` may
        then also be an MLflow model URI such as ``"models:/churn@champion"``.
    store : str, optional
        ``postgresql://user@host:port/db`` URL: keep the feedback store (served and shadow
        predictions, labels) on a PostgreSQL server, so processes on many machines serve one
        loop. Saved in the loop's configuration, so later processes reopen it without the
        argument. Default: ``store.db`` and ``shadow.db`` in the loop directory (SQLite).

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from loopwise.datasets import make_drifting_stream
    >>> stream = make_drifting_stream(n_samples=3000, random_state=0)
    >>> model = LogisticRegression().fit(stream.X[:1000], stream.y[:1000])
    >>> loop = FeedbackLoop(tempfile.mkdtemp(), model=model, reference=stream.X[:1000],
    ...                     reference_labels=stream.y[:1000], trusted=True)
    >>> predictions = loop.predict(stream.X[1000:1100], ids=[f"r{i}" for i in range(100)])
    >>> loop.feedback([f"r{i}" for i in range(100)], stream.y[1000:1100])["n_labeled"]
    100
    """

    def __init__(
        self,
        path: Union[str, os.PathLike],
        *,
        model: Any = None,
        reference: Any = None,
        reference_labels: Any = None,
        policy: Optional[Policy] = None,
        sensitive: Optional[Sequence[str]] = None,
        slices: Optional[Sequence[str]] = None,
        monitor_rows: Optional[int] = None,
        trusted: bool = False,
        random_state: Optional[int] = None,
        reconfigure: bool = False,
        durability: str = "full",
        alerts: Optional[Sequence[Any]] = None,
        mlflow: Any = None,
        store: Optional[str] = None,
    ) -> None:
        from . import config as loop_config

        self.path = os.fspath(path)
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ValueError(f"path {self.path!r} is a file; a feedback loop needs a directory")
        if monitor_rows is not None and (isinstance(monitor_rows, bool) or not isinstance(monitor_rows, (int, np.integer))
                                         or monitor_rows < 10):
            raise ValueError(f"monitor_rows must be an int >= 10, got {monitor_rows!r}")
        if policy is not None and not isinstance(policy, Policy):
            raise TypeError(f"policy must be a loopwise.loop.policy.Policy, got {type(policy).__name__}")
        if random_state is not None and (isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer))):
            raise TypeError(f"random_state must be an int, got {type(random_state).__name__}")
        from .alerts import check_sinks
        from .mlflow_loop import MlflowSettings, registered_model

        alerts = None if alerts is None else check_sinks(alerts)
        if mlflow is not None and not isinstance(mlflow, MlflowSettings):
            raise TypeError(f"mlflow must be a loopwise.loop.MlflowSettings or None, got {type(mlflow).__name__}")
        saved = loop_config.read(self.path) if os.path.isdir(self.path) else None
        given = {"policy": policy, "sensitive": sensitive, "slices": slices, "monitor_rows": monitor_rows,
                 "random_state": random_state, "alerts": alerts, "mlflow": None if mlflow is None else mlflow.to_dict(),
                 "store": store}
        defaults = {"policy": None, "sensitive": [], "slices": [], "monitor_rows": 2000, "random_state": 0,
                    "alerts": [], "mlflow": None, "store": None}
        base = {} if saved is None else {"policy": saved.policy, "sensitive": saved.sensitive, "slices": saved.slices,
                                         "monitor_rows": saved.monitor_rows, "random_state": saved.random_state,
                                         "alerts": saved.alerts, "mlflow": saved.mlflow, "store": saved.store}
        if alerts is None and saved is not None and not saved.saved_alerts:
            raise ValueError(
                f"the loop at {self.path!r} was created with alert sinks that could not be saved (a callable that "
                "cannot be imported by path); pass alerts= when opening it, or define the callable in a module"
            )
        merged = {key: (given[key] if given[key] is not None else base.get(key, defaults[key])) for key in given}
        if merged["policy"] is None:
            if saved is not None and not saved.saved_policy:
                raise ValueError(
                    f"the loop at {self.path!r} was created with a policy that could not be saved (a callable that "
                    "cannot be imported by path); pass policy= when opening it, or define the callable in a module"
                )
            merged["policy"] = Policy()
        wanted = loop_config.LoopConfig(policy=merged["policy"], sensitive=list(merged["sensitive"]),
                                        slices=list(merged["slices"]), monitor_rows=int(merged["monitor_rows"]),
                                        random_state=int(merged["random_state"]), alerts=list(merged["alerts"]),
                                        mlflow=merged["mlflow"], store=merged["store"])
        changed = saved.differences(wanted) if saved is not None else []
        if changed and not reconfigure:
            raise ValueError(
                f"the loop at {self.path!r} was configured with other {', '.join(changed)}; open it without "
                "those arguments to use its saved configuration, or pass reconfigure=True to change it (audited)"
            )
        self.policy = wanted.policy
        self.sensitive = wanted.sensitive
        self.slices = wanted.slices
        self.monitor_rows = wanted.monitor_rows
        self.random_state = wanted.random_state
        self.alerts = wanted.alerts
        self.trusted = bool(trusted)
        self.config = wanted
        self.mlflow = MlflowSettings.from_dict(wanted.mlflow)
        if saved is not None and "mlflow" in changed and registered_model(saved) != registered_model(wanted):
            raise ValueError(f"the loop at {self.path!r} keeps its versions in MLflow registered model "
                             f"{registered_model(saved)!r}; a loop's registry cannot be moved")
        from .store import DURABILITY

        if durability not in DURABILITY:
            raise ValueError(f"durability must be one of {list(DURABILITY)}, got {durability!r}")
        self.durability = durability

        created = not os.path.isdir(self.path)
        before = set() if created else set(os.listdir(self.path))
        try:
            self._open(model, reference, reference_labels)
        except BaseException:
            self._discard_new(created, before)
            raise
        if saved is None or changed:
            loop_config.write(self.path, wanted)
            if changed:
                self.audit.record("configuration", reasons=[f"changed: {', '.join(changed)}"],
                                  inputs={"before": saved.to_dict(), "after": wanted.to_dict()})

    def _open(self, model: Any, reference: Any, reference_labels: Any) -> None:
        from .mlflow_loop import adopted_version, open_registry
        from .store import FeedbackStore, loop_store_locations

        if model is None and not os.path.isdir(self.path):
            raise ValueError(f"the loop at {self.path!r} does not exist, so it has no champion: pass model= to start it")
        source = model if isinstance(model, str) else None
        if source is not None:  # an MLflow model URI: the model someone registered there
            from ._mlflow_models import load_model_uri

            model = load_model_uri(model, trusted=self.trusted,
                                   tracking_uri=self.mlflow.tracking_uri if self.mlflow is not None else None)
        if model is not None:
            if not callable(getattr(model, "predict", None)):
                raise TypeError(f"model must have a predict method, got {type(model).__name__}")
            if reference_labels is not None and reference is None:
                raise ValueError("reference_labels needs reference=")
            schema = InputSchema.from_data(reference, "reference") if reference is not None else None
        os.makedirs(self.path, exist_ok=True)
        self._state_path = os.path.join(self.path, _STATE_FILE)
        self._state = self._load_state()
        served, shadowed = loop_store_locations(self.path, self.config.store)
        self.store = FeedbackStore(served, durability=self.durability)
        self.shadow_store = FeedbackStore(shadowed, durability=self.durability)
        self.registry = open_registry(os.path.join(self.path, "registry"), self.mlflow)
        self.audit = self.registry.audit
        self._models: dict[int, Any] = {}
        self._candidates: dict[str, Any] = {}  # candidates trained in this process
        self._reads: Optional[dict] = None  # store reads shared within one check or step
        self.last_ids: list[str] = []
        champion = self.registry.champion()
        # A new loop may adopt the MLflow champion it was started from (mlflow_loop.adopted_version).
        adopting = self._state.get("trained_at") is None and adopted_version(self.registry, source) is not None
        if model is not None and champion is not None and not adopting:
            raise ValueError(
                f"the loop at {self.path!r} already has a champion (version {champion}); "
                "open it without model= to resume, or use a new directory"
            )
        if model is None and champion is None:
            raise ValueError(f"the loop at {self.path!r} has no champion yet: pass model= to start it")
        if model is not None and schema is not None:
            self._state["schema"] = schema.to_dict()
        if reference is not None:
            self._save_reference(reference, reference_labels)
        self._reference = self._load_reference()
        if model is not None:
            self._start(model, source)

    def _discard_new(self, created: bool, before: set) -> None:
        """Remove what a failed constructor created, so a retry starts clean."""
        import shutil

        for name in ("store", "shadow_store", "registry"):
            handle = getattr(self, name, None)
            if handle is not None:
                try:
                    handle.close()
                except Exception:  # noqa: BLE001 - closing what failed to open
                    pass
        if created:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for entry in set(os.listdir(self.path)) - before:
            target = os.path.join(self.path, entry)
            if os.path.isdir(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                try:
                    os.unlink(target)
                except OSError:
                    pass

    # ------------------------------------------------------------------ state
    def _load_state(self) -> dict:
        if not os.path.exists(self._state_path):
            return {"steps": {}, "detector": None, "labels_at_training": 0, "trained_at": None,
                    "shadow": None, "error_cursor": None, "baseline": None, "metric_name": None}
        try:
            with open(self._state_path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"the loop state file {self._state_path!r} is corrupt: {error}") from error

    def _save_state(self) -> None:
        write_json_atomic(self._state_path, self._state)

    @property
    def schema(self) -> Optional[InputSchema]:
        """Names, dtypes and kind (frame or array) of the inputs the loop's models take."""
        data = self._state.get("schema")
        if not data:
            return None
        cached = getattr(self, "_schema_cache", None)
        if cached is None or cached[0] is not data:  # rebuilt only when the state's schema changes
            cached = (data, InputSchema.from_dict(data))
            self._schema_cache = cached
        return cached[1]

    def _model_input(self, frame: pd.DataFrame) -> Any:
        """Stored rows as the user's model takes them (the user's dtypes, or an array)."""
        schema = self.schema
        return schema.restore(frame) if schema is not None else frame

    def _save_reference(self, reference: Any, labels: Any) -> None:
        schema = self.schema or InputSchema.from_data(reference, "reference")
        frame = schema.frame(reference, "reference").reset_index(drop=True)[schema.names].copy()
        if labels is not None:
            labels = np.asarray(labels)
            if labels.ndim != 1 or len(labels) != len(frame):
                raise ValueError(f"reference_labels has {len(labels)} entries but reference has {len(frame)} rows")
            frame["__label__"] = labels
        self._profile_cache = None
        if os.path.exists(os.path.join(self.path, _PROFILE_FILE)):
            os.unlink(os.path.join(self.path, _PROFILE_FILE))  # the profile of the previous reference
        try:
            write_atomic(os.path.join(self.path, _REFERENCE_FILE), lambda temporary: frame.to_parquet(temporary))
        except (ValueError, TypeError, ImportError) as error:
            raise ValueError(f"reference cannot be saved as Parquet: {error}; give each column one type") from error

    def _load_reference(self) -> Optional[pd.DataFrame]:
        path = os.path.join(self.path, _REFERENCE_FILE)
        return pd.read_parquet(path) if os.path.exists(path) else None

    def _reference_profile(self, drift: Any, X_ref: pd.DataFrame) -> Any:
        """The reference's drift profile, fitted once and kept in the loop's directory."""
        profile = getattr(self, "_profile_cache", None)
        if profile is not None:
            return profile
        path = os.path.join(self.path, _PROFILE_FILE)
        try:
            profile = drift.Reference.load(path) if os.path.exists(path) else None
            if profile is not None and list(profile.columns) != [str(c) for c in X_ref.columns]:
                profile = None  # a profile of another reference
        except (OSError, ValueError, KeyError, TypeError):
            profile = None  # unreadable: fit it again
        if profile is None:
            profile = drift.Reference.fit(X_ref)
            # The saved form keeps categories as text: only profiles without categories are kept
            # on disk, so a loaded profile compares exactly like a fitted one.
            if all(column.kind != "categorical" for column in profile.profiles):
                try:
                    write_atomic(path, lambda temporary: profile.save(temporary))
                except OSError:
                    pass  # a read-only directory still monitors, fitting once per process
        self._profile_cache = profile
        return profile

    def _reference_scores(self, version: int, champion: Any, X_ref: pd.DataFrame) -> np.ndarray:
        """The champion's positive-class scores on the reference, computed once per version."""
        cache = self.__dict__.setdefault("_reference_score_cache", {})
        if version not in cache:
            cache.clear()  # only the current champion's are needed
            cache[version] = np.asarray(champion.predict_proba(self._model_input(X_ref)))[:, -1]
        return cache[version]

    def _estimate_without_labels(self, status: Status, version: int, champion: Any, X_ref: pd.DataFrame,
                                 current: pd.DataFrame, names: list, proba: Optional[np.ndarray]) -> None:
        """The champion's metrics on the current rows from CBPE or DLE (``loop/_estimate.py``),
        fitted on the labelled reference once per champion version."""
        from . import _estimate

        cache = self.__dict__.setdefault("_estimator_cache", {})
        if version not in cache:
            cache.clear()  # only the current champion's is needed
            try:
                cache[version] = _estimate.fit_estimator(champion, is_classifier(champion), self._model_input(X_ref),
                                                         X_ref, self._reference_xy()[1], self.random_state)
            except ValueError as error:
                # E.g. a reference label the champion never learned: the check goes on without
                # an estimate, and says why once per champion.
                warnings.warn(f"no label-free estimate for version {version}: {error}", stacklevel=3)
                cache[version] = None
        if cache[version] is None:
            return
        found = _estimate.estimate(cache[version], champion, self._model_input(current), current[names], proba)
        status.estimated_metrics = {m: {"estimate": v, "sampling_error": e} for m, (v, e) in found.items()}
        if status.metric_name in found:
            status.estimated_metric, status.estimated_metric_error = found[status.metric_name]

    def _reference_xy(self) -> tuple[Optional[pd.DataFrame], Optional[np.ndarray]]:
        """The reference as a frame (for monitoring) and its labels."""
        if self._reference is None:
            return None, None
        frame = self._reference
        labels = frame["__label__"].to_numpy() if "__label__" in frame else None
        return frame.drop(columns=["__label__"], errors="ignore"), labels

    def set_reference_profile(self, profile: Any) -> None:
        """Keep ``profile`` (a :class:`loopwise.profiles.Profile`) as the reference of the
        loop's inputs, so :meth:`monitor_profile` compares profiles of new data with it
        without the loop ever loading the reference table (built on Spark, Dask, ...).

        Examples
        --------
        >>> # loop.set_reference_profile(loopwise.spark.profile(spark.table("train")))
        """
        from . import _profile_reference

        path = _profile_reference.save(self.path, profile)
        self.audit.record("reference profile", reasons=[f"stored {os.path.basename(path)}"],
                          inputs={"columns": profile.columns, "n_rows": profile.n_rows})

    def reference_profile(self) -> Any:
        """The stored reference profile, or None (see :meth:`set_reference_profile`)."""
        from . import _profile_reference

        return _profile_reference.load(self.path)

    def monitor_profile(self, current: Any, **options: Any) -> Any:
        """Drift between the stored reference profile and the profile ``current`` of new
        data (built with ``reference=loop.reference_profile()``); options go to
        :func:`loopwise.profiles.compare`. Returns a :class:`loopwise.drift.DriftReport`.

        Examples
        --------
        >>> # loop.monitor_profile(loopwise.spark.profile(todays_rows, reference=loop.reference_profile()))
        """
        from ..profiles import compare

        reference = self.reference_profile()
        if reference is None:
            raise ValueError(f"the loop at {self.path!r} has no reference profile: call set_reference_profile first")
        return compare(reference, current, **options)

    # ------------------------------------------------------------------ models
    def _start(self, model: Any, source: Optional[str] = None) -> None:
        from ._scoring import default_metric, score
        from .mlflow_loop import register_initial

        X_ref, y_ref = self._reference_xy()
        metrics = {}
        metric_name = default_metric(model)
        if X_ref is not None and y_ref is not None:
            metrics[metric_name] = score(model, self._model_input(X_ref), y_ref, metric_name)
        version = register_initial(self.registry, model, source, metrics=metrics, tags={"role": "initial champion"})
        if X_ref is not None and y_ref is not None:
            self._write_card(version, model, self._model_input(X_ref), y_ref, frame=X_ref)
        self.registry.promote(version, reason="initial champion")
        self._state.update(
            baseline=metrics.get(metric_name), metric_name=metric_name, trained_at=str(_now()), labels_at_training=0
        )
        self._save_state()

    def model(self, version_or_alias: Union[int, str] = "champion") -> Any:
        """Load a model version (cached), by number or alias.

        Examples
        --------
        >>> # loop.model() is the champion; loop.model(3) is version 3
        """
        version = self.registry.resolve(version_or_alias)
        if version not in self._models:
            self._models[version] = self.registry.load(version, trusted=self.trusted)
        return self._models[version]

    @property
    def champion_version(self) -> int:
        """Version number of the current champion."""
        return int(self.registry.resolve("champion"))

    # ------------------------------------------------------------------ serving
    def _serve(self, X: Any, ids: Optional[Sequence[Any]], timestamp: Any) -> tuple[Any, np.ndarray, Any]:
        # One registry read per call: another process may have promoted a new champion.
        champion_version = self.champion_version
        champion = self._models.get(champion_version)
        if champion is None:
            champion = self.model(champion_version)
        schema = self.schema
        if schema is None:  # a loop started without a reference learns its inputs from the first batch
            schema = InputSchema.from_data(X, "X")
            self._state["schema"] = schema.to_dict()
            self._save_state()
        if (schema.kind == "array" and isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "fiub"
                and X.shape[1] == len(schema.names) and schema.names == [f"x{j}" for j in range(X.shape[1])]):
            frame = X  # the store logs a numeric array under the same x0, x1, ... names, without pandas
        else:
            frame = schema.frame(X, "X")
        n = len(frame)
        if ids is None:
            ids = [uuid.uuid4().hex for _ in range(n)]
        ids = [str(i) for i in ids]
        if len(ids) != n:
            raise ValueError(f"ids has {len(ids)} entries but X has {n} rows")
        # The user's X reaches the user's model unchanged; only the log sees the frame view.
        predictions = np.asarray(champion.predict(X))
        proba = champion.predict_proba(X) if is_classifier(champion) else None
        self.store.log_predictions(ids, frame, predictions, model_version=champion_version, proba=proba,
                                   timestamp=timestamp)
        shadow = self._state.get("shadow")
        if shadow is not None:
            challenger = self.model(shadow["version"])
            shadow_proba = challenger.predict_proba(X) if is_classifier(challenger) else None
            self.shadow_store.log_predictions(
                ids, frame, np.asarray(challenger.predict(X)), model_version=shadow["version"],
                proba=shadow_proba, timestamp=timestamp,
            )
        self.last_ids = ids
        return predictions, proba, champion

    def predict(self, X: Any, ids: Optional[Sequence[Any]] = None, *, timestamp: Any = None) -> np.ndarray:
        """Predict with the champion and log every row (and the shadow challenger's, if any).

        ``X`` reaches the champion exactly as given (a frame keeps its dtypes and names). The
        rows are logged in one SQLite transaction that is committed before this returns; with
        ``durability="full"`` (default) its write-ahead-log record is also fsynced, so the rows
        survive a power loss; with ``durability="process"`` they survive a killed process and
        reach the disk at the next :meth:`flush` or checkpoint (see the class parameters).

        Parameters
        ----------
        X : array-like or DataFrame
        ids : sequence, optional
            Request ids to join labels to later. Generated when omitted (then read them
            from ``loop.last_ids``).
        timestamp : time or sequence of times, optional
            Prediction time; now by default.

        Returns
        -------
        ndarray
            The champion's predictions.

        Examples
        --------
        >>> # loop.predict(X_batch, ids=request_ids)
        """
        return self._serve(X, ids, timestamp)[0]

    def predict_proba(self, X: Any, ids: Optional[Sequence[Any]] = None, *, timestamp: Any = None) -> np.ndarray:
        """Class probabilities of the champion, logged like :meth:`predict` (classifiers only).

        Examples
        --------
        >>> # loop.predict_proba(X_batch, ids=request_ids)[:, 1]
        """
        champion = self.model(self.champion_version)
        if not is_classifier(champion):
            raise TypeError(f"the champion ({type(champion).__name__}) is not a classifier with predict_proba")
        return np.asarray(self._serve(X, ids, timestamp)[1])

    def log(self, ids: Sequence[Any], X: Any, predictions: Any, *, proba: Any = None, timestamp: Any = None,
            model_version: Optional[int] = None) -> dict:
        """Log predictions made elsewhere (e.g. by a serving system) under a model version.

        Examples
        --------
        >>> # loop.log(ids, X, model.predict(X), model_version=loop.champion_version)
        """
        version = self.champion_version if model_version is None else int(model_version)
        return self.store.log_predictions([str(i) for i in ids], X, predictions, model_version=version,
                                          proba=proba, timestamp=timestamp)

    def feedback(self, ids: Sequence[Any], labels: Any, *, source: str = "ground_truth", confidence: Any = None,
                 timestamp: Any = None, unknown: str = "raise") -> dict:
        """Join delayed labels or human corrections to logged predictions by id.

        Parameters
        ----------
        ids : sequence
            Ids the predictions were logged under.
        labels : array-like
        source : str
            ``"ground_truth"``, ``"human"`` or another source of the store's precedence.
        unknown : {"raise", "ignore"}
            What to do with ids that were never logged: raise (nothing is stored), or store
            the others and report the unknown ids.

        Returns
        -------
        dict
            The store's report (how many were labelled, which ids were unknown).

        Examples
        --------
        >>> # loop.feedback(["r1", "r2"], [0, 1])
        """
        return self.store.add_feedback([str(i) for i in ids], labels, source=source, confidence=confidence,
                                       timestamp=timestamp, unknown=unknown)

    # ------------------------------------------------------------------ monitoring
    def _rows_needed(self) -> int:
        """How many of the newest labelled rows a training attempt can use.

        The largest candidate window (or the rows since a detected change, when more) plus the
        held-out rows; selections without a window (``Reservoir``, custom ones) see the newest
        ``_MAX_HISTORY_ROWS``. Reading only these keeps a step's cost and memory bounded by the
        window, not by the history.
        """
        selection = self.policy.selection
        if isinstance(selection, AdaptiveWindow):
            window = max(max(selection.sizes), selection.min_rows, self._rows_since_change() or 0)
        elif isinstance(selection, SlidingWindow):
            window = int(selection.n_rows)
        elif isinstance(selection, TimeDecay):
            window = int(selection.max_rows)
        else:
            window = _MAX_HISTORY_ROWS
        return max(window + int(self.policy.validation_rows or 0), int(self.policy.min_labels))

    def _labeled(self) -> Any:
        """The newest labelled records a step needs (see :meth:`_rows_needed`), read once per
        check or step."""
        if self._reads is None:
            return self.store.labeled(window=self._rows_needed())
        if "labeled" not in self._reads:
            self._reads["labeled"] = self.store.labeled(window=self._rows_needed())
        return self._reads["labeled"]

    def _current(self) -> pd.DataFrame:
        """The newest logged rows (labelled or not) as one frame with metadata."""
        records = self.store.records(last=self.monitor_rows)
        return records.to_frame().reset_index(drop=True) if len(records) else pd.DataFrame()

    def check(self) -> Status:
        """Look at the loop now: drift, performance, fairness, the error-stream detector.

        Returns
        -------
        Status
        """
        from .. import drift
        from ._scoring import score_arrays

        outer = self._reads is not None
        if not outer:
            self._reads = {}
        try:
            return self._check(drift, score_arrays)
        finally:
            if not outer:
                self._reads = None

    def _check(self, drift: Any, score_arrays: Any) -> Status:
        champion_version = self.champion_version
        champion = self.model(champion_version)
        status = Status(checked_at=str(_now()), champion_version=champion_version)
        status.metric_name = self._state.get("metric_name")
        status.baseline_metric = self._state.get("baseline")
        status.higher_is_better = higher_is_better(status.metric_name or "accuracy")
        current = self._current()
        X_ref, _ = self._reference_xy()
        names = list(X_ref.columns) if X_ref is not None else None
        status.n_current = len(current)

        if X_ref is not None and len(current) >= 10 and names is not None and set(names) <= set(current.columns):
            current_frame = self._model_input(current) if self.schema is not None and self.schema.kind == "frame" \
                else current[names]
            report = self._reference_profile(drift, X_ref).compare(current_frame)
            status.drift_share = float(report.share_drifted)
            status.dataset_drift = bool(report.drifted)
            table = report.table
            status.drift_table = table
            column = "column" if "column" in table.columns else table.columns[0]
            status.drifted_columns = [str(c) for c in table.loc[table["drifted"].astype(bool), column]]
            if status.dataset_drift:
                status.raise_alert(
                    "input_drift",
                    f"input drift: {status.drift_share:.0%} of columns drifted ({', '.join(status.drifted_columns[:5])})",
                    details={"share": status.drift_share, "columns": status.drifted_columns})
            if is_classifier(champion):
                from scipy.stats import ks_2samp

                ref_scores = self._reference_scores(champion_version, champion, X_ref)
                current_proba = np.asarray(champion.predict_proba(self._model_input(current)))
                cur_scores = current_proba[:, -1]
                status.prediction_drift_p = float(ks_2samp(ref_scores, cur_scores).pvalue)
                if status.prediction_drift_p < self.policy.alert_drift_p:
                    status.raise_alert("prediction_drift", f"prediction drift: KS p = {status.prediction_drift_p:.2g}")
            else:
                current_proba = None
            self._estimate_without_labels(status, champion_version, champion, X_ref, current, names, current_proba)

        # The error stream first: it advances the label cursor that the champion's running
        # metric shares, and a change it detects widens the rows a retraining reads.
        status.detector_alarm = self._update_detector(champion_version)
        # The champion's own served predictions (by version, not by time: data time and wall
        # time differ when history is replayed or labels arrive late): running counts over
        # every label of the champion's rows, kept with the cursor.
        counts = self.store.counts()
        status.n_labeled = int(counts.get("labeled", 0))
        served = self._state.get("served") or {}
        if status.metric_name and served.get("n"):
            status.metric = _running_metric(served, status.metric_name)
        if status.metric_name and (self.slices or self.sensitive) and status.n_labeled:
            # Slices and fairness over the newest labelled rows the step reads anyway.
            labeled = self._labeled()
            frame = labeled.to_frame()
            frame = frame[frame["model_version"].astype(str) == str(champion_version)]
            if len(frame):
                for column in self.slices:
                    if column in frame:
                        status.metric_by_slice[column] = {
                            str(value): score_arrays(g["label"].to_numpy(), g["prediction"].to_numpy(), status.metric_name)
                            for value, g in frame.groupby(_slice_groups(frame[column]), observed=True)
                        }
                for column in self.sensitive:
                    if column in frame:
                        status.fairness_gaps[column] = _fairness_gaps(frame, column, self._min_group())
        if status.metric is not None and status.baseline_metric is not None:
            drop = status.baseline_metric - status.metric
            drop = drop if status.higher_is_better else -drop
            if drop > self.policy.alert_drop:
                status.raise_alert(
                    "performance_drop",
                    f"{status.metric_name} {status.metric:.4f} is {drop:.4f} worse than the baseline {status.baseline_metric:.4f}",
                    severity="critical", details={"metric": status.metric, "baseline": status.baseline_metric})
        status.rows_since_change = self._rows_since_change()
        if status.detector_alarm:
            status.raise_alert("error_rate_change",
                               "the error-stream detector (ADWIN) signalled a change in the error rate")
        total_labels = status.n_labeled
        status.new_labels = max(0, total_labels - int(self._state.get("labels_at_training", 0)))
        status.labels_since_attempt = max(0, total_labels - int(self._state.get("labels_at_attempt", 0) or 0))
        trained_at = self._state.get("trained_at")
        status.since_training = None if trained_at is None else _now() - pd.Timestamp(trained_at)
        return status

    def _update_detector(self, champion_version: int) -> bool:
        """Feed the errors of newly labelled rows, in label-arrival order, to ADWIN.

        Only labels that arrived after the cursor are read (the store's arrival index), so a
        check costs what arrived since the last one. The same rows update the champion's
        running metric counts. After a promotion or rollback (the cursor is reset) the new
        champion's labelled rows are read once, through the store's model-version index.

        After an alarm, ADWIN's window holds only the rows since its estimated cut point; its
        width is remembered as the start of the new concept until a challenger is promoted.
        """
        from ..drift.streaming import ADWIN

        state = self._state.get("detector")
        detector = ADWIN.from_dict(state) if state else ADWIN(delta=_DETECTOR_DELTA)
        regression = self._state.get("metric_name") in REGRESSION_METRICS
        cursor = _as_cursor(self._state.get("error_cursor"))
        served = self._state.get("served") or {}
        if served.get("version") != int(champion_version) or cursor is None:
            # A new champion (or a reset cursor): its counts start over from its first label.
            served = {"version": int(champion_version), "n": 0, "sum_error": 0.0, "sum_sq_error": 0.0}
            position = None
            # The champion changed under a running cursor (e.g. promoted by another process):
            # the counts read its whole history, the detector only labels after its cursor.
            seen_until = cursor
        else:
            position = _as_cursor(served.get("cursor")) or cursor
            seen_until = None
        alarm = False
        more = True
        while more:
            times, labels, predictions, position, more = self.store.label_stream(
                champion_version, position, limit=_STREAM_CHUNK)
            if not len(times):
                continue
            if regression:
                errors = np.abs(labels.astype(float) - predictions.astype(float))
            else:
                errors = (~labels_equal(labels, predictions)).astype(float)
            served["n"] += int(len(errors))
            served["sum_error"] += float(errors.sum())
            served["sum_sq_error"] += float(np.square(errors).sum())
            # The detector is fed only what it has not seen (its cursor may lag the counts').
            if seen_until is not None:
                errors = errors[times > seen_until[0]]
            if len(errors):
                alarm = len(detector.update_many(errors)) > 0 or alarm
        if position is not None:
            served["cursor"] = list(position)
            self._state["error_cursor"] = list(position)
        self._state["served"] = served
        if alarm:
            self._state["change_detected"] = True
        self._state["detector"] = detector.to_dict()
        self._save_state()
        return alarm

    def _rows_since_change(self) -> Optional[int]:
        if not self._state.get("change_detected") or not self._state.get("detector"):
            return None
        from ..drift.streaming import ADWIN

        return int(ADWIN.from_dict(self._state["detector"]).width)

    # ------------------------------------------------------------------ one turn
    def step(self, key: Optional[str] = None) -> dict:
        """Run one turn: check, decide by policy, retrain, validate, promote or reject.

        Parameters
        ----------
        key : str, optional
            Idempotency key (e.g. the Airflow data interval). A key that already completed
            returns its stored result without doing anything again.

        Returns
        -------
        dict
            JSON-serialisable: ``action`` ("none", "promoted", "rejected", "shadowing"),
            versions, metrics and reasons.
        """
        if key is not None and key in self._state["steps"]:
            return {**self._state["steps"][key], "repeated": True}
        pending = self._state.get("pending_step")
        if pending is not None:
            # A step killed after it decided: finish that decision before anything else, so a
            # retry (or the next step) never trains and registers a second challenger for it.
            finished = self._finish_pending()
            if pending.get("key") == key:
                return finished
        self._reads = {}
        try:
            result = self._step(key)
        finally:
            self._reads = None
        if self.mlflow is not None and self.mlflow.log_steps:
            from .mlflow_loop import log_step

            log_step(self, result, self._step_status, key)
        return result

    def _step(self, key: Optional[str]) -> dict:
        status = self._step_status = self.check()
        result: dict = {"checked_at": status.checked_at, "champion": status.champion_version, "alerts": status.alerts}
        if self.alerts and status.incidents:
            result["alert_deliveries"] = self._deliver_alerts(status)
        shadow = self._state.get("shadow")
        if shadow is not None:
            result.update(self._evaluate_shadow(shadow))
        else:
            reasons = self.policy.reasons(status)
            result["reasons"] = reasons
            if not reasons:
                result["action"] = "none"
            else:
                self.audit.record("trigger", model_version=status.champion_version, reasons=reasons,
                                  inputs={"status": status.to_dict()})
                result.update(self._retrain(reasons, status.rows_since_change))
        plan = result.pop("_plan", None)
        if plan is not None:
            card = plan.pop("_card", None)  # writes the card from this run's frames (not saved)
            return self._write_intent(key, result, plan, card)
        if key is not None:
            self._state["steps"][key] = result
        self._save_state()
        return json.loads(json.dumps(result, default=str))

    # ------------------------------------------------------------------ intent, act, record
    def _write_intent(self, key: Optional[str], result: dict, plan: dict, card: Any = None) -> dict:
        """Save the step's decision before acting on it, then act and record.

        Registering a version, promoting it and recording the step touch the registry and the
        state file, which no one transaction spans. So the decision goes first into the state
        (``pending_step``: the key, the result, the candidate holding the model); the actions
        that follow are each idempotent — a candidate registers as one version however often
        it is registered, a promotion of the champion is skipped — and the record clears the
        intent. A kill anywhere leaves either no intent (the step runs again from the start;
        at most an unregistered candidate is left, which ``clean_candidates`` removes) or an
        intent that the next :meth:`step` finishes.
        """
        self._state["pending_step"] = {"key": key, "result": json.loads(json.dumps(result, default=str)), **plan}
        self._save_state()
        crash_point("step:after_intent")
        return self._finish_pending(card)

    def _finish_pending(self, card: Any = None) -> dict:
        """Carry out the saved intent of a step (see :meth:`_write_intent`); returns its result."""
        pending = self._state["pending_step"]
        result = dict(pending["result"])
        version = pending.get("version")
        if version is None:
            version = int(self.registry.register_candidate(pending["candidate"], metrics=pending.get("metrics") or {},
                                                           reason=pending.get("reason", "")))
            crash_point("step:after_register")
            self._record_pending_validation(version, result.get("validation"))
            if card is not None:
                card(version)
            else:
                self._write_pending_card(version, pending)
            result["challenger"] = version
        if pending.get("shadow"):
            self._state["shadow"] = {"version": version, "since": str(_now())}
        else:
            if self.registry.champion() != version:  # promoted before a kill: not twice
                self.registry.promote(version, reason=pending.get("reason", ""))
            crash_point("step:after_promote")
            self._state.update(
                baseline=pending.get("baseline"), trained_at=str(_now()), detector=None, error_cursor=None,
                shadow=None, change_detected=False, labels_at_training=int(self.store.counts().get("labeled", 0)),
            )
        if pending.get("key") is not None:
            self._state["steps"][pending["key"]] = result
        self._state["pending_step"] = None
        self._save_state()
        return json.loads(json.dumps(result, default=str))

    def _record_pending_validation(self, version: int, gate: Optional[dict]) -> None:
        """The passed gate's audit entry for the new version, once."""
        if not gate:
            return
        done = self.audit.entries(kind="validation", model_version=version)
        if len(done):
            return
        self.audit.record("validation", model_version=version, reasons=list(gate.get("reasons", [])),
                          passed=bool(gate.get("passed", True)), metrics=gate.get("metrics"),
                          settings=gate.get("settings"), rules=gate.get("rules"))

    def _write_pending_card(self, version: int, pending: dict) -> None:
        """A resumed step's model card, from its held-out rows (the training rows are gone)."""
        from .cards import card_paths

        if os.path.exists(card_paths(self.registry.path, version)[0]) or not pending.get("holdout_ids"):
            return
        frame = self.store.labeled_by_id(list(pending["holdout_ids"])).to_frame()
        if len(frame):
            self._write_card(version, self.model(version), self._model_input(frame), frame["label"].to_numpy(),
                             frame=frame, gate=pending["result"].get("validation"))

    def notify(self, alerts: Sequence[Any], *, model_version: Optional[int] = None) -> list:
        """Deliver alerts through the loop's sinks (as :meth:`step` does with its findings).

        Each incident key is delivered once per sink and cool-down; every outcome is recorded
        in the audit log (kind ``"alert"``); the delivery state is saved at once.

        Parameters
        ----------
        alerts : list of loopwise.loop.alerts.Alert
        model_version : int, optional
            Version the alerts concern (default: the champion).

        Returns
        -------
        list of dict
            Per alert: ``key``, ``severity`` and each sink's outcome.

        Examples
        --------
        >>> # from loopwise.loop.alerts import Alert
        >>> # loop.notify([Alert("data_quality", "late labels: none for 3 days", "warning")])
        """
        from .alerts import Alert, deliver

        alerts = list(alerts)
        if not all(isinstance(alert, Alert) for alert in alerts):
            raise TypeError("alerts must be a list of loopwise.loop.alerts.Alert")
        version = self.champion_version if model_version is None else int(model_version)
        results = deliver(self.alerts, alerts, state=self._state.setdefault("alert_deliveries", {}),
                          audit=self.audit, model_version=version, context={"loop": os.path.abspath(self.path)})
        self._save_state()  # at once: an incident delivered before a crash is not sent again
        return [{"key": r["key"], "severity": r["severity"],
                 "outcomes": {d["sink"]: d["outcome"] for d in r["deliveries"]}} for r in results]

    def _deliver_alerts(self, status: Status) -> list:
        """Deliver the check's alerts; a summary for the step's result."""
        return self.notify(status.incidents, model_version=status.champion_version)

    def _labeled_in_time_order(self) -> tuple[pd.DataFrame, list[str]]:
        """Every labelled row, oldest first, and the feature names."""
        labeled = self._labeled()
        if not len(labeled):
            return pd.DataFrame(), []
        frame = labeled.to_frame()
        names = labeled.feature_names or [c for c in frame.columns if c.startswith("x")]
        order = np.argsort(pd.to_datetime(frame["timestamp"]).to_numpy(), kind="stable")
        return frame.iloc[order].reset_index(drop=True), names

    def _holdout_split(self, n: int, since_change: Optional[int] = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions (in time order) of the training pool and of the newest rows held out.

        Right after a detected change few rows of the new concept exist; holding all of them
        out would leave none to learn it from, so the holdout then shrinks to half the rows
        since the change (at least ``_MIN_HOLDOUT``): the gate still judges on unseen rows
        of the new concept, and the since-change candidate trains on the other half.
        """
        if self.policy.validation_rows is None:
            return np.arange(n), np.zeros(0, dtype=np.int64)
        n_holdout = int(self.policy.validation_rows)
        if since_change is not None and since_change < 2 * n_holdout:
            n_holdout = max(_MIN_HOLDOUT, int(since_change) // 2)
        n_holdout = min(n_holdout, n // 2)
        return np.arange(n - n_holdout), np.arange(n - n_holdout, n)

    def _fit_candidates(self, frame: pd.DataFrame, names: list[str], pool: np.ndarray, holdout: np.ndarray,
                        since_change: Optional[int]) -> dict:
        """Train one challenger per candidate window of ``pool`` and keep the best on ``holdout``.

        Returns a dict with ``model``, ``window`` (name), ``rows`` (positions in ``frame``),
        ``weights``, and ``candidates`` (name, rows, holdout score), or ``note`` when no
        candidate could be trained.
        """
        from ._scoring import score

        champion = self.model(self.champion_version)
        classifier = is_classifier(champion)
        metric = self._state.get("metric_name") or "accuracy"
        timestamps = pd.to_datetime(frame["timestamp"]).to_numpy()
        labels = frame["label"].to_numpy()
        row_weights = frame["weight"].to_numpy(dtype=np.float64)
        if since_change is not None:
            since_change = max(0, int(since_change) - len(holdout))
        windows = self.policy.windows(timestamps[pool], since_change, self.random_state)
        X_hold, y_hold = self._model_input(frame.iloc[holdout]), labels[holdout]
        best: Optional[dict] = None
        tried = []
        for name, chosen, weights in windows:
            rows = pool[np.asarray(chosen, dtype=np.int64)]
            if len(rows) < min(self.policy.min_labels, len(pool)) or (classifier and len(np.unique(labels[rows].astype(str))) < 2):
                tried.append({"window": name, "rows": int(len(rows)), "score": None})
                continue
            weights = np.asarray(weights, dtype=np.float64) * row_weights[rows]
            model = self.policy.retrain(champion, self._model_input(frame.iloc[rows]), labels[rows], weights)
            value = score(model, X_hold, y_hold, metric) if len(holdout) else None
            tried.append({"window": name, "rows": int(len(rows)), "score": value})
            better = best is None or value is None or (
                value >= best["score"] if higher_is_better(metric) else value <= best["score"])
            if better:
                best = {"model": model, "window": name, "rows": rows, "weights": weights, "score": value}
        if best is None:
            return {"note": "no candidate window holds enough labelled rows of more than one class", "candidates": tried}
        return {**best, "candidates": tried}

    def train_challenger(self, reasons: Sequence[str] = ("requested",)) -> dict:
        """Train a challenger by the policy and keep it as a candidate (not promoted).

        The newest labelled rows are held out (``policy.validation_rows``, or the newest
        ``policy.validation_fraction`` of the window) and their ids kept beside the registry,
        so :meth:`validate_challenger` can run later, even in another process.

        The challenger is kept as a registry *candidate* (not a version): a candidate that
        fails the gate is discarded, one that passes becomes a version when promoted.

        Returns
        -------
        dict
            ``challenger`` (candidate id, or None), ``training_window``, or ``note`` when there
            is nothing to train on.
        """
        frame, names = self._labeled_in_time_order()
        if len(frame) < self.policy.min_labels:
            return {"challenger": None, "note": f"only {len(frame)} labelled rows; the policy needs {self.policy.min_labels}"}
        self._state["labels_at_attempt"] = int(self.store.counts().get("labeled", 0))
        since_change = self._rows_since_change()
        pool, holdout = self._holdout_split(len(frame), since_change)
        if not len(holdout):
            chosen, _ = self.policy.selection.select(pd.to_datetime(frame["timestamp"]).to_numpy(), self.random_state)
            train, valid = time_split(pd.to_datetime(frame["timestamp"]).to_numpy()[chosen], self.policy.validation_fraction)
            pool, holdout = np.asarray(chosen)[train], np.asarray(chosen)[valid]
        fitted = self._fit_candidates(frame, names, pool, holdout, since_change)
        if "model" not in fitted:
            return {"challenger": None, "note": fitted["note"]}
        window = self._window_record(frame, fitted)
        candidate = self.registry.add_candidate(
            fitted["model"], data_window=window, parent=self.champion_version,
            tags={"reasons": list(reasons), "retrain": getattr(self.policy.retrain, "name", "custom"),
                  "window": fitted["window"]},
        )
        self._candidates[candidate] = fitted["model"]
        os.makedirs(os.path.join(self.path, "holdout"), exist_ok=True)
        write_json_atomic(os.path.join(self.path, "holdout", f"{candidate}.json"),
                          {"ids": [str(i) for i in frame["id"].iloc[holdout]]})
        self.audit.record("training", model_version=None, reasons=list(reasons),
                          inputs={"candidate": candidate, "training_window": window, "n_train": int(len(fitted["rows"])),
                                  "n_holdout": int(len(holdout)), "candidates": fitted["candidates"]})
        self._save_state()
        return {"challenger": candidate, "training_window": window}

    @staticmethod
    def _window_record(frame: pd.DataFrame, fitted: dict) -> dict:
        stamps = pd.to_datetime(frame["timestamp"].iloc[fitted["rows"]])
        return {"rows": int(len(fitted["rows"])), "from": str(stamps.min()), "to": str(stamps.max()),
                "window": fitted["window"]}

    def _holdout_frame(self, challenger: str) -> pd.DataFrame:
        path = os.path.join(self.path, "holdout", f"{challenger}.json")
        if not os.path.exists(path):
            raise ValueError(f"challenger {challenger!r} was not trained by this loop (no holdout recorded)")
        with open(path, encoding="utf-8") as handle:
            holdout = set(json.load(handle)["ids"])
        return self.store.labeled_by_id(sorted(holdout)).to_frame()

    def _candidate(self, challenger: str) -> Any:
        if challenger not in self._candidates:
            self._candidates[challenger] = self.registry.load_candidate(challenger, trusted=self.trusted)
        return self._candidates[challenger]

    def validate_challenger(self, challenger: Union[str, int]) -> Any:
        """Run the champion/challenger gate on the challenger's held-out rows.

        A candidate (the id :meth:`train_challenger` returned) that fails is discarded from
        the registry; the audit log keeps the decision.

        Returns
        -------
        ValidationResult

        Examples
        --------
        >>> # gate = loop.validate_challenger(loop.train_challenger()["challenger"])
        """
        from .validation import validate

        challenger = str(challenger)
        frame = self._holdout_frame(challenger)
        champion = self.model(self.champion_version)
        gate = validate(champion, self._candidate(challenger), self._model_input(frame), frame["label"].to_numpy(),
                        **self._gate_options())
        record = gate.to_dict()
        self.audit.record("validation", model_version=None, reasons=list(gate.reasons), passed=bool(gate.passed),
                          metrics=record.get("metrics"), settings=record.get("settings"), rules=record.get("rules"),
                          candidate=challenger)
        if not gate.passed:
            self.registry.discard_candidate(challenger, "; ".join(gate.reasons) or "failed the gate")
            self._candidates.pop(challenger, None)
        return gate

    def _min_group(self) -> int:
        """Smallest group with a fairness gap: the gate's ``min_slice_size``, so the monitor
        and the gate judge the same groups."""
        from ._groups import MIN_GROUP_SIZE

        return int(self.policy.gate.get("min_slice_size", MIN_GROUP_SIZE))

    def _gate_options(self) -> dict:
        """The policy's gate settings over defaults that fit the task (a paired test per task)."""
        regression = self._state.get("metric_name") in REGRESSION_METRICS
        defaults: dict = {"test": "bootstrap" if regression else "mcnemar", "random_state": self.random_state}
        # The loop's declared slices and sensitive columns are guardrails of every gate.
        if self.slices:
            defaults["slices"] = list(self.slices)
        if self.sensitive and not regression:
            defaults["sensitive"] = list(self.sensitive)
        return {**defaults, **self.policy.gate}

    def promote(self, version: Union[int, str], *, reason: str = "manual promotion") -> int:
        """Make a version, or a validated candidate, the champion; returns its version.

        A candidate id (a string from :meth:`train_challenger`) is registered as a version
        first. The previous champion stays as the rollback point.

        Examples
        --------
        >>> # loop.promote(3, reason="hotfix")
        """
        from ._scoring import score

        metric = None
        if isinstance(version, str) and not version.isdigit() and self.registry.candidate_version(version) is not None:
            # Registered before a kill (or by another process): finish the promotion, once.
            version = self.registry.candidate_version(version)
            metric = self.registry.info(version)["metrics"].get(self._state.get("metric_name"))
            self._promote(int(version), reason=reason, metric=metric, once=True)
            self._save_state()
            return int(version)
        if isinstance(version, str) and not version.isdigit():
            candidate = version
            frame = self._holdout_frame(candidate)
            if len(frame):
                metric = score(self._candidate(candidate), self._model_input(frame), frame["label"].to_numpy(),
                               self._state.get("metric_name"))
            metrics = {} if metric is None else {self._state.get("metric_name"): metric}
            version = self.registry.register_candidate(candidate, metrics=metrics, reason=reason)
            self._models[int(version)] = self._candidates.pop(candidate, None) or self.registry.load(
                int(version), trusted=self.trusted)
            if len(frame):
                self._write_card(int(version), self._models[int(version)], self._model_input(frame),
                                 frame["label"].to_numpy(), frame=frame)
        self._promote(int(version), reason=reason, metric=metric)
        self._save_state()
        return int(version)

    def _retrain(self, reasons: list[str], since_change: Optional[int]) -> dict:
        """One training attempt: candidates on the pool, the best judged on the newest rows.

        A rejected challenger is not registered (the audit log keeps the decision); a passing
        one is registered and promoted (or shadowed).
        """
        from .validation import validate

        frame, names = self._labeled_in_time_order()
        if len(frame) < self.policy.min_labels:
            return {"action": "none", "note": f"only {len(frame)} labelled rows; the policy needs {self.policy.min_labels}"}
        if self.policy.validation_rows is None:
            trained = self.train_challenger(reasons)  # the legacy split: holdout inside the window
            if trained["challenger"] is None:
                return {"action": "none", "note": trained["note"]}
            return self._decide(trained["challenger"], self.validate_challenger(trained["challenger"]), reasons,
                                trained["training_window"])
        self._state["labels_at_attempt"] = int(self.store.counts().get("labeled", 0))
        pool, holdout = self._holdout_split(len(frame), since_change)
        fitted = self._fit_candidates(frame, names, pool, holdout, since_change)
        if "model" not in fitted:
            return {"action": "none", "note": fitted["note"]}
        champion_version = self.champion_version
        champion = self.model(champion_version)
        X_hold, y_hold = self._model_input(frame.iloc[holdout]), frame["label"].to_numpy()[holdout]
        options = self._gate_options()
        stale_p = self._stale_p(champion, X_hold, y_hold)
        stale = stale_p is not None and self.policy.stale_alpha is not None and stale_p < self.policy.stale_alpha
        if stale and "require_significance" not in self.policy.gate:
            # A stale champion is owed no margin: a challenger must only score better.
            options.update(require_significance=False, min_gain=max(float(options.get("min_gain", 0.0)), 1e-12))
        gate = validate(champion, fitted["model"], X_hold, y_hold, **options)
        window = self._window_record(frame, fitted)
        gate_record = gate.to_dict()
        self.audit.record("training", model_version=None, reasons=list(reasons),
                          inputs={"training_window": window, "n_train": int(len(fitted["rows"])),
                                  "n_holdout": int(len(holdout)), "candidates": fitted["candidates"]})
        out = {"challenger": None, "validation": gate_record, "training_window": window,
               "candidates": fitted["candidates"], "champion_stale_p": stale_p}
        if not gate.passed:
            self.audit.record("validation", model_version=None, reasons=list(gate.reasons), passed=False,
                              metrics=gate_record.get("metrics"), settings=gate_record.get("settings"),
                              rules=gate_record.get("rules"), note="rejected challenger not registered")
            out["action"] = "rejected"
            out["reasons_rejected"] = list(gate.reasons)
            return out
        model, rows = fitted["model"], fitted["rows"]
        if self.policy.refit_with_holdout:
            rows = np.concatenate([fitted["rows"], holdout])
            weights = np.concatenate([fitted["weights"], frame["weight"].to_numpy(dtype=np.float64)[holdout]])
            model = self.policy.retrain(champion, self._model_input(frame.iloc[rows]), frame["label"].to_numpy()[rows], weights)
            window = self._window_record(frame, {**fitted, "rows": rows})
        # The model waits as a candidate: registering it later is idempotent (one version per
        # candidate), which is what lets a killed step finish without a second version.
        candidate = self.registry.add_candidate(
            model, metrics={gate.metrics["metric"]: gate.metrics["challenger"]}, data_window=window,
            parent=champion_version,
            tags={"reasons": list(reasons), "retrain": getattr(self.policy.retrain, "name", "custom"),
                  "window": fitted["window"], "refit_with_holdout": bool(self.policy.refit_with_holdout)},
        )
        out["training_window"] = window
        out["action"] = "shadowing" if self.policy.shadow else "promoted"
        judged = fitted["model"] if model is not fitted["model"] else None
        out["_plan"] = {
            "candidate": candidate, "reason": "; ".join(reasons), "shadow": bool(self.policy.shadow),
            "baseline": float(gate.metrics["challenger"]),
            "holdout_ids": [str(i) for i in frame["id"].iloc[holdout]],
            "_card": lambda version: self._write_card(version, model, X_hold, y_hold, frame=frame.iloc[holdout],
                                                      train_frame=frame.iloc[rows], gate=gate_record, judged=judged),
        }
        return out

    def _write_card(self, version: int, model: Any, X: Any, y: np.ndarray, *, frame: Optional[pd.DataFrame] = None,
                    train_frame: Optional[pd.DataFrame] = None, gate: Optional[dict] = None,
                    judged: Any = None) -> None:
        """Write the version's model card into the registry (``cards/v<n>.json``, ``.html``).

        A card that cannot be written is recorded in the audit log; it never stops the loop.
        """
        from .cards import build_card, save_card

        try:
            reference, _ = self._reference_xy()
            card = build_card(self.registry, version, model, X, y, X_train=train_frame, reference=reference,
                              gate=gate, slices=list(self.slices or []), sensitive=list(self.sensitive or []),
                              group_frame=frame, judged_model=judged, random_state=self.random_state)
            save_card(self.registry.path, card)
        except Exception as error:  # the card documents a version; failing to write it must not lose the version
            self.audit.record("card", model_version=int(version), passed=False,
                              reasons=[f"no model card: {type(error).__name__}: {error}"])

    def _stale_p(self, champion: Any, X: Any, y: np.ndarray) -> Optional[float]:
        """p-value of "the champion is worse on these rows than its baseline" (None: untested)."""
        from ._staleness import stale_p_value

        metric = self._state.get("metric_name")
        if not metric or not len(y):
            return None
        return stale_p_value(metric, y, np.asarray(champion.predict(X)), self._state.get("baseline"))

    def _decide(self, version: Union[int, str], gate: Any, reasons: list[str], window: dict) -> dict:
        out = {"challenger": version, "validation": gate.to_dict(), "training_window": window}
        if not gate.passed:
            out["action"] = "rejected"
            out["reasons_rejected"] = list(gate.reasons)
            return out
        from ._scoring import score

        candidate = str(version)
        frame = self._holdout_frame(candidate)
        metric_name = self._state.get("metric_name")
        metric = (score(self._candidate(candidate), self._model_input(frame), frame["label"].to_numpy(), metric_name)
                  if len(frame) else None)
        out["action"] = "shadowing" if self.policy.shadow else "promoted"
        out["_plan"] = {"candidate": candidate, "reason": "; ".join(reasons), "shadow": bool(self.policy.shadow),
                        "metrics": {} if metric is None else {metric_name: metric}, "baseline": metric,
                        "holdout_ids": [str(i) for i in frame["id"]] if len(frame) else []}
        return out

    def _promote(self, version: int, *, reason: str, metric: Optional[float], once: bool = False) -> None:
        if not (once and self.registry.champion() == version):  # once: not again after a kill
            self.registry.promote(version, reason=reason)
        self._state.update(
            baseline=metric, trained_at=str(_now()), detector=None, error_cursor=None, shadow=None,
            change_detected=False, labels_at_training=int(self.store.counts().get("labeled", 0)),
        )

    def _evaluate_shadow(self, shadow: dict) -> dict:
        from ._scoring import score
        from .validation import validate

        version = int(shadow["version"])
        # Judge the challenger on the live requests it shadowed (joined by id), not by wall
        # time: prediction timestamps are the caller's and may be data time.
        shadowed = self.shadow_store.predictions()
        shadowed_ids = set(shadowed.loc[shadowed["model_version"].astype(str) == str(version), "id"].astype(str))
        labeled = self.store.labeled_by_id(sorted(shadowed_ids))
        frame = labeled.to_frame() if len(labeled) else pd.DataFrame(columns=["id"])
        if len(frame) < self.policy.min_labels:
            return {"action": "shadowing", "challenger": version,
                    "note": f"{len(frame)} labels of {len(shadowed_ids)} shadowed requests so far"}
        champion = self.model(self.champion_version)
        challenger = self.model(version)
        gate = validate(champion, challenger, self._model_input(frame), frame["label"].to_numpy(), **self._gate_options())
        self.audit.record_validation(gate, model_version=version)
        if gate.passed:
            metric = score(challenger, self._model_input(frame), frame["label"].to_numpy(), self._state.get("metric_name"))
            return {"action": "promoted", "challenger": version, "validation": gate.to_dict(),
                    "n_shadow_labels": int(len(frame)),
                    "_plan": {"version": version, "reason": "passed the gate in shadow mode", "baseline": metric}}
        self._state["shadow"] = None
        return {"action": "rejected", "challenger": version, "reasons_rejected": list(gate.reasons)}

    def rollback(self, reason: str = "manual rollback") -> int:
        """Restore the previous champion; returns its version."""
        version = self.registry.rollback(reason=reason)
        self._state.update(detector=None, error_cursor=None)
        self._save_state()
        return int(version)

    def report(self, path: Union[str, os.PathLike], *, status: Optional[Status] = None) -> str:
        """Write one self-contained HTML report (status, drift, performance over time, decisions)."""
        from .report import write_report

        return write_report(self, path, status=status if status is not None else self.check())

    def champion_card_path(self) -> Optional[str]:
        """Path of the champion's model card (HTML), refreshed with its promotions; None without one.

        Examples
        --------
        >>> # loop.champion_card_path()  # '<loop>/registry/cards/v3.html'
        """
        from .cards import card_paths

        version = self.champion_version
        if version is None or not os.path.exists(card_paths(self.registry.path, version)[0]):
            return None
        return self.registry.card(version).save(card_paths(self.registry.path, version)[1])

    def flush(self) -> None:
        """Make every logged row durable against power loss (with ``durability="process"``).

        Examples
        --------
        >>> # loop.flush()  # e.g. at the end of a batch served with durability="process"
        """
        self.store.flush()
        self.shadow_store.flush()

    def close(self) -> None:
        """Close the databases."""
        self.store.close()
        self.shadow_store.close()
        self.registry.close()

    def __enter__(self) -> "FeedbackLoop":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        registry = getattr(self, "registry", None)
        return f"FeedbackLoop({self.path!r}, champion={registry.champion() if registry is not None else None})"


def _slice_groups(values: pd.Series) -> np.ndarray:
    """Groups of a slice column, by the gate's rule, so the monitor and the gate speak of the
    same slices."""
    from ._groups import group_labels

    return group_labels(values.to_numpy())


def _fairness_gaps(frame: pd.DataFrame, column: str, min_size: int) -> dict:
    """The gate's fairness gaps of the champion's served predictions (binary labels), with
    the gate's positive class and smallest group."""
    from ._groups import fairness_gaps
    from ._scoring import positive_class

    labels, predictions = frame["label"].to_numpy(), frame["prediction"].to_numpy()
    classes = pd.unique(labels).tolist()
    if not classes:
        return {}
    positive = np.asarray([positive_class(classes)] * len(frame), dtype=object)
    return fairness_gaps(_slice_groups(frame[column]), labels_equal(labels, positive),
                         labels_equal(predictions, positive), min_size)


def _as_cursor(value: Any) -> Optional[tuple[int, str]]:
    """The error-stream cursor ``(label time ns, id)`` from the state (older states kept a
    label time as text: labels at that time were already fed)."""
    if value is None:
        return None
    if isinstance(value, str):
        return int(pd.Timestamp(value).value), "\U0010ffff"
    return int(value[0]), str(value[1])


def _running_metric(served: dict, metric: str) -> Optional[float]:
    """The champion's served-labels metric from its running error counts."""
    n = served["n"]
    if metric == "accuracy":
        return float(1.0 - served["sum_error"] / n)
    if metric == "rmse":
        return float(np.sqrt(served["sum_sq_error"] / n))
    if metric == "mae":
        return float(served["sum_error"] / n)
    return None
