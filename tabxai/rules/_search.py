"""Rule-list search: candidate conditions, beam search for one rule, sequential covering, pruning.

Everything here works on integer bins (see :mod:`tabxai._kernels.rules`) and integer class codes; a
rule is a sorted tuple of candidate indices. :mod:`tabxai.rules.rule_list` turns the result into
readable :class:`~tabxai.rules.Rule` objects.
"""

from __future__ import annotations

import numpy as np

from .._kernels.rules import (EQUAL, GREATER, LESS_EQUAL, MISSING, candidate_counts, class_histograms,
                              list_class_counts, m_estimate_scores)
from ._base import nice_threshold


class Candidates:
    """The candidate conditions of a training table, and each row's bin in every column.

    A numeric column with sorted distinct values ``u_0 < ... < u_m`` has the conditions ``<= t_i``
    and ``> t_i`` for every gap ``u_i <= t_i < u_{i+1}``; a categorical column ``= category`` for
    every category; every column ``is missing``. The bin of a numeric value is its index in ``u``.
    """

    def __init__(self, schema, codes):
        n_rows, n_columns = codes.shape
        self.bins = np.full((n_rows, n_columns), -1, dtype=np.int32)
        self.is_numeric = np.zeros(n_columns, dtype=np.bool_)
        self.distinct = []
        n_bins = np.zeros(n_columns, dtype=np.int64)
        n_candidates = np.zeros(n_columns, dtype=np.int64)
        kinds, indices = [], []
        for j, column in enumerate(schema.columns):
            values = codes[:, j]
            present = ~np.isnan(values)
            if column.is_categorical:
                n_bins[j] = len(column.labels)
                self.bins[present, j] = values[present].astype(np.int32)
                self.distinct.append(None)
                kinds += [EQUAL] * n_bins[j] + [MISSING]
                indices += list(range(n_bins[j])) + [-1]
            else:
                distinct, self.bins[present, j] = np.unique(values[present], return_inverse=True)
                self.is_numeric[j] = True
                self.distinct.append(distinct)
                n_bins[j] = len(distinct)
                n_thresholds = max(len(distinct) - 1, 0)
                kinds += [LESS_EQUAL] * n_thresholds + [GREATER] * n_thresholds + [MISSING]
                indices += list(range(n_thresholds)) * 2 + [-1]
            n_candidates[j] = len(kinds) - sum(n_candidates[:j])
        self.offsets = np.concatenate([[0], np.cumsum(n_bins + 1)]).astype(np.int64)
        self.candidate_offsets = np.concatenate([[0], np.cumsum(n_candidates)]).astype(np.int64)
        self.column = np.repeat(np.arange(n_columns), n_candidates)
        self.kind = np.array(kinds, dtype=np.int64)
        self.index = np.array(indices, dtype=np.int64)

    def threshold(self, candidate):
        """The printed threshold of a ``<=`` or ``>`` candidate: the shortest decimal in its gap."""
        distinct = self.distinct[self.column[candidate]]
        i = self.index[candidate]
        return nice_threshold(float(distinct[i]), float(distinct[i + 1]))

    def counts(self, classes, rows, n_classes):
        """Class counts (n_candidates x n_classes) of every candidate among ``rows``."""
        histograms = class_histograms(self.bins, classes, rows, self.offsets, n_classes)
        return candidate_counts(histograms, self.offsets, self.is_numeric, self.candidate_offsets, n_classes)

    def holds(self, candidate, rows=None):
        """Boolean mask over ``rows`` (default: all rows) of the rows satisfying ``candidate``."""
        bins = self.bins[:, self.column[candidate]]
        if rows is not None:
            bins = bins[rows]
        kind, index = self.kind[candidate], self.index[candidate]
        if kind == LESS_EQUAL:
            return (bins >= 0) & (bins <= index)
        if kind == GREATER:
            return bins > index
        if kind == EQUAL:
            return bins == index
        return bins < 0

    def refine(self, conditions, candidate):
        """``conditions`` and ``candidate``; a new bound replaces the looser one on its column."""
        kind, column = self.kind[candidate], self.column[candidate]
        if kind in (LESS_EQUAL, GREATER):
            conditions = tuple(c for c in conditions if not (self.column[c] == column and self.kind[c] == kind))
        return tuple(sorted(conditions + (candidate,)))


