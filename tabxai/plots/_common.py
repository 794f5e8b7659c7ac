"""What every plot shares: a new figure unless ``ax`` is given, the output to draw, labels, colours.

matplotlib is imported inside the functions, never when tabxai is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _display
from ..model import output_index
from .._display import AGAINST, CATEGORY_COLORS, MAGNITUDE, NEUTRAL, TOWARDS

__all__ = ["AGAINST", "CATEGORY_COLORS", "MAGNITUDE", "NEUTRAL", "TOWARDS", "Selected", "axes", "diverging_cmap",
           "fold", "is_categorical", "select", "value_cmap"]


def axes(ax, width, height):
    """``ax`` when given, else the Axes of a new figure of ``width`` x ``height`` inches laid out to fit its labels.

    The figure is made through pyplot (so a notebook shows it and ``plt.savefig`` finds it), never
    drawn on the current axes.
    """
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise TypeError(f"`ax` must be a matplotlib Axes; got {type(ax).__name__}")
        return ax
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(width, height), layout="constrained")
    return figure.add_subplot()


def value_cmap():
    """Low feature values blue, high vermillion (the colours of the shared convention)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("tabxai_value", [AGAINST, "#B39CD0", TOWARDS])


def diverging_cmap():
    """Negative attributions blue, zero white, positive vermillion."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("tabxai_attribution", [AGAINST, "#FFFFFF", TOWARDS])


def sign_colors(values):
    return [TOWARDS if v >= 0 else AGAINST for v in np.asarray(values, dtype=np.float64)]


def is_categorical(column):
    """Whether a data column is drawn as categories (strings, categoricals, booleans)."""
    dtype = column.dtype
    return (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype))


@dataclass
class Selected:
    """One output of an Explanation, as the plots use it."""

    values: np.ndarray  # (n, p)
    stderr: np.ndarray | None  # (n, p)
    base: np.ndarray  # (n,)
    names: list  # player names
    members: list  # per player, its columns in ``frame``
    frame: pd.DataFrame | None  # the explained rows' raw data
    label: str  # the output, readably: "P(bad)"
    params: dict
    conditions: object  # the Explanation's readable conditions (LIME), or None

    @property
    def output_values(self):
        return self.base + self.values.sum(axis=1)

    def row_labels(self, row, width=40, lines=2):
        """Labels with the row's values: ``duration = 48``; the names alone without data."""
        values = self.frame.iloc[row] if self.frame is not None else None
        conditions = _display.row_conditions(self.conditions, row, len(self.names))
        return [_display.player_label(name, self.members[j], values, width=width, lines=lines,
                                      conditions=None if conditions is None else conditions[j])
                for j, name in enumerate(self.names)]

    def name_labels(self, width=30):
        return [_display.shorten(_display.plain(name), width) for name in self.names]


def select(explanation, output):
    """The attributions of one output of ``explanation`` (an error naming the outputs when it is ambiguous)."""
    from ..explanation import Explanation

    if not isinstance(explanation, Explanation):
        raise TypeError(f"expected a tabxai Explanation; got {type(explanation).__name__}")
    names = explanation._output_names
    k = _output_position(names, output, explanation.params)
    values = explanation._values[:, :, k]
    stderr = None if explanation._stderr is None else explanation._stderr[:, :, k]
    frame = explanation._data
    players = list(explanation._feature_names)
    if not isinstance(frame, pd.DataFrame):
        array = None if frame is None else np.asarray(frame)
        if array is not None and array.ndim == 1:
            array = array[None, :]
        frame = None
        if array is not None and array.ndim == 2 and array.shape[1] == len(players):
            frame = pd.DataFrame(array, columns=pd.Index(players, dtype=object))
    members = _display.player_members(players, frame, explanation.params, getattr(explanation, "groups", None))
    label = _display.output_label(explanation.params, names[k])
    return Selected(values, stderr, explanation._base[:, k], players, members, frame, label,
                    explanation.params, getattr(explanation, "_conditions", None))


def _output_position(names, output, params):
    return output_index(tuple(names), output, _display.response_method(params, names) if output is None else None)


def fold(order, max_display):
    """Split players ``order`` (most important first) into those shown and those folded into one bar."""
    from .._validation import check_int

    max_display = check_int(max_display, "max_display", min_value=1)
    if len(order) <= max_display:
        return list(order), []
    return list(order[:max_display - 1]), list(order[max_display - 1:])


def other_label(folded):
    return f"{len(folded)} other feature{'s' * (len(folded) != 1)}"


def category_codes(column):
    """Integer code per row (-1 for missing) and the labels, in the column's category order or sorted."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return np.asarray(column.cat.codes, dtype=np.int64), list(column.cat.categories)
    present = column.dropna()
    try:
        labels = sorted(pd.unique(present).tolist())
    except TypeError:
        labels = sorted(pd.unique(present).tolist(), key=str)
    position = {label: j for j, label in enumerate(labels)}
    codes = np.array([-1 if (not isinstance(v, str) and pd.isna(v)) else position[v] for v in column], dtype=np.int64)
    return codes, labels


def numeric_values(column):
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
