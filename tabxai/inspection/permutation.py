"""Permutation importance of features and feature groups, on any model, with any scorer.

The importance of a feature (or a group of columns, permuted together) is the drop in score when
its values are shuffled among the rows (Breiman 2001; Fisher et al. 2019). Each (feature, repeat)
pair is a task: its rows are the data with the feature's columns permuted. A Numba kernel builds the
rows of consecutive tasks and the engine streams them through the model adapter in calls of up to
``max_rows`` rows, so the model sees large batches instead of one call per (feature, repeat); the
scorer then gets each task's responses. Every task draws its permutation from its own seed, keyed by
its repeat and the feature's first column, so results do not depend on ``n_jobs``, ``max_rows`` or on
how columns are grouped.

Cheap models make the bookkeeping count: model calls hold whole tasks (as many as ``max_rows``
allows), the buffer keeps the data between calls so a task writes only its group's columns and
puts back the previous task's (the model gets the rows read-only), a permutation is an exact Fisher-Yates
shuffle in a kernel driven by one vectorised draw of raw random words, and when the data holds no missing or
infinite value scikit-learn estimators skip their finiteness scan of every call (permuted rows only
rearrange those values).
"""

from __future__ import annotations

import numbers
from functools import partial

import numpy as np
from sklearn import config_context

from .._engine import map_row_blocks, stream_rows
from .._kernels.inspection import fill_permuted_rows, shuffled_indices
from .._provenance import package_versions
from .._validation import check_bool, check_int, check_n_jobs, check_real, resolve_seed, row_generator
from ..data import Players, align_targets
from ..model import as_model
from ._features import encode_data, sample_weights
from ._results import PermutationImportance
from ._scoring import ResponseReplay, ScoredRows, direct_metric, resolve_scorer, response_models

__all__ = ["permutation_importance", "task_permutations"]

_CALL_BYTES = 8 * 2 ** 20  # rows per model call by default: whole tasks, up to 8 MiB of float64 rows


