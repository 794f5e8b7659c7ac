"""The principal-reasons stopping rule: certain ranks end sampling early, near-ties get the budget."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tabxai as tx
from tabxai.report import principal_reasons, reasons_settled


def _model(X):
    X = np.asarray(X, dtype=np.float64)
    # additive terms plus interactions, so that sampled coalitions leave a standard error
    return 3 * X[:, 0] + 2 * X[:, 1] + X[:, 2] + X[:, 3] + 0.8 * X[:, 0] * X[:, 1] * X[:, 4] - 0.6 * X[:, 2] * X[:, 5] \
        + 0.5 * X[:, 3] * X[:, 6] * X[:, 7]


@pytest.fixture(scope="module")
def background():
    return np.random.default_rng(0).normal(size=(8, 8))


def test_clear_reasons_stop_at_the_first_round_and_near_ties_get_more(background):
    clear = background.mean(axis=0) + np.array([[2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])  # 6 and 2, then ~0
    near = background.mean(axis=0) + np.array([[1 / 3, 0.54, 0.9, 0.0, 1.0, 1.0, 0.0, 0.0]])  # 1.0 ~ 1.08 ~ 0.9
    rule = reasons_settled(k=2)
    explainer = tx.KernelSHAP(_model, background, n_coalitions=200, stop=rule, random_state=0)
    result = explainer.explain(np.vstack([clear, near]))
    used = result.diagnostics["n_coalitions"]
    assert used[0] <= 64 and result.diagnostics["stopped_by"][0] == "stop"  # settled in the first rounds
    assert used[1] > used[0]  # the near-tie of features 2 and 3 is sampled further
    assert set(result.diagnostics["stopped_by"]) <= {"stop", "budget"}
    # what the rule says when it stops is what reason_codes says: every listed rank certain, or hopeless
    codes = tx.reason_codes(result[[0]], k=2)
    assert codes["certain"].all()


def test_without_a_rule_every_row_spends_the_budget(background):
    X = np.random.default_rng(1).normal(size=(3, 8))
    result = tx.KernelSHAP(_model, background, n_coalitions=120, random_state=0).explain(X)
    assert (result.diagnostics["n_coalitions"] == 120).all()


def _naive(values, stderr, k, z=1.959963984540054):
    """By loops: each cited reason's rank against the cited reasons next to it, and whether the last cited
    reason differs from the first attribution left out."""
    def differ(v, s, j, m):
        spread = np.hypot(s[j], s[m])
        return bool(abs(v[j] - v[m]) > z * spread) if spread > 0 else bool(v[j] != v[m])

    certain, cited = [], []
    for v, s in zip(values, stderr):
        order = np.argsort(-v, kind="stable")
        reasons = [j for j in order[:min(k, len(v))] if v[j] > 0]
        certain.append([all(differ(v, s, j, m) for m in reasons[max(rank - 1, 0):rank + 2] if m != j)
                        for rank, j in enumerate(reasons)])
        cited.append(differ(v, s, reasons[-1], order[len(reasons)]) if reasons and len(reasons) < len(v) else True)
    return certain, cited


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 10_000))
def test_principal_reasons_equal_a_loop(n_players, k, seed):
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(size=(4, n_players)), 1)  # rounding makes ties
    stderr = np.abs(rng.normal(scale=0.1, size=(4, n_players))) * (rng.random((4, n_players)) < 0.8)
    order, listed, certain, needed, cited = principal_reasons(values, stderr, k)
    expected, expected_cited = _naive(values, stderr, k)
    assert cited.tolist() == expected_cited
    for i in range(4):
        assert certain[i][listed[i]].tolist() == expected[i]
        assert (needed[i][listed[i] & certain[i]] == 1).all()
        assert (needed[i][listed[i] & ~certain[i]] > 1).all()
