"""Data schema: encode user data to a float64 code matrix and decode it back exactly.

Every method works on one representation: a C-contiguous float64 matrix with one column per input
column. Numeric columns hold their values, categorical columns the integer code of their category,
boolean columns 0 or 1; missing values stay NaN. :class:`TabularSchema` records what is needed to
turn such a matrix back into exactly the frame (or array) the user's model expects: column names and
order, dtypes, categories and the missing-value marker of each column.

:class:`Players` maps players (what an attribution is given to: one column, or a group of columns)
onto columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Hashable

import numpy as np
import pandas as pd

__all__ = ["Column", "Players", "TabularSchema", "align_targets"]

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BOOLEAN = "boolean"


@dataclass(frozen=True)
class Column:
    """One input column: its name, kind, original dtype and (for categorical columns) categories.

    ``categories`` lists the values in code order: code ``k`` decodes to ``categories[k]``.
    ``na_value`` is the marker a categorical column used for missing values (``nan``, ``None`` ...).
    """

    name: Hashable
    kind: str
    dtype: Any
    categories: tuple = ()
    na_value: Any = np.nan

    @property
    def is_categorical(self):
        """Categorical or boolean: values without an order to interpolate along."""
        return self.kind in (CATEGORICAL, BOOLEAN)

    @property
    def labels(self):
        """The values of a categorical or boolean column, in code order (``()`` for a numeric column)."""
        return (False, True) if self.kind == BOOLEAN else self.categories

    @cached_property
    def typed_categories(self):
        """The categories as an array of the column's own (extension) dtype, built once: decoding takes from it."""
        return pd.array(list(self.categories), dtype=self.dtype)

    def values_of(self, codes):
        """The values that ``codes`` of this column stand for: labels for categories, bools, numbers as they are."""
        codes = np.asarray(codes)
        if self.kind == CATEGORICAL:
            lookup = np.empty(len(self.categories), dtype=object)
            lookup[:] = self.categories
            return lookup[codes.astype(np.intp)]
        if self.kind == BOOLEAN:
            return codes != 0
        return codes


_BLOCK = 65_536  # rows per block where a whole column would otherwise be copied or hashed at once


def _sorted_unique(values):
    if len(values) > _BLOCK:  # in blocks: the hash table grows with the distinct values, not the rows
        values = np.concatenate([pd.unique(values[start:start + _BLOCK]) for start in range(0, len(values), _BLOCK)])
    uniques = list(pd.unique(values))
    try:
        return sorted(uniques)
    except TypeError:  # mixed types cannot be ordered: keep order of first appearance
        return uniques


def _first_missing_marker(series):
    missing = series[series.isna()]
    if len(missing) == 0:
        return np.nan
    marker = missing.iloc[0]
    return None if marker is None else marker


def _column_from_series(name, series):
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return Column(name, CATEGORICAL, dtype, tuple(dtype.categories), _first_missing_marker(series))
    if dtype == np.bool_:
        return Column(name, BOOLEAN, dtype)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return Column(name, NUMERIC, dtype)
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise TypeError(
            f"column {name!r} has dtype {dtype}, which tabxai cannot perturb; convert it to a number "
            "(for example days since a reference date) before explaining"
        )
    # strings, objects, nullable booleans: categorical with sorted observed categories
    categories = _sorted_unique(series.dropna().to_numpy())
    return Column(name, CATEGORICAL, dtype, tuple(categories), _first_missing_marker(series))


def _as_frame(data, names, what):
    """View ``data`` (DataFrame or 2-D array-like) as a DataFrame; arrays get ``names`` as columns."""
    if isinstance(data, pd.DataFrame):
        if data.columns.has_duplicates:
            duplicated = sorted(set(data.columns[data.columns.duplicated()]), key=str)
            raise ValueError(f"{what} has duplicated column names: {duplicated}; every column needs its own name")
        return data, "frame"
    if isinstance(data, pd.Series):
        raise ValueError(
            f"{what} must be 2-D (rows x columns); got a pandas Series of length {len(data)}. "
            "Use df.loc[[label]] or series.to_frame().T for one row"
        )
    array = np.asarray(data)
    if array.ndim != 2:
        raise ValueError(
            f"{what} must be 2-D (rows x columns); got an array of shape {array.shape}. "
            "Use X.reshape(1, -1) for a single row"
        )
    if names is not None and len(names) != array.shape[1]:
        raise ValueError(f"{what} has {array.shape[1]} columns; expected {len(names)} ({list(names)[:10]})")
    columns = list(names) if names is not None else [f"x{j}" for j in range(array.shape[1])]
    if array.dtype.kind in "biuf":
        return pd.DataFrame(array, columns=columns, copy=False), "array"
    return pd.DataFrame(array, columns=columns), "array"


