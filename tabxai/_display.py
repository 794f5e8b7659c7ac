"""How results speak to a reader: output names, one number format, labels of players and values.

Shared by the text and HTML displays of the result objects and by every plot (presentation layer),
so that a picture, a printed summary and a notebook table name the same things the same way.
Imports nothing of tabxai above the data layer.
"""

from __future__ import annotations

import math
import re
import textwrap

import numpy as np
import pandas as pd

__all__ = ["AGAINST", "CATEGORY_COLORS", "MAGNITUDE", "NEUTRAL", "TOWARDS", "NumberFormat", "names_list", "output_label",
           "player_label", "player_members", "plain", "row_conditions", "shorten", "value_text"]

# One colour convention for every plot and table (Okabe-Ito, safe under the common colour-vision
# deficiencies): attributions that push the output up are vermillion, those that pull it down blue.
TOWARDS = "#D55E00"
AGAINST = "#0072B2"
NEUTRAL = "#8C8C8C"
MAGNITUDE = "#52616B"  # sizes without a direction (mean |attribution|, importance, rows): slate, neither way
CATEGORY_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

_GENERIC_OUTPUT = re.compile(r"^output(_\d+)?$")


def plain(value):
    """A label as a reader writes it: ``setosa``, not ``np.str_('setosa')``; ``1``, not ``np.int64(1)``."""
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _link(params):
    link = params.get("link")
    if link is None:
        link = (params.get("parameters") or {}).get("link")
    return link


def _response(params, name):
    """``"probability"``, ``"decision"`` or ``"prediction"``: what an output of the model measures."""
    response = params.get("response")
    if response == "predict_proba":
        return "probability"
    if response == "decision_function":
        return "decision"
    if response == "predict":
        return "prediction"
    text = plain(name)
    if text.startswith("decision_function("):
        return "decision"
    if _GENERIC_OUTPUT.match(text):
        return "prediction"
    return "probability"  # named outputs of a fitted estimator are its classes


def response_method(params, names):
    """``"predict_proba"`` when every output of a result is a class probability, else its recorded response:
    what :func:`tabxai.model.output_index` needs to look up a result's outputs."""
    params = params or {}
    if len(names) and all(_response(params, n) == "probability" for n in names):
        return "predict_proba"
    return params.get("response")


def output_label(params, name, *, long=False):
    """Name an output readably from a result's ``params`` and the output's name.

    ``"P(bad)"`` for a classifier's probability (``"probability of bad"`` with ``long=True``),
    ``"log-odds of bad"`` when ``params["link"] == "logit"``, ``"prediction"`` for a regressor's
    single output, the output's own name otherwise.

    Examples
    --------
    >>> output_label({"response": "predict_proba"}, "bad")
    'P(bad)'
    >>> output_label({"link": "logit"}, "bad")
    'log-odds of bad'
    >>> output_label({}, "output")
    'prediction'
    """
    params = params or {}
    text = plain(name)
    response = _response(params, name)
    link = _link(params)
    if link == "logit":
        if response == "prediction" and _GENERIC_OUTPUT.match(text):
            return "log-odds" if text == "output" else f"log-odds ({text})"
        return f"log-odds of {text}"
    if response == "probability":
        return f"probability of {text}" if long else f"P({text})"
    if response == "decision":
        inner = text[len("decision_function("):-1].strip("'\"") if text.startswith("decision_function(") else text
        return f"decision function of {inner}" if long else f"decision({inner})"
    if text == "output":
        return "prediction"
    return f"prediction ({text})" if long and _GENERIC_OUTPUT.match(text) else text


