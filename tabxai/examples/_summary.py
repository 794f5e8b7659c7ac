"""A small weighted background that stands for a table: k-means medoids in the examples' mixed-type geometry."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_int, resolve_seed
from ..maskers import IndependentMasker
from ._encoding import MixedEncoding, take_rows

__all__ = ["background_summary"]

_FIT_ROWS = 50_000  # rows that fit the encoding and k-means; larger tables are sampled, and counted in blocks


def background_summary(X, n_rows=8, *, random_state=0):
    """A small weighted background that stands for ``X``: an :class:`~tabxai.IndependentMasker` of ``n_rows`` rows.

    The rows of ``X`` are clustered with k-means in the mixed-type geometry of the example-based
    methods (:class:`~tabxai.examples._encoding.MixedEncoding`: numbers standardised, missing at the
    mean; categories one-hot, missing as a level of its own; columns with no value at all left out);
    each cluster is represented by its medoid, a real row of ``X`` (so no impossible combination of
    values reaches the model), weighted by the cluster's size. Shapley values over the summary cost
    ``n_rows`` model rows per coalition; the portfolio benchmark measures how far they move from the
    values over a large random background (compared with a random background of the same cost).
    Tables of more than 50,000 rows are summarised from a seeded sample of 50,000 (the clusters'
    weights still count every row, assigned in blocks), so memory stays bounded.

    Parameters
    ----------
    X : DataFrame or ndarray of shape (n_samples, n_columns)
    n_rows : int, default=8
        Rows of the summary (all of ``X`` when it has no more rows).
    random_state : int, default=0
        Seed of k-means.

    Returns
    -------
    IndependentMasker
        ``background`` (the medoid rows of ``X``, with its index) and ``weights`` (cluster sizes / n).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [20, 21, 22, 60, 61], "job": ["a", "a", "a", "b", "b"]})
    >>> summary = background_summary(X, n_rows=2)
    >>> sorted(summary.weights.round(2).tolist()), sorted(summary.background["job"])
    ([0.4, 0.6], ['a', 'b'])
    """
    from sklearn.cluster import KMeans

    n_rows = check_int(n_rows, "n_rows", min_value=1)
    seed = resolve_seed(random_state)
    n_samples = len(X) if isinstance(X, pd.DataFrame) else np.asarray(X).shape[0]
    if n_samples == 0:
        raise ValueError("X is empty; a background summary needs at least one row")
    if n_samples <= n_rows:
        return IndependentMasker(take_rows(X, np.arange(n_samples)))
    known = X.loc[:, X.notna().any().to_numpy()] if isinstance(X, pd.DataFrame) else \
        np.asarray(X)[:, ~pd.isna(np.asarray(X)).all(axis=0)]  # a column with no value tells no rows apart
    # a large table: the encoding and k-means on a seeded sample, the weights from every row, in blocks (memory
    # bounded whatever the number of rows; the medoids are rows of the sample)
    sample = np.arange(n_samples) if n_samples <= _FIT_ROWS else \
        np.sort(np.random.default_rng(seed).choice(n_samples, _FIT_ROWS, replace=False))
    encoding = MixedEncoding(take_rows(known, sample) if sample.size < n_samples else known)
    points = encoding.reference_points
    kmeans = KMeans(n_clusters=n_rows, n_init=4, random_state=seed % 2**32).fit(points)
    sizes = np.bincount(kmeans.labels_, minlength=n_rows)
    if sample.size < n_samples:
        sizes = np.zeros(n_rows, dtype=np.int64)
        for start in range(0, n_samples, _FIT_ROWS):
            block = encoding.transform(take_rows(known, np.arange(start, min(start + _FIT_ROWS, n_samples))))
            sizes += np.bincount(kmeans.predict(block), minlength=n_rows)
    medoids, weights = [], []
    for cluster in range(n_rows):
        members = np.flatnonzero(kmeans.labels_ == cluster)
        if members.size and sizes[cluster]:
            distance = ((points[members] - kmeans.cluster_centers_[cluster]) ** 2).sum(axis=1)
            medoids.append(sample[members[np.argmin(distance)]])
            weights.append(sizes[cluster])
    order = np.argsort(medoids)
    return IndependentMasker(take_rows(X, np.asarray(medoids)[order]),
                             weights=np.asarray(weights, dtype=np.float64)[order])
