"""Prototypes and criticisms of a table: the typical rows, weighted, and the rows they represent worst."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

from .._validation import check_bool, check_choice, check_int, check_real, resolve_seed, row_generator
from ..data import align_targets
from ._encoding import KERNELS, MixedEncoding, kernel_means, median_squared_distance, squared_distances, take_rows
from ._selection import farthest_criticisms, greedy_prototypes, witness_criticisms

__all__ = ["Prototypes"]

CRITICISMS = ("farthest", "witness")


def _table(X, what="X"):
    """``X`` as a DataFrame or a 2-D NumPy array, with the errors scikit-learn's conventions expect."""
    if isinstance(X, pd.DataFrame):
        table = X
    else:
        if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
            raise TypeError(f"sparse input is not supported: {what} must be dense (a DataFrame or an array); got "
                            f"{type(X).__name__}. Use {what}.toarray()")
        table = np.asarray(X)
        if table.dtype.kind == "c":
            raise ValueError(f"Complex data not supported: {what} must hold real numbers or categories")
        if table.ndim != 2:
            raise ValueError(f"{what} must be 2-D (rows x columns); got an array of shape {table.shape}. Reshape your "
                             "data with X.reshape(-1, 1) for one column or X.reshape(1, -1) for one row")
    if table.shape[1] == 0:
        raise ValueError(f"{what} has 0 feature(s) (shape={table.shape}) while a minimum of 1 is required.")
    return table


