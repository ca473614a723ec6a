"""The model card as one self-contained HTML page: inline CSS and SVG, nothing fetched."""

from __future__ import annotations

import html
from typing import Optional

import pandas as pd

from ._report_html import STYLE, table

__all__ = ["render_card", "bar_svg"]

_CARD_STYLE = ".bar{fill:#4c78a8}.ci{stroke:#333;stroke-width:2}svg text{font:12px system-ui,sans-serif;fill:#222}"


def bar_svg(labels: list, values: list, *, title: str, intervals: Optional[list] = None) -> str:
    """A horizontal bar chart as inline SVG that scales to its container (no fixed pixel width).

    Examples
    --------
    >>> bar_svg(["a", "b"], [1.0, 0.5], title="importance").startswith("<svg")
    True
    """
    if not values:
        return ""
    width, left, row = 640.0, 170.0, 22.0
    top = max(max(values), max((hi for _, hi in intervals), default=0.0) if intervals else 0.0) or 1.0
    height = row * len(values) + 10
    scale = (width - left - 60) / top
    parts = [f"<svg viewBox='0 0 {width:.0f} {height:.0f}' width='100%' role='img' "
             f"preserveAspectRatio='xMinYMin meet' style='max-width:{width:.0f}px'><title>{html.escape(title)}</title>"]
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 5 + i * row
        text = html.escape(str(label))[:26]
        parts.append(f"<text x='{left - 6:.0f}' y='{y + 15:.0f}' text-anchor='end'>{text}</text>")
        parts.append(f"<rect class='bar' x='{left:.0f}' y='{y + 3:.0f}' width='{max(value, 0) * scale:.1f}' height='{row - 6:.0f}'/>")
        if intervals:
            low, high = intervals[i]
            parts.append(f"<line class='ci' x1='{left + low * scale:.1f}' x2='{left + high * scale:.1f}' "
                         f"y1='{y + row / 2:.1f}' y2='{y + row / 2:.1f}'/>")
        parts.append(f"<text x='{left + max(value, 0) * scale + 4:.1f}' y='{y + 15:.0f}'>{value:.3g}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _sentences(card: dict) -> list:
    out = []
    data = card.get("data", {})
    window = data.get("window") or {}
    span = f" from {window['from']} to {window['to']}" if window.get("from") and window.get("to") else ""
    if data.get("n_rows") is not None:
        out.append(f"Trained on {data['n_rows']} rows{span}.")
    for metric in card.get("holdout", {}).get("metrics", []):
        out.append(f"{metric['name']} {metric['value']:.4f} on {metric['n']} holdout rows "
                   f"({metric['interval']}: {metric['ci_low']:.4f} to {metric['ci_high']:.4f}).")
    features = card.get("explanation", {}).get("features", [])
    if features:
        out.append("Relies most on " + ", ".join(f["feature"] for f in features[:3]) + ".")
    drift = card.get("drift", {})
    if "columns" in drift:
        drifted = [c["column"] for c in drift["columns"] if c["drifted"]]
        out.append(f"Training window against the reference: {len(drifted)} of {len(drift['columns'])} columns drifted"
                   + (f" ({', '.join(drifted[:5])})." if drifted else "."))
    gaps = card.get("groups", {}).get("gaps", [])
    if gaps:
        worst = max(gaps, key=lambda g: g["value"])
        out.append(f"Largest fairness gap: {worst['gap']} over {worst['column']} = {worst['value']:.3f}.")
    lineage = card.get("lineage", {})
    parent = lineage.get("parent")
    gate = lineage.get("gate")
    verdict = "" if not gate else (" It passed the gate." if gate["passed"] else " It did not pass the gate.")
    out.append(("Derived from v" + str(parent) if parent else "A first version") + f", registered by "
               f"{lineage.get('registered_by', 'unknown')}." + verdict)
    promotions = lineage.get("promotions", [])
    if promotions:
        last = promotions[-1]
        done = {"promote": "Promoted", "rollback": "Restored by a rollback", "alias": "Set"}.get(last["action"],
                                                                                         last["action"])
        out.append(f"{done} as {last['alias']} at {last['timestamp'][:19]} (wall clock): {last['reason']}.")
    return out


def _frame(rows: list, columns: Optional[list] = None) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame()


def _missing(section: dict) -> str:
    return f"<p>Not available: {html.escape(section['unavailable'])}</p>" if "unavailable" in section else ""


def render_card(card: dict) -> str:
    """The card's HTML page.

    Examples
    --------
    >>> render_card({"version": 1, "model": {"class": "m", "parameters": {}}}).count("<svg")
    0
    """
    version = card.get("version")
    model = card.get("model", {})
    items = "".join(f"<li>{html.escape(s)}</li>" for s in _sentences(card))
    parts = ["<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
             "<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>Model card v{version}</title><style>{STYLE}{_CARD_STYLE}</style></head><body>",
             f"<h1>Model card: version {version}</h1>",
             f"<p class='meta'>{html.escape(str(model.get('class', '')))} &middot; registered "
             f"{html.escape(str(card.get('created', ''))[:19])} &middot; sha256 {html.escape(str(model.get('sha256', ''))[:12])}</p>",
             f"<section class='summary' id='summary'><h2>Summary</h2><ul>{items}</ul></section>"]

    holdout = card.get("holdout", {})
    metrics = holdout.get("metrics", [])
    parts.append("<h2>Metrics on the gate's holdout</h2>")
    parts.append(bar_svg([m["name"] for m in metrics], [m["value"] for m in metrics], title="holdout metrics",
                         intervals=[(m["ci_low"], m["ci_high"]) for m in metrics]))
    parts.append(table(_frame(metrics), fold_after=None))
    if holdout.get("scored"):
        parts.append(f"<p>Scored: {html.escape(holdout['scored'])}.</p>")
    parts.append("<h2>Per slice</h2>" + table(_frame(card.get("slices", [])), what="groups"))
    groups = card.get("groups", {})
    parts.append("<h2>Per sensitive group</h2>" + table(_frame(groups.get("rows", [])), what="groups"))
    if groups.get("gaps"):
        parts.append("<p>Gaps: the largest difference between groups (demographic parity = positive rate).</p>"
                     + table(_frame(groups["gaps"]), fold_after=None))

    explanation = card.get("explanation", {})
    features = explanation.get("features", [])[:15]
    parts.append("<h2>What the model relies on (mean |SHAP| per feature)</h2>" + _missing(explanation))
    if features:
        parts.append(f"<p>{html.escape(explanation.get('method', ''))}.</p>")
        parts.append(bar_svg([f["feature"] for f in features], [f["mean_abs_shap"] for f in features],
                             title="mean absolute SHAP value per feature"))
        parts.append(table(_frame(explanation["features"]), what="features"))

    drift = card.get("drift", {})
    parts.append("<h2>Drift of the training window against the reference</h2>" + _missing(drift))
    if "columns" in drift:
        parts.append(f"<p>{drift['n_training']} training rows against {drift['n_reference']} reference rows; "
                     f"{drift['share_drifted']:.0%} of columns drifted.</p>"
                     + table(_frame(drift["columns"]), what="columns",
                             row_class=lambda r: "bad" if r.get("drifted") else ""))

    parts.append("<h2>Parameters</h2>" + table(_frame([{"parameter": k, "value": v} for k, v in
                                                       model.get("parameters", {}).items()]), what="parameters"))
    lineage = card.get("lineage", {})
    data = card.get("data", {})
    parts.append("<h2>Lineage</h2>" + table(_frame([
        {"": "parent version", "value": f"v{lineage['parent']}" if lineage.get("parent") else "none"},
        {"": "why trained", "value": lineage.get("reasons") or "initial model"},
        {"": "registered by", "value": lineage.get("registered_by", "")},
        {"": "training window", "value": data.get("window") or "not recorded"},
    ]), fold_after=None))
    gate = lineage.get("gate")
    if gate:
        parts.append(f"<h3>Gate: {'passed' if gate['passed'] else 'failed'}</h3>"
                     + table(_frame(gate.get("rules", [])), what="rules",
                             row_class=lambda r: "" if r.get("passed") else "bad"))
    parts.append("<h3>Promotions</h3>" + table(_frame(lineage.get("promotions", [])), what="promotions"))
    parts.append("</body></html>")
    return "\n".join(parts)
