"""HTML pieces of the loop report: readable cells, tables that fold, figures as inline PNGs.

Every cell goes through :func:`cell`, so a list, a dict or a timestamp is shown as words and
never as a Python repr (``[]``, ``{'a': 1}``).
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any, Callable, Mapping, Optional

import numpy as np
import pandas as pd

__all__ = ["cell", "table", "figure_img", "new_figure", "STYLE", "FOLD_AFTER"]

# Rows shown before the rest of a table folds into a <details> block.
FOLD_AFTER = 10

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:1em 1.2em;max-width:1200px;
color:#222;line-height:1.4}
h1{margin:.2em 0 0}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.meta{color:#666;font-size:13px;margin:.2em 0 1em}
.summary{border:1px solid #c9d7e8;background:#f3f7fc;border-radius:6px;padding:.6em 1.1em;margin:1em 0}
.summary h2{border:0;margin:.3em 0}.summary h3{margin:.7em 0 .2em;font-size:15px}
.summary ul{margin:.2em 0 .4em;padding-left:1.3em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td ul{margin:0;padding-left:1.1em}
tr.bad td{background:#fdecec}tr.good td{background:#eaf6ea}
.alert{color:#a00}.ok{color:#070}
img{max-width:100%;height:auto;display:block}
details summary{cursor:pointer;color:#245;margin:.3em 0}
@media (max-width:600px){body{padding:.6em}td,th{padding:2px 4px;font-size:12px}}
"""


def _number(value: float) -> str:
    if math.isnan(value):
        return ""
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:.3g}"
    return f"{value:.4g}"


def cell(value: Any) -> str:
    """One value as escaped HTML words (lists as bullets, dicts as ``key: value``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _number(float(value))
    if isinstance(value, pd.Timestamp):
        return html.escape(value.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, pd.Timedelta):
        return html.escape(str(value).split(".")[0])
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        items = [cell(item) for item in value]
        items = [item for item in items if item]
        if len(items) <= 1:
            return items[0] if items else ""
        return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"
    if isinstance(value, Mapping):
        return "; ".join(f"{html.escape(str(k))}: {cell(v)}" for k, v in value.items() if cell(v))
    return html.escape(str(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def table(frame: pd.DataFrame, *, fold_after: Optional[int] = FOLD_AFTER, what: str = "rows",
          row_class: Optional[Callable[[Mapping], str]] = None) -> str:
    """``frame`` as an HTML table; rows past ``fold_after`` fold into a ``<details>`` block."""
    if frame is None or not len(frame):
        return "<p>None yet.</p>"
    head = "<tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns) + "</tr>"

    def rows(records: list) -> str:
        out = []
        for record in records:
            css = row_class(record) if row_class else ""
            cells = "".join(
                f"<td class='num'>{cell(v)}</td>" if _is_number(v) else f"<td>{cell(v)}</td>" for v in record.values()
            )
            out.append(f"<tr class='{css}'>{cells}</tr>" if css else f"<tr>{cells}</tr>")
        return "".join(out)

    records = frame.to_dict(orient="records")
    shown = records if fold_after is None else records[:fold_after]
    text = f"<div class='scroll'><table>{head}{rows(shown)}</table></div>"
    if fold_after is not None and len(records) > fold_after:
        rest = records[fold_after:]
        text += (f"<details><summary>{len(rest)} more {html.escape(what)}</summary>"
                 f"<div class='scroll'><table>{head}{rows(rest)}</table></div></details>")
    return text


def new_figure(width: float, height: float) -> Any:
    """A matplotlib Figure with an Agg canvas: drawn off-screen, never through pyplot.

    pyplot's state and the user's backend (inline in a notebook) stay untouched.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def figure_img(figure: Any, alt: str) -> str:
    """The figure as an inline PNG ``<img>`` (no file, no network)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'/>"
