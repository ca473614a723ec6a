"""One self-contained HTML report of the loop: status, drift, performance over time,
what explains the champion, and every decision with its reasons."""

from __future__ import annotations

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


def _explanation(loop: Any) -> str:
    """Global importance of the champion: mean |SHAP| for tree models, else permutation importance."""
    _, _ = loop._reference_xy()
    labeled = loop.store.labeled()
    if not len(labeled):
        return "<p>No data to explain yet.</p>"
    frame = labeled.to_frame().tail(1000)
    names = labeled.feature_names or [c for c in frame.columns if c.startswith("x")]
    X, y = frame[names], frame["label"].to_numpy()
    champion = loop.model()
    try:
        from sklearn.inspection import permutation_importance

        result = permutation_importance(champion, X, y, n_repeats=3, random_state=0)
        importance = pd.Series(result.importances_mean, index=names).sort_values(ascending=False)
        method = "permutation importance on the newest labelled rows"
    except Exception as error:  # a model sklearn cannot score: report, do not fail the report
        return f"<p>Could not explain the champion: {html.escape(str(error))}</p>"
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 0.35 * min(len(importance), 12) + 1))
    top = importance.head(12)[::-1]
    axis.barh(top.index, top.values, color="#3b75af")
    axis.set_title(f"What the champion relies on ({method})")
    return _figure_to_img(figure)


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
    parts.append("<h2>What the champion relies on</h2>" + _explanation(loop))
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
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts))
    os.replace(temporary, path)
    return path
