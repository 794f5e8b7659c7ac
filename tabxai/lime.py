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
    unpenalised intercept and ``alpha = 1``. Unlike lime: every explained row draws from its own
    generator (same result whatever the call order, ``n_jobs`` or ``max_rows``); an integer column
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

With the lime sampler the regression runs on *pseudo-outputs* that keep lime's estimand and lower
its variance (a control variate): an additive model ``g`` of the outputs in the samples' bins (or
categories) and within-bin values is backfitted on half of the row's samples and taken out of the
other half, and its exact surrogate coefficients ``Delta(g)`` are put back, ``y - g(x) + z . Delta``.
Because the players are drawn independently, the surrogate coefficient of an additive ``g`` is
known in closed form: the mean of ``g`` in the row's bin minus its mean in the other bins. So the
expected coefficients are lime's, and only the part of the model that is not additive adds noise
(on job A the top-5 features agree across seeds far more often than lime's; see
docs/benchmarks.md). Intercept and R^2 are those of the model's own outputs.

Standard errors are the sandwich (heteroscedasticity-robust) estimate of the weighted regression,
as in KernelSHAP; ``n_features`` keeps the players chosen by forward selection and refits; ``tol`` samples
in rounds until the standard errors are small.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy.stats import truncnorm

from ._display import number_text, threshold_text
from ._engine import coalition_values, predict, single_blas_thread, stream_rows
from ._kernels.lime import (
    additive_fit,
    additive_predict,
    centred_normal_equations,
    cluster_scores,
    forward_selection,
    kernel_weights,
    lime_samples,
    truncation_table,
)
from ._validation import (
    check_choice,
    check_int,
    check_random_state,
    check_real,
    resolve_seed,
    row_generator,
)
from .data import BOOLEAN, NUMERIC, TabularSchema
from .maskers import IndependentMasker, Masker
from ._masking_explainer import MaskingExplainer, RowResults, largest_relative_stderr

__all__ = ["LimeTabular"]

_QUARTILES = [25, 50, 75]
_STD_FLOOR = 1e-11  # lime adds this to every bin's standard deviation
_MIN_HOLDOUT = 20
_SWEEPS = 2  # backfitting sweeps of the additive control variate
_SAMPLES_PER_BLOCK = 200_000


