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

__all__ = ["DEFAULT_MAX_ROWS", "LINKS", "Model", "ModelError", "as_model", "has_method", "is_classifier_like", "output_index"]

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


def output_index(names, output, method=None):
    """Position of ``output`` among the output ``names``: a class label, an output name, or a position.

    The one lookup of an output in tabxai: models (:meth:`Model.output_index`), results, plots, the
    report and the image adapter all call it. A name is matched first with its own type (so the class
    ``2`` of labels ``[1, 2, 3]`` is position 1), then by equality. Outputs that are class
    probabilities (``method="predict_proba"``) are looked up by label only; other outputs also by
    position (negative positions count from the end). ``output=None`` is the only output, or the
    second of two class probabilities (a binary classifier's positive class); with more outputs the
    caller must choose.
    """
    if output is None:
        if len(names) == 1:
            return 0
        if len(names) == 2 and method == "predict_proba":
            return 1
        raise ValueError(f"the model has {len(names)} outputs {[_label(n) for n in names]}; choose one with `output`")
    matches = [k for k, name in enumerate(names) if type(name) is type(output) and name == output]
    if not matches:
        matches = [k for k, name in enumerate(names) if _equal(name, output) and not isinstance(name, bool)]
    if matches:
        return matches[0]
    if method == "predict_proba":
        raise ValueError(f"`output` must be one of the classes {list(names)}; got {output!r}")
    is_position = isinstance(output, (int, np.integer)) and not isinstance(output, (bool, np.bool_))
    if len(names) == 1:
        if is_position and output in (0, -1):
            return 0
        raise ValueError(f"the model has one output ({names[0]!r}); `output` must be None, 0 or {names[0]!r}; "
                         f"got {output!r}")
    if is_position and -len(names) <= output < len(names):
        return int(output) % len(names)
    raise ValueError(f"`output` must name one of the model's {len(names)} outputs {list(names)} or be a position "
                     f"0 to {len(names) - 1}; got {output!r}")


