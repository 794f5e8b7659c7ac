"""What a counterfactual search needs to know about the data, the constraints and the desired outcome.

:class:`Problem` is built once by :class:`tabxai.Counterfactuals` from validated arguments; the
search (``_search``) asks it which changes a row may make, what they cost, which
outputs reach the desired outcome, and which rows of the data are neighbours with that outcome.
"""

from __future__ import annotations

import numpy as np

from .._kernels.counterfactuals import column_distances, nearest_distances

INCREASE, DECREASE = 1, -1


def robust_scale(values):
    """Median absolute deviation of a numeric column; the mean absolute deviation, then 1, when it is 0."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return 1.0
    mad = float(np.median(np.abs(values - np.median(values))))
    if mad > 0:
        return mad
    mean_deviation = float(np.mean(np.abs(values - np.mean(values))))
    return mean_deviation if mean_deviation > 0 else 1.0


def decisions_from(rule, outputs):
    """Decisions (positions of classes) that a decision rule (see :class:`Problem`) reads from outputs."""
    if rule[0] == "column":
        return outputs[:, -1].astype(np.int64)
    if rule[0] == "threshold":
        _, column, value, above, below = rule
        return np.where(outputs[:, column] >= value, above, below)
    return np.argmax(outputs, axis=1)


class Problem:
    """Data, constraints and target of a counterfactual search, in code space.

    Parameters
    ----------
    model : Model bound to the data's schema
    codes : ndarray (n_rows, n_columns)
        The data ``X`` as codes.
    categorical : bool ndarray (n_columns,)
    mutable : bool ndarray (n_columns,)
    direction : int ndarray (n_columns,)
        +1 may only increase, -1 may only decrease, 0 free.
    low, high : float ndarrays (n_columns,)
        Allowed interval of a numeric column (``-inf``/``inf`` when open).
    allowed_codes : list of (ndarray or None)
        Allowed codes of a categorical column (None: every observed code).
    costs : float ndarray (n_columns,)
    target : ("class", index) or ("range", low, high)
        The index of a class is its position in the model's classes, which is also the column of its
        probability.
    decision : tuple or None
        How outputs become the model's decisions, for a class target: ``("argmax",)``,
        ``("threshold", column, value, position_at_or_above, position_below)`` (see
        :meth:`tabxai.Model.decision_rule`), or ``("column",)`` when the model's outputs end with a
        column of its decisions (:meth:`tabxai.Model.with_decisions`).
    n_values : int
        Values per numeric column in the search grid: ``n_values`` quantiles of the data (common
        values) and ``n_values // 2`` of its distinct values evenly by rank (the whole range).
    """

    def __init__(self, model, codes, categorical, mutable, direction, low, high, allowed_codes, costs, target,
                 n_values, data_outputs, decision=None):
        self.model = model
        self.decision = decision
        self.categorical = np.ascontiguousarray(categorical, dtype=np.bool_)
        self.mutable = mutable
        self.direction = direction
        self.low, self.high = low, high
        self.costs = np.asarray(costs, dtype=np.float64)
        self.target = target
        self.n_columns = codes.shape[1]
        self.n_outputs = data_outputs.shape[1]
        self.n_mutable = int(mutable.sum())
        self.scale = np.ones(self.n_columns)
        self.observed = []  # sorted unique observed values (codes) per column
        self.grid = []  # search grid per column, before per-row filtering
        for j in range(self.n_columns):
            column = codes[:, j]
            present = column[~np.isnan(column)]
            unique = np.unique(present)
            if not self.categorical[j]:
                self.scale[j] = robust_scale(column)
            allowed = self._allowed(j, unique, allowed_codes[j])
            self.observed.append(allowed)
            if self.categorical[j] or allowed.size <= n_values:
                self.grid.append(allowed)
            else:
                inside = present[np.isin(present, allowed)]
                quantiles = np.quantile(inside, np.linspace(0, 1, n_values), method="inverted_cdf")
                spread = allowed[np.linspace(0, allowed.size - 1, n_values // 2).round().astype(np.int64)]
                self.grid.append(np.union1d(quantiles, spread))  # common values, and the whole range
        self.data_in_range_low = np.array([np.nanmin(c) if np.isfinite(c).any() else np.nan for c in codes.T])
        self.data_in_range_high = np.array([np.nanmax(c) if np.isfinite(c).any() else np.nan for c in codes.T])
        self.observed_all = [np.unique(c[~np.isnan(c)]) for c in codes.T]
        _, valid = self.gap(data_outputs)
        self.reference = np.ascontiguousarray(codes[valid])  # rows of X with the desired outcome
        self.reference_allowed = np.column_stack(  # whether each value may be moved to (observed and allowed)
            [np.isin(self.reference[:, j], self.observed[j]) for j in range(self.n_columns)]
        ) if self.reference.shape[0] else np.zeros((0, self.n_columns), dtype=bool)
        self.ranking_weights = np.where(self.mutable, self.costs, 0.0)

    def _allowed(self, j, unique, allowed_codes):
        if self.categorical[j]:
            return unique if allowed_codes is None else unique[np.isin(unique, allowed_codes)]
        return unique[(unique >= self.low[j]) & (unique <= self.high[j])]

    # the desired outcome --------------------------------------------------------------------
    def gap(self, outputs):
        """How far outputs are from the desired outcome (<= 0 when reached), and whether the model's decision
        reaches it."""
        if self.target[0] == "class":
            index = self.target[1]
            scores = outputs[:, :-1] if self.decision[0] == "column" else outputs
            wanted = scores[:, index]
            others = np.delete(scores, index, axis=1)
            gap = others.max(axis=1) - wanted if others.shape[1] else -wanted
            if self.decision[0] == "threshold":
                _, column, value, above, below = self.decision
                if index == above:
                    return value - scores[:, column], scores[:, column] >= value
                if index == below:
                    return scores[:, column] - value, scores[:, column] < value
            return gap, self.decisions_of(outputs) == index
        _, low, high = self.target
        value = outputs[:, 0]
        gap = np.maximum(low - value, value - high)
        return gap, (value >= low) & (value <= high)

    def decisions_of(self, outputs):
        """The model's decisions (positions of classes) read from its outputs with the decision rule."""
        return decisions_from(self.decision, outputs)

    @property
    def n_scores(self):
        """Outputs that are the model's scores (without a column of decisions)."""
        return self.n_outputs - 1 if self.decision is not None and self.decision[0] == "column" else self.n_outputs

    # changes a row may make -------------------------------------------------------------------
    def _permitted(self, j, x_j, values):
        """Values of column j (other than x_j) a row with value x_j may move to."""
        if np.isnan(x_j):
            return values
        keep = values != x_j
        if self.direction[j] == INCREASE:
            keep &= values > x_j
        elif self.direction[j] == DECREASE:
            keep &= values < x_j
        return values[keep]

    def row_changes(self, x):
        """Columns and values of every single change the search may make to row ``x``."""
        columns, values = [], []
        for j in np.flatnonzero(self.mutable):
            grid = self.grid[j]
            if not self.categorical[j] and not np.isnan(x[j]):
                observed = self.observed[j]
                at = np.searchsorted(observed, x[j])
                near = observed[max(at - 2, 0):at + 3]  # the closest observed values on either side
                grid = np.union1d(grid, near)
            permitted = self._permitted(j, x[j], grid)
            columns.append(np.full(permitted.size, j, dtype=np.int64))
            values.append(permitted)
        if not columns:
            return np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)

    def change_costs(self, x, columns, values):
        """Cost of each change ``x[columns[i]] -> values[i]``: the column's cost times its distance."""
        columns = np.asarray(columns, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        origin = x[columns]
        with np.errstate(invalid="ignore"):
            numeric = np.abs(values - origin) / self.scale[columns]
        distances = np.where(self.categorical[columns], (values != origin).astype(np.float64), numeric)
        missing = np.isnan(values) | np.isnan(origin)
        distances[missing] = (np.isnan(values) != np.isnan(origin))[missing].astype(np.float64)
        return self.costs[columns] * distances

    def values_between(self, column, a, b, count):
        """Up to ``count`` allowed observed values strictly between ``a`` and ``b``, evenly spaced by rank."""
        if self.categorical[column] or np.isnan(a) or np.isnan(b):
            return np.zeros(0)
        low, high = min(a, b), max(a, b)
        observed = self.observed[column]
        inside = observed[(observed > low) & (observed < high)]
        if inside.size <= count:
            return inside
        return inside[np.unique(np.linspace(0, inside.size - 1, count).round().astype(np.int64))]

    def neighbour_changes(self, x, n_neighbors, generator):
        """Changes towards the nearest rows with the desired outcome, and random mixes of them.

        Neighbours are ranked by the cost of the changes to their mutable values; for each, the
        changes the constraints allow form one candidate, and three random halves of them three more.
        """
        if n_neighbors == 0 or self.reference.shape[0] == 0 or self.n_mutable == 0:
            return []
        distances = column_distances(self.reference, x[None, :], np.zeros(self.reference.shape[0], np.int64),
                                     self.scale, self.categorical)
        ranking = distances @ self.ranking_weights
        nearest = np.argsort(ranking, kind="stable")[:n_neighbors]
        neighbours = self.reference[nearest]
        with np.errstate(invalid="ignore"):
            usable = self.reference_allowed[nearest] & self.mutable & (neighbours != x)
            if not np.isnan(x).all():
                known = ~np.isnan(x)
                up = (self.direction == INCREASE) & known
                down = (self.direction == DECREASE) & known
                usable &= ~(up & (neighbours < x)) & ~(down & (neighbours > x))
        candidates = []
        for k in range(neighbours.shape[0]):
            columns = np.flatnonzero(usable[k])
            if columns.size == 0:
                continue
            values = neighbours[k, columns]
            candidates.append((columns, values))
            if columns.size > 1:
                for _ in range(3):
                    keep = generator.random(columns.size) < 0.5
                    if keep.any():
                        candidates.append((columns[keep], values[keep]))
        return candidates

    # metrics --------------------------------------------------------------------------------
    def plausibility(self, rows):
        """Distance of each row to the nearest row of the data with the desired outcome."""
        return nearest_distances(np.ascontiguousarray(rows), self.reference, self.scale, self.categorical)

    def in_data_range(self, rows):
        """Whether every value of a row lies within the data's range (numbers) or observed values (categories)."""
        inside = np.ones(rows.shape[0], dtype=bool)
        for j in range(self.n_columns):
            values = rows[:, j]
            present = ~np.isnan(values)
            if self.categorical[j]:
                ok = np.isin(values, self.observed_all[j])
            else:
                ok = (values >= self.data_in_range_low[j]) & (values <= self.data_in_range_high[j])
            inside &= ok | ~present
        return inside
