"""Model adapter: one callable from a float64 code matrix to float64 outputs, for any model.

:func:`as_model` wraps a fitted scikit-learn estimator or pipeline, a bound ``predict`` /
``predict_proba`` method or any callable. The resulting :class:`Model` is immutable. Bound to the
schema of the data (:meth:`Model.bind`), it knows the names of its outputs (read from the
estimator's ``classes_``, or from one probe call for a bare callable), decodes code matrices into
exactly the input the model was fitted on, calls it, and checks every answer: a model that raises,
returns the wrong number of rows, a changing number of outputs, or NaN/inf gets an error that says
which rows, never a silent NaN attribution. The engine (:mod:`tabxai._engine`) splits large
requests into calls of at most ``max_rows`` rows.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_choice, check_int

__all__ = ["DEFAULT_MAX_ROWS", "LINKS", "Model", "ModelError", "as_model", "has_method", "is_classifier_like", "output_position"]

DEFAULT_MAX_ROWS = 32_768  # large enough to amortise per-call costs, small enough to stay in cache
METHODS = ("predict", "predict_proba", "decision_function")
LINKS = (None, "identity", "logit")
_LOGIT_CLIP = 1e-12  # probabilities are clipped to [eps, 1 - eps] before the log-odds


class ModelError(ValueError):
    """The model raised, or returned something that cannot be attributed."""


def has_method(obj, name):
    """Whether ``obj.name`` is a callable (False when the attribute raises, e.g. ``SVC().predict_proba``)."""
    try:
        return callable(getattr(obj, name))
    except AttributeError:
        return False


def is_classifier_like(estimator):
    """The one classifier test of tabxai: scikit-learn's tags, or for objects without them, ``classes_``."""
    from sklearn.base import is_classifier

    try:
        if is_classifier(estimator):
            return True
    except (AttributeError, TypeError, ValueError):
        pass
    if getattr(estimator, "_estimator_type", None) == "classifier":
        return True
    classes = getattr(estimator, "classes_", None)
    return classes is not None and np.ndim(classes) == 1 and has_method(estimator, "predict_proba")


def _is_estimator(obj):
    return hasattr(obj, "fit") and any(has_method(obj, name) for name in METHODS)


def _select_method(estimator):
    """Pick how to ask an estimator: probabilities for classifiers, predictions otherwise."""
    if is_classifier_like(estimator):
        for name in ("predict_proba", "decision_function"):
            if has_method(estimator, name):
                return name
    if has_method(estimator, "predict"):
        return "predict"
    raise TypeError(f"{type(estimator).__name__} has no predict, predict_proba or decision_function method")


def _label(name):
    """A readable label: ``setosa`` rather than ``np.str_('setosa')``."""
    return name.item() if isinstance(name, np.generic) else name


def _known_output_names(owner, method):
    classes = getattr(owner, "classes_", None) if owner is not None else None
    if classes is None or np.ndim(classes) != 1:
        return None
    labels = tuple(_label(c) for c in classes)
    if method == "predict_proba":
        return labels
    if method == "decision_function":
        return labels if len(labels) > 2 else (f"decision_function({labels[-1]})",)
    if method == "predict" and is_classifier_like(owner):
        return ("predicted class",)
    return None


def output_position(names, output, method=None):
    """Position of ``output`` among ``names``: a class label, an output name, or an int position.

    The one lookup of an output by name in tabxai (models, results, plots).
    """
    matches = [k for k, name in enumerate(names) if type(name) is type(output) and name == output]
    if not matches:
        matches = [k for k, name in enumerate(names) if _equal(name, output) and not isinstance(name, bool)]
    if matches:
        return matches[0]
    if method == "predict_proba":
        raise ValueError(f"`output` must be one of the classes {list(names)}; got {output!r}")
    if len(names) == 1:
        if isinstance(output, (int, np.integer)) and not isinstance(output, (bool, np.bool_)) and output == 0:
            return 0
        raise ValueError(f"the model has one output ({names[0]!r}); `output` must be None, 0 or {names[0]!r}; "
                         f"got {output!r}")
    if isinstance(output, (int, np.integer)) and not isinstance(output, (bool, np.bool_)) and \
            0 <= output < len(names):
        return int(output)
    raise ValueError(f"`output` must name one of the model's {len(names)} outputs {list(names)} or be a position "
                     f"0 to {len(names) - 1}; got {output!r}")


