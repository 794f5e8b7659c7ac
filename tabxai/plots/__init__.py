"""Plots of tabxai results (presentation layer). matplotlib is imported only when a plot is drawn.

Every function returns the matplotlib Axes it drew on (a Figure when it draws several panels),
takes ``ax=`` to draw into an existing Axes (otherwise it makes a new figure, never drawing on
the current axes) and never calls ``show()``. Attributions that push the output up are vermillion,
those that pull it down blue (safe under the common colour-vision deficiencies).
"""

from .bar import bar
from .beeswarm import beeswarm
from .examples import influence, prototypes
from .heatmap import heatmap
from .interactions import interaction_dependence, interaction_heatmap
from .inspection import accumulated_local_effects, partial_dependence, permutation_importance
from .sage import sage_values
from .scatter import scatter
from .waterfall import waterfall

__all__ = ["accumulated_local_effects", "bar", "beeswarm", "heatmap", "influence", "interaction_dependence",
           "interaction_heatmap", "partial_dependence", "permutation_importance", "prototypes", "sage_values", "scatter",
           "waterfall"]
