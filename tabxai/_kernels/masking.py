"""Kernels that build masked rows and reduce model outputs over the background.

The rows of one request form a flat index space ``r = q * n_background + b``: pair ``q`` is one
(explained row, coalition) pair and ``b`` a background row. Kernels fill and reduce any contiguous
slice of that space, so the caller can stream it through the model in chunks of any size with
identical results.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def fill_masked_rows(rows, background, coalitions, player_of_column, pair_row, pair_mask, start, stop, out):
    """Write model input rows ``start`` to ``stop`` of the flat (pair, background row) space.

    Row ``r`` takes column ``j`` from ``rows[pair_row[q]]`` where player ``player_of_column[j]`` is
    in coalition ``coalitions[pair_mask[q]]`` and from ``background[b]`` elsewhere, with
    ``q = r // n_background`` and ``b = r % n_background``.
    """
    n_background, n_columns = background.shape
    on = np.empty(n_columns, dtype=np.int64)
    r = start
    while r < stop:
        q = r // n_background
        b = r - q * n_background
        block_stop = min(stop, (q + 1) * n_background)
        coalition = coalitions[pair_mask[q]]
        row = rows[pair_row[q]]
        n_on = 0
        for j in range(n_columns):
            if coalition[player_of_column[j]]:
                on[n_on] = j
                n_on += 1
        for o in range(r - start, block_stop - start):
            for j in range(n_columns):
                out[o, j] = background[b, j]
            for t in range(n_on):
                out[o, on[t]] = row[on[t]]
            b += 1
        r = block_stop


@numba.njit(cache=True, nogil=True)
def accumulate_weighted(outputs, weights, start, totals):
    """Add ``weights[b] * outputs[r - start]`` to ``totals[q]`` for flat rows ``start ...``.

    Rows are added in increasing ``b`` for each pair whatever the chunking, so sums are exact
    replicas of a single pass.
    """
    n_background = weights.shape[0]
    n_outputs = outputs.shape[1]
    stop = start + outputs.shape[0]
    r = start
    while r < stop:
        q = r // n_background
        b = r - q * n_background
        block_stop = min(stop, (q + 1) * n_background)
        for k in range(n_outputs):
            total = totals[q, k]
            bb = b
            for o in range(r - start, block_stop - start):
                total += weights[bb] * outputs[o, k]
                bb += 1
            totals[q, k] = total
        r = block_stop


@numba.njit(cache=True, nogil=True)
def refill_masked_columns(rows, background_columns, coalitions, player_of_column, pair_row, pair_mask, start, stop,
                          out, slot_row, slot_mask):
    """:func:`fill_masked_rows` column by column into a buffer that keeps its rows from call to call.

    ``background_columns`` is the background transposed (n_columns, n_background), contiguous. ``start``
    must be a multiple of ``n_background``: block ``k`` of ``n_background`` rows of ``out`` belongs to
    pair ``start // n_background + k``. ``slot_row`` and ``slot_mask`` say which explained row and
    coalition each block holds (-1: unknown); a column is written only where its source changed (the
    coalition moved its player in or out, or the explained row changed where it is on), and the arrays
    are updated. For a column-major ``out`` each written column of a block is one contiguous run.
    """
    n_columns, n_background = background_columns.shape
    first = start // n_background
    for q in range(first, (stop + n_background - 1) // n_background):
        k = q - first
        o = k * n_background
        n = min(stop, (q + 1) * n_background) - q * n_background
        row = pair_row[q]
        coalition = coalitions[pair_mask[q]]
        known = k < slot_row.shape[0] and slot_row[k] >= 0 and n == n_background
        for j in range(n_columns):
            on = coalition[player_of_column[j]]
            if known:
                was_on = coalitions[slot_mask[k], player_of_column[j]]
                if on == was_on and (not on or slot_row[k] == row):
                    continue
            if on:
                value = rows[row, j]
                for b in range(n):
                    out[o + b, j] = value
            else:
                column = background_columns[j]
                for b in range(n):
                    out[o + b, j] = column[b]
        if k < slot_row.shape[0]:
            slot_row[k] = row if n == n_background else -1
            slot_mask[k] = pair_mask[q] if n == n_background else -1
