"""LIME for tables: local linear surrogates, reproducible row by row, with standard errors and fidelity.

A LIME explanation of a row ``x`` is a weighted linear regression fitted to the model's outputs on
samples drawn around ``x``: each sample is described by binary *interpretable features* (one per
player), weighted by a kernel of its distance from ``x``, and the surrogate's coefficients are the
explanation (Ribeiro, Singh & Guestrin 2016). Two samplers:

``sampling="lime"``
    The estimand of ``lime.lime_tabular.LimeTabularExplainer`` with its defaults. Numeric columns
    are cut at the quartiles of the background (``np.percentile(..., [25, 50, 75])``, duplicates
    removed, a value equal to an edge belongs to the bin below it); a sample gives each player the
    bin (or category) of a background row drawn at random, so bins come with the background's
    frequencies, and a numeric value is then drawn inside its bin from the normal with the bin's
    background mean and standard deviation truncated to the bin's bounds. The interpretable feature
    of a player is 1 when the sample falls in the explained row's bin (or category). The first
    sample is the explained row itself. Kernel ``sqrt(exp(-d^2 / w^2))`` of the Euclidean distance
    between binary vectors, ``w = 0.75 * sqrt(n_players)``, and ridge regression with an
    unpenalised intercept and ``alpha = 1``. Unlike lime: the samples come from streams keyed by the
    seed (same result whatever the call order, ``n_jobs`` or ``max_rows``) and are shared by the
    rows of a call (below); an integer column
    takes the value of the drawn background row (an integer of the same bin, where lime would give a
    fraction); raw values
    (strings, categoricals, missing values, which get a bin of their own) go straight into the
    user's pipeline, a feature group draws its columns jointly from one background row, and a bin
    whose bounds coincide (a tie at a quartile) gives that value where lime gives its standardised
    value (0).
``sampling="background"``
    The interpretable features are coalitions of players: a player that is off takes the values of
    the background rows through the masker (the value of a coalition is the mean of the model over
    the background, as in KernelSHAP), so samples stay on the data. The number of players that are
    off is uniform on ``1 ... n_players``, the players chosen at random; the first sample is the
    whole row. Ordinary weighted least squares (``alpha = 0``) by default. This sampler works with
    any masker, e.g. superpixels as players.

With the lime sampler the rows of a call share one set of samples. lime's samples do not depend on
the explained row (bins with the background's frequencies, values inside them); only the binary
features and the first sample (the row itself) do. So the samples are drawn once, from two
counter-based streams keyed by the call's seed (the fitted samples and the held-out ones), the model
is asked about each once, and every row is fitted on them with its own first sample and binary
features: ``n`` rows cost ``n_samples - 1 + n_holdout + n`` model rows instead of ``n`` times as
many. Each row's coefficients have exactly the distribution they would have with samples of its
own, and its standard errors are its own; what changes is that the rows share their sampling noise
(common random numbers): differences between rows are more precise, while an average over rows
does not average the sampling noise away. A row's values depend on the seed and the row only (not
on its position or the rows beside it).

With the lime sampler the regression can run on *pseudo-outputs* that keep lime's estimand and lower
its variance (a control variate): an additive model ``g`` of the outputs in the samples' bins (or
categories) and within-bin values is fitted in one pass on half of the drawn samples (shared by the
rows; the row itself takes no part) and taken out of the other half, and its exact surrogate
coefficients ``Delta(g)`` are put back, ``y - g(x) + z . Delta``. Because the players are drawn independently, the surrogate coefficient of an additive ``g``
is known in closed form: the mean of ``g`` in the row's bin minus its mean in the other bins. So the
expected coefficients are lime's, and only the part of the model that is not additive adds noise.
Both fits come from the same pass; per row and output the one with the smaller sandwich variance is
kept (``diagnostics["used_control_variate"]``). Intercept and R^2 are those of the model's own outputs.

The sampler (:mod:`tabxai._kernels.lime_sampler`) draws every uniform as a counter-based hash of a
key taken from the call's seed, so a sample does not depend on how the stream is chunked; values
inside a bin come from a piecewise quintic table of the bin's truncated-normal quantile, checked
against the exact inverse CDF (within 1e-8 of the bin's width; exact where the table misses); for a
continuous column most uniforms find their bin and value in one lookup of 1,024 quintic pieces of
``[0, 1)`` checked the same way. With
few players the fit is computed from sums per bit pattern of the binary features (:mod:`tabxai._lime_fit`).

Standard errors are the sandwich (heteroscedasticity-robust) estimate of the weighted regression,
as in KernelSHAP; ``n_features`` keeps the players chosen by forward selection and refits; ``tol`` samples
in rounds until the standard errors are small.
"""

