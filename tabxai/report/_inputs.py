"""The audit's inputs: classes and decisions, sensitive attributes, applicants, columns; JSON-ready data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._engine import predict
from ..model import as_model, has_method

__all__ = ["_applicants", "_columns", "_decisions", "_index_of", "_model_repr", "_model_type", "_plain", "_same",
           "_sensitive"]


def _index_of(outputs, label, name):
    for j, output in enumerate(outputs):
        if _same(output, label):
            return j
    raise ValueError(f"`{name}` must be one of the model's classes {list(outputs)}; got {label!r}")


def _decisions(adapter, schema, codes, probabilities, outputs):
    """The model's decisions: a classifier's ``predict`` (asked through the model adapter and the
    engine, like every other model call), else the more probable class."""
    owner = adapter.owner
    if adapter.is_classifier and has_method(owner, "predict") and getattr(owner, "classes_", None) is not None:
        labels = as_model(owner, method="predict", max_rows=adapter.max_rows).bind(schema, sample=codes)
        positions = predict(labels, codes)[:, 0].astype(np.intp)
        decisions = np.asarray(owner.classes_, dtype=object)[positions]
        if all(any(_same(d, o) for o in outputs) for d in set(decisions)):
            return decisions
    return np.asarray(outputs, dtype=object)[probabilities.argmax(axis=1)]


def _sensitive(sensitive, frame, index):
    """``{name: (Series of groups aligned with the rows, source column or None)}``."""
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
        if isinstance(values, pd.Series):
            if len(values) != len(frame):
                raise ValueError(f"sensitive attribute {name!r} has {len(values)} values for {len(frame)} rows")
            if not values.index.equals(index) and index.is_unique and values.index.is_unique and \
                    set(values.index) == set(index):
                values = values.reindex(index)  # aligned by label; otherwise by position
            series = values.reset_index(drop=True).rename(name)  # keeps a categorical's order
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


def _applicants(applicants, index, is_adverse, max_applicants):
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
                positions.append(int(hits[0]))
            positions = np.unique(np.asarray(positions, dtype=np.int64))
    if max_applicants is not None:
        positions = positions[:max_applicants]
    return np.asarray(positions, dtype=np.int64)


def _columns(frame):
    columns = []
    for name in frame.columns:
        column = frame[name]
        entry = {"name": _plain(name), "dtype": str(column.dtype), "missing": int(column.isna().sum()),
                 "distinct": int(column.nunique(dropna=True))}
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            present = pd.to_numeric(column, errors="coerce").dropna()
            entry["kind"] = "numeric"
            entry["min"] = float(present.min()) if len(present) else None
            entry["max"] = float(present.max()) if len(present) else None
        else:
            entry["kind"] = "categorical"
            top = column.value_counts(dropna=True).head(3)
            entry["top"] = [str(v) for v in top.index]
        columns.append(entry)
    return columns


def _model_type(model):
    owner = getattr(model, "__self__", None)
    if owner is not None and hasattr(model, "__name__"):
        return f"{type(owner).__name__}.{model.__name__}"
    return getattr(model, "__name__", None) if type(model).__name__ == "function" else type(model).__name__


def _model_repr(model, limit=4000):
    try:
        text = repr(model)
    except Exception:  # noqa: BLE001 - a broken repr must not stop the audit
        text = f"<{type(model).__name__}>"
    return text if len(text) <= limit else text[:limit] + " ..."


def _plain(value):
    """JSON-ready Python data: NumPy scalars and arrays to Python, NaN to None, keys to strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