class Prototypes(BaseEstimator):
    """Prototypes and criticisms of a table (MMD minimisation with fitted weights).

    Prototypes are rows of ``X`` whose weighted mixture is closest to the whole of ``X`` in the
    maximum mean discrepancy (MMD) of a kernel: a greedy search adds, at each step, the row whose
    best mixing step lowers MMD^2 most, then re-fits all weights (non-negative, summing to 1)
    exactly, as ProtoDash re-fits its weights; MMD-critic's uniform weights leave more MMD^2.
    Criticisms are the rows the prototypes represent worst: the row whose nearest prototype is
    farthest, then each time the row farthest from every prototype and every criticism already
    chosen, so that they do not all come from one corner.

    Rows are compared through one mixed-type encoding: numeric columns standardised (missing values
    at 0, the mean), other columns (strings, categoricals, booleans) one-hot with missing as a level
    of its own and each indicator ``1/sqrt(2)`` (one changed category counts like one standard
    deviation). Kernel values come from blocks of a Numba kernel: memory stays bounded whatever the
    number of rows.

    Parameters
    ----------
    n_prototypes : int, default=10
        Prototypes to choose (per class when ``by_class``); fewer when no other row lowers MMD^2.
    n_criticisms : int, default=5
        Criticisms to choose (0 for none).
    by_class : bool, default=False
        With ``y``: prototypes per class (weights summing to 1 within each class), criticisms
        among all rows against all prototypes, and ``predict`` / ``predict_proba`` as a
        nearest-prototype classifier.
    kernel : {"rbf", "laplacian"}, default="rbf"
        ``exp(-gamma d^2)`` or ``exp(-gamma d)``, ``d`` the distance of the encoded rows.
    gamma : float, default=None
        Kernel width. None: ``1 / (2 * median squared distance)`` between rows (rbf) or
        ``1 / median distance`` (laplacian), over at most 1,000 rows drawn at random.
    criticism : {"farthest", "witness"}, default="farthest"
        ``"witness"``: MMD-critic's rule, the rows with the largest absolute witness function
        ``mean_j k(x, x_j) - sum_s w_s k(x, s)`` (finds dense regions the prototypes miss rather
        than isolated rows, whose witness is about 1/n; no diversity term).
    max_samples : int, default=20000
        Rows that stand for ``X`` in the MMD and are the prototype candidates; a larger ``X`` is
        represented by that many rows drawn at random. Criticisms are searched among all rows.
    random_state : int, Generator or None, default=0
        Seeds the row sample and the rows used for the median distance.

    Attributes
    ----------
    prototypes_ : DataFrame or ndarray
        The chosen rows of ``X``, with the user's dtypes and index, most representative first.
    prototype_indices_ : ndarray of int
        Positions of the prototypes in ``X``.
    weights_ : ndarray
        Non-negative weight of each prototype, summing to 1 (within each class with ``by_class``).
    prototype_labels_ : ndarray or None
        The class of each prototype (``by_class``).
    criticisms_, criticism_indices_ : rows of ``X`` and their positions
    criticism_distances_ : ndarray
        Squared encoded distance of each criticism to its nearest prototype (``"farthest"``), or
        its absolute witness value (``"witness"``).
    mmd2_ : float or ndarray
        MMD^2 between the rows (or their sample) and the weighted prototypes; one per class in
        ``classes_`` order with ``by_class``.
    gamma_ : float
        The kernel width used.
    classes_ : ndarray
        The classes, with ``by_class``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import tabxai as tx
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"income": rng.normal(50, 10, 200), "housing": rng.choice(["own", "rent"], 200)})
    >>> p = tx.Prototypes(n_prototypes=3, n_criticisms=2).fit(X)
    >>> p.prototypes_.shape, round(float(p.weights_.sum()), 6), p.mmd2_ < 0.1
    ((3, 2), 1.0, True)
    """

    def __init__(self, n_prototypes=10, n_criticisms=5, by_class=False, kernel="rbf", gamma=None,
                 criticism="farthest", max_samples=20_000, random_state=0):
        self.n_prototypes = n_prototypes
        self.n_criticisms = n_criticisms
        self.by_class = by_class
        self.kernel = kernel
        self.gamma = gamma
        self.criticism = criticism
        self.max_samples = max_samples
        self.random_state = random_state

    # fitting --------------------------------------------------------------------------------
    def _check_params(self):
        n_prototypes = check_int(self.n_prototypes, "n_prototypes", min_value=1)
        n_criticisms = check_int(self.n_criticisms, "n_criticisms", min_value=0)
        check_bool(self.by_class, "by_class")
        check_choice(self.kernel, "kernel", KERNELS)
        check_choice(self.criticism, "criticism", CRITICISMS)
        if self.gamma is not None:
            check_real(self.gamma, "gamma", min_value=0, min_inclusive=False)
        check_int(self.max_samples, "max_samples", min_value=2)
        return n_prototypes, n_criticisms

    def fit(self, X, y=None):
        """Choose the prototypes and criticisms of ``X`` (per class of ``y`` with ``by_class``).

        Parameters
        ----------
        X : DataFrame or 2-D array of shape (n_rows, n_columns)
            Raw rows: numbers, strings, categoricals, booleans and missing values.
        y : array-like of shape (n_rows,), default=None
            Class labels; required with ``by_class=True``, ignored otherwise.

        Returns
        -------
        self
        """
        n_prototypes, n_criticisms = self._check_params()
        if self.by_class and y is None:
            raise ValueError("by_class=True needs the class labels `y`: this estimator requires y to be passed, but "
                             "the target y is None")
        X = _table(X)
        encoding = MixedEncoding(X, what="X")
        n_rows = encoding.reference_points.shape[0]
        if n_rows < 2:
            raise ValueError(f"Prototypes needs at least 2 rows; got {n_rows} row (1 sample)")
        if n_prototypes > n_rows:
            raise ValueError(f"`n_prototypes` must be at most the number of rows of X ({n_rows}); got {n_prototypes}")
        seed = resolve_seed(self.random_state)
        points = encoding.reference_points
        gamma = self._gamma(points, seed)
        if self.by_class:
            labels = self._labels(align_targets(X, y, "y"), n_rows)
            classes, class_of_row = np.unique(labels, return_inverse=True)
            groups = [np.flatnonzero(class_of_row == k) for k in range(len(classes))]
        else:
            classes, groups = None, [np.arange(n_rows)]
        indices, weights, owners, mmd2, reference_mu = [], [], [], [], np.zeros(n_rows)
        row_group = np.zeros(n_rows, dtype=np.int64)
        for k, rows in enumerate(groups):
            chosen, w, distance, mu_all = self._fit_group(points, rows, min(n_prototypes, rows.size), gamma, seed, k)
            indices.append(chosen)
            weights.append(w)
            owners.append(np.full(chosen.size, k))
            mmd2.append(distance)
            reference_mu[rows] = mu_all
            row_group[rows] = k
        self.prototype_indices_ = np.concatenate(indices)
        self.weights_ = np.concatenate(weights)
        self._prototype_class = np.concatenate(owners)
        self._encoding = encoding
        self.gamma_ = gamma
        self.mmd2_ = float(mmd2[0]) if classes is None else np.array(mmd2)
        self.prototypes_ = take_rows(X, self.prototype_indices_)
        self.prototype_labels_ = None if classes is None else classes[self._prototype_class]
        self._prototype_points = points[self.prototype_indices_]
        self._fit_criticisms(X, points, reference_mu, row_group, min(n_criticisms, n_rows))
        if classes is not None:
            self.classes_ = classes
        self.n_features_in_ = len(encoding.names)
        if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def _gamma(self, points, seed):
        if self.gamma is not None:
            return float(self.gamma)
        median = median_squared_distance(points, row_generator(seed, 0))
        return 1.0 / (2.0 * median) if self.kernel == "rbf" else 1.0 / np.sqrt(median)

    @staticmethod
    def _labels(y, n_rows):
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import column_or_1d

        labels = column_or_1d(y, warn=True)
        if labels.shape[0] != n_rows:
            raise ValueError(f"`y` must have one label per row of X ({n_rows}); got {labels.shape[0]}")
        check_classification_targets(labels)
        if pd.isna(pd.Series(labels, dtype=object)).any():
            raise ValueError("`y` has missing labels; give every row a class")
        return labels

    def _fit_group(self, points, rows, n_prototypes, gamma, seed, group):
        """Prototypes of the rows ``rows``: positions in X, weights, MMD^2, and the mean kernel of every row."""
        sample = rows
        if rows.size > self.max_samples:
            sample = np.sort(row_generator(seed, 1 + group).choice(rows, self.max_samples, replace=False))
        candidates = points[sample]
        mu = kernel_means(candidates, candidates, gamma, self.kernel)
        chosen, weights, objective = greedy_prototypes(candidates, mu, n_prototypes, gamma, self.kernel)
        mmd2 = max(0.0, float(mu.mean()) + objective)
        if self.criticism == "witness":
            mu_all = mu if sample is rows else kernel_means(points[rows], candidates, gamma, self.kernel)
        else:
            mu_all = np.zeros(rows.size)
        order = np.argsort(-weights, kind="stable")
        return sample[chosen[order]], weights[order], mmd2, mu_all

    def _fit_criticisms(self, X, points, reference_mu, row_group, n_criticisms):
        if n_criticisms == 0:
            chosen, scores = np.zeros(0, dtype=np.int64), np.zeros(0)
        elif self.criticism == "farthest":
            chosen, scores = farthest_criticisms(points, self._prototype_points, n_criticisms)
        else:
            chosen, scores = witness_criticisms(points, reference_mu, self._prototype_points, self.weights_,
                                                n_criticisms, self.gamma_, self.kernel, row_group,
                                                self._prototype_class)
        self.criticism_indices_ = chosen
        self.criticism_distances_ = scores
        self.criticisms_ = take_rows(X, chosen)

    # nearest-prototype classifier --------------------------------------------------------------
    def _check_fitted(self):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "prototype_indices_")

    def _class_scores(self, X):
        self._check_fitted()
        X = _table(X)
        if not isinstance(X, pd.DataFrame) and X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but Prototypes is expecting {self.n_features_in_} "
                             "features as input")
        points = self._encoding.transform(X, what="X")
        distances = squared_distances(points, self._prototype_points)
        log_kernel = -self.gamma_ * (distances if self.kernel == "rbf" else np.sqrt(distances))
        terms = log_kernel + np.log(np.maximum(self.weights_, 1e-300))
        scores = np.full((points.shape[0], len(self.classes_)), -np.inf)
        for k in range(len(self.classes_)):
            part = terms[:, self._prototype_class == k]
            top = part.max(axis=1, keepdims=True)
            scores[:, k] = top[:, 0] + np.log(np.exp(part - top).sum(axis=1))
        return scores

    @available_if(lambda self: self.by_class)
    def predict_proba(self, X):
        """Class probabilities from the prototypes: ``P(k | x)`` proportional to ``sum_{s in k} w_s k(x, s)``.

        Each class's weighted prototypes are a kernel mixture standing for its rows, and classes
        count alike whatever their size (as with balanced class weights; with the classes' shares
        as priors the wide default kernel predicts the majority class almost everywhere). For a
        narrow kernel the class of the nearest prototype wins. Available with ``by_class=True``.

        Returns
        -------
        ndarray of shape (n_rows, n_classes)
        """
        scores = self._class_scores(X)
        scores -= scores.max(axis=1, keepdims=True)
        proba = np.exp(scores)
        return proba / proba.sum(axis=1, keepdims=True)

    @available_if(lambda self: self.by_class)
    def predict(self, X):
        """The most probable class of each row under :meth:`predict_proba` (``by_class=True``)."""
        scores = self._class_scores(X)
        return self.classes_[np.argmax(scores, axis=1)]

    @available_if(lambda self: self.by_class)
    def score(self, X, y):
        """Accuracy of :meth:`predict` on ``X`` against ``y``."""
        from sklearn.metrics import accuracy_score

        return accuracy_score(y, self.predict(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        if self.by_class:
            from sklearn.utils import ClassifierTags

            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
            tags.target_tags.required = True
        return tags

    def telling_columns(self, max_columns):
        """The ``max_columns`` columns in which the prototypes differ most (spread of their encoded values), in data order."""
        encoding = self._encoding
        points = self._prototype_points
        widths = np.diff(np.append(encoding.offsets, encoding.n_dims))
        spread = [points[:, start:start + width].var(axis=0).sum() for start, width in zip(encoding.offsets, widths)]
        chosen = np.sort(np.argsort(-np.asarray(spread), kind="stable")[:max_columns])
        return [encoding.names[j] for j in chosen]

    def plot(self, *, ax=None, max_columns=4):
        """Draw the prototypes as a strip of weights labelled with their rows (see :func:`tabxai.plots.prototypes`)."""
        from ..plots.examples import prototypes

        return prototypes(self, ax=ax, max_columns=max_columns)
