"""SageValues: the result of :func:`tabxai.sage`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _display, _html

__all__ = ["SageValues"]


class SageValues:
    """SAGE values: each player's share of the reduction of the model's loss, with standard errors.

    Attributes
    ----------
    values, stderr : ndarray of shape (n_players,)
        The estimate and its standard error (Monte Carlo error of the permutation sample: it
        shrinks with more permutations; it does not cover another draw of the data).
    feature_names : tuple
    loss : str
    total : float
        Loss of the background-averaged prediction minus the model's loss, averaged over the sampled
        rows: what the values add up to (exactly, unit by unit).
    n_permutations : int
        Orders of the players used (antithetic pairs count as two).
    converged : bool
        Whether ``tol`` was met.
    params : dict
        Method, parameters, seed, model rows and versions.
    """

    def __init__(self, values, stderr, feature_names, loss, params, *, n_permutations, converged, total):
        self.values = np.asarray(values, dtype=np.float64)
        self.stderr = np.asarray(stderr, dtype=np.float64)
        self.feature_names = tuple(feature_names)
        self.loss = loss
        self.params = dict(params)
        self.n_permutations = int(n_permutations)
        self.converged = bool(converged)
        self.total = float(total)

    def to_frame(self):
        """Value, standard error and 95% interval per player, largest value first."""
        frame = pd.DataFrame({"value": self.values, "stderr": self.stderr,
                              "ci_low": self.values - 1.96 * self.stderr, "ci_high": self.values + 1.96 * self.stderr},
                             index=pd.Index(list(self.feature_names), name="feature", dtype=object))
        return frame.sort_values("value", ascending=False, kind="stable")

    def plot(self, ax=None, *, max_features=20):
        """Bars of the values with 95% intervals (1.96 standard errors), largest on top.

        Returns
        -------
        matplotlib Axes
        """
        from ..plots.sage import sage_values

        return sage_values(self, ax=ax, max_features=max_features)

    def _repr_html_(self):
        fmt = _display.NumberFormat(self.values)
        title = (f"SAGE: {len(self.feature_names)} features, loss {_html.escape(self.loss)} "
                 f"(values add up to {_html.escape(fmt(self.total))}), {self.n_permutations} permutations"
                 f"{'' if self.converged else ', not converged'}")
        order = np.argsort(-self.values, kind="stable")
        shown, hidden = order[:20], order[20:]
        scale = float(np.abs(self.values).max()) or 1.0
        rows = [[_html.escape(_display.plain(self.feature_names[j]), 40), _html.escape(fmt(self.values[j], sign=True)),
                 _html.escape(fmt.error(1.96 * self.stderr[j])), _html.bar(self.values[j], scale)] for j in shown]
        return _html.render(title, _html.table(["feature", f"decrease in {_html.escape(self.loss)}", "± 1.96 s.e.", ""],
                                               rows, numeric=(1, 2)),
                            _html.hidden_note([self.feature_names[j] for j in hidden], "more features"),
                            _html.parameters_block(self.params))

    def __repr__(self):
        fmt = _display.NumberFormat(self.values)
        lines = [f"<tabxai.SageValues: {len(self.feature_names)} features, loss {self.loss!r}, "
                 f"{self.n_permutations} permutations{'' if self.converged else ' (not converged)'}, "
                 f"values add up to {fmt(self.total)}>"]
        order = np.argsort(-self.values, kind="stable")
        names = [_display.shorten(_display.plain(self.feature_names[j]), 30) for j in order[:10]]
        width = max((len(n) for n in names), default=0)
        for name, j in zip(names, order[:10]):
            lines.append(f"    {name:<{width}}  {fmt(self.values[j], sign=True)} ± {fmt.error(self.stderr[j])}")
        if len(order) > 10:
            lines.append(f"    {len(order) - 10} more: {_display.names_list([self.feature_names[j] for j in order[10:]])}")
        return "\n".join(lines)
