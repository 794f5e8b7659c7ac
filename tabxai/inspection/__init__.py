"""Global views of any model: partial dependence and ICE, accumulated local effects, permutation importance."""

from ._results import AccumulatedLocalEffects, PartialDependence, PermutationImportance
from .partial_dependence import partial_dependence

__all__ = [
    "AccumulatedLocalEffects",
    "PartialDependence",
    "PermutationImportance",
    "partial_dependence",
]
