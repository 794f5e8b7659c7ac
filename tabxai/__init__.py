"""tabxai: explain any tabular model from its prediction function alone.

>>> import tabxai as tx
>>> X, y = tx.datasets.load_german_credit()  # doctest: +SKIP
"""

__version__ = "0.1.0.dev0"

from . import datasets, plots
from .counterfactuals import Counterfactuals, Recourse
from .data import TabularSchema
from .examples import Influence, Prototypes, background_summary, influence, neighbours
from .explanation import Explanation
from .interaction_explanation import InteractionExplanation
from .inspection import (AccumulatedLocalEffects, PartialDependence, PermutationImportance, accumulated_local_effects,
                         partial_dependence, partial_dependences, permutation_importance, SageValues, sage)
from .lime import LimeTabular
from .maskers import IndependentMasker
from .model import Model, ModelError, as_model
from .report import AuditReport, audit, reason_codes
from .rules import OneR, RuleListClassifier, fit_surrogate
from .shapley import ExactShapley, KernelSHAP, PermutationShapley, ShapleyInteractions

from . import image  # noqa: E402  (after the explainers it runs; imports no scikit-image or framework)

__all__ = [
    "AccumulatedLocalEffects",
    "AuditReport",
    "Counterfactuals",
    "ExactShapley",
    "Explanation",
    "IndependentMasker",
    "background_summary",
    "Influence",
    "InteractionExplanation",
    "KernelSHAP",
    "LimeTabular",
    "Model",
    "ModelError",
    "OneR",
    "PartialDependence",
    "PermutationImportance",
    "PermutationShapley",
    "Prototypes",
    "Recourse",
    "RuleListClassifier",
    "SageValues",
    "ShapleyInteractions",
    "TabularSchema",
    "__version__",
    "accumulated_local_effects",
    "as_model",
    "audit",
    "datasets",
    "fit_surrogate",
    "image",
    "influence",
    "neighbours",
    "partial_dependence",
    "partial_dependences",
    "permutation_importance",
    "plots",
    "reason_codes",
    "sage",
]