def permutation_importance(model, X, y, *, scoring=None, n_repeats=5, random_state=None, feature_groups=None,
                           sample_weight=None, max_samples=1.0, max_rows=None, n_jobs=None, progress=None):
    """Permutation importance: how much the score drops when a feature's values are shuffled.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted scikit-learn estimator or pipeline (the scorer may use its ``predict``,
        ``predict_proba`` or ``decision_function``), a bound method such as ``clf.predict_proba``
        (the only response it offers), or any callable from rows to predictions (its ``predict``).
    X : DataFrame or ndarray of shape (n_rows, n_columns)
        Data in the model's own input format (a raw DataFrame for a pipeline).
    y : array-like of shape (n_rows,) or (n_rows, n_targets)
        Targets of the rows.
    scoring : str, callable or None, default=None
        A scikit-learn scorer name (``"roc_auc"``, ``"neg_mean_squared_error"``, ...) or a callable
        ``scorer(estimator, X, y)`` such as ``sklearn.metrics.make_scorer(...)``; higher is better.
        A callable gets the rows as a placeholder that it must pass on to the estimator's methods
        unchanged. None: accuracy for classifiers, R2 otherwise (scikit-learn's ``score``).
    n_repeats : int, default=5
        Permutations per feature.
    random_state : None, int or Generator, default=None
        Seed of the permutations and subsamples; results are identical for the same seed whatever
        ``n_jobs`` and ``max_rows``.
    feature_groups : dict or list, default=None
        Columns permuted together, e.g. ``{"address": ["city", "zip"]}`` (names, or positions for
        an array); other columns are features of their own. A group of one column gives that
        column's importance exactly.
    sample_weight : array-like of shape (n_rows,), default=None
        Passed to the scorer.
    max_samples : int or float, default=1.0
        Rows used per repeat: a count, or a share of the rows in (0, 1]. Each repeat draws its own
        subsample and scores the baseline on it too (scikit-learn scores its baseline on all rows).
    max_rows : int, default=None
        Most rows per model call; never changes results. Default: as many whole (feature, repeat)
        tasks as 8 MiB of rows hold, and at least 32,768 rows.
    n_jobs : int, default=None
        (feature, repeat) tasks run in this many parallel jobs (joblib); results do not depend on it.
    progress : bool, default=None
        Show a progress bar; default only for long jobs in a terminal or notebook.

    Returns
    -------
    PermutationImportance
        ``importances`` of shape ``(n_features, n_repeats)``, their mean, standard deviation,
        standard error and confidence interval.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(2000, 2))
    >>> model = LinearRegression().fit(X, X @ [2.0, 0.0])
    >>> imp = permutation_importance(model, X, X @ [2.0, 0.0], scoring="neg_mean_squared_error",
    ...                              n_repeats=10, random_state=0)
    >>> imp.importances_mean.round(1).tolist() == [8.0, 0.0]  # 2 * coef**2 * var(x)
    True
    """
    n_repeats = check_int(n_repeats, "n_repeats", min_value=1)
    n_jobs = check_n_jobs(n_jobs)
    check_bool(progress, "progress", allow_none=True)
    seed = resolve_seed(random_state)
    adapter = as_model(model, max_rows=max_rows)
    schema, codes = encode_data(adapter, X)
    n_rows, n_columns = codes.shape
    targets = _targets(align_targets(X, y) if y is not None else None, n_rows)
    weights = sample_weights(sample_weight, n_rows)
    n_samples = _n_samples(max_samples, n_rows)
    players = Players(schema.names, _named_groups(schema, feature_groups))
    models, classes = response_models(model, adapter, schema, codes)
    replay = ResponseReplay(adapter.owner, models, classes)
    scorer, scoring_name = resolve_scorer(scoring, classes is not None)

    subsampled = n_samples < n_rows
    sample_rows = _sample_rows(seed, n_rows, n_samples, n_repeats, n_columns)
    group_masks = np.zeros((players.n_players + 1, n_columns), dtype=np.bool_)  # the last group: no column
    for g, columns in enumerate(players.columns):
        group_masks[g, list(columns)] = True
    plan = _Plan(codes, sample_rows, group_masks, targets, weights, scorer, replay, max_rows is None)

    # tasks (sample, group, seed key): the baseline of each sample, then every (feature, repeat)
    n_baselines = sample_rows.shape[0]
    baseline_tasks = [(s, players.n_players, -1) for s in range(n_baselines)]
    permuted_tasks = [(r if subsampled else 0, g, r * (n_columns + 1) + 1 + min(columns))
                      for g, columns in enumerate(players.columns) for r in range(n_repeats)]
    direct_name = scoring_name if scoring is None or isinstance(scoring, str) else None
    probe = plan.score_alone(baseline_tasks[0], direct_name, scoring_name, model)
    plan.methods = sorted(replay.used)
    tasks = np.array(baseline_tasks[1:] + permuted_tasks, dtype=np.int64).reshape(-1, 3)
    work = partial(plan.score_tasks, tasks, seed, progress if n_jobs == 1 else False)
    scores = np.concatenate([np.asarray(block, dtype=np.float64)
                             for block in map_row_blocks(work, len(tasks), n_jobs)])

    if subsampled:
        baseline = np.concatenate([[probe], scores[:n_baselines - 1]])
    else:
        baseline = np.full(n_repeats, probe)
    permuted = scores[n_baselines - 1:].reshape(players.n_players, n_repeats)
    importances = baseline[None, :] - permuted
    params = {
        "method": "permutation_importance",
        "parameters": {"scoring": scoring_name, "n_repeats": n_repeats, "feature_groups": feature_groups,
                       "sample_weight": weights is not None, "max_samples": max_samples, "n_samples": n_samples,
                       "max_rows": adapter.max_rows, "n_jobs": n_jobs},
        "random_state": seed,
        "responses": plan.methods,
        "direct_metric": plan.direct is not None,
        "model_rows": int((len(tasks) + 1) * n_samples * max(len(plan.methods), 1)),
        "versions": package_versions(),
    }
    return PermutationImportance(importances, baseline, players.names, scoring_name, params)


