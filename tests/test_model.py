import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import SVC

from tabxai.data import TabularSchema
from tabxai._engine import predict as predict_codes
from tabxai.model import Model, ModelError, as_model


@pytest.fixture()
def classifier_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    return X, y


def test_classifier_gives_all_probabilities(classifier_data):
    X, y = classifier_data
    clf = LogisticRegression().fit(X, y)
    model = as_model(clf).bind(TabularSchema.from_data(X))
    assert model.method == "predict_proba" and model.output_names == ("no", "yes")
    np.testing.assert_array_equal(model(X), clf.predict_proba(X))


def test_output_selects_a_class(classifier_data):
    X, y = classifier_data
    clf = LogisticRegression().fit(X, y)
    model = as_model(clf, output="yes").bind(TabularSchema.from_data(X))
    np.testing.assert_array_equal(model(X), clf.predict_proba(X)[:, 1:])
    assert model.output_names == ("yes",)
    with pytest.raises(ValueError, match=r"one of the classes \['no', 'yes'\]; got 'maybe'"):
        as_model(clf, output="maybe")


def test_classifier_without_probabilities_uses_decision_function(classifier_data):
    X, y = classifier_data
    svc = SVC().fit(X, y)
    model = as_model(svc)
    assert model.method == "decision_function"
    np.testing.assert_allclose(model.bind(TabularSchema.from_data(X))(X)[:, 0], svc.decision_function(X))


def test_regressor_and_bound_method(regression_data):
    X, y = regression_data
    reg = LinearRegression().fit(X, y)
    schema = TabularSchema.from_data(X)
    model = as_model(reg).bind(schema)
    assert model.method == "predict" and model(X).shape == (len(X), 1)
    bound = as_model(reg.predict).bind(schema)
    assert bound.owner is reg
    np.testing.assert_array_equal(bound(X), model(X))


def test_plain_callable_multi_output_and_output_index(regression_data):
    X, _ = regression_data
    schema = TabularSchema.from_data(X)
    model = as_model(lambda d: np.column_stack([d[:, 0], 2 * d[:, 1]])).bind(schema, sample=X)
    np.testing.assert_array_equal(model(X), np.column_stack([X[:, 0], 2 * X[:, 1]]))
    assert model.output_names == ("output_0", "output_1")  # named at bind time, by one probe row
    second = as_model(lambda d: np.column_stack([d[:, 0], 2 * d[:, 1]]), output=1).bind(schema, sample=X)
    assert second.output_names == ("output_1",)
    np.testing.assert_array_equal(second(X)[:, 0], 2 * X[:, 1])


@pytest.mark.parametrize("max_rows", [1, 7, 60, 1000])
def test_chunking_never_changes_outputs(regression_data, max_rows):
    X, y = regression_data
    calls = []

    def predict(d):  # row-wise arithmetic: the outputs of a row cannot depend on the batch
        calls.append(len(d))
        return d[:, 0] + 2 * d[:, 1] * d[:, 4]

    model = as_model(predict, max_rows=max_rows).bind(TabularSchema.from_data(X))
    np.testing.assert_array_equal(predict_codes(model, X)[:, 0], X[:, 0] + 2 * X[:, 1] * X[:, 4])
    assert max(calls) <= max_rows and sum(calls) == len(X)


def test_pipeline_gets_the_raw_frame_back(german_small, german_pipeline):
    X, _ = german_small
    seen = []
    original = german_pipeline.predict_proba

    def spy(frame):
        seen.append(frame)
        return original(frame)

    schema = TabularSchema.from_data(X)
    model = as_model(spy).bind(schema)
    np.testing.assert_allclose(model(schema.encode(X)), german_pipeline.predict_proba(X), rtol=0, atol=1e-15)
    pd.testing.assert_frame_equal(seen[0], X.reset_index(drop=True))


def test_estimator_columns_follow_feature_names_in(german_small, german_pipeline):
    X, _ = german_small
    shuffled = X[X.columns[::-1]]
    model = as_model(german_pipeline).bind(TabularSchema.from_data(shuffled))
    np.testing.assert_allclose(model(TabularSchema.from_data(shuffled).encode(shuffled)),
                               german_pipeline.predict_proba(X), atol=1e-15)