class _Discretizer:
    """lime's quartile discretizer fitted on background codes, plus the tables its sampler needs.

    ``keys`` are what the binary features compare: the bin of a numeric value, the code of a
    category, ``-1`` for a missing value.
    """

    def __init__(self, schema, background_codes, weights):
        numeric = [j for j, column in enumerate(schema.columns) if column.kind == NUMERIC]
        self.numeric = np.array(numeric, dtype=np.int64)
        self.slot = np.full(schema.n_columns, -1, dtype=np.int64)
        self.slot[self.numeric] = np.arange(len(numeric))
        self.edges = []
        self.values = []  # each numeric column's sorted background values: the sides a printed edge keeps
        n_slots = max(len(numeric), 1)
        self.lows = np.zeros((n_slots, 4))
        self.highs = np.zeros((n_slots, 4))
        self.means = np.zeros((n_slots, 4))
        self.stds = np.ones((n_slots, 4))
        self.integral = np.zeros(n_slots, dtype=np.bool_)
        for slot, j in enumerate(numeric):
            self.integral[slot] = _is_integer_dtype(schema.columns[j].dtype)
            values = background_codes[:, j]
            values = values[~np.isnan(values)]
            self.values.append(np.sort(values))
            if len(values) == 0:
                self.edges.append(np.zeros(0))
                continue
            edges = np.unique(np.percentile(values, _QUARTILES))
            self.edges.append(edges)
            bins = np.searchsorted(edges, values)
            self.lows[slot, :len(edges) + 1] = np.concatenate([[values.min()], edges])
            self.highs[slot, :len(edges) + 1] = np.concatenate([edges, [values.max()]])
            for b in range(len(edges) + 1):
                inside = values[bins == b]
                self.means[slot, b] = inside.mean() if len(inside) else 0.0
                self.stds[slot, b] = (inside.std() if len(inside) else 0.0) + _STD_FLOOR
        # per bin: low, high, mean, std, then the standardised bounds and their normal probabilities
        self.tables = np.zeros((n_slots, 4, 8))
        self.flipped = np.zeros((n_slots, 4), dtype=np.bool_)
        for slot in range(n_slots):
            for b in range(4):
                low, high, mean, std = self.lows[slot, b], self.highs[slot, b], self.means[slot, b], self.stds[slot, b]
                a, z, pa, pz, flipped = truncation_table(low, high, mean, std)
                self.tables[slot, b] = (low, high, mean, std, a, z, pa, pz)
                self.flipped[slot, b] = flipped
        # the expected value of a sampled value given its bin (for the control variate)
        self.expected = np.zeros((n_slots, 4))
        for slot, j in enumerate(numeric):
            present = ~np.isnan(background_codes[:, j])
            bins = np.searchsorted(self.edges[slot], background_codes[present, j])
            for b in range(len(self.edges[slot]) + 1):
                low, high = self.lows[slot, b], self.highs[slot, b]
                if self.integral[slot]:
                    inside = bins == b
                    share = weights[present][inside]
                    self.expected[slot, b] = share @ background_codes[present, j][inside] / share.sum() \
                        if share.sum() > 0 else low
                elif high > low:
                    mean, std = self.means[slot, b], self.stds[slot, b]
                    with np.errstate(all="ignore"):
                        value = truncnorm.mean((low - mean) / std, (high - mean) / std, loc=mean, scale=std)
                    self.expected[slot, b] = value if np.isfinite(value) else min(max(mean, low), high)
                else:
                    self.expected[slot, b] = low

    def keys(self, codes):
        """Bin (numeric) or code (categorical) of every cell, -1 for missing; int64, C order."""
        keys = np.where(np.isnan(codes), -1.0, codes)
        for slot, j in enumerate(self.numeric):
            present = ~np.isnan(codes[:, j])
            keys[present, j] = np.searchsorted(self.edges[slot], codes[present, j])
        return np.ascontiguousarray(keys, dtype=np.int64)


def _pick_tables(players, keys, codes, weights):
    """Per player: background rows sorted by the bin and value of its first column, their cumulative
    weights (total 1), and the share ``[start, stop)`` of each bin in that order.
    """
    n_background = len(weights)
    orders = np.empty((players.n_players, n_background), dtype=np.int64)
    cumulative = np.empty((players.n_players, n_background))
    segments = np.zeros((players.n_players, 4, 2))
    for p, members in enumerate(players.columns):
        j = members[0]
        values = np.where(np.isnan(codes[:, j]), -np.inf, codes[:, j])
        order = np.lexsort((np.arange(n_background), values, keys[:, j]))
        orders[p] = order
        cumulative[p] = np.cumsum(weights[order])
        cumulative[p, -1] = 1.0
        start = np.concatenate([[0.0], cumulative[p, :-1]])
        for key in range(4):
            inside = keys[order, j] == key
            if inside.any():
                segments[p, key] = start[inside][0], cumulative[p][inside][-1]
    return orders, cumulative, segments


def _is_integer_dtype(dtype):
    try:
        return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    except TypeError:
        return False


def _bin_condition(name, edges, shared, key, value, data):
    """``low < name <= high`` of the bin ``key`` holding ``value``; an edge prints as ``shared`` (its
    text true of every background value in ``data``) unless that text would put ``value`` on the
    other side, then with the digits that keep it (:func:`threshold_text`)."""
    if len(edges) == 0:
        return f"{name} is present"

    def edge(b):
        text = shared[b]
        if (value <= float(text)) != (value <= edges[b]):
            text = threshold_text(edges[b], np.append(data, value))
        return text

    if key == len(edges):  # lime's words: "x > a", "a < x <= b", "x <= b"
        return f"{name} > {edge(key - 1)}"
    return (f"{edge(key - 1)} < " if key > 0 else "") + f"{name} <= {edge(key)}"


