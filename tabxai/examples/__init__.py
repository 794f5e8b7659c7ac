"""Example-based explanations: prototypes and criticisms, influential training rows, similar cases.

All work on raw tables (numbers, strings, categoricals, booleans, missing values) through one
mixed-type encoding (:mod:`tabxai.examples._encoding`).
"""

from ._influence import Influence, influence
from ._neighbours import neighbours
from ._prototypes import Prototypes
from ._summary import background_summary

__all__ = ["Influence", "Prototypes", "background_summary", "influence", "neighbours"]
