"""Kernels of the example-based methods: mixed-type rows as points, and kernel values from Gram blocks.

Rows are encoded once into points (numbers standardised, categories one-hot with missing as a level
of its own); distances and kernels between blocks of points come from one matrix product each
(``A @ B.T``, done by the caller) turned in place into squared distances or kernel values here:
``||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b``, clipped at 0 against rounding.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def encode_points(codes, numeric, means, scales, offsets, n_levels, category_weight, out):
    """Write the point of each code row into ``out`` (zeroed by the caller).

    A numeric column ``j`` takes one coordinate ``(x - means[j]) / scales[j]`` (missing: 0); a
    categorical column takes ``n_levels[j] + 1`` coordinates: ``category_weight`` at its code, at
    the last one when missing, and none for a code the encoding has not seen.
    """
    n_rows, n_columns = codes.shape
    for i in range(n_rows):
        for j in range(n_columns):
            value = codes[i, j]
            start = offsets[j]
            if numeric[j]:
                if not np.isnan(value):
                    out[i, start] = (value - means[j]) / scales[j]
            elif np.isnan(value):
                out[i, start + n_levels[j]] = category_weight
            else:
                code = int(value)
                if code < n_levels[j]:
                    out[i, start + code] = category_weight


@numba.njit(cache=True, nogil=True)
def squared_from_gram(gram, sq_a, sq_b):
    """Turn ``gram = A @ B.T`` into squared distances ``||a_i - b_k||^2`` in place."""
    n_a, n_b = gram.shape
    for i in range(n_a):
        for k in range(n_b):
            value = sq_a[i] + sq_b[k] - 2.0 * gram[i, k]
            gram[i, k] = value if value > 0.0 else 0.0


@numba.njit(cache=True, nogil=True)
def _kernel_value(gram_entry, sq_a, sq_b, gamma, laplacian):
    """``exp(-gamma d^2)`` (or ``exp(-gamma d)``) from one Gram entry and the two squared norms."""
    value = sq_a + sq_b - 2.0 * gram_entry
    if value < 0.0:
        value = 0.0
    if laplacian:
        value = np.sqrt(value)
    return np.exp(-gamma * value)


@numba.njit(cache=True, nogil=True)
def kernel_from_gram(gram, sq_a, sq_b, gamma, laplacian):
    """Turn ``gram = A @ B.T`` into kernel values in place: ``exp(-gamma d^2)``, or ``exp(-gamma d)``."""
    n_a, n_b = gram.shape
    for i in range(n_a):
        for k in range(n_b):
            gram[i, k] = _kernel_value(gram[i, k], sq_a[i], sq_b[k], gamma, laplacian)


@numba.njit(cache=True, nogil=True)
def kernel_row_sums(gram, sq_a, sq_b, gamma, laplacian, out):
    """Add, for each row ``i`` of a Gram block, the sum of its kernel values to ``out[i]``."""
    n_a, n_b = gram.shape
    for i in range(n_a):
        total = 0.0
        for k in range(n_b):
            total += _kernel_value(gram[i, k], sq_a[i], sq_b[k], gamma, laplacian)
        out[i] += total


@numba.njit(cache=True, nogil=True)
def farthest_points(nearest, points, chosen_out):
    """Greedy farthest-point choice: each pick is the row farthest from everything chosen so far.

    ``nearest[i]`` is row ``i``'s squared distance to its nearest point already chosen (prototypes);
    it is lowered in place as rows are picked. Ties go to the lower row index.
    """
    n_rows, n_dims = points.shape
    for c in range(chosen_out.shape[0]):
        best = -1.0
        pick = -1
        for i in range(n_rows):
            if nearest[i] > best:
                best = nearest[i]
                pick = i
        chosen_out[c] = pick
        for i in range(n_rows):
            total = 0.0
            for d in range(n_dims):
                diff = points[i, d] - points[pick, d]
                total += diff * diff
            if total < nearest[i]:
                nearest[i] = total
        nearest[pick] = -1.0


@numba.njit(cache=True, nogil=True)
def _difference(sum_in, squares_in, total, total_squares, inside, n_models):
    """Mean with minus mean without, and its standard error (NaN when a side has too few models)."""
    outside = n_models - inside
    if inside == 0 or outside == 0:
        return np.nan, np.nan
    mean_in = sum_in / inside
    mean_out = (total - sum_in) / outside
    if inside < 2 or outside < 2:
        return mean_in - mean_out, np.nan
    var_in = (squares_in - inside * mean_in * mean_in) / (inside - 1)
    var_out = (total_squares - squares_in - outside * mean_out * mean_out) / (outside - 1)
    var_in = var_in if var_in > 0.0 else 0.0
    var_out = var_out if var_out > 0.0 else 0.0
    return mean_in - mean_out, np.sqrt(var_in / inside + var_out / outside)


@numba.njit(cache=True, nogil=True)
def mean_difference(sum_in, squares_in, total, total_squares, n_in, n_models, values, stderr):
    """Per training row ``i`` and column ``t``: mean with the row minus mean without it, and its standard error.

    ``total[t]`` sums column ``t`` over all models; the sum without row ``i`` is ``total - sum_in``.
    NaN where a row was in no subset or in all (values), or in fewer than 2 or left out of fewer than
    2 (standard errors). ``values`` and ``stderr`` may be ``sum_in`` and ``squares_in`` themselves.
    """
    n_rows, n_columns = sum_in.shape
    for i in range(n_rows):
        for t in range(n_columns):
            values[i, t], stderr[i, t] = _difference(sum_in[i, t], squares_in[i, t], total[t], total_squares[t],
                                                     n_in[i], n_models)


@numba.njit(cache=True, nogil=True)
def mean_difference_rows(sum_in, squares_in, total, total_squares, n_in, n_models, values, stderr):
    """:func:`mean_difference` for one score per row (a row's own label), with its own totals."""
    for i in range(sum_in.shape[0]):
        values[i], stderr[i] = _difference(sum_in[i], squares_in[i], total[i], total_squares[i], n_in[i], n_models)
