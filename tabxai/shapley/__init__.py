"""Shapley value estimators on the interventional value function."""

from .exact import ExactShapley
from .kernel import KernelSHAP

__all__ = ["ExactShapley", "KernelSHAP"]
