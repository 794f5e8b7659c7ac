"""Plots of tabxai results (presentation layer). matplotlib is imported only when a plot is drawn."""

from .inspection import plot_accumulated_local_effects, plot_partial_dependence, plot_permutation_importance

__all__ = ["plot_accumulated_local_effects", "plot_partial_dependence", "plot_permutation_importance"]
