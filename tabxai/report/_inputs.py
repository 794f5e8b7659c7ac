"""The audit's descriptions of its inputs (columns, model) and JSON-ready data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


__all__ = ["_columns", "_model_repr", "_model_type", "_plain"]


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
