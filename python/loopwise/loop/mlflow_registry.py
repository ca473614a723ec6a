"""``MlflowRegistry``: the model registry of a loop, kept in an MLflow tracking/registry server.

The same interface as :class:`loopwise.loop.registry.ModelRegistry` (``register``,
``versions``, ``info``, ``load``, ``promote``, ``rollback``, ``champion``, ``aliases``,
``history``, the candidates and ``audit``), with MLflow holding the models:

- a version is an MLflow *model version* of one registered model; its artifact is an MLflow
  model directory whose model file is loopwise's own file (:mod:`._mlflow_models`), so
  ``mlflow.pyfunc.load_model("models:/<name>/<version>")`` serves it too. Its tags keep
  loopwise's metadata (``loopwise.format``, ``loopwise.sha256``, metrics, parent, ...);
- ``champion`` (and every other alias) is an MLflow registered-model *alias*; promote and
  rollback move it. Each move is also written as a registered-model tag
  ``loopwise.history.<n>`` (version, previous, action, reason), which rollback replays, and
  recorded with its reason in loopwise's audit log;
- candidates and the audit log stay in the local directory ``path`` (candidates are
  challengers awaiting validation; nothing reaches MLflow until one is registered).

Trust: a version is loaded from loopwise's file after its SHA-256 is checked, by the same
rules as the directory registry (pickles need ``trusted=True``). A version registered by
another tool (no loopwise tags) is loaded by :func:`._mlflow_models.load_model_uri`.

Concurrency: one process (the loop's scheduler) moves aliases; MLflow offers no transaction
spanning an alias and a tag, so a crash between the alias move and its history tag leaves a
move without history (the audit log and MLflow's alias are right; rollback skips it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from typing import Any, Optional, Union

import numpy as np
import pandas as pd

from ._candidates import CandidateArea, check_candidate_id
from ._mlflow_models import MODEL_ARTIFACT, import_mlflow, load_model_uri, model_file_name, write_model_dir
from ._model_formats import class_path, deserialise, serialise
from ._registry_errors import RegistryLookupError
from .audit import AuditLog
from .registry import _json_documents

__all__ = ["MlflowRegistry"]

_TAG = "loopwise."
_HISTORY = "loopwise.history."
_HISTORY_COLUMNS = ["timestamp", "alias", "version", "previous", "reason", "action"]
_CANDIDATE_COLUMNS = ["candidate", "created", "format", "class", "metrics", "tags", "parent", "data_window"]
_MAX_TAG = 4000  # MLflow limits tag values (5000 characters on its SQL stores); the audit keeps all


class MlflowRegistry:
    """Model versions and aliases in an MLflow registry; candidates and audit log in ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        Local directory for the audit log (``audit.db``) and the candidates.
    name : str
        The MLflow registered model (created when missing).
    tracking_uri : str, optional
        The MLflow server, e.g. ``"http://mlflow:5000"`` (default: MLflow's own setting,
        ``MLFLOW_TRACKING_URI``).
    experiment : str
        The MLflow experiment whose runs hold the registered model files.

    Examples
    --------
    >>> # registry = MlflowRegistry("loop/registry", "churn", tracking_uri="http://mlflow:5000")
    >>> # v = registry.register(model, metrics={"accuracy": 0.91}); registry.promote(v, reason="first")
    >>> # mlflow.pyfunc.load_model("models:/churn@champion") serves the same predictions
    """

    def __init__(self, path: Union[str, os.PathLike], name: str, *, tracking_uri: Optional[str] = None,
                 experiment: str = "loopwise") -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name must be a non-empty str (the MLflow registered model), got {name!r}")
        if tracking_uri is not None and not isinstance(tracking_uri, str):
            raise TypeError(f"tracking_uri must be a str or None, got {type(tracking_uri).__name__}")
        if not isinstance(experiment, str) or not experiment.strip():
            raise ValueError(f"experiment must be a non-empty str, got {experiment!r}")
        mlflow = import_mlflow()
        from mlflow.exceptions import MlflowException

        self.path = os.fspath(path)
        self.name = name
        self.tracking_uri = tracking_uri if tracking_uri is not None else mlflow.get_tracking_uri()
        self.experiment = experiment
        os.makedirs(self.path, exist_ok=True)
        self.client = mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        try:
            self.client.create_registered_model(name, tags={"loopwise.registry": "1"})
        except MlflowException as error:
            if getattr(error, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
                raise
        self._candidates = CandidateArea(os.path.join(self.path, "candidates"))
        self.audit = AuditLog(os.path.join(self.path, "audit.db"))

    # ------------------------------------------------------------------ versions
    def _experiment_id(self) -> str:
        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        from mlflow.exceptions import MlflowException

        try:
            return self.client.create_experiment(self.experiment)
        except MlflowException:  # created by another process meanwhile
            return self.client.get_experiment_by_name(self.experiment).experiment_id

    def register(self, model: Any, *, metrics: Optional[dict] = None, data_window: Optional[dict] = None,
                 tags: Optional[dict] = None, parent: Optional[int] = None) -> int:
        """Store ``model`` as a new MLflow model version; returns its number.

        Examples
        --------
        >>> # registry.register(model, metrics={"rmse": 0.3}) -> 1
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
        digest = hashlib.sha256(payload).hexdigest()
        version_tags = {"loopwise.format": file_format, "loopwise.sha256": digest, "loopwise.class": model_class,
                        "loopwise.file": f"{MODEL_ARTIFACT}/{model_file_name(file_format)}",
                        "loopwise.metrics": documents["metrics"], "loopwise.tags": documents["tags"],
                        "loopwise.data_window": documents["data_window"],
                        "loopwise.parent": "" if parent is None else str(parent)}
        if candidate is not None:
            version_tags["loopwise.candidate"] = candidate
        run = self.client.create_run(self._experiment_id(), tags={"loopwise.kind": "model version"})
        run_id = run.info.run_id
        scratch = tempfile.mkdtemp(prefix="loopwise-mlflow-")
        try:
            local = os.path.join(scratch, MODEL_ARTIFACT)
            write_model_dir(local, file_format, payload)
            self.client.log_artifacts(run_id, local, MODEL_ARTIFACT)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        for key, value in json.loads(documents["metrics"]).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.client.log_metric(run_id, key, float(value))
        self.client.set_terminated(run_id)
        created = self.client.create_model_version(self.name, f"runs:/{run_id}/{MODEL_ARTIFACT}", run_id=run_id,
                                                   tags=version_tags)
        version = int(created.version)
        inputs = {"format": file_format, "class": model_class, "data_window": json.loads(documents["data_window"]),
                  "parent": parent, "mlflow_model": self.name, "mlflow_run": run_id}
        if candidate is not None:
            inputs["candidate"] = candidate
        self.audit.record("register", model_version=version, inputs=inputs,
                          metrics=json.loads(documents["metrics"]), reasons=[reason] if reason else [])
        return version

    def _all_versions(self) -> list:
        found = self.client.search_model_versions(f"name = '{self.name}'")
        return sorted(found, key=lambda v: int(v.version))

    def _check_version(self, version: int, name: str = "version") -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_model_version(self.name, str(int(version)))
        except MlflowException as error:
            known = [int(v.version) for v in self._all_versions()]
            raise RegistryLookupError(f"{name} {version} is not a version of the MLflow model {self.name!r} "
                                      f"(versions: {known})") from error

    def resolve(self, version_or_alias: Union[int, str]) -> int:
        """The version number behind a version or an alias (``"champion"``, ``"latest"``, ...).

        Examples
        --------
        >>> # registry.resolve("champion") -> 3
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
            versions = self._all_versions()
            if not versions:
                raise RegistryLookupError(f"the MLflow model {self.name!r} has no versions yet, so no 'latest'")
            return int(versions[-1].version)
        aliases = self.aliases()
        if version_or_alias not in aliases:
            raise RegistryLookupError(f"alias {version_or_alias!r} is not set on the MLflow model {self.name!r} "
                                      f"(aliases: {sorted(aliases)})")
        return aliases[version_or_alias]

    @staticmethod
    def _meta(found: Any) -> dict:
        tags = dict(found.tags or {})
        parent = tags.get("loopwise.parent") or None
        return {"version": int(found.version),
                "created": pd.Timestamp(int(found.creation_timestamp), unit="ms", tz="UTC"),
                "format": tags.get("loopwise.format", "mlflow"), "file": tags.get("loopwise.file", ""),
                "sha256": tags.get("loopwise.sha256", ""), "class": tags.get("loopwise.class", ""),
                "metrics": json.loads(tags.get("loopwise.metrics", "{}")),
                "tags": json.loads(tags.get("loopwise.tags", "{}")),
                "parent": None if parent is None else int(parent),
                "data_window": json.loads(tags.get("loopwise.data_window", "{}")),
                "run_id": found.run_id, "source": found.source}

    def info(self, version_or_alias: Union[int, str]) -> dict:
        """Metadata of one version (format, metrics, tags, parent, data window, MLflow run).

        Examples
        --------
        >>> # registry.info("champion")["metrics"]
        """
        return self._meta(self._check_version(self.resolve(version_or_alias)))

    def load(self, version_or_alias: Union[int, str] = "champion", *, trusted: bool = False) -> Any:
        """Load a model version (loopwise's file, checksum verified; same trust rules as
        :meth:`ModelRegistry.load`). A version registered by another tool is loaded by its
        MLflow flavor (:func:`loopwise.loop._mlflow_models.load_model_uri`).

        Examples
        --------
        >>> # registry.load("champion").predict(X)
        """
        if not isinstance(trusted, (bool, np.bool_)):
            raise TypeError(f"trusted must be a bool, got {type(trusted).__name__}")
        meta = self.info(version_or_alias)
        version = meta["version"]
        if not meta["sha256"]:
            return load_model_uri(f"models:/{self.name}/{version}", trusted=bool(trusted),
                                  tracking_uri=self.tracking_uri)
        mlflow = import_mlflow()
        scratch = tempfile.mkdtemp(prefix="loopwise-mlflow-")
        try:
            local = mlflow.artifacts.download_artifacts(run_id=meta["run_id"], artifact_path=meta["file"],
                                                        dst_path=scratch, tracking_uri=self.tracking_uri)
            with open(local, "rb") as handle:
                payload = handle.read()
        except (OSError, Exception) as error:  # noqa: BLE001 - MLflow raises its own types
            raise ValueError(f"the file of version {version} ({meta['file']!r} of run {meta['run_id']}) "
                             f"cannot be read from MLflow: {error}") from error
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if hashlib.sha256(payload).hexdigest() != meta["sha256"]:
            raise ValueError(f"the file of version {version} in MLflow is corrupted (checksum mismatch)")
        return deserialise(meta["format"], payload, trusted=bool(trusted), what=f"version {version}",
                           class_name=meta["class"])

    def versions(self) -> pd.DataFrame:
        """All versions, oldest first (the columns of :meth:`ModelRegistry.versions`).

        Examples
        --------
        >>> # registry.versions()[["version", "aliases"]]
        """
        metas = [self._meta(v) for v in self._all_versions()]
        by_version: dict = {}
        for alias, version in sorted(self.aliases().items()):
            by_version.setdefault(version, []).append(alias)
        return pd.DataFrame({
            "version": np.array([m["version"] for m in metas], dtype=np.int64),
            "created": pd.to_datetime(np.array([m["created"].value for m in metas], dtype=np.int64), unit="ns",
                                      utc=True),
            "format": np.array([m["format"] for m in metas], dtype=object),
            "class": np.array([m["class"] for m in metas], dtype=object),
            "metrics": [m["metrics"] for m in metas],
            "tags": [m["tags"] for m in metas],
            "parent": pd.array([m["parent"] for m in metas], dtype="Int64"),
            "data_window": [m["data_window"] for m in metas],
            "aliases": [by_version.get(m["version"], []) for m in metas],
        })

    # ------------------------------------------------------------------ candidates (local)
    def add_candidate(self, model: Any, *, tags: Optional[dict] = None, metrics: Optional[dict] = None,
                      data_window: Optional[dict] = None, parent: Optional[int] = None) -> str:
        """Keep a challenger locally until validation decides (see :meth:`ModelRegistry.add_candidate`).

        Examples
        --------
        >>> # cid = registry.add_candidate(challenger, metrics={"rmse": 0.2})
        """
        if model is None:
            raise TypeError("model must be an estimator, got None")
        documents = _json_documents(metrics=metrics, tags=tags, data_window=data_window)
        parent = self._check_parent(parent)
        file_format, payload = serialise(model)
        from ._model_formats import EXTENSIONS

        metadata = {"format": file_format, "class": class_path(model), "parent": parent,
                    **{name: json.loads(text) for name, text in documents.items()}}
        return self._candidates.add(payload, EXTENSIONS[file_format], metadata)

    def candidate_info(self, candidate_id: str) -> dict:
        """Metadata of one candidate.

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
        >>> # registry.load_candidate(cid).predict(X)
        """
        meta, payload = self._candidates.read(check_candidate_id(candidate_id))
        return deserialise(meta["format"], payload, trusted=bool(trusted), what=f"candidate {candidate_id}",
                           class_name=meta.get("class", ""))

    def candidates(self) -> pd.DataFrame:
        """The candidates awaiting a decision, oldest first.

        Examples
        --------
        >>> # registry.candidates()["candidate"].tolist()
        """
        rows = list(self._candidates.all())
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

    def _registered_candidate(self, candidate_id: str) -> Optional[int]:
        for found in self._all_versions():
            if (found.tags or {}).get("loopwise.candidate") == candidate_id:
                return int(found.version)
        return None

    def discard_candidate(self, candidate_id: str, reason: str) -> None:
        """Remove a rejected candidate, recording why in the audit log.

        Examples
        --------
        >>> # registry.discard_candidate(cid, "worse log loss than the champion")
        """
        check_candidate_id(candidate_id)
        self._check_reason(reason)
        meta = self._candidates.metadata(candidate_id)
        self.audit.record("discard_candidate", reasons=[reason] if reason else [], metrics=meta.get("metrics"),
                          inputs={"candidate": meta.get("candidate"), "format": meta.get("format"),
                                  "class": meta.get("class"), "parent": meta.get("parent"),
                                  "data_window": meta.get("data_window")})
        self._candidates.remove(candidate_id)

    def register_candidate(self, candidate_id: str, *, metrics: Optional[dict] = None, tags: Optional[dict] = None,
                           reason: str = "") -> int:
        """Turn a candidate into an MLflow model version (file copied byte for byte); idempotent.

        Examples
        --------
        >>> # version = registry.register_candidate(cid, metrics={"gate": "passed"}, reason="validated")
        """
        check_candidate_id(candidate_id)
        self._check_reason(reason)
        documents = _json_documents(metrics=metrics, tags=tags)
        done = self._registered_candidate(candidate_id)
        if done is not None:
            self._candidates.remove(candidate_id)
            return done
        meta, payload = self._candidates.read(candidate_id)
        merged = {"metrics": {**meta.get("metrics", {}), **json.loads(documents["metrics"])},
                  "tags": {**meta.get("tags", {}), **json.loads(documents["tags"])},
                  "data_window": meta.get("data_window", {})}
        parent = meta.get("parent")
        if parent is not None:
            self._check_version(int(parent), "parent")
        version = self._store_version(meta["format"], payload, meta["class"], _json_documents(**merged), parent,
                                      candidate=candidate_id, reason=reason)
        self._candidates.remove(candidate_id)
        return version

    def candidate_version(self, candidate_id: str) -> Optional[int]:
        """The version a candidate was registered as, or None.

        Examples
        --------
        >>> # registry.candidate_version(cid)  # -> 3 once registered
        """
        return self._registered_candidate(check_candidate_id(candidate_id))

    def clean_candidates(self, max_age_seconds: float) -> list[str]:
        """Discard candidates older than ``max_age_seconds`` (audited).

        Examples
        --------
        >>> # registry.clean_candidates(7 * 86400)
        """
        if (isinstance(max_age_seconds, bool) or not isinstance(max_age_seconds, (int, float, np.integer, np.floating))
                or not max_age_seconds >= 0):
            raise ValueError(f"max_age_seconds must be a number of seconds >= 0, got {max_age_seconds!r}")
        now = time.time_ns()
        discarded = []
        for meta in self._candidates.all():
            if now - int(meta.get("created", 0)) >= float(max_age_seconds) * 1e9:
                self.discard_candidate(meta["candidate"], f"expired: older than {max_age_seconds} s")
                discarded.append(meta["candidate"])
        return discarded

    def clean_orphans(self, *, min_age: float = 600.0, candidates: bool = True) -> list[str]:
        """Remove candidate files no candidate refers to (MLflow keeps the versions' files).

        Examples
        --------
        >>> # registry.clean_orphans()
        """
        if not isinstance(min_age, (int, float)) or isinstance(min_age, bool) or min_age < 0:
            raise ValueError(f"min_age must be a number of seconds >= 0, got {min_age!r}")
        return [f"candidates/{n}" for n in self._candidates.clean_orphans(min_age)] if candidates else []

    # ------------------------------------------------------------------ aliases
    @staticmethod
    def _check_reason(reason: Any) -> str:
        if not isinstance(reason, str):
            raise TypeError(f"reason must be a str, got {type(reason).__name__}")
        return reason

    def _history_entries(self) -> list[dict]:
        tags = self.client.get_registered_model(self.name).tags or {}
        entries = [(int(key[len(_HISTORY):]), json.loads(value)) for key, value in tags.items()
                   if key.startswith(_HISTORY) and key[len(_HISTORY):].isdigit()]
        return [entry for _, entry in sorted(entries, key=lambda item: item[0])]

    def _rollback_stack(self, alias: str) -> list[int]:
        """Earlier versions of ``alias``, most recent last (moves push, rollbacks pop)."""
        stack: list[int] = []
        for entry in self._history_entries():
            if entry["alias"] != alias:
                continue
            if entry["action"] == "rollback":
                if stack:
                    stack.pop()
            elif entry["previous"] is not None and entry["previous"] != entry["version"]:
                stack.append(int(entry["previous"]))
        return stack

    def _move(self, alias: str, version: Optional[int], *, action: str, reason: str, audit_kind: str) -> int:
        """Move the MLflow alias, then write its history tag and the audit entry."""
        previous = self.aliases().get(alias)
        target = version
        if action == "rollback":
            stack = self._rollback_stack(alias)
            if not stack:
                raise ValueError(f"nothing to roll back to: alias {alias!r} has no earlier version in its history")
            target = stack[-1]
        assert target is not None
        self.client.set_registered_model_alias(self.name, alias, str(int(target)))
        seq = len(self._history_entries()) + 1
        entry = {"ts": time.time_ns(), "alias": alias, "version": int(target), "previous": previous,
                 "action": action, "reason": reason[:_MAX_TAG - 200]}
        self.client.set_registered_model_tag(self.name, f"{_HISTORY}{seq:06d}", json.dumps(entry))
        self.client.set_model_version_tag(self.name, str(int(target)), f"loopwise.{action}_reason",
                                          reason[:_MAX_TAG])
        self.audit.record(audit_kind, model_version=int(target), reasons=[reason] if reason else [],
                          inputs={"alias": alias, "previous": previous, "mlflow_model": self.name})
        return int(target)

    def alias(self, name: str, version: Union[int, str], *, reason: str = "") -> int:
        """Point the MLflow alias ``name`` at ``version`` (history tag and audit entry).

        Examples
        --------
        >>> # registry.alias("staging", 4, reason="canary")
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        if name.strip().isdigit() or name == "latest":
            raise ValueError(f"name {name!r} is reserved (numbers are versions, 'latest' is the newest version)")
        target = self.resolve(version)
        return self._move(name, target, action="promote" if name == "champion" else "alias",
                          reason=self._check_reason(reason),
                          audit_kind="promotion" if name == "champion" else "alias")

    def promote(self, version: Union[int, str], *, reason: str = "") -> int:
        """Move the ``champion`` alias to ``version`` in MLflow; the previous one is the rollback point.

        Examples
        --------
        >>> # registry.promote(2, reason="passed the gate")
        """
        return self.alias("champion", version, reason=reason)

    def rollback(self, *, reason: str = "", alias: str = "champion") -> int:
        """Move ``alias`` back to the version it pointed to before its last move; returns it.

        Examples
        --------
        >>> # registry.rollback(reason="error rate doubled")
        """
        self._check_reason(reason)
        if not isinstance(alias, str) or not alias:
            raise ValueError(f"alias must be a non-empty str, got {alias!r}")
        return self._move(alias, None, action="rollback", reason=reason, audit_kind="rollback")

    def champion(self) -> Optional[int]:
        """The version the MLflow alias ``champion`` points to, or None.

        Examples
        --------
        >>> # registry.champion() -> 2
        """
        return self.aliases().get("champion")

    def aliases(self) -> dict:
        """The registered model's MLflow aliases: name -> version.

        Examples
        --------
        >>> # registry.aliases() -> {'champion': 3}
        """
        found = self.client.get_registered_model(self.name)
        return {str(alias): int(version) for alias, version in (found.aliases or {}).items()}

    def card(self, version_or_alias: Union[int, str] = "champion") -> Any:
        """The model card of a version (:class:`loopwise.loop.cards.ModelCard`), as
        :meth:`ModelRegistry.card <loopwise.loop.registry.ModelRegistry.card>`: the loop writes
        it into this registry's local directory when it registers the version.

        Examples
        --------
        >>> # MlflowRegistry("loop/registry", "churn").card("champion").to_html()
        """
        from .cards import load_card

        return load_card(self, self.resolve(version_or_alias))

    def history(self, alias: Optional[str] = "champion") -> pd.DataFrame:
        """Moves of ``alias`` (all aliases when None), oldest first.

        Examples
        --------
        >>> # registry.history()[["version", "action", "reason"]]
        """
        if alias is not None and not isinstance(alias, str):
            raise TypeError(f"alias must be a str or None, got {type(alias).__name__}")
        rows = [e for e in self._history_entries() if alias is None or e["alias"] == alias]
        return pd.DataFrame({
            "timestamp": pd.to_datetime(np.array([e["ts"] for e in rows], dtype=np.int64), unit="ns", utc=True),
            "alias": np.array([e["alias"] for e in rows], dtype=object),
            "version": np.array([e["version"] for e in rows], dtype=np.int64),
            "previous": pd.array([e["previous"] for e in rows], dtype="Int64"),
            "reason": np.array([e["reason"] for e in rows], dtype=object),
            "action": np.array([e["action"] for e in rows], dtype=object),
        }, columns=_HISTORY_COLUMNS)

    def close(self) -> None:
        """Close the local audit log (the MLflow client holds no connection to close)."""
        self.audit.close()

    def __enter__(self) -> "MlflowRegistry":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MlflowRegistry({self.path!r}, {self.name!r}, tracking_uri={self.tracking_uri!r})"
