"""What every masking explainer shares: argument checks, schema, players, the explain pipeline.

A subclass decides which coalitions to ask for and turns their values into attributions, in
``_explain_rows``; everything else (validating and encoding the rows, binding model and masker to
the data, the base value, running row blocks in parallel, building the Explanation) happens here.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from ._engine import bind_model, expected_value, map_row_blocks
from ._provenance import package_versions
from ._validation import check_bool, check_n_jobs
from .explanation import Explanation
from .maskers import IndependentMasker, Masker
from .model import as_model

__all__ = ["MaskingExplainer", "RowResults", "largest_relative_stderr"]


class _Run(NamedTuple):
    """What one call of ``explain`` computed, before it becomes an Explanation."""

    schema: object
    codes: np.ndarray
    model: object
    seed: object
    values: np.ndarray
    stderr: np.ndarray | None
    model_rows: int
    info: dict


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
    """Base of explainers that ask a model about masked versions of each explained row.

    Subclasses check their own arguments before calling ``__init__`` here, which checks the shared
    ones before the model is asked anything.
    """

    def __init__(self, model, background, *, feature_groups=None, output=None, link=None, background_weights=None,
                 max_rows=None, n_jobs=None, progress=None):
        self.model = model
        self.feature_groups = feature_groups
        self.output = output
        self.link = link
        self.max_rows = max_rows
        self.n_jobs = n_jobs
        self.progress = progress
        check_n_jobs(n_jobs)
        check_bool(progress, "progress", allow_none=True)
        self._model = as_model(model, output=output, max_rows=max_rows, link=link)
        if isinstance(background, Masker):
            if background_weights is not None:
                raise ValueError("give background weights to the masker, not to the explainer")
            self._masker = background
        else:
            self._masker = IndependentMasker(background, weights=background_weights)
        self._schema, self._players = self._masker.setup(self._model, feature_groups)
        self._check_players(self._players.n_players)
        # ask the model about the references now: a model that does not fit the data fails here
        self._bound_masker = masker = self._masker.bind(self._schema, self._players)
        self._bound_model = bind_model(self._model, self._schema, masker)
        self._base_values = expected_value(self._bound_model, masker)

    @property
    def feature_names(self):
        """Names of the players (columns, or feature groups)."""
        return self._players.names

    @property
    def output_names(self):
        """Names of the explained outputs."""
        return self._bound_model.output_names

    def _parameters(self):
        """Parameters recorded in an Explanation's params (subclasses add theirs)."""
        return {"feature_groups": self.feature_groups, "output": self.output, "link": self.link,
                "max_rows": self._model.max_rows, "n_background": len(self._masker.weights)
                if hasattr(self._masker, "weights") else None, "n_jobs": self.n_jobs}

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
        run = self._run(X)
        n_rows, base = run.codes.shape[0], self._base_values
        return self._explanation(X, run, np.broadcast_to(base, (n_rows, base.shape[0])), run.info)

    def _run(self, X):
        """Encode ``X``, run ``_explain_rows`` over blocks of rows, and gather the blocks' results."""
        schema = self._schema.extended(X, what="X")
        codes = schema.encode(X, what="X")
        model = self._bound_model.bind(schema)
        masker = self._masker.bind(schema, self._players)
        seed = self._seed()
        n_rows = codes.shape[0]
        n_jobs = self._row_jobs()
        sequential = n_jobs == 1 or n_rows == 1
        work = partial(self._explain_rows, model, masker, codes, seed,
                       self.progress if sequential else False)
        blocks = map_row_blocks(work, n_rows, n_jobs, progress=bool(self.progress) and not sequential,
                                block_size=self._block_size(masker))
        if n_rows == 0:
            values = np.zeros((0, self._players.n_players, self._base_values.shape[0]))
            stderr, model_rows, info = None, 0, {}
        else:
            values = np.concatenate([b.values for b in blocks], axis=0)
            stderr = None if blocks[0].stderr is None else np.concatenate([b.stderr for b in blocks], axis=0)
            model_rows = int(sum(b.model_rows for b in blocks))
            info = {name: np.concatenate([b.info[name] for b in blocks]) for name in blocks[0].info}
        return _Run(schema, codes, model, seed, values, stderr, model_rows, info)

    def _explanation(self, X, run, base_values, diagnostics, **extra):
        """The Explanation of a run: values, provenance in ``params``, per-row ``diagnostics``."""
        params = {
            "method": type(self).__name__,
            "parameters": self._parameters(),
            "random_state": run.seed,
            "link": self.link,
            "response": run.model.method,
            "model_rows": run.model_rows,
            "versions": package_versions(),
        }
        schema = run.schema
        data = schema.explained_data(X) if hasattr(schema, "explained_data") else X
        return Explanation(run.values, base_values, data, self._players.names, run.model.output_names,
                           stderr=run.stderr, params=params, diagnostics=diagnostics,
                           groups=self._players.groups(), **extra)

    def _check_players(self, n_players):
        """Check the method's arguments that depend on the number of players (before any model call)."""

    def _row_jobs(self):
        """Processes the explained rows are spread over (``n_jobs``; a method sharing work across rows may say 1)."""
        return check_n_jobs(self.n_jobs)

    def _block_size(self, masker):
        """Most explained rows per block (None: no limit); methods whose memory grows with rows bound it."""
        return None

    def _explain_rows(self, model, masker, codes, seed, progress, row_indices):
        """Return the :class:`RowResults` of ``codes[row_indices]`` (absolute row indices, for seeding)."""
        raise NotImplementedError
