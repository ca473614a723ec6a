"""``FeedbackLoop``: serve, log, join labels, monitor, retrain, validate, promote.

One directory holds everything the loop remembers:

- ``store.db``     every served prediction and every label or correction (FeedbackStore)
- ``shadow.db``    predictions of a challenger running in shadow mode
- ``registry/``    immutable model versions, aliases and the audit log (ModelRegistry)
- ``reference.*``  the reference data the inputs are compared with
- ``state.json``   the loop's own small state (detector state, last training, step keys),
                   replaced atomically after every decision

A kill at any moment leaves these consistent: a model version is written before it is
promoted, the state file is replaced only after the registry moved, and a step that did not
finish is simply run again (``step(key=...)`` is idempotent per key).
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .._input import as_matrix
from .policy import Policy, time_split
from .status import Status

__all__ = ["FeedbackLoop"]

_STATE_FILE = "state.json"
_REFERENCE_FILE = "reference.parquet"


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").tz_localize(None)


def _write_json_atomic(path: str, data: dict) -> None:
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _is_classifier(model: Any) -> bool:
    return hasattr(model, "predict_proba") and (
        hasattr(model, "classes_") or getattr(model, "task", "regression") != "regression"
    )


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
        monitor_rows: int = 2000,
        trusted: bool = False,
        random_state: int = 0,
    ) -> None:
        from .registry import ModelRegistry
        from .store import FeedbackStore

        self.path = os.fspath(path)
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ValueError(f"path {self.path!r} is a file; a feedback loop needs a directory")
        os.makedirs(self.path, exist_ok=True)
        if monitor_rows < 10:
            raise ValueError(f"monitor_rows must be >= 10, got {monitor_rows}")
        self.policy = policy if policy is not None else Policy()
        self.sensitive = list(sensitive or [])
        self.slices = list(slices or [])
        self.monitor_rows = int(monitor_rows)
        self.trusted = bool(trusted)
        self.random_state = int(random_state)
        self.store = FeedbackStore(os.path.join(self.path, "store.db"))
        self.shadow_store = FeedbackStore(os.path.join(self.path, "shadow.db"))
        self.registry = ModelRegistry(os.path.join(self.path, "registry"))
        self.audit = self.registry.audit
        self._state_path = os.path.join(self.path, _STATE_FILE)
        self._state = self._load_state()
        self._models: dict[int, Any] = {}
        self._reads: Optional[dict] = None  # store reads shared within one check or step
        self.last_ids: list[str] = []

        if reference is not None:
            self._save_reference(reference, reference_labels)
        self._reference = self._load_reference()

        champion = self.registry.champion()
        if model is not None:
            if champion is not None:
                raise ValueError(
                    f"the loop at {self.path!r} already has a champion (version {champion}); "
                    "open it without model= to resume, or use a new directory"
                )
            self._start(model)
        elif champion is None:
            raise ValueError(f"the loop at {self.path!r} has no champion yet: pass model= to start it")

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
        _write_json_atomic(self._state_path, self._state)

    def _save_reference(self, reference: Any, labels: Any) -> None:
        matrix = as_matrix(reference, name="reference", allow_nan=True)
        names = matrix.feature_names or [f"x{j}" for j in range(matrix.values.shape[1])]
        frame = pd.DataFrame(matrix.values.astype(np.float64), columns=names)
        if labels is not None:
            labels = np.asarray(labels)
            if len(labels) != len(frame):
                raise ValueError(f"reference_labels has {len(labels)} entries but reference has {len(frame)} rows")
            frame["__label__"] = labels
        frame.to_parquet(os.path.join(self.path, _REFERENCE_FILE + ".tmp"))
        os.replace(os.path.join(self.path, _REFERENCE_FILE + ".tmp"), os.path.join(self.path, _REFERENCE_FILE))

    def _load_reference(self) -> Optional[pd.DataFrame]:
        path = os.path.join(self.path, _REFERENCE_FILE)
        return pd.read_parquet(path) if os.path.exists(path) else None

    def _reference_xy(self) -> tuple[Optional[pd.DataFrame], Optional[np.ndarray]]:
        if self._reference is None:
            return None, None
        frame = self._reference
        labels = frame["__label__"].to_numpy() if "__label__" in frame else None
        return frame.drop(columns=["__label__"], errors="ignore"), labels

    # ------------------------------------------------------------------ models
    def _start(self, model: Any) -> None:
        from ._scoring import default_metric, score

        X_ref, y_ref = self._reference_xy()
        metrics = {}
        metric_name = default_metric(model)
        if X_ref is not None and y_ref is not None:
            metrics[metric_name] = score(model, X_ref, y_ref, metric_name)
        version = self.registry.register(model, metrics=metrics, tags={"role": "initial champion"})
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
    def predict(self, X: Any, ids: Optional[Sequence[Any]] = None, *, timestamp: Any = None) -> np.ndarray:
        """Predict with the champion and log every row (and the shadow challenger's, if any).

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
        """
        champion_version = self.champion_version
        champion = self.model(champion_version)
        frame = X if hasattr(X, "columns") else pd.DataFrame(as_matrix(X, name="X").values)
        n = len(frame)
        if ids is None:
            ids = [uuid.uuid4().hex for _ in range(n)]
        ids = [str(i) for i in ids]
        if len(ids) != n:
            raise ValueError(f"ids has {len(ids)} entries but X has {n} rows")
        predictions = np.asarray(champion.predict(frame))
        proba = champion.predict_proba(frame) if _is_classifier(champion) else None
        self.store.log_predictions(ids, frame, predictions, model_version=champion_version, proba=proba, timestamp=timestamp)
        shadow = self._state.get("shadow")
        if shadow is not None:
            challenger = self.model(shadow["version"])
            shadow_proba = challenger.predict_proba(frame) if _is_classifier(challenger) else None
            self.shadow_store.log_predictions(
                ids, frame, np.asarray(challenger.predict(frame)), model_version=shadow["version"],
                proba=shadow_proba, timestamp=timestamp,
            )
        self.last_ids = ids
        return predictions

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
                 timestamp: Any = None) -> dict:
        """Join delayed labels or human corrections to logged predictions by id.

        Returns the store's report (how many were labelled, which ids were unknown).
        """
        return self.store.add_feedback([str(i) for i in ids], labels, source=source, confidence=confidence,
                                       timestamp=timestamp)

    # ------------------------------------------------------------------ monitoring
    def _labeled(self) -> Any:
        """All labelled records, read once per check or step."""
        if self._reads is None:
            return self.store.labeled()
        if "labeled" not in self._reads:
            self._reads["labeled"] = self.store.labeled()
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
        status.higher_is_better = status.metric_name not in ("rmse", "mae", "log_loss")
        current = self._current()
        X_ref, _ = self._reference_xy()
        names = list(X_ref.columns) if X_ref is not None else None
        status.n_current = len(current)

        if X_ref is not None and len(current) >= 10 and names is not None and set(names) <= set(current.columns):
            report = drift.compare(X_ref, current[names])
            status.drift_share = float(report.share_drifted)
            status.dataset_drift = bool(report.drifted)
            table = report.table
            status.drift_table = table
            column = "column" if "column" in table.columns else table.columns[0]
            status.drifted_columns = [str(c) for c in table.loc[table["drifted"].astype(bool), column]]
            if status.dataset_drift:
                status.alerts.append(
                    f"input drift: {status.drift_share:.0%} of columns drifted ({', '.join(status.drifted_columns[:5])})"
                )
            if _is_classifier(champion):
                from scipy.stats import ks_2samp

                ref_scores = np.asarray(champion.predict_proba(X_ref))[:, -1]
                cur_scores = np.asarray(champion.predict_proba(current[names]))[:, -1]
                status.prediction_drift_p = float(ks_2samp(ref_scores, cur_scores).pvalue)
                if status.prediction_drift_p < 0.01:
                    status.alerts.append(f"prediction drift: KS p = {status.prediction_drift_p:.2g}")
                # CBPE: expected accuracy of a calibrated classifier from its own confidence.
                proba = np.asarray(champion.predict_proba(current[names]))
                status.estimated_metric = float(np.mean(proba.max(axis=1)))

        # The champion's own served predictions (by version, not by time: data time and wall
        # time differ when history is replayed or labels arrive late).
        labeled = self._labeled()
        status.n_labeled = len(labeled)
        if len(labeled) and status.metric_name:
            frame = labeled.to_frame()
            frame = frame[frame["model_version"].astype(str) == str(champion_version)]
            if len(frame):
                status.metric = score_arrays(frame["label"].to_numpy(), frame["prediction"].to_numpy(), status.metric_name)
                for column in self.slices:
                    if column in frame:
                        status.metric_by_slice[column] = {
                            str(value): score_arrays(g["label"].to_numpy(), g["prediction"].to_numpy(), status.metric_name)
                            for value, g in frame.groupby(_slice_groups(frame[column]), observed=True)
                        }
                for column in self.sensitive:
                    if column in frame:
                        status.fairness_gaps[column] = _fairness_gaps(frame, column)
                if status.baseline_metric is not None:
                    drop = status.baseline_metric - status.metric
                    drop = drop if status.higher_is_better else -drop
                    if drop > 0.02:
                        status.alerts.append(
                            f"{status.metric_name} {status.metric:.4f} is {drop:.4f} worse than the baseline {status.baseline_metric:.4f}"
                        )
        status.detector_alarm = self._update_detector(champion_version)
        if status.detector_alarm:
            status.alerts.append("the error-stream detector (ADWIN) signalled a change in the error rate")
        total_labels = int(self.store.counts().get("labeled", 0))
        status.new_labels = max(0, total_labels - int(self._state.get("labels_at_training", 0)))
        trained_at = self._state.get("trained_at")
        status.since_training = None if trained_at is None else _now() - pd.Timestamp(trained_at)
        return status

    def _update_detector(self, champion_version: int) -> bool:
        """Feed the errors of newly labelled rows, in label-arrival order, to ADWIN."""
        from ..drift.streaming import ADWIN

        state = self._state.get("detector")
        detector = ADWIN.from_dict(state) if state else ADWIN()
        labeled = self._labeled()
        if not len(labeled):
            return False
        frame = labeled.to_frame()
        order_column = "label_timestamp" if "label_timestamp" in frame else "timestamp"
        frame = frame.sort_values([order_column, "id"], kind="stable")
        cursor = self._state.get("error_cursor")
        if cursor is not None:
            frame = frame[frame[order_column].astype(str) > cursor]
        frame = frame[frame["model_version"].astype(str) == str(champion_version)]
        alarm = False
        if len(frame):
            labels = frame["label"].to_numpy()
            predictions = frame["prediction"].to_numpy()
            if self._state.get("metric_name") in ("rmse", "mae"):
                errors = np.abs(labels.astype(float) - predictions.astype(float))
            else:
                errors = (labels.astype(str) != predictions.astype(str)).astype(float)
            alarm = len(detector.update_many(errors)) > 0
            self._state["error_cursor"] = str(frame[order_column].iloc[-1])
        self._state["detector"] = detector.to_dict()
        self._save_state()
        return alarm

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
        self._reads = {}
        try:
            return self._step(key)
        finally:
            self._reads = None

    def _step(self, key: Optional[str]) -> dict:
        status = self.check()
        result: dict = {"checked_at": status.checked_at, "champion": status.champion_version, "alerts": status.alerts}
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
                result.update(self._retrain(reasons))
        if key is not None:
            self._state["steps"][key] = result
        self._save_state()
        return json.loads(json.dumps(result, default=str))

    def _training_rows(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, pd.Series, np.ndarray]:
        labeled = self._labeled()
        if not len(labeled):
            return pd.DataFrame(), np.zeros(0), np.zeros(0), pd.Series(dtype="datetime64[ns]"), np.zeros(0, dtype=object)
        frame = labeled.to_frame()
        names = labeled.feature_names or [c for c in frame.columns if c.startswith("x")]
        timestamps = pd.to_datetime(frame["timestamp"]).to_numpy()
        chosen, weights = self.policy.selection.select(timestamps, self.random_state)
        frame = frame.iloc[chosen].reset_index(drop=True)
        weights = np.asarray(weights, dtype=np.float64) * frame["weight"].to_numpy(dtype=np.float64)
        return frame[names], frame["label"].to_numpy(), weights, frame["timestamp"], frame["id"].astype(str).to_numpy()

    def train_challenger(self, reasons: Sequence[str] = ("requested",)) -> dict:
        """Train a challenger by the policy on the selected window and register it (not promoted).

        The newest ``policy.validation_fraction`` of the window is held out (a time split) and
        its ids are kept beside the registry, so :meth:`validate_challenger` can run later, even
        in another process.

        Returns
        -------
        dict
            ``challenger`` (version or None), ``training_window``, or ``note`` when there is
            nothing to train on.
        """
        X, y, weights, timestamps, ids = self._training_rows()
        if len(y) < self.policy.min_labels:
            return {"challenger": None, "note": f"only {len(y)} labelled rows; the policy needs {self.policy.min_labels}"}
        train, valid = time_split(pd.to_datetime(timestamps).to_numpy(), self.policy.validation_fraction)
        champion_version = self.champion_version
        champion = self.model(champion_version)
        if _is_classifier(champion) and len(np.unique(y[train].astype(str))) < 2:
            return {"challenger": None, "note": "the training window holds a single class"}
        challenger = self.policy.retrain(champion, X.iloc[train], y[train], weights[train])
        window = {"rows": int(len(y)), "from": str(pd.Timestamp(timestamps.min())), "to": str(pd.Timestamp(timestamps.max()))}
        version = self.registry.register(
            challenger, metrics={}, data_window=window, parent=champion_version,
            tags={"reasons": list(reasons), "retrain": getattr(self.policy.retrain, "name", "custom")},
        )
        os.makedirs(os.path.join(self.path, "holdout"), exist_ok=True)
        _write_json_atomic(os.path.join(self.path, "holdout", f"{version}.json"), {"ids": [str(i) for i in ids[valid]]})
        self.audit.record("training", model_version=version, reasons=list(reasons),
                          inputs={"training_window": window, "n_train": int(len(train)), "n_holdout": int(len(valid))})
        return {"challenger": int(version), "training_window": window}

    def validate_challenger(self, version: int) -> Any:
        """Run the champion/challenger gate on the challenger's held-out rows.

        Returns
        -------
        ValidationResult
        """
        from .validation import validate

        path = os.path.join(self.path, "holdout", f"{int(version)}.json")
        if not os.path.exists(path):
            raise ValueError(f"version {version} was not trained by this loop (no holdout recorded)")
        with open(path, encoding="utf-8") as handle:
            holdout = set(json.load(handle)["ids"])
        labeled = self._labeled()
        frame = labeled.to_frame()
        frame = frame[frame["id"].astype(str).isin(holdout)]
        names = labeled.feature_names or [c for c in frame.columns if c.startswith("x")]
        champion = self.model(self.champion_version)
        challenger = self.model(int(version))
        gate = validate(champion, challenger, frame[names], frame["label"].to_numpy(), **self._gate_options())
        self.audit.record_validation(gate, model_version=int(version))
        return gate

    def _gate_options(self) -> dict:
        """The policy's gate settings over defaults that fit the task (a paired test per task)."""
        regression = self._state.get("metric_name") in ("rmse", "mae")
        defaults: dict = {"test": "bootstrap" if regression else "mcnemar", "random_state": self.random_state}
        # The loop's declared slices and sensitive columns are guardrails of every gate.
        if self.slices:
            defaults["slices"] = list(self.slices)
        if self.sensitive and not regression:
            defaults["sensitive"] = list(self.sensitive)
        return {**defaults, **self.policy.gate}

    def promote(self, version: int, *, reason: str = "manual promotion") -> None:
        """Make ``version`` the champion (the previous one stays as the rollback point)."""
        from ._scoring import score

        metric = None
        path = os.path.join(self.path, "holdout", f"{int(version)}.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                holdout = set(json.load(handle)["ids"])
            labeled = self.store.labeled()
            frame = labeled.to_frame()
            frame = frame[frame["id"].astype(str).isin(holdout)]
            names = labeled.feature_names or [c for c in frame.columns if c.startswith("x")]
            if len(frame):
                metric = score(self.model(int(version)), frame[names], frame["label"].to_numpy(), self._state.get("metric_name"))
        self._promote(int(version), reason=reason, metric=metric)
        self._save_state()

    def _retrain(self, reasons: list[str]) -> dict:
        trained = self.train_challenger(reasons)
        if trained["challenger"] is None:
            return {"action": "none", "note": trained["note"]}
        version = trained["challenger"]
        gate = self.validate_challenger(version)
        out = {"challenger": version, "validation": gate.to_dict(), "training_window": trained["training_window"]}
        if not gate.passed:
            out["action"] = "rejected"
            out["reasons_rejected"] = list(gate.reasons)
            return out
        if self.policy.shadow:
            self._state["shadow"] = {"version": version, "since": str(_now())}
            out["action"] = "shadowing"
            return out
        self.promote(version, reason="; ".join(reasons))
        out["action"] = "promoted"
        return out

    def _promote(self, version: int, *, reason: str, metric: Optional[float]) -> None:
        self.registry.promote(version, reason=reason)
        self._state.update(
            baseline=metric, trained_at=str(_now()), detector=None, error_cursor=None, shadow=None,
            labels_at_training=int(self.store.counts().get("labeled", 0)),
        )

    def _evaluate_shadow(self, shadow: dict) -> dict:
        from ._scoring import score
        from .validation import validate

        version = int(shadow["version"])
        # Judge the challenger on the live requests it shadowed (joined by id), not by wall
        # time: prediction timestamps are the caller's and may be data time.
        shadowed = self.shadow_store.predictions()
        shadowed_ids = set(shadowed.loc[shadowed["model_version"].astype(str) == str(version), "id"].astype(str))
        labeled = self._labeled()
        frame = labeled.to_frame() if len(labeled) else pd.DataFrame(columns=["id"])
        frame = frame[frame["id"].astype(str).isin(shadowed_ids)]
        if len(frame) < self.policy.min_labels:
            return {"action": "shadowing", "challenger": version,
                    "note": f"{len(frame)} labels of {len(shadowed_ids)} shadowed requests so far"}
        names = labeled.feature_names or [c for c in frame.columns if c.startswith("x")]
        champion = self.model(self.champion_version)
        challenger = self.model(version)
        gate = validate(champion, challenger, frame[names], frame["label"].to_numpy(), **self._gate_options())
        self.audit.record_validation(gate, model_version=version)
        if gate.passed:
            metric = score(challenger, frame[names], frame["label"].to_numpy(), self._state.get("metric_name"))
            self._promote(version, reason="passed the gate in shadow mode", metric=metric)
            return {"action": "promoted", "challenger": version, "validation": gate.to_dict(),
                    "n_shadow_labels": int(len(frame))}
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
        return f"FeedbackLoop({self.path!r}, champion={self.registry.champion()})"


def _slice_groups(values: pd.Series) -> np.ndarray:
    """Groups of a slice column, by the validation gate's rule (values, or quartiles of a
    many-valued number), so the monitor and the gate speak of the same slices."""
    from .validation import _group_labels

    return _group_labels(values.to_numpy())


def _fairness_gaps(frame: pd.DataFrame, column: str) -> dict:
    """Largest between-group differences of positive rate, TPR and FPR (binary labels)."""
    gaps: dict = {}
    labels = frame["label"].astype(str)
    predictions = frame["prediction"].astype(str)
    positive = sorted(labels.unique())[-1] if len(labels.unique()) else None
    rates: dict[str, list] = {"positive_rate": [], "tpr": [], "fpr": []}
    for _, group in frame.groupby(column):
        y = labels.loc[group.index] == positive
        p = predictions.loc[group.index] == positive
        rates["positive_rate"].append(p.mean())
        if y.any():
            rates["tpr"].append(p[y].mean())
        if (~y).any():
            rates["fpr"].append(p[~y].mean())
    for name, values in rates.items():
        if len(values) >= 2:
            gaps[name] = float(np.max(values) - np.min(values))
    return gaps
