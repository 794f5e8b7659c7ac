"""SAGE: global importance as the Shapley values of the model's loss (Covert, Lundberg & Lee 2020).

The game of a coalition ``S`` of players is the expected loss reduction of the model's prediction
when it knows only the players in ``S``: ``w(S) = E_i[l(f_empty, y_i)] - E_i[l(f_S(x_i), y_i)]``,
where ``f_S(x_i)`` is the background-averaged prediction with the players in ``S`` set to row
``i`` (the interventional value function of KernelSHAP, sage-importance's ``MarginalImputer``).
Its Shapley values add up to the loss of the mean prediction minus the model's mean loss.

Estimator: antithetic permutation sampling. A unit is a row of ``X`` and a random order of the
players together with its reverse; along each order the players are added one at a time and each
is credited with the loss decrease it brings. A unit's value is the mean of the two orders; the
estimate is the mean over units. Rows are taken in epochs (all rows in a random order, then again
in another order), so that once every row has been used the choice of rows adds no variance: most
of the variance of SAGE's per-unit values is between rows (sage-importance draws rows with
replacement). The standard error separates the variance within rows (orders) from that between
rows (the current epoch's sample of rows, without replacement), see ``_Tally``.

Units come in rounds (at most 2,048 pairs) through the engine: every coalition of a round in one
request, streamed in chunks of ``max_rows`` model rows. Sampling stops when the largest standard
error is at most ``tol`` times the spread of the values. Unit ``u`` draws its order from its own
generator keyed by ``u`` and its row from epoch permutations keyed by the epoch, so the values do
not depend on ``n_jobs``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from .._engine import bind_model, coalition_values, expected_value, map_row_blocks, predict, progress_bar, \
    progress_enabled
from .._provenance import package_versions
from .._validation import check_int, check_n_jobs, check_random_state, check_real, resolve_seed, row_generator
from ..maskers import IndependentMasker
from ..model import as_model
from ._sage_result import SageValues

__all__ = ["sage"]

_AUTO_MAX_PERMUTATIONS = 100_000
_FIRST_ROUND = 32  # antithetic pairs before the first convergence check
_MAX_ROUND = 2048  # most pairs per round: bounds the memory of a round's coalitions
_DEFAULT_BACKGROUND = 128
_EPS = 1e-15


def sage(model, X, y, *, loss="log_loss", background=None, n_permutations="auto", tol=0.01, random_state=0,
         n_jobs=1, output=None, feature_groups=None, max_rows=None, progress=None):
    """SAGE values: each player's share of the model's loss reduction, with standard errors.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted scikit-learn estimator or pipeline (classifiers give ``predict_proba``), or a
        callable from rows to predictions.
    X : DataFrame or ndarray of shape (n_rows, n_columns)
        The rows the loss is averaged over (in the model's own input format).
    y : array-like of shape (n_rows,)
        Their targets: class labels for ``"log_loss"``, numbers for ``"mse"``.
    loss : {"log_loss", "mse"} or callable, default="log_loss"
        ``"log_loss"``: cross-entropy of the class probabilities (probabilities clipped at 1e-15).
        ``"mse"``: squared error of one output. A callable gets ``(y, predictions)`` (targets of
        ``m`` rows and an ``(m, n_outputs)`` array) and returns ``m`` losses.
    background : DataFrame or ndarray, default=None
        Rows that stand in for the players left out; default a sample of at most 128 rows of
        ``X`` drawn with ``random_state``.
    n_permutations : int or "auto", default="auto"
        Most orders of the players (counted singly; they come in antithetic pairs). ``"auto"``:
        until ``tol`` is met (at most 100,000).
    tol : float, default=0.01
        Stop once the largest standard error is at most ``tol`` times the spread (max - min) of
        the values. ``None``: exactly ``n_permutations``.
    random_state : int, Generator or None, default=0
    n_jobs : int, default=1
        Units of a round run in this many parallel jobs (joblib); results do not depend on it.
    output : class label or int, default=None
        For ``"mse"`` or a callable: the model output to use (a model with several outputs needs it
        for ``"mse"``).
    feature_groups : dict or list, default=None
        Players made of several columns.
    max_rows : int, default=None
        Most rows per model call; bounds memory, never changes results.
    progress : bool, default=None
        Show a progress bar of the permutations; default only for long jobs in a terminal or notebook.

    Returns
    -------
    SageValues

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = 2 * X[:, 0] + X[:, 1]
    >>> result = sage(lambda rows: 2 * rows[:, 0] + rows[:, 1], X, y, loss="mse", background=X[:50], tol=0.05)
    >>> result.values.round(0).tolist()  # about 4 var(x0) and var(x1); x2 is not used
    [4.0, 1.0, 0.0]
    """
    if isinstance(loss, str):
        if loss not in ("log_loss", "mse"):
            raise ValueError(f"`loss` must be 'log_loss', 'mse' or a callable; got {loss!r}")
    elif not callable(loss):
        raise TypeError(f"`loss` must be 'log_loss', 'mse' or a callable; got {type(loss).__name__}")
    limit = check_int(n_permutations, "n_permutations", min_value=2, allowed=("auto",))
    tol = check_real(tol, "tol", min_value=0, min_inclusive=False, allowed=(None,))
    if limit == "auto":
        if tol is None:
            raise ValueError("n_permutations='auto' samples until `tol` is met; give a tol or an int n_permutations")
        limit = _AUTO_MAX_PERMUTATIONS
    check_random_state(random_state)
    n_jobs = check_n_jobs(n_jobs)
    seed = resolve_seed(random_state)
    if isinstance(X, (pd.DataFrame, np.ndarray)) and len(X) == 0:
        raise ValueError("X has no rows")
    if background is None:
        n_rows = len(X)
        chosen = np.sort(np.random.default_rng(seed).permutation(n_rows)[:_DEFAULT_BACKGROUND])
        background = X.iloc[chosen] if hasattr(X, "iloc") else np.asarray(X)[chosen]
    adapter = as_model(model, max_rows=max_rows, output=None if loss == "log_loss" else output)
    masker = IndependentMasker(background)
    schema, players = masker.setup(adapter, feature_groups)
    if players.n_players < 2:
        raise ValueError(f"SAGE needs at least 2 players; got {players.n_players}")
    bound_masker = masker.bind(schema, players)
    bound = bind_model(adapter, schema, bound_masker)
    schema = schema.extended(X, what="X")
    codes = schema.encode(X, what="X")
    bound, bound_masker = bound.bind(schema), masker.bind(schema, players)
    targets = _targets(y, codes.shape[0])
    loss_of, loss_name = _loss(loss, bound, targets)
    base = expected_value(bound, bound_masker)
    full = predict(bound, codes)
    game = _LossGame(bound, bound_masker, codes, targets, loss_of, base, full, players.n_players)
    tally = _Tally(codes.shape[0], players.n_players)
    bar = progress_bar(progress_enabled(progress, limit * players.n_players * bound_masker.rows_per_pair),
                       limit if n_permutations != "auto" else None, "permutations")
    converged, n_pairs = False, max(1, limit // 2)
    try:
        while tally.units < n_pairs:
            units = tally.units
            size = min(n_pairs - units, _FIRST_ROUND if units == 0 else min(_MAX_ROUND, max(_FIRST_ROUND, units // 2)))
            indices = np.arange(units, units + size)
            rows = _unit_rows(seed, indices, codes.shape[0])
            blocks = map_row_blocks(partial(game.units, seed, indices, rows), size, n_jobs)
            tally.add(rows, np.concatenate(blocks))
            if bar is not None:
                bar.update(2 * size)
            estimate, stderr = tally.estimate()
            converged = tol is not None and tally.units > 1 and stderr.max() <= tol * (estimate.max() - estimate.min())
            if converged:
                break
    finally:
        if bar is not None:
            bar.close()
    estimate, stderr = tally.estimate()
    units = tally.units
    params = {"method": "SAGE", "parameters": {"loss": loss_name, "n_permutations": n_permutations, "tol": tol,
                                               "n_background": bound_masker.n_background, "n_jobs": n_jobs,
                                               "feature_groups": feature_groups, "output": output,
                                               "max_rows": adapter.max_rows},
              "random_state": seed, "response": bound.method,
              "model_rows": 2 * units * (players.n_players - 1) * bound_masker.rows_per_pair + codes.shape[0],
              "versions": package_versions()}
    return SageValues(estimate, stderr, players.names, loss_name, params, n_permutations=2 * units,
                      converged=bool(converged), total=game.mean_total(tally.rows()))


def _unit_rows(seed, indices, n_rows):
    """The row of each unit: rows in a random order, epoch after epoch (each epoch keyed by its number).

    Every row is used once per epoch, so after whole epochs the choice of rows adds no variance.
    """
    epochs = indices // n_rows
    out = np.empty(len(indices), dtype=np.int64)
    for epoch in np.unique(epochs):
        order = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(2 ** 32, int(epoch)))))
        permutation = order.permutation(n_rows)
        chosen = epochs == epoch
        out[chosen] = permutation[indices[chosen] % n_rows]
    return out


class _Tally:
    """Per-row sums of the units' values: the mean and its standard error under epoch sampling of the rows.

    With ``n = e N + p`` units (``e`` whole epochs over the ``N`` rows, ``p`` in the current one), the mean's
    variance is ``(n s_w^2 + p (1 - p / N) s_b^2) / n^2``: ``s_w^2`` the variance of a unit about its row's
    mean (pooled over rows with two units or more), ``s_b^2`` the variance of the rows' means (the total
    variance less ``s_w^2``). Before any row has two units, the variance of all units over ``n`` (the
    with-replacement formula, which also holds the row term in full).
    """

    def __init__(self, n_rows, n_players):
        self.n_rows = n_rows
        self.counts = np.zeros(n_rows, dtype=np.int64)
        self.sums = np.zeros((n_rows, n_players))
        self.squares = np.zeros((n_rows, n_players))
        self.units = 0

    def add(self, rows, values):
        np.add.at(self.counts, rows, 1)
        np.add.at(self.sums, rows, values)
        np.add.at(self.squares, rows, values ** 2)
        self.units += len(rows)

    def rows(self):
        return np.repeat(np.arange(self.n_rows), self.counts)

    def estimate(self):
        n = self.units
        mean = self.sums.sum(axis=0) / n
        if n < 2:
            return mean, np.full_like(mean, np.inf)
        total = np.maximum(self.squares.sum(axis=0) - n * mean ** 2, 0.0) / (n - 1)
        repeated = self.counts >= 2
        if not repeated.any():
            return mean, np.sqrt(total / n)
        counts = self.counts[repeated][:, None]
        within = np.maximum(self.squares[repeated] - self.sums[repeated] ** 2 / counts, 0.0).sum(axis=0)
        within /= (counts - 1).sum()
        between = np.maximum(total - within, 0.0)
        partial_epoch = n % self.n_rows
        variance = (n * within + partial_epoch * (1 - partial_epoch / self.n_rows) * between) / n ** 2
        return mean, np.sqrt(variance)


class _LossGame:
    """The loss decreases along antithetic orders of the players for sampled rows."""

    def __init__(self, model, masker, codes, targets, loss_of, base, full, n_players):
        self.model, self.masker, self.codes, self.targets = model, masker, codes, targets
        self.loss_of, self.base, self.full, self.n_players = loss_of, base, full, n_players

    def units(self, seed, unit_indices, unit_rows, block):
        """Per unit of ``unit_indices[block]`` (on rows ``unit_rows[block]``): the mean over an order and its
        reverse of each player's loss decrease, ``(units, n_players)``."""
        n = self.n_players
        rows = np.repeat(unit_rows[block], 2)
        orders = np.empty((len(rows), n), dtype=np.int64)
        orders[0::2] = [row_generator(seed, int(u)).permutation(n) for u in unit_indices[block]]
        orders[1::2] = orders[0::2, ::-1]
        ranks = np.argsort(orders, axis=1)
        coalitions = ranks[:, None, :] < np.arange(1, n)[None, :, None]  # prefixes of sizes 1 .. n - 1
        predictions = coalition_values(self.model, self.masker, self.codes, coalitions.reshape(-1, n),
                                       np.repeat(rows, n - 1), np.arange(len(rows) * (n - 1)))
        k = predictions.shape[1]
        steps = np.empty((len(rows), n + 1, k))
        steps[:, 0] = self.base
        steps[:, 1:n] = predictions.reshape(len(rows), n - 1, k)
        steps[:, n] = self.full[rows]
        losses = self.loss_of(np.repeat(rows, n + 1), steps.reshape(-1, k)).reshape(len(rows), n + 1)
        decrease = losses[:, :-1] - losses[:, 1:]
        credit = np.empty_like(decrease)
        np.put_along_axis(credit, orders, decrease, axis=1)
        return (credit[0::2] + credit[1::2]) / 2

    def mean_total(self, rows):
        """Loss of the mean prediction minus the model's loss, averaged over the sampled ``rows``."""
        empty = self.loss_of(rows, np.broadcast_to(self.base, (len(rows), len(self.base))))
        return float((empty - self.loss_of(rows, self.full[rows])).mean())


