"""Shapley value estimators on the interventional value function."""

from .exact import ExactShapley

__all__ = ["ExactShapley"]
