"""The loop's configuration as a readable, versioned file in its directory (``loop.json``).

A feedback loop lives in many processes (an Airflow task opens it, steps it and exits), so
what it was told — policy, slices, sensitive columns, monitor size, seed, and where its
feedback store lives (a ``postgresql://`` URL when the store is on a server) — must live with
its data, not in the memory of the process that created it.

Every policy part is a dataclass and is written as its import path and its fields; a
callable (a custom ``train_fn`` or trigger function) is written as its import path
``"package.module:function"`` and imported again when the loop is opened. A callable that
cannot be imported by path (a lambda, a function defined in a notebook cell) is kept in
memory only: the file says so, and opening the loop in a new process then requires the
caller to pass the policy again.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from typing import Any, Optional

from .._atomic import write_json_atomic

__all__ = ["CONFIG_FILE", "LoopConfig", "encode", "decode"]

CONFIG_FILE = "loop.json"
_FORMAT = "loopwise.loop-config"
_VERSION = 1


def _import_path(obj: Any) -> Optional[str]:
    """``module:qualname`` when importing it gives back ``obj`` itself, else None."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        return None
    try:
        return f"{module}:{qualname}" if _resolve(f"{module}:{qualname}") is obj else None
    except (ImportError, AttributeError, ValueError):
        return None


def _resolve(path: str) -> Any:
    module_name, sep, qualname = path.partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError(f"{path!r} is not an import path of the form 'package.module:name'")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class UnsavedCallable(ValueError):
    """A callable in the configuration has no import path, so it cannot outlive its process."""


