"""What every masking explainer shares: argument checks, schema, players, the explain pipeline.

A subclass decides which coalitions to ask for and turns their values into attributions, in
``_explain_rows``; everything else (validating and encoding the rows, binding model and masker to
the data, the base value, running row blocks in parallel, building the Explanation) happens here.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._engine import map_row_blocks
from .._provenance import package_versions
from .._validation import check_bool, check_n_jobs
from ..data import Players, TabularSchema
from ..explanation import Explanation
from ..maskers import IndependentMasker
from ..model import as_model

__all__ = ["MaskingExplainer", "RowResults", "largest_relative_stderr"]


class RowResults(NamedTuple):
    """What a method computes for a block of explained rows."""

    values: np.ndarray  # (m, n_players, n_outputs)
    stderr: np.ndarray | None  # like values, or None for exact methods
    model_rows: int  # rows the model was asked about
    info: dict  # per-row diagnostics: name -> array of length m (e.g. coalitions used, converged)


def largest_relative_stderr(values, stderr):
    """Per row: the largest standard error over the spread of the values (max - min over players).

    ``values`` and ``stderr`` have shape (m, n_players, n_outputs). This is what ``tol`` is compared
    with: sampling stops once it is at most ``tol``. A row whose values are all equal (spread 0)
    counts as converged when its standard errors are 0 too.
    """
    spread = values.max(axis=1) - values.min(axis=1)  # (m, n_outputs)
    largest = stderr.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(spread > 0, largest / np.where(spread > 0, spread, 1.0), np.where(largest > 0, np.inf, 0.0))
    return ratio.max(axis=1)


class MaskingExplainer:
    """Base of explainers that ask a model about masked versions of each explained row."""

    def __init__(self, model, background, *, feature_groups=None, output=None, background_weights=None,
                 max_rows=None, n_jobs=None, progress=None):
        self.model = model
        self.feature_groups = feature_groups
        self.output = output
        self.max_rows = max_rows
        self.n_jobs = n_jobs
        self.progress = progress
        self._n_jobs = check_n_jobs(n_jobs)
        check_bool(progress, "progress", allow_none=True)
        self._model = as_model(model, output=output, max_rows=max_rows)
        if isinstance(background, IndependentMasker):
            if background_weights is not None:
                raise ValueError("give background weights to the IndependentMasker, not to the explainer")
            self._masker = background
        else:
            self._masker = IndependentMasker(background, weights=background_weights)
        background = self._masker.background
        names_in = None if isinstance(background, pd.DataFrame) else self._model.feature_names_in
        self._schema = TabularSchema.from_data(background, feature_names=names_in, what="background")
        self._players = Players(self._schema.names, feature_groups)
        # ask the model about the background now: a model that does not fit the data fails here
        model = self._model.bind(self._schema)
        self._base_values = self._masker.bind(self._schema).expected_value(model)

    @property
    def feature_names(self):
        """Names of the players (columns, or feature groups)."""
        return self._players.names

    def _parameters(self):
        """Parameters recorded in an Explanation's params (subclasses add theirs)."""
        return {"feature_groups": self.feature_groups, "output": self.output, "max_rows": self._model.max_rows,
                "n_background": self._masker.n_background, "n_jobs": self._n_jobs}

    def _seed(self):
        """The seed for this call (None for deterministic methods)."""
        return None

    def explain(self, X):
        """Attributions for the rows of ``X``.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_rows, n_columns)
            Rows in the same format as the background (a DataFrame's columns are matched by name).

        Returns
        -------
        Explanation
        """
        schema = self._schema.extended(X, what="X")
        codes = schema.encode(X, what="X")
        model = self._model.bind(schema)
        masker = self._masker.bind(schema)
        base = self._base_values
        seed = self._seed()
        n_rows = codes.shape[0]
        sequential = self._n_jobs == 1 or n_rows == 1
        work = partial(self._explain_rows, model, masker, codes, seed,
                       self.progress if sequential else False)
        blocks = map_row_blocks(work, n_rows, self._n_jobs, progress=bool(self.progress) and not sequential)
        if n_rows == 0:
            values = np.zeros((0, self._players.n_players, base.shape[0]))
            stderr, model_rows, info = None, 0, {}
        else:
            values = np.concatenate([b.values for b in blocks], axis=0)
            stderr = None if blocks[0].stderr is None else np.concatenate([b.stderr for b in blocks], axis=0)
            model_rows = int(sum(b.model_rows for b in blocks))
            info = {name: np.concatenate([b.info[name] for b in blocks]) for name in blocks[0].info}
        params = {
            "method": type(self).__name__,
            "parameters": self._parameters(),
            "random_state": seed,
            "model_rows": model_rows,
            **info,
            "versions": package_versions(),
        }
        data = X[list(schema.names)] if isinstance(X, pd.DataFrame) else np.array(X, copy=True)
        return Explanation(values, np.broadcast_to(base, (n_rows, base.shape[0])), data, self._players.names,
                           model.output_names or tuple(f"output_{k}" for k in range(base.shape[0])),
                           stderr=stderr, params=params)

    def _explain_rows(self, model, masker, codes, seed, progress, row_indices):
        """Return the :class:`RowResults` of ``codes[row_indices]`` (absolute row indices, for seeding)."""
        raise NotImplementedError
