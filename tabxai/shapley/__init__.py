"""Shapley value estimators on the interventional value function."""

from .exact import ExactShapley
from .interactions import ShapleyInteractions
from .kernel import KernelSHAP
from .permutation import PermutationShapley

__all__ = ["ExactShapley", "KernelSHAP", "PermutationShapley", "ShapleyInteractions"]
