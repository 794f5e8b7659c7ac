"""The permutation-importance kernels against references: rows built one by one (over slices that cut
tasks, in a buffer reused from slice to slice), and shuffles drawn with Python integers."""

from collections import Counter

import numpy as np
import pytest

from tabxai._kernels.inspection import fill_permuted_rows, shuffled_indices
from tabxai._validation import row_generator
from tabxai.inspection.permutation import task_permutations
from naive import naive_lemire_shuffle


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


def _problem(seed, n_samples_sets=3, identity=False):
    rng = np.random.default_rng(seed)
    n_rows, n_columns, m, n_tasks = 40, 5, 13, 11
    codes = rng.normal(size=(n_rows, n_columns))
    if identity:
        m = n_rows
        sample_rows = np.arange(n_rows)[None, :]
        task_sample = np.zeros(n_tasks, dtype=np.int64)
    else:
        sample_rows = np.stack([rng.choice(n_rows, m, replace=False) for _ in range(n_samples_sets)])
        task_sample = rng.integers(0, n_samples_sets, n_tasks)
    permutations = np.stack([rng.permutation(m) for _ in range(n_tasks)])
    group_masks = rng.random((4, n_columns)) < 0.4
    group_masks[-1] = False  # the baseline: nothing permuted
    task_group = rng.integers(0, 4, n_tasks)
    expected = _naive_rows(codes, sample_rows, permutations, task_sample, task_group, group_masks)
    return codes, sample_rows, permutations, task_sample, task_group, group_masks, expected, m


@pytest.mark.parametrize("seed", range(4))
def test_every_slice_equals_the_rows_built_one_by_one(seed):
    codes, sample_rows, permutations, task_sample, task_group, group_masks, expected, m = _problem(seed)
    n_tasks = len(task_sample)
    for start, stop in [(0, n_tasks * m), (5, 6), (12, 14), (3, 40), (m, 2 * m), (n_tasks * m - 1, n_tasks * m)]:
        out = np.full((stop - start, codes.shape[1]), np.nan)
        first = start // m  # the caller passes the permutations of the tasks from `first` on
        unknown = np.full(1, -1, dtype=np.int64)
        fill_permuted_rows(np.ascontiguousarray(codes.T), sample_rows, permutations[first:], first, task_sample,
                           task_group, group_masks, start, stop, out, unknown, unknown.copy())
        np.testing.assert_array_equal(out, expected[start:stop])


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("identity", [False, True])
@pytest.mark.parametrize("tasks_per_chunk", [1, 3, 2.5, 0.6])
def test_a_reused_buffer_gets_the_same_rows_as_a_fresh_one(order, identity, tasks_per_chunk):
    """Chunks of whole tasks write only what changed; chunks that cut tasks write whole rows."""
    codes, sample_rows, permutations, task_sample, task_group, group_masks, expected, m = _problem(
        7, n_samples_sets=2, identity=identity)
    n_total = len(task_sample) * m
    chunk = max(1, int(tasks_per_chunk * m))
    buffer = np.full((chunk, codes.shape[1]), np.nan, order=order)
    n_slots = max(1, chunk // m)
    slot_sample, slot_group = np.full(n_slots, -1, dtype=np.int64), np.full(n_slots, -1, dtype=np.int64)
    columns = np.ascontiguousarray(codes.T)
    for start in range(0, n_total, chunk):
        stop = min(start + chunk, n_total)
        out = buffer[:stop - start]
        first = start // m
        fill_permuted_rows(columns, sample_rows, permutations[first:], first, task_sample, task_group, group_masks,
                           start, stop, out, slot_sample, slot_group, identity)
        np.testing.assert_array_equal(out, expected[start:stop])


def test_shuffles_equal_lemire_fisher_yates_with_python_integers():
    rng = np.random.default_rng(0)
    for m in [1, 2, 3, 17, 1000]:
        bits = rng.integers(0, 2 ** 63, size=(3, m // 2 + 16), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        out = np.empty((3, m), dtype=np.int64)
        assert shuffled_indices(bits, out)
        for r in range(3):
            np.testing.assert_array_equal(out[r], naive_lemire_shuffle(bits[r], m))


def test_rejections_consume_words_and_running_out_is_reported():
    # half-words of 0 are rejected for every bound that does not divide 2**32 (here 3): the next one is used
    words = np.array([0, 5 << 32 | 0], dtype=np.uint64)  # halves: 0, 0, 0, 5
    out = np.empty((1, 3), dtype=np.int64)
    assert shuffled_indices(np.concatenate([words, np.full(4, 2 ** 40 + 7, dtype=np.uint64)])[None, :], out)
    np.testing.assert_array_equal(out[0], naive_lemire_shuffle(np.concatenate(
        [words, np.full(4, 2 ** 40 + 7, dtype=np.uint64)]), 3))
    assert not shuffled_indices(np.zeros((1, 2), dtype=np.uint64), out)


def test_task_permutations_come_from_each_task_generator_and_are_uniform():
    keys = [4, -1, 9]
    orders = task_permutations(3, keys, 50)
    np.testing.assert_array_equal(orders[1], np.arange(50))
    for k in (0, 2):
        words = row_generator(3, keys[k]).bit_generator.random_raw(50 // 2 + 16)
        np.testing.assert_array_equal(orders[k], naive_lemire_shuffle(words, 50))
    counts = Counter(tuple(order) for order in task_permutations(1, range(6000), 3))
    assert len(counts) == 6
    expected = 6000 / 6  # chi-square with 5 degrees of freedom; 20.5 is its 0.999 quantile
    assert sum((c - expected) ** 2 / expected for c in counts.values()) < 20.5
