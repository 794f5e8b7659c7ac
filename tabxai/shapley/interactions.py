"""Shapley interactions of order two (SII, k-SII, STII, FSII), model-agnostic, with standard errors.

The game is the interventional value function of :class:`~tabxai.KernelSHAP` (the masker's weighted
mean of the model over the background with the players of a coalition set to the explained row),
asked through the same engine. Each index is a linear function of the game, ``I(S) = sum_A
gamma_S(A) v(A)`` (see ``_indices.py``).

``n_coalitions="exact"`` evaluates all ``2**n`` coalitions and applies those weights. Otherwise the
coalitions are KernelSHAP's sample (complementary pairs stratified by size, small strata
enumerated, the rest drawn without replacement with Horvitz-Thompson weights ``1 / pi``), and the
estimate is a regression estimator of the generalised-regression (GREG) kind:

1. the order-two fit ``g(A) = sum_{S subset A, |S| <= 2} beta_S`` of ``y(A) = v(A) - v(empty)``
   by Shapley-kernel weighted least squares over the sample, with ``sum beta = v(N) - v(empty)``
   imposed (Regression-FSII, Tsai et al. 2023; its solution is the FSII of the sampled game);
2. the index of ``g``, exact in closed form (``g``'s Moebius transform is ``beta``), plus the
   Horvitz-Thompson estimate of the index of the residual game ``y - g``:
   ``I_hat = U beta + sum_A gamma(A) (y(A) - g(A)) / pi(A)``, ``U`` the index of unanimity games.

For FSII the correction is zero up to sampling error of the weights; for the other indices it
removes what the order-two fit misses (interactions of order three and more), without bias when
every coalition of a stratum is evaluated and with a bias of order 1/pairs otherwise, as any
ratio estimator. Since ``I_hat`` is linear in ``y`` with coalition coefficients
``a(A) = gamma(A) / pi(A) + w(A) q z_A`` (``w`` the kernel weight over ``pi``, ``q = (U - C_Z) P``,
``P`` the constrained projection), standard errors are the stratified without-replacement variance of
the pairs' ``a(A) e(A)`` with ``e`` the fit's residuals and a leverage (HC3) correction: the
GREG sandwich. Enumerated strata contribute no variance, so the errors vanish when every coalition
is evaluated. k-SII, STII and FSII of orders 1 and 2 add up to ``f(x) - E f`` exactly.
"""

from __future__ import annotations

import numpy as np

from .._engine import coalition_values, single_blas_thread
from .._kernels.interactions import index_weights, pair_design_normal_equations, pair_design_rows
from .._kernels.shapley import all_coalitions
from .._validation import check_choice, check_int, check_random_state, check_real, resolve_seed, row_generator
from .._masking_explainer import MaskingExplainer, RowResults, largest_relative_stderr
from ..interaction_explanation import InteractionExplanation
from ._indices import INDICES, IndexTables
from .kernel import _Design, _variance_groups, constrained_solve

__all__ = ["ShapleyInteractions"]

_AUTO_EXTRA = 2048
_MAX_EXACT_PLAYERS = 20
_EXACT_CHUNK = 4096  # coalitions whose index weights are held at once


