"""HTML rendering of a DriftReport: a summary in words, the per-column table (the p-value
where a test decided, the distance and its threshold where a distance decided, missing-value
shifts) and small inline SVG charts with axes and category labels. No scripts, no network."""

from __future__ import annotations

import html
import math
import warnings
from typing import Any, Optional

import numpy as np
import pandas as pd

_REF, _CUR = "#4c72b0", "#dd8452"
_STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:1em 1.2em;max-width:1200px;
color:#222;line-height:1.4}
.summary{border:1px solid #c9d7e8;background:#f3f7fc;border-radius:6px;padding:.6em 1.1em;margin:1em 0}
.summary h2{margin:.3em 0}.summary ul{margin:.2em 0 .4em;padding-left:1.3em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right;
vertical-align:top}th{background:#f4f4f4}td.text,th.text{text-align:left}tr.drift td{background:#fde8e8}
.grid{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;padding:6px;border-radius:4px;
flex:1 1 330px;max-width:420px}.card svg{width:100%;height:auto;display:block}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
details summary{cursor:pointer;color:#245}
@media (max-width:600px){body{padding:.6em}td,th{padding:2px 4px;font-size:12px}}
"""


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    value = float(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3g}"
    return f"{value:.4g}"


def _missing(value: Any) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(value) else value


def _ks_pvalue(report: Any, column: str, n_reference: Any, n_current: Any) -> Optional[float]:
    """Asymptotic two-sample KS p-value from the stored KS statistic (for information where a
    distance, not a test, decided); None when the column has no KS statistic."""
    stats = report.statistics
    if stats is None or not len(stats) or "ks" not in stats or "column" not in stats:
        return None
    found = stats.loc[stats["column"] == column]
    if not len(found):
        return None
    exact = found["ks_exact_pvalue"].iloc[0] if "ks_exact_pvalue" in found else float("nan")
    if exact is not None and not pd.isna(exact):
        return float(exact)
    d = float(found["ks"].iloc[0])
    try:
        n, m = float(n_reference), float(n_current)
    except (TypeError, ValueError):
        return None
    if math.isnan(d) or n <= 0 or m <= 0:
        return None
    from scipy.special import kolmogorov

    return float(kolmogorov(d * math.sqrt(n * m / (n + m))))


def _decision(record: dict) -> str:
    """How this column was judged, in words: the p-value against alpha, or the distance
    against its threshold."""
    threshold = record.get("threshold")
    p = record.get("p_value")
    if p is not None and not pd.isna(p):
        adjusted = record.get("p_value_adjusted")
        shown = adjusted if adjusted is not None and not pd.isna(adjusted) else p
        sign = "<" if shown < threshold else "≥"
        extra = f" (raw {_num(p)})" if shown is adjusted and _num(adjusted) != _num(p) else ""
        return f"p = {_num(shown)}{extra} {sign} α {_num(threshold)}"
    statistic = record.get("statistic")
    if statistic is None or pd.isna(statistic):
        return "not tested"
    sign = "≥" if statistic >= threshold else "<"
    return f"distance {_num(statistic)} {sign} threshold {_num(threshold)}"


def _rows(report: Any) -> list[dict]:
    rows = []
    for record in report.table.to_dict(orient="records"):
        ks_p = None
        if record.get("p_value") is None or pd.isna(record.get("p_value")):
            ks_p = _ks_pvalue(report, record["column"], record.get("n_reference"), record.get("n_current"))
        missing_ref, missing_cur = _missing(record.get("missing_reference")), _missing(record.get("missing_current"))
        rows.append({**record, "decision": _decision(record), "ks_p": ks_p,
                     "missing": f"{missing_ref:.1%} → {missing_cur:.1%}",
                     "missing_drifted": bool(record.get("missing_drifted", False))})
    return rows


def _table_html(report: Any) -> str:
    heads = [("column", "text"), ("kind", "text"), ("test", "text"), ("how it was judged", "text"),
             ("drifted", "text"), ("KS p-value (info)", ""), ("missing: reference → current", "text")]
    head = "".join(f"<th class='{css}'>{name}</th>" for name, css in heads)
    body = []
    for row in _rows(report):
        css = ' class="drift"' if row["drifted"] or row["missing_drifted"] else ""
        missing = html.escape(row["missing"]) + (" <b>(drifted)</b>" if row["missing_drifted"] else "")
        cells = [html.escape(str(row["column"])), html.escape(str(row["kind"])), html.escape(str(row["test"])),
                 html.escape(row["decision"]), "yes" if row["drifted"] else "no", _num(row["ks_p"]), missing]
        body.append(f"<tr{css}>" + "".join(
            f"<td class='{css_}'>{value}</td>" for value, (_, css_) in zip(cells, heads)) + "</tr>")
    note = ("<p style='font-size:12px;color:#555'>A p-value is shown wherever a test ran (corrected across columns; "
            "the raw value in brackets). Where a distance decided (large samples, where any tiny shift is "
            "'significant'), the distance and its threshold are shown, and the KS p-value only for information.</p>")
    return f"<div class='scroll'><table><tr>{head}</tr>{''.join(body)}</table></div>{note}"


def _sentences(report: Any) -> dict:
    rows = _rows(report)
    drifted = [r["column"] for r in rows if r["drifted"]]
    missing = [r for r in rows if r["missing_drifted"]]
    share = report.settings.get("drift_share")
    happened = [f"{len(drifted)} of {len(rows)} columns drifted"
                + (f" ({', '.join(map(str, drifted[:8]))}{', …' if len(drifted) > 8 else ''})" if drifted else "")
                + f"; the dataset verdict is {'drift' if report.drifted else 'no drift'} "
                  f"({report.share_drifted:.0%} of columns, threshold {share:.0%})." if share is not None else "."]
    for r in missing:
        happened.append(f"Missing values in {r['column']} changed: {r['missing']}.")
    todo = []
    if drifted:
        todo.append("Check whether the model relies on the drifted columns (e.g. loopwise.drift.attribute or the "
                    "model's feature importance): drift in a column the model ignores needs no retraining.")
        todo.append("If the change is real and the model relies on these columns, retrain on recent data; if it is "
                    "a data bug (a unit, an encoding, a broken join), fix the pipeline.")
    if missing:
        todo.append("A change in missing values usually means an upstream pipeline problem: check where these "
                    "columns are produced.")
    if not todo:
        todo.append("Nothing to do: the current data looks like the reference.")
    return {"What happened": happened, "What to do": todo}


def _summary_block(report: Any) -> str:
    parts = ["<section class='summary' id='summary'><h2>Summary</h2>"]
    for heading, sentences in _sentences(report).items():
        parts.append(f"<b>{heading}</b><ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences) + "</ul>")
    return "".join(parts) + "</section>"


def _ordered(labels: list[str], reference: list[float], current: list[float]) -> tuple[list, list, list]:
    """Labels that are all dates (or all numbers) in their natural order, not by frequency."""
    if len(labels) < 2:
        return labels, reference, current
    for parse in (lambda s: pd.to_numeric(pd.Series(s), errors="raise"),
                  lambda s: pd.to_datetime(pd.Series(s), errors="raise")):
        try:
            with warnings.catch_warnings():  # pandas warns when it falls back to parsing one by one
                warnings.simplefilter("ignore")
                keys = parse(labels)
        except (ValueError, TypeError, OverflowError):
            continue
        if keys.isna().any():
            continue
        order = np.argsort(keys.to_numpy(), kind="stable")
        return [labels[i] for i in order], [reference[i] for i in order], [current[i] for i in order]
    return labels, reference, current


def _bars_svg(labels: list[str], reference: list[float], current: list[float], title: str) -> str:
    labels, reference, current = _ordered(list(labels), list(reference), list(current))
    width, height = 360, 210
    left, right, top, bottom = 40, 8, 22, 62
    k = max(len(labels), 1)
    peak = max(max(reference, default=0), max(current, default=0), 1e-12)
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / k
    parts = [f'<text x="{left}" y="14" font-size="12" font-weight="bold">{html.escape(title)}</text>']
    for fraction in (0.0, 0.5, 1.0):  # y axis: share of rows
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left - 3}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     f'stroke="{"#888" if fraction == 0 else "#e4e4e4"}"/>')
        tick = f"{peak * fraction:.0%}" if peak >= 0.1 else f"{peak * fraction:.1%}"
        parts.append(f'<text x="{left - 5}" y="{y + 3:.1f}" font-size="9" text-anchor="end">{tick}</text>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>')
    for i, (r, c) in enumerate(zip(reference, current)):
        x = left + i * slot
        for offset, value, color in ((0.1 * slot, r, _REF), (0.5 * slot, c, _CUR)):
            h = plot_h * value / peak
            parts.append(f'<rect x="{x + offset:.1f}" y="{top + plot_h - h:.1f}" width="{max(0.4 * slot, 0.5):.1f}" '
                         f'height="{h:.1f}" fill="{color}"><title>{html.escape(labels[i])}: {value:.3f}</title></rect>')
    step = max(1, math.ceil(k / 12))  # at most ~12 labels fit; every category when they do
    for i in range(0, k, step):
        label = labels[i] if i < len(labels) else ""
        label = label[:-6] if label.endswith(" 00:00") else label  # a date needs no midnight
        label = label if len(label) <= 14 else label[:13] + "…"
        x = left + (i + 0.5) * slot
        y = top + plot_h + 8
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="9" text-anchor="end" '
                     f'transform="rotate(-45 {x:.1f} {y:.1f})">{html.escape(label)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" aria-label="{html.escape(title)}">{"".join(parts)}</svg>')


def summary_html(report: Any) -> str:
    return _summary_block(report) + _table_html(report)


def render_report(report: Any) -> str:
    cards = []
    for column, hist in report.histograms.items():
        svg = _bars_svg(hist["labels"], hist["reference"], hist["current"], str(column))
        cards.append(f'<div class="card">{svg}</div>')
    settings = "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(_setting(v))}</li>"
                       for k, v in report.settings.items())
    legend = (f'<p class="legend"><span style="background:{_REF}"></span>reference'
              f'<span style="background:{_CUR}"></span>current &nbsp;(bar height: share of rows)</p>')
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'><title>loopwise drift report</title>"
            f"<style>{_STYLE}</style></head><body><h1>Drift report</h1>{summary_html(report)}"
            f"<h2>Distributions</h2>{legend}<div class='grid'>{''.join(cards)}</div>"
            f"<h2>Settings</h2><details><summary>How the verdict was reached</summary><ul>{settings}</ul></details>"
            "</body></html>")


def _setting(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_setting(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_setting(v) for v in value)
    if isinstance(value, float):
        return _num(value)
    return str(value)
