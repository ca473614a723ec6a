"""Explain one partition of a table from an explainer's JSON: the engine-free step that
``loopwise.spark.explain`` and ``loopwise.dask.explain`` run on every partition (and that
Fugue, Ray or a plain loop over files can call the same way).

The explainer is rebuilt from its JSON once per process and kept in a small cache keyed by
the text's SHA-256 (and the model's key), so a large background is parsed once per worker,
not once per batch. Each row's result depends only on that row, the explainer and the
options: a table split into any partitions gives the single-machine values row for row.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from ._json import dumps, header, loads

__all__ = ["ExplainPlan", "explain_partition", "plan_explain"]

# Options each explainer kind accepts (passed to its explain call), with their defaults.
_OPTIONS = {
    "TreeExplainer": {"check_additivity": True},
    "KernelExplainer": {"nsamples": "auto", "l1_reg": False, "tol": None},
    "LimeTabular": {"num_features": None, "num_samples": 5000, "label": 1},
}
_LIME_COLUMNS = ("intercept", "score", "local_pred")
_CACHE_SIZE = 4
_cache: "OrderedDict[tuple, Any]" = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class ExplainPlan:
    """What a partition's result looks like: computed on the driver from the JSON alone.

    Attributes
    ----------
    kind : str
        ``"TreeExplainer"``, ``"KernelExplainer"`` or ``"LimeTabular"``.
    columns : list of str
        The feature columns passed to the explainer, in its order.
    keep : list of str
        Columns copied unchanged into the result (ids), first.
    value_names : list of str
        The float64 result columns after ``keep``: one per feature (per output when the
        model has several, as ``feature__output``) and ``base_value`` (``intercept``,
        ``score`` and ``local_pred`` for LIME).
    options : dict
        The explain options with defaults filled in.
    """

    kind: str
    columns: list
    keep: list
    value_names: list
    options: dict = field(default_factory=dict)
    output_names: Optional[list] = None

    @property
    def result_columns(self) -> list:
        """``keep + value_names``."""
        return list(self.keep) + list(self.value_names)


def _names(value: Any, name: str) -> list:
    if isinstance(value, str):
        value = [value]
    try:
        names = list(value)
    except TypeError:
        raise TypeError(f"{name} must be a list of column names, got {type(value).__name__}") from None
    bad = [c for c in names if not isinstance(c, str)]
    if bad:
        raise TypeError(f"{name} must hold column names (str), got {bad[:3]}")
    duplicated = sorted({c for c in names if names.count(c) > 1})
    if duplicated:
        raise ValueError(f"{name} names columns more than once: {duplicated}")
    return names


def plan_explain(
    explainer_json: str, columns: Optional[Sequence[str]] = None, keep: Sequence[str] = (), options: Optional[dict] = None
) -> ExplainPlan:
    """Check the arguments of a distributed explain and name the result's columns.

    Parameters
    ----------
    explainer_json : str
        An explainer's ``to_json()`` text.
    columns : list of str, optional
        Feature columns in the explainer's order (default: the explainer's feature names).
    keep : list of str
        Id columns to carry into the result.
    options : dict, optional
        Explain options (TreeExplainer: ``check_additivity``; KernelExplainer: ``nsamples``,
        ``l1_reg``, ``tol``; LimeTabular: ``num_features``, ``num_samples``, ``label``).

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from loopwise.explain import TreeExplainer
    >>> tree = DecisionTreeRegressor(max_depth=1).fit([[0.0, 1.0], [1.0, 0.0]], [0.0, 1.0])
    >>> plan_explain(TreeExplainer(tree).to_json(), ["a", "b"], keep=["id"]).result_columns
    ['id', 'a', 'b', 'base_value']
    """
    data = header(explainer_json)
    kind = data["kind"]
    known = data.get("feature_names")
    n_features = _n_features(data)
    if columns is None:
        if not known:
            raise ValueError("columns is required: the explainer was built without feature names")
        columns = known
    columns = _names(columns, "columns")
    if len(columns) != n_features:
        raise ValueError(f"columns names {len(columns)} columns but the explainer has {n_features} features")
    keep = _names(keep, "keep")
    given = dict(options or {})
    allowed = _OPTIONS[kind]
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise TypeError(f"{kind} explain options are {sorted(allowed)}; unknown: {unknown}")
    chosen = {**allowed, **given}
    outputs = None
    if kind == "LimeTabular":
        if chosen["num_features"] is None:
            chosen["num_features"] = n_features
        values = list(columns) + list(_LIME_COLUMNS)
    else:
        k = int(data.get("n_outputs") or 1)
        if k == 1:
            values = list(columns) + ["base_value"]
        else:
            outputs = [str(o) for o in (data.get("output_names") or range(k))]
            values = [f"{c}__{o}" for o in outputs for c in columns] + [f"base_value__{o}" for o in outputs]
    clash = sorted(set(keep) & set(values))
    if clash:
        raise ValueError(f"keep names columns that the result also holds: {clash}; rename them first")
    return ExplainPlan(kind, columns, keep, values, chosen, outputs)


def _n_features(data: dict) -> int:
    if data["kind"] == "TreeExplainer":
        return int(data["ensemble"]["fields"]["n_features"])
    if data["kind"] == "KernelExplainer":
        return int(data["background"]["data"]["shape"][1])
    return int(data["n_features"])


def _explainer(text: str, model: Any, model_key: Optional[str], n_jobs: Optional[int]) -> Any:
    digest = hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()
    # Without a key, a model is known by its object (held in the entry so its id stays unique).
    key = (digest, model_key if model_key is not None else (None if model is None else id(model)), n_jobs)
    with _cache_lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
            return entry[0]
    needs_model = header(text)["kind"] == "KernelExplainer"
    explainer = loads(text, model=model if needs_model else None, n_jobs=n_jobs)
    with _cache_lock:
        _cache[key] = (explainer, model)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return explainer


def _as_pandas(frame: Any) -> tuple[Any, bool]:
    module = type(frame).__module__.split(".")[0]
    if module == "pyarrow":
        return frame.to_pandas(), True
    from ._codec import is_frame

    if not is_frame(frame):
        raise TypeError(f"frame must be a pandas DataFrame or a pyarrow Table/RecordBatch, got {type(frame).__name__}")
    return frame, False


def _values(plan: ExplainPlan, explainer: Any, X: Any, model: Any) -> np.ndarray:
    """The float result block, shape (n, len(plan.value_names))."""
    n, m = X.shape
    options = plan.options
    if plan.kind == "LimeTabular":
        if model is None:
            raise ValueError("LIME needs the model's prediction function: pass model=predict_fn")
        label = int(options["label"])
        explanations = explainer.explain_many(
            X, model, num_features=int(options["num_features"]), num_samples=int(options["num_samples"]), labels=(label,)
        )
        out = np.zeros((n, m + len(_LIME_COLUMNS)))
        for i, e in enumerate(explanations):
            lab = e._label(label)
            for j, w in e.local_exp[lab]:
                out[i, j] = w
            out[i, m:] = (e.intercept[lab], e.score[lab], e.local_pred[lab])
        return out
    explanation = explainer(X, **options)
    phi = np.asarray(explanation.values, dtype=np.float64).reshape(n, m, -1)
    k = phi.shape[2]
    base = np.broadcast_to(np.asarray(explanation.base_values, dtype=np.float64).reshape(-1, k), (n, k))
    # Output by output: all features of output 0, then output 1, ...; then the base values.
    return np.concatenate([phi.transpose(0, 2, 1).reshape(n, m * k), base], axis=1)


def explain_partition(
    frame: Any,
    explainer_json: str,
    *,
    columns: Optional[Sequence[str]] = None,
    keep: Sequence[str] = (),
    model: Any = None,
    model_key: Optional[str] = None,
    n_jobs: Optional[int] = 1,
    **options: Any,
) -> Any:
    """Explain the rows of one partition with the explainer described by ``explainer_json``.

    Parameters
    ----------
    frame : pandas.DataFrame or pyarrow.Table
        The partition: the feature ``columns`` and the ``keep`` columns (others ignored).
    explainer_json : str
        ``explainer.to_json()`` of a TreeExplainer, KernelExplainer or LimeTabular.
    columns : list of str, optional
        Feature columns in the explainer's order (default: the explainer's feature names).
    keep : list of str
        Columns copied unchanged to the result (e.g. row ids), first.
    model : callable, optional
        The prediction function when the JSON has none: a KernelExplainer over a Python
        callable, or LIME's ``predict_fn``.
    model_key : str, optional
        A name for ``model``'s identity within this process cache (equal keys mean the
        same model); without it the model object is the key.
    n_jobs : int, optional
        Threads per partition (default 1: the engine runs partitions in parallel).
    **options
        Explain options, see :func:`plan_explain`.

    Returns
    -------
    pandas.DataFrame (pyarrow.Table for an arrow input)
        ``keep`` columns, then one float64 column per feature (per output ``feature__output``
        when the model has several) and ``base_value`` (LIME: the weights of the selected
        features, 0 for the others, then ``intercept``, ``score``, ``local_pred``). The
        index is the partition's.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from loopwise.explain import TreeExplainer
    >>> X = pd.DataFrame({"a": [0.0, 0.0, 1.0, 1.0], "b": [0.0, 1.0, 0.0, 1.0]})
    >>> tree = DecisionTreeRegressor(max_depth=2).fit(X, [0, 1, 2, 3])
    >>> part = X.assign(id=[10, 11, 12, 13]).iloc[2:]
    >>> explain_partition(part, TreeExplainer(tree).to_json(), keep=["id"]).to_dict("list")
    {'id': [12, 13], 'a': [1.0, 1.0], 'b': [-0.5, 0.5], 'base_value': [1.5, 1.5]}
    """
    import pandas as pd

    if not isinstance(explainer_json, (str, bytes)):
        explainer_json = dumps(explainer_json)
    plan = plan_explain(explainer_json, columns, keep, options)
    table, arrow = _as_pandas(frame)
    missing = [c for c in plan.columns + plan.keep if c not in table.columns]
    if missing:
        raise ValueError(f"frame lacks the columns {missing}")
    X = table.loc[:, plan.columns]
    if len(X):
        explainer = _explainer(explainer_json, model, model_key, n_jobs)
        block = _values(plan, explainer, X, model)
    else:
        block = np.empty((0, len(plan.value_names)))
    result = table.loc[:, plan.keep].copy() if plan.keep else pd.DataFrame(index=table.index)
    values = pd.DataFrame(block, index=table.index, columns=plan.value_names)
    result = pd.concat([result, values], axis=1)
    if arrow:
        import pyarrow as pa

        return pa.Table.from_pandas(result, preserve_index=False)
    return result
