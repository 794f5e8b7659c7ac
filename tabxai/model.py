"""Model adapter: one callable from a float64 code matrix to float64 outputs, for any model.

:func:`as_model` wraps a fitted scikit-learn estimator or pipeline, a bound ``predict`` /
``predict_proba`` method or any callable. The resulting :class:`Model` decodes code matrices into
exactly the input the model was fitted on (through a :class:`~tabxai.data.TabularSchema`), calls it
in chunks of at most ``max_rows`` rows, and checks every answer: a model that raises, returns the
wrong number of rows, a changing number of outputs, or NaN/inf gets an error that says which call
and how many rows, never a silent NaN attribution.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import is_classifier

from ._validation import check_int

__all__ = ["DEFAULT_MAX_ROWS", "Model", "ModelError", "as_model"]

DEFAULT_MAX_ROWS = 32_768  # large enough to amortise per-call costs, small enough to stay in cache


class ModelError(ValueError):
    """The model raised, or returned something that cannot be attributed."""


def _is_estimator(obj):
    return hasattr(obj, "fit") and (hasattr(obj, "predict") or hasattr(obj, "predict_proba"))


def _has_method(obj, name):
    try:
        return callable(getattr(obj, name))
    except AttributeError:  # e.g. SVC(probability=False).predict_proba is unavailable
        return False


def _looks_like_classifier(estimator):
    """scikit-learn's verdict, or for duck-typed objects without scikit-learn tags: has ``classes_``."""
    try:
        return is_classifier(estimator)
    except (AttributeError, TypeError):
        return getattr(estimator, "classes_", None) is not None


def _select_method(estimator):
    """Pick how to ask an estimator: probabilities for classifiers, predictions otherwise."""
    if _looks_like_classifier(estimator):
        for name in ("predict_proba", "decision_function"):
            if _has_method(estimator, name):
                return name
    if _has_method(estimator, "predict"):
        return "predict"
    raise TypeError(f"{type(estimator).__name__} has no predict, predict_proba or decision_function method")


def _known_output_names(owner, method):
    classes = getattr(owner, "classes_", None)
    if method == "predict_proba" and classes is not None and np.ndim(classes) == 1:
        return tuple(classes.tolist())
    if method == "decision_function" and classes is not None and len(classes) > 2:
        return tuple(classes.tolist())
    if method == "decision_function" and classes is not None:
        return (f"decision_function({classes[-1]!r})",)
    return None


