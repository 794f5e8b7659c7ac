"""Influential training rows for any learner: refits on random subsets (Feldman & Zhang 2020).

For each of ``n_models`` random subsets of the training rows (each holding ``subsample`` of them,
drawn without replacement), a clone of the unfitted estimator is fitted and asked about every
training row and every test row. The influence of training row ``i`` on a prediction is the mean
prediction of the models whose subset held ``i`` minus that of the models whose subset did not: an
unbiased estimate of ``E[f_S | i in S] - E[f_S | i not in S]`` over random subsets ``S``, with the
standard error of a difference of two means. Predictions are accumulated as the models come back;
no model is kept, so memory is that of the results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._engine import progress_bar
from .._kernels.examples import mean_difference, mean_difference_rows
from .._provenance import package_versions
from .._validation import check_int, check_n_jobs, check_random_state, check_real, resolve_seed, row_generator
from ..data import align_targets
from ..model import has_method, is_classifier_like
from ._encoding import take_rows

__all__ = ["Influence", "influence"]

_MODELS_PER_TASK = 4  # models fitted per parallel task
_PENDING_BYTES = 32 << 20  # subsets and test scores held back for one matrix product (each product reads the sums once)


class Influence:
    """Influence of training rows on predictions, from refits on random subsets.

    Attributes
    ----------
    values : ndarray of shape (n_train, n_test)
        Change of each test row's prediction (see ``params["response"]``) between the models that
        saw the training row and those that did not. Positive: the row raises it (``y_test`` given:
        the row helps the test row's own label). NaN for a row that was in every subset or in none.
    stderr : ndarray of shape (n_train, n_test)
        Standard error of each value (difference of two means over the models).
    self_influence : ndarray of shape (n_train,)
        The same for each training row on its own given label: the predicted probability of the
        row's label (regressors: minus the squared error) when the row is in the subset minus when
        it is left out. Large values mark rows whose label only a model that saw them predicts:
        rare cases and label errors.
    self_influence_stderr : ndarray of shape (n_train,)
    n_in : ndarray of shape (n_train,)
        Number of models whose subset held each training row.
    train_index, test_index : pandas Index
        Labels of the training rows and test rows (positions for arrays).
    params : dict
        Method, parameters, seed, response and package versions.
    """

    def __init__(self, values, stderr, self_influence, self_influence_stderr, n_in, train_index, test_index,
                 X_train, y_train, params):
        self.values = values
        self.stderr = stderr
        self.self_influence = self_influence
        self.self_influence_stderr = self_influence_stderr
        self.n_in = n_in
        self.train_index = train_index
        self.test_index = test_index
        self._X_train = X_train
        self._y_train = y_train
        self.params = params

    def _rows_frame(self, positions, columns):
        data = take_rows(self._X_train, positions)
        frame = data.reset_index(drop=True) if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        front = pd.DataFrame({"row": self.train_index[positions], **columns, "label": self._y_train[positions]})
        return pd.concat([front, frame], axis=1)

    def _test_position(self, test_row):
        if len(self.test_index) == 0:
            raise ValueError("no test rows: pass X_test to tx.influence to rank training rows for test predictions")
        matches = np.flatnonzero(self.test_index == test_row) if not isinstance(test_row, (list, tuple)) else []
        if len(matches) == 1:
            return int(matches[0])
        raise ValueError(f"`test_row` must be a label of X_test's index {list(self.test_index[:10])}; got {test_row!r}")

    def top(self, test_row, k=5):
        """The ``k`` training rows that raise a test row's prediction most and the ``k`` that lower it most.

        Parameters
        ----------
        test_row : label
            A label of ``X_test``'s index (a position for an array).
        k : int, default=5

        Returns
        -------
        DataFrame
            ``row`` (training label), ``effect`` (its influence), ``stderr``, ``direction``
            (``"helpful"``/``"harmful"`` when ``y_test`` was given, else ``"raises"``/``"lowers"``),
            ``label`` and the training row's columns; helpful rows first, by decreasing effect, then
            harmful ones, most harmful first.
        """
        k = check_int(k, "k", min_value=1)
        t = self._test_position(test_row)
        effect = self.values[:, t]
        known = np.flatnonzero(~np.isnan(effect))
        order = known[np.argsort(-effect[known], kind="stable")]
        up = [i for i in order[:k] if effect[i] > 0]
        down = [i for i in order[::-1][:k] if effect[i] < 0]
        positions = np.array(up + down, dtype=np.intp)
        names = ("helpful", "harmful") if self.params["y_test"] else ("raises", "lowers")
        direction = [names[0]] * len(up) + [names[1]] * len(down)
        return self._rows_frame(positions, {"effect": effect[positions], "stderr": self.stderr[positions, t],
                                            "direction": direction})

    def most_self_influential(self, k=10):
        """The ``k`` training rows of largest self-influence (candidates for label errors), as a frame."""
        k = check_int(k, "k", min_value=1)
        known = np.flatnonzero(~np.isnan(self.self_influence))
        order = known[np.argsort(-self.self_influence[known], kind="stable")][:k]
        return self._rows_frame(order, {"self_influence": self.self_influence[order],
                                        "stderr": self.self_influence_stderr[order]})

    def plot(self, test_row, *, k=5, ax=None):
        """Bar chart of :meth:`top` (see :func:`tabxai.plots.influence`)."""
        from ..plots.examples import influence as draw

        return draw(self, test_row, k=k, ax=ax)

    def __repr__(self):
        return (f"<tabxai.Influence: {self.values.shape[0]} training rows x {self.values.shape[1]} test rows, "
                f"{self.params['parameters']['n_models']} models>")


def influence(estimator, X_train, y_train, X_test=None, *, y_test=None, n_models=200, subsample=0.5, output=None,
              random_state=0, n_jobs=1, progress=None):
    """Influence of each training row on predictions, for any learner, with standard errors.

    Refits clones of the unfitted ``estimator`` (or pipeline) on ``n_models`` random subsets of
    ``subsample`` of the training rows and compares, for every training row, the predictions of the
    models that saw it with those of the models that did not (Feldman & Zhang 2020's subsampling
    estimator; no gradients, unlike Koh & Liang's influence functions). Fits run through joblib
    (any backend set with ``joblib.parallel_config``, e.g. Dask); each subset is drawn from a seed
    keyed by its model number, so results are the same whatever ``n_jobs`` (give the estimator a
    fixed ``random_state`` if it has one).

    Parameters
    ----------
    estimator : scikit-learn estimator or Pipeline
        Unfitted (or fitted: it is cloned); must take ``X_train`` as given (raw frames through a
        pipeline).
    X_train : DataFrame or 2-D array of shape (n_train, n_columns)
    y_train : array-like of shape (n_train,)
    X_test : DataFrame or 2-D array, default=None
        Rows whose predictions are explained; same columns as ``X_train``. None: only
        self-influence.
    y_test : array-like of shape (n_test,), default=None
        Labels of the test rows: the response becomes the probability of each test row's own
        label (regressors: minus its squared error), so positive values help.
    n_models : int, default=200
        Refits. The standard errors shrink as ``1 / sqrt(n_models)``.
    subsample : float, default=0.5
        Share of the training rows in each subset (rounded to whole rows, at least 1, at most
        ``n_train - 1``).
    output : class label, default=None
        For a classifier without ``y_test``: the class whose probability is the response (default
        the last class, the positive class of a binary classifier). Regressors: their prediction.
    random_state : int, Generator or None, default=0
    n_jobs : int, default=1
    progress : bool, default=None
        Show a progress bar over the fits (default: off).

    Returns
    -------
    Influence

    Examples
    --------
    >>> import numpy as np
    >>> import tabxai as tx
    >>> from sklearn.linear_model import Ridge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 2)); y = X @ [1.0, -2.0] + rng.normal(0, 0.1, 40)
    >>> infl = tx.influence(Ridge(), X, y, X[:3], n_models=50)
    >>> infl.values.shape, infl.self_influence.shape
    ((40, 3), (40,))
    """
    from sklearn.base import clone

    try:
        template = clone(estimator)
    except Exception as exc:
        raise TypeError(f"`estimator` must be a scikit-learn estimator or pipeline that sklearn.base.clone can copy "
                        f"(get_params/set_params), so it can be refitted; got {type(estimator).__name__}: {exc}") from None
    if not has_method(template, "fit") or not (has_method(template, "predict") or has_method(template, "predict_proba")):
        raise TypeError(f"`estimator` must have fit and predict (or predict_proba); got {type(estimator).__name__}")
    n_models = check_int(n_models, "n_models", min_value=4)
    subsample = check_real(subsample, "subsample", min_value=0, max_value=1, min_inclusive=False)
    check_random_state(random_state)
    n_jobs = check_n_jobs(n_jobs)
    X_train, X_test = _check_tables(X_train, X_test)
    n_train = len(X_train)
    if n_train < 2:
        raise ValueError(f"`X_train` must have at least 2 rows; got {n_train}")
    y = _labels(X_train, y_train, n_train, "y_train")
    size = min(n_train - 1, max(1, int(round(subsample * n_train))))
    n_test = 0 if X_test is None else len(X_test)
    classifier = is_classifier_like(template)
    if classifier and not has_method(template, "predict_proba"):
        raise TypeError(f"`estimator` is a classifier without predict_proba ({type(estimator).__name__}); influence "
                        "compares predicted probabilities. Use a classifier that gives them (e.g. SVC(probability=True))")
    response = _Response(classifier, y, output, None if y_test is None else _labels(X_test, y_test, n_test, "y_test"))
    seed = resolve_seed(random_state)
    X_all = X_train if X_test is None else _stack(X_train, X_test)

    accumulator = _Accumulator(n_train, n_test, n_models)
    tasks = [np.arange(start, min(start + _MODELS_PER_TASK, n_models)) for start in range(0, n_models, _MODELS_PER_TASK)]
    bar = progress_bar(bool(progress), n_models, "models")
    for masks, scores in _run(tasks, template, X_train, y, X_all, response, seed, size, n_jobs):
        accumulator.add(masks, scores)
        if bar is not None:
            bar.update(len(models))
    if bar is not None:
        bar.close()
    values, stderr = accumulator.difference(slice(n_train, None))
    self_values, self_stderr = accumulator.difference(None)
    params = {"method": "influence", "random_state": seed, "response": response.describe(), "y_test": y_test is not None,
              "parameters": {"n_models": n_models, "subsample": subsample, "subset_rows": size, "output": output,
                             "n_jobs": n_jobs},
              "estimator": repr(estimator), "model_fits": n_models, "versions": package_versions()}
    return Influence(values, stderr, self_values, self_stderr, accumulator.count_in.astype(np.int64),
                     _index(X_train), _index(X_test) if X_test is not None else pd.Index([]), X_train, y, params)


def _check_tables(X_train, X_test):
    def as_table(data, what):
        if isinstance(data, pd.DataFrame):
            return data
        array = np.asarray(data)
        if array.ndim != 2:
            raise ValueError(f"`{what}` must be 2-D (rows x columns); got an array of shape {array.shape}")
        return array

    X_train = as_table(X_train, "X_train")
    if X_test is None:
        return X_train, None
    X_test = as_table(X_test, "X_test")
    if isinstance(X_train, pd.DataFrame) != isinstance(X_test, pd.DataFrame):
        raise TypeError(f"`X_test` must be of the same kind as `X_train` ({type(X_train).__name__}); "
                        f"got {type(X_test).__name__}")
    if isinstance(X_train, pd.DataFrame):
        missing = [c for c in X_train.columns if c not in X_test.columns]
        unknown = [c for c in X_test.columns if c not in X_train.columns]
        if missing or unknown:
            raise ValueError(f"`X_test` must have the columns of `X_train` {list(X_train.columns)}; it lacks {missing} "
                             f"and has the other columns {unknown}")
        return X_train, X_test[list(X_train.columns)]
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"`X_test` must have the {X_train.shape[1]} columns of `X_train`; got {X_test.shape[1]}")
    return X_train, X_test


def _labels(X, y, n_rows, what):
    values = align_targets(X, y, what)
    if values.ndim != 1 or values.shape[0] != n_rows:
        raise ValueError(f"`{what}` must have one label per row ({n_rows}); got shape {np.shape(values)}")
    return values


def _stack(X_train, X_test):
    if isinstance(X_train, pd.DataFrame):
        return pd.concat([X_train, X_test], axis=0, ignore_index=True)
    return np.concatenate([X_train, X_test], axis=0)


def _index(data):
    return data.index if isinstance(data, pd.DataFrame) else pd.RangeIndex(len(data))


def _subset_mask(seed, model, n_rows, size):
    mask = np.zeros(n_rows, dtype=np.bool_)
    mask[row_generator(seed, model).choice(n_rows, size, replace=False)] = True
    return mask


class _Response:
    """What each model is scored on: per training row its own label's fit, per test row the response."""

    def __init__(self, classifier, y, output, y_test):
        self.classifier = classifier
        self.y_test = y_test
        if classifier:
            self.classes = np.unique(y)
            self.train_class = np.searchsorted(self.classes, y)
            self.output = len(self.classes) - 1 if output is None else self._position(output, "output")
            self.test_class = None if y_test is None else np.array([self._position(v, "y_test") for v in y_test])
        else:
            if output is not None:
                raise ValueError(f"`output` selects a class of a classifier; the estimator is a regressor (got {output!r})")
            self.y = np.asarray(y, dtype=np.float64)
            self.y_test = None if y_test is None else np.asarray(y_test, dtype=np.float64)

    def _position(self, label, what):
        matches = np.flatnonzero(self.classes == label)
        if matches.size != 1:
            raise ValueError(f"`{what}` must be one of the classes of y_train {list(self.classes)}; got {label!r}")
        return int(matches[0])

    def describe(self):
        if self.classifier:
            own = "probability of the row's own label"
            return own if self.y_test is not None else f"probability of {self.classes[self.output]!r}"
        return "minus the squared error" if self.y_test is not None else "prediction"

    def scores(self, fitted, X_all, n_train):
        """Scores ``(n_train + n_test,)`` of one fitted model."""
        if self.classifier:
            probabilities = np.asarray(fitted.predict_proba(X_all), dtype=np.float64)
            full = np.zeros((probabilities.shape[0], len(self.classes)))
            full[:, np.searchsorted(self.classes, fitted.classes_)] = probabilities
            out = np.empty(full.shape[0])
            out[:n_train] = full[np.arange(n_train), self.train_class]
            test = full[n_train:]
            out[n_train:] = test[:, self.output] if self.test_class is None else test[np.arange(len(test)), self.test_class]
            return out
        predictions = np.asarray(fitted.predict(X_all), dtype=np.float64).ravel()
        out = predictions.copy()
        out[:n_train] = -(predictions[:n_train] - self.y) ** 2
        if self.y_test is not None:
            out[n_train:] = -(predictions[n_train:] - self.y_test) ** 2
        return out


