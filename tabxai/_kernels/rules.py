"""Kernels for the rule learners: OneR bucketing and class counts of candidate conditions.

Rows are described by a bin matrix (n_rows x n_columns, int32): for a numeric column the bin of a
value is the number of candidate thresholds below it (so ``x <= thresholds[t]`` is ``bin <= t``),
for a categorical column the category code; ``-1`` marks a missing value. Class counts of every
candidate condition are read off per-column class histograms of the rows a rule covers: prefix sums
for ``<=``, the complement for ``>``, the histogram itself for ``=`` and the missing slot for
``is missing``.
"""

import numba
import numpy as np

# Kinds of candidate conditions (the callers use the same numbers).
LESS_EQUAL = 0
GREATER = 1
EQUAL = 2
MISSING = 3


@numba.njit(cache=True)
def _first_max(counts):
    """Index of the largest entry; the lowest index among ties."""
    best = 0
    for k in range(1, counts.shape[0]):
        if counts[k] > counts[best]:
            best = k
    return best


@numba.njit(cache=True)
def oner_numeric_buckets(values, classes, n_classes, min_bucket_size):
    """Holte's 1R intervals over sorted non-missing ``values`` with class codes ``classes``.

    Rows with equal values form a group. Walking the groups in increasing order, the current bucket
    absorbs the next group while it holds fewer than ``min_bucket_size`` rows of its majority class
    or while the next group's majority class equals its own (Holte 1993; Weka's OneR). Adjacent
    buckets with the same majority class are then merged. Majority ties go to the lowest class.

    Returns ``(last, counts)``: the index in ``values`` of the last row of each bucket, and the class
    counts of each bucket (n_buckets x n_classes).
    """
    n = values.shape[0]
    group_last = np.empty(n, dtype=np.int64)
    group_counts = np.zeros((n, n_classes), dtype=np.int64)
    n_groups = 0
    for i in range(n):
        if i > 0 and values[i] == values[i - 1]:
            group_counts[n_groups - 1, classes[i]] += 1
            group_last[n_groups - 1] = i
        else:
            group_counts[n_groups, classes[i]] += 1
            group_last[n_groups] = i
            n_groups += 1
    last = np.empty(n_groups, dtype=np.int64)
    counts = np.zeros((n_groups, n_classes), dtype=np.int64)
    n_buckets = 0
    for g in range(n_groups):
        if n_buckets > 0:
            previous = counts[n_buckets - 1]
            majority = _first_max(previous)
            if previous[majority] < min_bucket_size or _first_max(group_counts[g]) == majority:
                for k in range(n_classes):
                    counts[n_buckets - 1, k] += group_counts[g, k]
                last[n_buckets - 1] = group_last[g]
                continue
        for k in range(n_classes):
            counts[n_buckets, k] = group_counts[g, k]
        last[n_buckets] = group_last[g]
        n_buckets += 1
    merged_last = np.empty(n_buckets, dtype=np.int64)
    merged = np.zeros((n_buckets, n_classes), dtype=np.int64)
    n_merged = 0
    for b in range(n_buckets):
        if n_merged > 0 and _first_max(merged[n_merged - 1]) == _first_max(counts[b]):
            for k in range(n_classes):
                merged[n_merged - 1, k] += counts[b, k]
            merged_last[n_merged - 1] = last[b]
            continue
        for k in range(n_classes):
            merged[n_merged, k] = counts[b, k]
        merged_last[n_merged] = last[b]
        n_merged += 1
    return merged_last[:n_merged], merged[:n_merged]


@numba.njit(cache=True, nogil=True)
def class_histograms(bins, classes, rows, offsets, n_classes):
    """Class counts per (column, bin) of ``rows``: slot ``offsets[j]`` is column ``j``'s missing bin.

    Returns an array (offsets[-1], n_classes); bin ``b`` of column ``j`` is at ``offsets[j] + 1 + b``.
    """
    n_columns = bins.shape[1]
    out = np.zeros((offsets[n_columns], n_classes), dtype=np.int64)
    for r in range(rows.shape[0]):
        i = rows[r]
        k = classes[i]
        for j in range(n_columns):
            out[offsets[j] + 1 + bins[i, j], k] += 1
    return out