def find_rule(candidates, classes, rows, n_classes, *, max_conditions, beam_width, min_support, prior_weight):
    """Beam search over ``rows`` for the conjunction whose majority class has the best m-estimate.

    ``m = prior_weight * len(rows)`` and the prior is the class distribution of ``rows``. Returns
    ``(conditions, covered_rows, head)``, or None when no conjunction covers ``min_support`` rows.
    Ties go to fewer conditions, then to the candidate found first (column order).
    """
    prior = np.bincount(classes[rows], minlength=n_classes) / len(rows)
    m = prior_weight * len(rows)
    beam = [((), rows)]
    best, best_score = None, -np.inf
    seen = set()
    for _ in range(max_conditions):
        proposals = []
        for parent, (_, parent_rows) in enumerate(beam):
            counts = candidates.counts(classes, parent_rows, n_classes)
            scores, heads = m_estimate_scores(counts, prior, m, min_support, len(parent_rows))
            valid = np.flatnonzero(np.isfinite(scores))
            if len(valid) > beam_width:
                cut = np.partition(scores[valid], len(valid) - beam_width)[len(valid) - beam_width]
                valid = valid[scores[valid] >= cut]
            proposals.extend((-scores[c], parent, c, heads[c]) for c in valid)
        proposals.sort()
        next_beam = []
        for negative_score, parent, candidate, head in proposals:
            conditions = candidates.refine(beam[parent][0], candidate)
            if conditions in seen:
                continue
            seen.add(conditions)
            parent_rows = beam[parent][1]
            covered = parent_rows[candidates.holds(candidate, parent_rows)]
            if -negative_score > best_score or (-negative_score == best_score and len(conditions) < len(best[0])):
                best, best_score = (conditions, covered, int(head)), -negative_score
            next_beam.append((conditions, covered))
            if len(next_beam) == beam_width:
                break
        if not next_beam:
            break
        beam = next_beam
    return best


def grow(candidates, classes, n_classes, *, max_rules, max_conditions, beam_width, min_support, prior_weight):
    """Sequential covering: find a rule, remove the rows it covers, repeat.

    Stops at ``max_rules`` rules, when fewer than ``min_support`` rows or a single class remain, or
    when the best rule's class is no more frequent among its rows than among all remaining rows.
    Returns a list of condition tuples.
    """
    rows = np.arange(len(classes))
    rules = []
    while len(rules) < max_rules and len(rows) >= max(min_support, 2):
        counts = np.bincount(classes[rows], minlength=n_classes)
        if np.count_nonzero(counts) < 2:
            break
        found = find_rule(candidates, classes, rows, n_classes, max_conditions=max_conditions,
                          beam_width=beam_width, min_support=min_support, prior_weight=prior_weight)
        if found is None:
            break
        conditions, covered, head = found
        if np.count_nonzero(classes[covered] == head) / len(covered) <= counts[head] / len(rows):
            break
        rules.append(conditions)
        keep = np.ones(len(classes), dtype=bool)
        keep[covered] = False
        rows = rows[keep[rows]]
    return rules


class ListEvaluator:
    """Class counts of a rule list and of edited versions of it, from a truth table of its conditions."""

    def __init__(self, candidates, classes, rules, n_classes):
        used = sorted({c for conditions in rules for c in conditions})
        self.position = {c: q for q, c in enumerate(used)}
        self.holds = np.zeros((len(classes), max(len(used), 1)), dtype=np.bool_)
        for c, q in self.position.items():
            self.holds[:, q] = candidates.holds(c)
        self.classes = classes
        self.n_classes = n_classes

    def counts(self, rules):
        """Class counts (len(rules) + 1, n_classes) of the rows each rule classifies; last: the default."""
        starts = np.concatenate([[0], np.cumsum([len(r) for r in rules])]).astype(np.int64)
        flat = np.array([self.position[c] for conditions in rules for c in conditions], dtype=np.int64)
        return list_class_counts(self.holds, starts, flat, self.classes, self.n_classes)


def objective(counts, n_conditions, penalty):
    """Training error rate plus ``penalty`` per condition, every rule predicting its majority class."""
    errors = counts.sum() - counts.max(axis=1).sum()
    return errors / counts.sum() + penalty * n_conditions


def prune(candidates, classes, rules, n_classes, penalty):
    """Delete conditions and rules while that lowers :func:`objective`, the best deletion first.

    Rules that classify no training row are dropped at the end.
    """
    evaluator = ListEvaluator(candidates, classes, rules, n_classes)

    def value(edited):
        return objective(evaluator.counts(edited), sum(len(r) for r in edited), penalty)

    rules = list(rules)
    current = value(rules)
    while rules:
        edits = []
        for position, conditions in enumerate(rules):
            edits.append(rules[:position] + rules[position + 1:])
            if len(conditions) > 1:
                edits.extend(rules[:position] + [tuple(c for c in conditions if c != drop)] + rules[position + 1:]
                             for drop in conditions)
        values = [value(edited) for edited in edits]
        best = int(np.argmin(values))
        if values[best] >= current - 1e-12:
            break
        current, rules = values[best], edits[best]
    counts = evaluator.counts(rules)
    return [conditions for conditions, row in zip(rules, counts) if row.sum() > 0]
