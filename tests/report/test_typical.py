"""The audit section "typical and unusual applicants", on its own and in the report."""

import json

import numpy as np
import pytest

import tabxai as tx
from tabxai.report._typical import typical_applicants


def test_section_data(credit):
    model, X, _ = credit
    declined = model.predict(X) == "bad"
    data = typical_applicants(model, X, declined, random_state=0, output="good", n_prototypes=3, n_criticisms=4,
                              n_declined=2, n_similar=2)
    json.dumps(data, allow_nan=False)  # JSON-ready
    assert [g["decision"] for g in data["groups"]] == ["approved", "declined"]
    for group in data["groups"]:
        rows = [p["row"] for p in group["prototypes"]]
        assert len(rows) == 3
        assert (declined[X.index.get_indexer(rows)] == (group["decision"] == "declined")).all()
        assert sum(p["weight"] for p in group["prototypes"]) == pytest.approx(1.0)
        assert len(group["prototypes"][0]["cells"]) == len(data["columns"]) <= 8
    assert group["n_rows"] == int(declined.sum())
    assert len(data["criticisms"]) == 4
    for entry in data["criticisms"]:
        assert entry["decision"] == ("declined" if declined[X.index.get_loc(entry["row"])] else "approved")
    # similar cases: the nearest approved applicants of the first declined ones, with the model's P(good)
    first = X[declined].iloc[:2]
    expected = tx.neighbours(X[~declined], first, k=2)
    assert [a["row"] for a in data["similar"]] == list(first.index)
    for applicant in data["similar"]:
        rows = [n["row"] for n in applicant["neighbours"]]
        assert rows == expected[expected["row"] == applicant["row"]]["neighbour"].tolist()
        scores = [n["score"] for n in applicant["neighbours"]]
        assert np.allclose(scores, model.predict_proba(X.loc[rows])[:, list(model.classes_).index("good")])


def test_section_samples_large_tables_and_handles_one_decision(credit):
    model, X, _ = credit
    data = typical_applicants(model, X, np.zeros(len(X), dtype=bool), random_state=1, max_rows=100)
    assert data["n_searched"] == 100 and data["n_rows"] == len(X)
    assert [g["decision"] for g in data["groups"]] == ["approved"] and data["similar"] == []
    with pytest.raises(ValueError, match="one entry per row of X"):
        typical_applicants(model, X, np.zeros(3, dtype=bool))


def test_report_shows_the_section(small_audit):
    report, _ = small_audit
    data = report.to_dict()["typical"]
    html = report.to_html()
    assert "Typical and unusual applicants" in html and 'href="#typical"' in html
    first = data["groups"][0]["prototypes"][0]
    assert f"<td>{first['row']}</td>" in html
    assert "Fairness by group" in html