@numba.njit(cache=True, nogil=True)
def candidate_counts(histograms, offsets, is_numeric, candidate_offsets, n_classes):
    """Class counts (n_candidates x n_classes) of every candidate condition, from the histograms.

    Candidates of column ``j`` start at ``candidate_offsets[j]``. A numeric column with ``m``
    thresholds lists ``x <= t_0 ... x <= t_{m-1}``, then ``x > t_0 ... x > t_{m-1}``, then
    ``x is missing``; a categorical column ``x = 0 ... x = K-1``, then ``x is missing``.
    """
    n_columns = offsets.shape[0] - 1
    out = np.zeros((candidate_offsets[n_columns], n_classes), dtype=np.int64)
    total = np.zeros(n_classes, dtype=np.int64)
    for j in range(n_columns):
        start = offsets[j]
        n_bins = offsets[j + 1] - start - 1
        first = candidate_offsets[j]
        if is_numeric[j]:
            n_thresholds = max(n_bins - 1, 0)
            for k in range(n_classes):
                total[k] = 0
                for b in range(n_bins):
                    total[k] += histograms[start + 1 + b, k]
            for k in range(n_classes):
                running = 0
                for t in range(n_thresholds):
                    running += histograms[start + 1 + t, k]
                    out[first + t, k] = running
                    out[first + n_thresholds + t, k] = total[k] - running
                out[first + 2 * n_thresholds, k] = histograms[start, k]
        else:
            for b in range(n_bins):
                for k in range(n_classes):
                    out[first + b, k] = histograms[start + 1 + b, k]
            for k in range(n_classes):
                out[first + n_bins, k] = histograms[start, k]
    return out


@numba.njit(cache=True, nogil=True)
def m_estimate_scores(counts, prior, m, min_support, parent_support):
    """m-estimate of the majority class of each candidate, and that class.

    ``score = (n_c + m * prior_c) / (n + m)`` where ``c`` is the most frequent class among the ``n``
    rows the candidate covers (the lowest of ties) (Cestnik 1990; Dzeroski et al. 1993). Candidates
    covering fewer than ``min_support`` rows, or every row of their parent (no refinement), get
    ``-inf``.
    """
    n_candidates = counts.shape[0]
    scores = np.empty(n_candidates, dtype=np.float64)
    heads = np.zeros(n_candidates, dtype=np.int64)
    for c in range(n_candidates):
        support = 0
        for k in range(counts.shape[1]):
            support += counts[c, k]
        if support < min_support or support >= parent_support:
            scores[c] = -np.inf
            continue
        head = _first_max(counts[c])
        scores[c] = (counts[c, head] + m * prior[head]) / (support + m)
        heads[c] = head
    return scores, heads


@numba.njit(cache=True, nogil=True)
def list_class_counts(holds, rule_starts, rule_conditions, classes, n_classes):
    """Class counts of the rows each rule of an ordered list classifies (last row: the default).

    ``holds[i, q]`` says whether row ``i`` satisfies condition ``q``; rule ``r`` is the conjunction
    of conditions ``rule_conditions[rule_starts[r]:rule_starts[r + 1]]``.
    """
    n_rows = holds.shape[0]
    n_rules = rule_starts.shape[0] - 1
    counts = np.zeros((n_rules + 1, n_classes), dtype=np.int64)
    for i in range(n_rows):
        position = n_rules
        for r in range(n_rules):
            satisfied = True
            for q in range(rule_starts[r], rule_starts[r + 1]):
                if not holds[i, rule_conditions[q]]:
                    satisfied = False
                    break
            if satisfied:
                position = r
                break
        counts[position, classes[i]] += 1
    return counts
