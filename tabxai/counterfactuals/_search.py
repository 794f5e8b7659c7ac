"""The counterfactual search behind :class:`tabxai.Counterfactuals`: batched, model-agnostic, constrained.

For one explained row ``x`` the search works in the data's own space (codes of
:class:`~tabxai.data.TabularSchema`). A *change* sets one mutable column to a value observed in the
data that the constraints allow (ranges or category sets, the monotone direction); its cost is the
column's cost times its distance (``|v - x_j| / MAD_j`` for numbers, 1 for categories). Stages, each
one engine request for all rows of a block at once:

1. **Beam over changes** (growing sparsity): every single change is evaluated; the ``beam_width``
   most promising non-valid states (most progress per unit of cost, and closest to the desired
   outcome) are extended by every further change, level after level. A state whose cost exceeds the
   ``n``-th cheapest counterfactual found cannot lead to a cheaper one and is dropped.
2. **Neighbours**: the nearest rows of the data that have the desired outcome, projected onto what
   the constraints allow, and random mixes of their changes (plausible by construction).
3. **Sparsity pass**: changes whose reversal keeps the outcome are reverted, greedily, most
   expensive first; the ``n`` to return are chosen (ranked by cost plus ``CHANGE_PENALTY`` per
   changed feature, preferring other sets of features); then each changed number is moved back
   towards ``x_j`` over the observed values between them as far as the outcome allows.

Every decision about a row depends only on that row's model outputs and its own generator, so
results do not depend on how rows are split into blocks or calls.
"""

from __future__ import annotations

import numpy as np

from .._engine import stream_rows
from .._kernels.counterfactuals import fill_changed_rows

MAX_LEVELS = 6  # most changes the beam combines; neighbours may bring more
_EXPAND = 32  # single changes the beam combines (the most useful ones on their own)
CHANGE_PENALTY = 2.0  # counterfactuals are ranked by proximity plus this per changed feature
_KEEP_SOLUTIONS = 64  # cheapest distinct counterfactuals kept per row before the sparsity pass
_REFINE_POINTS = 8  # values tried per round when moving a number back towards the row


class _Batch:
    """Candidates (base row + changes) collected for one engine request."""

    def __init__(self):
        self.bases = []
        self.base_index = []
        self.counts = []
        self.columns = []
        self.values = []
        self.n = 0

    def add_base(self, row):
        self.bases.append(row)
        return len(self.bases) - 1

    def add(self, base, columns, values, counts):
        """Add candidates on ``base``: ``counts[i]`` changes each, concatenated in ``columns`` / ``values``."""
        counts = np.asarray(counts, dtype=np.int64)
        first = self.n
        self.base_index.append(np.full(counts.size, base, dtype=np.int64))
        self.counts.append(counts)
        self.columns.append(np.asarray(columns, dtype=np.int64))
        self.values.append(np.asarray(values, dtype=np.float64))
        self.n += counts.size
        return first

    def evaluate(self, model, progress=None):
        if self.n == 0:
            return np.zeros((0, model.n_outputs or 1))
        bases = np.ascontiguousarray(np.vstack(self.bases), dtype=np.float64)
        base_index = np.concatenate(self.base_index)
        pointer = np.concatenate([[0], np.cumsum(np.concatenate(self.counts))]).astype(np.int64)
        columns = np.concatenate(self.columns)
        values = np.concatenate(self.values)
        outputs = []

        def fill(start, stop, out):
            fill_changed_rows(bases, base_index, pointer, columns, values, start, stop, out)

        def consume(chunk, start):
            outputs.append(chunk)

        stream_rows(model, self.n, bases.shape[1], fill, consume, progress=progress)
        return np.concatenate(outputs, axis=0)


