"""Result of a counterfactual search: counterfactual rows in the user's format, their metrics, and text."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .._display import number_text, value_text

__all__ = ["Recourse"]

_METRICS = ("output", "valid", "proximity", "sparsity", "plausibility", "in_range")
_HTML_LINES = 20


class Recourse:
    """Counterfactuals of explained rows: per row up to ``n`` rows that reach the desired outcome.

    Attributes
    ----------
    rows : DataFrame
        The explained rows, with the data's columns and dtypes.
    counterfactuals : DataFrame
        Every counterfactual, rows of all explained rows stacked (``row_index`` says whose).
    row_index : ndarray of int (n_counterfactuals,)
        Position of the explained row each counterfactual belongs to.
    outputs : ndarray (n_counterfactuals, n_outputs)
        The model's outputs for each counterfactual.
    output : ndarray (n_counterfactuals,)
        The output ``desired`` refers to (the desired class's probability, or the selected output).
    valid : bool ndarray
        Whether the counterfactual reaches the desired outcome (checked by calling the model).
    proximity : ndarray
        ``sum_j cost_j * d_j``: numbers by their median absolute deviation in ``X``, categories 0/1.
    sparsity : int ndarray
        Number of features changed.
    plausibility : ndarray
        Distance (same scaling, costs 1) to the nearest row of ``X`` with the desired outcome.
    in_range : bool ndarray
        Whether every value lies within the range of ``X`` (numbers) or its observed categories.
    diversity : ndarray (n_rows,)
        Mean pairwise distance between each row's counterfactuals (nan for fewer than two).
    status : list of str
        Per explained row: ``"found"`` (``n`` found), ``"partial"``, ``"not_found"`` or
        ``"no_actions"`` (the constraints allow no change at all).
    messages : list of str
        Per explained row, the status in words.
    outcome : str
        The desired outcome in words (a class label, or an interval).
    params : dict
        ``method``, its ``parameters``, ``random_state``, ``versions``.
    """

    def __init__(self, *, rows, counterfactuals, row_index, outputs, output, valid, proximity, sparsity,
                 plausibility, in_range, diversity, status, messages, outcome, output_names, params):
        self.rows = rows
        self.counterfactuals = counterfactuals
        self.row_index = row_index
        self.outputs = outputs
        self.output = output
        self.valid = valid
        self.proximity = proximity
        self.sparsity = sparsity
        self.plausibility = plausibility
        self.in_range = in_range
        self.diversity = diversity
        self.status = list(status)
        self.messages = list(messages)
        self.outcome = outcome
        self.output_names = output_names
        self.params = params

    def __len__(self):
        return len(self.rows)

    def to_frame(self):
        """One line per counterfactual: ``row`` (position of the explained row), the data's columns in
        their own dtypes, ``output``, ``valid``, ``proximity``, ``sparsity``, ``plausibility``, ``in_range``."""
        clash = [name for name in ("row",) + _METRICS if name in self.counterfactuals.columns]
        if clash:
            raise ValueError(f"the data has columns named like the result's own columns: {clash}; rename them")
        frame = self.counterfactuals.copy()
        frame.insert(0, "row", self.row_index)
        for name in _METRICS:
            frame[name] = getattr(self, name)
        return frame

    def __getitem__(self, i):
        """Counterfactuals of explained row ``i`` (position), as a DataFrame like :meth:`to_frame`."""
        i = self._position(i)
        frame = self.to_frame()
        return frame[frame["row"] == i].reset_index(drop=True)

    def _position(self, i):
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral):
            raise TypeError(f"index an explained row by its position (an int); got {i!r}")
        if not -len(self) <= i < len(self):
            raise IndexError(f"row {i} out of range for {len(self)} explained rows")
        return int(i) % len(self)

    def changes(self):
        """The changes as a long DataFrame: ``row``, ``counterfactual`` (rank within the row), ``feature``,
        ``original`` and ``value``, one line per changed feature."""
        lines = []
        rank = np.zeros(len(self.row_index), dtype=np.int64)
        for k in range(1, rank.size):
            rank[k] = rank[k - 1] + 1 if self.row_index[k] == self.row_index[k - 1] else 0
        for k, i in enumerate(self.row_index):
            for feature, before, after in self._row_changes(k, i):
                lines.append((int(i), int(rank[k]), feature, before, after))
        return pd.DataFrame(lines, columns=["row", "counterfactual", "feature", "original", "value"])

    def _row_changes(self, k, i):
        original = self.rows.iloc[i]
        counterfactual = self.counterfactuals.iloc[k]
        out = []
        for name in self.counterfactuals.columns:
            before, after = original[name], counterfactual[name]
            if _same(before, after):
                continue
            out.append((name, before, after))
        return out

    def describe(self, i=None, *, outcome=None):
        """Sentences a person reads, one per counterfactual of row ``i`` (all rows when None).

        ``outcome`` names the desired outcome in the text (default: the class label or interval),
        e.g. ``outcome="approved"`` gives "approved if duration were 24 instead of 48 and ...".
        """
        outcome = self.outcome if outcome is None else str(outcome)
        positions = range(len(self)) if i is None else [self._position(i)]
        sentences = []
        for row in positions:
            found = np.flatnonzero(self.row_index == row)
            if found.size == 0:
                sentences.append(f"row {row}: {self.messages[row]}")
                continue
            for k in found:
                parts = [f"{name} were {value_text(after, None)} instead of {value_text(before, None)}"
                         for name, before, after in self._row_changes(k, row)]
                sentence = f"{outcome} if " + " and ".join(parts)
                sentences.append(sentence if i is not None else f"row {row}: {sentence}")
        return sentences

    def __str__(self):
        return "\n".join(self.describe())

    def _repr_html_(self):
        """A compact table for notebooks: (at most 20 of) the counterfactuals with their changes and metrics."""
        from .. import _html

        counts = pd.Series(self.status, dtype=object).value_counts().to_dict()
        title = (f"Counterfactuals reaching {_html.escape(self.outcome, 40)}: {len(self.row_index)} for "
                 f"{len(self)} rows ({_html.escape(', '.join(f'{k} {v}' for k, v in counts.items()))})")
        lines = []
        for k in range(min(len(self.row_index), _HTML_LINES)):
            i = int(self.row_index[k])
            changes = "; ".join(f"{_html.escape(name, 30)}: {_html.escape(value_text(before, None), 24)} &rarr; "
                                f"{_html.escape(value_text(after, None), 24)}"
                                for name, before, after in self._row_changes(k, i))
            lines.append([str(i), changes, number_text(self.output[k], digits=4),
                          number_text(self.proximity[k], digits=3), str(int(self.sparsity[k])),
                          number_text(self.plausibility[k], digits=3)])
        table = _html.table(["row", "changes", "output", "proximity", "sparsity", "plausibility"], lines,
                            numeric=(0, 2, 3, 4, 5))
        missing = [f"row {i}: {m}" for i, (st, m) in enumerate(zip(self.status, self.messages))
                   if st in ("not_found", "no_actions")][:5]
        hidden = len(self.row_index) - len(lines)
        notes = [_html.note(text) for text in missing]
        if hidden > 0:
            notes.append(_html.note(f"... and {hidden} more counterfactuals (to_frame() lists them all)"))
        return _html.render(title, table, *notes)

    def __repr__(self):
        counts = pd.Series(self.status).value_counts().to_dict()
        return (f"Recourse({len(self)} rows, {len(self.row_index)} counterfactuals, desired {self.outcome!r}, "
                f"status {counts})")


def _same(a, b):
    a_missing = bool(pd.isna(a))
    b_missing = bool(pd.isna(b))
    if a_missing or b_missing:
        return bool(a_missing and b_missing)
    return bool(a == b)