def encode(value: Any, where: str = "policy") -> Any:
    """A policy (or any part of one) as JSON-ready data.

    Raises
    ------
    UnsavedCallable
        For a callable that cannot be imported back by path.

    Examples
    --------
    >>> from loopwise.loop.policy import RefreshTrigger
    >>> encode(RefreshTrigger(every=200))
    {'type': 'loopwise.loop.policy:RefreshTrigger', 'params': {'every': 200, 'name': 'refresh'}}
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return value.item()  # numpy scalars
    if isinstance(value, (list, tuple)):
        items = [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return items if isinstance(value, list) else {"tuple": items}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError(f"{where}: dictionary keys must be strings to be saved")
        return {"dict": {key: encode(item, f"{where}.{key}") for key, item in value.items()}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        path = _import_path(type(value))
        if path is None:
            raise UnsavedCallable(f"{where}: class {type(value).__qualname__} is not importable by path; "
                                  "define it in a module")
        params = {f.name: encode(getattr(value, f.name), f"{where}.{f.name}") for f in dataclasses.fields(value)
                  if f.init}
        return {"type": path, "params": params}
    if callable(value):
        path = _import_path(value)
        if path is None:
            raise UnsavedCallable(f"{where}: {value!r} cannot be imported by path (a lambda or a function "
                                  "defined in __main__ or a notebook); define it in a module to save it")
        return {"callable": path}
    raise TypeError(f"{where}: a value of type {type(value).__name__} cannot be saved in the loop configuration")


def decode(data: Any, where: str = "policy") -> Any:
    """The inverse of :func:`encode` (imports the classes and callables it names).

    Examples
    --------
    >>> from loopwise.loop.policy import Policy
    >>> decode(encode(Policy())) == Policy()
    True
    """
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(item, f"{where}[{i}]") for i, item in enumerate(data)]
    if not isinstance(data, dict):
        raise ValueError(f"{where}: unexpected {type(data).__name__} in the loop configuration")
    if set(data) == {"tuple"}:
        return tuple(decode(item, f"{where}[{i}]") for i, item in enumerate(data["tuple"]))
    if set(data) == {"dict"}:
        return {key: decode(item, f"{where}.{key}") for key, item in data["dict"].items()}
    if set(data) == {"callable"}:
        return _load(data["callable"], where)
    if set(data) == {"type", "params"}:
        cls = _load(data["type"], where)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise ValueError(f"{where}: {data['type']!r} is not a policy class")
        params = {key: decode(item, f"{where}.{key}") for key, item in data["params"].items()}
        return cls(**params)
    raise ValueError(f"{where}: unrecognised entry with keys {sorted(data)} in the loop configuration")


def _load(path: str, where: str) -> Any:
    try:
        return _resolve(path)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"{where}: the loop configuration names {path!r}, which cannot be imported in this "
                         f"process ({error}); install the package that defines it") from error


@dataclasses.dataclass
class LoopConfig:
    """What a loop was told when it was created (or last reconfigured).

    Examples
    --------
    >>> from loopwise.loop.policy import Policy
    >>> config = LoopConfig(policy=Policy(), sensitive=[], slices=["region"], monitor_rows=2000, random_state=0)
    >>> LoopConfig.from_dict(config.to_dict()) == config
    True
    """

    policy: Any
    sensitive: list
    slices: list
    monitor_rows: int
    random_state: int
    saved_policy: bool = True
    alerts: list = dataclasses.field(default_factory=list)
    saved_alerts: bool = True
    # MLflow settings (:class:`loopwise.loop.mlflow_loop.MlflowSettings` as a dict), or None.
    mlflow: Optional[dict] = None
    #: ``postgresql://`` URL of the feedback store; None: ``store.db`` in the loop directory.
    store: Optional[str] = None

    def to_dict(self) -> dict:
        """JSON-ready form; a policy with an unsaved callable is marked as not saved."""
        try:
            policy = encode(self.policy)
            unsaved = None
        except UnsavedCallable as error:
            policy, unsaved = None, str(error)
        try:
            alerts, alerts_unsaved = encode(list(self.alerts), "alerts"), None
        except UnsavedCallable as error:
            alerts, alerts_unsaved = None, str(error)
        return {"format": _FORMAT, "version": _VERSION, "policy": policy, "policy_not_saved": unsaved,
                "sensitive": list(self.sensitive), "slices": list(self.slices),
                "monitor_rows": int(self.monitor_rows), "random_state": int(self.random_state),
                "alerts": alerts, "alerts_not_saved": alerts_unsaved, "mlflow": self.mlflow, "store": self.store}

    @classmethod
    def from_dict(cls, data: dict) -> "LoopConfig":
        """Read a configuration written by :meth:`to_dict` (checks format and version)."""
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError("not a loopwise loop configuration")
        if data.get("version") != _VERSION:
            raise ValueError(f"loop configuration version {data.get('version')!r} is not supported "
                             f"(this loopwise reads version {_VERSION})")
        saved = data.get("policy") is not None
        policy = decode(data["policy"]) if saved else None
        # Files written before alerts existed have no "alerts" key: no sinks.
        saved_alerts = data.get("alerts_not_saved") is None
        alerts = decode(data.get("alerts") or [], "alerts") if saved_alerts else []
        return cls(policy=policy, sensitive=list(data.get("sensitive") or []), slices=list(data.get("slices") or []),
                   monitor_rows=int(data["monitor_rows"]), random_state=int(data["random_state"]),
                   saved_policy=saved, alerts=alerts, saved_alerts=saved_alerts, mlflow=data.get("mlflow"),
                   store=data.get("store"))

    def differences(self, other: "LoopConfig") -> list[str]:
        """Names of the settings in which ``other`` differs from this configuration."""
        mine, theirs = self.to_dict(), other.to_dict()
        fields = ["sensitive", "slices", "monitor_rows", "random_state", "mlflow", "store"]
        changed = [name for name in fields if mine[name] != theirs[name]]
        if self.saved_policy and (mine["policy"] != theirs["policy"] or theirs["policy_not_saved"]):
            changed.append("policy")
        if self.saved_alerts and (mine["alerts"] != theirs["alerts"] or theirs["alerts_not_saved"]):
            changed.append("alerts")
        return changed


def read(directory: str) -> Optional[LoopConfig]:
    """The configuration saved in a loop directory, or None for a loop that has none yet."""
    path = os.path.join(directory, CONFIG_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"the loop configuration {path!r} cannot be read: {error}") from error
    return LoopConfig.from_dict(data)


def write(directory: str, config: LoopConfig) -> None:
    """Replace the loop's configuration file atomically."""
    write_json_atomic(os.path.join(directory, CONFIG_FILE), config.to_dict())
