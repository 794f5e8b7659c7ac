"""Kernels of the counterfactual search: candidate rows from changes, and scaled distances.

A candidate is a base row with a few columns changed, stored compactly: ``base_index[r]`` names its
base row and ``change_column[change_ptr[r]:change_ptr[r + 1]]`` / ``change_value[...]`` its changes.
:func:`fill_changed_rows` writes any contiguous slice of candidates, so the engine can stream them
through the model in chunks of any size with identical rows.

Distances between code rows are sums over columns of per-column distances: ``|a - b| / scale[j]``
for a numeric column, ``1`` when the values differ for a categorical or boolean one; two missing
values are equal, a missing and a present value are at distance 1.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def fill_changed_rows(bases, base_index, change_ptr, change_column, change_value, start, stop, out):
    """Write candidates ``start`` to ``stop``: ``bases[base_index[r]]`` with its changes applied."""
    n_columns = bases.shape[1]
    for r in range(start, stop):
        o = r - start
        base = base_index[r]
        for j in range(n_columns):
            out[o, j] = bases[base, j]
        for k in range(change_ptr[r], change_ptr[r + 1]):
            out[o, change_column[k]] = change_value[k]


@numba.njit(cache=True, nogil=True)
def _column_distance(a, b, scale, categorical):
    a_missing = np.isnan(a)
    b_missing = np.isnan(b)
    if a_missing or b_missing:
        return 0.0 if a_missing and b_missing else 1.0
    if categorical:
        return 0.0 if a == b else 1.0
    return abs(a - b) / scale


@numba.njit(cache=True, nogil=True)
def column_distances(rows, origins, origin_index, scale, categorical):
    """Per-column distances ``(n_rows, n_columns)`` of each row to its origin ``origins[origin_index[i]]``."""
    n_rows, n_columns = rows.shape
    out = np.empty((n_rows, n_columns))
    for i in range(n_rows):
        origin = origins[origin_index[i]]
        for j in range(n_columns):
            out[i, j] = _column_distance(rows[i, j], origin[j], scale[j], categorical[j])
    return out


@numba.njit(cache=True, nogil=True)
def nearest_distances(rows, reference, scale, categorical):
    """Distance of each row to its nearest reference row (``inf`` without reference rows)."""
    n_rows, n_columns = rows.shape
    out = np.full(n_rows, np.inf)
    for i in range(n_rows):
        best = np.inf
        for k in range(reference.shape[0]):
            total = 0.0
            for j in range(n_columns):
                total += _column_distance(rows[i, j], reference[k, j], scale[j], categorical[j])
                if total >= best:
                    break
            if total < best:
                best = total
        out[i] = best
    return out


@numba.njit(cache=True, nogil=True)
def mean_pairwise_distance(rows, scale, categorical):
    """Mean distance over the pairs of rows (``nan`` for fewer than two rows)."""
    n_rows, n_columns = rows.shape
    if n_rows < 2:
        return np.nan
    total = 0.0
    for a in range(n_rows):
        for b in range(a + 1, n_rows):
            for j in range(n_columns):
                total += _column_distance(rows[a, j], rows[b, j], scale[j], categorical[j])
    return total / (n_rows * (n_rows - 1) / 2)