def _equal(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


class _LabelPositions:
    """A classifier's ``predict`` as positions of its labels in ``classes_``: numbers the adapter can check."""

    _FEW = 8  # up to this many numeric classes, one comparison per class beats a hash lookup

    def __init__(self, predict, classes):
        self.predict = predict
        self.classes = classes

    def __call__(self, data):
        import pandas as pd

        labels = np.asarray(self.predict(data)).ravel()
        positions = self._few_numeric(labels)
        if positions is None:
            positions = pd.Index(self.classes).get_indexer(labels)
        if (positions < 0).any():
            unknown = [_label(v) for v in pd.unique(labels[positions < 0])[:5]]
            raise ValueError(f"the model's decisions hold labels {list(unknown)} that are not its classes "
                             f"{list(self.classes)}")
        return positions.astype(np.float64)

    def _few_numeric(self, labels):
        """Positions of numeric labels without a hash lookup; None for other labels or many classes.

        Classes ``0 ... k - 1`` (the common case) are their own positions; other numeric classes are
        compared in turn, with arithmetic rather than masked assignment (a mask that changes from
        row to row costs a mispredicted branch per row).
        """
        classes = np.asarray(self.classes)
        if classes.dtype.kind not in "iub" or labels.dtype.kind not in "iub":
            return None
        if labels.size and np.array_equal(classes, np.arange(len(classes))):
            low, high = labels.min(), labels.max()
            if low >= 0 and high < len(classes):
                return labels
        if len(classes) > self._FEW:
            return None
        positions = np.full(labels.shape, -1, dtype=np.intp)
        for k, label in enumerate(classes):  # classes_ are distinct: at most one comparison holds per row
            positions += (labels == label) * (k + 1)
        return positions


class _CallableDecisions:
    """A callable's decisions as positions in ``classes``: a threshold on the probability of the second class,
    or the position of its largest output. (A ``decision`` that returns labels is a :class:`_LabelPositions`.)"""

    def __init__(self, predict, threshold):
        self.predict = predict
        self.threshold = threshold

    def __call__(self, data):
        outputs = np.asarray(self.predict(data), dtype=np.float64)
        outputs = outputs[:, None] if outputs.ndim == 1 else outputs
        if self.threshold is None:
            return np.argmax(outputs, axis=1).astype(np.float64)
        column = outputs[:, 1] if outputs.shape[1] == 2 else outputs[:, 0]
        return (column >= self.threshold).astype(np.float64)


class _OutputsAndDecisions:
    """Outputs of a model (on the ``link`` scale) with the position of its decision as a last column."""

    def __init__(self, predict, decide, link):
        self.predict = predict
        self.decide = decide
        self.link = link

    def __call__(self, data):
        outputs = np.asarray(self.predict(data), dtype=np.float64)
        outputs = outputs[:, None] if outputs.ndim == 1 else outputs
        if self.link == "logit":
            outputs = _logit(outputs, f"on {outputs.shape[0]} rows")
        return np.column_stack([outputs, np.asarray(self.decide(data), dtype=np.float64).ravel()])


def _threshold_rule(owner, classes):
    """``(column, threshold)`` of a scikit-learn threshold classifier on predict_proba (possibly the last step
    of a pipeline); None for any other estimator; "unknown" for a threshold on another response."""
    try:
        from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV
    except ImportError:  # scikit-learn without threshold classifiers
        return None
    from sklearn.pipeline import Pipeline

    final = owner
    while isinstance(final, Pipeline):
        final = final.steps[-1][1]
    if isinstance(final, FixedThresholdClassifier):
        threshold = final.threshold
    elif isinstance(final, TunedThresholdClassifierCV):
        threshold = getattr(final, "best_threshold_", None)
    else:
        return None
    inner = getattr(final, "estimator_", None)
    response = final.response_method
    if response == "auto":
        response = "predict_proba" if has_method(inner, "predict_proba") else "decision_function"
    if response != "predict_proba" or threshold is None or len(classes) != 2:
        return "unknown"
    threshold = 0.5 if isinstance(threshold, str) else float(threshold)
    pos_label = getattr(final, "pos_label", None)
    if pos_label is None and has_method(final, "_get_pos_label"):  # TunedThresholdClassifierCV: its scorer's
        try:
            pos_label = final._get_pos_label()
        except (AttributeError, TypeError, ValueError):
            pos_label = None
    column = 1 if pos_label is None else output_index(classes, pos_label, "predict_proba")
    return column, threshold


def _on_link_scale(threshold, link):
    if link != "logit":
        return threshold
    p = min(max(threshold, _LOGIT_CLIP), 1 - _LOGIT_CLIP)
    return float(np.log(p) - np.log1p(-p))


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
                 max_rows=DEFAULT_MAX_ROWS, schema=None, all_output_names=None, classes=None, decision=None):
        set_ = object.__setattr__
        set_(self, "predict_function", predict_function)
        set_(self, "owner", owner)
        set_(self, "method", method)
        set_(self, "output", output)
        set_(self, "link", link)
        set_(self, "max_rows", max_rows)
        set_(self, "schema", schema)
        if all_output_names is None:
            all_output_names = classes if classes is not None else _known_output_names(owner, method)
        set_(self, "_all_output_names", all_output_names)
        set_(self, "_classes", classes)
        set_(self, "decision", decision)
        index = None
        if all_output_names is not None and output is not None:
            index = output_index(all_output_names, output, self._lookup_method)
        set_(self, "_output_index", index)
        set_(self, "_decode_columns", None)
        set_(self, "_decode_as_array", None)
        if schema is not None:
            self._plan_decoding()

    def _replace(self, **changes):
        """A copy with some constructor arguments changed (a Model is immutable)."""
        arguments = {"owner": self.owner, "method": self.method, "output": self.output, "link": self.link,
                     "max_rows": self.max_rows, "schema": self.schema, "all_output_names": self._all_output_names,
                     "classes": self._classes, "decision": self.decision}
        function = changes.pop("predict_function", self.predict_function)
        arguments.update(changes)
        return Model(function, **arguments)

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
        bound = self._replace(schema=schema)
        if bound._all_output_names is None and sample is not None and len(sample):
            raw = bound._raw_outputs(np.asarray(sample, dtype=np.float64)[:1], 0)
            names = ("output",) if raw.shape[1] == 1 else tuple(f"output_{k}" for k in range(raw.shape[1]))
            bound = self._replace(schema=schema, all_output_names=names)
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
        """Whether the model is a classifier: an estimator (see :func:`is_classifier_like`), or a callable
        given ``classes=``."""
        return self._classes is not None or (self.owner is not None and is_classifier_like(self.owner))

    @property
    def _lookup_method(self):
        """How outputs are looked up: by class label only when they are class probabilities."""
        return "predict_proba" if self._classes is not None else self.method

    @property
    def classes(self):
        """The labels the model decides between: an estimator's ``classes_``, the ``classes`` given for a
        callable, or (a bare callable with several outputs, once bound) its output names; None for a
        model that makes no decisions (a regressor, a single score)."""
        if self._classes is not None:
            return tuple(self._classes)
        if self.owner is not None and is_classifier_like(self.owner) and np.ndim(
                getattr(self.owner, "classes_", None)) == 1:
            return tuple(_label(c) for c in self.owner.classes_)
        if self.owner is None and self._all_output_names is not None and len(self._all_output_names) > 1:
            return tuple(self._all_output_names)
        return None

    def output_index(self, output):
        """Position of ``output`` (a class label, an output name or a position) among all the model's
        outputs: the one output lookup (see :func:`output_index`)."""
        if self._all_output_names is None:
            raise RuntimeError("the names of this model's outputs are not known before it is bound to data")
        return output_index(self._all_output_names, output, self._lookup_method)

    def decisions(self):
        """The model's own decisions as a model: a bound :class:`Model` whose one output is the position,
        in :attr:`classes`, of the label the model decides for each row.

        An estimator decides with its own ``predict`` (thresholds of ``FixedThresholdClassifier``,
        ``TunedThresholdClassifierCV`` or a custom ``predict`` included). A callable decides with the
        ``decision`` given to :func:`as_model` (a callable returning labels, or a threshold on the
        probability of the second class), else by the largest output. Ask it through the engine
        (``tabxai._engine.predict``), which streams rows in chunks of ``max_rows``.
        """
        return Model(self._decision_function(), owner=self.owner, method="decide", max_rows=self.max_rows,
                     schema=self.schema, all_output_names=("decision",))

    def with_decisions(self):
        """A bound :class:`Model` that returns all of this model's outputs (on its ``link`` scale) and, as a
        last column, the position of its decision in :attr:`classes`: decisions at the price of one more
        call per chunk, for searches that must know the model's own decision of every row they try."""
        if self.output is not None:
            raise ValueError("with_decisions needs every output of the model; it has output="
                             f"{self.output!r}")
        function = _OutputsAndDecisions(self.predict_function, self._decision_function(), self.link)
        return Model(function, owner=self.owner, method="with_decisions", max_rows=self.max_rows,
                     schema=self.schema, all_output_names=tuple(self._all_output_names) + ("decision",))

    def _decision_function(self):
        classes = self.classes
        if classes is None:
            raise ValueError(f"{self!r} makes no decisions between classes (it gives "
                             f"{self.n_outputs or 'an unknown number of'} output(s) without class labels)")
        if self.owner is not None and has_method(self.owner, "predict") and self._classes is None:
            return _LabelPositions(self.owner.predict, self.owner.classes_)
        if callable(self.decision):  # labels, as a classifier's predict gives them
            return _LabelPositions(self.decision, np.asarray(classes, dtype=object))
        return _CallableDecisions(self.predict_function, self.decision)

    def decision_rule(self):
        """The rule that turns this model's outputs (all of them, on its ``link`` scale) into decisions, when
        one is known: ``("argmax",)`` or ``("threshold", column, value, position_at_or_above, position_below)``;
        None when only :meth:`decisions` knows (a custom ``predict`` or ``decision``).

        For an estimator the rule is what its type says (a threshold classifier's threshold on the
        probability of ``pos_label``, otherwise the largest probability): callers that rely on it check it
        against :meth:`decisions` on their data and always re-check what they report with :meth:`decisions`.
        """
        classes = self.classes
        if classes is None or self._all_output_names is None or self.output is not None:
            return None
        if self.owner is None or self._classes is not None:
            if self.decision is None:
                return ("argmax",) if len(self._all_output_names) > 1 else None
            if callable(self.decision) or len(classes) != 2:
                return None
            column = 1 if len(self._all_output_names) == 2 else 0
            return ("threshold", column, _on_link_scale(float(self.decision), self.link), 1, 0)
        if self.method != "predict_proba":
            return None
        rule = _threshold_rule(self.owner, classes)
        if rule is None:
            return ("argmax",)
        if rule == "unknown":
            return None
        column, threshold = rule
        return ("threshold", column, _on_link_scale(threshold, self.link), column, 1 - column)

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
            index = output_index(tuple(f"output_{k}" for k in range(out.shape[1])) if out.shape[1] > 1
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


def as_model(model, *, output=None, max_rows=None, link=None, method=None, classes=None, decision=None):
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
    classes : sequence of labels, default=None
        For a callable that returns class probabilities: the class of each column (as an estimator's
        ``classes_``), so outputs and decisions are named by label.
    decision : callable or float, default=None
        For a callable only: how it decides. A callable maps the model's input to labels (one per row);
        a number ``t`` decides for the second class when its probability (the second column, or the
        only one) is at least ``t``. Default: the class with the largest output. An estimator always
        decides with its own ``predict`` (wrap it in scikit-learn's ``FixedThresholdClassifier`` to
        move its threshold).

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
    classes = _check_classes(classes)
    decision = _check_decision(decision, classes)
    if isinstance(model, Model):
        if output is None and max_rows is None and link is None and method is None and classes is None and \
                decision is None:
            return model
        owner = model.owner
        if method is not None and owner is not None and method != model.method:
            return as_model(owner, output=output if output is not None else model.output,
                            max_rows=max_rows or model.max_rows, link=link or model.link, method=method)
        changes = {"output": model.output if output is None else output, "link": link or model.link,
                   "max_rows": model.max_rows if max_rows is None else check_int(max_rows, "max_rows", min_value=1)}
        if classes is not None:
            changes.update(classes=classes, all_output_names=classes)
        if decision is not None:
            changes["decision"] = decision
        return model._replace(**changes)
    max_rows = DEFAULT_MAX_ROWS if max_rows is None else check_int(max_rows, "max_rows", min_value=1)
    if _is_estimator(model):
        if classes is not None or decision is not None:
            raise ValueError(f"`classes` and `decision` are for a callable; {type(model).__name__} names its classes "
                             "(classes_) and decides with its own predict (wrap it in scikit-learn's "
                             "FixedThresholdClassifier to move its threshold)")
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
            if classes is not None or decision is not None:
                raise ValueError(f"`classes` and `decision` are for a callable; {type(owner).__name__}.{name} is a "
                                 "bound method of an estimator, which names its classes and decides with its predict")
            _check_link(link, owner, name)
            return Model(model, owner=owner, method=name, output=output, link=link, max_rows=max_rows)
        return Model(model, output=output, link=link, max_rows=max_rows, classes=classes, decision=decision)
    raise TypeError(
        "`model` must be a fitted estimator or pipeline, or a callable that maps rows to predictions; "
        f"got {type(model).__name__}"
    )


def _check_classes(classes):
    if classes is None:
        return None
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__len__"):
        raise TypeError(f"`classes` must be a sequence of class labels, one per output; got {classes!r}")
    labels = tuple(_label(c) for c in classes)
    if len(labels) < 2 or len(set(map(repr, labels))) != len(labels):
        raise ValueError(f"`classes` must hold at least two distinct labels; got {list(labels)}")
    return labels


def _check_decision(decision, classes):
    if decision is None or callable(decision):
        return decision
    if isinstance(decision, (bool, np.bool_)) or not isinstance(decision, (int, float, np.integer, np.floating)) \
            or not np.isfinite(decision):
        raise TypeError(f"`decision` must be a callable returning labels or a finite threshold; got {decision!r}")
    if classes is not None and len(classes) != 2:
        raise ValueError(f"a threshold `decision` needs two classes; got classes {list(classes)}")
    return float(decision)


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
