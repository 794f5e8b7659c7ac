"""Accumulated local effects (ALE) of a numeric feature on any model (Apley and Zhu 2020).

The feature's range is cut into bins at quantiles of its values. For every row, the model is asked
twice, with the feature set to the lower and to the upper edge of the row's bin; the local effect
of a bin is the (weighted) mean of the differences over its rows, and the ALE at an edge is the sum
of the local effects of the bins below it, centred to mean zero over the rows. Each row is only
moved within its own bin, so, unlike partial dependence, ALE never asks the model about
combinations of values that the data does not contain, and stays honest when features are
correlated.
"""

from __future__ import annotations

import numpy as np

from .._engine import stream_rows
from .._kernels.inspection import fill_column_values
from .._provenance import package_versions
from .._validation import check_bool
from ..data import NUMERIC
from ..model import as_model
from ._features import check_grid_resolution, encode_data, resolve_feature, sample_weights
from ._results import AccumulatedLocalEffects

__all__ = ["accumulated_local_effects", "weighted_quantiles"]


def weighted_quantiles(values, weights, probabilities):
    """Inverted-CDF quantiles of ``values`` with non-negative ``weights``: for each probability ``p``
    the smallest value ``v`` of positive weight with ``sum(weights[values <= v]) >= p * sum(weights)``. Equal to ``numpy.quantile(values, p, method="inverted_cdf", weights=weights)`` (numpy >= 2),
    written out so that numpy 1.24 works too."""
    values, weights = values[weights > 0], weights[weights > 0]
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    cumulative = np.cumsum(weights[order])
    cdf = cumulative / cumulative[-1]
    positions = np.searchsorted(cdf, np.asarray(probabilities, dtype=np.float64), side="left")
    return ordered[np.clip(positions, 0, len(ordered) - 1)]


def accumulated_local_effects(model, X, feature, *, grid_resolution=40, sample_weight=None, output=None,
                              link=None, max_rows=None, progress=None):
    """Accumulated local effects of one numeric feature.

    With bin edges ``z_0 < ... < z_K`` and ``n_k`` rows ``x`` in bin ``k`` (``z_{k-1} < x_j <= z_k``,
    the first bin also holding ``z_0``), the uncentred effect at ``z_k`` is
    ``g(z_k) = sum_{l <= k} mean_{x in bin l} [f(z_l, x_rest) - f(z_{l-1}, x_rest)]`` and the ALE is
    ``g`` minus the mean of ``g(upper edge of each row's bin)`` over the rows (Apley and Zhu 2020,
    eqs. 15-16). Cost: two model rows per row of ``X``.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted scikit-learn estimator or pipeline, or any callable from rows to predictions.
    X : DataFrame or ndarray of shape (n_rows, n_columns)
        The data; rows with the feature missing are left out.
    feature : column name or position
        One numeric feature (ALE is 1-D; categories have no order to accumulate along).
    grid_resolution : int, default=40
        Most bin edges: quantiles of the feature at ``0, 1 / (grid_resolution - 1), ..., 1`` (values
        of the data: the smallest value whose weighted share of rows at or below it reaches the
        probability, as ``numpy.quantile(method="inverted_cdf")``), equal edges merged. Must be >= 2.
    sample_weight : array-like of shape (n_rows,), default=None
        Weights of the rows, in the quantiles and the means.
    output : class label or int, default=None
        Keep one output of the model (default: every output).
    link : {None, "logit"}, default=None
        ``"logit"``: a classifier's probabilities on the log-odds scale (see :func:`tabxai.as_model`).
    max_rows : int, default=None
        Most rows per model call (default 32,768); never changes results.
    progress : bool, default=None
        Show a progress bar; default only for long jobs in a terminal or notebook.

    Returns
    -------
    AccumulatedLocalEffects
        ``values`` of shape ``(n_outputs, n_edges)`` at ``grid_values`` (the edges).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(300, 2))
    >>> model = LinearRegression().fit(X, 3.0 * X[:, 0] - X[:, 1])
    >>> ale = accumulated_local_effects(model, X, 0, grid_resolution=10)
    >>> np.allclose(np.diff(ale.values[0]) / np.diff(ale.grid_values), 3.0)
    True
    """
    grid_resolution = check_grid_resolution(grid_resolution)
    check_bool(progress, "progress", allow_none=True)
    if isinstance(feature, (tuple, list, np.ndarray)):
        raise ValueError(
            f"accumulated local effects are 1-D: give one feature; got {feature!r}. For the joint effect of "
            "two features use partial_dependence(model, X, (a, b))")
    adapter = as_model(model, output=output, max_rows=max_rows, link=link)
    schema, codes = encode_data(adapter, X)
    model = adapter.bind(schema, sample=codes)
    weights = sample_weights(sample_weight, codes.shape[0])
    position = resolve_feature(schema, feature, "feature")
    column = schema.columns[position]
    if column.kind != NUMERIC:
        raise ValueError(
            f"accumulated local effects need a numeric feature; {column.name!r} is {column.kind} (its values have "
            "no order to accumulate along). Use partial_dependence for categorical features")

    values = codes[:, position]
    keep = ~np.isnan(values) if weights is None else ~np.isnan(values) & (weights > 0)
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        raise ValueError(f"feature {column.name!r} has no non-missing values (with positive weight)")
    row_weights = np.ones(rows.size) if weights is None else weights[rows]
    probabilities = np.linspace(0.0, 1.0, grid_resolution)
    if weights is None:
        edges = np.unique(np.quantile(values[rows], probabilities, method="inverted_cdf"))
    else:
        edges = np.unique(weighted_quantiles(values[rows], row_weights, probabilities))
    if edges.size < 2:
        raise ValueError(f"feature {column.name!r} takes a single value; it has no local effects")
    n_bins = edges.size - 1
    bins = np.clip(np.searchsorted(edges, values[rows], side="left"), 1, n_bins) - 1

    row_index = np.repeat(rows, 2).astype(np.int64)
    set_values = np.column_stack([edges[bins], edges[bins + 1]]).ravel()
    outputs = []

    def fill(start, stop, out):
        fill_column_values(codes, row_index, position, set_values, start, stop, out)

    def consume(chunk, start):
        outputs.append(chunk)

    stream_rows(model, row_index.size, codes.shape[1], fill, consume, progress=progress)
    outputs = np.concatenate(outputs, axis=0)
    differences = outputs[1::2] - outputs[0::2]

    counts = np.bincount(bins, weights=row_weights, minlength=n_bins)
    n_outputs = differences.shape[1]
    effects = np.zeros((n_outputs, n_bins))
    filled = counts > 0
    for k in range(n_outputs):
        sums = np.bincount(bins, weights=row_weights * differences[:, k], minlength=n_bins)
        effects[k, filled] = sums[filled] / counts[filled]
    uncentred = np.concatenate([np.zeros((n_outputs, 1)), np.cumsum(effects, axis=1)], axis=1)
    offset = uncentred[:, 1:] @ counts / counts.sum()
    ale = uncentred - offset[:, None]

    params = {
        "method": "accumulated_local_effects",
        "parameters": {"grid_resolution": grid_resolution, "output": output, "sample_weight": weights is not None,
                       "max_rows": model.max_rows},
        "response": model.method,
        "link": link,
        "model_rows": int(row_index.size),
        "versions": package_versions(),
    }
    output_names = model.output_names
    return AccumulatedLocalEffects(column.name, edges, ale, counts, output_names, params)
