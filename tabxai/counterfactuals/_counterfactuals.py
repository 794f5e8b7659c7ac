"""Counterfactual explanations and recourse: what would have to change for the model to decide otherwise.

:class:`Counterfactuals` searches, for each explained row, the cheapest changes that make the model
reach a desired outcome (a class, or a range of a regressor's output or of a probability), under the
constraints of a person who must act on them: immutable features, features that may only increase
or decrease, allowed ranges or category sets, and feature costs. The search asks the model about
many candidate rows at once through the engine and proposes only values observed in the data; see
``tabxai.counterfactuals._search`` for the stages.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ._problem import DECREASE, INCREASE, Problem, decisions_from
from ._search import CHANGE_PENALTY, MAX_LEVELS, choose_diverse, search_rows
from .._engine import map_row_blocks, predict
from .._kernels.counterfactuals import mean_pairwise_distance
from .._provenance import package_versions
from .._validation import check_bool, check_int, check_n_jobs, check_real, resolve_seed, row_generator
from ..data import CATEGORICAL, NUMERIC, TabularSchema
from ..model import as_model
from .recourse import Recourse

__all__ = ["Counterfactuals"]


class Counterfactuals:
    """Counterfactual explanations under actionability constraints, from the prediction function alone.

    For a row ``x`` a counterfactual is a row ``x'`` that the model maps to the ``desired`` outcome.
    Its cost (``proximity``) is ``sum_j cost_j * d_j(x_j, x'_j)``, where ``d_j`` is the absolute
    difference divided by the column's median absolute deviation in ``X`` for a number, and 0 or 1
    for a category (Wachter et al. 2017; the scaling of DiCE, Mothilal et al. 2020). The search
    proposes only values observed in ``X``, changes only what the constraints allow, and returns up
    to ``n`` cheap counterfactuals per row that differ in which features they change, ranked by
    proximity plus 2 per changed feature (so, among near equals, the one that changes less).

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted scikit-learn estimator or pipeline, or any callable from rows to predictions.
    X : DataFrame or ndarray of shape (n_rows, n_columns)
        Data the counterfactual values are drawn from (typically the training data): its observed
        values, its scales (median absolute deviations) and its rows with the desired outcome.
    desired : class label or (low, high)
        A class of a classifier, reached when the model's own decision is that class (an estimator's
        ``predict``, thresholds of ``FixedThresholdClassifier`` and the like included; a callable's
        ``decision`` given to :func:`tabxai.as_model`, else its largest output), or an interval of
        the model's output (a regressor's prediction, or with ``output=`` one class's probability);
        ``None`` for an open end.
    immutable : sequence of column names, default=()
        Columns that may not change (e.g. ``"personal_status_sex"``, ``"foreign_worker"``).
    monotone : dict, default=None
        ``{column: "increase" | "decrease"}``: the column may only move that way (a number, a
        boolean, or an ordered categorical).
    ranges : dict, default=None
        ``{column: (low, high)}`` for a number (``None`` for an open end) or ``{column: [categories]}``:
        the values a changed column may take. An unchanged value is always allowed.
    costs : dict, default=None
        ``{column: cost > 0}``: multiplies the column's distance (default 1).
    output : class label or int, default=None
        The model output ``desired`` refers to when it is an interval and the model has several.
    link : {None, "identity", "logit"}, default=None
        ``"logit"``: the model's probabilities as log-odds, so an interval ``desired`` is on that scale.
    beam_width : int, default=10
        States kept per level of the search over combined changes.
    n_neighbors : int, default=25
        Rows of ``X`` with the desired outcome used as templates per explained row.
    n_values : int, default=40
        Values per numeric column in the search grid: ``n_values`` quantiles of ``X`` and
        ``n_values // 2`` of its distinct values evenly by rank, before the refinement that moves
        each changed number back towards the row over all observed values.
    max_rows : int, default=None
        Most rows per model call (default 32,768); never changes results.
    n_jobs : int, default=None
        Explained rows in parallel (joblib); results do not depend on it.
    random_state : None, int or numpy Generator, default=None
        Seed of the random mixes of neighbours' changes (one generator per explained row).
    progress : bool, default=None
        Show a progress bar; default only for long jobs in a terminal or notebook.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"income": rng.integers(10, 100, 300), "debt": rng.integers(0, 50, 300)})
    >>> model = LogisticRegression().fit(X, X["income"] - 2 * X["debt"] > 0)
    >>> cf = Counterfactuals(model, X, desired=True, monotone={"income": "increase"}, random_state=0)
    >>> result = cf.explain(X[model.predict(X) == False].head(2), n=2)
    >>> bool(result.to_frame()["valid"].all())
    True
    """

    def __init__(self, model, X, *, desired, immutable=(), monotone=None, ranges=None, costs=None, output=None,
                 link=None, beam_width=10, n_neighbors=25, n_values=40, max_rows=None, n_jobs=None,
                 random_state=None, progress=None):
        self.beam_width = check_int(beam_width, "beam_width", min_value=1)
        self.n_neighbors = check_int(n_neighbors, "n_neighbors", min_value=0)
        self.n_values = check_int(n_values, "n_values", min_value=2)
        self.n_jobs = check_n_jobs(n_jobs)
        self.progress = check_bool(progress, "progress", allow_none=True)
        self.random_state = random_state
        if not isinstance(random_state, np.random.Generator):
            resolve_seed(random_state)  # checks it
        self.desired = desired
        self._desired_range = _check_desired_form(desired)
        adapter = as_model(model, output=output, max_rows=max_rows, link=link)
        self.schema = TabularSchema.from_data(X, what="X")
        codes = self.schema.encode(X, what="X")
        if codes.shape[0] == 0:
            raise ValueError("X has no rows")
        constraints = _check_constraints(self.schema, codes, immutable, monotone, ranges, costs)
        self._model = adapter.bind(self.schema, sample=codes)
        target = _resolve_target(desired, self._desired_range, self._model)
        self.output_names = self._model.output_names
        search_model, outputs, decision = _search_model(self._model, codes, target, self.progress)
        self._search_model = search_model
        self._constraints = constraints
        self._problem = Problem(search_model, codes, constraints["categorical"], constraints["mutable"],
                                constraints["direction"], constraints["low"], constraints["high"],
                                constraints["allowed_codes"], constraints["costs"], target, self.n_values, outputs,
                                decision)
        self._parameters = {
            "desired": desired, "immutable": [self.schema.names[j] for j in np.flatnonzero(~constraints["mutable"])],
            "monotone": dict(monotone or {}), "ranges": dict(ranges or {}), "costs": dict(costs or {}),
            "output": output, "link": link, "beam_width": self.beam_width, "n_neighbors": self.n_neighbors,
            "n_values": self.n_values, "max_rows": self._model.max_rows,
        }

    def explain(self, rows, n=5):
        """Counterfactuals of ``rows``: up to ``n`` per row, ranked by proximity plus 2 per changed feature.

        Parameters
        ----------
        rows : DataFrame or ndarray with the columns of ``X``
            Rows whose outcome is not the desired one.
        n : int, default=5
            Most counterfactuals per row.

        Returns
        -------
        Recourse
            ``to_frame()`` gives one line per counterfactual; rows without a counterfactual under
            the constraints say so in ``status`` and ``messages``.

        Raises
        ------
        ValueError
            When a row already reaches the desired outcome, or ``rows`` lacks columns of ``X``.
        """
        n = check_int(n, "n", min_value=1)
        schema = self.schema.extended(rows, what="rows")
        codes = schema.encode(rows, what="rows")
        problem = self._problem
        model = self._model
        if schema is not self.schema:
            problem = copy.copy(self._problem)
            problem.model = self._search_model.bind(schema)
            model = self._model.bind(schema)
        decider = model.decisions() if problem.target[0] == "class" else None
        seed = resolve_seed(self.random_state)
        current = predict(problem.model, codes) if codes.shape[0] else np.zeros((0, problem.n_outputs))
        reached = _reached(problem, decider, codes, current)
        if reached.any():
            where = np.flatnonzero(reached)
            raise ValueError(
                f"rows {where[:10].tolist()}{' ...' if where.size > 10 else ''} already reach the desired outcome "
                f"{_describe_target(self.desired, self.output_names, problem.target)}; explain rows with another "
                "outcome (e.g. rows[model.predict(rows) != desired])")
        beam_width, n_neighbors, progress = self.beam_width, self.n_neighbors, self.progress

        def explain_block(indices):
            generators = [row_generator(seed, i) for i in indices]
            found = search_rows(problem, codes[indices], generators, n, beam_width=beam_width,
                                n_neighbors=n_neighbors, current=current[indices], progress=progress)
            return _select_checked(problem, decider, codes[indices], found, n)

        blocks = map_row_blocks(explain_block, codes.shape[0], self.n_jobs, progress=bool(progress))
        per_row = [item for block in blocks for item in block]
        cf_codes, row_index, outputs, proximity, sparsity, diversity = [], [], [], [], [], []
        statuses, messages = [], []
        for i, (chosen_rows, chosen_outputs, chosen_costs) in enumerate(per_row):
            cf_codes.append(chosen_rows)
            outputs.append(chosen_outputs)
            row_index.append(np.full(chosen_rows.shape[0], i, dtype=np.int64))
            proximity.append(chosen_costs)
            changed = _changed(chosen_rows, codes[i])
            sparsity.append(changed.sum(axis=1))
            diversity.append(mean_pairwise_distance(np.ascontiguousarray(chosen_rows), problem.scale,
                                                    problem.categorical))
            status, message = _status(problem, codes[i], chosen_rows.shape[0], n)
            statuses.append(status)
            messages.append(message)
        cf_codes = np.vstack(cf_codes) if cf_codes else np.zeros((0, schema.n_columns))
        outputs = np.vstack(outputs) if outputs else np.zeros((0, problem.n_outputs))
        # a class: every counterfactual kept was asked of the model again (_select_checked); a range: its output
        valid = np.ones(cf_codes.shape[0], dtype=bool) if decider is not None else problem.gap(outputs)[1]
        outputs = outputs[:, :problem.n_scores]
        target = problem.target
        params = {
            "method": "counterfactuals",
            "parameters": dict(self._parameters, n=n),
            "random_state": seed,
            "response": problem.model.method,
            "versions": package_versions(),
        }
        return Recourse(
            rows=schema.decode(codes, as_array=False), counterfactuals=schema.decode(cf_codes, as_array=False),
            row_index=np.concatenate(row_index) if row_index else np.zeros(0, np.int64),
            outputs=outputs, output=outputs[:, target[1]] if target[0] == "class" else outputs[:, 0],
            valid=valid, proximity=np.concatenate(proximity) if proximity else np.zeros(0),
            sparsity=np.concatenate(sparsity) if sparsity else np.zeros(0, np.int64),
            plausibility=problem.plausibility(cf_codes), in_range=problem.in_data_range(cf_codes),
            diversity=np.array(diversity, dtype=np.float64), status=statuses, messages=messages,
            outcome=_describe_target(self.desired, self.output_names, target), output_names=self.output_names,
            params=params,
        )


# --- validation ------------------------------------------------------------------------------------

def _check_desired_form(desired):
    """Whether ``desired`` is an interval (low, high); raises for an interval that is not one."""
    if isinstance(desired, (tuple, list)):
        if len(desired) != 2:
            raise ValueError(f"`desired` must be a class label or an interval (low, high); got {desired!r}")
        low = -np.inf if desired[0] is None else check_real(desired[0], "desired[0]", allowed=())
        high = np.inf if desired[1] is None else check_real(desired[1], "desired[1]")
        if not low < high:
            raise ValueError(f"`desired` interval must have low < high; got {desired!r}")
        if np.isinf(low) and np.isinf(high):
            raise ValueError("`desired` interval must bound at least one side; got (None, None)")
        return (low, high)
    if desired is None:
        raise ValueError("`desired` is required: a class label, or an interval (low, high) of the model's output")
    return None


def _resolve_target(desired, interval, model):
    names = model.output_names
    if interval is not None:
        if len(names) != 1:
            raise ValueError(
                f"`desired` is an interval but the model has {len(names)} outputs {list(names)}; choose one with "
                "`output=` (e.g. output=<class> for its probability)")
        return ("range", interval[0], interval[1])
    if model.method != "predict_proba" and model.owner is not None:
        raise ValueError(
            f"`desired` is a single value {desired!r}, which names a class, but the model answers with "
            f"{model.method}; give an interval of its output instead, e.g. desired=(low, high)")
    if len(names) < 2:
        raise ValueError(
            f"`desired` names a class ({desired!r}) but the model gives one output {list(names)}; to compare "
            "classes keep all outputs (output=None), or give an interval of this output, e.g. desired=(0.5, 1.0)")
    try:  # the one lookup of an output: a class label, or a position for a bare callable's outputs
        return ("class", model.output_index(desired))
    except ValueError:
        raise ValueError(f"`desired` must be one of the classes {list(names)}; got {desired!r}") from None


def _describe_target(desired, output_names, target):
    if target[0] == "class":
        return str(output_names[target[1]])
    low, high = target[1], target[2]
    if np.isinf(low):
        return f"output <= {high:g}"
    if np.isinf(high):
        return f"output >= {low:g}"
    return f"output in [{low:g}, {high:g}]"


def _names(schema, value, what):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"`{what}` must be a dict {{column: ...}} or None; got {type(value).__name__}")
    for name in value:
        if name not in schema.names:
            raise ValueError(f"`{what}` names unknown column {name!r}; the columns are {list(schema.names)}")
    return value


def _check_constraints(schema, codes, immutable, monotone, ranges, costs):
    n_columns = schema.n_columns
    if isinstance(immutable, (str, bytes)) or not isinstance(immutable, (list, tuple, set, frozenset, pd.Index,
                                                                          np.ndarray)):
        raise TypeError(f"`immutable` must be a list of column names; got {immutable!r}")
    mutable = np.ones(n_columns, dtype=bool)
    for name in immutable:
        if name not in schema.names:
            raise ValueError(f"`immutable` names unknown column {name!r}; the columns are {list(schema.names)}")
        mutable[schema.position(name)] = False
    monotone = _names(schema, monotone, "monotone")
    ranges = _names(schema, ranges, "ranges")
    costs = _names(schema, costs, "costs")
    categorical = np.array([c.kind != NUMERIC for c in schema.columns])
    direction = np.zeros(n_columns, dtype=np.int64)
    for name, way in monotone.items():
        j = schema.position(name)
        if not mutable[j]:
            raise ValueError(f"column {name!r} is both immutable and monotone; give one constraint")
        if way not in ("increase", "decrease"):
            raise ValueError(f"`monotone[{name!r}]` must be 'increase' or 'decrease'; got {way!r}")
        column = schema.columns[j]
        if column.kind == CATEGORICAL and not getattr(column.dtype, "ordered", False):
            raise ValueError(
                f"`monotone[{name!r}]`: column {name!r} is an unordered category, so it has no direction; "
                "make it an ordered pandas Categorical, or use `ranges` to list the categories it may take")
        direction[j] = INCREASE if way == "increase" else DECREASE
    low = np.full(n_columns, -np.inf)
    high = np.full(n_columns, np.inf)
    allowed_codes = [None] * n_columns
    for name, allowed in ranges.items():
        j = schema.position(name)
        column = schema.columns[j]
        if not mutable[j]:
            raise ValueError(f"column {name!r} is both immutable and given a range; give one constraint")
        observed = codes[:, j][~np.isnan(codes[:, j])]
        if column.kind == NUMERIC:
            if not isinstance(allowed, (tuple, list)) or len(allowed) != 2:
                raise ValueError(f"`ranges[{name!r}]` must be (low, high) for a numeric column; got {allowed!r}")
            lo = -np.inf if allowed[0] is None else check_real(allowed[0], f"ranges[{name!r}][0]")
            hi = np.inf if allowed[1] is None else check_real(allowed[1], f"ranges[{name!r}][1]")
            if lo > hi:
                raise ValueError(f"`ranges[{name!r}]` has low > high: {allowed!r}")
            if not ((observed >= lo) & (observed <= hi)).any():
                raise ValueError(
                    f"`ranges[{name!r}]` = {allowed!r} holds no value of {name!r} in X (observed "
                    f"{observed.min():g} to {observed.max():g}); counterfactual values are drawn from the data")
            low[j], high[j] = lo, hi
        else:
            if isinstance(allowed, (str, bytes)) or not isinstance(allowed, (list, tuple, set, frozenset)):
                raise ValueError(f"`ranges[{name!r}]` must be a list of categories for column {name!r}; got "
                                 f"{allowed!r}")
            if len(allowed) == 0:
                raise ValueError(f"`ranges[{name!r}]` is empty; list the categories {name!r} may take")
            known = list(column.categories) if column.kind == CATEGORICAL else [False, True]
            picked = []
            for value in allowed:
                matches = [k for k, c in enumerate(known) if c == value]
                if not matches:
                    raise ValueError(f"`ranges[{name!r}]` has {value!r}, not a category of {name!r} in X: {known}")
                picked.append(matches[0])
            if not np.isin(picked, observed).any():
                raise ValueError(f"`ranges[{name!r}]` lists no category observed in X")
            allowed_codes[j] = np.array(picked, dtype=np.float64)
    cost = np.ones(n_columns)
    for name, value in costs.items():
        cost[schema.position(name)] = check_real(value, f"costs[{name!r}]", min_value=0, min_inclusive=False)
    if not mutable.any():
        raise ValueError("every column is immutable: no counterfactual can change anything")
    return {"mutable": mutable, "categorical": categorical, "direction": direction, "low": low, "high": high,
            "allowed_codes": allowed_codes, "costs": cost}


# --- the model's decisions -----------------------------------------------------------------------

def _search_model(model, codes, target, progress):
    """The model the search asks, its outputs on the data, and how they give the model's decisions.

    For a class target the search needs the model's own decision of every candidate. When the model's
    decision rule (largest probability, or a threshold classifier's threshold) gives the decisions of
    ``predict`` on every row of the data, the search reads decisions from the outputs; otherwise (a custom
    ``predict`` or ``decision``) it asks the model for its decisions beside its outputs."""
    outputs = predict(model, codes, progress=progress)
    if target[0] != "class":
        return model, outputs, None
    rule = model.decision_rule()
    decisions = predict(model.decisions(), codes)[:, 0].astype(np.int64)
    if rule is not None and np.array_equal(decisions_from(rule, outputs), decisions):
        return model, outputs, rule
    search_model = model.with_decisions()
    return search_model, predict(search_model, codes, progress=progress), ("column",)


def _reached(problem, decider, codes, outputs):
    """Whether rows reach the desired outcome: for a class, the model's own decision, asked again."""
    if decider is None or codes.shape[0] == 0:
        return problem.gap(outputs)[1]
    return predict(decider, codes)[:, 0].astype(np.int64) == problem.target[1]


def _select_checked(problem, decider, xs, found, n):
    """:func:`_select` for each row of a block, keeping only counterfactuals the model itself approves.

    The chosen counterfactuals of the whole block are asked of the model again in one call; a row with one
    the model does not approve chooses again without it (rare: only where the decision rule the search
    read from the outputs differs from the model's decision off the data)."""
    candidates = list(found)
    chosen = [_select(problem, x, *c, n) for x, c in zip(xs, candidates)]
    pending = [] if decider is None else [i for i, c in enumerate(chosen) if c[0].shape[0]]
    while pending:
        stacked = np.vstack([chosen[i][0] for i in pending])
        ok = _reached(problem, decider, stacked, None)
        sizes = np.cumsum([chosen[i][0].shape[0] for i in pending])[:-1]
        retry = []
        for i, approved in zip(pending, np.split(ok, sizes)):
            if approved.all():
                continue
            rows, outputs, costs = candidates[i]
            wrong = chosen[i][0][~approved]
            keep = ~np.array([any(np.array_equal(row, bad, equal_nan=True) for bad in wrong) for row in rows])
            candidates[i] = (rows[keep], outputs[keep], costs[keep])
            chosen[i] = _select(problem, xs[i], *candidates[i], n)
            if chosen[i][0].shape[0]:
                retry.append(i)
        pending = retry
    return chosen


# --- selection and status ----------------------------------------------------------------------------

def _changed(rows, x):
    same = (rows == x[None, :]) | (np.isnan(rows) & np.isnan(x)[None, :])
    return ~same


def _select(problem, x, rows, outputs, costs, n):
    """Up to ``n`` counterfactuals in rank order (see ``choose_diverse``)."""
    if rows.shape[0] == 0:
        return rows, outputs, costs
    changed = _changed(rows, x)
    sets = [frozenset(np.flatnonzero(c).tolist()) for c in changed]
    chosen = np.array(choose_diverse(sets, costs + CHANGE_PENALTY * changed.sum(axis=1), n), dtype=np.int64)
    chosen = chosen[np.lexsort((chosen, (costs + CHANGE_PENALTY * changed.sum(axis=1))[chosen]))]
    return rows[chosen], outputs[chosen], costs[chosen]


def _status(problem, x, found, n):
    if found == n:
        return "found", f"{found} counterfactual{'s' if found > 1 else ''} found"
    if found > 0:
        return "partial", (f"only {found} of {n} counterfactuals found under the constraints (other changes the "
                           "search found were not needed to reach the outcome and were reverted)")
    if problem.row_changes(x)[0].size == 0:
        return "no_actions", ("no feature of this row may change under the constraints (immutable, monotone and "
                              "ranges leave no value of the data to move to)")
    levels = min(problem.n_mutable, MAX_LEVELS)
    return "not_found", ("no counterfactual reaching the desired outcome was found under the constraints: no "
                         f"combination of changes the search tried (up to {levels} features at a time, and the "
                         "nearest rows of X with the desired outcome) reaches it")