def _targets(y, n_rows):
    if y is None:
        raise ValueError("sage needs the targets `y` of the rows of X")
    targets = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    if targets.ndim != 1:
        raise ValueError(f"`y` must be 1-D (one target per row of X); got shape {targets.shape}")
    if targets.shape[0] != n_rows:
        raise ValueError(f"`y` has {targets.shape[0]} rows; X has {n_rows}. Give one target per row of X")
    return targets


def _loss(loss, model, targets):
    """``loss_of(row_indices, predictions) -> losses`` and the loss's name, checked against the model's outputs."""
    names = list(model.output_names)
    if loss == "log_loss":
        if model.method != "predict_proba" or len(names) < 2:
            raise ValueError(f"loss='log_loss' needs a classifier's class probabilities (predict_proba); the model "
                             f"gives {len(names)} output{'s' * (len(names) != 1)} {names} from {model.method}. "
                             "Use loss='mse' for a regressor, or a callable loss")
        positions = {name: k for k, name in enumerate(names)}
        unknown = [value for value in pd.unique(targets) if value not in positions]
        if unknown:
            raise ValueError(f"loss='log_loss': y holds labels {unknown[:5]} that are not among the model's classes "
                             f"{names}")
        labels = np.array([positions[value] for value in targets], dtype=np.int64)

        def log_loss(rows, predictions):
            return -np.log(np.clip(predictions[np.arange(len(rows)), labels[rows]], _EPS, None))

        return log_loss, "log_loss"
    if loss == "mse":
        if len(names) != 1:
            raise ValueError(f"loss='mse' needs one model output; the model gives {len(names)} {names}. Choose one "
                             "with `output`, or use loss='log_loss' for class probabilities")
        try:
            numbers_ = targets.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"loss='mse' needs numeric targets; y has dtype {targets.dtype}") from None

        def squared_error(rows, predictions):
            return (predictions[:, 0] - numbers_[rows]) ** 2

        return squared_error, "mse"

    def user_loss(rows, predictions):
        out = np.asarray(loss(targets[rows], predictions), dtype=np.float64)
        if out.shape != (len(rows),):
            raise ValueError(f"the loss callable must return one loss per row, shape ({len(rows)},); got {out.shape}")
        return out

    return user_loss, getattr(loss, "__name__", "loss")