def align_targets(X, y, what="y"):
    """``y`` as an array paired with the rows of ``X``.

    When both are pandas objects, they are paired by index, not by position: a ``y`` whose index
    holds the labels of ``X``'s rows in another order is reordered; one with other labels is an
    error (pairing by position would silently score the wrong rows).
    """
    if isinstance(X, pd.DataFrame) and isinstance(y, (pd.Series, pd.DataFrame)) and not y.index.equals(X.index) \
            and len(y) == len(X):  # (a length mismatch gets its own message from the caller)
        if y.index.has_duplicates or X.index.has_duplicates or not X.index.isin(y.index).all():
            raise ValueError(
                f"X and {what} have different indexes (X: {list(X.index[:5])}..., {what}: {list(y.index[:5])}...); "
                f"pandas objects are paired by index. Give {what} with the index of X, or "
                f"{what}.set_axis(X.index) to pair them by position")
        y = y.loc[X.index]
    return y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)


class TabularSchema:
    """Columns of a table, and the exact map between it and a float64 code matrix.

    Build it from the data a method treats as reference (the background), with
    :meth:`from_data`. :meth:`encode` turns any table with the same columns (in any order) into
    codes; :meth:`decode` turns codes back into a DataFrame with the original column names, dtypes,
    categories and missing-value markers, or into an array when the reference was an array.

    Parameters
    ----------
    columns : sequence of Column
    input_kind : {"frame", "array"}
        Whether the reference data was a DataFrame or an array; decode returns the same kind.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"size": pd.Categorical(["small", "big"]), "age": [30, 41]})
    >>> schema = TabularSchema.from_data(frame)
    >>> schema.encode(frame)
    array([[ 1., 30.],
           [ 0., 41.]])
    >>> schema.decode(schema.encode(frame)).equals(frame)
    True
    """

    def __init__(self, columns, input_kind="frame"):
        self.columns = tuple(columns)
        self.input_kind = input_kind
        self.names = tuple(c.name for c in self.columns)
        self._position = {name: j for j, name in enumerate(self.names)}
        self._all_numeric = all(c.kind == NUMERIC for c in self.columns)
        if len(self._position) != len(self.names):
            raise ValueError(f"column names must be unique; got {list(self.names)}")

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_data(cls, data, *, feature_names=None, what="background"):
        """Record the columns of ``data`` (a DataFrame or a 2-D array).

        ``feature_names`` names the columns of an array (default ``x0, x1, ...``).
        """
        frame, kind = _as_frame(data, feature_names, what)
        if frame.shape[1] == 0:
            raise ValueError(f"{what} has no columns")
        columns = [_column_from_series(name, frame[name]) for name in frame.columns]
        return cls(columns, kind)

    def extended(self, data, *, what="X"):
        """A schema that also knows the categories of ``data`` that this one has not seen.

        New categories are appended after the known ones, so existing codes keep their meaning.
        """
        if self._all_numeric:
            self._check_width(data, what)
            return self
        frame = self._aligned(data, what)
        columns = []
        for column in self.columns:
            if column.kind != CATEGORICAL:
                columns.append(column)
                continue
            values = frame[column.name].dropna().to_numpy()
            known = set(column.categories)
            new = [v for v in _sorted_unique(values) if v not in known]
            if new:
                column = Column(column.name, column.kind, column.dtype, column.categories + tuple(new), column.na_value)
            columns.append(column)
        return TabularSchema(columns, self.input_kind)

    # properties ---------------------------------------------------------------------------
    @property
    def n_columns(self):
        return len(self.columns)

    def position(self, name):
        """Index of column ``name``; a clear error for an unknown name."""
        try:
            return self._position[name]
        except (KeyError, TypeError):
            raise KeyError(f"unknown column {name!r}; the columns are {list(self.names)}") from None

    # encode / decode ----------------------------------------------------------------------
    def explained_data(self, data):
        """A copy of the explained rows as the user gave them, columns in schema order (for results)."""
        if isinstance(data, pd.DataFrame):
            return data[list(self.names)].copy()
        return np.array(data, copy=True)

    def _check_width(self, data, what):
        """A 2-D view of ``data`` with this schema's number of columns, or a clear error."""
        if isinstance(data, pd.DataFrame):
            self._aligned(data, what)
            return data
        array = np.asarray(data)
        if array.ndim != 2 or array.shape[1] != self.n_columns:
            _as_frame(array, self.names, what)  # raises the error that says what was expected
        return array

    def _aligned(self, data, what):
        names = None if isinstance(data, pd.DataFrame) else self.names
        frame, _ = _as_frame(data, names, what)
        if list(frame.columns) == list(self.names):
            return frame
        missing = [n for n in self.names if n not in frame.columns]
        unknown = [n for n in frame.columns if n not in self._position]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing columns {missing}")
            if unknown:
                parts.append(f"unknown columns {unknown}")
            raise ValueError(
                f"{what} does not have the columns of the background: {'; '.join(parts)}. "
                f"Expected the columns {list(self.names)}"
            )
        return frame[list(self.names)]

    def encode(self, data, *, what="X"):
        """Return the float64 code matrix (rows x columns, C order) of ``data``.

        Columns are matched by name (a DataFrame's column order does not matter); an array must
        have the columns in schema order. Raises for missing or unknown columns, non-numeric values
        in a numeric column and categories this schema does not know (use :meth:`extended`).
        """
        if self._all_numeric and not isinstance(data, pd.DataFrame):
            array = self._check_width(data, what)
            if array.dtype.kind in "biuf":
                return np.ascontiguousarray(array, dtype=np.float64)
        frame = self._aligned(data, what)
        codes = np.empty((len(frame), self.n_columns), dtype=np.float64)
        for j, column in enumerate(self.columns):
            series = frame.iloc[:, j]
            if column.kind == CATEGORICAL:  # in blocks of rows: the lookups' temporaries stay small
                for start in range(0, len(frame), _BLOCK):
                    codes[start:start + _BLOCK, j] = self._encode_categorical(series.iloc[start:start + _BLOCK],
                                                                              column, what)
            else:
                try:
                    codes[:, j] = series.to_numpy(dtype=np.float64, na_value=np.nan)
                except (TypeError, ValueError) as exc:
                    raise ValueError(
                        f"column {column.name!r} of {what} must be numeric like the background "
                        f"(dtype {column.dtype}); got dtype {series.dtype}: {exc}"
                    ) from None
        return codes

    @staticmethod
    def _encode_categorical(series, column, what):
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype) and tuple(dtype.categories) == column.categories:
            codes = series.cat.codes.to_numpy()
        else:
            codes = pd.Index(column.categories, dtype=object).get_indexer(series.to_numpy(dtype=object))
        codes = codes.astype(np.float64)
        unknown = (codes < 0) & series.notna().to_numpy()
        if unknown.any():
            values = sorted({str(v) for v in series.to_numpy(dtype=object)[unknown]})[:10]
            raise ValueError(
                f"column {column.name!r} of {what} has categories not seen in the background: {values}"
            )
        codes[codes < 0] = np.nan
        return codes

    def decode(self, codes, *, columns=None, as_array=None):
        """Turn a code matrix back into the data the model expects.

        Parameters
        ----------
        codes : ndarray of shape (n_rows, n_columns)
        columns : sequence of names, default=None
            Columns to return and their order (default: all, in schema order).
        as_array : bool, default=None
            Return a NumPy array instead of a DataFrame. Default: what the reference data was.
        """
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or codes.shape[1] != self.n_columns:
            raise ValueError(f"codes must have shape (n_rows, {self.n_columns}); got {codes.shape}")
        if as_array is None:
            as_array = self.input_kind == "array"
        positions = range(self.n_columns) if columns is None else [self.position(n) for n in columns]
        if as_array and all(self.columns[j].kind == NUMERIC for j in positions):
            if columns is None:
                return codes
            return np.ascontiguousarray(codes[:, list(positions)])
        decoded = {self.columns[j].name: self._decode_column(codes[:, j], self.columns[j]) for j in positions}
        frame = pd.DataFrame(decoded, copy=False)
        if as_array:
            return frame.to_numpy(dtype=object)
        return frame

    @staticmethod
    def _decode_column(values, column):
        dtype = column.dtype
        if column.kind == NUMERIC:
            integer = pd.api.types.is_integer_dtype(dtype)
            if integer and not _integral(values, dtype):
                # non-integral or non-finite values (a grid, inf): floats, never a silent cast
                return values if isinstance(dtype, np.dtype) else pd.array(values, dtype="Float64")
            if isinstance(dtype, np.dtype):
                return values.astype(dtype, copy=dtype != np.float64)
            return pd.array(values, dtype=dtype)
        if column.kind == BOOLEAN:
            return values != 0
        missing = np.isnan(values)
        int_codes = np.where(missing, -1, values).astype(np.intp)
        if isinstance(dtype, pd.CategoricalDtype):
            if len(column.categories) != len(dtype.categories):  # extended with unseen categories
                dtype = pd.CategoricalDtype(pd.Index(column.categories), ordered=dtype.ordered)
            return pd.Categorical.from_codes(int_codes, dtype=dtype)
        if dtype != object:  # e.g. Arrow-backed strings: a take from the typed categories, missing as the dtype's NA
            return column.typed_categories.take(int_codes, allow_fill=True)
        lookup = np.empty(len(column.categories) + 1, dtype=object)
        lookup[:-1] = column.categories
        lookup[-1] = column.na_value
        return pd.Series(lookup[int_codes], dtype=object, copy=False)  # a bare array would be inferred as str


