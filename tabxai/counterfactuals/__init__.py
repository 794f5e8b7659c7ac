"""Counterfactual explanations and recourse: what would have to change for the model to decide otherwise.

:class:`Counterfactuals` (``_counterfactuals``) validates the constraints and the desired outcome and
runs the search (``_search``) over a :class:`~tabxai.counterfactuals._problem.Problem` (data,
constraints, target and the model's decision rule, in code space); :class:`Recourse` (``recourse``)
holds the result: counterfactuals, their metrics and the sentences a person reads.
"""

from ._counterfactuals import Counterfactuals
from .recourse import Recourse

__all__ = ["Counterfactuals", "Recourse"]
