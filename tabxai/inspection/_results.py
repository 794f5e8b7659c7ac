"""Result objects of the global inspection methods: values, names and provenance; plots on demand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _display, _html
from .._validation import check_real
from ..model import output_index

__all__ = ["AccumulatedLocalEffects", "PartialDependence", "PermutationImportance"]


class PartialDependence:
    """Partial dependence and ICE curves of one feature or one pair of features.

    Shapes (``k`` model outputs, ``n`` rows of ``X``, one grid axis per feature), those of
    scikit-learn's ``partial_dependence``; they depend only on the number of outputs, never on
    the kind of model:

    ==================  =====================================================================
    ``grid_values``     tuple with one 1-D array per feature (category labels for categories)
    ``average``         ``(k, len(grid_values[0])[, len(grid_values[1])])``, or None
    ``individual``      ``(k, n, len(grid_values[0])[, len(grid_values[1])])``, or None
    ==================  =====================================================================

    Attributes
    ----------
    features : tuple
        The feature names (one, or two for a pair).
    grid_values : tuple of ndarray
    average, individual : ndarray or None
        The partial dependence and the ICE curves, as ``kind`` asked.
    output_names : tuple
        Names of the model outputs (class labels for a classifier's probabilities).
    categorical : tuple of bool
        Whether each feature was treated as categorical.
    kind : {"average", "individual", "both"}
    centered : bool
        Whether curves were shifted to start at 0.
    params : dict
        ``method``, its parameters, ``model_rows`` and ``versions``.
    deciles : tuple
        Per feature, the 10th to 90th percentiles of a numeric feature's data (drawn as a rug), or
        None for a categorical feature.
    """

    def __init__(self, features, grid_values, average, individual, output_names, categorical, kind, centered,
                 params, deciles=None):
        self.features = tuple(features)
        self.grid_values = tuple(grid_values)
        self.average = average
        self.individual = individual
        self.output_names = tuple(output_names)
        self.categorical = tuple(categorical)
        self.kind = kind
        self.centered = centered
        self.params = dict(params)
        self.deciles = tuple(deciles) if deciles is not None else (None,) * len(self.features)

    def output_index(self, output=None):
        """Position of ``output`` (name or position); None: the only one, or a binary classifier's positive class."""
        return _output_index(self.output_names, output, self.params.get("response"))

    def to_frame(self, output=None):
        """The average as a long DataFrame: one column per feature and ``average`` (one output)."""
        if self.average is None:
            raise ValueError("this result has no average (kind='individual'); compute it with kind='both'")
        k = self.output_index(output)
        grids = np.meshgrid(*self.grid_values, indexing="ij")
        frame = {name: grid.ravel() for name, grid in zip(self.features, grids)}
        frame["average"] = self.average[k].ravel()
        return pd.DataFrame(frame)

    def plot(self, ax=None, *, output=None, max_ice_lines=100, random_state=None):
        """Plot the partial dependence with ICE curves, a heat map for a pair, bars for categories.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        output : class label or int, default=None
            Which output to draw; needed when the model has more than two outputs.
        max_ice_lines : int, default=100
            At most this many ICE curves, a random subsample of the rows.
        random_state : None, int or Generator, default=None
            Seed of the subsample of ICE curves.

        Returns
        -------
        matplotlib Axes
        """
        from ..plots.inspection import partial_dependence

        return partial_dependence(self, ax=ax, output=output, max_ice_lines=max_ice_lines,
                                       random_state=random_state)

    def _repr_html_(self):
        """A compact table for notebooks: the average at (at most 25 of) the grid values, with inline bars."""
        k, others = _shown_output(self)
        label = _display.output_label(self.params, self.output_names[k], long=True)
        features = " and ".join(_html.escape(f, 40) for f in self.features)
        what = ("centred partial dependence" if self.centered else "partial dependence") if self.average is not None \
            else "ICE curves"
        title = f"{what.capitalize()} of {_html.escape(label)} on {features}"
        parts = [_html.note(f"showing output {_display.plain(self.output_names[k])}; other outputs: "
                            f"{_display.names_list(others)}") if others else ""]
        parts.append(_html.note(f"kind={self.kind}, grid " + " x ".join(str(len(g)) for g in self.grid_values)))
        if self.average is not None and len(self.features) == 1:
            average = self.average[k]
            positions = _spread_positions(len(average), 25)
            centre = float(average.mean())
            fmt = _display.NumberFormat(average)
            scale = float(np.abs(average - centre).max()) or 1.0
            rows = [[_html.escape(_display.value_text(self.grid_values[0][i], 40, digits=4)), _html.escape(fmt(average[i])),
                     _html.bar(average[i] - centre, scale)] for i in positions]
            parts.append(_html.table([_html.escape(self.features[0], 40), _html.escape(label), "vs. its mean"], rows,
                                     numeric=(1,)))
            if len(positions) < len(average):
                parts.append(_html.note(f"{len(positions)} of {len(average)} grid values shown"))
        elif self.average is not None:
            average = self.average[k]
            fmt = _display.NumberFormat(average)
            low, high = np.unravel_index(np.argmin(average), average.shape), \
                np.unravel_index(np.argmax(average), average.shape)
            rows = [[name, _html.escape(fmt(average[at]))] + [_html.escape(_display.value_text(g[i], 30, digits=4))
                                                             for g, i in zip(self.grid_values, at)]
                    for name, at in (("lowest", low), ("highest", high))]
            parts.append(_html.table(["", _html.escape(label)] + [_html.escape(f, 30) for f in self.features], rows,
                                     numeric=(1,)))
        parts.append(_html.parameters_block(self.params))
        return _html.render(title, *parts)

    def __repr__(self):
        grid = " x ".join(str(len(g)) for g in self.grid_values)
        return (f"<tabxai.PartialDependence of {' and '.join(map(repr, self.features))}: {self.kind}, "
                f"grid {grid}, outputs {', '.join(map(_display.plain, self.output_names))}>")


class AccumulatedLocalEffects:
    """Accumulated local effects of one numeric feature (Apley and Zhu 2020).

    Attributes
    ----------
    feature : column name
    grid_values : ndarray of shape (n_edges,)
        Bin edges: quantiles of the feature that are values of the data.
    values : ndarray of shape (n_outputs, n_edges)
        The ALE at each edge, centred so that its weighted mean over the rows is 0.
    bin_counts : ndarray of shape (n_edges - 1,)
        Rows (sum of weights with ``sample_weight``) in each bin ``(edge[k], edge[k + 1]]``.
    output_names : tuple
    params : dict
    """

    def __init__(self, feature, grid_values, values, bin_counts, output_names, params):
        self.feature = feature
        self.grid_values = grid_values
        self.values = values
        self.bin_counts = bin_counts
        self.output_names = tuple(output_names)
        self.params = dict(params)

    def output_index(self, output=None):
        """Position of ``output``; None: the only output, or a binary classifier's positive class."""
        return _output_index(self.output_names, output, self.params.get("response"))

    def plot(self, ax=None, *, output=None):
        """Plot the ALE curve over the feature, with the bin edges as a rug.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        output : class label or int, default=None
            Which output to draw; needed when the model has more than two outputs.

        Returns
        -------
        matplotlib Axes
        """
        from ..plots.inspection import accumulated_local_effects

        return accumulated_local_effects(self, ax=ax, output=output)

    def _repr_html_(self):
        """A compact table for notebooks: the ALE at (at most 25 of) the bin edges, with inline bars."""
        k, others = _shown_output(self)
        label = _display.output_label(self.params, self.output_names[k], long=True)
        title = (f"Accumulated local effects of {_html.escape(label)} on {_html.escape(self.feature, 40)}: "
                 f"{len(self.grid_values) - 1} bins")
        values = np.asarray(self.values[k], dtype=np.float64)
        positions = _spread_positions(len(values), 25)
        fmt = _display.NumberFormat(values)
        scale = float(np.abs(values).max()) or 1.0
        rows = [[_html.escape(_display.value_text(self.grid_values[i], 40, digits=4)), _html.escape(fmt(values[i], sign=True)),
                 _html.bar(values[i], scale)] for i in positions]
        parts = [_html.note(f"showing output {_display.plain(self.output_names[k])}; other outputs: "
                            f"{_display.names_list(others)}") if others else "",
                 _html.table([_html.escape(self.feature, 40), "ALE", ""], rows, numeric=(1,)),
                 _html.note(f"{len(positions)} of {len(values)} bin edges shown") if len(positions) < len(values)
                 else "", _html.parameters_block(self.params)]
        return _html.render(title, *parts)

    def __repr__(self):
        return (f"<tabxai.AccumulatedLocalEffects of {self.feature!r}: {len(self.grid_values) - 1} bins, "
                f"outputs {', '.join(map(_display.plain, self.output_names))}>")


class PermutationImportance:
    """Permutation importance of features or feature groups: the drop in score when they are shuffled.

    Attributes
    ----------
    importances : ndarray of shape (n_features, n_repeats)
        ``baseline score - score with the feature permuted``, per repeat.
    importances_mean, importances_std : ndarray of shape (n_features,)
        Mean and standard deviation (``ddof=0``, as scikit-learn) over the repeats.
    stderr : ndarray of shape (n_features,)
        Standard error of the mean, ``std(ddof=1) / sqrt(n_repeats)`` (NaN for one repeat). It and
        the confidence intervals cover the permutation noise only, given the data and the model:
        not the sampling of the rows.
    baseline_scores : ndarray of shape (n_repeats,)
        Score on the unpermuted rows of each repeat (all equal without ``max_samples``).
    feature_names : tuple
        Columns, or feature groups.
    scoring : str
    params : dict
    """

    def __init__(self, importances, baseline_scores, feature_names, scoring, params):
        self.importances = importances
        self.baseline_scores = baseline_scores
        self.feature_names = tuple(feature_names)
        self.scoring = scoring
        self.params = dict(params)

    @property
    def importances_mean(self):
        return self.importances.mean(axis=1)

    @property
    def importances_std(self):
        return self.importances.std(axis=1)

    @property
    def baseline_score(self):
        """Mean baseline score over the repeats."""
        return float(self.baseline_scores.mean())

    @property
    def stderr(self):
        n_repeats = self.importances.shape[1]
        if n_repeats < 2:
            return np.full(self.importances.shape[0], np.nan)
        return self.importances.std(axis=1, ddof=1) / np.sqrt(n_repeats)

    def confidence_interval(self, level=0.95):
        """Student-t interval of the mean importance over the repeats, shape (n_features, 2).

        It covers the permutation noise only, given the data and the model (another draw of the
        rows would move the importances more).

        Parameters
        ----------
        level : float, default=0.95
            Coverage, in (0, 1).
        """
        level = check_real(level, "level", min_value=0.0, max_value=1.0, min_inclusive=False)
        if level >= 1.0:
            raise ValueError(f"`level` must be a number in (0, 1); got {level}")
        from scipy.stats import t

        n_repeats = self.importances.shape[1]
        half = t.ppf(0.5 + level / 2, df=max(n_repeats - 1, 1)) * self.stderr
        mean = self.importances_mean
        return np.column_stack([mean - half, mean + half])

    def to_frame(self, level=0.95):
        """Mean, std, standard error and confidence interval per feature, most important first.

        The standard error and interval cover the permutation noise only, given the data and the
        model, not the sampling of the rows.
        """
        interval = self.confidence_interval(level)
        frame = pd.DataFrame({"mean": self.importances_mean, "std": self.importances_std, "stderr": self.stderr,
                              "ci_low": interval[:, 0], "ci_high": interval[:, 1]},
                             index=pd.Index(list(self.feature_names), name="feature", dtype=object))
        return frame.sort_values("mean", ascending=False, kind="stable")

    def plot(self, ax=None, *, max_features=20):
        """Box plot of the importances over the repeats, most important feature on top.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        max_features : int, default=20
            Show at most this many features (the most important).

        Returns
        -------
        matplotlib Axes
        """
        from ..plots.inspection import permutation_importance

        return permutation_importance(self, ax=ax, max_features=max_features)

    def _repr_html_(self):
        """A compact table for notebooks: the features by mean importance with 95% intervals and inline bars."""
        n_repeats = self.importances.shape[1]
        fmt = _display.NumberFormat(np.concatenate([[self.baseline_score], self.importances_mean]))
        title = (f"Permutation importance: {len(self.feature_names)} features, scoring "
                 f"{_html.escape(self.scoring)} (baseline {_html.escape(fmt(self.baseline_score))}), "
                 f"{n_repeats} repeats")
        means = self.importances_mean
        interval = self.confidence_interval() if n_repeats > 1 else None
        order = np.argsort(-means, kind="stable")
        shown, hidden = order[:20], order[20:]
        scale = float(np.abs(means).max()) or 1.0
        rows = []
        for j in shown:
            half = "" if interval is None else fmt.error((interval[j, 1] - interval[j, 0]) / 2)
            rows.append([_html.escape(self.feature_names[j], 40), _html.escape(fmt(means[j], sign=True)),
                         _html.escape(half), _html.bar(means[j], scale)])
        parts = [_html.table(["feature", f"decrease in {_html.escape(self.scoring)}", "± 95% CI", ""], rows,
                             numeric=(1, 2)),
                 _html.hidden_note([self.feature_names[j] for j in hidden], "more features"),
                 _html.note("intervals cover the permutation noise only (for these rows and this model)"),
                 _html.parameters_block(self.params)]
        return _html.render(title, *parts)

    def __repr__(self):
        fmt = _display.NumberFormat(np.concatenate([[self.baseline_score], self.importances_mean]))
        lines = [f"<tabxai.PermutationImportance: {len(self.feature_names)} features, scoring {self.scoring!r}, "
                 f"{self.importances.shape[1]} repeats, baseline score {fmt(self.baseline_score)}; "
                 "± standard error of the permutation noise only, given the data and the model>"]
        order = np.argsort(-self.importances_mean, kind="stable")
        stderr = self.stderr
        names = [_display.shorten(_display.plain(self.feature_names[j]), 30) for j in order[:10]]
        width = max((len(n) for n in names), default=0)
        for name, j in zip(names, order[:10]):
            lines.append(f"    {name:<{width}}  {fmt(self.importances_mean[j], sign=True)} ± {fmt.error(stderr[j])}")
        if len(order) > 10:
            hidden = [self.feature_names[j] for j in order[10:]]
            lines.append(f"    {len(hidden)} more: {_display.names_list(hidden)}")
        return "\n".join(lines)


def _shown_output(result):
    """The output a display shows (the default one, else the first) and the other outputs' names."""
    try:
        k = result.output_index(None)
    except ValueError:
        k = 0
    return k, [name for j, name in enumerate(result.output_names) if j != k]


def _spread_positions(size, limit):
    """At most ``limit`` positions spread evenly over ``range(size)``, first and last included."""
    if size <= limit:
        return list(range(size))
    return sorted(set(np.linspace(0, size - 1, limit).round().astype(int).tolist()))


def _output_index(names, output, response):
    return output_index(tuple(names), output, response)
