"""lime's quartile discretizer and the tables tabxai's lime sampler draws from.

:class:`_Discretizer` cuts numeric background columns at their quartiles (lime's
``QuartileDiscretizer``), keeps each bin's bounds, mean and standard deviation and the tables of its
truncated-normal quantile, and words a bin as a condition; :func:`_pick_tables` and
:func:`_piece_tables` lay out per player what :func:`tabxai._kernels.lime_sampler.draw_samples`
reads. Used by :class:`tabxai.LimeTabular`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import truncnorm

from ._display import threshold_text
from ._kernels.lime_sampler import quantile_table, truncation_table, uniform_table
from .data import BOOLEAN, NUMERIC

_QUARTILES = [25, 50, 75]
_STD_FLOOR = 1e-11  # lime adds this to every bin's standard deviation
_KNOTS = 64  # intervals of each bin's quintic table of the truncated-normal quantile
_MAX_SPLIT = 256  # most pieces an interval is cut into where the quantile bends (a bin's end deep in a tail)
_KNOT_TOLERANCE = 1e-8  # of the bin's width (Acklam's quantile, the reference, is good to about 1e-9 of it)
_PIECES = 1024  # equal pieces of a continuous column's map from uniforms to values (uniform_table)


class _Discretizer:
    """lime's quartile discretizer fitted on background codes, plus the tables its sampler needs.

    ``keys`` are what the binary features compare: the bin of a numeric value, the code of a
    category, ``-1`` for a missing value.
    """

    def __init__(self, schema, background_codes, weights):
        numeric = [j for j, column in enumerate(schema.columns) if column.kind == NUMERIC]
        self.numeric = np.array(numeric, dtype=np.int64)
        self.slot = np.full(schema.n_columns, -1, dtype=np.int64)
        self.slot[self.numeric] = np.arange(len(numeric))
        self.edges = []
        self.values = []  # each numeric column's sorted background values: the sides a printed edge keeps
        self._edge_texts = {}
        self._printed_edges = {}  # per numeric column: its shared edge texts as numbers, and its edges
        self._bin_texts = {}  # (name, slot, key) -> the bin's condition when the shared edge texts hold
        n_slots = max(len(numeric), 1)
        self.lows = np.zeros((n_slots, 4))
        self.highs = np.zeros((n_slots, 4))
        self.means = np.zeros((n_slots, 4))
        self.stds = np.ones((n_slots, 4))
        self.integral = np.zeros(n_slots, dtype=np.bool_)
        for slot, j in enumerate(numeric):
            self.integral[slot] = _is_integer_dtype(schema.columns[j].dtype)
            values = background_codes[:, j]
            values = values[~np.isnan(values)]
            self.values.append(np.sort(values))
            if len(values) == 0:
                self.edges.append(np.zeros(0))
                continue
            edges = np.unique(np.percentile(values, _QUARTILES))
            self.edges.append(edges)
            bins = np.searchsorted(edges, values)
            self.lows[slot, :len(edges) + 1] = np.concatenate([[values.min()], edges])
            self.highs[slot, :len(edges) + 1] = np.concatenate([edges, [values.max()]])
            for b in range(len(edges) + 1):
                inside = values[bins == b]
                self.means[slot, b] = inside.mean() if len(inside) else 0.0
                self.stds[slot, b] = (inside.std() if len(inside) else 0.0) + _STD_FLOOR
        # per bin: low, high, mean, std, then the standardised bounds and their normal probabilities
        self.tables = np.zeros((n_slots, 4, 8))
        self.flipped = np.zeros((n_slots, 4), dtype=np.bool_)
        for slot in range(n_slots):
            for b in range(4):
                low, high, mean, std = self.lows[slot, b], self.highs[slot, b], self.means[slot, b], self.stds[slot, b]
                a, z, pa, pz, flipped = truncation_table(low, high, mean, std)
                self.tables[slot, b] = (low, high, mean, std, a, z, pa, pz)
                self.flipped[slot, b] = flipped
        self.quantiles = quantile_table(self.tables, self.flipped, _KNOTS, _KNOT_TOLERANCE, _MAX_SPLIT)
        # the expected value of a sampled value given its bin (for the control variate)
        self.expected = np.zeros((n_slots, 4))
        for slot, j in enumerate(numeric):
            present = ~np.isnan(background_codes[:, j])
            bins = np.searchsorted(self.edges[slot], background_codes[present, j])
            for b in range(len(self.edges[slot]) + 1):
                low, high = self.lows[slot, b], self.highs[slot, b]
                if self.integral[slot]:
                    inside = bins == b
                    share = weights[present][inside]
                    self.expected[slot, b] = share @ background_codes[present, j][inside] / share.sum() \
                        if share.sum() > 0 else low
                elif high > low:
                    mean, std = self.means[slot, b], self.stds[slot, b]
                    with np.errstate(all="ignore"):
                        value = truncnorm.mean((low - mean) / std, (high - mean) / std, loc=mean, scale=std)
                    self.expected[slot, b] = value if np.isfinite(value) else min(max(mean, low), high)
                else:
                    self.expected[slot, b] = low

    def edge_texts(self, slot):
        """How each edge of a numeric column prints when that is true of every background value (cached)."""
        if slot not in self._edge_texts:
            self._edge_texts[slot] = [threshold_text(e, self.values[slot]) for e in self.edges[slot]]
        return self._edge_texts[slot]

    def bin_conditions(self, name, slot, keys, values):
        """:func:`_bin_condition` of every (key, value) of a numeric column (``keys >= 0``).

        A value on the same side of every printed edge as of the edge itself gets its bin's text,
        built once per column and bin (cached); others go through :func:`_bin_condition`.
        """
        edges, shared = self.edges[slot], self.edge_texts(slot)
        if len(edges) == 0:
            return [f"{name} is present"] * len(keys)
        printed = self._printed_edges.get(slot)
        if printed is None:
            printed = self._printed_edges[slot] = ([float(text) for text in shared], edges.tolist())
        printed, exact = printed
        last = len(exact) - 1
        out = []
        for key, value in zip(keys.tolist(), values.tolist()):
            # the value keeps its side of the edges of its bin (key - 1 and key) when they print as shared
            below, above = min(max(key - 1, 0), last), min(key, last)
            same = (value <= printed[below]) == (value <= exact[below]) and \
                (value <= printed[above]) == (value <= exact[above])
            text = self._bin_texts.get((name, slot, key)) if same else None
            if text is None:
                text = _bin_condition(name, edges, shared, key, value, self.values[slot])
                if same:
                    self._bin_texts[(name, slot, key)] = text
            out.append(text)
        return out

    def deviations(self, codes, keys):
        """Each numeric value minus its bin's expected value (the control variate's within-bin term), else 0."""
        out = np.zeros(codes.shape)
        bins = keys[:, self.numeric]
        expected = self.expected[np.arange(len(self.numeric)), np.maximum(bins, 0)]
        out[:, self.numeric] = np.where(bins >= 0, codes[:, self.numeric] - expected, 0.0)
        return out

    def keys(self, codes):
        """Bin (numeric) or code (categorical) of every cell, -1 for missing; int64, C order."""
        missing = np.isnan(codes)
        keys = np.where(missing, -1.0, codes)
        for slot, j in enumerate(self.numeric):
            bins = np.searchsorted(self.edges[slot], codes[:, j])  # NaN sorts last: replaced below
            keys[:, j] = np.where(missing[:, j], -1, bins)
        return np.ascontiguousarray(keys, dtype=np.int64)


def _pick_tables(players, keys, codes, weights):
    """Per player: background rows sorted by the bin and value of its first column, their cumulative
    weights (total 1), the share ``[start, stop)`` of each bin in that order (and ``1 / (stop - start)``),
    and the first column's keys and codes in that order.
    """
    n_background = len(weights)
    orders = np.empty((players.n_players, n_background), dtype=np.int64)
    sorted_keys = np.empty((players.n_players, n_background), dtype=np.int64)
    sorted_codes = np.empty((players.n_players, n_background))
    cumulative = np.empty((players.n_players, n_background))
    segments = np.zeros((players.n_players, 4, 3))
    for p, members in enumerate(players.columns):
        j = members[0]
        values = np.where(np.isnan(codes[:, j]), -np.inf, codes[:, j])
        order = np.lexsort((np.arange(n_background), values, keys[:, j]))
        orders[p] = order
        sorted_keys[p], sorted_codes[p] = keys[order, j], codes[order, j]
        cumulative[p] = np.cumsum(weights[order])
        cumulative[p, -1] = 1.0
        start = np.concatenate([[0.0], cumulative[p, :-1]])
        for key in range(4):
            inside = keys[order, j] == key
            if inside.any():
                low, high = start[inside][0], cumulative[p][inside][-1]
                segments[p, key] = low, high, 1.0 / (high - low) if high > low else 0.0
    return orders, cumulative, segments, sorted_keys, sorted_codes


def _piece_tables(players, discretizer, segments):
    """The :func:`uniform_table` of each player that is one continuous column, stacked, and per player its
    row in the stack (-1 for other players)."""
    rows = np.full(players.n_players, -1, dtype=np.int64)
    tables = []
    for p, members in enumerate(players.columns):
        slot = discretizer.slot[members[0]]
        if len(members) == 1 and slot >= 0 and not discretizer.integral[slot]:
            rows[p] = len(tables)
            tables.append(uniform_table(segments[p], discretizer.tables[slot], discretizer.flipped[slot], _PIECES,
                                        _KNOT_TOLERANCE))
    coefficients = np.stack([c for c, _ in tables]) if tables else np.zeros((1, _PIECES, 6))
    keys = np.stack([k for _, k in tables]) if tables else np.full((1, _PIECES), -1, dtype=np.int64)
    return coefficients, keys, rows


def _is_integer_dtype(dtype):
    try:
        return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    except TypeError:
        return False


def _bin_condition(name, edges, shared, key, value, data):
    """``low < name <= high`` of the bin ``key`` holding ``value``; an edge prints as ``shared`` (its
    text true of every background value in ``data``) unless that text would put ``value`` on the
    other side, then with the digits that keep it (:func:`threshold_text`)."""
    if len(edges) == 0:
        return f"{name} is present"

    def edge(b):
        text = shared[b]
        if (value <= float(text)) != (value <= edges[b]):
            text = threshold_text(edges[b], np.append(data, value))
        return text

    if key == len(edges):  # lime's words: "x > a", "a < x <= b", "x <= b"
        return f"{name} > {edge(key - 1)}"
    return (f"{edge(key - 1)} < " if key > 0 else "") + f"{name} <= {edge(key)}"


def _category(column, code):
    if np.isnan(code):
        return None
    value = column.categories[int(code)] if column.kind != BOOLEAN else bool(code)
    return str(value)
