"""The audit's prepared context: everything the sections share, validated and bound once.

:func:`prepare` checks the inputs and asks the model once for its probabilities and once for its own
decisions; every section of the report is then a short function of the :class:`AuditContext`. Rows
are keyed by position everywhere inside the audit (so duplicate index labels never merge two
applicants); the user's index label is kept for what is printed. Labels and sensitive attributes
given as pandas objects are paired with ``X`` by index (:func:`tabxai.data.align_targets`, as in
permutation importance), arrays by position.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .._engine import predict
from .._validation import row_generator
from ..data import Players, TabularSchema, align_targets
from ..examples import background_summary
from ..maskers import IndependentMasker
from ..model import as_model, output_index

__all__ = ["AuditContext", "audit_link", "prepare", "same"]


@dataclass
class AuditContext:
    """Inputs of every audit section (see the module docstring); built by :func:`prepare`."""

    model: object  # the user's model, as given (the sections call public functions with it)
    adapter: object  # the bound Model: outputs, classes and decisions
    X: pd.DataFrame  # the audited rows as given
    frame: pd.DataFrame  # the same rows with a RangeIndex: position = row key inside the audit
    labels: pd.Index  # the user's index label of each position
    classes: tuple  # the two classes, in the model's output order
    positive: object
    favorable: object
    adverse: object
    probabilities: np.ndarray  # (n_rows, 2), in the order of ``classes``
    decisions: np.ndarray  # the model's own decision of each row (labels, object array)
    is_adverse: np.ndarray
    y: np.ndarray | None  # labels paired with the rows, or None
    sensitive: dict  # {name: (Series of groups with a RangeIndex, source column or None)}
    players_of: dict  # {column: player (a group name or the column)}
    applicants: np.ndarray  # positions of the applicants that get reasons
    global_positions: np.ndarray  # positions of the rows of the global view
    masker: object  # IndependentMasker: a weighted summary of X, or the background given
    background_positions: np.ndarray | None
    seed: int
    options: dict  # the validated parameters of tx.audit
    say: object = print
    timings: dict = field(default_factory=dict)

    @property
    def n_rows(self):
        return len(self.frame)

    @property
    def positive_index(self):
        return output_index(self.classes, self.positive, "predict_proba")

    @property
    def adverse_index(self):
        return output_index(self.classes, self.adverse, "predict_proba")

    @property
    def output_key(self):
        """How the explainers name the explained output: the positive class."""
        return self.positive

    @property
    def background(self):
        return self.masker.background

    @cached_property
    def sensitive_groups(self):
        """``{name: (groups, banded)}``: each sensitive attribute's group of every row; numeric attributes with
        more than 8 values in bands (:func:`tabxai.report.numeric_bands`)."""
        from .fairness import numeric_bands

        groups = {}
        for name, (values, _) in self.sensitive.items():
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) and \
                    values.nunique() > 8:
                groups[name] = (numeric_bands(values), True)
            else:
                groups[name] = (values, False)
        return groups

    @property
    def sensitive_players(self):
        """Players (columns or feature groups) that are, or contain, a sensitive attribute's column."""
        sources = {source for _, source in self.sensitive.values() if source is not None}
        return {self.players_of.get(column, column) for column in sources}

    def timed(self, name, section, *args):
        """Run ``section(self, *args)`` and record its time under ``name``."""
        tick = time.perf_counter()
        out = section(self, *args)
        self.timings[name] = time.perf_counter() - tick
        return out