from __future__ import annotations

import math
import warnings
from contextlib import nullcontext
from functools import partial
from typing import NamedTuple

import numpy as np

from ._display import number_text
from ._engine import coalition_values, predict, single_blas_thread, stream_rows
from ._kernels.lime import kernel_weights, pattern_r2, row_features
from ._kernels.lime_sampler import draw_samples
from ._lime_fit import fit_row, pattern_space, pattern_table, row_deltas, row_residual, shared_control, weighted_r2
from ._lime_tables import _category, _Discretizer, _pick_tables, _piece_tables
from ._validation import (
    check_choice,
    check_int,
    check_random_state,
    check_real,
    call_keys,
    resolve_seed,
    row_generator,
)
from .data import NUMERIC, TabularSchema
from .maskers import IndependentMasker, Masker
from ._masking_explainer import MaskingExplainer, RowResults, largest_relative_stderr

__all__ = ["LimeTabular"]

_MIN_HOLDOUT = 20
_SAMPLES_PER_BLOCK = 200_000


class LimeTabular(MaskingExplainer):
    """LIME for tabular rows: a local linear surrogate per row, reproducible, with standard errors.

    See the module documentation for both samplers. The surrogate's coefficients are the values,
    its intercept the base values; ``conditions`` says in words what each interpretable feature
    means for each row (``"duration > 24"``, ``"18 < age <= 30"``, ``"status = no checking
    account"``).

    LIME and KernelSHAP answer different questions. KernelSHAP estimates Shapley values: a fixed
    quantity of the model and the background (attributions sum to ``f(x) - E f``), which the
    estimate approaches as coalitions grow. LIME fits the best linear model of the model's output
    on whether each feature is *like the explained row's* (same quartile or category, or present),
    weighted by closeness: its coefficients depend on the kernel width and the sampler, and its
    fidelity (R^2) says how far a linear story holds near the row. Use LIME for "which conditions
    of this applicant move the score, in words", KernelSHAP when attributions must add up.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted scikit-learn estimator or pipeline (classifiers explain ``predict_proba``), or a
        callable from rows to predictions.
    background : DataFrame, ndarray or IndependentMasker
        Reference rows in the model's own input format: with ``sampling="lime"`` the quartiles,
        bin statistics and frequencies come from them, with ``"background"`` they fill absent players.
    n_samples : int, default=5000
        Samples per explained row that the surrogate is fitted on (the first is the row itself),
        at least ``2 * n_players + 2``. A further ``max(n_samples // 10, 20)`` fresh samples per row
        measure held-out fidelity. With ``sampling="lime"`` the rows of a call share these samples
        (the model sees ``n_samples - 1 + n_holdout`` of them plus the rows themselves); with
        ``sampling="background"`` every row has its own and each costs ``n_background`` model rows.
    kernel_width : float, default=None
        Width ``w`` of the kernel ``sqrt(exp(-d^2 / w^2))``; default ``0.75 * sqrt(n_players)``
        (lime's). Must be > 0.
    sampling : {"lime", "background"}, default="lime"
        How samples are drawn around the row (see the module documentation).
    n_features : int, default=None
        Keep at most this many players per row and output: forward selection (each step adds the
        player that most lowers the weighted (ridge) residual sum of squares of the regression
        targets; ties to the first player), then a refit on the chosen players. Other players get value 0 and standard error 0.
        The refit's standard errors ignore the selection (they are conditional on it). Default: all.
    tol : float, default=None
        Sample in rounds and stop a row once its largest standard error is at most ``tol`` times
        the spread (max - min) of its values, so that players whose values differ by more than a
        few times that are ordered reliably (the top k is stable), or when ``n_samples`` are spent.
        ``diagnostics``/``params["stopped_by"]`` says which, per row.
    alpha : float, default=None
        Ridge penalty of the surrogate (the intercept is not penalised). Default 1.0 with
        ``sampling="lime"`` (lime's ``Ridge(alpha=1)``), 0.0 with ``"background"``.
    feature_groups : dict or list, default=None
        Players made of several columns (``{"name": [columns]}``); one interpretable feature each.
    output : class label or int, default=None
        Explain one output (e.g. the probability of class ``"bad"``); default all outputs.
    link : {None, "logit"}, default=None
        ``"logit"``: explain the log-odds of the model's probabilities.
    random_state : int, numpy Generator or None, default=None
        Seed. The lime sampler's streams are keyed by the seed alone (a row's values depend on the
        seed and the row, not on its position); the background sampler gives each row a generator
        derived from the seed and the row's position. Results do not depend on ``n_jobs``,
        ``max_rows`` or earlier calls.
    n_jobs : int, default=None
        Explained rows in parallel (joblib) with ``sampling="background"``; None means 1. The lime
        sampler's rows share one set of samples, asked of the model once in one process (a row's
        fits take tens of microseconds), so ``n_jobs`` does not change its work.
    max_rows : int, default=None
        Most rows per model call (default 32,768).
    progress : bool, default=None
        Show a progress bar; default only for long jobs in a terminal or notebook.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> model = LinearRegression().fit(X, 3 * X[:, 0] - X[:, 2])
    >>> expl = LimeTabular(model, X[:100], n_samples=2000, random_state=0).explain(X[:2])
    >>> expl.values.shape, expl.stderr.shape
    ((2, 4), (2, 4))
    >>> print(expl.conditions[0, 2])
    x2 > 0.564
    >>> sorted(expl.diagnostics)[:3]
    ['kernel_width', 'model_prediction', 'n_samples']
    """

    def __init__(self, model, background, *, n_samples=5000, kernel_width=None, sampling="lime", n_features=None,
                 tol=None, alpha=None, feature_groups=None, output=None, link=None, random_state=None, n_jobs=None,
                 max_rows=None, progress=None):
        self.n_samples = n_samples
        self.kernel_width = kernel_width
        self.sampling = check_choice(sampling, "sampling", ("lime", "background"))
        self.n_features = n_features
        self.tol = check_real(tol, "tol", min_value=0, min_inclusive=False, allowed=(None,))
        self.alpha = check_real(alpha, "alpha", min_value=0, allowed=(None,))
        self.random_state = random_state
        check_int(n_samples, "n_samples", min_value=4)
        check_real(kernel_width, "kernel_width", min_value=0, min_inclusive=False, allowed=(None,))
        check_int(n_features, "n_features", min_value=1, allowed=(None,))
        check_random_state(random_state)
        if self.sampling == "lime" and isinstance(background, Masker) and not isinstance(background, IndependentMasker):
            raise TypeError(f"sampling='lime' draws from tabular background data (a DataFrame, an array or an "
                            f"IndependentMasker); got a {type(background).__name__}: use sampling='background'")
        super().__init__(model, background, feature_groups=feature_groups, output=output, link=link,
                         max_rows=max_rows, n_jobs=n_jobs, progress=progress)
        n_players = self._players.n_players
        self._kernel_width = 0.75 * math.sqrt(n_players) if kernel_width is None else float(kernel_width)
        self._alpha = (1.0 if sampling == "lime" else 0.0) if alpha is None else self.alpha
        self._n_holdout = max(self._n_samples // 10, _MIN_HOLDOUT)
        if sampling == "lime":
            codes = self._bound_masker.codes  # the background, encoded once by the base class
            weights = self._bound_masker.weights  # normalised: they sum to 1
            self._discretizer = _Discretizer(self._schema, codes, weights)
            self._background_keys = self._discretizer.keys(codes)
            self._background_codes = codes
            self._equal_weights = bool(np.all(weights == weights[0]))
            self._orders, self._cumulative, self._segments, self._sorted_keys, self._sorted_codes = _pick_tables(
                self._players, self._background_keys, codes, weights)
            self._piece_coefficients, self._piece_keys, self._piece_rows = _piece_tables(
                self._players, self._discretizer, self._segments)
            columns = [c for player in self._players.columns for c in player]
            self._player_columns = np.array(columns, dtype=np.int64)
            self._player_start = np.concatenate([[0], np.cumsum([len(p) for p in self._players.columns])])
            self._level_frequencies = None  # per column, built on first use (_control_tables)

    def _check_players(self, n_players):
        self._n_samples = check_int(self.n_samples, "n_samples", min_value=2 * n_players + 2)
        self._n_features = None
        if self.n_features is not None:
            self._n_features = check_int(self.n_features, "n_features", min_value=1, max_value=n_players)

    # settings ----------------------------------------------------------------------------------
    def _seed(self):
        return resolve_seed(self.random_state)

    def _parameters(self):
        return {**super()._parameters(), "n_samples": self._n_samples, "kernel_width": self._kernel_width,
                "sampling": self.sampling, "n_features": self._n_features, "tol": self.tol, "alpha": self._alpha,
                "n_holdout": self._n_holdout}

    @property
    def bins(self):
        """Quartile edges of each numeric column (``{name: array}``), for ``sampling="lime"``."""
        if self.sampling != "lime":
            raise AttributeError("bins exist with sampling='lime' only")
        return {self._schema.names[j]: edges for j, edges in zip(self._discretizer.numeric, self._discretizer.edges)}

    # explain -----------------------------------------------------------------------------------
    def explain(self, X):
        """Surrogate coefficients for the rows of ``X``.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_rows, n_columns)
            Rows in the same format as the background (a DataFrame's columns are matched by name).

        Returns
        -------
        Explanation
            ``values`` the coefficients, ``base_values`` the intercepts, ``stderr`` their standard
            errors, ``conditions`` (rows x players strings) what each interpretable feature means,
            ``diagnostics`` per row: ``r2`` (weighted, on the fitted samples, lime's ``score``),
            ``r2_holdout`` (weighted, on fresh samples), ``surrogate_prediction`` (at the row),
            ``model_prediction``, ``kernel_width``, ``n_samples``, ``stopped_by``, and with the lime
            sampler ``used_control_variate`` (per output). R^2 is NaN when the model is constant on
            the samples (it is undefined; a warning says so).
        """
        run = self._run(X)
        n_rows, n_outputs = run.codes.shape[0], self._base_values.shape[0]
        info = dict(run.info)
        intercept = info.pop("intercept", np.zeros((n_rows, n_outputs)))
        stderr = run.stderr if run.stderr is not None else np.zeros_like(run.values)
        constant = info.pop("constant", None)
        keys = info.pop("keys", None)  # the lime sampler's bins of the rows (for the conditions)
        if constant is not None and constant.any():
            warnings.warn(f"the model's output is constant on the samples of {int(constant.any(axis=-1).sum())} "
                          "explained row(s): R^2 is undefined there (NaN) and the values are 0", stacklevel=2)
        diagnostics = {name: (array[:, 0] if array.ndim == 2 and n_outputs == 1 else array)
                       for name, array in info.items()}
        return self._explanation(X, run._replace(stderr=stderr), intercept, diagnostics,
                                 conditions=self._conditions(run.schema, run.codes, keys))

    def _block_size(self, masker):
        if self.sampling == "lime":  # one block: the rows share the samples, a row keeps only its results
            return None
        # rows per block: the samples a block keeps for its fits stay bounded (about 200,000 samples)
        return max(1, _SAMPLES_PER_BLOCK // (self._n_samples + self._n_holdout))

    def _row_jobs(self):
        # the lime sampler's rows share one sample set, asked of the model once; a row's fits take microseconds
        return 1 if self.sampling == "lime" else super()._row_jobs()

    def _conditions(self, schema, codes, keys=None):
        """What each interpretable feature means for each row, in words (rows x players, object).

        None for data that is not a table (a masker with its own schema, e.g. an image's superpixels).
        ``keys``: the lime sampler's bins of ``codes`` when already known.
        """
        if not isinstance(schema, TabularSchema):
            return None
        n_rows = codes.shape[0]
        per_column = np.empty((n_rows, schema.n_columns), dtype=object)
        if self.sampling == "lime" and keys is None:
            keys = self._discretizer.keys(codes)
        for j, column in enumerate(schema.columns):
            name = str(column.name)
            if column.kind == NUMERIC and self.sampling == "lime":
                slot = self._discretizer.slot[j]
                present = keys[:, j] >= 0
                texts = iter(self._discretizer.bin_conditions(name, slot, keys[present, j], codes[present, j]))
                missing = f"{name} is missing"
                column_texts = [next(texts) if here else missing for here in present.tolist()]
                per_column[:, j] = np.array(column_texts + [None], dtype=object)[:-1]  # strings stay objects
            elif column.kind == NUMERIC:
                for i in range(n_rows):
                    value = codes[i, j]
                    per_column[i, j] = f"{name} is missing" if np.isnan(value) else f"{name} = {number_text(value)}"
            else:
                for i in range(n_rows):
                    value = _category(column, codes[i, j])
                    per_column[i, j] = f"{name} is missing" if value is None else f"{name} = {value}"
        out = np.empty((n_rows, self._players.n_players), dtype=object)
        for p, members in enumerate(self._players.columns):
            if len(members) == 1:
                out[:, p] = per_column[:, members[0]]
                continue
            for i in range(n_rows):
                out[i, p] = " and ".join(per_column[i, j] for j in members)
        return out

    # per row block ------------------------------------------------------------------------------
    def _explain_rows(self, model, masker, codes, seed, progress, row_indices):
        if self.sampling == "lime":
            return self._explain_lime_rows(model, codes, seed, progress, row_indices)
        rows = codes[row_indices]
        n_rows, n_players = len(row_indices), self._players.n_players
        generators = [row_generator(seed, index) for index in row_indices]
        n_outputs = self._base_values.shape[0]
        pieces = [[] for _ in range(n_rows)]
        full = predict(model, rows)  # the whole row: its own value, not a mean over the background
        model_rows = n_rows
        n_random = self._n_samples - 1
        schedule = _schedule(n_random, n_players) if self.tol is not None else [n_random]
        used = np.zeros(n_rows, dtype=np.int64)  # random samples fitted so far
        done = np.zeros(n_rows, dtype=bool)
        values = np.zeros((n_rows, n_players, n_outputs))
        stderr = np.zeros_like(values)
        fits = [None] * n_rows
        holdout_requests = [_Request(i, self._n_holdout, False) for i in range(n_rows)]
        for round_index, target in enumerate(schedule):
            active = np.flatnonzero(~done)
            requests = [_Request(i, target - used[i], used[i] == 0) for i in active]
            last = round_index == len(schedule) - 1
            if self.tol is None:  # one stream with the held-out samples: the model sees the largest batches
                requests += holdout_requests
            samples, rows_asked = self._evaluate_background(model, masker, rows, full, generators, requests, progress)
            model_rows += rows_asked
            for i, sample in zip(active, samples[:len(active)]):
                pieces[i].append(sample)
                used[i] = target
            with single_blas_thread():
                for i in active:
                    z, y = (np.concatenate(parts) for parts in zip(*pieces[i]))
                    pieces[i] = [(z, y)]
                    fits[i], _ = fit_row(z, None, y, None, None, self._kernel_width, self._alpha,
                                         self._n_features, None)
                    values[i], stderr[i] = fits[i].coef, fits[i].stderr
            if self.tol is not None:
                done |= largest_relative_stderr(values, stderr) <= self.tol
            if done.all() or last:
                break
        if self.tol is not None:
            samples, rows_asked = self._evaluate_background(model, masker, rows, full, generators, holdout_requests,
                                                            progress)
            model_rows += rows_asked
        holdout = np.empty((n_rows, n_outputs))
        for i, (z, y) in enumerate(samples[len(samples) - n_rows:]):
            holdout[i] = weighted_r2(y, fits[i].predict(z), self._kernel(z))
        fitted = [np.stack([getattr(f, name) for f in fits]) for name in ("intercept", "r2", "constant")]
        info = self._row_info(values, *fitted, holdout, np.stack([p[0][1][0] for p in pieces]), used, done)
        return RowResults(values, stderr, model_rows, info)

    def _row_info(self, values, intercept, r2, constant, holdout, model_prediction, used, done):
        """The per-row diagnostics of a block (``explain`` pops ``intercept`` and ``constant``)."""
        n_rows = len(values)
        return {
            "intercept": intercept,
            "r2": r2,
            "r2_holdout": holdout,
            "surrogate_prediction": intercept + values.sum(axis=1),
            "model_prediction": model_prediction,
            "kernel_width": np.full(n_rows, self._kernel_width),
            "n_samples": used + 1,
            "constant": constant,
            "stopped_by": np.where(done, "tol", "budget").astype(object) if self.tol is not None
            else np.full(n_rows, "budget", dtype=object),
        }

    def _explain_lime_rows(self, model, codes, seed, progress, row_indices):
        """Rows explained on one shared set of lime samples (see the class notes): drawn once, asked once.

        lime's samples do not depend on the explained row (bins from the background frequencies,
        values inside them), only the binary features and the first sample (the row itself) do. So
        the samples come from two counter-based streams keyed by the call's seed, shared by every
        row, whatever block a row falls in; so do the model's outputs and the control variate's half
        models. Per row: its own first sample, binary features, pattern sums and fits.
        """
        rows = codes[row_indices]
        n_rows, n_players = len(row_indices), self._players.n_players
        n_outputs = self._base_values.shape[0]
        fitted_key, holdout_key = call_keys(seed, 2)
        keys = self._discretizer.keys(rows)
        control = self._control_tables(rows, keys)
        table = pattern_table(n_players, self._kernel_width) if pattern_space(n_players, self._n_samples) else None
        own_levels, own_deviations = control["row_levels"], self._discretizer.deviations(rows, keys)  # sample 0
        n_random = self._n_samples - 1
        shared = self._new_samples(n_random + 1, True, False)  # slot 0: the explained row, written per row
        outputs = np.empty((n_random + 1, n_outputs))
        holdout = self._new_samples(self._n_holdout, True, False)
        holdout_outputs = np.empty((self._n_holdout, n_outputs))
        own_outputs = np.empty((n_rows, n_outputs))
        binary = np.empty((n_players, n_random + 1), dtype=np.uint8)  # one row's features at a time
        patterns = np.empty(n_random + 1, dtype=np.int64)
        schedule = _schedule(n_random, n_players) if self.tol is not None else [n_random]
        used = np.zeros(n_rows, dtype=np.int64)
        done = np.zeros(n_rows, dtype=bool)
        values = np.zeros((n_rows, n_players, n_outputs))
        stderr = np.zeros_like(values)
        controlled = np.zeros((n_rows, n_outputs), dtype=bool)
        intercept = np.zeros((n_rows, n_outputs))
        r2 = np.zeros((n_rows, n_outputs))
        constant = np.zeros((n_rows, n_outputs), dtype=bool)
        drawn, model_rows = 0, 0
        for round_index, target in enumerate(schedule):
            segments = [self._stream_segment(fitted_key, drawn, target, shared, 1, outputs)]
            if round_index == 0:  # the rows themselves first
                segments.insert(0, (n_rows, partial(_copy_rows, rows), own_outputs))
            if self.tol is None:  # the held-out samples in the same stream: the model sees the largest batches
                segments.append(self._stream_segment(holdout_key, 0, self._n_holdout, holdout, 0, holdout_outputs))
            model_rows += self._evaluate_segments(model, segments, progress)
            drawn = target
            n = target + 1
            levels, deviations = shared.levels[:n].T, shared.deviations[:n].T  # (columns, samples)
            # slot 0 takes no part in the half models, but its levels are read (as indices): never garbage
            levels[:, 0], deviations[:, 0], outputs[0] = own_levels[0], own_deviations[0], own_outputs[0]
            common = shared_control(levels, deviations, outputs[:n], control)
            active = np.flatnonzero(~done)
            round_table = table if pattern_space(n_players, n) else None  # a first round of tol may be too small
            # the dense design's products (and forward selection's) go through NumPy's BLAS, one thread
            dense = round_table is None or self._n_features is not None
            with single_blas_thread() if dense else nullcontext():
                for i in active:
                    levels[:, 0], deviations[:, 0], outputs[0] = own_levels[i], own_deviations[i], own_outputs[i]
                    common.residuals[0] = row_residual(common, levels[:, :1], deviations[:, :1], outputs[:1])
                    row_features(levels, control["row_levels"][i], self._player_columns, self._player_start,
                                 binary[:, :n], patterns[:n])
                    deltas = row_deltas(common, control, control["row_levels"][i], control["like_row"][i])
                    fit, controlled[i] = fit_row(binary[:, :n].T, patterns[:n], outputs[:n], common.residuals, deltas,
                                                 self._kernel_width, self._alpha, self._n_features, round_table)
                    values[i], stderr[i], intercept[i], r2[i], constant[i] = \
                        fit.coef, fit.stderr, fit.intercept, fit.r2, fit.constant
                    used[i] = target
            if self.tol is not None:
                done |= largest_relative_stderr(values, stderr) <= self.tol
            if done.all() or round_index == len(schedule) - 1:
                break
        if self.tol is not None:
            model_rows += self._evaluate_segments(model, [self._stream_segment(
                holdout_key, 0, self._n_holdout, holdout, 0, holdout_outputs)], progress)
        r2_holdout = np.empty((n_rows, n_outputs))
        holdout_binary = np.empty((n_players, self._n_holdout), dtype=np.uint8)
        holdout_patterns = np.empty(self._n_holdout, dtype=np.int64)
        for i in range(n_rows):
            row_features(holdout.levels.T, control["row_levels"][i], self._player_columns, self._player_start,
                         holdout_binary, holdout_patterns)
            if table is not None:
                r2_holdout[i] = pattern_r2(holdout_patterns, holdout_outputs, table.bits, table.weights, intercept[i],
                                           values[i])
                continue
            z = holdout_binary.T.astype(np.float64)
            r2_holdout[i] = weighted_r2(holdout_outputs, intercept[i] + z @ values[i], self._kernel(z))
        info = self._row_info(values, intercept, r2, constant, r2_holdout, own_outputs, used, done)
        info["used_control_variate"] = controlled
        info["keys"] = keys
        return RowResults(values, stderr, model_rows, info)

    def _kernel(self, binary):
        return kernel_weights(np.ascontiguousarray(binary, dtype=np.float64), self._kernel_width)

    # the additive control variate (lime sampler) ------------------------------------------------
    def _control_tables(self, rows, keys):
        """Per explained row: the level of each column and the share of background rows like it per player;
        per column the background frequencies of the levels; which player holds each column."""
        background = self._background_keys
        weights = self._masker.weights / self._masker.weights.sum()
        if self._level_frequencies is None:  # the background's frequencies of each column's levels (once)
            self._level_frequencies = [np.bincount(column + 1, weights=weights, minlength=2) for column in background.T]
        # a category the background lacks has frequency 0 (levels: 1 + bin or code, 0 for missing)
        counts = np.array([max(len(f), int(keys[:, j].max(initial=-1)) + 2)
                           for j, f in enumerate(self._level_frequencies)], dtype=np.int64)
        for slot, j in enumerate(self._discretizer.numeric):
            counts[j] = len(self._discretizer.edges[slot]) + 2
        frequencies = np.zeros((rows.shape[1], counts.max()))
        for j, f in enumerate(self._level_frequencies):
            frequencies[j, :len(f)] = f
        row_levels = keys + 1
        like_row = np.empty((rows.shape[0], self._players.n_players))
        membership = np.zeros((rows.shape[1], self._players.n_players))
        for p, members in enumerate(self._players.columns):
            members = list(members)
            membership[members, p] = 1.0
            if len(members) == 1:  # the background share of the row's level
                like_row[:, p] = frequencies[members[0], row_levels[:, members[0]]]
                continue
            for i in range(len(keys)):  # per row: memory bounded, the same sum whatever rows are beside it
                like_row[i, p] = weights[(background[:, members] == keys[i, members]).all(axis=1)].sum()
        return {"width": int(counts.max()), "frequencies": frequencies, "row_levels": row_levels, "like_row": like_row,
                "membership": membership}

    def _draw(self, row_codes, row_keys, key, start, first, local_start, codes_out, sample):
        """Rows ``local_start ...`` of a request's samples into ``codes_out`` and ``sample`` (:func:`draw_samples`)."""
        discretizer = self._discretizer
        stop = local_start + codes_out.shape[0]
        levels, deviations = sample.levels.T, sample.deviations.T  # (columns, rows), C order
        if levels.shape[1]:
            levels, deviations = levels[:, local_start:stop], deviations[:, local_start:stop]
        draw_samples(key, int(start), bool(first), int(local_start), row_codes, row_keys, self._sorted_keys,
                     self._sorted_codes, self._orders, self._cumulative, self._segments, self._equal_weights,
                     self._background_keys, self._background_codes, discretizer.slot, discretizer.integral,
                     discretizer.tables, discretizer.flipped, *discretizer.quantiles, discretizer.expected,
                     self._piece_coefficients, self._piece_keys, self._piece_rows, self._player_columns,
                     self._player_start, codes_out,
                     sample.binary.T[:, local_start:stop], sample.patterns[local_start:stop], levels, deviations)

    def _new_samples(self, count, control, features=True):
        """Room for ``count`` samples; binary features, levels and deviations are transposed views of
        C-ordered (players or columns, samples) arrays, which the sampler fills column by column.
        Without ``control`` no levels and deviations, without ``features`` no binary features."""
        n_columns = self._background_codes.shape[1]
        rows = count if control else 0
        width = count if features else 0
        return _Samples(np.empty((self._players.n_players, width), dtype=np.uint8).T, np.empty(width, dtype=np.int64),
                        np.empty((n_columns, rows), dtype=np.int32).T, np.empty((n_columns, rows)).T)

    def _neighbourhood(self, row_codes, row_keys, key, start, count, first):
        """``count`` samples around one row from position ``start`` of stream ``key``, the row first if
        ``first``: their codes and :class:`_Samples`."""
        n = count + (1 if first else 0)
        sample = self._new_samples(n, True)
        codes = np.empty((n, row_codes.shape[0]))
        self._draw(row_codes, row_keys, key, start, first, 0, codes, sample)
        return codes, sample

    def _stream_segment(self, key, start, stop, sample, offset, outputs):
        """A segment for :meth:`_evaluate_segments`: samples ``start ... stop`` of stream ``key`` into
        ``sample`` (:class:`_Samples`) from row ``offset + start``, their outputs into ``outputs``."""
        view = _Samples(*(a[offset + start:offset + stop] for a in sample))
        row_codes = np.zeros(self._background_codes.shape[1])  # no row: binary features come from the levels
        row_keys = np.full(row_codes.shape[0], -2, dtype=np.int64)

        def fill(a, b, out):
            self._draw(row_codes, row_keys, key, start, False, a, out, view)

        return stop - start, fill, outputs[offset + start:offset + stop]

    def _evaluate_segments(self, model, segments, progress):
        """Ask the model about segments ``(count, fill, outputs)`` of rows in one stream; the rows asked."""
        counts = np.array([segment[0] for segment in segments], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)])

        def fill(start, stop, out):
            for (_, fill_segment, _), lo, hi in zip(segments, offsets[:-1], offsets[1:]):
                a, b = max(start, lo), min(stop, hi)
                if b > a:
                    fill_segment(a - lo, b - lo, out[a - start:b - start])

        def consume(block, start):
            for (_, _, sink), lo, hi in zip(segments, offsets[:-1], offsets[1:]):
                a, b = max(start, lo), min(start + len(block), hi)
                if b > a:
                    sink[a - lo:b - lo] = block[a - start:b - start]

        total = int(offsets[-1])
        stream_rows(model, total, self._background_codes.shape[1], fill, consume, progress=progress)
        return total

    def _evaluate_background(self, model, masker, rows, full, generators, requests, progress):
        """The binary features and outputs ``(z, y)`` of each :class:`_Request`, and the model rows asked."""
        n_players = self._players.n_players
        drawn = []
        for i, count, first in requests:
            rng = generators[i]
            off = rng.integers(1, n_players + 1, size=count)
            ranks = np.argsort(np.argsort(rng.random((count, n_players)), axis=1), axis=1)
            coalitions = ranks >= off[:, None]
            drawn.append(coalitions)
        pair_row = np.repeat([r.row for r in requests], [len(c) for c in drawn]).astype(np.int64)
        stacked = np.concatenate(drawn) if drawn else np.zeros((0, n_players), dtype=bool)
        values = coalition_values(model, masker, rows, stacked, pair_row,
                                  np.arange(len(stacked), dtype=np.int64), progress=progress)
        samples, start = [], 0
        for (i, count, first), coalitions in zip(requests, drawn):
            y = values[start:start + count]
            start += count
            z = coalitions.astype(np.float64)
            if first:
                y = np.concatenate([full[i:i + 1], y])
                z = np.concatenate([np.ones((1, n_players)), z])
            samples.append((z, y))
        return samples, len(stacked) * masker.rows_per_pair


class _Request(NamedTuple):
    """``count`` random samples of explained row ``row`` (background sampler), the row itself first when ``first``."""

    row: int
    count: int
    first: bool


class _Samples(NamedTuple):
    """Lime samples' binary features (n, players), their bit patterns (n,), and for the control variate
    (and the rows' features) the levels and deviations (n, columns)."""

    binary: np.ndarray
    patterns: np.ndarray
    levels: np.ndarray
    deviations: np.ndarray


def _copy_rows(rows, start, stop, out):
    out[:] = rows[start:stop]


def _schedule(n_random, n_players):
    """Random samples fitted after each round when ``tol`` is set: a first round, then growth by half."""
    targets = [min(n_random, max(4 * n_players + 4, n_random // 8, 200))]
    while targets[-1] < n_random:
        targets.append(min(n_random, int(targets[-1] * 1.5)))
    return targets
