"""A model card per registry version: what it learnt from, how good it is, why it exists.

:func:`build_card` gathers the card's facts when a version is registered (the loop calls it
with the gate's holdout, the training window and the reference); :func:`save_card` writes it
as ``<registry>/cards/v<version>.json`` and ``.html`` beside it; ``registry.card(version)``
reads it back as a :class:`ModelCard` and adds the version's promotions from the alias
history, which happen after registration. The JSON follows the schema published in the
package (``loopwise/schemas/model_card.schema.json``, :func:`card_schema`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import pandas as pd

from .._atomic import write_bytes_atomic
from ._groups import MIN_GROUP_SIZE, fairness_gaps, group_labels
from ._scoring import (
    REGRESSION_METRICS,
    default_metric_for,
    is_classification,
    labels_equal,
    metric_from_mean_loss,
    positive_class,
    row_losses,
    score_arrays,
)
from .audit import jsonable

__all__ = ["ModelCard", "build_card", "save_card", "load_card", "card_paths", "card_schema", "wilson_interval",
           "CARD_SCHEMA_VERSION"]

CARD_SCHEMA_VERSION = 1
_KERNEL_ROWS, _KERNEL_BACKGROUND, _KERNEL_SAMPLES = 100, 50, 256  # KernelSHAP's small budget
_TREE_ROWS = 200


def card_schema() -> dict:
    """The JSON Schema a card's JSON follows (shipped as package data).

    Examples
    --------
    >>> card_schema()["title"]
    'loopwise model card'
    """
    from importlib import resources

    return json.loads(resources.files("loopwise").joinpath("schemas/model_card.schema.json").read_text("utf-8"))


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % by default).

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(81, 100)]
    [0.7222, 0.8749]
    """
    if n <= 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _bootstrap_interval(y: np.ndarray, predicted: np.ndarray, metric: str, random_state: int,
                        n_resamples: int = 500) -> tuple[float, float]:
    """Percentile interval of RMSE or MAE over resampled rows (one index matrix, no Python loop)."""
    loss = row_losses(metric, y, predicted)
    index = np.random.default_rng(random_state).integers(0, len(y), size=(n_resamples, len(y)))
    values = metric_from_mean_loss(metric, loss[index].mean(axis=1))
    return float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


def _metric_record(y: np.ndarray, predicted: np.ndarray, metric: str, random_state: int) -> dict:
    value = score_arrays(y, predicted, metric)
    if metric == "accuracy":
        low, high = wilson_interval(int(round(value * len(y))), len(y))
        method = "Wilson 95%"
    else:
        low, high = _bootstrap_interval(y, predicted, metric, random_state)
        method = "bootstrap 95% (500 resamples)"
    return {"name": metric, "value": value, "ci_low": low, "ci_high": high, "interval": method, "n": int(len(y))}


def _parameters(model: Any) -> dict:
    """The model's own parameters (``get_params(deep=False)``), nested estimators by class name."""
    getter = getattr(model, "get_params", None)
    if not callable(getter):
        return {}
    try:
        params = getter(deep=False)
    except Exception:  # a third-party get_params must not break the card
        return {}
    out = {}
    for key, value in sorted(params.items()):
        if value is None or isinstance(value, (bool, int, float, str)):
            out[key] = None if isinstance(value, float) and not math.isfinite(value) else value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, str)) for v in value):
            out[key] = [str(v) for v in value]
        else:  # an estimator, a callable, an array: its kind, not its repr
            out[key] = type(value).__name__
    return out


def _group_rows(column: str, values: np.ndarray, y: np.ndarray, predicted: np.ndarray, metric: str,
                positive: Any) -> list:
    groups = group_labels(values)
    rows = []
    for group in sorted(set(groups.tolist()), key=str):
        member = groups == group
        row = {"column": column, "group": str(group), "n": int(member.sum()),
               "metric": metric, "value": score_arrays(y[member], predicted[member], metric)}
        if positive is not None:
            truth = labels_equal(y[member], np.asarray([positive] * int(member.sum())))
            hit = labels_equal(predicted[member], np.asarray([positive] * int(member.sum())))
            row.update(selection_rate=float(hit.mean()),
                       tpr=float(hit[truth].mean()) if truth.any() else None,
                       fpr=float(hit[~truth].mean()) if (~truth).any() else None)
        rows.append(row)
    return rows