class NumberFormat:
    """One number format for every value of a result: decimals chosen from the largest magnitude.

    Three significant digits of the largest number, thousands separated: probabilities print as
    ``0.127``, house prices as ``209,800``, log-odds as ``1.37``.

    Examples
    --------
    >>> NumberFormat([0.3, 0.0123])(0.0123, sign=True)
    '+0.012'
    >>> NumberFormat([209800.0, 1523.4])(209800.0)
    '209,800'
    """

    def __init__(self, values):
        values = np.abs(np.asarray(values, dtype=np.float64).ravel())
        values = values[np.isfinite(values) & (values > 0)]
        scale = float(values.max()) if values.size else 1.0
        self.decimals = int(min(max(2 - math.floor(math.log10(scale)), 0), 8))

    def __call__(self, value, *, sign=False):
        value = float(value)
        if not math.isfinite(value):
            return str(value)
        text = f"{value:{'+' if sign else ''},.{self.decimals}f}"
        zero = f"{0:.{self.decimals}f}"
        if text.lstrip("+-") == zero:  # no "-0.000"
            text = ("+" if sign else "") + zero
        return text

    def error(self, value):
        """A standard error or interval half-width, with one more decimal than the values."""
        value = float(value)
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            return "0"
        return f"{value:,.{self.decimals + 1}f}"


def value_text(value, width=24):
    """A data value as a reader writes it: ``48``, ``2.5``, ``no checking account``, ``missing``."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, bool):
        text = str(value)
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"
    else:
        text = str(value)
    return shorten(text, width)


def shorten(text, width=30, lines=1):
    """``text`` in at most ``lines`` lines of ``width`` characters, wrapped at spaces, with an ellipsis when cut."""
    text = str(text)
    if len(text) <= width:
        return text
    wrapped = textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False)
    if len(wrapped) > lines:
        kept = wrapped[:lines]
        kept[-1] = kept[-1][:width - 1].rstrip() + "…"
        wrapped = kept
    return "\n".join(wrapped)


def player_members(feature_names, data, params, groups=None):
    """Column names of each player: the player's own column, or its feature group's columns.

    ``groups`` is an Explanation's ``{player: (columns...)}``; without it the groups are rebuilt
    from ``params["parameters"]["feature_groups"]`` when that matches the players.
    """
    columns = list(data.columns) if isinstance(data, pd.DataFrame) else None
    known = set(columns) if columns is not None else set()
    if groups:
        return [tuple(c for c in groups[name] if c in known) if _hashable(name) and name in groups
                else ((name,) if _hashable(name) and name in known else ()) for name in feature_names]
    spec = (params.get("parameters") or {}).get("feature_groups") if params else None
    if columns is not None and spec is not None:
        from .data import Players

        try:
            players = Players(columns, spec)
        except (TypeError, ValueError):
            players = None
        if players is not None and tuple(players.names) == tuple(feature_names):
            return [tuple(columns[j] for j in members) for members in players.columns]
    return [(name,) if _hashable(name) and name in known else () for name in feature_names]


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def player_label(name, members, row, *, width=40, lines=1, conditions=None):
    """``duration = 48`` for a column, ``loan: duration = 48, amount = 1,169`` for a group.

    ``row`` is a Series of the explained row's raw values (or None: the name alone); ``conditions``
    a readable condition (LIME's ``duration > 24``) used in place of ``name = value`` when given.
    """
    if conditions is not None:
        return shorten(conditions, width, lines)
    if row is None or not members:
        return shorten(plain(name), width, lines)
    parts = [f"{plain(column)} = {value_text(row[column])}" for column in members]
    if len(members) == 1 and plain(members[0]) == plain(name):
        return shorten(parts[0], width, lines)
    return shorten(f"{plain(name)}: " + ", ".join(parts), width, lines)


def row_conditions(conditions, row, n_players):
    """One row's readable conditions (LIME's ``duration > 24``, one per player), or None.

    ``conditions`` is an Explanation's optional ``conditions``: a DataFrame or an array of shape
    ``(n_rows, n_players)`` of strings (None where a player has none).
    """
    if conditions is None:
        return None
    try:
        items = conditions.iloc[row] if isinstance(conditions, pd.DataFrame) else \
            np.asarray(conditions, dtype=object)[row]
        items = np.asarray(items, dtype=object)
    except (IndexError, TypeError, ValueError):
        return None
    if items.ndim != 1 or items.shape[0] != n_players:
        return None
    return [None if item is None or (isinstance(item, float) and math.isnan(item)) else str(item) for item in items]


def names_list(names, limit=8):
    """``a, b, c`` or ``a, b, c and 12 more``: hidden players counted by name."""
    names = [plain(n) for n in names]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