class _RowSearch:
    """Search state of one explained row."""

    def __init__(self, problem, x, generator):
        self.problem = problem
        self.x = x
        self.generator = generator
        self.change_column, self.change_value = problem.row_changes(x)
        self.change_cost = problem.change_costs(x, self.change_column, self.change_value)
        self.solutions = {}  # key (see `key`) -> (values, cost, output)
        self.expand = np.ones(self.change_column.size, dtype=bool)  # changes the beam may add
        self.gap0 = None

    # bookkeeping ------------------------------------------------------------------------------
    def bound(self, n):
        """Cost of the n-th cheapest counterfactual found (inf before n are found)."""
        if len(self.solutions) < n:
            return np.inf
        return np.sort([s[1] for s in self.solutions.values()])[n - 1]

    def add_solution(self, columns, values, cost, output):
        order = np.argsort(columns, kind="stable")
        columns = np.asarray(columns)[order]
        values = np.asarray(values, dtype=np.float64)[order]
        key = self.key(columns, values)
        known = self.solutions.get(key)
        if known is None or cost < known[1]:
            self.solutions[key] = (values, float(cost), output)

    def key(self, columns, values):
        """Identity of a counterfactual: its changed columns (sorted) and the categories it moves to.

        Numbers are left out: two counterfactuals moving the same numbers are one option, the cheaper.
        """
        categorical = self.problem.categorical[columns]
        return (tuple(int(c) for c in columns), tuple(float(v) for v in values[categorical]))

    def prune_solutions(self):
        if len(self.solutions) > _KEEP_SOLUTIONS:
            keys = sorted(self.solutions, key=lambda k: (self.solutions[k][1], k))[:_KEEP_SOLUTIONS]
            self.solutions = {k: self.solutions[k] for k in keys}

    def row_with(self, columns, values):
        row = self.x.copy()
        row[np.asarray(columns, dtype=np.int64)] = values
        return row

    def restrict_expansions(self, changes, gaps, costs):
        """Keep for combining the ``_EXPAND`` single changes with most progress per cost, and half as many
        with most progress (changes that reach the outcome alone are solutions, not building blocks)."""
        progress = self.gap0 - gaps
        by_rate = np.lexsort((changes, costs, -progress / costs))
        by_progress = np.lexsort((changes, costs, -progress))
        useful = progress[by_rate] > 0
        keep = np.concatenate([by_rate[useful][:_EXPAND], by_progress[progress[by_progress] > 0][:_EXPAND // 2]])
        self.expand = np.zeros(self.change_column.size, dtype=bool)
        self.expand[changes[keep]] = True

    def choose_beam(self, plan, parent, change, costs, gaps, width):
        """Keep ``width`` states: half with most progress per cost, the rest closest to valid."""
        if parent.size == 0:
            return []
        progress = (self.gap0 - gaps) / costs
        by_rate = np.lexsort((costs, -progress))
        by_gap = np.lexsort((costs, gaps))
        improving = by_rate[progress[by_rate] > 0][: (width + 1) // 2]
        chosen, seen = [], set()
        for i in np.concatenate([improving, by_gap]):
            if len(chosen) == width:
                break
            columns = np.append(plan[parent[i]][0], self.change_column[change[i]])
            values = np.append(plan[parent[i]][1], self.change_value[change[i]])
            order = np.argsort(columns, kind="stable")
            key = (tuple(columns[order].tolist()), tuple(values[order].tolist()))
            if key not in seen:
                seen.add(key)
                chosen.append((columns, values, costs[i]))
        return chosen


def search_rows(problem, rows, generators, n, *, beam_width, n_neighbors, current, progress=None):
    """Counterfactual candidates of each row, cheapest first: a list of (rows, outputs, costs) per row.

    ``current`` holds the model outputs of ``rows``.
    """
    searches = [_RowSearch(problem, rows[i], generators[i]) for i in range(rows.shape[0])]
    model = problem.model
    gap0, _ = problem.gap(current)
    for s, g in zip(searches, gap0):
        s.gap0 = g

    # 1. beam over single changes
    parents = [[((np.zeros(0, np.int64), np.zeros(0), 0.0))] for _ in searches]
    for level in range(min(problem.n_mutable, MAX_LEVELS)):
        batch = _Batch()
        plans = []
        for s, states in zip(searches, parents):
            bound = s.bound(n)
            plan = []
            for columns, values, cost in states:
                keep = s.expand & ~np.isin(s.change_column, columns) & (cost + s.change_cost < bound)
                picks = np.flatnonzero(keep)
                if picks.size == 0:
                    continue
                base = batch.add_base(s.row_with(columns, values))
                first = batch.add(base, s.change_column[picks], s.change_value[picks], np.ones(picks.size))
                plan.append((columns, values, cost, picks, first))
            plans.append(plan)
        if batch.n == 0:
            break
        outputs = batch.evaluate(model, progress)
        gaps, valid = problem.gap(outputs)
        for k, (s, plan) in enumerate(zip(searches, plans)):
            if not plan:
                parents[k] = []
                continue
            parent = np.concatenate([np.full(p[3].size, i) for i, p in enumerate(plan)])
            change = np.concatenate([p[3] for p in plan])
            rows_at = np.concatenate([p[4] + np.arange(p[3].size) for p in plan])
            costs = np.array([p[2] for p in plan])[parent] + s.change_cost[change]
            ok = valid[rows_at]
            # the cheapest valid ones become solutions (a solution is kept per key: see RowSearch.key)
            for i in np.flatnonzero(ok)[np.argsort(costs[ok], kind="stable")][:_KEEP_SOLUTIONS]:
                columns, values = plan[parent[i]][0], plan[parent[i]][1]
                s.add_solution(np.append(columns, s.change_column[change[i]]),
                               np.append(values, s.change_value[change[i]]), costs[i], outputs[rows_at[i]])
            s.prune_solutions()
            rest = np.flatnonzero(~ok & (costs < s.bound(n)))
            if level == 0:  # later levels combine only the single changes that helped most
                s.restrict_expansions(change[rest], gaps[rows_at[rest]], costs[rest])
            parents[k] = s.choose_beam(plan, parent[rest], change[rest], costs[rest], gaps[rows_at[rest]], beam_width)
        if not any(parents):
            break

    # 2. neighbours with the desired outcome, projected onto the constraints, and random mixes
    batch = _Batch()
    plans = []
    for s in searches:
        plan = []
        for columns, values in problem.neighbour_changes(s.x, n_neighbors, s.generator):
            plan.append((columns, values, batch.add(batch.add_base(s.x), columns, values, [columns.size])))
        plans.append(plan)
    if batch.n:
        outputs = batch.evaluate(model, progress)
        _, valid = problem.gap(outputs)
        for s, plan in zip(searches, plans):
            for columns, values, r in plan:
                if valid[r]:
                    cost = problem.change_costs(s.x, columns, values).sum()
                    s.add_solution(columns, values, cost, outputs[r])
            s.prune_solutions()

    # 3. sparsity pass: revert unneeded changes, then move numbers back towards the row
    _revert_pass(problem, searches, n, progress)
    for s in searches:  # choose the n to return, then refine them
        keys = sorted(s.solutions)
        ranks = np.array([s.solutions[k][1] + CHANGE_PENALTY * len(k[0]) for k in keys])
        chosen = choose_diverse([frozenset(k[0]) for k in keys], ranks, n)
        s.solutions = {keys[i]: s.solutions[keys[i]] for i in chosen}
    _refine_pass(problem, searches, n, progress)

    results = []
    for s in searches:
        items = sorted(s.solutions.items(), key=lambda kv: (kv[1][1], kv[0]))
        if not items:
            results.append((np.zeros((0, rows.shape[1])), np.zeros((0, problem.n_outputs)), np.zeros(0)))
            continue
        cf_rows = np.vstack([s.row_with(_columns(k), v[0]) for k, v in items])
        outputs = np.vstack([v[2] for _, v in items])
        costs = np.array([v[1] for _, v in items])
        results.append((cf_rows, outputs, costs))
    return results


def _revert_pass(problem, searches, n, progress):
    """Revert changes one at a time, most expensive first, keeping each reversal that keeps the outcome.

    Only the ``2 n`` cheapest counterfactuals of a row are reduced: the others would not be chosen.
    """
    pending = []  # per row: [key, columns, values, order of changes to try, next position]
    for s in searches:
        todo = []
        cheapest = sorted(s.solutions, key=lambda k: (s.solutions[k][1], k))[:2 * n]
        for key in cheapest:
            values = s.solutions[key][0]
            columns = _columns(key)
            if columns.size > 1:
                costs = problem.change_costs(s.x, columns, values)
                todo.append([key, columns, values, np.argsort(-costs, kind="stable"), 0])
        pending.append(sorted(todo, key=lambda item: item[0]))
    while any(pending):
        batch = _Batch()
        plans = []
        for s, todo in zip(searches, pending):
            plan = []
            for item in todo:
                _, columns, values, order, position = item
                change = order[position]
                keep = np.arange(columns.size) != change
                base = batch.add_base(s.row_with(columns, values))
                plan.append((item, keep, batch.add(base, columns[change:change + 1], s.x[columns[change:change + 1]],
                                                   [1])))
            plans.append(plan)
        outputs = batch.evaluate(problem.model, progress)
        _, valid = problem.gap(outputs)
        for index, (s, plan) in enumerate(zip(searches, plans)):
            next_todo = []
            for item, keep, r in plan:
                key, columns, values, order, position = item
                if valid[r]:
                    new_columns, new_values = columns[keep], values[keep]
                    old = s.solutions.pop(key, None)
                    if old is not None:
                        cost = float(problem.change_costs(s.x, new_columns, new_values).sum())
                        s.add_solution(new_columns, new_values, cost, outputs[r])
                    remaining = [c - (c > order[position]) for c in order[position + 1:]]
                    if new_columns.size > 1 and remaining:
                        next_todo.append([s.key(new_columns, new_values), new_columns, new_values,
                                          np.array(remaining, dtype=np.int64), 0])
                elif position + 1 < order.size:
                    next_todo.append([key, columns, values, order, position + 1])
            pending[index] = [item for item in next_todo
                              if item[0] in s.solutions and np.array_equal(s.solutions[item[0]][0], item[2])]


def _refine_pass(problem, searches, n, progress):
    """Move each changed number back towards the row's value, as far as the outcome stays desired.

    Columns of a counterfactual are refined one after the other. For a column, ``inner`` is the
    closest value to ``x_j`` known not to keep the outcome (at first ``x_j`` itself) and ``outer`` the
    current value; each round tries up to ``_REFINE_POINTS`` observed values between them, evenly by
    rank, and narrows the interval to the tried values around the boundary. It runs on the ``n``
    counterfactuals chosen to be returned.
    """
    states = []  # per row: key -> [position, inner]
    for s in searches:
        cheapest = sorted(s.solutions, key=lambda k: (s.solutions[k][1], k))
        states.append({key: [0, s.x[key[0][0]]] for key in cheapest})
    while True:
        batch = _Batch()
        plans = []
        for s, state in zip(searches, states):
            plan = []
            for key in sorted(state):
                position, inner = state[key]
                values = s.solutions[key][0]
                trial = np.zeros(0)
                columns = _columns(key)
                while position < columns.size:
                    column = columns[position]
                    trial = problem.values_between(column, inner, values[position], _REFINE_POINTS)
                    if trial.size:
                        break
                    position += 1
                    if position < columns.size:
                        inner = s.x[columns[position]]
                state[key] = [position, inner]
                if trial.size == 0:
                    continue
                base = batch.add_base(s.row_with(columns, values))
                first = batch.add(base, np.full(trial.size, columns[position]), trial, np.ones(trial.size))
                plan.append((key, position, trial, first))
            plans.append(plan)
        if batch.n == 0:
            return
        outputs = batch.evaluate(problem.model, progress)
        _, valid = problem.gap(outputs)
        for s, state, plan in zip(searches, states, plans):
            for key, position, trial, first in plan:
                values, cost, output = s.solutions[key]
                columns = _columns(key)
                column = columns[position]
                origin = s.x[column]
                ok = valid[first:first + trial.size]
                distance = np.abs(trial - origin)
                outer = values[position]
                if ok.any():
                    best = np.flatnonzero(ok)[np.argmin(distance[ok])]
                    outer = trial[best]
                    new_values = values.copy()
                    new_values[position] = outer
                    new_cost = float(problem.change_costs(s.x, columns, new_values).sum())
                    s.solutions[key] = (new_values, new_cost, outputs[first + best])
                closer = (~ok) & (distance < abs(outer - origin))
                inner = trial[closer][np.argmax(distance[closer])] if closer.any() else state[key][1]
                if problem.values_between(column, inner, outer, 1).size == 0:
                    position += 1
                    inner = s.x[columns[position]] if position < columns.size else inner
                state[key] = [position, inner]


def choose_diverse(sets, ranks, n):
    """Positions of up to ``n`` candidates, preferring ones that change other sets of features.

    Candidates are taken in order of ``ranks`` (ties by position). Pass 1 takes the first of each set
    of changed features that contains no set already taken; pass 2 any other set of features; pass 3
    fills up in rank order (other categories for the same features).
    """
    order = np.lexsort((np.arange(len(ranks)), ranks))
    chosen = []
    for rule in ("new features", "new set", "any"):
        for i in order:
            if len(chosen) == n:
                break
            if i in chosen:
                continue
            if rule == "new features" and any(sets[k] <= sets[i] for k in chosen):
                continue
            if rule == "new set" and any(sets[k] == sets[i] for k in chosen):
                continue
            chosen.append(int(i))
    return chosen


def _columns(key):
    return np.array(key[0], dtype=np.int64)

