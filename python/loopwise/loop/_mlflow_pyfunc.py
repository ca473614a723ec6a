"""MLflow's ``python_function`` loader for loopwise's own JSON models (``loopwise-json``).

``mlflow.pyfunc.load_model`` imports this module and calls :func:`_load_pyfunc` with the
model file: loopwise-json files import only classes under ``loopwise.`` and run no code
from the file, so they load without a trust decision.
"""

from __future__ import annotations

from typing import Any

from ._model_formats import deserialise


def _load_pyfunc(path: str) -> Any:
    """Build the model from a ``loopwise-json`` file (MLflow calls this)."""
    with open(path, "rb") as handle:
        return deserialise("loopwise-json", handle.read(), trusted=False, what=f"the model file {path!r}")
