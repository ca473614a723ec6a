"""One self-contained HTML report of the loop: a summary in plain words at the top (what
happened, what it means, what to do), then performance over time, drift, what the champion
relies on, every decision and every model version.

Time axes are in the stream's data time (the timestamps of the served predictions); wall
time appears only where it is the subject (when the check ran, when a version was saved).
Figures are drawn on ``matplotlib.figure.Figure`` objects with an Agg canvas, so writing a
report never touches pyplot or the user's backend.
"""

from __future__ import annotations

import html
import os
from typing import Any, Optional, Union

import numpy as np
import pandas as pd

from .._atomic import write_bytes_atomic
from ._report_html import STYLE, figure_img, new_figure, table
from ._report_summary import champion_starts, decisions, summary_sections

__all__ = ["write_report"]


def _labelled_frame(loop: Any) -> pd.DataFrame:
    labeled = loop.store.labeled()
    if not len(labeled):
        return pd.DataFrame(columns=["timestamp", "label", "prediction", "model_version"])
    frame = labeled.to_frame()
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_convert(None)
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _performance_over_time(frame: pd.DataFrame, starts: pd.DataFrame, metric: str) -> tuple[str, Optional[pd.DataFrame]]:
    from ._scoring import score_arrays

    if not len(frame):
        return "<p>No labelled feedback yet.</p>", None
    n_chunks = int(min(30, max(1, len(frame) // 100)))
    chunk = np.arange(len(frame)) * n_chunks // len(frame)
    rows = []
    for _, group in frame.groupby(chunk):
        rows.append({
            "from (data time)": group["timestamp"].iloc[0],
            "to (data time)": group["timestamp"].iloc[-1],
            "rows": len(group),
            "served by": ", ".join(f"v{v}" for v in sorted(pd.unique(group["model_version"].dropna().astype(int)))),
            metric: score_arrays(group["label"].to_numpy(), group["prediction"].to_numpy(), metric),
        })
    result = pd.DataFrame(rows)
    middle = result["from (data time)"] + (result["to (data time)"] - result["from (data time)"]) / 2
    figure = new_figure(9.5, 3.4)
    axis = figure.add_subplot()
    axis.plot(middle, result[metric], marker="o", color="#1f5fa8", label=f"{metric} of served predictions")
    low, high = result["from (data time)"].min(), result["to (data time)"].max()
    shown = starts[(starts["data_time"] > low) & (starts["data_time"] <= high)] if len(starts) else starts
    for _, start in shown.iterrows():
        axis.axvline(start["data_time"], color="#888", linestyle="--", linewidth=1)
        axis.annotate(f"v{int(start['version'])}", (start["data_time"], 1.0), xycoords=("data", "axes fraction"),
                      xytext=(3, -12), textcoords="offset points", fontsize=9, color="#444")
    axis.set_xlim(low, high)
    axis.set_ylabel(metric)
    axis.set_xlabel("data time of the served predictions (dashed: a new champion starts serving)")
    axis.grid(alpha=0.3)
    figure.autofmt_xdate()
    return figure_img(figure, f"{metric} over data time"), result


def _importance(model: Any, X: Any, y: np.ndarray, names: list) -> tuple[pd.Series, str]:
    """Global importance per user column: mean |TreeSHAP| for tree models (on the user's
    columns), permutation importance of the user's columns otherwise."""
    try:
        from ..explain import TreeExplainer

        values = TreeExplainer(model, progress=False)(X).mean_abs()
        values = np.abs(values).sum(axis=1) if values.ndim == 2 else values
        return pd.Series(values, index=names), "mean |SHAP| (TreeSHAP)"
    except (TypeError, ValueError):
        pass  # not a tree ensemble loopwise can read
    from sklearn.inspection import permutation_importance

    result = permutation_importance(model, X, y, n_repeats=3, random_state=0)
    return pd.Series(result.importances_mean, index=names), "permutation importance"


def _previous_champion(loop: Any) -> Optional[int]:
    history = loop.registry.history("champion")
    if history is None or not len(history):
        return None
    previous = history.iloc[-1].get("previous")
    return None if previous is None or pd.isna(previous) else int(previous)


def _explanation(loop: Any) -> tuple[str, Optional[pd.Series]]:
    """What the champion relies on, next to its predecessor (what changed); and the champion's
    importance per feature, which the summary uses."""
    labeled = loop.store.labeled(window=1000)
    if not len(labeled):
        return "<p>No labelled data to explain the champion on yet.</p>", None
    frame = labeled.to_frame()
    names = labeled.feature_names or [c for c in frame.columns if c.startswith("x")]
    # The models get the rows as the user gave them (the user's dtypes, or an array).
    X, y = loop._model_input(frame), frame["label"].to_numpy()
    models = {f"champion v{loop.champion_version}": loop.model()}
    previous = _previous_champion(loop)
    if previous is not None:
        try:
            models = {f"previous champion v{previous}": loop.model(previous), **models}
        except Exception:  # the predecessor's file may be unloadable here; the champion still shows
            pass
    try:
        measured = {label: _importance(model, X, y, list(names)) for label, model in models.items()}
    except Exception as error:  # a model that cannot be scored must not break the report
        return f"<p>Could not explain the champion: {html.escape(str(error))}</p>", None
    importance = pd.DataFrame({label: series for label, (series, _) in measured.items()})
    champion = importance.iloc[:, -1]
    shown = importance.reindex(champion.abs().sort_values(ascending=False).index).head(12)
    methods = sorted({method for _, method in measured.values()})
    figure = new_figure(8, 0.42 * len(shown) + 1.3)
    axis = figure.add_subplot()
    positions = np.arange(len(shown))[::-1]
    height = 0.8 / shown.shape[1]
    for offset, column in enumerate(shown.columns):
        axis.barh(positions + offset * height, shown[column].to_numpy(), height=height, label=column)
    axis.set_yticks(positions + height * (shown.shape[1] - 1) / 2, list(shown.index))
    axis.set_xlabel(f"{', '.join(methods)} on the newest {len(X)} labelled rows")
    axis.legend(loc="lower right", fontsize=8)
    axis.grid(axis="x", alpha=0.3)
    note = ("<p>Bars side by side: how the promoted model's reliance on each feature differs from its "
            "predecessor's.</p>" if previous is not None else "")
    listing = shown.reset_index().rename(columns={"index": "feature"})
    return figure_img(figure, "feature importance") + note + table(listing, what="features"), champion


def _drift_table(status: Any) -> str:
    drift = status.drift_table
    if drift is None:
        return "<p>No reference data or too few logged rows.</p>"
    frame = drift.copy()
    frame["missing (reference → current)"] = [
        f"{r:.1%} → {c:.1%}" + (" (drifted)" if flag else "")
        for r, c, flag in zip(frame.get("missing_reference", 0.0), frame.get("missing_current", 0.0),
                              frame.get("missing_drifted", False))
    ]
    keep = [c for c in ("column", "kind", "test", "statistic", "p_value", "p_value_adjusted", "threshold", "drifted",
                        "missing (reference → current)") if c in frame.columns]
    return table(frame[keep], fold_after=20, what="columns",
                 row_class=lambda record: "bad" if record.get("drifted") else "")


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
    lead = (f"<p>A classifier that tells the newest rows from the reference reaches AUC {auc:.3f} "
            "(0.5: indistinguishable).</p>" if auc is not None else "")
    return lead + table(ranking[keep], what="features")


def _decision_rows(history: pd.DataFrame) -> pd.DataFrame:
    shown = history.iloc[::-1].copy()  # newest first
    shown["version"] = [f"v{int(v)}" if v is not None and not pd.isna(v) else "" for v in shown["version"]]
    return shown.rename(columns={
        "data_time": "data time", "wall_time": "recorded (wall clock)", "why": "why it ran",
        "window": "training window", "gate": "gate comparison", "gate_reasons": "why rejected",
    })


def _version_rows(versions: Optional[pd.DataFrame], starts: pd.DataFrame) -> pd.DataFrame:
    if versions is None or not len(versions):
        return pd.DataFrame()
    start_of = dict(zip(starts["version"], starts["data_time"]))
    rows = []
    for record in versions.to_dict(orient="records")[::-1]:
        window = record.get("data_window") if isinstance(record.get("data_window"), dict) else {}
        tags = record.get("tags") if isinstance(record.get("tags"), dict) else {}
        trained = ""
        if window.get("from") and window.get("to"):
            trained = (f"{window.get('rows', '?')} rows, {pd.Timestamp(window['from']):%Y-%m-%d %H:%M} to "
                       f"{pd.Timestamp(window['to']):%Y-%m-%d %H:%M}")
        rows.append({
            "version": f"v{int(record['version'])}",
            "serving from (data time)": start_of.get(int(record["version"])),
            "trained on (data time)": trained or tags.get("role", ""),
            "window": window.get("window", ""),
            "holdout metrics": record.get("metrics") or {},
            "why": tags.get("reasons", []),
            "aliases": record.get("aliases") or [],
            "saved (wall clock)": record.get("created"),
        })
    return pd.DataFrame(rows)


def _status_rows(status: Any) -> pd.DataFrame:
    metric = status.metric_name or "metric"
    rows = [
        ("champion", f"v{status.champion_version}"),
        ("newest rows compared with the reference", status.n_current),
        ("drifted columns", f"{status.drift_share:.0%}" if status.drift_share is not None else "n/a"),
        (f"{metric} (labelled rows)", status.metric),
        (f"{metric} when promoted (baseline)", status.baseline_metric),
        (f"{metric} estimated without labels (CBPE/DLE)", status.estimated_metric),
        (f"{metric} estimate's sampling error", status.estimated_metric_error),
        ("labelled rows", status.n_labeled),
        ("new labels since the last training", status.new_labels),
    ]
    return pd.DataFrame(rows, columns=["", "value"])


def _card_links(loop: Any, report_path: str) -> str:
    """Links to the versions' model cards, relative to the report (the folder can move)."""
    from .cards import card_paths

    links = []
    for version in sorted(loop.registry.versions()["version"].astype(int).tolist(), reverse=True):
        json_path, html_path = card_paths(loop.registry.path, version)
        if not os.path.exists(json_path):
            continue
        if version == loop.champion_version:  # refresh its promotions before linking to it
            loop.registry.card(version).save(html_path)
        target = os.path.relpath(html_path, os.path.dirname(os.path.abspath(report_path))).replace(os.sep, "/")
        links.append(f"<a href='{html.escape(target)}'>v{version}</a>")
    if not links:
        return ""
    return "<p>Model cards (data, metrics with intervals, explanation, drift, lineage): " + ", ".join(links) + "</p>"


def _summary_html(sections: dict) -> str:
    parts = ["<section class='summary' id='summary'><h2>Summary</h2>"]
    for heading, sentences in sections.items():
        if sentences:
            items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
            parts.append(f"<h3>{html.escape(heading)}</h3><ul>{items}</ul>")
    parts.append("</section>")
    return "".join(parts)


def write_report(loop: Any, path: Union[str, os.PathLike], *, status: Any) -> str:
    """Render the loop's report to ``path`` (one HTML file with embedded images); returns the path."""
    path = os.fspath(path)
    metric = status.metric_name or "accuracy"
    frame = _labelled_frame(loop)
    versions = loop.registry.versions()
    starts = champion_starts(versions, frame)
    history = decisions(loop.audit.entries())
    performance_img, performance = _performance_over_time(frame, starts, metric)
    explanation, importance = _explanation(loop)
    alerts = list(dict.fromkeys(status.alerts or []))

    parts = [
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>loopwise report</title><style>{STYLE}</style></head><body>",
        "<h1>loopwise feedback loop</h1>",
        f"<p class='meta'>{html.escape(loop.path)} &middot; checked {html.escape(str(status.checked_at))[:19]} "
        "(wall clock); times below are the data's own time unless marked.</p>",
        _summary_html(summary_sections(status, history, importance)),
        "<h2>Status</h2>",
        table(_status_rows(status), fold_after=None),
    ]
    if alerts:
        parts.append("<ul>" + "".join(f"<li class='alert'>{html.escape(a)}</li>" for a in alerts) + "</ul>")
    else:
        parts.append("<p class='ok'>No alerts.</p>")
    parts.append("<h2>Performance over time</h2>" + performance_img)
    if performance is not None:
        parts.append("<details><summary>Performance per chunk of labelled rows</summary>"
                     + table(performance, fold_after=None) + "</details>")
    parts.append("<h2>Input drift against the reference</h2>" + _drift_table(status))
    parts.append("<h2>Which features drive the drift</h2>" + _drift_drivers(loop))
    parts.append("<h2>What the champion relies on, and what changed</h2>" + explanation)
    parts.append("<h2>Decisions</h2><p>One row per retraining attempt, newest first.</p>")
    parts.append(table(_decision_rows(history), what="decisions",
                       row_class=lambda r: {"promoted": "good", "rejected": "bad"}.get(r.get("outcome"), "")))
    parts.append("<h2>Model versions</h2>" + table(_version_rows(versions, starts), what="versions"))
    parts.append(_card_links(loop, path))
    parts.append("</body></html>")
    write_bytes_atomic(path, "\n".join(parts).encode("utf-8"))
    return path