class _Plan:
    """The rows and scoring of permutation tasks ``(sample, group, seed key)``."""

    def __init__(self, codes, sample_rows, group_masks, targets, weights, scorer, replay, default_call_rows=True):
        self.codes = codes
        self.default_call_rows = default_call_rows
        self.columns = np.ascontiguousarray(codes.T)
        self.finite = bool(np.isfinite(codes).all())  # then so are the permuted rows
        self.sample_rows = sample_rows
        self.group_masks = group_masks
        self.targets = targets
        self.weights = weights
        self.scorer = scorer
        self.replay = replay
        self.methods = []
        self.direct = None

    @property
    def n_samples(self):
        return self.sample_rows.shape[1]

    @property
    def all_rows(self):
        """Every task uses all rows of the data, in order (no ``max_samples`` subsample)."""
        return self.sample_rows.shape[1] == self.codes.shape[0]

    def _permutation(self, seed, key):
        return task_permutations(seed, [key], self.n_samples)[0]

    def _fill(self, tasks, permutations, first, start, stop, out):
        unknown = np.full(1, -1, dtype=np.int64)  # a fresh buffer: whole rows are written
        fill_permuted_rows(self.columns, self.sample_rows, permutations, first, tasks[:, 0].copy(),
                           tasks[:, 1].copy(), self.group_masks, start, stop, out, unknown, unknown.copy(),
                           self.all_rows)

    def _score(self, sample, responses, build, validate=False):
        if self.all_rows:
            y, weights = self.targets, self.weights
        else:
            take = self.sample_rows[sample]
            y = self.targets[take]
            weights = None if self.weights is None else self.weights[take]
        if self.direct is not None and "predict" in responses:
            return self.direct(y, responses["predict"], weights)
        rows = ScoredRows(self.n_samples, self.codes.shape[1], responses, build)
        with config_context(skip_parameter_validation=not validate):  # as sklearn's permutation_importance
            score = self.scorer(self.replay, rows, y) if weights is None else \
                self.scorer(self.replay, rows, y, sample_weight=weights)
        if not isinstance(score, numbers.Real):
            raise TypeError(f"the scorer must return one number; got {type(score).__name__}")
        return float(score)

    def score_alone(self, task, direct_name, scoring_name, model):
        """Score one task with the scorer, asking for responses on demand (records which it uses).

        Then adopt the direct metric of ``direct_name`` if it gives the same score on this task.
        """
        tasks = np.array([task], dtype=np.int64)
        permutation = self._permutation(0, task[2])[None, :]

        def build():
            out = np.empty((self.n_samples, self.codes.shape[1]))
            self._fill(tasks, permutation, 0, 0, self.n_samples, out)
            return out

        responses = {}
        try:
            score = self._score(task[0], responses, build, validate=True)
        except AttributeError as exc:
            offered = " and ".join(sorted(self.replay.models))
            needed = getattr(self.scorer, "_response_method", None)
            if needed is not None:
                needed = " or ".join([needed] if isinstance(needed, str) else list(needed))
                reason = f"needs the model's {needed}"
            else:
                reason = f"asked the model for a response it does not offer ({exc})"
            raise ValueError(
                f"scoring {scoring_name!r} {reason}, but {_describe(model)} offers only {offered}. Use a "
                "classifier with predict_proba (or decision_function) for probability-based scorers, or choose "
                "another scoring") from None
        direct = direct_metric(direct_name, self.targets)
        if direct is not None and set(responses) == {"predict"}:
            self.direct = direct
            if abs(self._score(task[0], responses, build) - score) > 1e-12 * max(1.0, abs(score)):
                self.direct = None
        return score

    def _direct_targets(self):
        """What the direct metric compares the model's raw ``predict`` outputs with, or None.

        A classifier's ``predict`` comes as label positions: accuracy compares them with the positions of
        the targets (-1 for a target that is no class), sparing a label lookup per row; other metrics
        compare values with the targets.
        """
        if self.direct is None or self.methods != ["predict"]:
            return None
        classes = self.replay.classes
        if classes is None:
            return self.targets
        if self.direct is not direct_metric("accuracy", self.targets):
            return None
        import pandas as pd

        return pd.Index(np.asarray(classes)).get_indexer(self.targets).astype(np.float64)

    def score_tasks(self, tasks, seed, progress, indices):
        """Scores of ``tasks[indices]``: their rows for all responses in stacked model calls."""
        tasks = tasks[indices]
        m = self.n_samples
        n_tasks = len(tasks)
        if n_tasks == 0:
            return []
        methods = self.methods
        if not methods:  # the scorer asked for nothing: it gets its responses on demand
            return [self._score(t[0], {}, self._builder(tasks[u:u + 1], seed)) for u, t in enumerate(tasks)]
        split = {}  # the permutation of a task that straddles two model calls, for its second part

        def permutations(first, last):
            if first in split:
                orders = np.empty((last - first + 1, m), dtype=np.int64)
                orders[0] = split.pop(first)
                orders[1:] = task_permutations(seed, tasks[first + 1:last + 1, 2], m)
            else:
                orders = task_permutations(seed, tasks[first:last + 1, 2], m)
            split.clear()
            split[last] = orders[-1]
            return orders

        models = [self.replay.models[name] for name in methods]
        stacked = _Stacked(models, m, self.codes.shape[1] if self.default_call_rows else None)
        direct_targets = self._direct_targets()
        task_sample, task_group = tasks[:, 0].copy(), tasks[:, 1].copy()
        n_slots = max(1, stacked.max_rows // m)
        slots = (np.full(n_slots, -1, dtype=np.int64), np.full(n_slots, -1, dtype=np.int64))

        def fill(start, stop, out):
            first, last = start // m, (stop - 1) // m
            fill_permuted_rows(self.columns, self.sample_rows, permutations(first, last), first, task_sample,
                               task_group, self.group_masks, start, stop, out, *slots, self.all_rows)

        scores = []
        pending = {}

        def consume(outputs, start):
            stop = start + outputs.shape[0]
            for u in range(start // m, (stop - 1) // m + 1):
                lo, hi = max(start, u * m), min(stop, (u + 1) * m)
                if hi - lo == m:  # the whole task is in this chunk
                    block = outputs[lo - start:hi - start]
                else:  # a task split between chunks waits for its other part
                    if u not in pending:
                        pending[u] = np.empty((m, outputs.shape[1]))
                    pending[u][lo - u * m:hi - u * m] = outputs[lo - start:hi - start]
                    if hi < (u + 1) * m:
                        continue
                    block = pending.pop(u)
                if direct_targets is not None:  # raw outputs (label positions, values) straight into the metric
                    predicted = block[:, 0] if self.replay.classes is not None else \
                        self.replay.convert("predict", block)
                    scores.append(self._direct_score(tasks[u, 0], direct_targets, predicted))
                    continue
                responses = {name: self.replay.convert(name, part) for name, part in zip(methods, stacked.split(block))}
                scores.append(self._score(tasks[u, 0], responses, self._builder(tasks[u:u + 1], seed)))

        stream_rows(stacked, n_tasks * m, self.codes.shape[1], fill, consume, progress=progress, read_only=True,
                    order="F", finite=self.finite)
        return scores

    def _direct_score(self, sample, targets, predicted):
        if self.all_rows:
            return self.direct(targets, predicted, self.weights)
        take = self.sample_rows[sample]
        return self.direct(targets[take], predicted, None if self.weights is None else self.weights[take])

    def _builder(self, task, seed):
        def build():
            out = np.empty((self.n_samples, self.codes.shape[1]))
            self._fill(task, self._permutation(seed, task[0, 2])[None, :], 0, 0, self.n_samples, out)
            return out

        return build


class _Stacked:
    """Several response Models called on the same rows, outputs side by side, in calls of whole tasks.

    A call holds as many whole tasks of ``task_rows`` rows as the models' ``max_rows`` allows (or part
    of one task when a task is longer), so every task is scored from one call. With ``n_columns``
    (the user left ``max_rows`` to its default) a call may hold up to :data:`_CALL_BYTES` of rows
    when that is more: a cheap model pays its per-call checks fewer times.
    """

    def __init__(self, models, task_rows=1, n_columns=None):
        self.models = models
        max_rows = min(m.max_rows for m in models)
        if n_columns is not None:
            max_rows = max(max_rows, _CALL_BYTES // (8 * max(1, n_columns)) // task_rows * task_rows)
        self.max_rows = max_rows if max_rows < task_rows else max_rows // task_rows * task_rows
        self.widths = None

    def __call__(self, rows, first_row=0):
        outputs = [m(rows, first_row) for m in self.models]
        self.widths = [o.shape[1] for o in outputs]
        return outputs[0] if len(outputs) == 1 else np.hstack(outputs)

    def split(self, outputs):
        edges = np.cumsum([0] + self.widths)
        return [outputs[:, a:b] for a, b in zip(edges[:-1], edges[1:])]


def task_permutations(seed, keys, n_samples):
    """The permutation of each task key ``(len(keys), n_samples)``: the identity for a key < 0 (a baseline).

    Task ``key`` shuffles with the bit generator of ``row_generator(seed, key)``: its raw 64-bit
    words, drawn at once, drive an exact Fisher-Yates shuffle in a kernel (NumPy's
    ``Generator.permutation`` draws one bounded integer at a time, about 10 times slower: on a cheap
    model it cost a quarter of the job).
    """
    keys = np.asarray(keys, dtype=np.int64).ravel()
    drawn = keys >= 0
    if not drawn.all():
        out = np.empty((len(keys), n_samples), dtype=np.int64)
        out[~drawn] = np.arange(n_samples)
        out[drawn] = task_permutations(seed, keys[drawn], n_samples)
        return out
    out = np.empty((len(keys), n_samples), dtype=np.int64)
    n_words = n_samples // 2 + 16  # two draws per word, and spare words for Lemire's rare rejections
    bits = np.empty((len(keys), n_words), dtype=np.uint64)
    while True:
        for k, key in enumerate(keys):
            bits[k] = row_generator(seed, key).bit_generator.random_raw(n_words)
        if shuffled_indices(bits, out):
            return out
        n_words *= 2  # a row ran out of words (about never): the same streams, longer
        bits = np.empty((len(keys), n_words), dtype=np.uint64)


def _sample_rows(seed, n_rows, n_samples, n_repeats, n_columns):
    """Rows of each repeat ``(n_repeats, n_samples)``, or all rows ``(1, n_rows)`` shared by every repeat."""
    if n_samples == n_rows:
        return np.arange(n_rows, dtype=np.int64)[None, :]
    return np.stack([row_generator(seed, r * (n_columns + 1)).choice(n_rows, n_samples, replace=False)
                     for r in range(n_repeats)]).astype(np.int64)


def _describe(model):
    owner = getattr(model, "__self__", None)
    if owner is not None:
        return f"{type(owner).__name__}.{getattr(model, '__name__', 'method')}"
    return getattr(model, "__name__", None) if not hasattr(model, "fit") else type(model).__name__


def _named_groups(schema, feature_groups):
    """``feature_groups`` with column positions (ints that are not column names) replaced by names."""
    def name(member):
        if member not in schema.names and isinstance(member, numbers.Integral) and \
                not isinstance(member, (bool, np.bool_)) and 0 <= member < schema.n_columns:
            return schema.names[member]
        return member

    def named(members):
        if isinstance(members, (list, tuple, np.ndarray)):
            return [name(member) for member in members]
        return members

    if isinstance(feature_groups, dict):
        return {key: named(members) for key, members in feature_groups.items()}
    if isinstance(feature_groups, (list, tuple)):
        return [named(members) for members in feature_groups]
    return feature_groups


def _targets(y, n_rows):
    if y is None:
        raise ValueError("permutation_importance needs the targets `y` of the rows of X")
    targets = np.asarray(y)
    if targets.ndim == 0 or targets.ndim > 2:
        raise ValueError(f"`y` must be 1-D (or 2-D for several targets); got shape {targets.shape}")
    if targets.shape[0] != n_rows:
        raise ValueError(f"`y` has {targets.shape[0]} rows; X has {n_rows}. Give one target per row of X")
    return targets


def _n_samples(max_samples, n_rows):
    if isinstance(max_samples, numbers.Integral) and not isinstance(max_samples, (bool, np.bool_)):
        return check_int(max_samples, "max_samples", min_value=1, max_value=n_rows)
    share = check_real(max_samples, "max_samples", min_value=0.0, max_value=1.0, min_inclusive=False)
    return max(1, int(share * n_rows))
