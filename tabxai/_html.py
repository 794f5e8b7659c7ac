"""Notebook display of the result objects: small HTML tables with inline CSS bars, no JavaScript.

Every string that comes from the user (feature names, category labels, output names, parameter
values) passes through :func:`escape`; sizes are bounded whatever the number of rows (a result
shows a summary and at most ``max_items`` lines). Imports nothing of tabxai above the data layer.
"""

from __future__ import annotations

import html

import numpy as np

from ._display import AGAINST, MAGNITUDE, TOWARDS, names_list, plain, shorten

__all__ = ["bar", "escape", "parameters_block", "render", "table"]

_BOX = ("font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:12px;line-height:1.35;"
        "max-width:760px;color:inherit")
_CELL = "padding:1px 8px;text-align:left;vertical-align:middle;border:none"
_NUMBER = "padding:1px 8px;text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;border:none"
_MUTED = "opacity:0.7"


def escape(value, width=None):
    """A user string as safe HTML text (``<`` and ``&`` and quotes escaped), optionally shortened."""
    text = plain(value)
    if width is not None:
        text = shorten(text, width).replace("\n", " ")
    return html.escape(text, quote=True)


def bar(value, scale, *, signed=True, width=120):
    """An inline bar of ``value / scale`` of the cell: vermillion right of the middle for positive
    values, blue left of it for negative ones (``signed``); one-sided bars (sizes without a
    direction) grow from the left in slate."""
    fraction = 0.0 if not scale or not np.isfinite(value) else min(abs(float(value)) / float(scale), 1.0)
    colour = TOWARDS if value >= 0 else AGAINST
    if not signed:
        colour = MAGNITUDE
        inner = (f'<span style="display:inline-block;height:9px;width:{fraction * width:.1f}px;'
                 f'background:{colour}"></span>')
        return f'<span style="display:inline-block;width:{width}px">{inner}</span>'
    half = width / 2
    length = fraction * half
    left = half - length if value < 0 else half
    return (f'<span style="display:inline-block;position:relative;width:{width}px;height:9px">'
            f'<span style="position:absolute;left:{half:.1f}px;top:0;width:1px;height:9px;background:#999"></span>'
            f'<span style="position:absolute;left:{left:.1f}px;top:0;width:{length:.1f}px;height:9px;'
            f'background:{colour}"></span></span>')


def table(header, rows, *, numeric=()):
    """A table from escaped cells; ``numeric`` are the positions of right-aligned columns."""
    head = "".join(f'<th style="{_NUMBER if j in numeric else _CELL}">{cell}</th>' for j, cell in enumerate(header))
    body = []
    for row in rows:
        body.append("<tr>" + "".join(f'<td style="{_NUMBER if j in numeric else _CELL}">{cell}</td>'
                                     for j, cell in enumerate(row)) + "</tr>")
    return (f'<table style="border-collapse:collapse;margin:4px 0"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def parameters_block(params, *, skip=("versions", "method", "response")):
    """Method parameters, seed and model rows as one muted line of ``name=value`` (escaped, shortened)."""
    items = []
    parameters = params.get("parameters") or {}
    for name, value in parameters.items():
        if value is None:
            continue
        items.append(f"{escape(name)}={escape(value, 40)}")
    for name, value in params.items():
        if name in skip or name == "parameters" or value is None or isinstance(value, (np.ndarray, list, tuple, dict)):
            continue
        items.append(f"{escape(name)}={escape(value, 40)}")
    if not items:
        return ""
    return f'<div style="{_MUTED}">{", ".join(items)}</div>'


def hidden_note(names, what="more"):
    """``… and 12 more: a, b, c and 9 more`` under a table that shows only the first lines."""
    if not names:
        return ""
    return f'<div style="{_MUTED}">{len(names)} {what}: {escape(names_list(names), 300)}</div>'


def render(title, *parts):
    """The result's block: a bold title line, then the parts (already escaped HTML)."""
    body = "".join(part for part in parts if part)
    return f'<div class="tabxai-result" style="{_BOX}"><div style="font-weight:600">{title}</div>{body}</div>'


def note(text):
    """A muted line of escaped text."""
    return f'<div style="{_MUTED}">{escape(text)}</div>'
