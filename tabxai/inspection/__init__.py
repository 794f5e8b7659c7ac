"""Global views of any model: partial dependence and ICE, accumulated local effects, permutation importance."""

from ._results import AccumulatedLocalEffects, PartialDependence, PermutationImportance
from .ale import accumulated_local_effects
from .partial_dependence import partial_dependence
from .permutation import permutation_importance

__all__ = [
    "AccumulatedLocalEffects",
    "PartialDependence",
    "PermutationImportance",
    "accumulated_local_effects",
    "partial_dependence",
    "permutation_importance",
]
