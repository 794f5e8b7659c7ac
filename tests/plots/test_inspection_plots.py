"""Plots of inspection results: drawn without a display, and drawing the result's numbers."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

import tabxai as tx  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")


def _predict(rows):
    rows = np.asarray(rows, dtype=float)
    return rows[:, 0] ** 2 + rows[:, 1] - 0.5 * rows[:, 0] * rows[:, 2]


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).normal(size=(60, 3))


@pytest.fixture
def ax():
    figure, axes = plt.subplots()
    yield axes
    plt.close(figure)


def test_partial_dependence_draws_the_average_over_subsampled_ice_curves(data, ax):
    result = tx.partial_dependence(_predict, data, 0, kind="both", grid_resolution=8)
    returned = result.plot(ax=ax, max_ice_lines=15, random_state=0)
    assert returned is ax
    assert len(ax.lines) == 16
    average = ax.lines[-1]
    np.testing.assert_array_equal(average.get_xdata(), result.grid_values[0])
    np.testing.assert_array_equal(average.get_ydata(), result.average[0])
    curves = np.array([line.get_ydata() for line in ax.lines[:-1]])
    matches = [np.flatnonzero((result.individual[0] == curve).all(axis=1)) for curve in curves]
    assert all(len(m) >= 1 for m in matches) and len({int(m[0]) for m in matches}) == 15
    assert ax.get_xlabel() == "x0" and ax.get_ylabel() == "prediction"
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["individual rows (ICE)", "average (PD)"]
    assert ax.lines[0].get_alpha() < 1 and ax.lines[-1].get_linewidth() > ax.lines[0].get_linewidth()
    rug = next(c for c in ax.collections if c.get_gid() == "deciles")
    np.testing.assert_allclose([segment[0, 0] for segment in rug.get_segments()],
                               np.quantile(data[:, 0], np.linspace(0.1, 0.9, 9)))
    _, other = plt.subplots()
    result.plot(ax=other, max_ice_lines=15, random_state=0)
    np.testing.assert_array_equal([line.get_ydata() for line in other.lines], [line.get_ydata() for line in ax.lines])
    plt.close(other.figure)


def test_centred_individual_only_draws_curves_from_zero(data, ax):
    result = tx.partial_dependence(_predict, data, 1, kind="individual", grid_resolution=5, centered=True)
    result.plot(ax=ax, max_ice_lines=100)
    assert len(ax.lines) == 60
    assert all(line.get_ydata()[0] == 0.0 for line in ax.lines)
    assert ax.get_ylabel() == "centred prediction"


def test_categorical_feature_is_drawn_as_bars(ax):
    frame = pd.DataFrame({"job": ["clerk", "pilot", "cook", "clerk"] * 10, "x": np.arange(40.0)})

    def predict(rows):
        return rows["job"].map({"clerk": 1.0, "pilot": 3.0, "cook": 2.0}).to_numpy() + 0.01 * rows["x"].to_numpy()

    result = tx.partial_dependence(predict, frame, "job", kind="both")
    result.plot(ax=ax, max_ice_lines=5, random_state=1)
    heights = [patch.get_height() for patch in ax.patches]
    np.testing.assert_allclose(heights, result.average[0])
    assert [label.get_text() for label in ax.get_xticklabels()] == ["clerk", "cook", "pilot"]
    points = ax.collections[0].get_offsets()
    assert len(points) == 5 * 3
    assert np.isin(np.round(np.asarray(points)[:, 1], 12), np.round(result.individual[0], 12)).all()


def test_pair_is_a_heat_map_with_contours(data, ax):
    result = tx.partial_dependence(_predict, data, (0, 2), grid_resolution=6)
    result.plot(ax=ax)
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1
    np.testing.assert_allclose(np.asarray(meshes[0].get_array()).reshape(6, 6), result.average[0].T)
    contours = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert len(contours) == 1 and len(ax.texts) > 0  # labelled contour lines
    labelled = [float(text.get_text().replace("\u2212", "-")) for text in ax.texts]
    assert all(result.average.min() <= level <= result.average.max() for level in labelled)
    assert ax.get_xlabel() == "x0" and ax.get_ylabel() == "x2"
    assert len(ax.figure.axes) == 2  # the heat map and its colour bar


def test_pair_with_a_category_uses_category_ticks(ax):
    frame = pd.DataFrame({"job": ["a", "b", "c"] * 10, "x": np.linspace(0, 1, 30)})
    result = tx.partial_dependence(lambda rows: rows["x"].to_numpy() * (rows["job"] == "b"), frame, ("x", "job"),
                                   grid_resolution=4)
    result.plot(ax=ax)
    assert [label.get_text() for label in ax.get_yticklabels()] == ["a", "b", "c"]
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(3, 4), result.average[0].T)


def test_pair_without_an_average_and_ambiguous_outputs_raise(data, ax):
    individual = tx.partial_dependence(_predict, data, (0, 1), kind="individual", grid_resolution=3)
    with pytest.raises(ValueError, match="kind='average' or 'both'"):
        individual.plot(ax=ax)

    def three(rows):
        return np.column_stack([rows[:, 0], rows[:, 1], rows[:, 2]])

    result = tx.partial_dependence(three, data, 0, grid_resolution=4)
    with pytest.raises(ValueError, match="choose one with `output`"):
        result.plot(ax=ax)
    result.plot(ax=ax, output=1)
    np.testing.assert_array_equal(ax.lines[-1].get_ydata(), result.average[1])
    assert ax.get_ylabel() == "output_1"


def test_binary_classifier_draws_the_positive_class_by_default(ax):
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(1).normal(size=(80, 2))
    model = LogisticRegression().fit(X, X[:, 0] > 0)
    result = tx.partial_dependence(model, X, 0, grid_resolution=5)
    result.plot(ax=ax)
    np.testing.assert_array_equal(ax.lines[-1].get_ydata(), result.average[1])
    assert ax.get_ylabel() == "P(True)"


def test_ale_draws_its_values_at_the_edges(data, ax):
    result = tx.accumulated_local_effects(_predict, data, 0, grid_resolution=7)
    assert result.plot(ax=ax) is ax
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), result.grid_values)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), result.values[0])
    rug = ax.collections[0].get_segments()
    np.testing.assert_allclose([segment[0, 0] for segment in rug], result.grid_values)
    assert ax.get_ylabel() == "ALE of prediction"


def test_permutation_importance_box_plot_is_ordered_by_mean(data, ax):
    y = _predict(data)
    result = tx.permutation_importance(_predict, data, y, n_repeats=6, random_state=0)
    assert result.plot(ax=ax) is ax
    order = np.argsort(result.importances_mean)
    assert [t.get_text() for t in ax.get_yticklabels()] == [result.feature_names[j] for j in order]
    medians = [line for line in ax.lines if line.get_gid() == "median"]
    drawn = [line.get_xdata()[0] for line in sorted(medians, key=lambda line: line.get_ydata()[0])]
    np.testing.assert_allclose(drawn, np.median(result.importances[order], axis=1), atol=1e-12)
    assert ax.get_xlabel() == "decrease in r2 when the feature is permuted"
    assert result.baseline_score == 1.0
    assert ax.get_title() == "baseline r2 = 1.00, 6 repeats\nboxes show permutation noise only"
    _, small = plt.subplots()
    result.plot(ax=small, max_features=2)
    assert [t.get_text() for t in small.get_yticklabels()] == [result.feature_names[j] for j in order[-2:]]
    plt.close(small.figure)


def test_plots_make_a_new_figure_unless_given_axes_and_importing_tabxai_does_not_import_matplotlib(data):
    plt.close("all")
    result = tx.accumulated_local_effects(_predict, data, 1, grid_resolution=4)
    first, second = result.plot(), result.plot()
    assert first.figure is not second.figure and len(first.lines) == len(second.lines) == 2
    assert first.figure.get_layout_engine() is not None  # laid out to fit its labels
    plt.close("all")
    code = "import sys, tabxai; tabxai.plots.bar; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_several_results_give_one_panel_each_sharing_the_output_label(data):
    results = tx.partial_dependences(_predict, data, [0, 1, 2], kind="both", grid_resolution=5)
    figure = tx.plots.partial_dependence(results, max_ice_lines=4, random_state=0)
    panels = [a for a in figure.axes if a.get_visible()]
    assert len(panels) == 3
    for panel, result in zip(panels, results):
        np.testing.assert_array_equal(panel.lines[-1].get_ydata(), result.average[0])
    assert [p.get_xlabel() for p in panels] == ["x0", "x1", "x2"]
    assert [p.get_ylabel() for p in panels] == ["prediction", "", ""]
    _, given = plt.subplots(1, 3)
    assert tx.plots.partial_dependence(results, given) is given[0].figure
    with pytest.raises(ValueError, match="2 Axes for 3 results"):
        tx.plots.partial_dependence(results, given[:2])
    plt.close("all")


def test_long_categories_are_shortened_and_turned_to_fit():
    labels = ["a rather long category label number %d" % i for i in range(6)]
    frame = pd.DataFrame({"job": labels * 5, "x": np.arange(30.0)})
    result = tx.partial_dependence(lambda rows: rows["x"].to_numpy(), frame, "job")
    ax = tx.plots.partial_dependence(result)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert all(len(t) <= 18 and t.endswith("…") for t in ticks)
    assert all(t.get_rotation() == 35 for t in ax.get_xticklabels())
    figure = ax.figure
    figure.canvas.draw()
    box = figure.get_tightbbox(figure.canvas.get_renderer())
    assert box.x0 >= -1 and box.y0 >= -1  # nothing falls off the figure
    plt.close(figure)


def test_log_odds_partial_dependence_names_its_scale():
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(2).normal(size=(60, 2))
    model = LogisticRegression().fit(X, np.where(X[:, 0] > 0, "bad", "good"))
    result = tx.partial_dependence(model, X, 0, grid_resolution=4, output="bad", link="logit")
    assert tx.plots.partial_dependence(result).get_ylabel() == "log-odds of bad"
    plt.close("all")


def test_several_ale_results_give_one_panel_each(data):
    results = [tx.accumulated_local_effects(_predict, data, j, grid_resolution=5) for j in (0, 1)]
    figure = tx.plots.accumulated_local_effects(results)
    panels = [a for a in figure.axes if a.get_visible()]
    for panel, result in zip(panels, results):
        np.testing.assert_array_equal(panel.lines[0].get_ydata(), result.values[0])
    assert [p.get_ylabel() for p in panels] == ["ALE of prediction", ""]
    plt.close(figure)


def _report_figure_axes(draw, width, height):
    """Draw as the audit report does (its own figure size, constrained layout) and return the laid-out Axes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=80, layout="constrained")
    ax = figure.add_subplot()
    draw(ax)
    figure.canvas.draw()
    return figure, ax


