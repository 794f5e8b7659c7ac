"""Maskers: turn one explained row and a set of coalitions into model input rows, and reduce back.

A masker is the seam between the methods and the data. Methods speak of players and coalitions
(boolean matrices ``(n_masks, n_players)``); a masker knows how to build the model's input for a
coalition and how to reduce the model's outputs to one value per (explained row, coalition) pair.
The engine (:mod:`tabxai._engine`) streams requests through it in chunks.

The protocol, implemented by :class:`IndependentMasker` here and the image masker in
:mod:`tabxai.image`:

``setup(model, feature_groups) -> (schema, players)``
    The schema that encodes the user's data to float64 code rows and decodes them for the model,
    and the players.
``bind(schema, players) -> bound masker``, with
    ``n_players``, ``n_columns`` (of a model row), ``rows_per_pair`` (model rows per pair: one per
    reference), ``weights`` (of the references, summing to 1),
    ``fill(rows, coalitions, pair_row, pair_mask, start, stop, out)`` (write the flat model rows
    ``start`` to ``stop``: row ``r`` belongs to pair ``r // rows_per_pair`` and reference
    ``r % rows_per_pair``), ``reduce(outputs, start, totals)`` (weighted mean over references),
    ``subset(references)`` and ``fill_orders(...)`` (rows along permutations, for
    :class:`~tabxai.PermutationShapley`).

The value of the empty coalition (the base value) is asked through the same ``fill`` by the engine
(:func:`tabxai._engine.expected_value`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._kernels.masking import accumulate_weighted, fill_masked_rows
from ._kernels.permutation import fill_order_coalitions, fill_permutation_rows
from ._validation import check_weights
from .data import Players, TabularSchema

__all__ = ["IndependentMasker", "Masker"]


class Masker:
    """Base class of maskers; see the module documentation for the protocol.

    It implements, from ``fill``, the rows along permutations for maskers with one reference per
    pair; maskers with several references override :meth:`fill_orders` with a fused kernel.
    """

    rows_per_pair = 1
    weights = np.ones(1)

    def setup(self, model, feature_groups=None):
        raise NotImplementedError

    def bind(self, schema, players):
        raise NotImplementedError

    def fill(self, rows, coalitions, pair_row, pair_mask, start, stop, out):
        raise NotImplementedError

    def reduce(self, outputs, start, totals):
        """Add the weighted outputs of flat rows ``start ...`` to the per-pair ``totals``."""
        accumulate_weighted(outputs, self.weights, start, totals)

    def subset(self, references):
        """This masker with only the given references (for methods that skip weight-zero references)."""
        if self.rows_per_pair != 1 or not np.array_equal(references, [0]):
            raise NotImplementedError(f"{type(self).__name__} does not implement subset")
        return self

    def fill_orders(self, rows, designs, keys, unit_row, unit_reference, unit_pair, start, stop, out):
        """Model rows ``start`` to ``stop`` of a request of permutation units (see ``_kernels.permutation``)."""
        if self.rows_per_pair != 1:
            raise NotImplementedError(f"{type(self).__name__} does not implement fill_orders")
        n_players = designs.shape[2]
        coalitions = np.empty((stop - start, n_players), dtype=np.bool_)
        fill_order_coalitions(designs, keys, unit_row, unit_reference, unit_pair, start, stop, coalitions)
        per_unit = 2 * (n_players - 1)
        pair_row = np.ascontiguousarray(unit_row[np.arange(start, stop) // per_unit])
        self.fill(rows, coalitions, pair_row, np.arange(stop - start, dtype=np.int64), 0, stop - start, out)


class IndependentMasker(Masker):
    """Interventional (independent) masking over a background sample.

    Players that are on take the explained row's values, players that are off take each background
    row's values; the value of a coalition is the weighted mean of the model over the background
    rows. This is the value function of interventional Shapley values (Janzing et al. 2020) and of
    shap's ``Independent`` masker, and of partial dependence (players: the grid's features).

    Parameters
    ----------
    background : DataFrame or ndarray of shape (n_background, n_columns)
        Reference rows, in the format the model takes (raw DataFrame for a pipeline).
    weights : array-like of shape (n_background,), default=None
        Non-negative weights of the background rows (default: equal).

    Examples
    --------
    >>> import numpy as np
    >>> masker = IndependentMasker(np.zeros((10, 3)))
    >>> masker.n_background
    10
    """

    def __init__(self, background, *, weights=None):
        n_background = _n_rows(background)
        if n_background == 0:
            raise ValueError("the background is empty; it needs at least one row (typically 50 to 500)")
        if weights is None:
            normalized = np.full(n_background, 1.0 / n_background)
        else:
            weights = check_weights(weights, n_background, "background weights", "one per background row")
            normalized = weights / weights.sum()
        self.background = background
        self.weights = normalized
        self.codes = None
        self.finite = False  # every background value is finite (known once bound)
        self.player_of_column = None

    @property
    def n_background(self):
        return len(self.weights)

    def setup(self, model, feature_groups=None):
        """The schema of the background (an array gets the model's ``feature_names_in_``) and the players."""
        names_in = None if isinstance(self.background, pd.DataFrame) else model.feature_names_in
        schema = TabularSchema.from_data(self.background, feature_names=names_in, what="background")
        return schema, Players(schema.names, feature_groups)

    def bind(self, schema, players=None):
        """A copy of this masker with its background encoded by ``schema``; players default to the columns."""
        players = Players(schema.names) if players is None else players
        bound = IndependentMasker.__new__(IndependentMasker)
        bound.background = self.background
        bound.weights = self.weights
        bound.codes = schema.encode(self.background, what="background")
        bound.finite = bool(np.isfinite(bound.codes).all())
        bound.player_of_column = np.ascontiguousarray(players.player_of_column, dtype=np.int64)
        return bound

    @property
    def rows_per_pair(self):
        """Model rows per (explained row, coalition) pair."""
        return self.n_background

    def fill(self, rows, coalitions, pair_row, pair_mask, start, stop, out):
        """Write flat rows ``start`` to ``stop`` into ``out``."""
        fill_masked_rows(rows, self.codes, coalitions, self.player_of_column, pair_row, pair_mask, start, stop, out)

    @property
    def n_players(self):
        return int(self.player_of_column.max()) + 1

    @property
    def n_columns(self):
        return self.codes.shape[1]

    def subset(self, references):
        references = np.asarray(references, dtype=np.int64)
        bound = IndependentMasker.__new__(IndependentMasker)
        bound.background = self.background
        bound.weights = self.weights[references] / self.weights[references].sum()
        bound.codes = np.ascontiguousarray(self.codes[references])
        bound.finite = bool(np.isfinite(bound.codes).all())
        bound.player_of_column = self.player_of_column
        return bound

    def fill_orders(self, rows, designs, keys, unit_row, unit_reference, unit_pair, start, stop, out):
        fill_permutation_rows(rows, self.codes, self.player_of_column, designs, keys, unit_row, unit_reference,
                              unit_pair, start, stop, out)


def _n_rows(data):
    if isinstance(data, (pd.DataFrame, np.ndarray)):
        if data.ndim != 2:
            raise ValueError(f"the background must be 2-D (rows x columns); got shape {data.shape}")
        return data.shape[0]
    if isinstance(data, pd.Series):
        raise ValueError(f"the background must be 2-D (rows x columns); got a pandas Series of length {len(data)}")
    if hasattr(data, "__len__"):
        return _n_rows(np.asarray(data))
    raise TypeError(f"the background must be a DataFrame or a 2-D array; got {type(data).__name__}")
