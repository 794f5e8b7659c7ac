"""Explanation: local attributions with their provenance, sliceable like an array."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from . import _display, _html
from .model import output_index

__all__ = ["Explanation"]

_AXES = ("rows", "features", "outputs")


class Explanation:
    """Attributions of a set of explained rows, with their base values, data and provenance.

    Shapes (``n`` explained rows, ``p`` features or feature groups, ``k`` model outputs):

    ========================  ==========================================  ===========================
    attribute                 one output (regressor, or ``output=`` set)   several outputs
    ========================  ==========================================  ===========================
    ``values``                ``(n, p)``                                   ``(n, p, k)``
    ``base_values``           ``(n,)``                                     ``(n, k)``
    ``stderr``                like ``values``, or None for exact methods
    ``output_values``         ``(n,)``: base + sum of values = f(x)        ``(n, k)``
    ========================  ==========================================  ===========================

    The shapes depend only on the number of outputs, never on the kind of model. Indexing follows
    NumPy: ``expl[0]`` is the first row (the rows axis disappears), ``expl[:, "age"]`` one feature,
    ``expl[:, ["age", "job"]]`` two, ``expl[..., "good"]`` one output of a classifier; features
    and outputs can be given by name or by position.

    Attributes
    ----------
    values, base_values, stderr : ndarray
    data : DataFrame or ndarray
        The explained rows as the user gave them (aligned to the background's column order).
    feature_names : tuple
        Names of the players: columns, or feature groups.
    output_names : tuple
        Names of the model outputs (class labels for a classifier's probabilities).
    params : dict
        How the values were computed (settings and provenance, the same for every row):
        ``method``, its ``parameters``, ``random_state`` (the seed actually used), ``link``,
        ``response`` (the model method asked), ``model_rows`` (rows the model was asked about) and
        ``versions`` of tabxai and its dependencies.
    diagnostics : dict
        Per explained row, arrays of length ``n`` (sliced with the rows), e.g. ``n_coalitions``
        used, ``stopped_by`` (``"tol"``, ``"budget"`` or ``"exact"``), ``converged``, or a
        surrogate's ``r2``. An array of shape ``(n, k)`` (``k`` outputs) is per output and is
        sliced with the outputs too: ``expl[..., "bad"].diagnostics["r2"]`` is that of ``bad``.
    groups : dict
        ``{player: (columns...)}`` for players that are feature groups.
    conditions : ndarray of str, shape (n, p), or None
        What each feature's value means for each row, in words, when the method has interpretable
        conditions (LIME: ``"duration > 24"``, ``"status = no checking account"``).
    """

    def __init__(self, values, base_values, data, feature_names, output_names, *, stderr=None,
                 params=None, diagnostics=None, groups=None, conditions=None, single_output=None):
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 2:
            values = values[:, :, None]
        if values.ndim != 3:
            raise ValueError(f"values must have shape (n, p) or (n, p, k); got {values.shape}")
        n_rows, n_features, n_outputs = values.shape
        base_values = np.asarray(base_values, dtype=np.float64).reshape(n_rows, n_outputs)
        if stderr is not None:
            stderr = np.asarray(stderr, dtype=np.float64).reshape(values.shape)
        feature_names = tuple(feature_names)
        output_names = tuple(output_names)
        if len(feature_names) != n_features or len(output_names) != n_outputs:
            raise ValueError(
                f"{len(feature_names)} feature names and {len(output_names)} output names "
                f"for values of shape {values.shape}"
            )
        self._values = values
        self._base = base_values
        self._stderr = stderr
        self._data = data
        self._feature_names = feature_names
        self._output_names = output_names
        self.params = dict(params or {})
        self.diagnostics = {name: np.asarray(value) for name, value in (diagnostics or {}).items()}
        for name, value in self.diagnostics.items():
            if value.shape[:1] != (n_rows,):
                raise ValueError(f"diagnostic {name!r} must have one entry per row ({n_rows}); got shape {value.shape}")
        # diagnostics of shape (n, k, ...), k the number of outputs, are per output: sliced with the outputs
        self._per_output = {name for name, value in self.diagnostics.items()
                            if value.ndim >= 2 and value.shape[1] == n_outputs}
        self.groups = dict(groups or {})
        self._conditions = None
        self.conditions = conditions
        single = n_outputs == 1 if single_output is None else bool(single_output)
        self._dropped = {"rows": False, "features": False, "outputs": single and n_outputs == 1}

    # views ----------------------------------------------------------------------------------
    def _view(self, array, axes):
        index = tuple(0 if self._dropped[a] else slice(None) for a in axes)
        return array[index]

    @property
    def values(self):
        return self._view(self._values, _AXES)

    @property
    def stderr(self):
        return None if self._stderr is None else self._view(self._stderr, _AXES)

    @property
    def conditions(self):
        """Readable conditions (rows x features strings), or None when the method has none."""
        return None if self._conditions is None else self._view(self._conditions, _AXES[:2])

    @conditions.setter
    def conditions(self, conditions):
        if conditions is not None:
            conditions = np.asarray(conditions, dtype=object)
            shape = self._values.shape[:2]
            if conditions.shape != shape:
                raise ValueError(f"conditions must have shape {shape} (rows x features); got {conditions.shape}")
        self._conditions = conditions

    @property
    def base_values(self):
        return self._view(self._base, ("rows", "outputs"))

    @property
    def output_values(self):
        """``base_values + values.sum(over features)``: the model's output on each explained row."""
        total = self._base + self._values.sum(axis=1)
        return self._view(total, ("rows", "outputs"))

    @property
    def data(self):
        if self._dropped["rows"]:
            return self._data.iloc[0] if hasattr(self._data, "iloc") else self._data[0]
        return self._data

    @property
    def feature_names(self):
        return self._feature_names[0] if self._dropped["features"] else self._feature_names

    @property
    def output_names(self):
        return self._output_names[0] if self._dropped["outputs"] else self._output_names

    @property
    def shape(self):
        return self.values.shape

    def __len__(self):
        if self._dropped["rows"]:
            raise TypeError("len() of an Explanation of a single row")
        return self._values.shape[0]

    # indexing -------------------------------------------------------------------------------
    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        open_axes = [a for a in _AXES if not self._dropped[a]]
        if any(k is Ellipsis for k in key):
            at = next(i for i, k in enumerate(key) if k is Ellipsis)
            fill = len(open_axes) - (len(key) - 1)
            key = key[:at] + (slice(None),) * fill + key[at + 1:]
        if len(key) > len(open_axes):
            raise IndexError(f"too many indices: this Explanation has axes {open_axes}")
        selection = {"rows": slice(None), "features": slice(None), "outputs": slice(None)}
        dropped = dict(self._dropped)
        for axis, item in zip(open_axes, key):
            positions, drop = self._positions(axis, item)
            selection[axis] = positions
            dropped[axis] = drop
        rows, features, outputs = (selection[a] for a in _AXES)
        values = self._values[rows][:, features][:, :, outputs]
        stderr = None if self._stderr is None else self._stderr[rows][:, features][:, :, outputs]
        data = self._data
        if not (isinstance(rows, slice) and rows == slice(None)):
            data = data.iloc[rows] if hasattr(data, "iloc") else data[rows]
        conditions = None if self._conditions is None else self._conditions[rows][:, features]
        result = Explanation(values, self._base[rows][:, outputs], data,
                             np.asarray(self._feature_names, dtype=object)[features].tolist(),
                             np.asarray(self._output_names, dtype=object)[outputs].tolist(),
                             stderr=stderr, params=self.params,
                             diagnostics=self._sliced_diagnostics(rows, outputs, dropped["outputs"]),
                             groups=self.groups, conditions=conditions)
        result._dropped = dropped
        return result

    def _sliced_diagnostics(self, rows, outputs, drop_outputs):
        """Diagnostics of the selected rows; those per output (a LIME surrogate's ``model_prediction``,
        ``r2``...) of the selected outputs too, without the outputs axis when it is dropped."""
        sliced = {}
        for name, value in self.diagnostics.items():
            value = value[rows]
            if name in self._per_output:
                value = value[:, outputs]
                if drop_outputs and not self._dropped["outputs"]:
                    value = value[:, 0]
            sliced[name] = value
        return sliced

    def _positions(self, axis, item):
        """Positions (a list or slice, keeping the axis) and whether an int-like key drops the axis."""
        size = self._values.shape[_AXES.index(axis)]
        names = {"features": self._feature_names, "outputs": self._output_names}.get(axis)
        if isinstance(item, slice):
            return list(range(size))[item], False
        scalar = not isinstance(item, (list, tuple, np.ndarray, pd.Index, pd.Series))
        items = [item] if scalar else list(np.asarray(item, dtype=object) if isinstance(item, np.ndarray)
                                           and item.dtype != bool else item)
        if not scalar and len(items) == size and all(isinstance(i, (bool, np.bool_)) for i in items):
            return [i for i, keep in enumerate(items) if keep], False
        positions = [self._position(axis, i, names, size) for i in items]
        return positions, scalar

    @staticmethod
    def _position(axis, item, names, size):
        if axis == "outputs" and names is not None:
            try:  # the one output lookup (a label of its own type first, then a position)
                return output_index(tuple(names), item)
            except ValueError as error:
                raise KeyError(str(error)) from None
        if names is not None and not isinstance(item, (bool, np.bool_)):
            matches = [j for j, name in enumerate(names) if name == item and type(name) is type(item)]
            if not matches:
                matches = [j for j, name in enumerate(names) if _same(name, item)]
            if matches:
                return matches[0]
        if isinstance(item, numbers.Integral) and not isinstance(item, (bool, np.bool_)):
            if -size <= item < size:
                return int(item) % size
            raise IndexError(f"index {item} is out of range for the {axis} axis of size {size}")
        known = f"; the {axis} are {list(names)}" if names is not None else ""
        raise KeyError(f"unknown {axis[:-1]} {item!r}{known}")

    # conversion -----------------------------------------------------------------------------
    def to_frame(self, *, long=False):
        """The values as a DataFrame.

        Wide (default): one row per explained row, one column per feature; with several outputs
        the columns are a MultiIndex ``(output, feature)``. Long (``long=True``): one row per
        (row, output, feature) with columns ``row, output, feature, value`` and ``stderr`` when
        the method gives standard errors, convenient for reports and plotting libraries.
        """
        values = self._values
        index = self._data.index if isinstance(self._data, (pd.DataFrame, pd.Series)) and not self._dropped[
            "rows"] else pd.RangeIndex(values.shape[0])
        if long:
            n, p, k = values.shape
            frame = pd.DataFrame({
                "row": np.repeat(np.asarray(index), p * k),
                "output": np.tile(np.repeat(np.asarray(self._output_names, dtype=object), p), n),
                "feature": np.tile(np.asarray(self._feature_names, dtype=object), n * k),
                "value": values.transpose(0, 2, 1).reshape(-1),
            })
            if self._stderr is not None:
                frame["stderr"] = self._stderr.transpose(0, 2, 1).reshape(-1)
            return frame
        if values.shape[2] == 1:
            return pd.DataFrame(values[:, :, 0], index=index, columns=list(self._feature_names))
        columns = pd.MultiIndex.from_product([list(self._output_names), list(self._feature_names)],
                                             names=["output", "feature"])
        return pd.DataFrame(values.transpose(0, 2, 1).reshape(values.shape[0], -1), index=index, columns=columns)

    # display --------------------------------------------------------------------------------
    @property
    def plot(self):
        """Plots of this explanation: ``expl.plot.waterfall()``, ``.bar()``, ``.beeswarm()``,
        ``.scatter(feature)``, ``.heatmap()``, or ``expl.plot(kind="bar", ...)``.

        Each forwards to the function of the same name in :mod:`tabxai.plots` (same arguments)
        and returns what it returns (a matplotlib Axes).
        """
        return _PlotAccessor(self)

    def _output_position(self):
        """The output that text and tables show: the only one, a binary classifier's positive class, or the first."""
        try:
            return output_index(tuple(self._output_names), None, _display.response_method(self.params, self._output_names))
        except ValueError:
            return 0

    def _row_frame(self):
        data = self._data
        return data if isinstance(data, pd.DataFrame) else None

    def _labels(self, row):
        """Readable labels of the players for explained row ``row``: ``name = value``, groups with their columns."""
        frame = self._row_frame()
        members = _display.player_members(self._feature_names, frame, self.params, self.groups)
        values = frame.iloc[row] if frame is not None and len(frame) > row else None
        conditions = _display.row_conditions(self._conditions, row, len(self._feature_names))
        return [_display.player_label(name, members[j], values, conditions=None if conditions is None
                                      else conditions[j]) for j, name in enumerate(self._feature_names)]

    def _header(self):
        n, p, k = self._values.shape
        method = self.params.get("method", "unknown method")
        outputs = ", ".join(_display.plain(o) for o in self._output_names)
        head = (f"<tabxai.Explanation: {method}, {n} row{'s' * (n != 1)} x {p} feature{'s' * (p != 1)}, "
                f"output{'s' * (k != 1)} {outputs}")
        return head + (", with standard errors>" if self._stderr is not None else ">")

    def model_output(self, row, output):
        """The model's own output at an explained row, when the values do not add up to it (a LIME
        surrogate adds up to its own prediction at the row), else None."""
        predictions = self.diagnostics.get("model_prediction")
        if predictions is None:
            return None
        predictions = np.asarray(predictions, dtype=np.float64)
        if predictions.ndim == 2 and predictions.shape[1] != len(self._output_names):
            return None  # sliced by output: which column is which is no longer known
        return float(predictions[row] if predictions.ndim == 1 else predictions[row, output])

    def _surrogate_note(self, row, output, fmt):
        model = self.model_output(row, output)
        return "" if model is None else f" (the surrogate at the row; the model gives {fmt(model)})"

    def __repr__(self):
        """The header line, then the first row's largest attributions (at most 10, the rest named)."""
        n, p, k = self._values.shape
        lines = [self._header()]
        if n == 0 or p == 0:
            return lines[0]
        output = self._output_position()
        row_values = self._values[0, :, output]
        order = np.argsort(-np.abs(row_values), kind="stable")
        shown, hidden = order[:10], order[10:]
        base = self._base[0, output]
        total = row_values.sum()
        fmt = _display.NumberFormat(np.concatenate([[base, base + total], row_values]))
        unit = _display.output_label(self.params, self._output_names[output], long=True)
        lines.append(f"row 0, {unit}: base value {fmt(base)} + attributions {fmt(total, sign=True)} "
                     f"= {fmt(base + total)}{self._surrogate_note(0, output, fmt)}")
        labels = self._labels(0)
        width = max(len(labels[j]) for j in shown)
        for j in shown:
            line = f"    {labels[j]:<{width}}  {fmt(row_values[j], sign=True)}"
            if self._stderr is not None:
                line += f" ± {fmt.error(self._stderr[0, j, output])}"
            lines.append(line)
        if len(hidden):
            names = [self._feature_names[j] for j in hidden]
            lines.append(f"    {len(hidden)} more feature{'s' * (len(hidden) != 1)} "
                         f"(sum {fmt(row_values[hidden].sum(), sign=True)}): {_display.names_list(names)}")
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self):
        """A compact table for notebooks: the players sorted by their values with inline bars.

        One row: its attributions with the row's values, base value and output. Several rows:
        the mean absolute attribution per player over the rows. At most 20 players are listed
        (the rest counted by name); the size does not grow with the number of rows.
        """
        n, p, k = self._values.shape
        output = self._output_position()
        name = self._output_names[output]
        unit = _display.output_label(self.params, name, long=True)
        method = self.params.get("method", "unknown method")
        title = (f"{_html.escape(method)} explanation of {_html.escape(unit)}: {n} row{'s' * (n != 1)} x "
                 f"{p} feature{'s' * (p != 1)}")
        parts = []
        if k > 1:
            others = [o for j, o in enumerate(self._output_names) if j != output]
            parts.append(_html.note(f"showing output {_display.plain(name)}; other outputs: "
                                    f"{_display.names_list(others)}"))
        if n == 0 or p == 0:
            return _html.render(title, *parts, _html.parameters_block(self.params))
        errors = None
        if n == 1:
            values = self._values[0, :, output]
            base = self._base[0, output]
            fmt = _display.NumberFormat(np.concatenate([[base, base + values.sum()], values]))
            labels = self._labels(0)
            if self._stderr is not None:
                errors = 1.96 * self._stderr[0, :, output]
            parts.append(_html.note(f"base value {fmt(base)} + attributions {fmt(values.sum(), sign=True)} "
                                    f"= {fmt(base + values.sum())} ({unit}){self._surrogate_note(0, output, fmt)}"))
            header = ["feature", "attribution", "± 1.96 s.e." if errors is not None else "", ""]
            signed = True
        else:
            magnitudes = np.abs(self._values[:, :, output])
            values = magnitudes.mean(axis=0)
            fmt = _display.NumberFormat(values)
            labels = [_display.shorten(_display.plain(f), 40) for f in self._feature_names]
            if n > 1:
                errors = 1.96 * magnitudes.std(axis=0, ddof=1) / np.sqrt(n)
            header = ["feature", "mean |attribution|", "± 1.96 s.e. over rows", ""]
            signed = False
        order = np.argsort(-np.abs(values), kind="stable")
        shown, hidden = order[:20], order[20:]
        scale = float(np.abs(values).max()) or 1.0
        rows = []
        for j in shown:
            error = "" if errors is None else fmt.error(errors[j])
            rows.append([_html.escape(labels[j]), _html.escape(fmt(values[j], sign=signed)),
                         _html.escape(error), _html.bar(values[j], scale, signed=signed)])
        parts.append(_html.table(header, rows, numeric=(1, 2)))
        parts.append(_html.hidden_note([self._feature_names[j] for j in hidden], "more features"))
        parts.append(_html.parameters_block(self.params))
        return _html.render(title, *parts)


class _PlotAccessor:
    """``expl.plot.<kind>(...)`` and ``expl.plot(kind=..., ...)``: forwards to :mod:`tabxai.plots`."""

    _KINDS = ("waterfall", "bar", "beeswarm", "scatter", "heatmap")

    def __init__(self, explanation):
        self._explanation = explanation

    def __call__(self, kind="bar", *args, **kwargs):
        if kind not in self._KINDS:
            raise ValueError(f"`kind` must be one of {list(self._KINDS)}; got {kind!r}")
        from . import plots

        return getattr(plots, kind)(self._explanation, *args, **kwargs)

    def __getattr__(self, kind):
        if kind not in _PlotAccessor._KINDS:
            raise AttributeError(f"no plot {kind!r}; the plots are {list(_PlotAccessor._KINDS)}")
        return lambda *args, **kwargs: self(kind, *args, **kwargs)

    def __dir__(self):
        return list(self._KINDS)


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