class Model:
    """A model as tabxai sees it: code matrix in, ``(n_rows, n_outputs)`` float64 out.

    Build it with :func:`as_model`; explainers bind it to the schema of their data with
    :meth:`bind`. Calling a bound model decodes the codes, calls the user's model in chunks of at
    most ``max_rows`` rows and returns the selected outputs.

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
    output_names : tuple or None
        Names of the returned outputs, known after the first call for a bare callable.
    max_rows : int
        Most rows passed to the model in one call.
    """

    def __init__(self, predict_function, *, owner=None, method="callable", output=None,
                 max_rows=DEFAULT_MAX_ROWS, schema=None):
        self.predict_function = predict_function
        self.owner = owner
        self.method = method
        self.output = output
        self.max_rows = max_rows
        self.schema = schema
        self._all_output_names = _known_output_names(owner, method) if owner is not None else None
        self._n_raw_outputs = None if self._all_output_names is None else len(self._all_output_names)
        self._output_index = None
        self._calls = 0
        self._decode_columns = None
        self._decode_as_array = None
        if self._all_output_names is not None:
            self._resolve_output()
        if schema is not None:
            self._plan_decoding()

    # set-up ------------------------------------------------------------------------------
    def _resolve_output(self):
        names = self._all_output_names
        if self.output is None:
            self._output_index = None
            return
        if names is not None and self.method == "predict_proba":
            matches = [k for k, name in enumerate(names) if name == self.output and type(name) is not bool]
            if not matches:
                matches = [k for k, name in enumerate(names) if name == self.output]
            if not matches:
                raise ValueError(f"`output` must be one of the classes {list(names)}; got {self.output!r}")
            self._output_index = matches[0]
            return
        n_outputs = len(names)
        if isinstance(self.output, str) and self.output in names:
            self._output_index = names.index(self.output)
            return
        index = check_int(self.output, "output", min_value=0, max_value=n_outputs - 1)
        self._output_index = index

    def _plan_decoding(self):
        """Decide the column order and container the model wants, from what the estimator knows."""
        schema = self.schema
        owner = self.owner
        names_in = getattr(owner, "feature_names_in_", None) if owner is not None else None
        n_in = getattr(owner, "n_features_in_", None) if owner is not None else None
        if names_in is not None:
            names_in = list(names_in)
            missing = [n for n in names_in if n not in schema.names]
            unused = [n for n in schema.names if n not in names_in]
            if schema.input_kind == "array" and not missing and not unused:
                pass
            elif missing or unused:
                parts = []
                if missing:
                    parts.append(f"the model was fitted on columns the data lacks: {missing}")
                if unused:
                    parts.append(f"the data has columns the model was not fitted on: {unused}")
                raise ValueError("; ".join(parts) + f". The model expects the columns {names_in}")
            self._decode_columns = names_in if names_in != list(schema.names) else None
            self._decode_as_array = False
        elif n_in is not None:
            if n_in != schema.n_columns:
                raise ValueError(
                    f"the model was fitted on {n_in} columns; the data has {schema.n_columns}"
                )
            self._decode_as_array = True  # fitted without column names: give it an array
        else:
            self._decode_as_array = None  # a bare callable gets what the user gave

    def bind(self, schema):
        """A copy of this model that decodes code matrices with ``schema``."""
        return Model(self.predict_function, owner=self.owner, method=self.method, output=self.output,
                     max_rows=self.max_rows, schema=schema)

    def with_max_rows(self, max_rows):
        """A copy of this model that passes at most ``max_rows`` rows per call."""
        return Model(self.predict_function, owner=self.owner, method=self.method, output=self.output,
                     max_rows=max_rows, schema=self.schema)

    # properties ---------------------------------------------------------------------------
    @property
    def output_names(self):
        """Names of the outputs this model returns (None until known)."""
        if self._all_output_names is None:
            return None
        if self._output_index is None:
            return self._all_output_names
        return (self._all_output_names[self._output_index],)

    @property
    def feature_names_in(self):
        """Column names the estimator was fitted with (``feature_names_in_``), or None."""
        return None if self.owner is None else getattr(self.owner, "feature_names_in_", None)

    @property
    def n_outputs(self):
        names = self.output_names
        return None if names is None else len(names)

    # calling ------------------------------------------------------------------------------
    def decode(self, codes):
        """The model's input for a code matrix."""
        return self.schema.decode(codes, columns=self._decode_columns, as_array=self._decode_as_array)

    def __call__(self, codes):
        """Outputs ``(n_rows, n_outputs)`` for a code matrix ``(n_rows, n_columns)``."""
        if self.schema is None:
            raise RuntimeError("this Model is not bound to a schema; use model.bind(schema) first")
        codes = np.asarray(codes, dtype=np.float64)
        n_rows = codes.shape[0]
        if n_rows <= self.max_rows:
            return self._checked_call(self.decode(codes), n_rows, 0)
        parts = [
            self._checked_call(self.decode(codes[start:start + self.max_rows]),
                               min(self.max_rows, n_rows - start), start)
            for start in range(0, n_rows, self.max_rows)
        ]
        return np.concatenate(parts, axis=0)

    def predict(self, data):
        """Outputs ``(n_rows, n_outputs)`` for data in the model's own input format (no decoding)."""
        n_rows = data.shape[0]
        if n_rows <= self.max_rows:
            return self._checked_call(data, n_rows, 0)
        take = data.iloc if hasattr(data, "iloc") else data
        parts = [self._checked_call(take[start:start + self.max_rows], min(self.max_rows, n_rows - start), start)
                 for start in range(0, n_rows, self.max_rows)]
        return np.concatenate(parts, axis=0)

    def _checked_call(self, data, n_rows, first_row):
        self._calls += 1
        where = f"in call {self._calls}, on {n_rows} rows (rows {first_row} to {first_row + n_rows - 1} of this request)"
        try:
            raw = self.predict_function(data)
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
        if self._n_raw_outputs is None:
            self._n_raw_outputs = out.shape[1]
            if out.shape[1] == 1:
                self._all_output_names = ("output",)
            else:
                self._all_output_names = tuple(f"output_{k}" for k in range(out.shape[1]))
            self._resolve_output()
        elif out.shape[1] != self._n_raw_outputs:
            raise ModelError(
                f"the model returned {out.shape[1]} outputs {where}; earlier calls returned {self._n_raw_outputs}"
            )
        if self._output_index is not None:
            out = out[:, self._output_index:self._output_index + 1]
        if not np.isfinite(out).all():
            bad_rows = np.flatnonzero(~np.isfinite(out).all(axis=1))
            raise ModelError(
                f"the model returned NaN or inf for {bad_rows.size} of {n_rows} rows {where} "
                f"(first at row {first_row + bad_rows[0]}); tabxai cannot attribute non-finite predictions. "
                "If the model cannot handle missing values, impute them in a pipeline step"
            )
        return out

    def __repr__(self):
        owner = type(self.owner).__name__ if self.owner is not None else getattr(
            self.predict_function, "__name__", type(self.predict_function).__name__)
        return f"Model({owner}.{self.method}, output={self.output!r}, max_rows={self.max_rows})"


def as_model(model, *, output=None, max_rows=None):
    """Wrap a fitted estimator, pipeline or callable as a :class:`Model`.

    Parameters
    ----------
    model : estimator, Pipeline, bound method or callable
        Classifiers are asked for ``predict_proba`` (``decision_function`` when they have no
        probabilities), regressors and others for ``predict``. A callable is called as it is, with
        a DataFrame when the data was a DataFrame and an array when it was an array.
    output : class label or int, default=None
        Keep one output: a class label of a classifier, or the index of a column of the model's
        output. None keeps all outputs.
    max_rows : int, default=None
        Most rows per model call (default 32,768).

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
    if isinstance(model, Model):
        if output is not None or max_rows is not None:
            return Model(model.predict_function, owner=model.owner, method=model.method,
                         output=model.output if output is None else output,
                         max_rows=model.max_rows if max_rows is None else max_rows, schema=model.schema)
        return model
    max_rows = DEFAULT_MAX_ROWS if max_rows is None else check_int(max_rows, "max_rows", min_value=1)
    if _is_estimator(model):
        method = _select_method(model)
        _check_fitted(model)
        return Model(getattr(model, method), owner=model, method=method, output=output, max_rows=max_rows)
    if callable(model):
        owner = getattr(model, "__self__", None)
        name = getattr(model, "__name__", "callable")
        if owner is not None and _is_estimator(owner) and name in ("predict", "predict_proba", "decision_function"):
            return Model(model, owner=owner, method=name, output=output, max_rows=max_rows)
        return Model(model, output=output, max_rows=max_rows)
    raise TypeError(
        "`model` must be a fitted estimator or pipeline, or a callable that maps rows to predictions; "
        f"got {type(model).__name__}"
    )


def _check_fitted(estimator):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise ValueError(f"the model is not fitted: {exc}") from None
    except (TypeError, AttributeError):  # not a scikit-learn estimator: trust the user
        pass