def _integral(values, dtype):
    """Whether float ``values`` hold only whole numbers that ``dtype`` can represent (NaN allowed for nullable)."""
    present = values[~np.isnan(values)] if not isinstance(dtype, np.dtype) else values
    if isinstance(dtype, np.dtype) and np.isnan(values).any():
        return False
    if not np.isfinite(present).all() or not np.array_equal(present, np.round(present)):
        return False
    info = np.iinfo(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype)
    return present.size == 0 or (present.min() >= info.min and present.max() <= info.max)


class Players:
    """Players of a game over columns: each player is one column or a group of columns.

    Parameters
    ----------
    column_names : sequence of names
    feature_groups : dict or sequence, default=None
        ``{name: [columns]}`` or a list of column lists (named ``"a+b"``). Columns that belong to no
        group are players of their own. Players are ordered by their first column.
    """

    def __init__(self, column_names, feature_groups=None):
        column_names = list(column_names)
        position = {name: j for j, name in enumerate(column_names)}
        player_of_column = np.full(len(column_names), -1, dtype=np.int64)
        groups = []
        if feature_groups is not None:
            if isinstance(feature_groups, dict):
                items = list(feature_groups.items())
            elif isinstance(feature_groups, (list, tuple)):
                items = [("+".join(map(str, g)) if isinstance(g, (list, tuple)) else g, g) for g in feature_groups]
            else:
                raise TypeError(
                    "`feature_groups` must be a dict {name: [columns]} or a list of column lists; "
                    f"got {type(feature_groups).__name__}"
                )
            for name, members in items:
                if isinstance(members, (str, bytes)) or not isinstance(members, (list, tuple, pd.Index, np.ndarray)):
                    raise TypeError(f"feature group {name!r} must be a list of column names; got {members!r}")
                if len(members) == 0:
                    raise ValueError(f"feature group {name!r} is empty")
                indices = []
                for member in members:
                    if member not in position:
                        raise ValueError(
                            f"feature group {name!r} names unknown column {member!r}; the columns are {column_names}"
                        )
                    j = position[member]
                    if player_of_column[j] != -1 or j in indices:
                        raise ValueError(f"column {member!r} is in more than one feature group")
                    indices.append(j)
                    player_of_column[j] = -2  # placeholder: grouped
                groups.append((name, indices))
        first_column = {}
        for name, indices in groups:
            first_column[min(indices)] = (name, indices)
        for j, name in enumerate(column_names):
            if player_of_column[j] == -1:
                first_column[j] = (name, [j])
        names, members = [], []
        for _, (name, indices) in sorted(first_column.items()):
            for j in indices:
                player_of_column[j] = len(names)
            names.append(name)
            members.append(tuple(indices))
        if len(set(map(_hashable_key, names))) != len(names):
            raise ValueError(f"player names must be unique; got {names}")
        self.names = tuple(names)
        self.column_names = tuple(column_names)
        self.columns = tuple(members)
        self.player_of_column = player_of_column
        self.grouped = any(len(m) > 1 for m in members) or feature_groups is not None

    @classmethod
    def from_assignment(cls, names, player_of_column):
        """Players given by the player of each column (e.g. image segments over flat pixel values).

        The columns have no names worth listing, so :meth:`groups` is empty.
        """
        players = cls.__new__(cls)
        player_of_column = np.ascontiguousarray(player_of_column, dtype=np.int64)
        order = np.argsort(player_of_column, kind="stable")
        bounds = np.cumsum(np.bincount(player_of_column, minlength=len(names)))[:-1]
        players.names = tuple(names)
        players.columns = tuple(tuple(part.tolist()) for part in np.split(order, bounds))
        players.player_of_column = player_of_column
        players.column_names = None
        players.grouped = True
        return players

    @property
    def n_players(self):
        return len(self.names)

    def groups(self):
        """``{player name: (column names...)}`` for the players made of a group of columns."""
        if not self.grouped or self.column_names is None:
            return {}
        names = self.column_names
        return {name: tuple(names[j] for j in members) for name, members in zip(self.names, self.columns)
                if len(members) > 1 or name != names[members[0]]}


def _hashable_key(name):
    return (type(name).__name__, str(name))
