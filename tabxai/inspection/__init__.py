"""Global views of any model: partial dependence and ICE, accumulated local effects, permutation importance."""

from ._results import AccumulatedLocalEffects, PartialDependence, PermutationImportance
from .ale import accumulated_local_effects
from .partial_dependence import partial_dependence, partial_dependences
from .permutation import permutation_importance
from ._sage_result import SageValues
from .sage import sage

__all__ = [
    "AccumulatedLocalEffects",
    "PartialDependence",
    "PermutationImportance",
    "SageValues",
    "accumulated_local_effects",
    "partial_dependence",
    "partial_dependences",
    "permutation_importance",
    "sage",
]
