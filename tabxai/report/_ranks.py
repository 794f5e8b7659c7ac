"""Principal reasons and the certainty of their ranks, for many rows at once.

A row's principal reasons are its ``k`` largest attributions in one direction (only those strictly in
that direction). A reason's rank is *certain* when its attribution differs from those of the cited
reasons ranked just above and just below it by more than the standard errors allow at ``level``
(two-sided normal test on the difference): its rank among the cited reasons is settled. Whether the
cited reasons are the right ones, the last of them certainly ahead of the first one left out, is a
separate flag per row (``cited``). Without standard errors (an exact method) ties are uncertain and
other ranks certain. :func:`tabxai.reason_codes` and the audit's reasons file use this one
definition; :func:`reasons_settled` makes it a stopping rule for ``KernelSHAP(stop=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._validation import check_choice, check_int, check_real

__all__ = ["PrincipalReasons", "ReasonsSettled", "principal_reasons", "reasons_settled"]


class PrincipalReasons(NamedTuple):
    """What :func:`principal_reasons` returns (arrays of ``min(k, n_players)`` ranks per row)."""

    order: np.ndarray  # players by decreasing attribution in the direction (ties in player order)
    listed: np.ndarray  # whether the player at that rank is a reason (attribution strictly in the direction)
    certain: np.ndarray  # whether its rank among the cited reasons is statistically certain
    needed: np.ndarray  # growth of the sample an uncertain rank needs: (z * spread / gap) ** 2; 1 when certain
    cited: np.ndarray  # (n_rows,): the last cited reason certainly ahead of the first one left out


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
    PrincipalReasons
        ``order`` (int, ``(n_rows, min(k, n_players))``): players by decreasing attribution in
        ``direction`` (ties in player order); ``listed``: whether the player at that rank is a reason
        (attribution strictly in ``direction``); ``certain``: whether its rank among the cited reasons
        is statistically certain (it differs from the cited reasons just above and below it);
        ``needed``: by how much the sample would have to grow (standard errors shrinking as one over
        its square root) for an uncertain rank to become certain, ``(z * spread / gap) ** 2`` for its
        closest cited neighbour, 1 when certain, ``inf`` for an exact tie; ``cited`` (``(n_rows,)``):
        whether the cited reasons are certainly the largest ones, the last of them differing from the
        first attribution left out (True when nothing is left out).

    Examples
    --------
    >>> found = principal_reasons(np.array([[0.20, -0.05, 0.08, 0.075]]), np.full((1, 4), 0.003), k=2)
    >>> found.order.tolist(), found.listed.tolist(), found.certain.tolist(), found.cited.tolist()
    ([[0, 2]], [[True, True]], [[True, True]], [False])
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
    listed = ranked[:, :shown] > 0
    certain = np.ones((n_rows, shown), dtype=bool)
    needed = np.ones((n_rows, shown))
    cited = np.ones(n_rows, dtype=bool)
    for r in range(shown - 1):  # rank r against rank r + 1, where both are cited
        both = listed[:, r + 1]
        certain[:, r] &= apart[:, r] | ~both
        certain[:, r + 1] &= apart[:, r] | ~both
        step = np.where(both, growth[:, r], 1.0)
        needed[:, r] = np.maximum(needed[:, r], step)
        needed[:, r + 1] = np.maximum(needed[:, r + 1], step)
    n_cited = listed.sum(axis=1)
    last = n_cited - 1  # the first one left out is rank n_cited, if there is one
    has_next = (n_cited > 0) & (n_cited < n_players)
    rows = np.flatnonzero(has_next)
    cited[rows] = apart[rows, last[rows]]
    return PrincipalReasons(order[:, :shown], listed, certain, needed, cited)


@dataclass(frozen=True)
class ReasonsSettled:
    """Stopping rule: a row's principal reasons all have certain ranks, or none of the uncertain ones can
    become certain within the budget, even with a gap ``optimism`` standard errors wider than observed
    (see :func:`reasons_settled`)."""

    k: int = 4
    direction: str = "positive"
    level: float = 0.95
    optimism: float = 0.5

    def __call__(self, values, stderr, growth=None):
        values = np.asarray(values, dtype=np.float64)
        stderr = None if stderr is None else np.asarray(stderr, dtype=np.float64)
        if values.ndim == 3:  # (rows, players, outputs): one output is explained
            values, stderr = values[:, :, 0], None if stderr is None else stderr[:, :, 0]
        _, listed, certain, needed, _ = principal_reasons(values, stderr, self.k, self.direction, self.level)
        open_ = listed & ~certain
        settled = ~open_.any(axis=1)
        if growth is None:
            return settled
        growth = np.broadcast_to(np.asarray(growth, dtype=np.float64), settled.shape)
        if self.optimism:  # the growth a gap wider by `optimism` spreads needs: (z s / (gap + c s))^2
            from scipy.stats import norm

            z = norm.ppf(0.5 + self.level / 2)
            with np.errstate(invalid="ignore"):
                needed = np.where(np.isfinite(needed), needed / (1 + self.optimism * np.sqrt(needed) / z) ** 2, np.inf)
        hopeless = np.all(~open_ | (needed > growth[:, None]), axis=1)
        return settled | hopeless


def reasons_settled(k=4, direction="positive", level=0.95, optimism=0.5):
    """A stopping rule for ``KernelSHAP(stop=...)``: stop a row once its ``k`` principal reasons (in
    ``direction``) have statistically certain ranks, as :func:`tabxai.reason_codes` tests them, or once
    none of the uncertain ones could become certain before the budget is spent: its gap to a neighbour,
    even taken ``optimism`` standard errors (of the difference) wider than observed, is too small for
    the standard errors the remaining coalitions can reach, at one over the square root of the sample
    size. The observed gap of a first small sample is noisy; with ``optimism=0`` a rank whose true gap
    would settle soon is often given up early. Measured on Adult (14 players, log-odds, 600 adverse
    applicants, 384 to 512 coalitions at most): 0 gave 0.79 of the ranks certain at 92 coalitions per
    applicant, 0.5 gave 0.83 at 114 and 0.87 at 131, 1 gave 0.92 at 181.

    Examples
    --------
    >>> rule = reasons_settled(k=2, optimism=0)
    >>> rule(np.array([[0.20, -0.05, 0.08], [0.10, 0.09, 0.0]]), np.full((2, 3), 0.01)).tolist()
    [True, False]
    >>> rule(np.array([[0.10, 0.09, 0.0]]), np.full((1, 3), 0.01), growth=2.0).tolist()  # needs 7.7x the sample
    [True]
    >>> reasons_settled(k=2)(np.array([[0.10, 0.09, 0.0]]), np.full((1, 3), 0.01), growth=4.0).tolist()
    [False]
    """
    k = check_int(k, "k", min_value=1)
    direction = check_choice(direction, "direction", ("positive", "negative"))
    level = check_real(level, "level", min_value=0.0, max_value=1.0, min_inclusive=False)
    if level >= 1.0:
        raise ValueError(f"`level` must be a number in (0, 1); got {level}")
    optimism = check_real(optimism, "optimism", min_value=0.0)
    return ReasonsSettled(k, direction, float(level), float(optimism))
