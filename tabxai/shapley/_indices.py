"""Shapley interaction indices of order at most two, as weights on the Moebius transform and on coalitions.

Every index here is linear in the game ``v`` and symmetric, so it can be written two ways
(Grabisch 1997; Fumagalli et al. 2023):

- on the Moebius transform ``m(T) = sum_{L subset T} (-1)^(|T| - |L|) v(L)``:
  ``I(S) = sum_{T superset S} omega(|S|, |T|) m(T)``;
- on the coalitions: ``I(S) = sum_A gamma(|S|, |A|, |A & S|) v(A)``, with
  ``gamma(s, a, b) = sum_{T superset S | A} omega(s, |T|) (-1)^(|T| - a)``, a sum over the
  ``C(n - s - a + b, t - s - a + b)`` sets ``T`` of each size ``t``.

The Moebius weights ``omega`` of order ``s`` (1 or 2) with ``k = 2``:

- ``"SII"`` (Grabisch & Roubens 1999): ``1 / (t - s + 1)``; order 1 is the Shapley value.
- ``"k-SII"`` (Bordt & von Luxburg 2023): the SII aggregated with Bernoulli numbers,
  ``k-SII(i) = SII(i) + B_1 sum_j SII(i, j)`` with ``B_1 = -1/2``, i.e. ``1/t - 1/2`` for
  ``t >= 2`` (1 at ``t = 1``); order 2 as SII. Efficient: orders 1 and 2 add up to
  ``v(N) - v(empty)``.
- ``"STII"`` (Sundararajan et al. 2020): order 1 is the Moebius transform itself, order 2
  ``1 / C(t, 2)``.
- ``"FSII"`` (Tsai et al. 2023, Theorem 19): ``m(S)`` plus, for ``|T| > k``,
  ``(-1)^(k - s) s / (k + s) C(k, s) C(t - 1, k) / C(t + k - 1, k + s)``; it is also the solution
  of the Shapley-kernel weighted least squares fit of the game by interactions of order <= 2 with
  ``v(empty)`` and ``v(N)`` fitted exactly.

Weights are computed with exact rational arithmetic, so the alternating sums lose nothing.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np

__all__ = ["INDICES", "IndexTables"]

INDICES = ("SII", "k-SII", "STII", "FSII")
_MAX_ORDER = 2


def _moebius_weight(index, order, size):
    """``omega(order, size)``: the share of ``m(T)``, ``|T| = size``, that goes to an interaction of ``order``."""
    s, t, k = order, size, _MAX_ORDER
    if t < s:
        return Fraction(0)
    if index == "SII":
        return Fraction(1, t - s + 1)
    if index == "k-SII":
        if s == 2:
            return Fraction(1, t - 1)
        return Fraction(1) if t == 1 else Fraction(1, t) - Fraction(1, 2)
    if index == "STII":
        if s < k:
            return Fraction(int(t == s))
        return Fraction(1, comb(t, k))
    if index == "FSII":
        if t == s:
            return Fraction(1)
        if t <= k:
            return Fraction(0)
        return (Fraction((-1) ** (k - s) * s, k + s) * comb(k, s)
                * Fraction(comb(t - 1, k), comb(t + k - 1, k + s)))
    raise ValueError(f"unknown index {index!r}")


class IndexTables:
    """What an index needs for ``n_players``: the Moebius weights, the coalition weights, the interactions.

    Interactions are numbered singletons first (``0 .. n - 1``), then pairs ``(i, j)``, ``i < j``,
    in lexicographic order.

    Attributes
    ----------
    moebius : ndarray (3, n + 1)
        ``omega(s, t)`` (row 0 unused).
    coalition : ndarray (3, n + 1, 3)
        ``gamma(s, a, b)``: weight of a coalition of ``a`` players, ``b`` of them in the interaction.
    first, second : int64 ndarrays (n_interactions,)
        The players of each interaction (``first == second`` for singletons).
    unanimity : ndarray (n_interactions, n_interactions)
        ``unanimity[S, R]``: the index at ``S`` of the unanimity game of ``R`` (1 on coalitions
        containing ``R``), ``omega(|S|, |R|)`` when ``S`` is in ``R``, else 0.
    """

    def __init__(self, index, n_players):
        n = n_players
        self.index = index
        self.n_players = n
        omega = [[Fraction(0)] * (n + 1) for _ in range(3)]
        for s in (1, 2):
            for t in range(n + 1):
                omega[s][t] = _moebius_weight(index, s, t)
        gamma = np.zeros((3, n + 1, 3))
        for s in (1, 2):
            for a in range(n + 1):
                for b in range(min(s, a) + 1):
                    union = s + a - b
                    if union > n or a - b > n - s:
                        continue
                    total = sum((omega[s][t] * (-1) ** (t - a) * comb(n - union, t - union)
                                 for t in range(union, n + 1)), Fraction(0))
                    gamma[s, a, b] = float(total)
        self.moebius = np.array([[float(w) for w in row] for row in omega])
        self.coalition = gamma
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        self.first = np.array(list(range(n)) + [i for i, _ in pairs], dtype=np.int64)
        self.second = np.array(list(range(n)) + [j for _, j in pairs], dtype=np.int64)
        self.n_interactions = len(self.first)
        orders = np.where(self.first == self.second, 1, 2)
        first, second = self.first, self.second
        contained = np.where((orders == 1)[:, None],
                             (first[:, None] == first[None, :]) | (first[:, None] == second[None, :]),
                             np.eye(self.n_interactions, dtype=bool))
        self.unanimity = np.where(contained, self.moebius[orders[:, None], orders[None, :]], 0.0)

    def to_matrix(self, vector):
        """Interaction vectors ``(..., n_interactions, k)`` as symmetric matrices ``(..., n, n, k)``."""
        n = self.n_players
        out = np.zeros(vector.shape[:-2] + (n, n) + vector.shape[-1:])
        out[..., self.first, self.second, :] = vector
        out[..., self.second, self.first, :] = vector
        return out