def prepare(model, X, y, *, sensitive, applicants, positive, favorable, background, decision, seed, options, say):
    """Validate the audit's inputs, bind the model, ask it for probabilities and decisions, pair the rows."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"`X` must be a pandas DataFrame (the audited rows); got {type(X).__name__}")
    if len(X) < 2:
        raise ValueError(f"`X` must have at least 2 rows; got {len(X)}")
    frame = X.reset_index(drop=True)
    labels = X.index  # the user's labels, kept as an Index (no Python object per row)
    y_values = None
    if y is not None:
        if len(y) != len(X):
            raise ValueError(f"`y` must have one label per row of X ({len(X)}); got {len(y)}")
        y_values = np.asarray(align_targets(X, y))
        if y_values.ndim != 1:
            raise ValueError(f"`y` must be one-dimensional; got shape {y_values.shape}")

    say("checking the model on the data")
    schema = TabularSchema.from_data(frame, what="X")
    codes = schema.encode(frame, what="X")
    classes = _callable_classes(y_values) if _is_bare_callable(model) else None
    adapter = as_model(model, classes=classes, decision=decision).bind(schema, sample=codes)
    if adapter.classes is None or len(adapter.classes) != 2 or adapter.n_outputs != 2:
        raise ValueError(f"tx.audit needs a binary classifier with two class probabilities; the model gives "
                         f"{adapter.n_outputs} outputs {list(adapter.output_names or ())}")
    classes = tuple(adapter.classes)
    probabilities = predict(adapter, codes)  # in calls of at most max_rows rows
    positions = predict(adapter.decisions(), codes)[:, 0].astype(np.intp)  # the model's own decisions
    decisions = np.asarray(classes, dtype=object)[positions]

    positive = classes[1] if positive is None else classes[_class_index(classes, positive, "positive")]
    favorable = positive if favorable is None else classes[_class_index(classes, favorable, "favorable")]
    adverse = classes[1 - _class_index(classes, favorable, "favorable")]
    is_adverse = positions == _class_index(classes, adverse, "adverse")
    if y_values is not None:
        unknown = sorted({str(v) for v in y_values if not any(same(v, c) for c in classes)})
        if unknown:
            raise ValueError(f"`y` holds labels {unknown[:5]} that are not the model's classes {list(classes)}")

    generator = row_generator(seed, 0)
    n_rows = len(frame)
    global_positions = np.sort(generator.choice(n_rows, size=min(options["n_explained"], n_rows), replace=False))
    if background is None:  # a weighted summary of the audited rows (medoids of k-means clusters)
        masker = background_summary(frame, options["n_background"], random_state=seed)
        background_positions = np.asarray(masker.background.index, dtype=np.int64)
    else:
        masker, background_positions = IndependentMasker(background), None
    return AuditContext(
        model=model, adapter=adapter, X=X, frame=frame, labels=labels, classes=classes, positive=positive,
        favorable=favorable, adverse=adverse, probabilities=probabilities, decisions=decisions,
        is_adverse=is_adverse, y=y_values, sensitive=_sensitive(sensitive, X, frame),
        players_of=_players_of(frame.columns, options.get("feature_groups")),
        applicants=_applicants(applicants, X.index, is_adverse, options["max_applicants"]),
        global_positions=global_positions, masker=masker, background_positions=background_positions,
        seed=seed, options=options, say=say)


def audit_link(requested, probabilities):
    """The audit's scale: ``"auto"`` is the log-odds (``"logit"``) when every probability of the audited rows
    lies strictly between 0 and 1, else probabilities (``None``); other requests are kept as they are."""
    if requested != "auto":
        return requested
    inside = probabilities.size and bool(np.all((probabilities > 0) & (probabilities < 1)))
    return "logit" if inside else None


def same(a, b):
    """Whether two labels are equal (False where comparing them fails)."""
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _class_index(classes, label, name):
    try:
        return output_index(classes, label, "predict_proba")
    except ValueError:
        raise ValueError(f"`{name}` must be one of the model's classes {list(classes)}; got {label!r}") from None


def _is_bare_callable(model):
    """A callable that is not an estimator or its method, and names no classes of its own."""
    from ..model import Model

    if isinstance(model, Model):
        return model.owner is None and model._classes is None
    owner = getattr(model, "__self__", None)
    return callable(model) and not hasattr(model, "fit") and not hasattr(owner, "fit")


def _callable_classes(y_values):
    """A bare callable's two probability columns are the classes in scikit-learn's order: the sorted labels
    of ``y`` when it has two, else 0 and 1."""
    if y_values is not None:
        labels = sorted(pd.unique(pd.Series(y_values).dropna()))
        if len(labels) == 2:
            return tuple(labels)
    return (0, 1)


def _sensitive(sensitive, X, frame):
    """``{name: (Series of groups keyed by position, source column or None)}``; pandas values paired by index."""
    if sensitive is None:
        return {}
    if isinstance(sensitive, (str, bytes)) or not isinstance(sensitive, (list, tuple, dict)):
        raise TypeError("`sensitive` must be a list of column names or a dict {name: values}; "
                        f"got {type(sensitive).__name__}")
    items = sensitive.items() if isinstance(sensitive, dict) else [(name, None) for name in sensitive]
    result = {}
    for name, values in items:
        if values is None:
            if name not in frame.columns:
                raise ValueError(f"sensitive attribute {name!r} is not a column of X; the columns are "
                                 f"{list(frame.columns)} (give other attributes as a dict {{name: values}})")
            result[name] = (frame[name], name)
            continue
        source = values.name if isinstance(values, pd.Series) and values.name in frame.columns else None
        if len(values) != len(frame):
            raise ValueError(f"sensitive attribute {name!r} must have one value per row of X ({len(frame)}); "
                             f"got {len(values)}")
        if isinstance(values, pd.Series):
            aligned = align_targets(X, values, what=f"sensitive attribute {name!r}")
            series = pd.Series(aligned, name=name, dtype=values.dtype)  # keeps a categorical's order
        else:
            array = np.asarray(values, dtype=object)
            if array.shape != (len(frame),):
                raise ValueError(f"sensitive attribute {name!r} must have one value per row of X ({len(frame)}); "
                                 f"got shape {array.shape}")
            series = pd.Series(array, name=name)
        if name in frame.columns and source is None:
            source = name
        result[name] = (series, source)
    return result


def _players_of(columns, feature_groups):
    """The player of each column (the feature group that holds it, or the column itself), as the explainers'
    :class:`~tabxai.data.Players` assign them."""
    players = Players(list(columns), feature_groups)
    return {column: players.names[k] for column, k in zip(players.column_names, players.player_of_column)}


def _applicants(applicants, index, is_adverse, max_applicants):
    """Positions of the applicants that get reasons: the adverse decisions, or the rows named (all rows with a
    label named, when labels repeat)."""
    if applicants is None:
        positions = np.flatnonzero(is_adverse)
    else:
        array = np.asarray(applicants)
        if array.dtype == bool:
            if array.shape != (len(index),):
                raise ValueError(f"a boolean `applicants` needs one value per row of X ({len(index)}); "
                                 f"got shape {array.shape}")
            positions = np.flatnonzero(array)
        else:
            positions = []
            for label in list(applicants):
                hits = np.flatnonzero(index == label)
                if len(hits) == 0:
                    raise ValueError(f"`applicants` names row {label!r}, which is not in X's index")
                positions.extend(int(h) for h in hits)
            positions = np.unique(np.asarray(positions, dtype=np.int64))
    if max_applicants is not None:
        positions = positions[:max_applicants]
    return np.asarray(positions, dtype=np.int64)
