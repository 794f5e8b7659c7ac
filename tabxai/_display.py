"""How results speak to a reader: output names, one number format, labels of players and values.

Shared by the text and HTML displays of the result objects and by every plot (presentation layer),
so that a picture, a printed summary and a notebook table name the same things the same way.
Imports nothing of tabxai above the data layer.
"""

from __future__ import annotations

import math
import numbers
import re
import textwrap

import numpy as np
import pandas as pd

__all__ = ["AGAINST", "CATEGORY_COLORS", "MAGNITUDE", "NEUTRAL", "TOWARDS", "NumberFormat", "is_missing", "names_list",
           "number_text", "output_label", "player_label", "player_members", "plain", "row_conditions", "shorten",
           "threshold_text", "value_text"]

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


def number_text(value, *, decimals=None, digits=None, sign=False, grouping=False):
    """Every number tabxai prints, as text: the one number formatter, with options.

    Whole numbers print without decimals. Otherwise ``decimals`` fixes the decimals (a table of
    results), ``digits`` keeps that many significant digits (positional, trailing zeros dropped),
    and with neither the number prints as the shortest decimal that reads back as the same float
    (a data value, a threshold: the printed number is the number). Never ``-0``, never exponents.

    Parameters
    ----------
    value : real number
    decimals : int, default=None
        Fixed number of decimals (whole numbers too: ``1.50``).
    digits : int, default=None
        Significant digits, when ``decimals`` is not given.
    sign : bool, default=False
        ``+`` before positive numbers (and zero).
    grouping : bool, default=False
        Thousands separated by commas: ``209,800``.

    Examples
    --------
    >>> number_text(1365.5), number_text(0.1 + 0.2, digits=4), number_text(209800.0, grouping=True)
    ('1365.5', '0.3', '209,800')
    >>> number_text(-0.0001, decimals=3, sign=True), number_text(48.0)
    ('+0.000', '48')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and decimals is None:
        text = f"{abs(value):{',' if grouping else ''}d}"
        negative = value < 0
    else:
        value = float(value)
        if not math.isfinite(value):
            return str(value)
        negative = value < 0
        magnitude = abs(value)
        if decimals is not None:
            text = f"{magnitude:{',' if grouping else ''}.{int(decimals)}f}"
        elif magnitude.is_integer() and magnitude < 1e15:
            text = f"{int(magnitude):{',' if grouping else ''}d}"
        else:
            text = np.format_float_positional(magnitude, precision=digits, unique=digits is None,
                                              fractional=False, trim="-")
            if grouping:
                whole, _, fraction = text.partition(".")
                text = f"{int(whole):,d}" + (f".{fraction}" if fraction else "")
    if not text.strip("0.,"):  # zero after rounding: no "-0.000"
        negative = False
    return ("-" if negative else "+" if sign else "") + text


def threshold_text(threshold, values=(), *, digits=4):
    """The shortest decimal text of a cut point that keeps every value of ``values`` on its side.

    A condition ``x <= t`` (or ``t < x``) printed with a rounded ``t`` must stay true for the
    row it describes: the text is ``threshold`` at ``digits`` significant digits, or more digits
    when rounding would move a value of ``values`` (the explained row's, and the data's) across
    the cut, and at worst the exact shortest decimal of ``threshold`` (which moves none).

    Parameters
    ----------
    threshold : float
        The cut point: values ``<= threshold`` are on one side, values ``> threshold`` on the other.
    values : array-like of float, default=()
        Values whose side of the cut the printed number must keep (NaN ignored).
    digits : int, default=4
        Fewest significant digits tried.

    Examples
    --------
    >>> threshold_text(1365.5, [1366]), threshold_text(1365.5, [5000]), threshold_text(123456.5, [123457])
    ('1365.5', '1366', '123456')
    """
    threshold = float(threshold)
    values = np.asarray(values, dtype=np.float64).ravel()
    values = np.sort(values[~np.isnan(values)])
    exact = number_text(threshold)
    if not math.isfinite(threshold):
        return exact
    below = np.searchsorted(values, threshold, side="right")  # values <= threshold
    for precision in range(max(int(digits), 1), 18):
        text = number_text(threshold, digits=precision)
        if len(text) >= len(exact):
            break
        printed = float(text)
        if np.searchsorted(values, printed, side="right") == below:
            return text
    return exact


class NumberFormat:
    """Decimals chosen once from the largest magnitude of a result's values, for :func:`number_text`.

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
        return number_text(value, decimals=self.decimals, sign=sign, grouping=True)

    def error(self, value):
        """A standard error or interval half-width, with one more decimal than the values."""
        value = float(value)
        if value == 0:
            return "0"
        return number_text(value, decimals=self.decimals + 1, grouping=True)


def is_missing(value):
    """Whether a data value is missing: None, NaN, ``pd.NA`` or ``pd.NaT``."""
    if isinstance(value, np.generic):
        value = value.item()
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def value_text(value, width=24, *, digits=None, grouping=False, missing="missing", booleans=("False", "True")):
    """A data value as a reader writes it: ``48``, ``2.5``, ``no checking account``, ``missing``.

    Numbers print exactly by default (:func:`number_text`: the shortest decimal that reads back as
    the value), so that ``amount = 1365.5`` is true of the row; ``digits`` rounds computed values
    (the grid of a curve) to that many significant digits. ``width=None`` never shortens.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if is_missing(value):
        return missing
    if isinstance(value, bool):
        text = booleans[int(value)]
    elif isinstance(value, numbers.Real):
        text = number_text(value, digits=digits, grouping=grouping)
    else:
        text = str(value)
    return text if width is None else shorten(text, width)


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
