"""Kernels that build masked rows and reduce model outputs over the background.

The rows of one request form a flat index space ``r = q * n_background + b``: pair ``q`` is one
(explained row, coalition) pair and ``b`` a background row. Kernels fill and reduce any contiguous
slice of that space, so the caller can stream it through the model in chunks of any size with
identical results.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def fill_masked_rows(rows, background, column_masks, pair_row, pair_mask, start, stop, out):
    """Write model input rows ``start`` to ``stop`` of the flat (pair, background row) space.

    Row ``r`` is ``where(column_masks[pair_mask[q]], rows[pair_row[q]], background[b])`` with
    ``q = r // n_background`` and ``b = r % n_background``.
    """
    n_background, n_columns = background.shape
    for r in range(start, stop):
        q = r // n_background
        b = r - q * n_background
        mask = column_masks[pair_mask[q]]
        row = rows[pair_row[q]]
        o = r - start
        for j in range(n_columns):
            if mask[j]:
                out[o, j] = row[j]
            else:
                out[o, j] = background[b, j]


@numba.njit(cache=True, nogil=True)
def accumulate_weighted(outputs, weights, start, totals):
    """Add ``weights[b] * outputs[r - start]`` to ``totals[q]`` for flat rows ``start ...``.

    Rows are added in increasing ``b`` for each pair whatever the chunking, so sums are exact
    replicas of a single pass.
    """
    n_background = weights.shape[0]
    n_outputs = outputs.shape[1]
    for o in range(outputs.shape[0]):
        r = start + o
        q = r // n_background
        w = weights[r - q * n_background]
        for k in range(n_outputs):
            totals[q, k] += w * outputs[o, k]
