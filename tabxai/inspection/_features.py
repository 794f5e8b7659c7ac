"""What the inspection methods share: reading the data, naming features, building value grids."""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .._validation import check_int, check_weights
from ..data import BOOLEAN, CATEGORICAL, Column, TabularSchema

__all__ = ["check_grid_resolution", "check_percentiles", "encode_data", "feature_grid", "resolve_feature",
           "sample_weights", "treated_as_categorical"]


def encode_data(model, X):
    """The schema and float64 codes of ``X`` (``model``, a Model, names the columns of an array).

    An array gets the column names the model was fitted with (``feature_names_in_``) when it has them.
    """
    names_in = None if isinstance(X, pd.DataFrame) else model.feature_names_in
    schema = TabularSchema.from_data(X, feature_names=names_in, what="X")
    codes = schema.encode(X, what="X")
    if codes.shape[0] == 0:
        raise ValueError("X has no rows")
    return schema, codes


def resolve_feature(schema, feature, what="features"):
    """Position of one feature given by name or (if no column has that name) by integer position."""
    if isinstance(feature, Iterable) and not isinstance(feature, (str, bytes)):
        raise TypeError(f"`{what}` must name one column here; got {feature!r}")
    if feature in schema.names:
        return schema.names.index(feature)
    if isinstance(feature, numbers.Integral) and not isinstance(feature, (bool, np.bool_)):
        if 0 <= feature < schema.n_columns:
            return int(feature)
        raise ValueError(f"`{what}` has position {feature}, out of range for {schema.n_columns} columns")
    raise ValueError(f"`{what}` names unknown column {feature!r}; the columns are {list(schema.names)}")


def sample_weights(sample_weight, n_rows, what="sample_weight"):
    """Validated non-negative weights ``(n_rows,)`` or None."""
    if sample_weight is None:
        return None
    return check_weights(sample_weight, n_rows, f"`{what}`", "one weight per row of X")


def treated_as_categorical(schema, position, categorical_features):
    """Whether a column is treated as categorical: by kind, or listed in ``categorical_features``."""
    return schema.columns[position].is_categorical or position in categorical_features


def _custom_codes(schema, position, values):
    """Codes of custom grid values, and the schema extended with any category it did not know."""
    column = schema.columns[position]
    values = list(values) if not isinstance(values, np.ndarray) else list(values.ravel())
    if np.ndim(np.asarray(values, dtype=object)) != 1 or len(values) == 0:
        raise ValueError(f"custom grid values for {column.name!r} must be a non-empty 1-D sequence")
    if column.kind == CATEGORICAL:
        new = [v for v in dict.fromkeys(values) if v not in column.categories]
        if new:
            extended = Column(column.name, column.kind, column.dtype, column.categories + tuple(new), column.na_value)
            columns = list(schema.columns)
            columns[position] = extended
            schema = TabularSchema(columns, schema.input_kind)
            column = extended
        index = {c: k for k, c in enumerate(column.categories)}
        return np.array([index[v] for v in values], dtype=np.float64), schema
    try:
        codes = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"custom grid values for numeric column {column.name!r} must be numbers; got {values[:5]}") \
            from None
    if column.kind == BOOLEAN and not np.isin(codes, (0.0, 1.0)).all():
        raise ValueError(f"custom grid values for boolean column {column.name!r} must be True or False")
    if not np.isfinite(codes).all():
        raise ValueError(f"custom grid values for {column.name!r} must be finite")
    return codes, schema


def feature_grid(schema, codes, position, *, categorical, percentiles, grid_resolution, custom=None):
    """Grid codes for one feature, following scikit-learn's ``partial_dependence``.

    Custom values are used as given; a categorical feature, or one with fewer distinct values than
    ``grid_resolution``, uses its sorted distinct values (missing values left out); otherwise
    ``grid_resolution`` equally spaced values between the ``percentiles`` of the column
    (``scipy.stats.mstats.mquantiles``, as scikit-learn does).

    Returns
    -------
    grid : ndarray of float64 codes
    schema : TabularSchema
        ``schema``, extended with custom categories it did not know.
    """
    if custom is not None:
        return _custom_codes(schema, position, custom)
    column = codes[:, position]
    column = column[~np.isnan(column)]
    name = schema.names[position]
    if column.size == 0:
        raise ValueError(f"column {name!r} has only missing values; there is no grid to build")
    uniques = np.unique(column)
    if categorical or uniques.size < grid_resolution:
        return uniques, schema
    from scipy.stats.mstats import mquantiles

    low, high = mquantiles(column, prob=percentiles, axis=0)
    if np.allclose(low, high):
        raise ValueError(
            f"the percentiles {tuple(percentiles)} of column {name!r} are too close to each other to build a "
            "grid; choose percentiles further apart or give custom values"
        )
    return np.linspace(low, high, num=grid_resolution, endpoint=True), schema


def check_percentiles(percentiles):
    """``percentiles`` as a tuple of two increasing floats in [0, 1]."""
    try:
        low, high = (float(p) for p in percentiles)
    except (TypeError, ValueError):
        raise ValueError(f"`percentiles` must be a pair of numbers in [0, 1]; got {percentiles!r}") from None
    if not (0.0 <= low < high <= 1.0):
        raise ValueError(f"`percentiles` must be two increasing numbers in [0, 1]; got {percentiles!r}")
    return (low, high)


def check_grid_resolution(grid_resolution):
    """``grid_resolution`` as an int >= 2."""
    return check_int(grid_resolution, "grid_resolution", min_value=2)
