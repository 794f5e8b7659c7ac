"""Similar cases: the nearest reference rows of each row, in the mixed-type distance of the examples."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._engine import predict
from .._validation import check_int
from ..model import as_model
from ._encoding import MixedEncoding, squared_distances, take_rows

__all__ = ["neighbours"]

_BLOCK_ENTRIES = 1 << 21


def neighbours(X_reference, rows, k=5, *, model=None, output=None):
    """The ``k`` reference rows most similar to each row, optionally with the model's prediction.

    Distances are those of :class:`tabxai.Prototypes`: numeric columns standardised with the
    reference's mean and standard deviation (missing at the mean), other columns one-hot with
    missing as a level of its own (one changed category counts like one standard deviation).
    Reference rows are scanned in blocks, so memory stays bounded whatever their number.

    Parameters
    ----------
    X_reference : DataFrame or 2-D array
        The rows to search (e.g. approved applicants).
    rows : DataFrame or 2-D array
        The rows to find similar cases for; same columns.
    k : int, default=5
        Neighbours per row (at most the number of reference rows).
    model : estimator, pipeline or callable, default=None
        When given, its outputs for each neighbour are added (``predict_proba`` of a classifier,
        one column per class; ``predict`` otherwise).
    output : label, default=None
        Keep one output of ``model`` (e.g. the favourable class).

    Returns
    -------
    DataFrame
        One line per (row, neighbour): ``row`` (the row's label), ``rank`` (1 = nearest),
        ``neighbour`` (the reference row's label), ``distance`` (Euclidean, encoded), the model's
        outputs when ``model`` is given, and the neighbour's columns as in ``X_reference``.

    Examples
    --------
    >>> import pandas as pd
    >>> import tabxai as tx
    >>> reference = pd.DataFrame({"age": [25, 40, 61], "housing": ["rent", "own", "own"]})
    >>> tx.neighbours(reference, reference.iloc[[1]], k=2)[["row", "rank", "neighbour"]].values.tolist()
    [[1, 1, 1], [1, 2, 2]]
    """
    encoding = MixedEncoding(X_reference, what="X_reference")
    reference = encoding.reference_points
    n_reference = reference.shape[0]
    k = check_int(k, "k", min_value=1, max_value=n_reference)
    queries = encoding.transform(rows, what="rows")
    positions, distances = _nearest(queries, reference, k)
    flat = positions.ravel()
    row_labels = rows.index if isinstance(rows, pd.DataFrame) else pd.RangeIndex(len(queries))
    ref_labels = X_reference.index if isinstance(X_reference, pd.DataFrame) else pd.RangeIndex(n_reference)
    front = {"row": np.repeat(row_labels.to_numpy(), k),
             "rank": np.tile(np.arange(1, k + 1), len(queries)),
             "neighbour": ref_labels.to_numpy()[flat],
             "distance": np.sqrt(distances.ravel())}
    neighbours_data = take_rows(X_reference, flat)
    if model is not None:
        adapter = as_model(model, output=output)
        schema = encoding.schema
        codes = schema.encode(neighbours_data, what="X_reference")
        bound = adapter.bind(schema, sample=codes)
        outputs = predict(bound, codes) if len(codes) else np.zeros((0, 1))
        names = bound.output_names or tuple(f"output_{j}" for j in range(outputs.shape[1]))
        for j, name in enumerate(names):
            label = "prediction" if len(names) == 1 and not bound.is_classifier else (
                f"P({name})" if bound.method == "predict_proba" else str(name))
            front[label] = outputs[:, j]
    frame = pd.DataFrame(front)
    if isinstance(neighbours_data, pd.DataFrame):
        data = neighbours_data.reset_index(drop=True)
    else:
        data = pd.DataFrame(neighbours_data, columns=list(encoding.names))
    data = data[[c for c in data.columns if c not in frame.columns]]
    return pd.concat([frame, data], axis=1)


def _nearest(queries, reference, k):
    """Positions ``(n_queries, k)`` of the nearest reference points and their squared distances, ties by position."""
    n_queries, n_reference = queries.shape[0], reference.shape[0]
    best_position = np.zeros((n_queries, 0), dtype=np.int64)
    best_distance = np.zeros((n_queries, 0))
    step = max(k, _BLOCK_ENTRIES // max(1, n_queries))
    for start in range(0, n_reference, step):
        block = squared_distances(queries, reference[start:start + step])
        candidates = np.concatenate([best_distance, block], axis=1)
        positions = np.concatenate([best_position, np.broadcast_to(np.arange(start, start + block.shape[1]),
                                                                    block.shape)], axis=1)
        order = _order(candidates, positions, k)
        best_distance = np.take_along_axis(candidates, order, axis=1)
        best_position = np.take_along_axis(positions, order, axis=1)
    exact = ((queries[:, None, :] - reference[best_position]) ** 2).sum(axis=2)  # without the Gram rounding
    order = _order(exact, best_position, k)
    return np.take_along_axis(best_position, order, axis=1), np.take_along_axis(exact, order, axis=1)


def _order(distances, positions, k):
    """Per row, the columns of the ``k`` smallest distances, ties broken by position."""
    return np.lexsort((positions, distances), axis=-1)[:, :k]
