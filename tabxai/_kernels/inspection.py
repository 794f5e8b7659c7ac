"""Kernels that build the model rows of global inspection methods.

Like the masking kernels, each fills any contiguous slice ``start ... stop`` of a flat row space,
so the engine can stream a request through the model in chunks of any size with identical rows.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def fill_permuted_rows(columns, sample_rows, permutations, first_task, task_sample, task_group, group_masks,
                       start, stop, out, slot_sample, slot_group, identity=False):
    """Write rows ``start`` to ``stop`` of the flat (task, sample position) space of permutation importance.

    Row ``r = t * m + i`` (``m = sample_rows.shape[1]``) is data row ``s = sample_rows[task_sample[t], i]``
    with the columns of group ``g = task_group[t]`` (``group_masks[g]``) taken from data row
    ``sample_rows[task_sample[t], permutations[t - first_task, i]]``: the group's columns are
    permuted together over the task's sample, the other columns keep their values. A group whose
    mask is all False gives the unpermuted rows (the baseline). ``columns`` is ``codes.T`` made
    contiguous: rows are written column by column, each gathered from one short array, which suits
    a column-major ``out`` (a row-major one works too). ``identity``: every sample is ``0 ... m - 1``
    (all rows, in order), so rows are read without the indirection.

    ``slot_sample`` and ``slot_group`` say what ``out`` already holds when ``start`` is a multiple of
    ``m``: block ``k`` of ``m`` rows of ``out`` holds the rows of sample ``slot_sample[k]`` with the
    columns of group ``slot_group[k]`` permuted (``-1``: unknown). A block that holds the task's
    sample gets only the previous group's columns put back and the new group's columns written,
    instead of whole rows; the arrays are updated to what ``out`` holds on return. Pass arrays of
    ``-1`` (any length) for a fresh ``out``; slices that do not start at a task are written whole.
    """
    m = sample_rows.shape[1]
    n_columns = columns.shape[0]
    aligned = start % m == 0
    if not aligned:  # blocks of rows straddle tasks: what ``out`` held is no longer known
        slot_sample[:] = -1
        slot_group[:] = -1
    restore = np.zeros(n_columns, dtype=np.bool_)
    t = start // m
    while t * m < stop:  # task by task: no division per row, one mask scan per task
        lo = max(start, t * m) - t * m
        hi = min(stop, (t + 1) * m) - t * m
        rows = sample_rows[task_sample[t]]
        mask = group_masks[task_group[t]]
        order = permutations[t - first_task]
        offset = t * m - start
        slot = offset // m
        in_slots = aligned and slot < slot_sample.shape[0]
        known = in_slots and lo == 0 and hi == m and slot_sample[slot] == task_sample[t] and slot_group[slot] >= 0
        for j in range(n_columns):  # the previous task's columns that this task does not overwrite
            restore[j] = known and group_masks[slot_group[slot], j] and not mask[j]
        # column by column (the engine's buffer for this kernel is column-major): put back or copy, then permute
        for j in range(n_columns):
            if mask[j] or (known and not restore[j]):
                continue
            if identity:
                for i in range(lo, hi):
                    out[offset + i, j] = columns[j, i]
            else:
                for i in range(lo, hi):
                    out[offset + i, j] = columns[j, rows[i]]
        for j in range(n_columns):
            if mask[j]:
                if identity:
                    for i in range(lo, hi):
                        out[offset + i, j] = columns[j, order[i]]
                else:
                    for i in range(lo, hi):
                        out[offset + i, j] = columns[j, rows[order[i]]]
        if in_slots:
            complete = lo == 0 and hi == m
            slot_sample[slot] = task_sample[t] if complete else -1
            slot_group[slot] = task_group[t] if complete else -1
        t += 1


@numba.njit(cache=True, nogil=True)
def shuffled_indices(bits, out):
    """Uniformly random permutations of ``0 ... m - 1`` into the rows of ``out`` ``(k, m)``; True on success.

    Row ``r`` is a Fisher-Yates (Durstenfeld) shuffle driven by the 32-bit halves of ``bits[r]``
    (uint64, low half first): position ``i = m - 1 ... 1`` is swapped with ``j`` uniform in
    ``0 ... i``, drawn by Lemire's multiply-and-shift with rejection (Lemire 2019, "Fast random
    integer generation in an interval"), so every permutation is exactly equally likely. A rejection
    takes the next half-word; False when a row runs out of words (the caller draws more).
    """
    k, m = out.shape
    n_halves = 2 * bits.shape[1]
    low = np.uint64(0xFFFFFFFF)
    shift = np.uint64(32)
    for r in range(k):
        order = out[r]
        words = bits[r]
        for i in range(m):
            order[i] = i
        h = 0
        for i in range(m - 1, 0, -1):
            if h >= n_halves:
                return False
            n = np.uint64(i + 1)
            word = words[h >> 1]
            product = ((word & low) if h & 1 == 0 else (word >> shift)) * n
            h += 1
            if product & low < n:  # maybe in the biased remainder: compute the bound (a division) only now
                bound = (np.uint64(0x100000000) - n) % n
                while product & low < bound:
                    if h >= n_halves:
                        return False
                    word = words[h >> 1]
                    product = ((word & low) if h & 1 == 0 else (word >> shift)) * n
                    h += 1
            j = np.int64(product >> shift)
            swap = order[i]
            order[i] = order[j]
            order[j] = swap
    return True


@numba.njit(cache=True, nogil=True)
def fill_column_values(codes, row_index, column, values, start, stop, out):
    """Write rows ``start`` to ``stop``: row ``r`` is ``codes[row_index[r]]`` with ``column`` set to ``values[r]``."""
    n_columns = codes.shape[1]
    for r in range(start, stop):
        o = r - start
        source = row_index[r]
        for j in range(n_columns):
            out[o, j] = codes[source, j]
        out[o, column] = values[r]
