"""Explanation: local attributions with their provenance, sliceable like an array."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

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
        surrogate's ``r2``.
    groups : dict
        ``{player: (columns...)}`` for players that are feature groups.
    """

    def __init__(self, values, base_values, data, feature_names, output_names, *, stderr=None,
                 params=None, diagnostics=None, groups=None, single_output=None):
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
        self.groups = dict(groups or {})
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
        result = Explanation(values, self._base[rows][:, outputs], data,
                             np.asarray(self._feature_names, dtype=object)[features].tolist(),
                             np.asarray(self._output_names, dtype=object)[outputs].tolist(),
                             stderr=stderr, params=self.params,
                             diagnostics={name: value[rows] for name, value in self.diagnostics.items()},
                             groups=self.groups)
        result._dropped = dropped
        return result

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
    def __repr__(self):
        n, p, k = self._values.shape
        method = self.params.get("method", "unknown method")
        outputs = self._output_names if k > 1 else self._output_names[0]
        head = f"<tabxai.Explanation: {method}, {n} row{'s' * (n != 1)} x {p} features, output {outputs!r}"
        head += ", with standard errors>" if self._stderr is not None else ">"
        if n == 0 or p == 0:
            return head
        lines = [head]
        output = k - 1 if k == 2 else 0  # for a binary classifier show the positive class
        row_values = self._values[0, :, output]
        order = np.argsort(-np.abs(row_values), kind="stable")[:10]
        base = self._base[0, output]
        fx = base + row_values.sum()
        label = f", output {self._output_names[output]!r}" if k > 1 else ""
        lines.append(f"row 0{label}: base value {base:.4g} + attributions {row_values.sum():+.4g} = {fx:.4g}")
        shown = [(self._feature_label(j), row_values[j], None if self._stderr is None else self._stderr[0, j, output])
                 for j in order]
        width = max(len(name) for name, _, _ in shown)
        for name, value, err in shown:
            line = f"    {name:<{width}}  {value:+.4g}"
            if err is not None:
                line += f" ± {err:.2g}"
            lines.append(line)
        if p > len(order):
            lines.append(f"    ... {p - len(order)} more features")
        return "\n".join(lines)

    def _feature_label(self, j):
        name = self._feature_names[j]
        data = self._data
        if isinstance(data, pd.DataFrame) and len(data) and name in data.columns:
            value = data.iloc[0][name]
            text = repr(value) if isinstance(value, str) else f"{value}"
            if len(text) > 24:
                text = text[:21] + "..."
            return f"{name} = {text}"
        return str(name)


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
