"""A feedback loop's MLflow settings, its MLflow registry and the MLflow run of each step.

:class:`MlflowSettings` is saved in the loop's configuration (``loop.json``), so a new
process (an Airflow task, a serving replica) opens the loop with the same settings:

- ``registered_model``: the loop keeps its versions in that MLflow registered model and its
  champion as that model's ``champion`` alias (:class:`MlflowRegistry`) instead of in the
  loop directory;
- ``log_steps``: every :meth:`FeedbackLoop.step` is logged as one MLflow run of
  ``experiment``: the status and gate numbers as metrics, the action and reasons as tags, and
  ``step.json``, ``status.json`` and ``report.html`` as artifacts.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import tempfile
import warnings
from typing import Any, Optional

__all__ = ["MlflowSettings", "log_step", "adopted_version", "open_registry", "register_initial", "registered_model", "step_metrics"]

_STATUS_METRICS = ("n_current", "drift_share", "prediction_drift_p", "metric", "baseline_metric", "n_labeled",
                   "estimated_metric", "new_labels", "labels_since_attempt", "rows_since_change")


@dataclasses.dataclass(frozen=True)
class MlflowSettings:
    """Where and how a feedback loop uses MLflow (saved with the loop).

    Parameters
    ----------
    tracking_uri : str, optional
        The MLflow server (default: MLflow's own setting, ``MLFLOW_TRACKING_URI``, read by
        each process).
    registered_model : str, optional
        Keep the loop's model versions in this MLflow registered model (champion = its
        ``champion`` alias). None keeps them in the loop directory.
    log_steps : bool
        Log every step as an MLflow run (metrics, gate result, HTML report).
    experiment : str
        The MLflow experiment of those runs and of the registered versions' runs.

    Examples
    --------
    >>> settings = MlflowSettings(tracking_uri="http://mlflow:5000", log_steps=True)
    >>> MlflowSettings.from_dict(settings.to_dict()) == settings
    True
    """

    tracking_uri: Optional[str] = None
    registered_model: Optional[str] = None
    log_steps: bool = False
    experiment: str = "loopwise"

    def __post_init__(self) -> None:
        for name in ("tracking_uri", "registered_model"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"{name} must be a non-empty str or None, got {value!r}")
        if not isinstance(self.log_steps, bool):
            raise TypeError(f"log_steps must be a bool, got {type(self.log_steps).__name__}")
        if not isinstance(self.experiment, str) or not self.experiment.strip():
            raise ValueError(f"experiment must be a non-empty str, got {self.experiment!r}")

    def to_dict(self) -> dict:
        """JSON-ready form (kept in ``loop.json``)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Optional[dict]) -> Optional["MlflowSettings"]:
        """Read :meth:`to_dict` output (None stays None)."""
        if data is None:
            return None
        if not isinstance(data, dict):
            raise ValueError(f"the loop's MLflow settings must be a dict, got {type(data).__name__}")
        return cls(**data)


def registered_model(config: Any) -> Optional[str]:
    """The MLflow registered model a :class:`LoopConfig` keeps its versions in (None: the directory).

    Examples
    --------
    >>> from loopwise.loop.config import LoopConfig
    >>> registered_model(LoopConfig(policy=None, sensitive=[], slices=[], monitor_rows=10, random_state=0)) is None
    True
    """
    return (config.mlflow or {}).get("registered_model")


def open_registry(directory: str, settings: Optional[MlflowSettings]) -> Any:
    """The loop's registry: MLflow's when ``settings.registered_model`` is set, else the directory's.

    Examples
    --------
    >>> import tempfile
    >>> open_registry(tempfile.mkdtemp(), None).champion() is None
    True
    """
    if settings is not None and settings.registered_model is not None:
        from .mlflow_registry import MlflowRegistry

        return MlflowRegistry(directory, settings.registered_model, tracking_uri=settings.tracking_uri,
                              experiment=settings.experiment)
    from .registry import ModelRegistry

    return ModelRegistry(directory)


def adopted_version(registry: Any, source: Optional[str]) -> Optional[int]:
    """The MLflow version a new loop adopts: ``source`` names a version (``models:/<name>@<alias>``
    or ``models:/<name>/<version>``) of the very registered model the loop keeps its versions
    in. None otherwise (the model is then registered as a new version).

    Examples
    --------
    >>> import tempfile
    >>> from loopwise.loop import ModelRegistry
    >>> adopted_version(ModelRegistry(tempfile.mkdtemp()), "models:/churn@champion") is None
    True
    """
    name_of_registry = getattr(registry, "name", None)
    if source is None or name_of_registry is None or not source.startswith("models:/"):
        return None
    name, _, reference = source[len("models:/"):].partition("@")
    if not reference:
        name, _, reference = name.rpartition("/")
    if name != name_of_registry or not reference:
        return None
    return int(registry.resolve(int(reference) if reference.isdigit() else reference))


