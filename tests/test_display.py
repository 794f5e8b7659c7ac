"""Notebook displays of the result objects: valid HTML, user strings escaped, sizes bounded; readable text."""

import numpy as np
import pandas as pd
import pytest

import tabxai as tx

EVIL = "<script>alert(1)</script>"


def parse_html(markup):
    """Tags, texts and unclosed tags of an HTML fragment (html.parser)."""
    from html.parser import HTMLParser

    class Collector(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.stack, self.tags, self.texts, self.errors = [], [], [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.stack.append(tag)
            for name, value in attrs:
                if name.startswith("on") or "javascript:" in (value or ""):
                    self.errors.append(f"script attribute {name}")

        def handle_endtag(self, tag):
            if not self.stack or self.stack.pop() != tag:
                self.errors.append(f"unbalanced </{tag}>")

        def handle_data(self, data):
            self.texts.append(data)

    collector = Collector()
    collector.feed(markup)
    collector.close()
    assert not collector.stack and not collector.errors, (collector.stack, collector.errors)
    return collector


def _text(markup):
    return " ".join(parse_html(markup).texts)


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame({
        "duration": rng.integers(6, 60, size=n).astype(float),
        EVIL: rng.choice(["<b>a</b>", "b & c"], size=n),
        "amount": rng.normal(3000, 800, size=n),
    })


def _model(rows):
    return np.column_stack([rows["duration"].to_numpy() / 100 + (rows[EVIL] == "<b>a</b>").to_numpy() * 0.1,
                            rows["amount"].to_numpy() / 1e4])


def test_partial_dependence_html_shows_a_bounded_table_of_the_average(frame):
    numeric, category = tx.partial_dependences(_model, frame, ["amount", EVIL], grid_resolution=100, output=0)
    markup = numeric._repr_html_()
    parsed = parse_html(markup)
    text = " ".join(parsed.texts)
    assert "Partial dependence of prediction (output_0) on amount" in text
    assert sum(t == "tr" for t in parsed.tags) == 1 + 25 and "25 of 100 grid values shown" in text
    first = f"{numeric.average[0, 0]:.3f}"
    assert first in parsed.texts
    escaped = category._repr_html_()
    assert EVIL not in escaped and "&lt;b&gt;a&lt;/b&gt;" in escaped
    assert any(EVIL in t for t in parse_html(escaped).texts)
    pair = tx.partial_dependence(_model, frame, ("duration", "amount"), grid_resolution=5, output=0)
    assert "lowest" in _text(pair._repr_html_())
    assert repr(numeric).endswith("outputs output_0>")


def test_ale_html(frame):
    ale = tx.accumulated_local_effects(_model, frame, "duration", output=1)
    text = _text(ale._repr_html_())
    assert text.startswith("Accumulated local effects of prediction (output_1) on duration")


def test_permutation_importance_html_states_the_baseline_and_escapes_names(frame):
    y = _model(frame)[:, 0]
    imp = tx.permutation_importance(lambda rows: _model(rows)[:, 0], frame, y, n_repeats=3, random_state=0)
    markup = imp._repr_html_()
    text = _text(markup)
    assert "scoring r2 (baseline 1.00), 3 repeats" in text
    assert "intervals cover the permutation noise only" in text
    assert EVIL not in markup and any(EVIL in t for t in parse_html(markup).texts)
    order = np.argsort(-imp.importances_mean, kind="stable")
    names = [t for t in parse_html(markup).texts if t in imp.feature_names]
    assert names == [imp.feature_names[j] for j in order]


@pytest.mark.parametrize("learner", [tx.OneR(), tx.RuleListClassifier(max_rules=3)])
def test_rule_learners_html_lists_the_rules(frame, learner):
    assert "not fitted" in _text(learner._repr_html_())
    y = pd.Series(np.where(frame["duration"] > 30, "bad", "<i>good</i>"), name="risk")
    learner.fit(frame, y)
    markup = learner._repr_html_()
    parsed = parse_html(markup)
    text = " ".join(parsed.texts)
    assert f"{type(learner).__name__}: {len(learner.rules_)} rule" in text
    assert "<i>good</i>" in text and "<i>good</i>" not in markup
    rules = [t for t in parsed.texts if t.startswith(("IF ", "ELSE "))]
    assert rules == [rule.text(learner.target_name_) for rule in learner.rules_]
    assert learner._repr_mimebundle_()["text/html"] == markup


def test_number_format_shares_decimals_and_never_prints_negative_zero():
    from tabxai._display import NumberFormat

    fmt = NumberFormat([0.25, 0.0004])
    assert [fmt(0.25), fmt(-0.0001, sign=True), fmt.error(0.01234)] == ["0.250", "+0.000", "0.0123"]
    assert NumberFormat([2.098e5])(2.098e5, sign=True) == "+209,800"
    assert NumberFormat([])(1.5) == "1.50"
