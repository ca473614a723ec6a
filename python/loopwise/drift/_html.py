"""HTML rendering of a DriftReport: inline SVG bar charts, no external assets."""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

_REF, _CUR = "#4c72b0", "#dd8452"
_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child{text-align:left}tr.drift td{background:#fde8e8}
.grid{display:flex;flex-wrap:wrap;gap:16px}.card{border:1px solid #ddd;padding:8px;border-radius:4px}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.4g}"
    return html.escape(str(value))


def _table_html(table: pd.DataFrame) -> str:
    shown = ["column", "kind", "test", "statistic", "p_value", "p_value_adjusted", "threshold", "drifted",
             "missing_reference", "missing_current"]
    head = "".join(f"<th>{c}</th>" for c in shown)
    rows = []
    for record in table[shown].to_dict(orient="records"):
        css = ' class="drift"' if record["drifted"] else ""
        rows.append(f"<tr{css}>" + "".join(f"<td>{_fmt(record[c])}</td>" for c in shown) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _bars_svg(labels: list[str], reference: list[float], current: list[float], title: str) -> str:
    width, height, pad = 320, 160, 24
    k = max(len(labels), 1)
    top = max(max(reference, default=0), max(current, default=0), 1e-12)
    slot = (width - 2 * pad) / k
    bars = []
    for i, (r, c) in enumerate(zip(reference, current)):
        x = pad + i * slot
        for offset, value, color in ((0.0, r, _REF), (slot / 2, c, _CUR)):
            h = (height - 2 * pad) * value / top
            bars.append(f'<rect x="{x + offset:.1f}" y="{height - pad - h:.1f}" width="{max(slot / 2 - 1, 0.5):.1f}" '
                        f'height="{h:.1f}" fill="{color}"><title>{html.escape(labels[i])}: {value:.3f}</title></rect>')
    axis = f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>'
    first = html.escape(labels[0]) if labels else ""
    last = html.escape(labels[-1]) if labels else ""
    ticks = (f'<text x="{pad}" y="{height - 8}" font-size="10">{first}</text>'
             f'<text x="{width - pad}" y="{height - 8}" font-size="10" text-anchor="end">{last}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<text x="{pad}" y="14" font-size="12">{html.escape(title)}</text>{axis}{"".join(bars)}{ticks}</svg>')


def summary_html(report: Any) -> str:
    verdict = "drift detected" if report.drifted else "no drift"
    return (f"<div><b>DriftReport</b>: {verdict} ({report.share_drifted:.1%} of columns drifted, "
            f"threshold {report.settings.get('drift_share')})</div>" + _table_html(report.table))


def render_report(report: Any) -> str:
    cards = []
    for column, hist in report.histograms.items():
        svg = _bars_svg(hist["labels"], hist["reference"], hist["current"], column)
        cards.append(f'<div class="card">{svg}</div>')
    settings = "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
                       for k, v in report.settings.items())
    legend = (f'<p class="legend"><span style="background:{_REF}"></span>reference (share of rows)'
              f'<span style="background:{_CUR}"></span>current</p>')
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>loopwise drift report</title>"
            f"<style>{_STYLE}</style></head><body><h1>Drift report</h1>{summary_html(report)}"
            f"<h2>Distributions</h2>{legend}<div class='grid'>{''.join(cards)}</div>"
            f"<h2>Settings</h2><ul>{settings}</ul></body></html>")
