"""The one mixed-type geometry of the example-based methods: rows of a raw table as points.

Prototypes, criticisms and similar cases all measure how alike two rows are in the same space:

* a numeric column is standardised with the mean and standard deviation of the reference data
  (a constant column is only centred); a missing number sits at 0, the column's mean;
* a categorical, string or boolean column is one-hot, with missing as a level of its own; each
  indicator is ``1 / sqrt(2)``, so rows that differ in one category are at squared distance 1, like
  rows one standard deviation apart in one number. A category the reference data has not seen
  has no indicator (it is equally far from every known category).

Distances and kernels between blocks of points are one matrix product each, turned into squared
distances or kernel values by the Numba kernels of :mod:`tabxai._kernels.examples`; blocks are cut
so that no more than about ``_BLOCK_ENTRIES`` values exist at once, whatever the number of rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._kernels.examples import encode_points, kernel_from_gram, kernel_row_sums, squared_from_gram
from ..data import NUMERIC, TabularSchema

__all__ = ["MixedEncoding", "kernel_matrix", "kernel_means", "squared_distances", "median_squared_distance",
           "KERNELS"]

KERNELS = ("rbf", "laplacian")
CATEGORY_WEIGHT = 1.0 / np.sqrt(2.0)
_BLOCK_ENTRIES = 1 << 21  # about 16 MB of float64 per block of kernel values
_MEDIAN_ROWS = 1000  # rows whose pairwise distances give the median (all rows when there are fewer)


class MixedEncoding:
    """Points of the rows of a table, with the scales and levels of a reference table.

    Parameters
    ----------
    data : DataFrame or 2-D array
        The reference rows: numbers, strings, categoricals, booleans, missing values.
    what : str
        How error messages name ``data``.
    """

    def __init__(self, data, what="X"):
        schema = TabularSchema.from_data(data, what=what)
        codes = schema.encode(data, what=what)
        if codes.shape[0] == 0:
            raise ValueError(f"{what} has no rows")
        missing = np.isnan(codes).all(axis=0)
        if missing.any():
            names = [schema.names[j] for j in np.flatnonzero(missing)]
            raise ValueError(f"{what} has columns where every value is missing: {names}; drop them (they cannot "
                             "tell rows apart)")
        numeric = np.array([c.kind == NUMERIC for c in schema.columns], dtype=np.bool_)
        if numeric.any() and not np.isfinite(codes[:, numeric][~np.isnan(codes[:, numeric])]).all():
            raise ValueError(f"the numeric columns of {what} must hold finite numbers or missing values; got inf")
        means = np.zeros(schema.n_columns)
        scales = np.ones(schema.n_columns)
        n_levels = np.zeros(schema.n_columns, dtype=np.int64)
        widths = np.ones(schema.n_columns, dtype=np.int64)
        for j, column in enumerate(schema.columns):
            if numeric[j]:
                present = codes[:, j][~np.isnan(codes[:, j])]
                means[j] = present.mean()
                spread = present.std()
                scales[j] = spread if spread > 0 else 1.0
            else:
                n_levels[j] = len(column.labels)
                widths[j] = n_levels[j] + 1
        self.schema = schema
        self.numeric = numeric
        self.means = means
        self.scales = scales
        self.n_levels = n_levels
        self.offsets = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        self.n_dims = int(widths.sum())
        self.reference_points = self._points(codes)

    @property
    def names(self):
        return self.schema.names

    def _points(self, codes):
        out = np.zeros((codes.shape[0], self.n_dims))
        encode_points(np.ascontiguousarray(codes, dtype=np.float64), self.numeric, self.means, self.scales,
                      self.offsets, self.n_levels, CATEGORY_WEIGHT, out)
        return out

    def transform(self, data, what="rows"):
        """Points of ``data`` (same columns as the reference, in any order for a DataFrame)."""
        schema = self.schema.extended(data, what=what)  # unseen categories get codes past the known levels
        codes = schema.encode(data, what=what)
        numeric = codes[:, self.numeric]
        if not np.isfinite(numeric[~np.isnan(numeric)]).all():
            raise ValueError(f"the numeric columns of {what} must hold finite numbers or missing values; got inf")
        return self._points(codes)


def _rows_per_block(n_other):
    return max(1, _BLOCK_ENTRIES // max(1, n_other))


def squared_distances(a, b):
    """Squared distances ``(len(a), len(b))`` between two sets of points (for small ``b``)."""
    gram = a @ b.T
    squared_from_gram(gram, np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b))
    return gram


def kernel_matrix(a, b, gamma, kernel):
    """Kernel values ``(len(a), len(b))``: ``exp(-gamma ||a - b||^2)`` (rbf) or ``exp(-gamma ||a - b||)``."""
    gram = a @ b.T
    kernel_from_gram(gram, np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b), float(gamma),
                     kernel == "laplacian")
    return gram


def kernel_means(a, b, gamma, kernel):
    """Mean kernel value of each point of ``a`` over all points of ``b``, in bounded blocks."""
    sq_a = np.einsum("ij,ij->i", a, a)
    sq_b = np.einsum("ij,ij->i", b, b)
    sums = np.zeros(a.shape[0])
    step_a = _rows_per_block(min(b.shape[0], 4096))
    for start_b in range(0, b.shape[0], 4096):
        block_b = b[start_b:start_b + 4096]
        for start in range(0, a.shape[0], step_a):
            stop = min(start + step_a, a.shape[0])
            gram = a[start:stop] @ block_b.T
            part = np.zeros(stop - start)
            kernel_row_sums(gram, sq_a[start:stop], sq_b[start_b:start_b + 4096], float(gamma),
                            kernel == "laplacian", part)
            sums[start:stop] += part
    return sums / b.shape[0]


def median_squared_distance(points, generator):
    """Median squared distance between distinct rows (of at most ``_MEDIAN_ROWS`` rows drawn at random).

    Falls back to the mean of the positive distances when most pairs are duplicates, and to 1.
    """
    if points.shape[0] > _MEDIAN_ROWS:
        points = points[np.sort(generator.choice(points.shape[0], _MEDIAN_ROWS, replace=False))]
    distances = squared_distances(points, points)[np.triu_indices(points.shape[0], k=1)]
    if distances.size == 0:
        return 1.0
    median = float(np.median(distances))
    if median > 0:
        return median
    positive = distances[distances > 0]
    return float(positive.mean()) if positive.size else 1.0


def take_rows(data, positions):
    """Rows ``positions`` of the user's data, in its own type, dtypes and index."""
    if isinstance(data, pd.DataFrame):
        return data.iloc[positions]
    return np.asarray(data)[positions]
