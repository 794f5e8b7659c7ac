"""tabxai: explain any tabular model from its prediction function alone.

>>> import tabxai as tx
>>> X, y = tx.datasets.load_german_credit()  # doctest: +SKIP
"""

__version__ = "0.1.0.dev0"

from . import datasets
from .data import TabularSchema
from .explanation import Explanation
from .maskers import IndependentMasker
from .model import Model, ModelError, as_model
from .shapley import ExactShapley

__all__ = [
    "ExactShapley",
    "Explanation",
    "IndependentMasker",
    "Model",
    "ModelError",
    "TabularSchema",
    "__version__",
    "as_model",
    "datasets",
]