class ShapleyInteractions(MaskingExplainer):
    """Shapley interaction values of order two for any model, with a standard error for each value.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted scikit-learn estimator or pipeline (classifiers explain ``predict_proba``), or a
        callable from rows to predictions.
    background : DataFrame, ndarray or IndependentMasker
        Reference rows in the model's own input format.
    index : {"k-SII", "SII", "STII", "FSII"}, default="k-SII"
        The interaction index, with shapiq's definitions: ``"SII"`` (Shapley interaction index;
        its order-one values are the Shapley values), ``"k-SII"`` (k-Shapley values: SII
        aggregated with Bernoulli numbers so that orders one and two add up to ``f(x) - E f``),
        ``"STII"`` (Shapley-Taylor: order one is the Moebius transform) and ``"FSII"``
        (Faith-Shap: the best order-two approximation of the game in the Shapley-kernel norm).
    max_order : int, default=2
        Highest order of the interactions; only 2 is supported (values are player x player
        matrices).
    n_coalitions : int, "auto" or "exact", default="auto"
        Coalitions evaluated per explained row, besides the empty and the full one; each costs
        ``n_background`` model rows. ``"exact"`` enumerates all ``2**n_players`` (at most 20
        players). ``"auto"`` is ``4 * n_interactions + 2048`` (``n_interactions = n (n + 1) / 2``),
        and every coalition when there are fewer. At least ``2 * n_interactions + 2``.
    output : class label or int, default=None
        Explain one output (e.g. the probability of class ``"bad"``); default all outputs.
    feature_groups : dict or list, default=None
        Players made of several columns, e.g. ``{"address": ["city", "zip"]}``.
    random_state : int, Generator or None, default=0
        Seed of the coalition sample. Each row draws from its own generator keyed by its index.
    n_jobs : int, default=1
        Explained rows run in this many parallel jobs (joblib); results do not depend on it.
    tol : float, default=None
        Sample in rounds and stop a row once its largest standard error is at most ``tol`` times
        the spread of its values (or when ``n_coalitions`` are spent).
    link : {None, "logit"}, default=None
        ``"logit"``: explain probabilities on the log-odds scale.
    background_weights : array-like, default=None
        Weights of the background rows.
    max_rows : int, default=None
        Most rows per model call (default 32,768); bounds memory, never changes results.
    progress : bool, default=None
        Show a progress bar; default only for long jobs in a terminal or notebook.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> def model(rows):
    ...     return rows[:, 0] * rows[:, 1] + rows[:, 2]
    >>> ie = ShapleyInteractions(model, X, n_coalitions="exact").explain(X[:2])
    >>> ie.values.shape
    (2, 3, 3)
    >>> total = np.triu(ie.values).sum(axis=(1, 2))
    >>> bool(np.allclose(ie.base_values + total, model(X[:2])))
    True
    >>> bool(np.allclose(ie.values[:, 0, 2], 0.0))  # x0 and x2 do not interact
    True
    """

    def __init__(self, model, background, *, index="k-SII", max_order=2, n_coalitions="auto", output=None,
                 feature_groups=None, random_state=0, n_jobs=1, tol=None, link=None, background_weights=None,
                 max_rows=None, progress=None):
        self.index = check_choice(index, "index", INDICES)
        if isinstance(max_order, (bool, np.bool_)) or max_order != 2:
            raise ValueError(f"`max_order` must be 2 (values are player x player matrices of orders one and two); "
                             f"got {max_order!r}")
        self.max_order = 2
        check_int(n_coalitions, "n_coalitions", min_value=1, allowed=("auto", "exact"))
        self.n_coalitions = n_coalitions
        self.tol = check_real(tol, "tol", min_value=0, min_inclusive=False, allowed=(None,))
        check_random_state(random_state)
        self.random_state = random_state
        super().__init__(model, background, feature_groups=feature_groups, output=output, link=link,
                         background_weights=background_weights, max_rows=max_rows, n_jobs=n_jobs,
                         progress=progress)

    def _check_players(self, n_players):
        if n_players < 2:
            raise ValueError(f"Shapley interactions need at least 2 players; got {n_players} "
                             "(one column, or every column in one feature group)")
        n_interactions = n_players * (n_players + 1) // 2
        every = 2 ** n_players - 2 if n_players < 62 else np.inf
        if self.n_coalitions == "exact":
            if n_players > _MAX_EXACT_PLAYERS:
                raise ValueError(f"n_coalitions='exact' enumerates 2**n_players coalitions; {n_players} players would "
                                 f"need {2 ** n_players:,} per explained row (at most {_MAX_EXACT_PLAYERS} players). "
                                 "Use n_coalitions='auto' (sampled, with standard errors) or feature_groups")
            budget = every
        else:
            minimum = min(2 * n_interactions + 2, every)
            budget = check_int(self.n_coalitions, "n_coalitions", min_value=minimum, allowed=("auto", "exact"))
            if budget == "auto":
                budget = 4 * n_interactions + _AUTO_EXTRA
        self._tables = IndexTables(self.index, n_players)
        self._design = _Design(n_players, int(min(budget, every)))  # pairs in proportion to the strata's kernel mass
        self._exact = self.n_coalitions == "exact"

    def _seed(self):
        return None if self._exact else resolve_seed(self.random_state)

    def _parameters(self):
        return {**super()._parameters(), "index": self.index, "max_order": self.max_order,
                "n_coalitions": self.n_coalitions, "tol": self.tol,
                "coalitions_per_row": 2 ** self._players.n_players if self._exact else 2 * self._design.n_units}

    def _block_size(self, masker):
        if self._exact:
            return max(1, self._model.max_rows // 2 ** self._players.n_players)
        return None

    def explain(self, X):
        """Interaction values of the rows of ``X``.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_rows, n_columns)
            Rows in the same format as the background.

        Returns
        -------
        InteractionExplanation
        """
        run = self._run(X)
        n_rows, base = run.codes.shape[0], self._base_values
        values, stderr = run.values, run.stderr
        if n_rows == 0:
            n = self._players.n_players
            values = np.zeros((0, n, n, base.shape[0]))
            stderr = None if self._exact else values.copy()
        # the provenance and data of an Explanation of the same run (its values: the diagonal)
        proxy = self._explanation(X, run._replace(values=np.diagonal(values, axis1=1, axis2=2).transpose(0, 2, 1),
                                                  stderr=None),
                                  np.broadcast_to(base, (n_rows, base.shape[0])), run.info)
        return InteractionExplanation(values, proxy._base, proxy._data, proxy._feature_names, proxy._output_names,
                                      stderr=stderr, params=proxy.params, diagnostics=run.info, groups=proxy.groups,
                                      single_output=proxy._dropped["outputs"])

    def _explain_rows(self, model, masker, codes, seed, progress, row_indices):
        rows = codes[row_indices]
        if self._exact:
            return self._exact_rows(model, masker, rows, progress)
        return self._sampled_rows(model, masker, rows, seed, progress, row_indices)

    def _exact_rows(self, model, masker, rows, progress):
        tables = self._tables
        n_players = tables.n_players
        coalitions = all_coalitions(n_players)
        n_coalitions, n_rows = len(coalitions), len(rows)
        pair_row = np.repeat(np.arange(n_rows, dtype=np.int64), n_coalitions)
        pair_mask = np.tile(np.arange(n_coalitions, dtype=np.int64), n_rows)
        values = coalition_values(model, masker, rows, coalitions, pair_row, pair_mask, progress=progress)
        values = values.reshape(n_rows, n_coalitions, -1) - self._base_values
        result = np.zeros((n_rows, tables.n_interactions, values.shape[2]))
        with single_blas_thread():  # the same sums whatever n_jobs
            for start in range(0, n_coalitions, _EXACT_CHUNK):  # I(S) = sum_A gamma_S(A) (v(A) - v(empty))
                stop = min(start + _EXACT_CHUNK, n_coalitions)
                weights = index_weights(coalitions[start:stop], tables.coalition, tables.first, tables.second)
                result += np.einsum("ad,rak->rdk", weights, values[:, start:stop])
        matrices = tables.to_matrix(result)
        info = {"n_coalitions": np.full(n_rows, n_coalitions, dtype=np.int64),
                "stopped_by": np.array(["exact"] * n_rows, dtype=object)}
        return RowResults(matrices, None, n_rows * n_coalitions * masker.rows_per_pair, info)

    def _sampled_rows(self, model, masker, rows, seed, progress, row_indices):
        design, tables = self._design, self._tables
        n_rows, n_outputs = len(rows), self._base_values.shape[0]
        # f(x) - E f, from the full coalition asked in the first request (no separate small model call)
        delta = np.zeros((n_rows, n_outputs))
        generators = [row_generator(seed, index) for index in row_indices]
        plans = [design.plan(generator) for generator in generators]
        n_units = design.n_units
        schedule = (_schedule(n_units, tables.n_interactions) if self.tol is not None and not design.exact
                    else [n_units])
        used = np.zeros(n_rows, dtype=np.int64)
        done = np.zeros(n_rows, dtype=bool)
        values = [np.zeros((0, n_outputs)) for _ in range(n_rows)]
        estimate = np.zeros((n_rows, tables.n_interactions, n_outputs))
        stderr = np.zeros_like(estimate)
        model_rows = 0
        for target in schedule:
            active = np.flatnonzero(~done)
            batches = [plans[i][0][used[i]:target] for i in active]
            coalitions = np.concatenate([np.concatenate([b, ~b]) for b in batches])
            pair_row = np.repeat(active, [2 * len(b) for b in batches])
            first = target == schedule[0]
            if first:
                coalitions = np.concatenate([coalitions, np.ones((n_rows, tables.n_players), dtype=bool)])
                pair_row = np.concatenate([pair_row, np.arange(n_rows)])
            new = coalition_values(model, masker, rows, coalitions, pair_row, np.arange(len(coalitions)),
                                   progress=progress) - self._base_values
            model_rows += len(coalitions) * masker.rows_per_pair
            if first:
                delta, new = new[-n_rows:], new[:-n_rows]
            start = 0
            with single_blas_thread():  # estimates independent of n_jobs to the last bit
                for i, batch in zip(active, batches):
                    half = len(batch)
                    block = new[start:start + 2 * half]
                    start += 2 * half
                    old = values[i]
                    values[i] = np.concatenate([old[:len(old) // 2], block[:half], old[len(old) // 2:], block[half:]])
                    used[i] = target
                    estimate[i], stderr[i] = _estimate(plans[i][0][:target], plans[i][1][:target], values[i],
                                                       design, tables, delta[i])
            if self.tol is not None:
                done |= largest_relative_stderr(estimate, stderr) <= self.tol
            if done.all():
                break
        info = {"n_coalitions": 2 * used}
        if design.exact:
            info["stopped_by"] = np.array(["exact"] * n_rows, dtype=object)
        else:
            info["stopped_by"] = np.where(done, "tol", "budget").astype(object)
        if self.tol is not None:
            info["converged"] = largest_relative_stderr(estimate, stderr) <= self.tol
        return RowResults(tables.to_matrix(estimate), tables.to_matrix(stderr), model_rows, info)


def _schedule(n_units, n_interactions):
    """Pairs evaluated after each round when ``tol`` is set: a first round, then growth by a quarter."""
    targets = [min(n_units, max(2 * n_interactions, 64))]
    while targets[-1] < n_units:
        targets.append(min(n_units, targets[-1] + max(64, targets[-1] // 4)))
    return targets


def _estimate(members, strata, values, design, tables, delta):
    """Index estimate and standard errors ``(n_interactions, n_outputs)`` from the first ``len(members)`` pairs.

    ``values`` (2 * pairs, n_outputs) are ``v(A) - v(empty)`` for ``A = members`` then ``N - members``.
    """
    n_pairs = len(members)
    coalitions = np.ascontiguousarray(np.concatenate([members, ~members]))
    counts = np.bincount(strata, minlength=len(design.units))
    weights = np.tile(design.pair_weights(strata, counts), 2)  # Shapley kernel weight / inclusion probability
    inverse_probability = np.tile(design.units[strata] / counts[strata], 2)
    position = np.zeros((tables.n_players, tables.n_players), dtype=np.int64)
    position[tables.first, tables.second] = np.arange(tables.n_interactions)
    gram, moment = pair_design_normal_equations(coalitions, weights, values, position)
    beta, projection = constrained_solve(gram, moment, delta)
    design_rows = pair_design_rows(coalitions, tables.first, tables.second)
    residuals = values - design_rows @ beta
    gamma = index_weights(coalitions, tables.coalition, tables.first, tables.second) * inverse_probability[:, None]
    estimate = tables.unanimity @ beta + gamma.T @ residuals
    # linearisation: coefficient of each coalition's y in the estimate, applied to the residuals
    correction = (tables.unanimity - gamma.T @ design_rows) @ projection
    coefficients = gamma + weights[:, None] * (design_rows @ correction.T)
    leverage = weights * ((design_rows @ projection) * design_rows).sum(axis=1)
    leverage = np.minimum(leverage[:n_pairs] + leverage[n_pairs:], 0.99)
    scores = coefficients[:, :, None] * residuals[:, None, :]
    totals = (scores[:n_pairs] + scores[n_pairs:]) / np.sqrt(1 - leverage)[:, None, None]
    variance = np.zeros(estimate.shape)
    for group in _variance_groups(counts, design.units):
        in_group = np.isin(strata, group)
        size = int(in_group.sum())
        sampled = counts[group].sum() / design.units[group].sum()
        part = totals[in_group]
        if size > 1:
            variance += size / (size - 1) * (1 - sampled) * ((part - part.mean(axis=0)) ** 2).sum(axis=0)
        else:  # a single pair: its second moment, a conservative stand-in for the variance
            variance += (part ** 2).sum(axis=0)
    return estimate, np.sqrt(variance)