def _explanation(model: Any, X: Any, random_state: int) -> dict:
    """Mean |SHAP| per feature: TreeSHAP for tree models, exact linear SHAP for linear models,
    KernelSHAP with a small budget otherwise."""
    from ..explain import KernelExplainer, TreeExplainer

    # The explainers call the model on rows in the user's own form (a frame stays a frame, an
    # array an array): the model must never see a conversion it was not trained on.
    frame = X if isinstance(X, pd.DataFrame) else np.asarray(X)
    names = [str(c) for c in frame.columns] if isinstance(frame, pd.DataFrame) else [str(j) for j in range(frame.shape[1])]
    rows = (lambda index: frame.iloc[index]) if isinstance(frame, pd.DataFrame) else (lambda index: frame[index])
    try:
        values = TreeExplainer(model, progress=False)(rows(slice(0, _TREE_ROWS))).mean_abs()
        method = f"TreeSHAP on {min(len(frame), _TREE_ROWS)} holdout rows"
    except (TypeError, ValueError):  # not a tree ensemble loopwise reads natively
        values = method = None
    if values is None and hasattr(model, "coef_") and not hasattr(model, "steps"):
        from ..explain import LinearExplainer

        try:
            values = LinearExplainer(model, frame)(frame).mean_abs()
            method = f"exact linear SHAP (on the model's margin) on {len(frame)} holdout rows"
        except (TypeError, ValueError):
            values = None
    if values is None:
        rng = np.random.default_rng(random_state)
        background = rows(np.sort(rng.choice(len(frame), min(len(frame), _KERNEL_BACKGROUND), replace=False)))
        explained = rows(slice(0, _KERNEL_ROWS))
        predict = _output_function(model, None if isinstance(frame, pd.DataFrame) else frame.dtype)
        values = KernelExplainer(predict, background, random_state=random_state, progress=False)(
            explained, nsamples=_KERNEL_SAMPLES).mean_abs()
        method = (f"KernelSHAP on {len(explained)} holdout rows ({len(background)} background rows, "
                  f"{_KERNEL_SAMPLES} coalitions each)")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2:  # one column per output: sum over outputs
        values = np.abs(values).sum(axis=1)
    if len(values) != len(names):
        raise ValueError(f"the explainer returned {len(values)} attributions for {len(names)} columns")
    order = np.argsort(-values, kind="stable")
    return {"method": method, "features": [{"feature": names[i], "mean_abs_shap": float(values[i])} for i in order]}


def _output_function(model: Any, dtype: Any = None) -> Any:
    # KernelSHAP hands the model float64 rows; an array model gets them back in its own dtype
    # (exact: every value is one of the user's, widened and narrowed again).
    form = (lambda Z: Z) if dtype is None else (lambda Z: np.asarray(Z, dtype=dtype))
    if callable(getattr(model, "predict_proba", None)):
        return lambda Z: np.asarray(model.predict_proba(form(Z)), dtype=np.float64)[:, -1]
    return lambda Z: np.asarray(model.predict(form(Z)), dtype=np.float64)


def _drift(reference: Any, X_train: Any) -> dict:
    from ..drift import compare

    columns = [c for c in reference.columns if c in X_train.columns]
    report = compare(reference[columns], X_train[columns])
    table = report.table
    return {"against": "the loop's reference data", "n_reference": int(len(reference)), "n_training": int(len(X_train)),
            "dataset_drift": bool(report.drifted), "share_drifted": float(report.share_drifted),
            "columns": [{"column": str(r["column"]), "test": str(r["test"]), "statistic": _num(r["statistic"]),
                         "p_value": _num(r.get("p_value")), "drifted": bool(r["drifted"])}
                        for r in table.to_dict(orient="records")]}


def _num(value: Any) -> Optional[float]:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _section(build: Any, *args: Any) -> dict:
    """A card section, or the reason it is missing (a card never fails its version)."""
    try:
        return build(*args)
    except Exception as error:  # the card describes the model; it must not stop registering it
        return {"unavailable": f"{type(error).__name__}: {error}"}


