"""tabxai: explain any tabular model from its prediction function alone.

>>> import tabxai as tx
>>> X, y = tx.datasets.load_german_credit()  # doctest: +SKIP
"""

__version__ = "0.1.0.dev0"

from . import datasets, plots
from .data import TabularSchema
from .explanation import Explanation
from .inspection import (AccumulatedLocalEffects, PartialDependence, PermutationImportance, accumulated_local_effects,
                         partial_dependence, permutation_importance)
from .maskers import IndependentMasker
from .model import Model, ModelError, as_model
from .rules import OneR, RuleListClassifier, fit_surrogate
from .shapley import ExactShapley, KernelSHAP, PermutationShapley

__all__ = [
    "AccumulatedLocalEffects",
    "ExactShapley",
    "Explanation",
    "IndependentMasker",
    "KernelSHAP",
    "Model",
    "ModelError",
    "OneR",
    "PartialDependence",
    "PermutationImportance",
    "PermutationShapley",
    "RuleListClassifier",
    "TabularSchema",
    "__version__",
    "accumulated_local_effects",
    "as_model",
    "datasets",
    "fit_surrogate",
    "partial_dependence",
    "permutation_importance",
    "plots",
]