def _equal(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


class _LabelPositions:
    """A classifier's ``predict`` as positions of its labels in ``classes_``: numbers the adapter can check."""

    def __init__(self, predict, classes):
        self.predict = predict
        self.classes = classes

    def __call__(self, data):
        import pandas as pd

        positions = pd.Index(self.classes).get_indexer(np.asarray(self.predict(data)).ravel())
        if (positions < 0).any():
            raise ValueError(f"predict returned labels that are not in classes_ {list(self.classes)}")
        return positions.astype(np.float64)


class Model:
    """A model as tabxai sees it: code matrix in, ``(n_rows, n_outputs)`` float64 out. Immutable.

    Build it with :func:`as_model`; methods bind it to the schema of their data with :meth:`bind`.
    Calling a bound model decodes the codes, calls the user's model once and returns the selected
    outputs, checked, on the scale given by ``link``. Large requests are split into calls of at most
    ``max_rows`` rows by the engine, not here.

    Attributes
    ----------
    predict_function : callable
        What is called with the model's input (a DataFrame or an array).
    owner : object or None
        The estimator behind ``predict_function`` (used for ``feature_names_in_``, ``classes_``).
    method : str
        ``"predict_proba"``, ``"decision_function"``, ``"predict"`` or ``"callable"``.
    output : label, int or None
        The output the user selected, or None for all outputs.
    link : {None, "identity", "logit"}
        ``"logit"``: outputs (probabilities) are returned as log-odds ``log(p / (1 - p))``.
    output_names : tuple or None
        Names of the returned outputs; always known once bound.
    max_rows : int
        Most rows the engine passes to the model in one call.
    """

    def __init__(self, predict_function, *, owner=None, method="callable", output=None, link=None,
                 max_rows=DEFAULT_MAX_ROWS, schema=None, all_output_names=None):
        set_ = object.__setattr__
        set_(self, "predict_function", predict_function)
        set_(self, "owner", owner)
        set_(self, "method", method)
        set_(self, "output", output)
        set_(self, "link", link)
        set_(self, "max_rows", max_rows)
        set_(self, "schema", schema)
        if all_output_names is None:
            all_output_names = _known_output_names(owner, method)
        set_(self, "_all_output_names", all_output_names)
        index = None
        if all_output_names is not None and output is not None:
            index = output_position(all_output_names, output, method)
        set_(self, "_output_index", index)
        set_(self, "_decode_columns", None)
        set_(self, "_decode_as_array", None)
        if schema is not None:
            self._plan_decoding()

    def __setattr__(self, name, value):
        raise AttributeError(f"a Model is immutable; build another with as_model(...) (tried to set {name!r})")

    # set-up ------------------------------------------------------------------------------
    def _plan_decoding(self):
        """Decide the column order and container the model wants, from what the estimator knows."""
        schema, owner = self.schema, self.owner
        names_in = getattr(owner, "feature_names_in_", None) if owner is not None else None
        n_in = getattr(owner, "n_features_in_", None) if owner is not None else None
        columns, as_array = None, None
        if getattr(schema, "input_kind", None) not in ("frame", "array"):
            pass  # not a table (e.g. images): the schema decodes as it knows best
        elif names_in is not None:
            names_in = list(names_in)
            missing = [n for n in names_in if n not in schema.names]
            unused = [n for n in schema.names if n not in names_in]
            if missing or unused:
                parts = []
                if missing:
                    parts.append(f"the model was fitted on columns the data lacks: {missing}")
                if unused:
                    parts.append(f"the data has columns the model was not fitted on: {unused}")
                raise ValueError("; ".join(parts) + f". The model expects the columns {names_in}")
            columns = names_in if names_in != list(schema.names) else None
            as_array = False
        elif n_in is not None:
            if n_in != schema.n_columns:
                raise ValueError(f"the model was fitted on {n_in} columns; the data has {schema.n_columns}")
            as_array = True  # fitted without column names: give it an array
        object.__setattr__(self, "_decode_columns", columns)
        object.__setattr__(self, "_decode_as_array", as_array)

    def bind(self, schema, sample=None):
        """A copy of this model that decodes code matrices with ``schema``.

        When the names of the outputs are not known from the estimator (a bare callable, a
        regressor), the model is asked about the first row of ``sample`` (codes) once, here, so the
        bound model knows them whatever process later calls it.
        """
        bound = Model(self.predict_function, owner=self.owner, method=self.method, output=self.output,
                      link=self.link, max_rows=self.max_rows, schema=schema, all_output_names=self._all_output_names)
        if bound._all_output_names is None and sample is not None and len(sample):
            raw = bound._raw_outputs(np.asarray(sample, dtype=np.float64)[:1], 0)
            names = ("output",) if raw.shape[1] == 1 else tuple(f"output_{k}" for k in range(raw.shape[1]))
            bound = Model(self.predict_function, owner=self.owner, method=self.method, output=self.output,
                          link=self.link, max_rows=self.max_rows, schema=schema, all_output_names=names)
        return bound

    # properties ---------------------------------------------------------------------------
    @property
    def output_names(self):
        """Names of the outputs this model returns (None until bound to data, for a bare callable)."""
        if self._all_output_names is None:
            return None
        if self._output_index is None:
            return self._all_output_names
        return (self._all_output_names[self._output_index],)

    @property
    def n_outputs(self):
        names = self.output_names
        return None if names is None else len(names)

    @property
    def feature_names_in(self):
        """Column names the estimator was fitted with (``feature_names_in_``), or None."""
        return None if self.owner is None else getattr(self.owner, "feature_names_in_", None)

    @property
    def is_classifier(self):
        """Whether the model behind this adapter is a classifier (see :func:`is_classifier_like`)."""
        return self.owner is not None and is_classifier_like(self.owner)

    # calling ------------------------------------------------------------------------------
    def decode(self, codes):
        """The model's input for a code matrix."""
        return self.schema.decode(codes, columns=self._decode_columns, as_array=self._decode_as_array)

    def __call__(self, codes, first_row=0):
        """Outputs ``(n_rows, n_outputs)`` for a code matrix ``(n_rows, n_columns)``, in one call.

        ``first_row`` is the position of ``codes[0]`` in the request, for error messages.
        """
        if self.schema is None:
            raise RuntimeError("this Model is not bound to a schema; use model.bind(schema) first")
        codes = np.asarray(codes)
        if codes.dtype != np.float32:  # float32 rows (images filled in the model's dtype) pass as they are
            codes = codes.astype(np.float64, copy=False)
        out = self._raw_outputs(codes, first_row)
        n_rows = codes.shape[0]
        where = _where(n_rows, first_row)
        if self._all_output_names is not None and out.shape[1] != len(self._all_output_names):
            raise ModelError(f"the model returned {out.shape[1]} outputs {where}; when it was bound it returned "
                             f"{len(self._all_output_names)} ({list(self._all_output_names)})")
        index = self._output_index
        if index is None and self.output is not None:  # unbound names: select by position
            index = output_position(tuple(f"output_{k}" for k in range(out.shape[1])) if out.shape[1] > 1
                                  else ("output",), self.output, self.method)
        if index is not None:
            out = out[:, index:index + 1]
        if not np.isfinite(out).all():
            bad_rows = np.flatnonzero(~np.isfinite(out).all(axis=1))
            raise ModelError(
                f"the model returned NaN or inf for {bad_rows.size} of {n_rows} rows {where} "
                f"(first at row {first_row + bad_rows[0]}); tabxai cannot attribute non-finite predictions. "
                "If the model cannot handle missing values, impute them in a pipeline step"
            )
        if self.link == "logit":
            out = _logit(out, where)
        return out

    def _raw_outputs(self, codes, first_row):
        n_rows = codes.shape[0]
        where = _where(n_rows, first_row)
        try:
            raw = self.predict_function(self.decode(codes))
        except Exception as exc:
            raise ModelError(f"the model raised {type(exc).__name__} {where}: {exc}") from exc
        try:
            out = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"the model returned values that are not numbers {where}: {exc}") from exc
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != n_rows:
            raise ModelError(
                f"the model returned shape {np.shape(raw)} {where}; expected {n_rows} rows "
                "(shape (n_rows,) or (n_rows, n_outputs))"
            )
        return out

    def __repr__(self):
        owner = type(self.owner).__name__ if self.owner is not None else getattr(
            self.predict_function, "__name__", type(self.predict_function).__name__)
        link = f", link={self.link!r}" if self.link not in (None, "identity") else ""
        return f"Model({owner}.{self.method}, output={self.output!r}{link}, max_rows={self.max_rows})"


