"""Permutation sampling of Shapley values: antithetic, orthogonal, one permutation stream per background row.

The Shapley value of player ``i`` is its marginal contribution ``v(S + i) - v(S)`` averaged over
the orders of the players, ``S`` being the players before ``i`` (Castro et al. 2009). This module
samples orders with three devices, each keeping the estimate unbiased and exactly efficient:

- *antithetic pairs*: each order is used with its reverse, whose prefixes are the complements of
  the order's; a pair costs ``2 * (n - 1)`` coalitions and is exact for games whose interactions
  involve two players at most;
- *one stream per background row*: the interventional value ``v(S)`` is the weighted mean over the
  background rows ``b`` of ``v_b(S) = f(x_S, b_rest)``, and by linearity ``phi = sum_b w_b phi(v_b)``.
  Each background row follows its own orders instead of all rows sharing one, for the same model
  rows: the errors of the rows' estimates, which move together when they share an order, then
  average out (on job B of BENCHMARKS.md, at equal model rows, the error falls by about 40%);
- *orthogonal orders*: each background row's pairs come in blocks of ``n - 1`` orders mapped by
  ``argsort`` from an orthonormal basis of the centred space, so that their centred rank vectors
  are nearly orthogonal (Mitchell et al. 2022, "Sampling permutations for Shapley value
  estimation"). The basis is drawn once per explained row; each block relabels the players by a
  fresh random permutation.
  Every order is uniformly distributed, so the estimate stays unbiased (on job B the error falls
  by a further 15%).

Along any order the marginal contributions telescope to ``f(x) - f(b)``, so each estimate sums to
``f(x) - E f(background)``: efficiency holds exactly. Dummy players get exactly zero.

Standard errors are those of a stratified sample with the background rows as strata, treating each
row's pairs as independent: ``stderr^2 = sum_b w_b^2 s_b^2 / n_pairs``. Pairs of one orthogonal block
are negatively correlated, so these errors are conservative (their 95% intervals covered the truth
97 to 99% of the time in our measurements, against 95% for independent pairs).
"""

from __future__ import annotations

import math

import numpy as np

from .._engine import finite_values, predict, progress_bar, progress_enabled, reference_outputs, stream_rows
from .._kernels.permutation import accumulate_units
from .._validation import check_choice, check_int, check_random_state, check_real, resolve_seed, row_generator
from .._masking_explainer import MaskingExplainer, RowResults, largest_relative_stderr
from ._permutation_adjust import PermutationAdjustment, Units

__all__ = ["PermutationShapley"]

_AUTO_COALITIONS = 2048  # "auto": about this many coalitions (model rows / n_background) per explained row
_AUTO_MIN_PAIRS = 10
_ROUND = 10  # with tol, pairs per background row between two checks


