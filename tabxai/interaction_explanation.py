"""InteractionExplanation: Shapley interaction values of order two, with provenance, sliceable by rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _display, _html

__all__ = ["InteractionExplanation"]


class InteractionExplanation:
    """Interaction values of order one and two for a set of explained rows.

    Shapes (``n`` rows, ``p`` players, ``k`` outputs): ``values`` and ``stderr`` are ``(n, p, p)``
    for one output, ``(n, p, p, k)`` for several; ``base_values`` ``(n,)`` or ``(n, k)``. The
    matrix is symmetric: ``values[r, i, j] == values[r, j, i]`` is the whole pair value (not half
    of it, as shap's tree interactions store it), and the diagonal ``values[r, i, i]`` holds the
    order-one values of the index (for SII, the Shapley values). For k-SII, STII and FSII the
    diagonal plus the upper triangle add up to ``f(x) - E f``: see :attr:`output_values`.

    ``expl[0]`` is the first row (the rows axis disappears), ``expl[:5]`` or ``expl[[0, 3]]`` several,
    ``expl[:, ["age", "job"]]`` the interactions among those players, ``expl[..., "good"]`` one
    output. ``params`` holds the method, its parameters, the seed, the model rows and versions;
    ``diagnostics`` per-row arrays (coalitions used, ``stopped_by``).

    Attributes
    ----------
    values, stderr : ndarray
        ``(n, p, p)`` or ``(n, p, p, k)``; ``stderr`` is None for exact values.
    base_values : ndarray
        ``E f`` over the background, ``(n,)`` or ``(n, k)``.
    main_effects : ndarray
        The diagonal, ``(n, p)`` or ``(n, p, k)``.
    data : DataFrame or ndarray
        The explained rows as given.
    feature_names, output_names : tuple
    params, diagnostics, groups : dict

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[[0.5, 0.2], [0.2, -0.1]]])  # one row, two players
    >>> expl = InteractionExplanation(values, [1.0], None, ["a", "b"], ["y"])
    >>> float(expl.output_values[0])  # 1.0 + 0.5 - 0.1 + 0.2
    1.6
    >>> expl.main_effects.tolist()
    [[0.5, -0.1]]
    """

    def __init__(self, values, base_values, data, feature_names, output_names, *, stderr=None, params=None,
                 diagnostics=None, groups=None, single_output=None):
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 3:
            values = values[..., None]
        if values.ndim != 4 or values.shape[1] != values.shape[2]:
            raise ValueError(f"values must have shape (n, p, p) or (n, p, p, k); got {values.shape}")
        n_rows, n_players, _, n_outputs = values.shape
        self._values = values
        self._base = np.asarray(base_values, dtype=np.float64).reshape(n_rows, n_outputs)
        self._stderr = None if stderr is None else np.asarray(stderr, dtype=np.float64).reshape(values.shape)
        self._data = data
        self._feature_names = tuple(feature_names)
        self._output_names = tuple(output_names)
        if len(self._feature_names) != n_players or len(self._output_names) != n_outputs:
            raise ValueError(f"{len(self._feature_names)} feature names and {len(self._output_names)} output names "
                             f"for values of shape {values.shape}")
        self.params = dict(params or {})
        self.diagnostics = {name: np.asarray(value) for name, value in (diagnostics or {}).items()}
        self.groups = dict(groups or {})
        self._single_output = n_outputs == 1 if single_output is None else bool(single_output) and n_outputs == 1
        self._single_row = False

    # views ----------------------------------------------------------------------------------
    def _view(self, array):
        if array is None:
            return None
        if self._single_output:
            array = array[..., 0]
        return array[0] if self._single_row else array

    @property
    def values(self):
        return self._view(self._values)

    @property
    def stderr(self):
        return self._view(self._stderr)

    @property
    def base_values(self):
        base = self._base[:, 0] if self._single_output else self._base
        return base[0] if self._single_row else base

    @property
    def main_effects(self):
        """The diagonal: order-one values, ``(n, p)`` (or ``(n, p, k)``)."""
        diagonal = np.diagonal(self._values, axis1=1, axis2=2).transpose(0, 2, 1)
        return self._view(diagonal)

    @property
    def output_values(self):
        """``base_values`` plus the diagonal and the upper triangle: ``f(x)`` for efficient indices."""
        upper = np.triu(np.ones(self._values.shape[1:3], dtype=bool))
        total = self._base + (self._values * upper[None, :, :, None]).sum(axis=(1, 2))
        total = total[:, 0] if self._single_output else total
        return total[0] if self._single_row else total

    @property
    def data(self):
        if self._single_row:
            return self._data.iloc[0] if hasattr(self._data, "iloc") else self._data[0]
        return self._data

    @property
    def feature_names(self):
        return self._feature_names

    @property
    def output_names(self):
        return self._output_names[0] if self._single_output else self._output_names

    @property
    def shape(self):
        return self.values.shape

    def __len__(self):
        if self._single_row:
            raise TypeError("len() of an InteractionExplanation of a single row")
        return self._values.shape[0]

    # indexing -------------------------------------------------------------------------------
    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        axes = (["rows"] if not self._single_row else []) + ["features"] + ([] if self._single_output else ["outputs"])
        if any(k is Ellipsis for k in key):
            at = next(i for i, k in enumerate(key) if k is Ellipsis)
            key = key[:at] + (slice(None),) * (len(axes) - len(key) + 1) + key[at + 1:]
        if len(key) > len(axes):
            raise IndexError(f"too many indices: this InteractionExplanation has axes {axes}")
        chosen = dict(zip(axes, key))
        n_rows, n_players, _, n_outputs = self._values.shape
        rows, single_row = _positions(chosen.get("rows", slice(None)), n_rows, None, "rows")
        features, single_feature = _positions(chosen.get("features", slice(None)), n_players, self._feature_names,
                                              "features")
        outputs, single_out = _positions(chosen.get("outputs", slice(None)), n_outputs, self._output_names, "outputs")
        if single_feature:
            raise IndexError("select players with a list or slice (the interactions among them); "
                             f"got the single player {chosen['features']!r}")
        grid = np.ix_(rows, features, features, outputs)
        data = self._data
        if rows != list(range(n_rows)):
            data = data.iloc[rows] if hasattr(data, "iloc") else np.asarray(data)[rows]
        result = InteractionExplanation(
            self._values[grid], self._base[np.ix_(rows, outputs)], data,
            [self._feature_names[j] for j in features], [self._output_names[o] for o in outputs],
            stderr=None if self._stderr is None else self._stderr[grid], params=self.params,
            diagnostics={name: value[rows] for name, value in self.diagnostics.items()}, groups=self.groups,
            single_output=self._single_output or single_out)
        result._single_row = self._single_row or single_row
        return result

    # conversion -----------------------------------------------------------------------------
    def to_frame(self):
        """One line per (row, output, pair ``i <= j``): ``row, output, feature_1, feature_2, value`` (+ ``stderr``)."""
        n, p, _, k = self._values.shape
        first, second = np.triu_indices(p)
        index = self._data.index if isinstance(self._data, pd.DataFrame) else pd.RangeIndex(n)
        names = np.asarray(self._feature_names, dtype=object)
        frame = pd.DataFrame({
            "row": np.repeat(np.asarray(index), k * len(first)),
            "output": np.tile(np.repeat(np.asarray(self._output_names, dtype=object), len(first)), n),
            "feature_1": np.tile(names[first], n * k),
            "feature_2": np.tile(names[second], n * k),
            "value": self._values[:, first, second, :].transpose(0, 2, 1).reshape(-1),
        })
        if self._stderr is not None:
            frame["stderr"] = self._stderr[:, first, second, :].transpose(0, 2, 1).reshape(-1)
        return frame

    def mean_abs(self, output=None):
        """Mean over rows of ``|values|``, a ``(p, p)`` matrix for one output (the heat map's numbers)."""
        return np.abs(self._values[..., self._output_position(output)]).mean(axis=0)

    def _output_position(self, output=None):
        if output is None:
            names = self._output_names
            if len(names) == 2 and all(_display.output_label(self.params, n).startswith("P(") for n in names):
                return 1
            return 0
        positions, _ = _positions(output, len(self._output_names), self._output_names, "outputs")
        return positions[0]

    # display --------------------------------------------------------------------------------
    @property
    def plot(self):
        """Plots: ``expl.plot.heatmap()`` (mean |interaction|) and ``expl.plot.dependence(feature)``."""
        return _PlotAccessor(self)

    def _strongest(self, output, limit):
        """The (i, j, mean |value|) of the strongest pairs (off the diagonal), strongest first."""
        matrix = self.mean_abs(output)
        first, second = np.triu_indices(matrix.shape[0], k=1)
        order = np.argsort(-matrix[first, second], kind="stable")[:limit]
        return [(int(first[o]), int(second[o]), float(matrix[first[o], second[o]])) for o in order]

    def _header(self):
        n, p, _, k = self._values.shape
        method = self.params.get("method", "unknown method")
        index = self.params.get("parameters", {}).get("index", "")
        return (f"<tabxai.InteractionExplanation: {method} {index}, {n} row{'s' * (n != 1)} x {p} players, "
                f"{k} output{'s' * (k != 1)}{', with standard errors' if self._stderr is not None else ''}>")

    def __repr__(self):
        lines = [self._header()]
        if self._values.shape[0] == 0 or self._values.shape[1] < 2:
            return lines[0]
        output = self._output_position()
        strongest = self._strongest(output, 5)
        fmt = _display.NumberFormat(np.array([s for *_, s in strongest]))
        lines.append("strongest pairs (mean |interaction| over rows):")
        for i, j, size in strongest:
            lines.append(f"    {_display.plain(self._feature_names[i])} x {_display.plain(self._feature_names[j])}"
                         f"  {fmt(size)}")
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self):
        """A table of the strongest pairs and the main effects (mean |value| over rows), with bars."""
        n, p, _, k = self._values.shape
        output = self._output_position()
        unit = _display.output_label(self.params, self._output_names[output], long=True)
        method = self.params.get("method", "unknown method")
        index = self.params.get("parameters", {}).get("index", "")
        title = f"{_html.escape(method)} {_html.escape(index)} of {_html.escape(unit)}: {n} row{'s' * (n != 1)} x {p} players"
        if n == 0 or p < 2:
            return _html.render(title, _html.parameters_block(self.params))
        matrix = self.mean_abs(output)
        entries = [(f"{_display.plain(self._feature_names[i])} x {_display.plain(self._feature_names[j])}", size)
                   for i, j, size in self._strongest(output, 15)]
        entries += [(f"{_display.plain(name)} (main)", float(matrix[i, i])) for i, name in enumerate(self._feature_names)]
        entries.sort(key=lambda entry: -entry[1])
        entries = entries[:20]
        fmt = _display.NumberFormat(np.array([size for _, size in entries]))
        scale = max(size for _, size in entries) or 1.0
        rows = [[_html.escape(_display.shorten(label, 60)), _html.escape(fmt(size)), _html.bar(size, scale, signed=False)]
                for label, size in entries]
        parts = [_html.note("mean |value| over the rows; pairs hold the whole interaction")] if n > 1 else []
        parts.append(_html.table(["interaction", "mean |value|", ""], rows, numeric=(1,)))
        parts.append(_html.parameters_block(self.params))
        return _html.render(title, *parts)


