"""Principal reasons and the certainty of their ranks, for many rows at once.

A row's principal reasons are its ``k`` largest attributions in one direction (only those strictly in
that direction). A reason's rank is *certain* when its attribution differs from those ranked just
above and just below it (including the first one not listed) by more than the standard errors allow
at ``level`` (two-sided normal test on the difference); without standard errors (an exact method)
ties are uncertain and other ranks certain. :func:`tabxai.reason_codes` and the audit's reasons file
use this one definition; :func:`reasons_settled` makes it a stopping rule for ``KernelSHAP(stop=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_int, check_real

__all__ = ["ReasonsSettled", "principal_reasons", "reasons_settled"]


def principal_reasons(values, stderr, k, direction="positive", level=0.95):
    """The principal reasons of each row, and whether each rank is certain.

    Parameters
    ----------
    values : ndarray (n_rows, n_players)
    stderr : ndarray (n_rows, n_players) or None
    k : int
    direction : {"positive", "negative"}
    level : float in (0, 1)

    Returns
    -------
    order : int ndarray (n_rows, min(k, n_players))
        Players by decreasing attribution in ``direction`` (ties in player order).
    listed : bool ndarray, same shape
        Whether the player at that rank is a reason (attribution strictly in ``direction``).
    certain : bool ndarray, same shape
        Whether that rank is statistically certain.
    needed : float ndarray, same shape
        By how much the sample would have to grow (standard errors shrinking as one over its square
        root) for an uncertain rank to become certain: ``(z * spread / gap) ** 2`` for its closest
        neighbour; 1 when certain, ``inf`` for an exact tie.

    Examples
    --------
    >>> order, listed, certain, _ = principal_reasons(np.array([[0.20, -0.05, 0.08]]), np.full((1, 3), 0.01), k=2)
    >>> order.tolist(), listed.tolist(), certain.tolist()
    ([[0, 2]], [[True, True]], [[True, True]])
    """
    from scipy.stats import norm

    values = np.asarray(values, dtype=np.float64)
    n_rows, n_players = values.shape
    stderr = np.zeros_like(values) if stderr is None else np.asarray(stderr, dtype=np.float64).reshape(values.shape)
    scores = values if direction == "positive" else -values
    order = np.argsort(-scores, axis=1, kind="stable")
    ranked = np.take_along_axis(scores, order, axis=1)
    errors = np.take_along_axis(stderr, order, axis=1)
    spread = np.hypot(errors[:, :-1], errors[:, 1:])
    gap = ranked[:, :-1] - ranked[:, 1:]
    z = norm.ppf(0.5 + level / 2)
    apart = np.where(spread > 0, gap > z * spread, gap > 0)  # (n_rows, n_players - 1): rank r vs r + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(apart, 1.0, np.where(gap > 0, (z * spread / gap) ** 2, np.inf))
    shown = min(k, n_players)
    above = np.ones((n_rows, shown), dtype=bool)
    below = np.ones((n_rows, shown), dtype=bool)
    needed = np.ones((n_rows, shown))
    if n_players > 1:
        upper = min(shown, n_players - 1)
        above[:, 1:] = apart[:, :shown - 1]
        below[:, :upper] = apart[:, :upper]
        needed[:, 1:] = growth[:, :shown - 1]
        needed[:, :upper] = np.maximum(needed[:, :upper], growth[:, :upper])
    return order[:, :shown], ranked[:, :shown] > 0, above & below, needed


@dataclass(frozen=True)
class ReasonsSettled:
    """Stopping rule: a row's principal reasons all have certain ranks, or none of the uncertain ones can
    become certain within the budget (see :func:`reasons_settled`)."""

    k: int = 4
    direction: str = "positive"
    level: float = 0.95

    def __call__(self, values, stderr, growth=None):
        values = np.asarray(values, dtype=np.float64)
        stderr = None if stderr is None else np.asarray(stderr, dtype=np.float64)
        if values.ndim == 3:  # (rows, players, outputs): one output is explained
            values, stderr = values[:, :, 0], None if stderr is None else stderr[:, :, 0]
        _, listed, certain, needed = principal_reasons(values, stderr, self.k, self.direction, self.level)
        open_ = listed & ~certain
        settled = ~open_.any(axis=1)
        if growth is None:
            return settled
        growth = np.broadcast_to(np.asarray(growth, dtype=np.float64), settled.shape)
        hopeless = np.all(~open_ | (needed > growth[:, None]), axis=1)
        return settled | hopeless


def reasons_settled(k=4, direction="positive", level=0.95):
    """A stopping rule for ``KernelSHAP(stop=...)``: stop a row once its ``k`` principal reasons (in
    ``direction``) have statistically certain ranks, as :func:`tabxai.reason_codes` tests them, or once
    none of the uncertain ones could become certain before the budget is spent (its gap to a neighbour
    is too small for the standard errors the remaining coalitions can reach, at one over the square root
    of the sample size).

    Examples
    --------
    >>> rule = reasons_settled(k=2)
    >>> rule(np.array([[0.20, -0.05, 0.08], [0.10, 0.09, 0.0]]), np.full((2, 3), 0.01)).tolist()
    [True, False]
    >>> rule(np.array([[0.10, 0.09, 0.0]]), np.full((1, 3), 0.01), growth=2.0).tolist()  # needs 7.7x the sample
    [True]
    """
    k = check_int(k, "k", min_value=1)
    direction = check_choice(direction, "direction", ("positive", "negative"))
    level = check_real(level, "level", min_value=0.0, max_value=1.0, min_inclusive=False)
    if level >= 1.0:
        raise ValueError(f"`level` must be a number in (0, 1); got {level}")
    return ReasonsSettled(k, direction, float(level))
