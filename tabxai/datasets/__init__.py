"""Small tabular datasets bundled with tabxai, loaded as pandas objects.

Each loader returns ``(X, y)``: a :class:`pandas.DataFrame` of features and a
:class:`pandas.Series` target, freshly built on every call.
"""

from ._loaders import load_adult, load_california_housing, load_german_credit

__all__ = ["load_adult", "load_california_housing", "load_german_credit"]