def _positions(item, size, names, axis):
    """Positions selected by ``item`` on an axis and whether a scalar dropped it."""
    if isinstance(item, slice):
        return list(range(size))[item], False
    scalar = not isinstance(item, (list, tuple, np.ndarray, pd.Index, pd.Series))
    items = [item] if scalar else list(item)
    if not scalar and len(items) == size and all(isinstance(i, (bool, np.bool_)) for i in items):
        return [i for i, keep in enumerate(items) if keep], False
    positions = []
    for value in items:
        if names is not None and value in names:
            positions.append(names.index(value))
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and -size <= value < size:
            positions.append(int(value) % size)
        else:
            known = f"; the {axis} are {list(names)}" if names is not None else f" of size {size}"
            raise KeyError(f"unknown {axis[:-1]} {value!r}{known}")
    return positions, scalar


class _PlotAccessor:
    """``expl.plot.heatmap(...)``, ``expl.plot.dependence(feature, ...)``: forwards to :mod:`tabxai.plots`."""

    def __init__(self, explanation):
        self._explanation = explanation

    def heatmap(self, **kwargs):
        from .plots import interaction_heatmap

        return interaction_heatmap(self._explanation, **kwargs)

    def dependence(self, feature, **kwargs):
        from .plots import interaction_dependence

        return interaction_dependence(self._explanation, feature, **kwargs)

    def __call__(self, kind="heatmap", *args, **kwargs):
        if kind not in ("heatmap", "dependence"):
            raise ValueError(f"`kind` must be 'heatmap' or 'dependence'; got {kind!r}")
        return getattr(self, kind)(*args, **kwargs)
