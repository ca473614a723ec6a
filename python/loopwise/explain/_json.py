"""JSON forms of the explainers, so an explainer can travel to Spark and Dask workers as text.

A worker rebuilds exactly the explainer the driver built: arrays travel as raw little-endian
bytes (base64), so every double (NaN and infinities included) comes back bit for bit, and
the random seed travels resolved, so a sampling explainer draws the same coalitions or
neighbourhoods. A prediction *function* has no JSON form: a ``TreeEnsemble`` model is
embedded; any other callable is passed beside the text (``model=``), the way Spark and Dask
ship any user function.

Supported: ``TreeExplainer`` (a tree model or ``TreeEnsemble``; not a Pipeline, whose
preprocessing steps have no JSON form), ``KernelExplainer`` and ``LimeTabular`` built on
arrays or on DataFrames whose columns are all numeric or boolean with numpy dtypes.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Optional

import numpy as np

__all__ = ["FORMAT", "VERSION", "dumps", "loads", "header"]

FORMAT = "loopwise.explainer"
VERSION = 1


# ---------------------------------------------------------------------------- arrays
def _array(values: Any) -> dict:
    array = np.ascontiguousarray(values)
    if array.dtype.kind not in "fiub":
        raise ValueError(f"an array of dtype {array.dtype} has no JSON form here; expected numbers")
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return {"dtype": little.dtype.str, "shape": list(array.shape), "base64": base64.b64encode(little.tobytes()).decode("ascii")}


def _unarray(data: Any, name: str) -> np.ndarray:
    try:
        raw = base64.b64decode(data["base64"].encode("ascii"), validate=True)
        array = np.frombuffer(raw, dtype=np.dtype(data["dtype"])).reshape([int(s) for s in data["shape"]])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"explainer JSON field {name!r} is not a valid array: {error}") from None
    return array.astype(array.dtype.newbyteorder("="), copy=True)  # writable, native order


# ---------------------------------------------------------------------------- frame schemas
def _schema(codec: Any, what: str) -> Optional[dict]:
    """Column names and dtypes of a DataFrame-built explainer (numeric columns only)."""
    if codec is None:
        return None
    bad = [
        f"{name} ({dtype})"
        for name, dtype, kind in zip(codec.names, codec.dtypes, codec.kinds)
        if kind != "number" or not isinstance(dtype, np.dtype)
    ]
    if bad:
        raise ValueError(
            f"this {what} was built on a DataFrame with columns that have no JSON form yet: {bad}; build it on "
            "numeric columns (numpy numbers or booleans), e.g. encode categories first"
        )
    return {"columns": list(codec.names), "dtypes": [dtype.str for dtype in codec.dtypes]}


def _template(schema: Optional[dict]) -> Any:
    if schema is None:
        return None
    import pandas as pd

    return pd.DataFrame({c: pd.Series([], dtype=np.dtype(d)) for c, d in zip(schema["columns"], schema["dtypes"])})


def _background(background: Any) -> dict:
    return {
        "data": _array(background.data),
        "weights": _array(background.weights),
        "feature_names": None if background.feature_names is None else [str(n) for n in background.feature_names],
        "schema": _schema(background.codec, "background"),
    }


def _unbackground(data: dict, name: str) -> Any:
    from ._codec import FrameCodec
    from .background import Background

    template = _template(data.get("schema"))
    codec = None if template is None else FrameCodec(template)
    return Background(
        _unarray(data["data"], f"{name}.data"), _unarray(data["weights"], f"{name}.weights"),
        data.get("feature_names"), template, codec,
    )


# ---------------------------------------------------------------------------- per explainer
def _tree(explainer: Any) -> dict:
    if explainer.preprocessing is not None:
        raise ValueError(
            "a TreeExplainer over a Pipeline has no JSON form (its preprocessing steps are Python objects); "
            "transform the data first and explain the final model"
        )
    return {
        "ensemble": explainer.ensemble.to_dict(),
        "feature_perturbation": explainer._mode,
        "model_output": explainer.model_output,
        "data": None if explainer.data is None else _array(explainer.data),
        "feature_names": explainer.ensemble.feature_names,
        "n_outputs": int(explainer.ensemble.n_outputs),
        "output_names": explainer._output_names(),
    }


def _untree(data: dict, model: Any, n_jobs: Optional[int]) -> Any:
    from ..models import TreeEnsemble
    from .tree import TreeExplainer

    background = None if data["data"] is None else _unarray(data["data"], "data")
    return TreeExplainer(
        TreeEnsemble.from_dict(data["ensemble"]), background, feature_perturbation=data["feature_perturbation"],
        model_output=data["model_output"], n_jobs=n_jobs, progress=False,
    )


def _kernel(explainer: Any) -> dict:
    from ..models import TreeEnsemble

    k = int(explainer._f.n_outputs or 1)
    return {
        "background": _background(explainer.background),
        "link": explainer.link,
        "seed": int(explainer._seed),
        "chunk_size": int(explainer.chunk_size),
        "model": explainer.model.to_dict() if isinstance(explainer.model, TreeEnsemble) else None,
        "feature_names": explainer.feature_names,
        "n_outputs": k,
        "output_names": explainer._output_names(k),
    }


def _unkernel(data: dict, model: Any, n_jobs: Optional[int]) -> Any:
    from ..models import TreeEnsemble
    from .kernel import KernelExplainer

    if data.get("model") is not None:
        model = TreeEnsemble.from_dict(data["model"])
    elif model is None:
        raise ValueError(
            "this KernelExplainer's model is a Python callable, which has no JSON form: pass it as model=..."
        )
    return KernelExplainer(
        model, _unbackground(data["background"], "background"), link=data["link"], n_jobs=n_jobs,
        random_state=int(data["seed"]), chunk_size=int(data["chunk_size"]), progress=False,
    )


_LIME_SCALARS = ("mode", "feature_names", "discretize_continuous", "discretizer", "kernel_width",
                 "sample_around_instance", "feature_selection", "class_names", "n_features")


def _spec(spec: dict) -> dict:
    return {key: _array(value) if isinstance(value, np.ndarray) else value for key, value in spec.items()}


def _unspec(spec: dict, j: int) -> dict:
    return {key: _unarray(value, f"specs[{j}].{key}") if isinstance(value, dict) else value for key, value in spec.items()}


def _lime(explainer: Any) -> dict:
    out = {key: getattr(explainer, key) for key in _LIME_SCALARS}
    out.update(
        schema=_schema(explainer.codec, "LimeTabular"),
        categorical_features=sorted(int(j) for j in explainer.categorical_features),
        seed=int(explainer._seed),
        check_rows=_array(explainer._check_rows.data),
        boundaries={str(j): _array(cuts) for j, cuts in explainer.boundaries.items()},
        specs=[_spec(spec) for spec in explainer._specs],
        n_outputs=1,
        output_names=None,
    )
    return out


def _unlime(data: dict, model: Any, n_jobs: Optional[int]) -> Any:
    from .. import _core
    from ._codec import FrameCodec
    from .background import Background
    from .lime import LimeTabular

    lime = LimeTabular.__new__(LimeTabular)
    for key in _LIME_SCALARS:
        setattr(lime, key, data[key])
    template = _template(data.get("schema"))
    # LIME codes datetimes as numbers; with numeric columns only the codec is the same either way.
    lime.codec = None if template is None else FrameCodec(template, time_as_number=True)
    lime.template = template
    lime.categorical_features = {int(j) for j in data["categorical_features"]}
    lime.random_state = int(data["seed"])
    lime._seed = int(data["seed"])
    lime.n_jobs = n_jobs
    check = _unarray(data["check_rows"], "check_rows")
    names = lime.codec.names if lime.codec is not None else None
    lime._check_rows = Background(check, np.ones(len(check)), names, template, lime.codec)
    lime._native_cache = {}
    lime.boundaries = {int(j): _unarray(cuts, f"boundaries[{j}]") for j, cuts in data["boundaries"].items()}
    lime._specs = [_unspec(spec, j) for j, spec in enumerate(data["specs"])]
    lime._features = [_core.LimeFeature(spec) for spec in lime._specs]
    return lime


_WRITERS = {"TreeExplainer": _tree, "KernelExplainer": _kernel, "LimeTabular": _lime}
_READERS = {"TreeExplainer": _untree, "KernelExplainer": _unkernel, "LimeTabular": _unlime}


# ---------------------------------------------------------------------------- public (internal) API
def dumps(explainer: Any) -> str:
    """The explainer as JSON text (see the module notes for what is supported).

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from loopwise.explain import TreeExplainer
    >>> tree = DecisionTreeRegressor(max_depth=2).fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 2, 3])
    >>> loads(dumps(TreeExplainer(tree))).shap_values([[1, 1]]).tolist()
    [[1.0, 0.5]]
    """
    kind = type(explainer).__name__
    writer = _WRITERS.get(kind)
    if writer is None or type(explainer).__module__.split(".")[0] != "loopwise":
        raise TypeError(f"explainer must be a TreeExplainer, KernelExplainer or LimeTabular, got {kind}")
    body = writer(explainer)
    body.update(format=FORMAT, version=VERSION, kind=kind)
    return json.dumps(body, allow_nan=False, separators=(",", ":"))


def header(text: str) -> dict:
    """The parsed JSON of an explainer, checked for format and version (no explainer is built)."""
    if not isinstance(text, (str, bytes)):
        raise TypeError(f"explainer JSON must be text, got {type(text).__name__}")
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ValueError(f"the explainer JSON does not parse: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"the text is not a loopwise explainer (expected format {FORMAT!r})")
    if not isinstance(data.get("version"), int) or data["version"] > VERSION:
        raise ValueError(f"explainer JSON version {data.get('version')!r}; this loopwise reads up to {VERSION}")
    if data.get("kind") not in _READERS:
        raise ValueError(f"explainer JSON has unknown kind {data.get('kind')!r}; expected one of {sorted(_READERS)}")
    return data


def loads(text: str, *, model: Any = None, n_jobs: Optional[int] = None, expect: Any = None) -> Any:
    """Rebuild an explainer from :func:`dumps` text; ``model`` is the prediction callable when
    the text has none (a KernelExplainer over a Python function). ``expect`` checks the class.

    Examples
    --------
    >>> import numpy as np
    >>> from loopwise.explain import KernelExplainer
    >>> explainer = KernelExplainer(lambda X: X.sum(1), np.zeros((1, 2)), random_state=0)
    >>> loads(dumps(explainer), model=lambda X: X.sum(1)).expected_value
    0.0
    """
    data = header(text)
    if expect is not None and data["kind"] != expect.__name__:
        raise ValueError(f"the JSON holds a {data['kind']}, not a {expect.__name__}")
    try:
        return _READERS[data["kind"]](data, model, n_jobs)
    except KeyError as error:
        raise ValueError(f"explainer JSON lacks the field {error.args[0]!r}") from None