def build_card(registry: Any, version: int, model: Any, X_holdout: Any, y_holdout: Any, *,
               X_train: Any = None, reference: Any = None, gate: Optional[dict] = None,
               slices: Any = (), sensitive: Any = (), group_frame: Any = None, judged_model: Any = None,
               registered_by: str = "loopwise FeedbackLoop", random_state: int = 0) -> dict:
    """The card of ``version`` as a JSON-serialisable dict (see :func:`card_schema`).

    Parameters
    ----------
    registry : ModelRegistry
        Holds the version (its metadata, parent, tags and data window).
    model : estimator
        The version's model; it gets the holdout rows as the user gave them.
    X_holdout, y_holdout
        The gate's holdout (metrics with intervals, per-slice and per-group metrics, SHAP).
    X_train : DataFrame, optional
        The training window (drift against ``reference``).
    reference : DataFrame, optional
        The loop's reference data.
    gate : dict, optional
        ``ValidationResult.to_dict()`` of the gate that admitted the version.
    slices, sensitive : list of str
        Columns of ``group_frame`` (default ``X_holdout``) to report per group.
    group_frame : DataFrame, optional
        The holdout rows with those columns, when ``X_holdout`` is an array.
    judged_model : estimator, optional
        The model the gate judged, when the version was then refitted with the holdout rows:
        the holdout metrics are that model's (the version itself has seen those rows).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from loopwise.loop import ModelRegistry
    >>> X, y = np.random.default_rng(0).normal(size=(200, 2)), np.arange(200) % 2
    >>> registry = ModelRegistry(tempfile.mkdtemp())
    >>> model = LogisticRegression().fit(X, y)
    >>> card = build_card(registry, registry.register(model), model, X, y)
    >>> card["holdout"]["metrics"][0]["name"], card["explanation"]["method"].split()[0]
    ('accuracy', 'exact')
    >>> registry.close()
    """
    info = registry.info(version)
    y = np.asarray(y_holdout)
    predicted = np.asarray((model if judged_model is None else judged_model).predict(X_holdout))
    classifier = is_classification(y, model)
    metric = default_metric_for(classifier)
    names = [metric] if classifier else list(REGRESSION_METRICS)
    classes = pd.unique(y).tolist()
    positive = positive_class(classes) if classifier and len(classes) == 2 else None
    # Gaps over the groups the gate judged (its min_slice_size), so card and gate agree.
    min_group = int(((gate or {}).get("settings") or {}).get("min_slice_size", MIN_GROUP_SIZE))
    frame = group_frame if isinstance(group_frame, pd.DataFrame) else (
        X_holdout if isinstance(X_holdout, pd.DataFrame) else None)

    def groups(columns: Any, with_gaps: bool) -> dict:
        rows, gaps = [], []
        for column in list(columns or []):
            if frame is None or column not in frame.columns:
                continue
            values = frame[column].to_numpy()
            rows += _group_rows(str(column), values, y, predicted, metric, positive)
            if with_gaps and positive is not None:
                truth = labels_equal(y, np.asarray([positive] * len(y)))
                hit = labels_equal(predicted, np.asarray([positive] * len(y)))
                found = fairness_gaps(group_labels(values), truth, hit, min_group)
                gaps += [{"column": str(column), "gap": k, "value": float(v)} for k, v in found.items()]
        return {"rows": rows, "gaps": gaps}

    promotions = []
    window = info.get("data_window") or {}
    card = {
        "schema_version": CARD_SCHEMA_VERSION,
        "version": int(version),
        "created": info["created"].isoformat(),
        "model": {"class": info["class"], "format": info["format"], "sha256": info["sha256"],
                  "parameters": _parameters(model)},
        "data": {"window": window, "n_rows": _rows_in(window, X_train)},
        "holdout": {"n": int(len(y)), "metrics": [_metric_record(y, predicted, m, random_state) for m in names],
                    "scored": "this version" if judged_model is None else
                    "the model the gate judged; this version was then refitted with these rows too"},
        "slices": groups(slices, False)["rows"],
        "groups": groups(sensitive, True),
        "explanation": _section(_explanation, model, X_holdout, random_state),
        "drift": (_section(_drift, reference, X_train) if isinstance(reference, pd.DataFrame)
                  and isinstance(X_train, pd.DataFrame) else {"unavailable": "no reference data or training frame"}),
        "lineage": {"parent": info.get("parent"), "reasons": list((info.get("tags") or {}).get("reasons", [])),
                    "tags": info.get("tags") or {}, "registered_by": registered_by,
                    "gate": _gate_summary(gate), "promotions": promotions},
    }
    return jsonable(card)


def _rows_in(window: dict, X_train: Any) -> Optional[int]:
    if X_train is not None:
        return int(len(X_train))
    rows = window.get("rows") if isinstance(window, dict) else None
    return int(rows) if isinstance(rows, (int, np.integer)) else None


def _gate_summary(gate: Optional[dict]) -> Optional[dict]:
    if not gate:
        return None
    metrics = gate.get("metrics") or {}
    keep = ("metric", "champion", "challenger", "gain", "test", "p_value", "n")
    return {"passed": bool(gate.get("passed")), "reasons": [str(r) for r in gate.get("reasons", [])],
            "metrics": {k: metrics.get(k) for k in keep if k in metrics},
            "rules": [{"rule": str(r.get("rule")), "passed": bool(r.get("passed")), "detail": str(r.get("detail", ""))}
                      for r in gate.get("rules", [])]}


def card_paths(registry_path: str, version: int) -> tuple[str, str]:
    """``(json, html)`` paths of a version's card inside a registry directory.

    Examples
    --------
    >>> [os.path.basename(p) for p in card_paths("/tmp/registry", 3)]
    ['v3.json', 'v3.html']
    """
    folder = os.path.join(os.fspath(registry_path), "cards")
    return os.path.join(folder, f"v{int(version)}.json"), os.path.join(folder, f"v{int(version)}.html")