class PermutationShapley(MaskingExplainer):
    """Shapley values from antithetic permutation sampling, with a standard error for each value.

    Each background row follows its own sample of orders of the players, in antithetic pairs (an
    order and its reverse) drawn from orthogonal designs; each value is the weighted mean over
    background rows of the player's mean marginal contribution along them. The estimate is
    unbiased, sums exactly to ``f(x) - E f(background)`` and gives exactly zero to players the model
    ignores. See the module documentation for the sampling design and the standard errors.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted scikit-learn estimator or pipeline (classifiers explain ``predict_proba``), or a
        callable from rows to predictions.
    background : DataFrame, ndarray or IndependentMasker
        Reference rows in the model's own input format.
    n_permutations : int or "auto", default="auto"
        Antithetic pairs of permutations (an order and its reverse: two permutations) per background
        row and explained row. A pair costs ``2 * (n_players - 1)`` model rows per background row,
        so an explained row costs ``n_permutations * 2 * (n_players - 1) * n_background`` model rows,
        plus one for ``f(x)``. ``"auto"`` is ``max(10, ceil(2048 / (2 * (n_players - 1))))``, about
        2048 coalitions per explained row. With one or two players a single pair covers every
        coalition, so one pair at most is used (exact values, zero standard errors). With one pair the
        standard errors of three or more players are unknown (NaN).
    adjustment : {"auto", "trees", None}, default="auto"
        ``"trees"``: regression adjustment. Boosted regression trees fitted to the coalition values
        (cross-fitted: those of even pairs serve the odd ones and the other way round) are a control
        variate whose Shapley values are exact; only what they miss is sampled. Exactly efficient,
        approximately unbiased (the control variate's weight is estimated from the same sample).
        ``"auto"`` makes that adjustment on the rows where a pilot (KernelSHAP's: small trees trained
        on pairs 0 and 1 of every background row, judged on pairs 2 and 3) says it removes at least a
        sixth of the variance, and gives the plain estimate (``None``) elsewhere, at the pilot's cost;
        ``diagnostics["adjusted"]`` says which rows got it. See ``shapley/_permutation_adjust.py``.
    tol : float, default=None
        Evaluate pairs in rounds of 10 per background row and stop a row once its largest standard
        error is at most ``tol`` times the spread (max - min) of its values, or when
        ``n_permutations`` pairs are spent. ``diagnostics["stopped_by"]`` says which, per row.
    random_state : int, numpy Generator or None, default=None
        Seed. Each explained row draws from its own generator derived from the seed and its
        position, so results do not depend on ``n_jobs`` or ``max_rows``.
    feature_groups, output, background_weights, max_rows, n_jobs, progress
        As for :class:`tabxai.ExactShapley`. Background rows of weight zero are never evaluated.

    Notes
    -----
    ``params`` of the result holds, per explained row, ``n_permutations`` (pairs per background row
    used), ``stopped_by`` (``"tol"``, ``"budget"`` or ``"exact"``) and, with ``tol``, ``converged``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> X = np.random.default_rng(0).normal(size=(200, 8))
    >>> model = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, X[:, 0] * X[:, 1])
    >>> expl = PermutationShapley(model, X[:20], n_permutations=20, random_state=0).explain(X[:2])
    >>> expl.values.shape, expl.stderr.shape
    ((2, 8), (2, 8))
    >>> bool(np.allclose(expl.base_values + expl.values.sum(1), model.predict(X[:2])))
    True
    """

    def __init__(self, model, background, *, n_permutations="auto", adjustment="auto", tol=None, random_state=None,
                 feature_groups=None, output=None, link=None, background_weights=None, max_rows=None, n_jobs=None,
                 progress=None):
        budget = check_int(n_permutations, "n_permutations", min_value=1, allowed=("auto",))
        self.adjustment = check_choice(adjustment, "adjustment", ("auto", "trees", None))
        self.tol = check_real(tol, "tol", min_value=0, min_inclusive=False, allowed=(None,))
        check_random_state(random_state)
        super().__init__(model, background, feature_groups=feature_groups, output=output, link=link,
                         background_weights=background_weights, max_rows=max_rows, n_jobs=n_jobs,
                         progress=progress)
        self.n_permutations = n_permutations
        self.random_state = random_state
        n_players = self._players.n_players
        if n_players <= 2:
            budget = 1
        elif budget == "auto":
            budget = max(_AUTO_MIN_PAIRS, math.ceil(_AUTO_COALITIONS / (2 * (n_players - 1))))
        self._budget = budget
        self._adjustment = None if adjustment is None else PermutationAdjustment(auto=adjustment == "auto")

    def _seed(self):
        return resolve_seed(self.random_state)

    def _parameters(self):
        return {**super()._parameters(), "n_permutations": self.n_permutations, "adjustment": self.adjustment,
                "tol": self.tol,
                "pairs_per_background_row": self._budget}

    def _explain_rows(self, model, masker, codes, seed, progress, row_indices):
        rows = np.ascontiguousarray(codes[row_indices])
        full = predict(model, rows)  # f(x): one model row per explained row
        masker = masker.subset(np.flatnonzero(masker.weights > 0))  # weight-zero references are never asked
        weights = masker.weights
        empty = reference_outputs(model, masker)  # f(b), whose weighted mean is the base value
        n_rows, n_players = len(rows), self._players.n_players
        if n_players == 1:
            values = (full - weights @ empty)[:, None, :]
            info = {"n_permutations": np.zeros(n_rows, dtype=np.int64),
                    "stopped_by": np.array(["exact"] * n_rows, dtype=object), "adjusted": np.zeros(n_rows, dtype=bool)}
            if self.tol is not None:
                info["converged"] = np.ones(n_rows, dtype=bool)
            return RowResults(values, np.zeros_like(values), n_rows, info)
        sampler = _Sampler(self, model, masker, rows, full, empty, weights, seed, row_indices, progress)
        return sampler.run()