def _fit_models(models, template, X_train, y, X_all, response, seed, size):
    """Fit one clone per model number on its subset; the subsets ``(len(models), n_train)`` and the scores
    ``(len(models), n_train + n_test)``."""
    from sklearn.base import clone

    n_train = len(y)
    out = np.empty((len(models), len(X_all)))
    masks = np.stack([_subset_mask(seed, model, n_train, size) for model in models])
    for row, model in enumerate(models):
        subset = np.flatnonzero(masks[row])
        fitted = clone(template)
        try:
            fitted.fit(take_rows(X_train, subset), y[subset])
        except Exception as exc:
            raise ValueError(f"refit {model} of the estimator on {size} training rows failed: {type(exc).__name__}: "
                             f"{exc}. A larger `subsample` keeps more rows (and classes) in each subset") from exc
        out[row] = response.scores(fitted, X_all, n_train)
    if not np.isfinite(out).all():
        raise ValueError(f"refits {models[0]} to {models[-1]} returned NaN or inf predictions")
    return masks, out


def _run(tasks, template, X_train, y, X_all, response, seed, size, n_jobs):
    if n_jobs == 1:
        for models in tasks:
            yield _fit_models(models, template, X_train, y, X_all, response, seed, size)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    yield from parallel(delayed(_fit_models)(models, template, X_train, y, X_all, response, seed, size)
                        for models in tasks)


