"""Counterfactuals: minimal cost against brute force, constraints on every row, validity, invariance, bad input."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import tabxai as tx
from naive import naive_counterfactual_cost, naive_min_cost_counterfactual, naive_scale

WEIGHTS = np.array([1.0, -2.0, 0.5, 1.5])
THRESHOLD = 4.0


def _score(rows):
    return np.asarray(rows, dtype=float) @ WEIGHTS


@pytest.fixture(scope="module")
def grid_data():
    rng = np.random.default_rng(0)
    return rng.integers(0, 6, size=(300, 4)).astype(float)


@pytest.fixture(scope="module")
def german():
    X, y = tx.datasets.load_german_credit()
    categories = X.select_dtypes("category").columns
    prepare = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), categories), remainder=StandardScaler())
    model = make_pipeline(prepare, LogisticRegression(max_iter=1000)).fit(X, y)
    declined = X[model.predict(X) == "bad"].head(6)
    return X, model, declined


def _costs_of(result, X, x_rows, costs=None):
    scales = [naive_scale(X[:, j]) for j in range(X.shape[1])]
    weights = [1.0] * X.shape[1] if costs is None else [costs.get(j, 1.0) for j in range(X.shape[1])]
    frame = result.to_frame()
    return [naive_counterfactual_cost(x_rows[r], row, scales, weights)
            for r, row in zip(frame["row"], frame[[f"x{j}" for j in range(X.shape[1])]].to_numpy())]


def test_linear_model_minimal_cost_equals_brute_force(grid_data):
    rows = grid_data[_score(grid_data) < THRESHOLD][:8]
    cf = tx.Counterfactuals(_score, grid_data, desired=(THRESHOLD, None), random_state=0)
    result = cf.explain(rows, n=3)
    frame = result.to_frame()
    for i, x in enumerate(rows):
        truth, _ = naive_min_cost_counterfactual(lambda r: _score(r) >= THRESHOLD, grid_data, x)
        mine = frame[frame["row"] == i]
        assert mine["proximity"].min() == pytest.approx(truth, rel=1e-12)
    # proximity is the naive cost, and outputs are the model's
    np.testing.assert_allclose(frame["proximity"], _costs_of(result, grid_data, rows), rtol=1e-12)
    np.testing.assert_allclose(frame["output"], _score(frame[["x0", "x1", "x2", "x3"]].to_numpy()))
    assert (frame["output"] >= THRESHOLD).all() and frame["valid"].all()


def test_threshold_tree_minimal_cost_equals_brute_force(grid_data):
    labels = (grid_data[:, 0] > 2) & (grid_data[:, 2] < 4) | (grid_data[:, 1] == 0)
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(grid_data, labels)
    rows = grid_data[tree.predict(grid_data) == False][:8]  # noqa: E712
    cf = tx.Counterfactuals(tree, grid_data, desired=True, immutable=["x3"], random_state=0)
    result = cf.explain(rows, n=2)
    frame = result.to_frame()
    for i, x in enumerate(rows):
        truth, _ = naive_min_cost_counterfactual(lambda r: tree.predict(r), grid_data, x, immutable=(3,))
        assert frame.loc[frame["row"] == i, "proximity"].min() == pytest.approx(truth, rel=1e-12)
    assert tree.predict(frame[["x0", "x1", "x2", "x3"]].to_numpy()).all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(immutable=st.lists(st.integers(0, 3), max_size=2, unique=True),
       directions=st.lists(st.sampled_from([None, "increase", "decrease"]), min_size=4, max_size=4),
       lows=st.lists(st.integers(0, 3), min_size=4, max_size=4),
       widths=st.lists(st.integers(1, 5), min_size=4, max_size=4),
       costs=st.lists(st.sampled_from([0.5, 1.0, 3.0]), min_size=4, max_size=4),
       row=st.integers(0, 40))
def test_random_constraints_hold_and_cost_is_near_brute_force(grid_data, immutable, directions, lows, widths, costs,
                                                              row):
    rows = grid_data[_score(grid_data) < THRESHOLD]
    x = rows[row % len(rows)]
    monotone = {j: d for j, d in enumerate(directions) if d is not None and j not in immutable}
    ranges = {j: (lows[j], lows[j] + widths[j]) for j in range(4) if j not in immutable}
    cost_of = dict(enumerate(costs))
    cf = tx.Counterfactuals(_score, grid_data, desired=(THRESHOLD, None), immutable=[f"x{j}" for j in immutable],
                            monotone={f"x{j}": d for j, d in monotone.items()},
                            ranges={f"x{j}": r for j, r in ranges.items()},
                            costs={f"x{j}": c for j, c in cost_of.items()}, random_state=1)
    result = cf.explain(x[None, :], n=4)
    frame = result.to_frame()
    found = frame[["x0", "x1", "x2", "x3"]].to_numpy()
    for candidate in found:
        for j in range(4):
            if candidate[j] == x[j]:
                continue
            assert j not in immutable
            assert ranges[j][0] <= candidate[j] <= ranges[j][1]
            assert monotone.get(j) != "increase" or candidate[j] > x[j]
            assert monotone.get(j) != "decrease" or candidate[j] < x[j]
    assert (_score(found) >= THRESHOLD).all()
    truth, _ = naive_min_cost_counterfactual(lambda r: _score(r) >= THRESHOLD, grid_data, x, immutable=immutable,
                                             monotone=monotone, ranges=ranges, costs=cost_of)
    if np.isinf(truth):
        assert result.status == ["not_found"] or result.status == ["no_actions"]
        assert len(frame) == 0
    else:  # validity wherever a counterfactual exists, and within 1% of the cheapest on this grid
        assert len(frame) >= 1
        assert frame["proximity"].min() <= truth * 1.01 + 1e-12


def test_pipeline_on_raw_german_credit_keeps_constraints_and_dtypes(german):
    X, model, declined = german
    before = X.copy(deep=True)
    cf = tx.Counterfactuals(model, X, desired="good", immutable=["personal_status_sex", "foreign_worker"],
                            monotone={"age": "increase"}, ranges={"duration": (6, 48)}, random_state=0)
    result = cf.explain(declined, n=3)
    frame = result.to_frame()
    assert list(frame.columns) == ["row"] + list(X.columns) + ["output", "valid", "proximity", "sparsity",
                                                              "plausibility", "in_range"]
    for name in X.columns:
        assert frame[name].dtype == X[name].dtype, name
    data = frame[list(X.columns)]
    assert (model.predict(data) == "good").all() and frame["valid"].all()
    np.testing.assert_allclose(frame["output"], model.predict_proba(data)[:, 1])
    original = declined.reset_index(drop=True).iloc[frame["row"]].reset_index(drop=True)
    for name in ("personal_status_sex", "foreign_worker"):
        assert (data[name].reset_index(drop=True) == original[name]).all()
    assert (data["age"].to_numpy() >= original["age"].to_numpy()).all()
    moved = data["duration"].to_numpy() != original["duration"].to_numpy()
    assert ((data["duration"].to_numpy()[moved] >= 6) & (data["duration"].to_numpy()[moved] <= 48)).all()
    changed = (data.reset_index(drop=True) != original).sum(axis=1).to_numpy()
    np.testing.assert_array_equal(frame["sparsity"], changed)
    assert frame["in_range"].all() and (frame["plausibility"] >= 0).all()
    assert result.status == ["found"] * len(declined)
    pd.testing.assert_frame_equal(X, before)
    row0 = result[0]
    assert len(row0) == 3 and (row0["row"] == 0).all()
    assert np.isfinite(result.diversity).all() and (result.diversity > 0).all()


def test_describe_reads_the_changes():
    X = pd.DataFrame({"duration": [12, 24, 36, 48] * 25, "savings": pd.Categorical(["< 100 DM", "500-1000 DM"] * 50)})

    def approve(frame):
        ok = (frame["duration"] <= 24) & (frame["savings"] == "500-1000 DM")
        return np.column_stack([~ok, ok]).astype(float)

    applicant = pd.DataFrame({"duration": [48], "savings": pd.Categorical(["< 100 DM"],
                                                                         categories=X["savings"].cat.categories)})
    cf = tx.Counterfactuals(approve, X, desired=(0.5, None), output=1, monotone={"duration": "decrease"},
                            random_state=0)
    result = cf.explain(applicant, n=2)
    assert result.describe(0, outcome="approved") == [
        "approved if duration were 24 instead of 48 and savings were 500-1000 DM instead of < 100 DM"]
    changes = result.changes()
    assert changes[["feature", "original", "value"]].values.tolist() == [
        ["duration", 48, 24], ["savings", "< 100 DM", "500-1000 DM"]]
    assert "approved if" not in str(result) and "output >= 0.5 if duration were 24" in str(result)


@pytest.mark.slow  # starting the joblib workers takes most of its time on a busy machine
def test_same_seed_same_result_whatever_n_jobs_and_max_rows(german):
    X, model, declined = german
    kwargs = dict(desired="good", immutable=["foreign_worker"], random_state=3)
    one = tx.Counterfactuals(model, X, **kwargs).explain(declined, n=4).to_frame()
    two = tx.Counterfactuals(model, X, n_jobs=2, max_rows=777, **kwargs).explain(declined, n=4).to_frame()
    pd.testing.assert_frame_equal(one, two, check_exact=False, rtol=1e-12)
    # without the random mixes a row's counterfactuals do not depend on the other rows explained with it
    kwargs.update(n_neighbors=0)
    together = tx.Counterfactuals(model, X, **kwargs).explain(declined, n=4).to_frame()
    alone = tx.Counterfactuals(model, X, **kwargs).explain(declined.iloc[[2]], n=4).to_frame()
    pd.testing.assert_frame_equal(alone.drop(columns="row"),
                                  together[together["row"] == 2].drop(columns="row").reset_index(drop=True),
                                  check_exact=False, rtol=1e-12)


def test_nullable_strings_and_missing_values_come_back_in_their_dtypes():
    rng = np.random.default_rng(4)
    n = 200
    X = pd.DataFrame({
        "income": pd.array(rng.integers(10, 100, n), dtype="Int64"),
        "ratio": pd.array(rng.uniform(0, 1, n), dtype="Float64"),
        "owner": pd.array(rng.random(n) < 0.5, dtype="boolean"),
        "city": pd.array(rng.choice(["a", "b", "c"], n), dtype="string"),
    })
    X.loc[3, "income"] = pd.NA
    X.loc[5, "city"] = pd.NA

    def approve(frame):
        income = frame["income"].astype("Float64").fillna(0).to_numpy(dtype=float)
        return (income + 30 * (frame["city"] == "c").fillna(False).to_numpy(dtype=float) > 70).astype(float)

    rows = X[approve(X) == 0].head(4)
    before = rows.copy(deep=True)
    result = tx.Counterfactuals(approve, X, desired=(0.5, None), random_state=0).explain(rows, n=2)
    frame = result.to_frame()
    for name in X.columns:
        assert frame[name].dtype == X[name].dtype
    assert (approve(frame[list(X.columns)]) == 1).all() and frame["valid"].all()
    assert set(result.status) <= {"found", "partial"} and set(frame["row"]) == {0, 1, 2, 3}
    partial = [m for s, m in zip(result.status, result.messages) if s == "partial"]
    assert all(m.startswith("only 1 of 2 counterfactuals") for m in partial)
    pd.testing.assert_frame_equal(rows, before)


def test_unreachable_rows_say_so(grid_data):
    rows = grid_data[_score(grid_data) < THRESHOLD][:3]
    cf = tx.Counterfactuals(_score, grid_data, desired=(THRESHOLD + 100, None), random_state=0)
    result = cf.explain(rows, n=2)
    assert result.status == ["not_found"] * 3 and len(result.to_frame()) == 0
    assert "no counterfactual" in result.messages[0] and "no counterfactual" in result.describe()[0]
    top = rows[:1].copy()
    top[0, 0] = 5.0
    cf = tx.Counterfactuals(_score, grid_data, desired=(THRESHOLD, None), immutable=["x1", "x2", "x3"],
                            monotone={"x0": "increase"}, random_state=0)
    result = cf.explain(top, n=2)
    assert result.status == ["no_actions"] and "may change" in result.messages[0]


def test_bad_input_gets_clear_errors(grid_data, german):
    X, model, declined = german
    with pytest.raises(ValueError, match="one of the classes"):
        tx.Counterfactuals(model, X, desired="excellent")
    with pytest.raises(ValueError, match="already reach the desired outcome"):
        tx.Counterfactuals(model, X, desired="bad").explain(declined)
    with pytest.raises(ValueError, match="unknown column 'salary'"):
        tx.Counterfactuals(model, X, desired="good", immutable=["salary"])
    with pytest.raises(ValueError, match="unknown column 'height'"):
        tx.Counterfactuals(model, X, desired="good", monotone={"height": "increase"})
    with pytest.raises(ValueError, match="both immutable and monotone"):
        tx.Counterfactuals(model, X, desired="good", immutable=["age"], monotone={"age": "increase"})
    with pytest.raises(ValueError, match="both immutable and given a range"):
        tx.Counterfactuals(model, X, desired="good", immutable=["age"], ranges={"age": (20, 30)})
    with pytest.raises(ValueError, match="low > high"):
        tx.Counterfactuals(model, X, desired="good", ranges={"age": (50, 30)})
    with pytest.raises(ValueError, match="holds no value of 'age' in X"):
        tx.Counterfactuals(model, X, desired="good", ranges={"age": (100, 120)})
    with pytest.raises(ValueError, match="not a category of 'savings'"):
        tx.Counterfactuals(model, X, desired="good", ranges={"savings": ["lots"]})
    with pytest.raises(ValueError, match="unordered category"):
        tx.Counterfactuals(model, X, desired="good", monotone={"savings": "increase"})
    with pytest.raises(ValueError, match="'increase' or 'decrease'"):
        tx.Counterfactuals(model, X, desired="good", monotone={"age": "up"})
    with pytest.raises(ValueError, match="costs"):
        tx.Counterfactuals(model, X, desired="good", costs={"age": 0})
    with pytest.raises(ValueError, match="every column is immutable"):
        tx.Counterfactuals(_score, grid_data, desired=(0, None), immutable=["x0", "x1", "x2", "x3"])
    with pytest.raises(ValueError, match="choose one with `output=`"):
        tx.Counterfactuals(model, X, desired=(0.5, 1.0))
    with pytest.raises(ValueError, match="low < high"):
        tx.Counterfactuals(_score, grid_data, desired=(3, 1))
    with pytest.raises(ValueError, match="single value"):
        tx.Counterfactuals(LinearRegression().fit(grid_data, grid_data[:, 0]), grid_data, desired=1)
    with pytest.raises(TypeError, match="`n` must be an int >= 1"):
        tx.Counterfactuals(model, X, desired="good").explain(declined, n=0.5)
    with pytest.raises(ValueError, match="missing columns"):
        tx.Counterfactuals(model, X, desired="good").explain(declined.drop(columns="age"))


def test_kernels_equal_naive_loops_with_missing_values():
    from naive import naive_row_distance

    from tabxai._kernels.counterfactuals import fill_changed_rows, mean_pairwise_distance, nearest_distances

    rng = np.random.default_rng(5)
    rows = rng.integers(0, 4, size=(7, 5)).astype(float)
    rows[rng.random(rows.shape) < 0.2] = np.nan
    reference = rng.integers(0, 4, size=(9, 5)).astype(float)
    reference[rng.random(reference.shape) < 0.2] = np.nan
    scale = np.array([0.5, 1.0, 2.0, 1.0, 3.0])
    categorical = np.array([False, True, False, True, False])
    nearest = nearest_distances(rows, reference, scale, categorical)
    for i, row in enumerate(rows):
        assert nearest[i] == pytest.approx(min(naive_row_distance(row, r, scale, categorical) for r in reference))
    pairs = [naive_row_distance(rows[a], rows[b], scale, categorical) for a in range(7) for b in range(a + 1, 7)]
    assert mean_pairwise_distance(rows, scale, categorical) == pytest.approx(np.mean(pairs))
    assert np.isnan(mean_pairwise_distance(rows[:1], scale, categorical))
    # candidates: base row + changes, any slice written alike
    base_index = np.array([0, 2, 1, 0])
    pointer = np.array([0, 1, 1, 3, 5])
    columns = np.array([4, 0, 2, 1, 3])
    values = np.array([9.0, 7.0, 8.0, 6.0, 5.0])
    expected = rows[base_index].copy()
    expected[0, 4] = 9.0
    expected[2, [0, 2]] = [7.0, 8.0]
    expected[3, [1, 3]] = [6.0, 5.0]
    out = np.empty((4, 5))
    fill_changed_rows(rows, base_index, pointer, columns, values, 0, 4, out)
    np.testing.assert_array_equal(out, expected)
    part = np.empty((2, 5))
    fill_changed_rows(rows, base_index, pointer, columns, values, 2, 4, part)
    np.testing.assert_array_equal(part, expected[2:])


def test_multiclass_target_ordered_categories_and_category_sets():
    rng = np.random.default_rng(6)
    n = 400
    X = pd.DataFrame({
        "level": pd.Categorical(rng.choice(["low", "mid", "high"], n), categories=["low", "mid", "high"], ordered=True),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue", "black"], n)),
        "size": rng.integers(0, 10, n),
    })
    codes = X["level"].cat.codes.to_numpy()
    label = np.where((codes == 2) & (X["size"] > 4), "gold", np.where(X["colour"] == "blue", "silver", "bronze"))
    tree = make_pipeline(make_column_transformer((OneHotEncoder(), ["level", "colour"]), remainder="passthrough"),
                         DecisionTreeClassifier(random_state=0)).fit(X, label)
    rows = X[tree.predict(X) == "bronze"].head(5)
    cf = tx.Counterfactuals(tree, X, desired="gold", monotone={"level": "increase"},
                            ranges={"colour": ["red", "green"]}, random_state=0)
    result = cf.explain(rows, n=3)
    frame = result.to_frame()
    assert (tree.predict(frame[list(X.columns)]) == "gold").all() and frame["valid"].all()
    assert frame["level"].dtype == X["level"].dtype and frame["colour"].dtype == X["colour"].dtype
    original = rows.reset_index(drop=True).iloc[frame["row"]].reset_index(drop=True)
    assert (frame["level"].cat.codes.to_numpy() >= original["level"].cat.codes.to_numpy()).all()
    moved = frame["colour"].to_numpy() != original["colour"].to_numpy()
    assert set(frame["colour"].to_numpy()[moved]) <= {"red", "green"}
    np.testing.assert_allclose(frame["output"], tree.predict_proba(frame[list(X.columns)])[:, 1])  # classes sorted
    assert len(result[-1]) >= 1 and (result[-1]["row"] == 4).all()
    with pytest.raises(IndexError):
        result[5]


def test_bare_callable_with_class_probabilities_takes_a_position(grid_data):
    def proba(rows):
        p = 1 / (1 + np.exp(-(_score(rows) - THRESHOLD)))
        return np.column_stack([1 - p, p])

    rows = grid_data[_score(grid_data) < THRESHOLD][:3]
    result = tx.Counterfactuals(proba, grid_data, desired=1, random_state=0).explain(rows, n=2)
    frame = result.to_frame()
    assert (_score(frame[["x0", "x1", "x2", "x3"]].to_numpy()) > THRESHOLD).all()
    assert result.outcome == "output_1" and frame["valid"].all()
    with pytest.raises(ValueError, match="one of the classes"):
        tx.Counterfactuals(proba, grid_data, desired=2)


@pytest.mark.parametrize("case, error, message", [
    ("one-dimensional", ValueError, r"must be 2-D"),
    ("unknown column", ValueError, r"unknown columns \['extra'\]"),
    ("model raises", tx.ModelError, r"the model raised RuntimeError on \d+ rows"),
    ("model returns NaN", tx.ModelError, r"NaN or inf for \d+ of \d+ rows"),
    ("max_rows 0", ValueError, r"`max_rows` must be an int >= 1; got 0"),
    ("n_jobs 0", ValueError, r"`n_jobs` must be a non-zero int"),
    ("progress string", TypeError, r"`progress` must be True, False or None; got 'yes'"),
    ("beam_width 0", ValueError, r"`beam_width` must be an int >= 1; got 0"),
    ("desired missing", ValueError, r"`desired` is required"),
    ("desired interval of three", ValueError, r"class label or an interval"),
])
def test_bad_input_matrix_changes_nothing(german, case, error, message):
    import pickle

    X, model, declined = german
    frame, state = X.copy(deep=True), pickle.dumps(model)
    rows, options, predict = declined, {"desired": "good"}, model
    if case == "one-dimensional":
        rows = declined.iloc[0]
    elif case == "unknown column":
        rows = declined.assign(extra=1)
    elif case == "model raises":
        def predict(data):
            raise RuntimeError("boom")
        options["desired"] = (0.5, None)
    elif case == "model returns NaN":
        def predict(data):
            return np.full(len(data), np.nan)
        options["desired"] = (0.5, None)
    elif case == "max_rows 0":
        options["max_rows"] = 0
    elif case == "n_jobs 0":
        options["n_jobs"] = 0
    elif case == "progress string":
        options["progress"] = "yes"
    elif case == "beam_width 0":
        options["beam_width"] = 0
    elif case == "desired missing":
        options["desired"] = None
    elif case == "desired interval of three":
        options["desired"] = (0, 1, 2)
    with pytest.raises(error, match=message):
        tx.Counterfactuals(predict, X, **options).explain(rows, n=2)
    pd.testing.assert_frame_equal(X, frame)
    assert pickle.dumps(model) == state


def test_wide_data():
    rng = np.random.default_rng(7)
    X = rng.integers(0, 5, size=(300, 60)).astype(float)
    weights = rng.normal(size=60)

    def score(rows):
        return np.asarray(rows, dtype=float) @ weights

    rows = X[score(X) < np.quantile(score(X), 0.2)][:3]
    result = tx.Counterfactuals(score, X, desired=(np.median(score(X)), None), random_state=0).explain(rows, n=3)
    frame = result.to_frame()
    assert result.status == ["found"] * 3 and frame["valid"].all()
    assert (score(frame[[f"x{j}" for j in range(60)]].to_numpy()) >= np.median(score(X))).all()


def test_notebook_display_is_escaped_and_bounded():
    X = pd.DataFrame({"amount": np.arange(100) % 10, "note": pd.Categorical(["<b>x</b>", "ok"] * 50)})

    def approve(frame):
        return ((frame["amount"] >= 5) & (frame["note"] == "ok")).to_numpy(dtype=float)

    rows = pd.concat([X[approve(X) == 0]] * 3).head(30)
    result = tx.Counterfactuals(approve, X, desired=(0.5, None), random_state=0).explain(rows, n=2)
    page = result._repr_html_()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert page.count("<tr>") == 21 and "more counterfactuals" in page  # header + 20 lines
    assert "Counterfactuals reaching output &gt;= 0.5" in page


class _RefusesTen:
    """A logistic regression whose predict refuses every row with a + b == 10, which X never holds: the
    arg-max rule agrees with predict on X, not on the counterfactuals the search builds."""

    def __new__(cls):
        from sklearn.linear_model import LogisticRegression

        class RefusesTen(LogisticRegression):
            def predict(self, Z):
                Z = np.asarray(Z, dtype=np.float64)
                out = super().predict(Z)
                out[Z[:, 0] + Z[:, 1] == 10] = 0
                return out

        return RefusesTen()


def test_counterfactuals_the_model_refuses_off_the_data_are_replaced():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 10, size=(400, 2)).astype(float)
    X = X[X.sum(axis=1) != 10]
    model = _RefusesTen().fit(X, (X.sum(axis=1) > 9).astype(int))
    rows = X[model.predict(X) == 0][:20]
    search = tx.Counterfactuals(model, X, desired=1, random_state=0)
    assert search._problem.decision == ("argmax",)  # the rule holds on every row of X
    result = search.explain(rows, n=3)
    found = np.asarray(result.counterfactuals, dtype=np.float64)
    assert len(found) > 0 and result.valid.all()
    assert (model.predict(found) == 1).all() and not (found.sum(axis=1) == 10).any()
