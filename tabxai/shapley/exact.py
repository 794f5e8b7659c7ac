"""Exact interventional Shapley values by enumerating every coalition of the players."""

from __future__ import annotations

import numpy as np

from .._engine import coalition_values, finite_values, stream_rows
from .._kernels.masking import refill_masked_columns
from .._kernels.shapley import all_coalitions, exact_shapley_from_values
from ..maskers import IndependentMasker
from .._validation import check_int
from .._masking_explainer import MaskingExplainer, RowResults

__all__ = ["ExactShapley"]

_HARD_MAX_PLAYERS = 24


class ExactShapley(MaskingExplainer):
    """Exact Shapley values of a model's output, with features taken out by a background sample.

    The value of a coalition ``S`` of players is the (weighted) mean of the model over the
    background rows, with the players in ``S`` set to the explained row's values
    (interventional Shapley values). All ``2**n_players`` coalitions are evaluated, so the cost is
    ``2**n_players * n_background`` model rows per explained row; the values are exact, with no
    sampling error. For more players use :class:`tabxai.KernelSHAP`.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted scikit-learn estimator or pipeline (classifiers explain ``predict_proba``), or a
        callable from rows to predictions.
    background : DataFrame, ndarray or IndependentMasker
        Reference rows in the model's own input format (a raw DataFrame for a pipeline).
    feature_groups : dict or list, default=None
        Players made of several columns, e.g. ``{"address": ["city", "zip"]}``; other columns
        are players of their own.
    output : class label or int, default=None
        Explain one output (e.g. the probability of class ``"bad"``); default all outputs.
    link : {None, "logit"}, default=None
        ``"logit"``: explain a classifier's probabilities on the log-odds scale (values add up to
        ``log(p / (1 - p))``), where a logistic regression's attributions are additive.
    background_weights : array-like, default=None
        Weights of the background rows.
    max_players : int, default=16
        Refuse to enumerate more players than this (at most 24).
    max_rows : int, default=None
        Most rows per model call (default 32,768); bounds memory, never changes results.
    n_jobs : int, default=None
        Explained rows run in this many parallel jobs (joblib); results do not depend on it.
    progress : bool, default=None
        Show a progress bar; default only for long jobs in a terminal or notebook.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> model = LinearRegression().fit(X, X @ [1.0, 2.0, 0.0])
    >>> expl = ExactShapley(model, X).explain(X[:2])
    >>> np.allclose(expl.values, (X[:2] - X.mean(axis=0)) * model.coef_)
    True
    """

    def __init__(self, model, background, *, feature_groups=None, output=None, link=None, background_weights=None,
                 max_players=16, max_rows=None, n_jobs=None, progress=None):
        self.max_players = check_int(max_players, "max_players", min_value=1, max_value=_HARD_MAX_PLAYERS)
        super().__init__(model, background, feature_groups=feature_groups, output=output, link=link,
                         background_weights=background_weights, max_rows=max_rows, n_jobs=n_jobs,
                         progress=progress)

    def _check_players(self, n_players):
        if n_players > self.max_players:
            raise ValueError(
                f"ExactShapley enumerates 2**n_players coalitions; {n_players} players would need "
                f"{2 ** n_players:,} coalitions x {getattr(self._masker, 'n_background', 1)} background rows per explained row, "
                f"more than max_players={self.max_players} allows. Use tabxai.KernelSHAP (sampled, with standard "
                "errors), group related columns with feature_groups, or raise max_players"
            )

    def _parameters(self):
        return {**super()._parameters(), "max_players": self.max_players}

    def _block_size(self, masker):
        # a block holds rows x 2**n_players values: keep it within max_rows pairs, so memory stays bounded
        return max(1, self._model.max_rows // 2 ** self._players.n_players)

    def _explain_rows(self, model, masker, codes, seed, progress, row_indices):
        n_players = self._players.n_players
        coalitions = all_coalitions(n_players)
        n_coalitions = coalitions.shape[0]
        n_rows = len(row_indices)
        rows = np.ascontiguousarray(codes[row_indices])
        if isinstance(masker, IndependentMasker) and masker.n_background <= model.max_rows:
            values = _values_by_gray_blocks(model, masker, rows, coalitions, progress)
        else:
            pair_row = np.repeat(np.arange(n_rows, dtype=np.int64), n_coalitions)
            pair_mask = np.tile(np.arange(n_coalitions, dtype=np.int64), n_rows)
            values = coalition_values(model, masker, rows, coalitions, pair_row, pair_mask, progress=progress)
        values = values.reshape(n_rows, n_coalitions, -1)
        phi = np.stack([exact_shapley_from_values(values[i], n_players) for i in range(n_rows)])
        return RowResults(phi, None, n_rows * n_coalitions * masker.rows_per_pair, {})


def _values_by_gray_blocks(model, masker, rows, coalitions, progress):
    """Coalition values ``(n_rows * 2**n, n_outputs)`` (row-major by explained row, then coalition bitmask).

    A model call holds ``P`` pairs, ``P`` the largest power of two whose rows fit in ``max_rows``; slot
    ``k`` of a call holds coalition ``(gray(t) << log2 P) | k`` of call ``t`` of a row, so from one call
    to the next a slot changes one player (the Gray code of the high bits), and the buffer (column-
    major, kept between calls, handed to the model read-only) is rewritten only in that player's columns
    (:func:`refill_masked_columns`), or in the on columns when the explained row changes.
    """
    n_rows, n_players = rows.shape[0], coalitions.shape[1]
    n_coalitions, n_background = coalitions.shape[0], masker.n_background
    per_call = min(n_coalitions, 1 << max(0, (model.max_rows // n_background).bit_length() - 1))
    calls = np.arange(n_coalitions // per_call, dtype=np.int64)
    high = (calls ^ (calls >> 1)) * per_call  # Gray code of the call index, in the high bits
    order = (high[:, None] + np.arange(per_call, dtype=np.int64)[None, :]).ravel()  # coalition of each pair
    pair_mask = np.tile(order, n_rows)
    pair_row = np.repeat(np.arange(n_rows, dtype=np.int64), n_coalitions)
    slot_row, slot_mask = np.full(per_call, -1, dtype=np.int64), np.full(per_call, -1, dtype=np.int64)
    background_columns = np.ascontiguousarray(masker.codes.T)
    totals = []

    def fill(start, stop, out):
        refill_masked_columns(rows, background_columns, coalitions, masker.player_of_column, pair_row, pair_mask,
                              start, stop, out, slot_row, slot_mask)

    def consume(outputs, start):
        if not totals:
            totals.append(np.zeros((len(pair_row), outputs.shape[1])))
        masker.reduce(outputs, start, totals[0])

    bounded = model if per_call * n_background == model.max_rows else _CallRows(model, per_call * n_background)
    stream_rows(bounded, len(pair_row) * n_background, rows.shape[1], fill, consume, progress=progress,
                read_only=True, order="F", finite=finite_values(masker, rows))
    values = np.empty_like(totals[0])
    values[pair_row * n_coalitions + pair_mask] = totals[0]
    return values


class _CallRows:
    """A bound model asked about at most ``max_rows`` rows per call (whole blocks of pairs)."""

    def __init__(self, model, max_rows):
        self.model, self.max_rows = model, max_rows

    def __call__(self, rows, first_row=0):
        return self.model(rows, first_row)
