"""Partial dependence and individual conditional expectation (ICE) curves on any model.

The partial dependence of features ``S`` at grid point ``g`` is the (weighted) mean over the rows of
``X`` of the model with the columns ``S`` set to ``g`` (Friedman 2001); the ICE curve of a row is
that model output before averaging (Goldstein et al. 2015). This is the interventional value
function of the coalition ``S`` with the grid points as explained rows and ``X`` as background, so
the rows are built and streamed through the model by the same engine as Shapley values: every grid
point of every requested feature for a chunk of rows in one model call of up to ``max_rows`` rows.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from .._engine import bind_model, coalition_outputs, coalition_values, map_row_blocks
from .._provenance import package_versions
from .._validation import check_bool, check_choice, check_n_jobs
from ..maskers import IndependentMasker
from ..model import as_model
from ._features import (check_grid_resolution, check_percentiles, encode_data, feature_grid, resolve_feature,
                        sample_weights, treated_as_categorical)
from ._results import PartialDependence

__all__ = ["partial_dependence", "partial_dependences"]


_OPTIONS = ("kind", "sample_weight", "categorical_features", "percentiles", "grid_resolution", "custom_values",
            "centered", "output", "link", "max_rows", "n_jobs", "progress")


def partial_dependences(model, X, features, **options):
    """Partial dependence (and ICE curves) of several features or pairs, in the same model calls.

    Every grid point of every item of ``features`` is asked for in one stream of model calls of up to
    ``max_rows`` rows (cheaper than one :func:`partial_dependence` call per feature).

    Parameters
    ----------
    model, X
        As for :func:`partial_dependence`.
    features : list
        Features (a name, or a position) and pairs (a tuple ``(a, b)``).
    **options
        The keyword arguments of :func:`partial_dependence` (``kind``, ``grid_resolution``,
        ``output``, ...), shared by every item.

    Returns
    -------
    list of PartialDependence
        One result per item, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> model = LinearRegression().fit(X, X @ [1.0, 2.0, 0.0])
    >>> [r.features for r in partial_dependences(model, X, [0, (1, 2)], grid_resolution=5)]
    [('x0',), ('x1', 'x2')]
    """
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise TypeError(f"partial_dependences got unexpected keyword arguments {unknown}; it takes {list(_OPTIONS)}")
    if not isinstance(features, (list, tuple, np.ndarray, pd.Index)) or (
            isinstance(features, tuple) and len(features) == 2 and not any(isinstance(f, tuple) for f in features)):
        raise TypeError(f"`features` of partial_dependences must be a list of features and pairs; got {features!r}. "
                        "For one feature or one pair use partial_dependence")
    return _partial_dependence(model, X, list(features), **options)


def partial_dependence(model, X, features, *, kind="average", sample_weight=None, categorical_features=None,
                       percentiles=(0.05, 0.95), grid_resolution=100, custom_values=None, centered=False,
                       output=None, link=None, max_rows=None, n_jobs=None, progress=None):
    """Partial dependence (and ICE curves) of one feature or a pair of features, on any model.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted scikit-learn estimator or pipeline (classifiers give ``predict_proba``, or
        ``decision_function`` without probabilities), or any callable from rows to predictions,
        such as ``clf.decision_function``. It receives data like ``X``: a raw DataFrame goes
        through the user's own pipeline.
    X : DataFrame or ndarray of shape (n_rows, n_columns)
        The rows to average over; the grid is built from them too.
    features : column name or position, or a list or tuple of one or two of them
        As in scikit-learn: ``"f"``, ``0`` or ``["f"]`` is one feature (1-D), ``["a", "b"]`` or
        ``("a", "b")`` the joint partial dependence of a pair (2-D); a boolean mask of the columns
        selects one or two. A name is looked up among the columns first; an int that is not a
        column name is a position. For several separate features in the same model calls use
        :func:`partial_dependences`.
    kind : {'average', 'individual', 'both'}, default='average'
        Partial dependence (the average), ICE curves (one per row of ``X``), or both.
    sample_weight : array-like of shape (n_rows,), default=None
        Weights of the rows in the average; ICE curves are not weighted.
    categorical_features : list of column names or positions, default=None
        Numeric columns to treat as categorical (grid of their distinct values, bars in plots).
        Categorical and boolean columns (strings, pandas categoricals, bools) always are.
    percentiles : tuple of two floats, default=(0.05, 0.95)
        Bounds of the grid of a numeric feature, as quantiles of its values.
    grid_resolution : int, default=100
        Number of equally spaced grid values of a numeric feature; a feature with fewer distinct
        values uses those values. Must be >= 2.
    custom_values : dict, default=None
        ``{feature: values}``: grid values of a feature, used as given (categories of a
        categorical feature).
    centered : bool, default=False
        Subtract from each ICE curve (and from the average) its value at the first grid point,
        so every curve starts at 0.
    output : class label or int, default=None
        Keep one output of the model. Default: every output, so a binary classifier gives both
        classes; scikit-learn keeps only the positive class, ``output=clf.classes_[1]`` (or
        ``result.average[-1]``) is its ``average[0]``.
    link : {None, "logit"}, default=None
        ``"logit"``: a classifier's probabilities on the log-odds scale (see :func:`tabxai.as_model`).
    max_rows : int, default=None
        Most rows per model call (default 32,768); bounds memory, never changes results.
    n_jobs : int, default=None
        Grid points run in this many parallel jobs (joblib); results do not depend on it.
    progress : bool, default=None
        Show a progress bar; default only for long jobs in a terminal or notebook.

    Returns
    -------
    PartialDependence
        ``average`` has shape ``(n_outputs, *grid_shape)`` and ``individual``
        ``(n_outputs, n_rows, *grid_shape)``, the shapes of scikit-learn's ``partial_dependence``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> model = LinearRegression().fit(X, X @ [1.0, 2.0, 0.0])
    >>> pd_ = partial_dependence(model, X, 1, grid_resolution=5, kind="both")
    >>> pd_.average.shape, pd_.individual.shape
    ((1, 5), (1, 200, 5))
    >>> partial_dependence(model, X, [0, 2], grid_resolution=5).average.shape  # a pair, as in scikit-learn
    (1, 5, 5)
    >>> np.allclose(np.diff(pd_.average[0]) / np.diff(pd_.grid_values[0]), 2.0)
    True
    """
    spec = _sklearn_features(features, X)
    return _partial_dependence(model, X, [spec], kind=kind, sample_weight=sample_weight,
                               categorical_features=categorical_features, percentiles=percentiles,
                               grid_resolution=grid_resolution, custom_values=custom_values, centered=centered,
                               output=output, link=link, max_rows=max_rows, n_jobs=n_jobs, progress=progress)[0]


def _partial_dependence(model, X, features, *, kind="average", sample_weight=None, categorical_features=None,
                        percentiles=(0.05, 0.95), grid_resolution=100, custom_values=None, centered=False,
                        output=None, link=None, max_rows=None, n_jobs=None, progress=None):
    """The results of a list of features and pairs, computed in the same model calls."""
    kind = check_choice(kind, "kind", ("average", "individual", "both"))
    centered = check_bool(centered, "centered")
    check_bool(progress, "progress", allow_none=True)
    grid_resolution = check_grid_resolution(grid_resolution)
    percentiles = check_percentiles(percentiles)
    n_jobs = check_n_jobs(n_jobs)
    adapter = as_model(model, output=output, max_rows=max_rows, link=link)
    schema, codes = encode_data(adapter, X)
    weights = sample_weights(sample_weight, codes.shape[0])
    specs = [_parse_spec(schema, spec) for spec in features]
    if not specs:
        raise ValueError("`features` is an empty list; give at least one feature")
    categorical = _positions(schema, categorical_features, "categorical_features")
    if custom_values is not None and not isinstance(custom_values, dict):
        raise TypeError(f"`custom_values` must be a dict {{feature: values}}; got {type(custom_values).__name__}")
    custom = {resolve_feature(schema, key, "custom_values"): values for key, values in (custom_values or {}).items()}

    grids = {}
    for position in sorted({p for spec in specs for p in spec}):
        grids[position], schema = feature_grid(
            schema, codes, position, categorical=treated_as_categorical(schema, position, categorical),
            percentiles=percentiles, grid_resolution=grid_resolution, custom=custom.get(position))
    masker = IndependentMasker(X, weights=weights).bind(schema)
    model = bind_model(adapter, schema, masker)

    points, masks, pair_mask = _grid_rows(schema.n_columns, specs, grids)
    pair_row = np.arange(points.shape[0], dtype=np.int64)
    sequential = n_jobs == 1
    work = partial(_pair_values, model, masker, points, masks, pair_row, pair_mask, kind != "average",
                   progress if sequential else False)
    blocks = map_row_blocks(work, points.shape[0], n_jobs)
    outputs = np.concatenate(blocks, axis=0)
    if kind == "average":
        average, individual = outputs, None
    else:
        individual = outputs
        average = None
        if kind == "both":
            average = np.zeros((individual.shape[0], individual.shape[2]))
            masker.reduce(np.ascontiguousarray(individual.reshape(-1, individual.shape[2])), 0, average)

    n_outputs = outputs.shape[-1]
    output_names = model.output_names
    params = {
        "method": "partial_dependence",
        "parameters": {"kind": kind, "percentiles": percentiles, "grid_resolution": grid_resolution,
                       "categorical_features": categorical_features, "centered": centered, "output": output, "link": link,
                       "sample_weight": weights is not None, "max_rows": model.max_rows, "n_jobs": n_jobs},
        "response": model.method,
        "link": link,
        "model_rows": int(points.shape[0] * codes.shape[0]),
        "versions": package_versions(),
    }
    results = []
    offset = 0
    for spec in specs:
        shape = tuple(grids[p].shape[0] for p in spec)
        size = int(np.prod(shape))
        part = slice(offset, offset + size)
        offset += size
        spec_average = None if average is None else average[part].T.reshape(n_outputs, *shape)
        spec_individual = None
        if individual is not None:
            spec_individual = individual[part].transpose(2, 1, 0).reshape(n_outputs, codes.shape[0], *shape)
        if centered:
            spec_average = _centred(spec_average, len(spec))
            spec_individual = _centred(spec_individual, len(spec))
        results.append(PartialDependence(
            features=tuple(schema.names[p] for p in spec),
            grid_values=tuple(schema.columns[p].values_of(grids[p]) for p in spec),
            average=spec_average, individual=spec_individual, output_names=output_names,
            categorical=tuple(treated_as_categorical(schema, p, categorical) for p in spec),
            kind=kind, centered=centered, params=params,
            deciles=tuple(None if treated_as_categorical(schema, p, categorical) else _deciles(codes[:, p])
                          for p in spec)))
    return results


def _pair_values(model, masker, points, masks, pair_row, pair_mask, individual, progress, indices):
    """Averages ``(m, n_outputs)`` or ICE values ``(m, n_rows, n_outputs)`` of grid points ``indices``."""
    function = coalition_outputs if individual else coalition_values
    return function(model, masker, points, masks, pair_row[indices], pair_mask[indices], progress=progress)


def _deciles(column):
    """The 10th to 90th percentiles of a numeric column (missing values left out), for the rug of a plot."""
    present = column[~np.isnan(column)]
    if present.size == 0:
        return np.zeros(0)
    return np.quantile(present, np.linspace(0.1, 0.9, 9))


def _centred(values, n_axes):
    """``values`` minus their value at the first grid point (the last ``n_axes`` axes are the grid)."""
    if values is None:
        return None
    flat = values.reshape(values.shape[:values.ndim - n_axes] + (-1,))
    return (flat - flat[..., :1]).reshape(values.shape)


def _sklearn_features(features, X):
    """One item of ``features`` from scikit-learn's ``features``: a name or position, or a tuple of one or two
    (a list, array or boolean mask of the columns is read as scikit-learn reads it: its features together)."""
    if isinstance(features, tuple):
        return features
    if not isinstance(features, (list, np.ndarray, pd.Index, pd.Series)):
        return features
    items = list(features.tolist() if isinstance(features, (np.ndarray, pd.Index, pd.Series)) else features)
    if items and all(isinstance(item, (bool, np.bool_)) for item in items):
        n_columns = np.shape(X)[1] if np.ndim(X) == 2 else None
        if n_columns is not None and len(items) != n_columns:
            raise ValueError(f"a boolean mask in `features` needs one entry per column ({n_columns}); "
                             f"got {len(items)}")
        items = [j for j, keep in enumerate(items) if keep]
    if not 1 <= len(items) <= 2:
        raise ValueError(
            f"partial_dependence computes one feature or one pair (2-D); got {len(items)} features {items!r}. "
            "For several separate features in the same model calls use "
            "tx.partial_dependences(model, X, [f1, f2, (a, b), ...]), which returns a list")
    if any(isinstance(item, (list, tuple, np.ndarray)) for item in items):
        raise TypeError(f"`features` of partial_dependence is one feature or a pair of features; got {features!r}. "
                        "For several features and pairs use tx.partial_dependences")
    return tuple(items)


def _parse_spec(schema, spec):
    """Column positions of one item of ``features``: one feature, or a tuple of one or two."""
    if isinstance(spec, tuple):
        if not 1 <= len(spec) <= 2:
            raise ValueError(
                f"a tuple in `features` is one feature or a pair of features (2-D partial dependence); got {spec!r}")
        positions = tuple(resolve_feature(schema, f) for f in spec)
        if len(set(positions)) != len(positions):
            raise ValueError(f"a pair in `features` needs two different features; got {spec!r}")
        return positions
    if isinstance(spec, (list, np.ndarray, pd.Index)):
        raise TypeError(f"give a pair of features in `features` as a tuple, e.g. ('a', 'b'); got {spec!r}")
    return (resolve_feature(schema, spec),)


def _positions(schema, names, what):
    if names is None:
        return set()
    if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple, np.ndarray, pd.Index)):
        names = [names]
    return {resolve_feature(schema, name, what) for name in names}


def _grid_rows(n_columns, specs, grids):
    """Code rows of every grid point (the first feature of a pair varies slowest), with their masks."""
    blocks, pair_mask = [], []
    masks = np.zeros((len(specs), n_columns), dtype=np.bool_)
    for s, spec in enumerate(specs):
        axes = np.meshgrid(*(grids[p] for p in spec), indexing="ij")
        block = np.zeros((axes[0].size, n_columns), dtype=np.float64)
        for axis, p in zip(axes, spec):
            block[:, p] = axis.ravel()
            masks[s, p] = True
        blocks.append(block)
        pair_mask.append(np.full(block.shape[0], s, dtype=np.int64))
    return np.concatenate(blocks, axis=0), masks, np.concatenate(pair_mask)
