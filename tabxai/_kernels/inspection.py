"""Kernels that build the model rows of global inspection methods.

Like the masking kernels, each fills any contiguous slice ``start ... stop`` of a flat row space,
so the engine can stream a request through the model in chunks of any size with identical rows.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def fill_permuted_rows(codes, sample_rows, permutations, first_task, task_sample, task_group, group_masks,
                       start, stop, out):
    """Write rows ``start`` to ``stop`` of the flat (task, sample position) space of permutation importance.

    Row ``r = t * m + i`` (``m = sample_rows.shape[1]``) is data row ``s = sample_rows[task_sample[t], i]``
    with the columns of group ``g = task_group[t]`` (``group_masks[g]``) taken from data row
    ``sample_rows[task_sample[t], permutations[t - first_task, i]]``: the group's columns are
    permuted together over the task's sample, the other columns keep their values. A group whose
    mask is all False gives the unpermuted rows (the baseline).
    """
    m = sample_rows.shape[1]
    n_columns = codes.shape[1]
    permuted = np.empty(n_columns, dtype=np.int64)
    t = start // m
    while t * m < stop:  # task by task: no division per row, one mask scan per task
        lo = max(start, t * m) - t * m
        hi = min(stop, (t + 1) * m) - t * m
        rows = sample_rows[task_sample[t]]
        mask = group_masks[task_group[t]]
        n_permuted = 0
        for j in range(n_columns):
            if mask[j]:
                permuted[n_permuted] = j
                n_permuted += 1
        order = permutations[t - first_task]
        offset = t * m - start
        for i in range(lo, hi):
            o = offset + i
            source = rows[i]
            for j in range(n_columns):  # the whole row, then the group's columns from the donor row
                out[o, j] = codes[source, j]
            donor = rows[order[i]]
            for k in range(n_permuted):
                out[o, permuted[k]] = codes[donor, permuted[k]]
        t += 1


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
