"""MLflow model directories <-> loopwise model files, without pickles unless trusted.

Writing. A version loopwise registers in MLflow is an MLflow model directory whose model file
*is* loopwise's file, byte for byte (so the SHA-256 kept in the version's tags checks the
artifact itself):

- ``skops`` (scikit-learn, pipelines, XGBoost/LightGBM wrappers): the ``sklearn`` flavor
  with ``serialization_format="skops"`` (``model.skops``), which ``mlflow.pyfunc.load_model``
  and ``mlflow.sklearn.load_model`` read;
- ``pickle``: the ``sklearn`` flavor with ``serialization_format="pickle"`` (``model.pkl``);
- ``loopwise-json``: a ``python_function`` flavor whose loader is
  :mod:`loopwise.loop._mlflow_pyfunc` (``model.json``).

Reading a model someone else registered (``models:/name@champion``): an ``sklearn`` flavor
saved as skops is read by loopwise's own skops rule (types outside skops' defaults and
loopwise's allowlist need ``trusted=True``). Every other flavor (pickle, cloudpickle, a
custom ``python_model``, code shipped with the model) runs code from the artifact when
loaded, so it needs ``trusted=True``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from ._model_formats import EXTENSIONS, deserialise
from ._registry_errors import UntrustedModelError
from ._trusted_types import refused_types

__all__ = ["MODEL_ARTIFACT", "is_model_uri", "load_model_uri", "model_file_name", "write_model_dir"]

#: Artifact path of the model directory inside the run that registers a version.
MODEL_ARTIFACT = "model"


def import_mlflow() -> Any:
    """The ``mlflow`` module, or an ImportError that says how to install it."""
    try:
        import mlflow
    except ImportError as error:
        raise ImportError("MLflow support needs the mlflow package: pip install 'loopwise[mlflow]'") from error
    return mlflow


def is_model_uri(value: Any) -> bool:
    """True for an MLflow model URI (``models:/...``, ``runs:/...``).

    Examples
    --------
    >>> is_model_uri("models:/churn@champion"), is_model_uri("churn")
    (True, False)
    """
    return isinstance(value, str) and value.startswith(("models:/", "runs:/"))


def model_file_name(file_format: str) -> str:
    """Name of the model file inside the MLflow model directory.

    Examples
    --------
    >>> model_file_name("skops")
    'model.skops'
    """
    return f"model.{EXTENSIONS[file_format]}"


def write_model_dir(directory: str, file_format: str, payload: bytes) -> str:
    """Write an MLflow model directory holding ``payload`` unchanged; returns its model file.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.dummy import DummyRegressor
    >>> from loopwise.loop._model_formats import serialise
    >>> fmt, payload = serialise(DummyRegressor().fit([[0.0]], [1.0]))
    >>> sorted(os.listdir(os.path.dirname(write_model_dir(tempfile.mkdtemp(), fmt, payload))))[:2]
    ['MLmodel', 'model.skops']
    """
    import_mlflow()
    from mlflow import pyfunc
    from mlflow.models import Model

    os.makedirs(directory, exist_ok=True)
    name = model_file_name(file_format)
    target = os.path.join(directory, name)
    with open(target, "wb") as handle:
        handle.write(payload)
    model = Model()
    requirements = ["loopwise"]
    if file_format in ("skops", "pickle"):
        import sklearn

        serialization = "skops" if file_format == "skops" else "pickle"
        trusted_types = None
        if file_format == "skops":
            import skops.io as sio

            # Only types loopwise itself trusts are named, so MLflow's loader accepts
            # exactly what loopwise's loader accepts without trusted=True.
            untrusted = list(sio.get_untrusted_types(data=payload))
            trusted_types = [t for t in untrusted if not refused_types([t])] or None
            requirements = ["scikit-learn", "skops"]
        pyfunc.add_to_model(model, loader_module="mlflow.sklearn", model_path=name)
        model.add_flavor("sklearn", pickled_model=name, sklearn_version=sklearn.__version__,
                         serialization_format=serialization, code=None, skops_trusted_types=trusted_types)
    else:
        pyfunc.add_to_model(model, loader_module="loopwise.loop._mlflow_pyfunc", data=name)
    model.save(os.path.join(directory, "MLmodel"))
    with open(os.path.join(directory, "requirements.txt"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(requirements) + "\n")
    return target


def _download(uri: str, destination: str, tracking_uri: Any) -> str:
    mlflow = import_mlflow()
    return mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=destination, tracking_uri=tracking_uri)


def load_model_uri(uri: str, *, trusted: bool = False, tracking_uri: Any = None) -> Any:
    """Load the model behind an MLflow model URI as a Python object with ``predict``.

    An ``sklearn`` flavor comes back as the estimator itself (so the loop can refit a copy);
    any other flavor as the ``mlflow.pyfunc`` model, which needs ``trusted=True``.

    Parameters
    ----------
    uri : str
        ``models:/name@alias``, ``models:/name/3``, ``runs:/<run id>/model``...
    trusted : bool
        Allow flavors whose loading runs code from the artifact (pickles, python models).
    tracking_uri : str, optional
        The MLflow server (default: MLflow's own setting, ``MLFLOW_TRACKING_URI``).

    Raises
    ------
    UntrustedModelError
        When loading needs ``trusted=True``.

    Examples
    --------
    >>> # load_model_uri("models:/churn@champion").predict(X)
    """
    if not is_model_uri(uri):
        raise ValueError(f"uri must be an MLflow model URI such as 'models:/name@champion', got {uri!r}")
    if not isinstance(trusted, bool):
        raise TypeError(f"trusted must be a bool, got {type(trusted).__name__}")
    import_mlflow()
    from mlflow.models import Model

    destination = tempfile.mkdtemp(prefix="loopwise-mlflow-")
    try:
        local = _download(uri, destination, tracking_uri)
        flavors = Model.load(os.path.join(local, "MLmodel")).flavors
        sklearn_flavor = flavors.get("sklearn")
        if sklearn_flavor and sklearn_flavor.get("serialization_format") == "skops" and not sklearn_flavor.get("code"):
            with open(os.path.join(local, sklearn_flavor["pickled_model"]), "rb") as handle:
                payload = handle.read()
            return deserialise("skops", payload, trusted=trusted, what=f"the MLflow model {uri}")
        pyfunc = flavors.get("python_function", {})
        if pyfunc.get("loader_module") == "loopwise.loop._mlflow_pyfunc":
            with open(os.path.join(local, pyfunc["data"]), "rb") as handle:
                return deserialise("loopwise-json", handle.read(), trusted=trusted, what=f"the MLflow model {uri}")
        if not trusted:
            kinds = sorted(flavors)
            raise UntrustedModelError(
                f"the MLflow model {uri} (flavors {kinds}) is not a skops file: loading it runs code stored in "
                "the artifact (a pickle or a Python model); pass trusted=True only if you trust whoever registered it"
            )
        import mlflow

        if sklearn_flavor:
            return mlflow.sklearn.load_model(local)
        return mlflow.pyfunc.load_model(local)
    finally:
        shutil.rmtree(destination, ignore_errors=True)
