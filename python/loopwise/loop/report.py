"""One self-contained HTML report of the loop: status, drift, performance over time,
what explains the champion, and every decision with its reasons."""

from __future__ import annotations

from .._atomic import write_bytes_atomic

import base64
import html
import io
import os
from typing import Any, Optional, Union

import numpy as np
import pandas as pd

__all__ = ["write_report"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
h1{margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f4f4f4}
.alert{color:#a00}.ok{color:#070}img{max-width:100%}
"""


def _figure_to_img(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return f"<img src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}'/>"


def _performance_over_time(loop: Any, metric: str) -> tuple[str, Optional[pd.DataFrame]]:
    from ._scoring import score_arrays

    labeled = loop.store.labeled()
    if not len(labeled):
        return "<p>No labelled feedback yet.</p>", None
    frame = labeled.to_frame().sort_values("timestamp", kind="stable").reset_index(drop=True)
    n_chunks = int(min(30, max(1, len(frame) // 100)))
    frame["chunk"] = np.arange(len(frame)) * n_chunks // len(frame)
    rows = []
    for chunk, group in frame.groupby("chunk"):
        rows.append(
            {
                "from": str(group["timestamp"].iloc[0]),
                "rows": len(group),
                "model_version": ",".join(sorted(group["model_version"].astype(str).unique())),
                metric: score_arrays(group["label"].to_numpy(), group["prediction"].to_numpy(), metric),
            }
        )
    table = pd.DataFrame(rows)
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 3))
    axis.plot(pd.to_datetime(table["from"]), table[metric], marker="o")
    axis.set_ylabel(metric)
    axis.set_title(f"{metric} of served predictions over time (labelled feedback)")
    for _, move in _champion_moves(loop).iterrows():
        axis.axvline(pd.Timestamp(move["timestamp"]).tz_localize(None) if pd.Timestamp(move["timestamp"]).tzinfo else pd.Timestamp(move["timestamp"]), color="grey", linestyle="--", linewidth=1)
    return _figure_to_img(figure), table


def _champion_moves(loop: Any) -> pd.DataFrame:
    history = loop.registry.history("champion")
    return history if history is not None else pd.DataFrame(columns=["timestamp"])


def _importance(model: Any, X: pd.DataFrame, y: np.ndarray) -> tuple[pd.Series, str]:
    """Global importance: mean |TreeSHAP| for tree models, permutation importance otherwise."""
    try:
        from ..explain import TreeExplainer

        values = TreeExplainer(model, progress=False)(X).mean_abs()
        values = np.abs(values).sum(axis=1) if values.ndim == 2 else values
        return pd.Series(values, index=list(X.columns)), "mean |SHAP| (TreeSHAP)"
    except (TypeError, ValueError):
        pass  # not a tree ensemble loopwise can read
    from sklearn.inspection import permutation_importance

    result = permutation_importance(model, X, y, n_repeats=3, random_state=0)
    return pd.Series(result.importances_mean, index=list(X.columns)), "permutation importance"


def _previous_champion(loop: Any) -> Optional[int]:
    history = loop.registry.history("champion")
    if history is None or not len(history):
        return None
    previous = history.iloc[-1].get("previous")
    return None if previous is None or pd.isna(previous) else int(previous)


def _explanation(loop: Any) -> str:
    """What the champion relies on, next to what its predecessor relied on (what changed)."""
    labeled = loop.store.labeled(window=1000)
    if not len(labeled):
        return "<p>No labelled data to explain the champion on yet.</p>"
    frame = labeled.to_frame()
    names = labeled.feature_names or [c for c in frame.columns if c.startswith("x")]
    X, y = frame[names], frame["label"].to_numpy()
    models = {f"champion v{loop.champion_version}": loop.model()}
    previous = _previous_champion(loop)
    if previous is not None:
        models = {f"previous champion v{previous}": loop.model(previous), **models}
    try:
        measured = {label: _importance(model, X, y) for label, model in models.items()}
    except Exception as error:  # a model that cannot be scored must not break the report
        return f"<p>Could not explain the champion: {html.escape(str(error))}</p>"
    table = pd.DataFrame({label: series for label, (series, _) in measured.items()})
    table = table.reindex(table.iloc[:, -1].abs().sort_values(ascending=False).index).head(12)
    methods = sorted({method for _, method in measured.values()})
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7.5, 0.4 * len(table) + 1.2))
    positions = np.arange(len(table))[::-1]
    height = 0.8 / table.shape[1]
    for offset, column in enumerate(table.columns):
        axis.barh(positions + offset * height, table[column].to_numpy(), height=height, label=column)
    axis.set_yticks(positions + height * (table.shape[1] - 1) / 2, list(table.index))
    axis.set_title(f"What the models rely on ({', '.join(methods)}; newest {len(X)} labelled rows)")
    axis.legend(loc="lower right", fontsize=8)
    note = ("<p>Bars side by side: how the promoted model's reliance on each feature differs from its "
            "predecessor's.</p>" if previous is not None else "")
    return _figure_to_img(figure) + note + table.to_html(float_format=lambda v: f"{v:.4g}")


def _drift_drivers(loop: Any) -> str:
    """Which features separate the newest logged rows from the reference (drift attribution)."""
    from .. import drift

    reference, _ = loop._reference_xy()
    current = loop.store.records(last=loop.monitor_rows)
    if reference is None or len(current) < 50:
        return "<p>No reference data or too few logged rows.</p>"
    X_current = current.to_frame()[list(reference.columns)]
    try:
        ranking = drift.attribute(reference, X_current, random_state=loop.random_state)
    except Exception as error:  # attribution is advice; the report must still render
        return f"<p>Could not attribute the drift: {html.escape(str(error))}</p>"
    keep = [c for c in ("feature", "importance", "share", "test", "statistic", "p_value", "drifted") if c in ranking]
    auc = ranking.attrs.get("auc")
    lead = f"<p>Domain classifier AUC {auc:.3f} (0.5: indistinguishable).</p>" if auc is not None else ""
    return lead + ranking[keep].head(10).to_html(index=False, float_format=lambda v: f"{v:.4g}")


def write_report(loop: Any, path: Union[str, os.PathLike], *, status: Any) -> str:
    """Render the loop's report to ``path`` (one HTML file with embedded images); returns the path."""
    path = os.fspath(path)
    metric = status.metric_name or "accuracy"
    parts = [f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>loopwise report</title><style>{_STYLE}</style></head><body>"]
    parts.append(f"<h1>loopwise feedback loop</h1><p>{html.escape(loop.path)} &middot; checked {html.escape(status.checked_at)}</p>")
    parts.append("<h2>Status</h2>" + status._repr_html_())
    if status.alerts:
        parts.append("<ul>" + "".join(f"<li class='alert'>{html.escape(a)}</li>" for a in status.alerts) + "</ul>")
    else:
        parts.append("<p class='ok'>No alerts.</p>")
    parts.append("<h2>Performance over time</h2>")
    image, table = _performance_over_time(loop, metric)
    parts.append(image)
    if table is not None:
        parts.append(table.to_html(index=False, float_format=lambda v: f"{v:.4f}"))
    parts.append("<h2>Input drift against the reference</h2>")
    if status.drift_table is not None:
        parts.append(status.drift_table.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
    else:
        parts.append("<p>No reference data or too few logged rows.</p>")
    parts.append("<h2>Which features drive the drift</h2>" + _drift_drivers(loop))
    parts.append("<h2>What the champion relies on, and what changed</h2>" + _explanation(loop))
    parts.append("<h2>Decisions</h2>")
    entries = loop.audit.entries()
    if entries is not None and len(entries):
        keep = [c for c in ("timestamp", "kind", "model_version", "passed", "reasons") if c in entries.columns]
        parts.append(entries[keep].to_html(index=False))
    else:
        parts.append("<p>No decisions yet.</p>")
    parts.append("<h2>Model versions</h2>")
    versions = loop.registry.versions()
    if versions is not None and len(versions):
        parts.append(versions.to_html(index=False))
    parts.append("</body></html>")
    write_bytes_atomic(path, "\n".join(parts).encode("utf-8"))
    return path