def _where(n_rows, first_row):
    return f"on {n_rows} rows (rows {first_row} to {first_row + n_rows - 1} of this request)"


def _logit(out, where):
    if (out < 0).any() or (out > 1).any():
        raise ModelError(
            f"link='logit' explains probabilities on the log-odds scale, but the model returned values from "
            f"{out.min():.4g} to {out.max():.4g} {where}; use link=None for scores that are not probabilities")
    p = np.clip(out, _LOGIT_CLIP, 1 - _LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def as_model(model, *, output=None, max_rows=None, link=None, method=None):
    """Wrap a fitted estimator, pipeline or callable as a :class:`Model`.

    Parameters
    ----------
    model : estimator, Pipeline, bound method, Model or callable
        Classifiers are asked for ``predict_proba`` (``decision_function`` when they have no
        probabilities), regressors and others for ``predict``. A callable is called as it is, with
        a DataFrame when the data was a DataFrame and an array when it was an array.
    output : class label, output name or int, default=None
        Keep one output: a class label of a classifier, or the position of a column of the
        model's output. None keeps all outputs.
    max_rows : int, default=None
        Most rows per model call (default 32,768).
    link : {None, "identity", "logit"}, default=None
        ``"logit"`` returns probabilities as log-odds ``log(p / (1 - p))`` (probabilities clipped
        to ``[1e-12, 1 - 1e-12]``): attributions on the scale where credit scorecards work and
        where a logistic regression is additive. The model must return probabilities.
    method : {"predict", "predict_proba", "decision_function"}, default=None
        Ask an estimator for this response instead of the default one. A classifier's
        ``predict`` is returned as the position of the predicted label in ``classes_``.

    Returns
    -------
    Model

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> m = as_model(LogisticRegression().fit(X, y), output=1)
    >>> m.method, m.output_names
    ('predict_proba', (1,))
    """
    link = check_choice(link, "link", LINKS)
    if method is not None:
        method = check_choice(method, "method", METHODS)
    if isinstance(model, Model):
        if output is None and max_rows is None and link is None and method is None:
            return model
        owner = model.owner
        if method is not None and owner is not None and method != model.method:
            return as_model(owner, output=output if output is not None else model.output,
                            max_rows=max_rows or model.max_rows, link=link or model.link, method=method)
        return Model(model.predict_function, owner=owner, method=model.method,
                     output=model.output if output is None else output, link=link or model.link,
                     max_rows=model.max_rows if max_rows is None else check_int(max_rows, "max_rows", min_value=1),
                     schema=model.schema, all_output_names=model._all_output_names)
    max_rows = DEFAULT_MAX_ROWS if max_rows is None else check_int(max_rows, "max_rows", min_value=1)
    if _is_estimator(model):
        _check_fitted(model)
        if method is None:
            method = _select_method(model)
        elif not has_method(model, method):
            raise ValueError(f"{type(model).__name__} has no {method} method")
        function = getattr(model, method)
        if method == "predict" and is_classifier_like(model) and getattr(model, "classes_", None) is not None:
            function = _LabelPositions(function, model.classes_)
        _check_link(link, model, method)
        return Model(function, owner=model, method=method, output=output, link=link, max_rows=max_rows)
    if callable(model):
        owner = getattr(model, "__self__", None)
        name = getattr(model, "__name__", "callable")
        if owner is not None and _is_estimator(owner) and name in METHODS:
            if method is not None and method != name:
                raise ValueError(f"`method` is {method!r} but the model given is the bound method {name!r}")
            _check_link(link, owner, name)
            return Model(model, owner=owner, method=name, output=output, link=link, max_rows=max_rows)
        return Model(model, output=output, link=link, max_rows=max_rows)
    raise TypeError(
        "`model` must be a fitted estimator or pipeline, or a callable that maps rows to predictions; "
        f"got {type(model).__name__}"
    )


def _check_link(link, owner, method):
    if link == "logit" and method != "predict_proba":
        raise ValueError(
            f"link='logit' explains probabilities on the log-odds scale; {type(owner).__name__} is asked for "
            f"{method}, which is not a probability. Use a classifier with predict_proba, or link=None")


def _check_fitted(estimator):
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(estimator, BaseEstimator):  # duck-typed: no convention to check fitting by; trust the user
        return
    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise ValueError(f"the model is not fitted: {exc}") from None
    except (TypeError, AttributeError):  # not a scikit-learn estimator: trust the user
        pass