def test_report_figures_keep_titles_inside_and_legends_off_the_bars():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"status": rng.choice(["no checking account", "< 0 DM", ">= 200 DM / salary"], 300),
                      "number_of_other_installment_plans": rng.normal(size=300),
                      "credit_history": rng.normal(size=300)})
    y = np.where((X["status"] == "< 0 DM") ^ (rng.random(300) < 0.2), "bad", "good")
    encode = make_column_transformer((OneHotEncoder(), ["status"]), remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression()).fit(X, y)
    importance = tx.permutation_importance(model, X, y, scoring="neg_log_loss", n_repeats=3, random_state=0)
    figure, ax = _report_figure_axes(lambda a: importance.plot(ax=a), 6.0, 2.1)
    title = ax.title.get_window_extent()
    assert figure.bbox.x0 <= title.x0 and title.x1 <= figure.bbox.x1  # the whole title is on the figure
    assert ax.get_title().endswith("boxes show permutation noise only")

    dependence = tx.partial_dependence(model, X, "status", kind="both", output="bad")
    assert dependence.categorical == (True,)
    figure, ax = _report_figure_axes(lambda a: dependence.plot(ax=a, max_ice_lines=50, random_state=0), 4.2, 3.0)
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.bbox.y1 - 1  # above the panel: over no bar and no dot
    assert figure.bbox.y0 <= legend.y0 and legend.y1 <= figure.bbox.y1 and legend.x1 <= figure.bbox.x1
