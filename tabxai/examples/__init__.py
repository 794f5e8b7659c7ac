"""Example-based explanations: prototypes and criticisms, influential training rows, similar cases.

All work on raw tables (numbers, strings, categoricals, booleans, missing values) through one
mixed-type encoding (:mod:`tabxai.examples._encoding`).
"""

from ._influence import Influence, influence
from ._neighbours import neighbours
from ._prototypes import Prototypes

__all__ = ["Influence", "Prototypes", "influence", "neighbours"]
