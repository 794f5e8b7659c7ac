"""The portfolio helpers: Wilson intervals and a lender's wording of reasons."""

import math

import numpy as np
import pandas as pd
import pytest

from tabxai.report._portfolio import ReasonText, wilson_interval


@pytest.mark.parametrize("hits, n", [(0, 10), (3, 10), (10, 10), (57, 400)])
def test_wilson_interval_equals_its_formula(hits, n):
    z = 1.959964
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = wilson_interval([hits], [n])
    assert low[0] == pytest.approx(max(centre - half, 0.0), abs=1e-12)
    assert high[0] == pytest.approx(min(centre + half, 1.0), abs=1e-12)
    assert 0.0 <= low[0] <= p + 1e-12 and p - 1e-12 <= high[0] <= 1.0


def test_reason_text_by_feature_side_and_category():
    frame = pd.DataFrame({"amount": [100.0, 200.0, 300.0], "savings": ["little", "none", "rich"]})
    text = ReasonText({"duration": "Length of the requested credit term",
                       "amount": {"high": "Amount requested too high", "low": "Amount requested too low"},
                       "savings": {"little": "Insufficient savings"}}, frame)
    assert text.statement("duration", "duration = 48 months", {"duration": 48}) == \
        "Length of the requested credit term"
    assert text.statement("amount", "amount = 300", {"amount": 300.0}) == "Amount requested too high"
    assert text.statement("amount", "amount = 100", {"amount": 100.0}) == "Amount requested too low"
    assert text.statement("amount", "amount is missing", {"amount": np.nan}) == "amount is missing"
    assert text.statement("savings", "savings = little", {"savings": "little"}) == "Insufficient savings"
    assert text.statement("savings", "savings = rich", {"savings": "rich"}) == "savings = rich"  # no wording given
    assert text.statement("age", "age = 23 years", {"age": 23}) == "age = 23 years"
    with pytest.raises(ValueError, match="must be a text or a dict of texts"):
        ReasonText({"amount": 3}, frame)
    with pytest.raises(TypeError, match="must be a dict"):
        ReasonText(["amount"], frame)