def test_model_and_data_columns_must_match(german_small, german_pipeline):
    X, _ = german_small
    with pytest.raises(ValueError, match=r"columns the data lacks: \['housing'\]"):
        as_model(german_pipeline).bind(TabularSchema.from_data(X.drop(columns="housing")))
    with pytest.raises(ValueError, match=r"columns the model was not fitted on: \['extra'\]"):
        as_model(german_pipeline).bind(TabularSchema.from_data(X.assign(extra=1.0)))


def test_array_fitted_model_gets_an_array_from_a_frame(regression_data, frame_data):
    X, y = regression_data
    frame, _ = frame_data
    reg = LinearRegression().fit(X, y)  # fitted without names
    schema = TabularSchema.from_data(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X has feature names" warning: the model gets an array
        np.testing.assert_allclose(as_model(reg).bind(schema)(schema.encode(frame))[:, 0], reg.predict(X))


def _schema():
    return TabularSchema.from_data(np.zeros((4, 2)))


def test_model_that_raises_says_which_rows():
    calls = []

    def broken(d):
        calls.append(len(d))
        if len(calls) == 2:
            raise RuntimeError("boom")
        return d[:, 0]

    with pytest.raises(ModelError, match=r"raised RuntimeError on 2 rows \(rows 2 to 3 of this request\): boom"):
        predict_codes(as_model(broken, max_rows=2).bind(_schema()), np.zeros((4, 2)))


@pytest.mark.parametrize("bad, message", [
    (np.nan, r"NaN or inf for 1 of 4 rows"),
    (np.inf, r"NaN or inf for 1 of 4 rows"),
])
def test_model_returning_nan_or_inf(bad, message):
    def predict(d):
        out = np.zeros(len(d))
        out[1] = bad
        return out

    with pytest.raises(ModelError, match=message):
        as_model(predict).bind(_schema())(np.zeros((4, 2)))


def test_model_returning_wrong_number_of_rows_or_outputs():
    with pytest.raises(ModelError, match=r"returned shape \(3,\) .* expected 4 rows"):
        as_model(lambda d: np.zeros(3)).bind(_schema())(np.zeros((4, 2)))
    outputs = iter([np.zeros((1, 2)), np.zeros((2, 2)), np.zeros((2, 3))])
    model = as_model(lambda d: next(outputs), max_rows=2).bind(_schema(), sample=np.zeros((1, 2)))
    with pytest.raises(ModelError, match=r"returned 3 outputs on 2 rows \(rows 2 to 3 .* when it was bound it returned 2"):
        predict_codes(model, np.zeros((4, 2)))
    with pytest.raises(ModelError, match="not numbers"):
        as_model(lambda d: np.array(["a"] * len(d))).bind(_schema())(np.zeros((4, 2)))


def test_bad_models_and_parameters(classifier_data):
    with pytest.raises(TypeError, match="must be a fitted estimator .* got int"):
        as_model(3)
    with pytest.raises(ValueError, match="not fitted"):
        as_model(LogisticRegression())
    with pytest.raises(ValueError, match=r"`max_rows` must be an int >= 1; got 0"):
        as_model(lambda d: d, max_rows=0)
    X, y = classifier_data
    reg = LinearRegression().fit(X, y == "yes")
    with pytest.raises(ValueError, match=r"the model has one output \('output'\); `output` must be None, 0 or 'output'; got 3"):
        as_model(reg, output=3).bind(TabularSchema.from_data(X), sample=X)  # outputs known at bind time
    with pytest.raises(RuntimeError, match="not bound"):
        as_model(reg)(X)


def test_as_model_returns_models_unchanged():
    model = as_model(lambda d: d[:, 0])
    assert as_model(model) is model
    assert isinstance(as_model(model, max_rows=5), Model) and as_model(model, max_rows=5).max_rows == 5


def test_duck_typed_estimators():
    class Scorer:  # no scikit-learn base class, no tags
        classes_ = np.array(["a", "b"])

        def fit(self, X, y):
            return self

        def predict_proba(self, X):
            p = 1 / (1 + np.exp(-np.asarray(X)[:, 0]))
            return np.column_stack([1 - p, p])

    model = as_model(Scorer(), output="b").bind(TabularSchema.from_data(np.zeros((2, 1))))
    assert model.method == "predict_proba" and model.output_names == ("b",)
    np.testing.assert_allclose(model(np.array([[0.0]])), [[0.5]])


def test_models_are_immutable_and_binding_names_outputs_once(regression_data):
    X, _ = regression_data
    calls = []

    def predict(d):
        calls.append(len(d))
        return np.column_stack([d[:, 0], d[:, 1]])

    model = as_model(predict)
    with pytest.raises(AttributeError, match="immutable"):
        model.output = 1
    bound = model.bind(TabularSchema.from_data(X), sample=X)
    assert calls == [1] and bound.output_names == ("output_0", "output_1")
    assert model.output_names is None  # the unbound model is unchanged
    rebound = bound.bind(TabularSchema.from_data(X))  # names travel with it: no second probe
    assert calls == [1] and rebound.output_names == ("output_0", "output_1")


def test_logit_link_and_method_choice(classifier_data):
    X, y = classifier_data
    clf = LogisticRegression().fit(X, y)
    schema = TabularSchema.from_data(X)
    log_odds = as_model(clf, output="yes", link="logit").bind(schema)
    np.testing.assert_allclose(log_odds(X)[:, 0], clf.decision_function(X), atol=1e-9)
    labels = as_model(clf, method="predict").bind(schema)  # a classifier's predict: positions in classes_
    np.testing.assert_array_equal(labels(X)[:, 0], (clf.predict(X) == "yes").astype(float))
    assert labels.output_names == ("predicted class",)
    with pytest.raises(ValueError, match="link='logit' .* LogisticRegression is asked for decision_function"):
        as_model(clf, method="decision_function", link="logit")
    with pytest.raises(ValueError, match="`method` must be one of"):
        as_model(clf, method="transform")
    import tabxai as tx

    grid = tx.partial_dependence(clf, X, 0, grid_resolution=5, output="yes", link="logit")
    plain = tx.partial_dependence(lambda d: clf.decision_function(d), X, 0, grid_resolution=5)
    np.testing.assert_allclose(grid.average, plain.average, atol=1e-9)  # linear in the log-odds
    assert grid.params["link"] == "logit"


def test_decisions_of_a_callable_by_labels_threshold_or_largest_output():
    frame = pd.DataFrame({"x": [0.1, 0.5, 0.9]})
    schema = TabularSchema.from_data(frame)
    codes = schema.encode(frame)

    def proba(rows):
        p = rows["x"].to_numpy()
        return np.column_stack([1 - p, p])

    for decision, expected in ((None, [0, 0, 1]), (0.4, [0, 1, 1]),
                               (lambda rows: np.where(rows["x"] > 0.3, "yes", "no"), [0, 1, 1])):
        model = as_model(proba, classes=("no", "yes"), decision=decision).bind(schema, sample=codes)
        assert predict_codes(model.decisions(), codes)[:, 0].tolist() == expected
    odd = as_model(proba, classes=("no", "yes"), decision=lambda rows: ["maybe"] * len(rows)).bind(schema)
    with pytest.raises(ModelError, match=r"labels \['maybe'\] that are not its classes \['no', 'yes'\]"):
        predict_codes(odd.decisions(), codes)


@pytest.mark.parametrize("classes, labels", [
    ([0, 1], [1, 0, 1, 1]),  # classes 0 ... k - 1: their own positions
    ([1, 4, 9], [9, 1, 4, 4]),  # a few numbers: compared in turn
    ([False, True], [True, False, False]),
    (["no", "yes"], ["yes", "yes", "no"]),  # other labels: a hash lookup
    (list(range(20, 40)), [39, 20, 25]),  # many classes: a hash lookup
])
def test_a_classifiers_decisions_are_positions_of_its_labels(classes, labels):
    from tabxai.model import _LabelPositions

    positions = _LabelPositions(lambda data: np.array(labels), np.array(classes))(None)
    np.testing.assert_array_equal(positions, [classes.index(label) for label in labels])
    assert positions.dtype == np.float64
    with pytest.raises(ValueError, match=r"labels \['?7'?\] that are not its classes"):
        _LabelPositions(lambda data: np.array(labels[:1] + [7]), np.array(classes))(None)