def save_card(registry_path: str, card: dict) -> tuple[str, str]:
    """Write a card's JSON and HTML atomically into ``<registry>/cards/``; returns both paths.

    Examples
    --------
    >>> # save_card(registry.path, build_card(registry, 3, model, X_hold, y_hold))
    """
    json_path, html_path = card_paths(registry_path, card["version"])
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    write_bytes_atomic(json_path, json.dumps(card, indent=1, allow_nan=False).encode("utf-8"))
    write_bytes_atomic(html_path, ModelCard(card).to_html().encode("utf-8"))
    return json_path, html_path


@dataclass
class ModelCard:
    """A version's card: ``to_dict()`` (the JSON), ``to_html()`` (self-contained page), ``save()``.

    Examples
    --------
    >>> # registry.card("champion").to_html()
    """

    data: dict

    def to_dict(self) -> dict:
        """The card as plain JSON types (a copy).

        Examples
        --------
        >>> ModelCard({"version": 1}).to_dict()
        {'version': 1}
        """
        return json.loads(json.dumps(self.data))

    def to_json(self, indent: int = 1) -> str:
        """The card as JSON text.

        Examples
        --------
        >>> ModelCard({"version": 1}).to_json(indent=None)
        '{"version": 1}'
        """
        return json.dumps(self.data, indent=indent, allow_nan=False)

    def to_html(self) -> str:
        """One self-contained HTML page (inline CSS and SVG; nothing fetched).

        Examples
        --------
        >>> ModelCard({"version": 1}).to_html().startswith("<!DOCTYPE html>")
        True
        """
        from ._card_html import render_card

        return render_card(self.data)

    def save(self, path: Any) -> str:
        """Write the HTML page (``.html``) or the JSON (any other suffix) to ``path``; returns it.

        Examples
        --------
        >>> import os, tempfile
        >>> os.path.basename(ModelCard({"version": 1}).save(os.path.join(tempfile.mkdtemp(), "v1.json")))
        'v1.json'
        """
        path = os.fspath(path)
        text = self.to_html() if path.endswith((".html", ".htm")) else self.to_json()
        write_bytes_atomic(path, text.encode("utf-8"))
        return path

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        metrics = ", ".join(f"{m['name']}={m['value']:.4g}" for m in self.data.get("holdout", {}).get("metrics", []))
        return f"ModelCard(version={self.data.get('version')}, {metrics})"


def _metadata_card(registry: Any, version: int) -> dict:
    """A card from the registry's metadata alone (a version registered without the loop's hook)."""
    info = registry.info(version)
    window = info.get("data_window") or {}
    rows = window.get("rows")
    return jsonable({
        "schema_version": CARD_SCHEMA_VERSION, "version": int(version), "created": info["created"].isoformat(),
        "model": {"class": info["class"], "format": info["format"], "sha256": info["sha256"], "parameters": {}},
        "data": {"window": window, "n_rows": int(rows) if isinstance(rows, (int, np.integer)) else None},
        "holdout": {"n": 0, "metrics": []}, "slices": [], "groups": {"rows": [], "gaps": []},
        "explanation": {"unavailable": "registered without data (no card was written at registration)"},
        "drift": {"unavailable": "registered without data (no card was written at registration)"},
        "lineage": {"parent": info.get("parent"), "reasons": list((info.get("tags") or {}).get("reasons", [])),
                    "tags": info.get("tags") or {}, "registered_by": "unknown", "gate": None, "promotions": []},
    })


def load_card(registry: Any, version: int) -> ModelCard:
    """The stored card of ``version`` (or one from its metadata) with its promotions so far.

    Examples
    --------
    >>> # load_card(registry, 3).to_dict()["lineage"]["promotions"]
    """
    json_path, _ = card_paths(registry.path, version)
    if os.path.exists(json_path):
        with open(json_path, encoding="utf-8") as handle:
            card = json.load(handle)
    else:
        card = _metadata_card(registry, version)
    history = registry.history(None)
    promotions = []
    if history is not None and len(history):
        for record in history.to_dict(orient="records"):
            if int(record["version"]) != int(version):
                continue
            previous = record.get("previous")
            promotions.append({"timestamp": pd.Timestamp(record["timestamp"]).isoformat(), "alias": str(record["alias"]),
                               "action": str(record["action"]), "reason": str(record.get("reason") or ""),
                               "previous": None if previous is None or pd.isna(previous) else int(previous)})
    card["lineage"]["promotions"] = promotions
    return ModelCard(card)
