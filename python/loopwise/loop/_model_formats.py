"""Model file formats of the registry: choose one to save a model, load one back safely.

``loopwise-json``
    Objects of loopwise itself (``TreeEnsemble``, the online learners) that expose
    ``to_dict()`` and ``from_dict()``: JSON with the class path; numpy arrays inside are kept
    bit-exact as base64 with their dtype and shape. Only classes under ``loopwise.`` are
    imported on load.
``skops``
    Everything skops can hold: scikit-learn estimators, pipelines, ``ColumnTransformer``,
    encoders, and the XGBoost/LightGBM scikit-learn wrappers. Loads without ``trusted=True``
    when every type in the file is in skops' defaults or in loopwise's allowlist
    (:mod:`loopwise.loop._trusted_types`); otherwise the error names the other types.
``pickle``
    The fallback for objects skops cannot hold. Unpickling runs arbitrary code, so loading
    requires ``trusted=True``.
"""

from __future__ import annotations

import base64
import importlib
import json
import pickle
from typing import Any

import numpy as np

from ._registry_errors import UntrustedModelError
from ._trusted_types import refused_types

__all__ = ["EXTENSIONS", "UntrustedModelError", "class_path", "deserialise", "serialise"]

#: File name extension of each format.
EXTENSIONS = {"loopwise-json": "json", "skops": "skops", "pickle": "pkl"}


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


def class_path(model: Any) -> str:
    """``module:qualname`` of the model's class (kept in the registry's metadata)."""
    return f"{type(model).__module__}:{type(model).__qualname__}"


def _is_loopwise_serialisable(model: Any) -> bool:
    module = type(model).__module__ or ""
    return (module.startswith("loopwise.") and callable(getattr(model, "to_dict", None))
            and callable(getattr(type(model), "from_dict", None)))


def _skops_io() -> Any:
    try:
        import skops.io as sio
    except ImportError:  # a core dependency, but a broken install should still save via pickle
        return None
    return sio


def serialise(model: Any) -> tuple[str, bytes]:
    """Pick the safest format that can hold ``model``; returns ``(format, file bytes)``.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> serialise(LinearRegression())[0]
    'skops'
    """
    if _is_loopwise_serialisable(model):
        document = {"class": class_path(model), "data": _encode_arrays(model.to_dict())}
        return "loopwise-json", json.dumps(document, allow_nan=True, separators=(",", ":")).encode("utf-8")
    sio = _skops_io()
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


def deserialise(file_format: str, payload: bytes, *, trusted: bool, what: str, class_name: str = "") -> Any:
    """Build the model saved by :func:`serialise`.

    Parameters
    ----------
    file_format : str
        ``"loopwise-json"``, ``"skops"`` or ``"pickle"``.
    payload : bytes
    trusted : bool
        Allow pickles and skops types outside skops' defaults and loopwise's allowlist.
    what : str
        How error messages name the file (``"version 3"``).
    class_name : str
        The saved class, for messages.

    Raises
    ------
    UntrustedModelError
        When loading needs ``trusted=True``.

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> fmt, data = serialise(DecisionTreeRegressor().fit([[0.0], [1.0]], [0.0, 2.0]))
    >>> deserialise(fmt, data, trusted=False, what="example").predict([[1.0]]).tolist()
    [2.0]
    """
    if file_format == "loopwise-json":
        document = json.loads(payload.decode("utf-8"))
        cls = _import_class(document["class"])
        return cls.from_dict(_decode_arrays(document["data"]))
    if file_format == "skops":
        sio = _skops_io()
        if sio is None:
            raise ImportError(f"{what} is a skops file; install skops to load it")
        untrusted = sio.get_untrusted_types(data=payload)
        refused = refused_types(untrusted)
        if refused and not trusted:
            raise UntrustedModelError(
                f"{what} contains types neither skops nor loopwise trusts by default: {refused}; "
                "pass trusted=True only if you trust whoever wrote this registry"
            )
        return sio.loads(payload, trusted=list(untrusted) or None)
    if file_format == "pickle":
        if not trusted:
            raise UntrustedModelError(
                f"{what} ({class_name or 'model'}) is stored as a pickle, and unpickling runs arbitrary "
                "code: pass trusted=True only if you trust whoever wrote this registry"
            )
        return pickle.loads(payload)
    raise ValueError(f"{what} has unknown file format {file_format!r}")