def register_initial(registry: Any, model: Any, source: Optional[str], *, metrics: dict, tags: dict) -> int:
    """Register a new loop's first champion, or adopt it (:func:`adopted_version`); returns its version.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.dummy import DummyRegressor
    >>> from loopwise.loop import ModelRegistry
    >>> register_initial(ModelRegistry(tempfile.mkdtemp()), DummyRegressor(), None, metrics={}, tags={})
    1
    """
    version = adopted_version(registry, source)
    if version is not None:
        registry.audit.record("register", model_version=version, reasons=["adopted from MLflow"],
                              inputs={"source": source, "mlflow_model": registry.name}, metrics=metrics)
        return version
    return int(registry.register(model, metrics=metrics, tags={**tags, **({"source": source} if source else {})}))


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(float(value)):
        return float(value)
    return None


def step_metrics(result: dict, status: Any) -> dict:
    """The numbers of one step: the status's, the gate's (``gate_passed``, ``gate.<metric>``).

    Examples
    --------
    >>> from loopwise.loop.status import Status
    >>> step_metrics({"action": "none"}, Status(checked_at="t", champion_version=2, n_labeled=5))
    {'n_current': 0.0, 'n_labeled': 5.0, 'new_labels': 0.0, 'labels_since_attempt': 0.0, 'champion_version': 2.0, 'n_alerts': 0.0}
    """
    out: dict = {}
    for name in _STATUS_METRICS:
        value = _number(getattr(status, name, None))
        if value is not None:
            out[name] = value
    if status.champion_version is not None:
        out["champion_version"] = float(status.champion_version)
    out["n_alerts"] = float(len(status.alerts))
    gate = result.get("validation")
    if isinstance(gate, dict):
        out["gate_passed"] = float(bool(gate.get("passed")))
        for name, value in (gate.get("metrics") or {}).items():
            number = _number(value)
            if number is not None:
                out[f"gate.{name}"] = number
    return out


def log_step(loop: Any, result: dict, status: Any, key: Optional[str]) -> Optional[str]:
    """Log one step as an MLflow run; returns its run id (None when MLflow could not be reached).

    A step has already been decided and saved when this runs, so an unreachable server does
    not undo it: the failure is recorded in the audit log (kind ``mlflow_log_failed``) and
    warned about.

    Examples
    --------
    >>> # log_step(loop, loop_result, status, key="2024-05-01")
    """
    settings = loop.mlflow
    try:
        return _log_run(loop, settings, result, status, key)
    except Exception as error:  # noqa: BLE001 - MLflow and the network raise many types
        loop.audit.record("mlflow_log_failed", model_version=status.champion_version,
                          reasons=[f"{type(error).__name__}: {error}"], inputs={"key": key})
        warnings.warn(f"the step was done but could not be logged to MLflow: {error}", RuntimeWarning, stacklevel=3)
        return None


def _log_run(loop: Any, settings: MlflowSettings, result: dict, status: Any, key: Optional[str]) -> str:
    from ._mlflow_models import import_mlflow

    mlflow = import_mlflow()
    client = mlflow.MlflowClient(tracking_uri=settings.tracking_uri or mlflow.get_tracking_uri())
    found = client.get_experiment_by_name(settings.experiment)
    experiment_id = found.experiment_id if found is not None else client.create_experiment(settings.experiment)
    tags = {"loopwise.kind": "step", "loopwise.loop": os.path.abspath(loop.path),
            "loopwise.action": str(result.get("action", "")),
            "loopwise.reasons": "; ".join(map(str, result.get("reasons") or []))[:4000]}
    if key is not None:
        tags["loopwise.step_key"] = str(key)
    if isinstance(result.get("validation"), dict):
        tags["loopwise.gate"] = "passed" if result["validation"].get("passed") else "failed"
    run = client.create_run(experiment_id, tags=tags, run_name=f"step {key}" if key else None)
    run_id = run.info.run_id
    try:
        from mlflow.entities import Metric

        stamp = int(run.info.start_time)
        metrics = [Metric(name, value, stamp, 0) for name, value in step_metrics(result, status).items()]
        if metrics:
            client.log_batch(run_id, metrics=metrics)
        scratch = tempfile.mkdtemp(prefix="loopwise-step-")
        try:
            with open(os.path.join(scratch, "step.json"), "w", encoding="utf-8") as handle:
                json.dump(result, handle, indent=1, default=str)
            with open(os.path.join(scratch, "status.json"), "w", encoding="utf-8") as handle:
                json.dump(status.to_dict(), handle, indent=1)
            loop.report(os.path.join(scratch, "report.html"), status=status)
            client.log_artifacts(run_id, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id)
    return run_id
