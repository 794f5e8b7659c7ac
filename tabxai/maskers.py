"""Maskers: turn one explained row and a set of coalitions into model input rows, and reduce back.

A masker knows its reference data as codes (see :mod:`tabxai.data`), fills the rows of any slice of
a request's flat (pair, reference row) index space, and reduces the model's outputs on those rows
to one value per (explained row, coalition) pair. The engine streams requests through it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._kernels.masking import accumulate_weighted, fill_masked_rows
from ._validation import check_weights

__all__ = ["IndependentMasker"]


class IndependentMasker:
    """Interventional (independent) masking over a background sample.

    Players that are on take the explained row's values, players that are off take each background
    row's values; the value of a coalition is the weighted mean of the model over the background
    rows. This is the value function of interventional Shapley values (Janzing et al. 2020) and of
    shap's ``Independent`` masker.

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

    @property
    def n_background(self):
        return len(self.weights)

    def bind(self, schema):
        """A copy of this masker with its background encoded by ``schema``."""
        bound = IndependentMasker.__new__(IndependentMasker)
        bound.background = self.background
        bound.weights = self.weights
        bound.codes = schema.encode(self.background, what="background")
        return bound

    @property
    def rows_per_pair(self):
        """Model rows per (explained row, coalition) pair."""
        return self.n_background

    def fill(self, rows, column_masks, pair_row, pair_mask, start, stop, out):
        """Write flat rows ``start`` to ``stop`` into ``out``."""
        fill_masked_rows(rows, self.codes, column_masks, pair_row, pair_mask, start, stop, out)

    def reduce(self, outputs, start, totals):
        """Add the weighted outputs of flat rows ``start ...`` to the per-pair ``totals``."""
        accumulate_weighted(outputs, self.weights, start, totals)

    def expected_value(self, model):
        """Weighted mean of the model over the background, shape (n_outputs,)."""
        outputs = model(self.codes)
        totals = np.zeros((1, outputs.shape[1]))
        # one pair holding every background row: the same weighted sum as any coalition value
        accumulate_weighted(np.ascontiguousarray(outputs), self.weights, 0, totals)
        return totals[0]


def _n_rows(data):
    if isinstance(data, (pd.DataFrame, np.ndarray)):
        if data.ndim != 2:
            raise ValueError(f"the background must be 2-D (rows x columns); got shape {data.shape}")
        return data.shape[0]
    if hasattr(data, "__len__"):
        return _n_rows(np.asarray(data))
    raise TypeError(f"the background must be a DataFrame or a 2-D array; got {type(data).__name__}")