class _Sampler:
    """Pairs for a block of explained rows, batched into model calls of about ``max_rows`` rows.

    Rows wait in a queue for a slot; every call evaluates the next pairs of every row holding a
    slot, and a row leaves its slot once its budget is spent or (with ``tol``) it has converged.
    Each (row, background row) accumulates its pairs in pair order, whatever the batching.
    """

    def __init__(self, explainer, model, masker, rows, full, empty, weights, seed, row_indices, progress):
        self.model, self.masker = model, masker
        self.rows, self.full = rows, full
        self.empty, self.weights = empty, weights
        self.seed, self.row_indices = seed, row_indices
        self.tol = explainer.tol
        self.budget = explainer._budget
        self.adjustment = explainer._adjustment
        self.n_players = n = explainer._players.n_players
        self.exact = n <= 2
        # a slot's units, kept while the row may be adjusted: until the pilot says no, or to the end
        self.units = None if self.adjustment is None or self.exact else {}
        self.decided = {}
        self.per_unit = 2 * (n - 1)
        n_background = len(weights)
        per_pair = n_background * self.per_unit  # model rows of one pair for every background row
        self.check = _ROUND if self.tol is not None else self.budget
        self.step = max(1, min(self.check, model.max_rows // per_pair))
        self.n_slots = max(1, min(len(rows), model.max_rows // (per_pair * self.step)))
        self.n_members = min(n - 1, self.budget)
        total_rows = len(rows) * self.budget * per_pair
        self.bar = progress_bar(progress_enabled(progress, total_rows), total_rows)

    def run(self):
        n_rows, n, n_outputs = len(self.rows), self.n_players, self.full.shape[1]
        n_background, slots = len(self.weights), self.n_slots
        designs = np.zeros((slots, self.n_members, n), dtype=np.int64)
        keys = np.zeros(slots, dtype=np.uint64)
        slot_rows = np.zeros((slots, self.rows.shape[1]))
        slot_full = np.zeros((slots, n_outputs))
        shift = np.zeros((slots, n_background, n, n_outputs))
        sum1, sum2 = np.zeros_like(shift), np.zeros_like(shift)
        holder = np.full(slots, -1, dtype=np.int64)  # explained row in each slot
        used = np.zeros(slots, dtype=np.int64)
        values = np.zeros((n_rows, n, n_outputs))
        stderr = np.zeros_like(values)
        pairs = np.zeros(n_rows, dtype=np.int64)
        converged = np.zeros(n_rows, dtype=bool)
        adjusted = np.zeros(n_rows, dtype=bool)
        waiting = 0
        model_rows = n_rows
        try:
            while True:
                for s in np.flatnonzero(holder < 0):  # fill free slots from the queue
                    if waiting == n_rows:
                        break
                    generator = row_generator(self.seed, self.row_indices[waiting])
                    designs[s] = _orthogonal_design(generator, n, self.n_members)
                    keys[s] = generator.integers(0, 2**63, dtype=np.int64)
                    slot_rows[s], slot_full[s] = self.rows[waiting], self.full[waiting]
                    shift[s] = sum1[s] = sum2[s] = 0.0
                    holder[s], used[s] = waiting, 0
                    if self.units is not None:
                        self.units[s], self.decided[s] = [], False
                    waiting += 1
                busy = np.flatnonzero(holder >= 0)
                if busy.size == 0:
                    break
                checkpoint = np.minimum(self.budget, (used[busy] // self.check + 1) * self.check)
                stop = np.minimum(used[busy] + self.step, checkpoint)
                model_rows += self._evaluate(busy, used[busy], stop, slot_rows, slot_full, designs, keys,
                                             shift, sum1, sum2)
                used[busy] = stop
                if self.units is not None:
                    self._decide(busy, used, slot_full, designs, keys)
                for s in busy[stop == checkpoint]:
                    phi, se = self._estimate(shift[s], sum1[s], sum2[s], used[s])
                    done = used[s] >= self.budget
                    if self.tol is not None:
                        converged_now = bool(largest_relative_stderr(phi[None], se[None])[0] <= self.tol)
                        done = done or converged_now
                    if done:
                        i = holder[s]
                        if self.units is not None:
                            phi, se, adjusted[i] = self._adjusted(s, phi, se, slot_full[s], designs[s], keys[s])
                        values[i], stderr[i], pairs[i] = phi, se, used[s]
                        if self.tol is not None:
                            converged[i] = converged_now
                        holder[s] = -1
        finally:
            if self.bar is not None:
                self.bar.close()
        info = {"n_permutations": pairs, "adjusted": adjusted}
        if self.exact:
            info["stopped_by"] = np.array(["exact"] * n_rows, dtype=object)
        else:
            info["stopped_by"] = np.where(converged, "tol", "budget").astype(object)
        if self.tol is not None:
            info["converged"] = converged
        return RowResults(values, stderr, model_rows, info)

    def _evaluate(self, slots, start, stop, rows, full, designs, keys, shift, sum1, sum2):
        """Evaluate pairs ``start[j] ... stop[j] - 1`` of every background row for the rows in ``slots``."""
        n_background = len(self.weights)
        counts = (stop - start) * n_background
        unit_row = np.repeat(slots, counts)
        unit_background = np.concatenate([np.repeat(np.arange(n_background), c) for c in stop - start])
        unit_pair = np.concatenate([np.tile(np.arange(a, b), n_background) for a, b in zip(start, stop)])
        n_model_rows = len(unit_row) * self.per_unit
        outputs = np.empty((n_model_rows, full.shape[1]))

        def fill(first, last, out):
            self.masker.fill_orders(rows, designs, keys, unit_row, unit_background, unit_pair, first, last, out)

        def consume(chunk, first):
            outputs[first:first + len(chunk)] = chunk

        stream_rows(self.model, n_model_rows, rows.shape[1], fill, consume, progress=False,
                     finite=finite_values(self.masker, rows))
        if self.units is not None:
            per_unit = outputs.reshape(len(unit_row), self.per_unit, -1)
            ends = np.cumsum(counts)
            for s, first, last in zip(slots, ends - counts, ends):  # a slot's units are contiguous: views
                if self.units.get(s) is not None:
                    self.units[s].append((unit_background[first:last], unit_pair[first:last], per_unit[first:last]))
        accumulate_units(outputs, full, self.empty, designs, keys, unit_row, unit_background, unit_pair,
                         shift, sum1, sum2)
        if self.bar is not None:
            self.bar.update(n_model_rows)
        return n_model_rows

    def _kept(self, s, full, design, key):
        """The kept units of slot ``s``, in (background row, pair) order whatever the batching."""
        parts = self.units[s]
        background = np.concatenate([p[0] for p in parts])
        pair = np.concatenate([p[1] for p in parts])
        order = np.lexsort((pair, background))
        values = np.concatenate([p[2] for p in parts])[order].reshape(-1, full.shape[0])
        return Units(values, full, self.empty, self.weights, design, key, background[order], pair[order])

    def _decide(self, slots, used, full, designs, keys):
        """Ask the adjustment whether each undecided row pays, once it has four pairs (or all it will get)."""
        for s in slots:
            if self.units.get(s) is None or self.decided[s] or (used[s] < 4 and used[s] < self.budget):
                continue
            self.decided[s] = True
            parts = self.units[s]  # (background rows, pairs, values) of each call so far: usually one
            background, pair, values = parts[0] if len(parts) == 1 else (np.concatenate(p) for p in zip(*parts))
            if not self.adjustment.pays(values, full[s], self.empty, self.weights, designs[s], keys[s], background,
                                        pair):
                self.units[s] = None  # the plain estimate: stop keeping units

    def _adjusted(self, s, phi, stderr, full, design, key):
        """The row in slot ``s`` adjusted from its kept units (values, standard errors, True), or as given."""
        if self.units.get(s) is None:
            return phi, stderr, False
        result = self.adjustment.adjust(self._kept(s, full, design, key))
        self.units[s] = None
        if result is None:
            return phi, stderr, False
        return result[0], result[1], True

    def _estimate(self, shift, sum1, sum2, n_pairs):
        """Values and standard errors (n_players, n_outputs) of one row from its running sums."""
        means = shift + sum1 / n_pairs  # (n_background, n_players, n_outputs)
        values = np.einsum("b,bpk->pk", self.weights, means)
        if self.exact:
            return values, np.zeros_like(values)
        if n_pairs < 2:
            return values, np.full_like(values, np.nan)
        variances = np.maximum(sum2 - sum1 * sum1 / n_pairs, 0.0) / (n_pairs - 1)
        stderr = np.sqrt(np.einsum("b,bpk->pk", self.weights**2, variances) / n_pairs)
        return values, stderr


def _orthogonal_design(generator, n_players, n_members):
    """``n_members`` orders of the players whose centred rank vectors are orthogonal (Mitchell et al. 2022).

    Columns of a Gaussian matrix, centred and orthonormalised (QR), are uniformly distributed
    orthonormal directions in the space orthogonal to the ones vector; ``argsort`` maps each to the
    order whose rank vector is nearest it.
    """
    gaussian = generator.standard_normal((n_players, n_members))
    gaussian -= gaussian.mean(axis=0)
    directions = np.linalg.qr(gaussian)[0]
    return np.ascontiguousarray(np.argsort(directions.T, axis=1, kind="stable"), dtype=np.int64)
