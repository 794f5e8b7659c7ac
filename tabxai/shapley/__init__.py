"""Shapley value estimators on the interventional value function."""

from .exact import ExactShapley
from .kernel import KernelSHAP
from .permutation import PermutationShapley

__all__ = ["ExactShapley", "KernelSHAP", "PermutationShapley"]
