"""The permutation-importance row kernel against rows built one by one, over slices that cut tasks."""

import numpy as np
import pytest

from tabxai._kernels.inspection import fill_permuted_rows


def _naive_rows(codes, sample_rows, permutations, task_sample, task_group, group_masks):
    rows = []
    for t in range(len(task_sample)):
        sample = sample_rows[task_sample[t]]
        for i in range(sample_rows.shape[1]):
            row = codes[sample[i]].copy()
            for j in np.flatnonzero(group_masks[task_group[t]]):
                row[j] = codes[sample[permutations[t, i]], j]
            rows.append(row)
    return np.array(rows)


@pytest.mark.parametrize("seed", range(4))
def test_every_slice_equals_the_rows_built_one_by_one(seed):
    rng = np.random.default_rng(seed)
    n_rows, n_columns, m, n_tasks = 40, 5, 13, 7
    codes = rng.normal(size=(n_rows, n_columns))
    sample_rows = np.stack([rng.choice(n_rows, m, replace=False) for _ in range(3)])
    permutations = np.stack([rng.permutation(m) for _ in range(n_tasks)])
    task_sample = rng.integers(0, 3, n_tasks)
    group_masks = rng.random((4, n_columns)) < 0.4
    group_masks[-1] = False  # the baseline: nothing permuted
    task_group = rng.integers(0, 4, n_tasks)
    expected = _naive_rows(codes, sample_rows, permutations, task_sample, task_group, group_masks)
    for start, stop in [(0, n_tasks * m), (5, 6), (12, 14), (3, 40), (m, 2 * m), (n_tasks * m - 1, n_tasks * m)]:
        out = np.full((stop - start, n_columns), np.nan)
        first = start // m  # the caller passes the permutations of the tasks from `first` on
        fill_permuted_rows(codes, sample_rows, permutations[first:], first, task_sample, task_group, group_masks,
                           start, stop, out)
        np.testing.assert_array_equal(out, expected[start:stop])