class _Accumulator:
    """Sums of scores (shifted by the first model's, against cancellation) over the models with and without each row."""

    def __init__(self, n_train, n_test, n_models):
        self.n_train = n_train
        self.n_models = n_models
        self.count_in = np.zeros(n_train)
        self.shift = None
        self.total = self.total_sq = None
        self.self_in = np.zeros(n_train)
        self.self_in_sq = np.zeros(n_train)
        self.n_test = n_test
        self.test_in = self.test_in_sq = None  # (n_train, n_test), from the first matrix product
        self._pending = []
        self._n_pending = 0
        per_model = 16 * n_train + 8 * n_test  # a float mask in the product, and a row of test scores
        self._per_product = max(1, _PENDING_BYTES // per_model // _MODELS_PER_TASK) * _MODELS_PER_TASK

    def add(self, masks, scores):
        """Take the scores of the next models (in model order) and the masks of their subsets."""
        if self.shift is None:
            self.shift = scores[0].copy()
            self.total = np.zeros(scores.shape[1])
            self.total_sq = np.zeros(scores.shape[1])
        centred = scores - self.shift
        self.count_in += masks.sum(axis=0)
        for m in range(centred.shape[0]):  # model by model, so the sums do not depend on the task size
            self.total += centred[m]
            self.total_sq += centred[m] ** 2
            own = np.where(masks[m], centred[m, :self.n_train], 0.0)
            self.self_in += own
            self.self_in_sq += own ** 2
        if self.n_test:
            self._pending.append((masks, centred[:, self.n_train:]))
            self._n_pending += masks.shape[0]
            if self._n_pending >= self._per_product:
                self.flush()

    def flush(self):
        """Add the pending models' test scores to the sums with each row: one matrix product per block of models.

        A block holds as many models as fit in ``_PENDING_BYTES`` (a multiple of ``_MODELS_PER_TASK``,
        from the numbers of rows alone); tasks come back in order, so blocks, and the sums, are the same
        whatever ``n_jobs``. Few large products matter: each one reads and writes the whole
        (training rows x test rows) sums.
        """
        if not self._pending:
            return
        masks = np.concatenate([m for m, _ in self._pending]).astype(np.float64)
        test = np.concatenate([t for _, t in self._pending])
        with_row, squares = masks.T @ test, masks.T @ (test * test)
        if self.test_in is None:
            self.test_in, self.test_in_sq = with_row, squares
        else:
            self.test_in += with_row
            self.test_in_sq += squares
        self._pending = []
        self._n_pending = 0

    def difference(self, columns):
        """Mean with the row minus mean without it, and its standard error, for the self scores or the test columns."""
        if columns is None:
            total, total_sq = self.total[:self.n_train], self.total_sq[:self.n_train]
            values = np.empty(self.n_train)
            stderr = np.empty(self.n_train)
            mean_difference_rows(self.self_in, self.self_in_sq, np.ascontiguousarray(total),
                                 np.ascontiguousarray(total_sq), self.count_in, self.n_models, values, stderr)
            return values, stderr
        self.flush()
        if self.test_in is None:  # no test rows
            return np.zeros((self.n_train, 0)), np.zeros((self.n_train, 0))
        values, stderr = self.test_in, self.test_in_sq  # written in place: the sums are not needed afterwards
        mean_difference(self.test_in, self.test_in_sq, np.ascontiguousarray(self.total[columns]),
                        np.ascontiguousarray(self.total_sq[columns]), self.count_in, self.n_models, values, stderr)
        self.test_in = self.test_in_sq = None
        return values, stderr