def _category(column, code):
    if np.isnan(code):
        return None
    value = column.categories[int(code)] if column.kind != BOOLEAN else bool(code)
    return str(value)


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
        measure held-out fidelity. With ``sampling="background"`` each sample costs
        ``n_background`` model rows.
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
        Seed. Each explained row draws from its own generator derived from the seed and its
        position, so results do not depend on ``n_jobs``, ``max_rows`` or earlier calls.
    n_jobs : int, default=None
        Explained rows in parallel (joblib); None means 1.
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
            self._orders, self._cumulative, self._segments = _pick_tables(
                self._players, self._background_keys, codes, weights)
            columns = [c for player in self._players.columns for c in player]
            self._player_columns = np.array(columns, dtype=np.int64)
            self._player_start = np.concatenate([[0], np.cumsum([len(p) for p in self._players.columns])])

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
            ``model_prediction``, ``kernel_width``, ``n_samples``, ``stopped_by``. R^2 is NaN when
            the model is constant on the samples (it is undefined; a warning says so).
        """
        run = self._run(X)
        n_rows, n_outputs = run.codes.shape[0], self._base_values.shape[0]
        info = dict(run.info)
        intercept = info.pop("intercept", np.zeros((n_rows, n_outputs)))
        stderr = run.stderr if run.stderr is not None else np.zeros_like(run.values)
        constant = info.pop("constant", None)
        if constant is not None and constant.any():
            warnings.warn(f"the model's output is constant on the samples of {int(constant.any(axis=-1).sum())} "
                          "explained row(s): R^2 is undefined there (NaN) and the values are 0", stacklevel=2)
        diagnostics = {name: (array[:, 0] if array.ndim == 2 and n_outputs == 1 else array)
                       for name, array in info.items()}
        return self._explanation(X, run._replace(stderr=stderr), intercept, diagnostics,
                                 conditions=self._conditions(run.schema, run.codes))

    def _block_size(self, masker):
        # rows per block: the samples a block keeps for its fits stay bounded (about 200,000 samples)
        return max(1, _SAMPLES_PER_BLOCK // (self._n_samples + self._n_holdout))

    def _conditions(self, schema, codes):
        """What each interpretable feature means for each row, in words (rows x players, object).

        None for data that is not a table (a masker with its own schema, e.g. an image's superpixels).
        """
        if not isinstance(schema, TabularSchema):
            return None
        n_rows = codes.shape[0]
        per_column = np.empty((n_rows, schema.n_columns), dtype=object)
        keys = self._discretizer.keys(codes) if self.sampling == "lime" else None
        for j, column in enumerate(schema.columns):
            name = str(column.name)
            if column.kind == NUMERIC and self.sampling == "lime":
                slot = self._discretizer.slot[j]
                edges, data = self._discretizer.edges[slot], self._discretizer.values[slot]
                shared = [threshold_text(e, data) for e in edges]
                for i in range(n_rows):
                    per_column[i, j] = f"{name} is missing" if keys[i, j] < 0 else \
                        _bin_condition(name, edges, shared, keys[i, j], codes[i, j], data)
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
            for i in range(n_rows):
                out[i, p] = " and ".join(per_column[i, j] for j in members)
        return out

    # per row block ------------------------------------------------------------------------------
    def _explain_rows(self, model, masker, codes, seed, progress, row_indices):
        rows = codes[row_indices]
        n_rows, n_players = len(row_indices), self._players.n_players
        generators = [row_generator(seed, index) for index in row_indices]
        keys = self._discretizer.keys(rows) if self.sampling == "lime" else None
        n_outputs = self._base_values.shape[0]
        binary = [np.zeros((0, n_players)) for _ in range(n_rows)]
        targets = [np.zeros((0, n_outputs)) for _ in range(n_rows)]
        levels = [np.zeros((0, codes.shape[1]), dtype=np.int64) for _ in range(n_rows)]
        deviations = [np.zeros((0, codes.shape[1])) for _ in range(n_rows)]
        control = self._control_tables(rows, keys) if self.sampling == "lime" else None
        model_rows = 0
        full = None
        if self.sampling == "background":
            full = predict(model, rows)  # the whole row: its own value, not a mean over the background
            model_rows += n_rows
        n_random = self._n_samples - 1
        schedule = _schedule(n_random, n_players) if self.tol is not None else [n_random]
        used = np.zeros(n_rows, dtype=np.int64)  # random samples fitted so far
        done = np.zeros(n_rows, dtype=bool)
        values = np.zeros((n_rows, n_players, n_outputs))
        stderr = np.zeros_like(values)
        fits = [None] * n_rows
        holdout_requests = [(i, self._n_holdout, False) for i in range(n_rows)]
        for round_index, target in enumerate(schedule):
            active = np.flatnonzero(~done)
            requests = [(i, target - used[i], used[i] == 0) for i in active]
            last = round_index == len(schedule) - 1
            if self.tol is None:  # one stream with the held-out samples: the model sees the largest batches
                requests += holdout_requests
            samples, rows_asked = self._evaluate(model, masker, rows, keys, full, generators, requests, progress)
            model_rows += rows_asked
            for i, (z, y, extra) in zip(active, samples[:len(active)]):
                binary[i] = np.concatenate([binary[i], z])
                targets[i] = np.concatenate([targets[i], y])
                if extra is not None:
                    levels[i] = np.concatenate([levels[i], extra[0]])
                    deviations[i] = np.concatenate([deviations[i], extra[1]])
                used[i] = target
            with single_blas_thread():
                for i in active:
                    pseudo = targets[i] if control is None else self._pseudo_targets(
                        control, i, binary[i], targets[i], levels[i],
                        deviations[i])
                    fits[i] = _fit(binary[i], self._kernel(binary[i]), pseudo, self._alpha, self._n_features,
                                   outcome=targets[i])
                    values[i], stderr[i] = fits[i].coef, fits[i].stderr
            if self.tol is not None:
                done |= largest_relative_stderr(values, stderr) <= self.tol
            if done.all() or last:
                break
        if self.tol is not None:
            samples, rows_asked = self._evaluate(model, masker, rows, keys, full, generators, holdout_requests,
                                                 progress)
            model_rows += rows_asked
        holdout = np.empty((n_rows, n_outputs))
        for i, (z, y, _) in enumerate(samples[len(samples) - n_rows:]):
            holdout[i] = _weighted_r2(y, fits[i].predict(z), self._kernel(z))
        info = {
            "intercept": np.stack([f.intercept for f in fits]),
            "r2": np.stack([f.r2 for f in fits]),
            "r2_holdout": holdout,
            "surrogate_prediction": np.stack([f.intercept + f.coef.sum(axis=0) for f in fits]),
            "model_prediction": np.stack([t[0] for t in targets]),
            "kernel_width": np.full(n_rows, self._kernel_width),
            "n_samples": used + 1,
            "constant": np.stack([f.constant for f in fits]),
            "stopped_by": np.where(done, "tol", "budget").astype(object) if self.tol is not None
            else np.full(n_rows, "budget", dtype=object),
        }
        return RowResults(values, stderr, model_rows, info)

    def _kernel(self, binary):
        return kernel_weights(np.ascontiguousarray(binary, dtype=np.float64), self._kernel_width)

    # the additive control variate (lime sampler) ------------------------------------------------
    def _control_tables(self, rows, keys):
        """Per explained row: the level of each column and the share of background rows like it per player,
        and per column the background frequencies of the levels."""
        background = self._background_keys
        n_levels = np.array([len(edges) + 2 for edges in self._discretizer.edges], dtype=np.int64)
        counts = np.empty(rows.shape[1], dtype=np.int64)
        counts[self._discretizer.numeric] = n_levels
        others = np.flatnonzero(self._discretizer.slot < 0)
        for j in others:
            counts[j] = max(int(background[:, j].max(initial=-1)), int(keys[:, j].max(initial=-1))) + 2
        weights = self._masker.weights / self._masker.weights.sum()
        frequencies = np.zeros((rows.shape[1], counts.max()))
        background_levels = background + 1
        for j in range(rows.shape[1]):
            frequencies[j, :counts[j]] = np.bincount(background_levels[:, j], weights=weights, minlength=counts[j])
        row_levels = keys + 1
        like_row = np.empty((rows.shape[0], self._players.n_players))
        for p, members in enumerate(self._players.columns):
            members = list(members)
            same = (background[None, :, members] == keys[:, None, members]).all(axis=2)
            like_row[:, p] = same @ weights
        return {"counts": counts, "frequencies": frequencies, "row_levels": row_levels, "like_row": like_row}

    def _pseudo_targets(self, control, i, binary, targets, levels, deviations):
        """Outputs with an additive model of them taken out and its exact coefficients put back.

        ``y - g(x) + z . Delta(g)``: ``g`` is an additive model of the outputs in the samples' bins
        and within-bin values (backfitted on one half of the samples and applied to the other, so it
        is independent of the samples it corrects), and ``Delta(g)`` its exact surrogate
        coefficients (the mean of ``g`` in the row's bin minus its mean elsewhere, under the
        sampling distribution). The surrogate's estimand is unchanged; its variance shrinks by the
        share of the outputs that ``g`` explains.
        """
        counts, frequencies = control["counts"], control["frequencies"]
        row_levels, like_row = control["row_levels"][i], control["like_row"][i]
        n_samples = len(binary)
        even = np.arange(n_samples) % 2 == 0
        levels = np.ascontiguousarray(levels, dtype=np.int64)
        out = np.array(targets, dtype=np.float64, copy=True)
        for k in range(targets.shape[1]):
            y = np.ascontiguousarray(targets[:, k])
            for fit_on in (even, ~even):
                gamma, slope = additive_fit(levels, deviations, y, fit_on, counts, _SWEEPS)
                g = additive_predict(levels, deviations, gamma, slope)
                delta = np.zeros(self._players.n_players)
                for p, members in enumerate(self._players.columns):
                    q = like_row[p]
                    if q >= 1.0:
                        continue
                    for j in members:
                        own = gamma[j, row_levels[j]]
                        mean = frequencies[j, :counts[j]] @ gamma[j, :counts[j]]
                        delta[p] += own - (mean - q * own) / (1.0 - q)
                apply = ~fit_on
                out[apply, k] = y[apply] - g[apply] + binary[apply] @ delta
        return out

    def _evaluate(self, model, masker, rows, keys, full, generators, requests, progress):
        """Samples ``(binary, outputs, extra)`` for each request ``(row, count, first)``, and the model rows asked.

        ``extra`` is ``(levels, deviations)`` of the samples' columns for the control variate (lime
        sampler), or None.

        A request asks for ``count`` new random samples of the row, preceded by the row itself when ``first``.
        """
        if self.sampling == "lime":
            return self._evaluate_lime(model, rows, keys, generators, requests, progress)
        return self._evaluate_background(model, masker, rows, full, generators, requests, progress)

    def _neighbourhood(self, row_codes, row_keys, rng, count, first):
        """``count`` samples around one row drawn from ``rng``, the row first if ``first``.

        Returns their codes, binary features, and the levels (0 for missing, then 1 + bin or
        category) and deviations (value minus the bin's expected value) of their cells.
        """
        discretizer = self._discretizer
        uniforms = rng.random((count, row_codes.shape[0]))
        extra = 1 if first else 0
        sample_codes = np.empty((count + extra, row_codes.shape[0]))
        sample_binary = np.empty((count + extra, self._players.n_players))
        sample_levels = np.empty((count + extra, row_codes.shape[0]), dtype=np.int64)
        sample_deviations = np.empty((count + extra, row_codes.shape[0]))
        lime_samples(row_keys, self._background_keys, self._background_codes, self._orders, self._cumulative,
                     self._segments, self._equal_weights, uniforms, discretizer.slot, discretizer.integral,
                     discretizer.tables, discretizer.flipped, discretizer.expected, self._player_columns,
                     self._player_start, sample_codes[extra:], sample_binary[extra:], sample_levels[extra:],
                     sample_deviations[extra:])
        if first:
            sample_codes[0] = row_codes
            sample_binary[0] = 1.0
            sample_levels[0] = row_keys + 1
            sample_deviations[0] = 0.0
            for slot, j in enumerate(discretizer.numeric):
                if row_keys[j] >= 0:
                    sample_deviations[0, j] = row_codes[j] - discretizer.expected[slot, row_keys[j]]
        return sample_codes, sample_binary, (sample_levels, sample_deviations)

    def _evaluate_lime(self, model, rows, keys, generators, requests, progress):
        counts = np.array([count + (1 if first else 0) for _, count, first in requests], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        total = int(offsets[-1])
        binaries = [None] * len(requests)
        pending = {}
        outputs = []

        def fill(start, stop, out):
            segment = int(np.searchsorted(offsets, start, side="right")) - 1
            while segment < len(requests) and offsets[segment] < stop:
                lo, hi = offsets[segment], offsets[segment + 1]
                if binaries[segment] is None:
                    i, count, first = requests[segment]
                    sample_codes, sample_binary, control = self._neighbourhood(rows[i], keys[i], generators[i],
                                                                               int(count), first)
                    pending[segment] = sample_codes
                    binaries[segment] = (sample_binary, control)
                a, b = max(start, lo), min(stop, hi)
                if b > a:
                    out[a - start:b - start] = pending[segment][a - lo:b - lo]
                if b == hi:
                    pending.pop(segment, None)
                segment += 1

        def consume(block, start):
            if not outputs:
                outputs.append(np.empty((total, block.shape[1])))
            outputs[0][start:start + block.shape[0]] = block

        stream_rows(model, total, rows.shape[1], fill, consume, progress=progress)
        n_outputs = self._base_values.shape[0]
        y = outputs[0] if outputs else np.zeros((0, n_outputs))
        empty = (np.zeros((0, self._players.n_players)), None)
        samples = [(*(binaries[s] or empty)[:1], y[offsets[s]:offsets[s + 1]], (binaries[s] or empty)[1])
                   for s in range(len(requests))]
        return samples, total

    def _evaluate_background(self, model, masker, rows, full, generators, requests, progress):
        n_players = self._players.n_players
        drawn = []
        for i, count, first in requests:
            rng = generators[i]
            off = rng.integers(1, n_players + 1, size=count)
            ranks = np.argsort(np.argsort(rng.random((count, n_players)), axis=1), axis=1)
            coalitions = ranks >= off[:, None]
            drawn.append(coalitions)
        pair_row = np.repeat([i for i, _, _ in requests], [len(c) for c in drawn]).astype(np.int64)
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
            samples.append((z, y, None))
        return samples, len(stacked) * masker.rows_per_pair


class _Fit:
    """A surrogate fitted to one row's samples (all outputs)."""

    def __init__(self, coef, intercept, stderr, r2, constant):
        self.coef, self.intercept, self.stderr, self.r2, self.constant = coef, intercept, stderr, r2, constant

    def predict(self, binary):
        return self.intercept + binary @ self.coef


def _fit(binary, weights, targets, alpha, n_features, clusters=None, outcome=None):
    """Weighted ridge with an unpenalised intercept, sandwich standard errors and weighted R^2.

    ``binary`` (n, p), ``weights`` (n,), ``targets`` (n, k). The standard errors are the sandwich
    ``A^-1 (R / (R - 1) sum_c G_c G_c') A^-1`` with ``A = X'WX + alpha I`` (centred) and ``G_c``
    the summed scores ``w r x`` of the independent units ``c``: the samples, or the ``clusters``
    (n,) they were drawn in. With ``n_features`` the players are chosen by forward selection per
    output and the surrogate refitted on them. When ``targets`` are pseudo-targets with the
    model's ``outcome`` (n, k) behind them, the intercept and R^2 are those of the outcome.
    """
    binary = np.ascontiguousarray(binary, dtype=np.float64)
    targets = np.ascontiguousarray(targets, dtype=np.float64)
    total, x_mean, y_mean, gram, moment, y_square = centred_normal_equations(binary, weights, targets)
    n_players, n_outputs = moment.shape
    coef = np.zeros((n_players, n_outputs))
    stderr = np.zeros((n_players, n_outputs))
    outcome = targets if outcome is None else np.ascontiguousarray(outcome, dtype=np.float64)
    outcome_mean = weights @ outcome / total
    outcome_square = weights @ (outcome - outcome_mean) ** 2
    intercept = outcome_mean.copy()
    r2 = np.full(n_outputs, np.nan)
    scale = np.abs(outcome).max(axis=0) if len(outcome) else np.zeros(n_outputs)
    constant = outcome_square <= total * (1e-12 * scale) ** 2
    n_used = len(binary) if clusters is None else len(np.unique(clusters))
    if clusters is None:
        clusters = np.arange(len(binary))
    clusters = np.ascontiguousarray(clusters, dtype=np.int64)
    n_clusters = int(clusters.max()) + 1 if len(clusters) else 0
    factor = n_used / (n_used - 1) if n_used > 1 else 1.0
    for k in np.flatnonzero(~constant):
        if n_features is None or n_features >= n_players:
            chosen = np.arange(n_players)
        else:
            chosen = np.sort(forward_selection(gram, moment[:, k].copy(), y_square[k], alpha, n_features))
        system = gram[np.ix_(chosen, chosen)] + alpha * np.eye(len(chosen))
        try:
            inverse = np.linalg.inv(system)
        except np.linalg.LinAlgError:
            inverse = np.linalg.pinv(system)
        beta = inverse @ moment[chosen, k]
        coef[chosen, k] = beta
        intercept[k] = outcome_mean[k] - x_mean[chosen] @ beta
        design = np.ascontiguousarray(binary[:, chosen])
        fitted = design @ beta
        r2[k] = 1.0 - float(weights @ (outcome[:, k] - intercept[k] - fitted) ** 2) / outcome_square[k]
        residuals = targets[:, k] - (y_mean[k] - x_mean[chosen] @ beta) - fitted
        scores = cluster_scores(design, weights, x_mean[chosen], residuals[:, None], clusters, n_clusters)[:, :, 0]
        spread = inverse @ scores.T  # (chosen, clusters)
        stderr[chosen, k] = np.sqrt(factor * (spread ** 2).sum(axis=1))
    return _Fit(coef, intercept, stderr, r2, constant)


def _weighted_r2(y, prediction, weights):
    """Weighted R^2 per output; NaN where the outputs are constant (R^2 undefined)."""
    total = weights.sum()
    mean = weights @ y / total
    spread = weights @ (y - mean) ** 2
    scale = np.abs(y).max(axis=0) if len(y) else np.zeros(y.shape[1])
    residual = weights @ (y - prediction) ** 2
    undefined = spread <= total * (1e-12 * scale) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(undefined, np.nan, 1.0 - residual / np.where(undefined, 1.0, spread))


def _schedule(n_random, n_players):
    """Random samples fitted after each round when ``tol`` is set: a first round, then growth by half."""
    targets = [min(n_random, max(4 * n_players + 4, n_random // 8, 200))]
    while targets[-1] < n_random:
        targets.append(min(n_random, int(targets[-1] * 1.5)))
    return targets
