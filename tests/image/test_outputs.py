"""The image adapter looks outputs up by label: class labels that are integers are never read as positions."""

import numpy as np
import pytest

import tabxai as tx


class _ThreeClasses:
    """A fitted classifier without predict_proba whose labels are 1, 2 and 3 (decision_function scores)."""

    _estimator_type = "classifier"
    classes_ = np.array([1, 2, 3])

    def fit(self, X, y=None):
        return self

    def decision_function(self, batch):
        batch = np.asarray(batch, dtype=np.float64)
        top = batch[:, :4].mean(axis=(1, 2, 3))
        bottom = batch[:, 4:].mean(axis=(1, 2, 3))
        return np.column_stack([top, bottom, 0.5 * (top + bottom) + 0.1])

    def predict(self, batch):
        return self.classes_[self.decision_function(batch).argmax(axis=1)]


@pytest.fixture()
def image():
    rng = np.random.default_rng(0)
    return rng.random((8, 8, 3))


@pytest.mark.parametrize("label, column", [(1, 0), (2, 1), (3, 2)])
def test_integer_labels_are_labels(image, label, column):
    model = _ThreeClasses()
    expl = tx.image.explain(model, image, method="occlusion", output=label, window=4, stride=4)
    assert expl.output_name == label
    assert expl.score == pytest.approx(model.decision_function(image[None])[0, column])


def test_faithfulness_of_an_explanation_scores_its_own_output(image):
    model = _ThreeClasses()
    scores = model.decision_function(image[None])[0]
    label = 1 if scores.argmax() != 0 else 2  # an output that is not the arg-max
    expl = tx.image.explain(model, image, method="occlusion", output=label, window=4, stride=4)
    for curve, whole in ((tx.image.deletion_auc, 0), (tx.image.insertion_auc, -1)):  # the step showing the image
        own = curve(model, image, expl, return_curve=True)
        named = curve(model, image, expl.heatmap, output=label, return_curve=True)
        arg_max = curve(model, image, expl.heatmap, return_curve=True)
        np.testing.assert_array_equal(own.scores, named.scores)
        assert own.scores[whole] == pytest.approx(scores[label - 1])
        assert arg_max.scores[whole] == pytest.approx(scores.max())
