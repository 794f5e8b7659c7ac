"""Plots of attributions: the drawn data equal the explanation's numbers (never pixels), under Agg, without warnings."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402

import tabxai as tx  # noqa: E402
from tabxai._display import AGAINST, CATEGORY_COLORS, NEUTRAL, TOWARDS  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _frame(n, rng):
    return pd.DataFrame({
        "duration": rng.integers(6, 60, size=n),
        "amount": rng.normal(3000, 800, size=n).round(1),
        "status": pd.Categorical(rng.choice(["no checking account", "< 0 DM", ">= 200 DM"], size=n)),
        "age": rng.integers(19, 75, size=n).astype(float),
        **{f"x{j}": rng.normal(size=n) for j in range(8)},
    })


@pytest.fixture(scope="module")
def expl():
    """12 players, 40 rows, one output, standard errors, raw data with numbers and categories."""
    rng = np.random.default_rng(0)
    data = _frame(40, rng)
    values = rng.normal(size=(40, 12)) * np.linspace(2.0, 0.1, 12)
    stderr = np.abs(rng.normal(size=(40, 12))) * 0.05
    return tx.Explanation(values, np.full(40, 0.3), data, list(data.columns), ["bad"], stderr=stderr,
                          params={"method": "Test", "response": "predict_proba"})


def _order(values):
    return np.argsort(-np.abs(values), kind="stable")


# waterfall ------------------------------------------------------------------------------------
def test_waterfall_runs_from_the_base_value_to_the_output_with_folded_rest(expl):
    row = expl[3]
    ax = tx.plots.waterfall(row, max_display=5)
    values = row.values
    order = _order(values)
    shown, folded = order[:4], order[4:]
    bars = ax.patches
    widths = [p.get_width() for p in bars]
    np.testing.assert_allclose(widths, [values[folded].sum()] + list(values[shown[::-1]]), rtol=1e-12)
    lefts = np.array([p.get_x() for p in bars])
    np.testing.assert_allclose(lefts[0], row.base_values)
    np.testing.assert_allclose(lefts[1:], lefts[:-1] + np.array(widths[:-1]))
    np.testing.assert_allclose(lefts[-1] + widths[-1], row.base_values + values.sum())
    np.testing.assert_allclose(lefts[-1] + widths[-1], row.output_values)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "8 other features"
    data = row.data
    names = np.array(expl.feature_names)[shown[::-1]]
    expected = [f"{name} = {data[name]}" if name in ("duration", "status") else None for name in names]
    assert all(e is None or e == label for e, label in zip(expected, labels[1:]))
    assert labels[-1].startswith(f"{names[-1]} = ")
    for patch, width in zip(bars, widths):
        assert patch.get_facecolor() == to_rgba(TOWARDS if width >= 0 else AGAINST)
    assert ax.get_xlabel() == "P(bad)"
    assert "base value 0.30 " in ax.get_title() and "f(x) = " in ax.get_title()


def test_waterfall_whiskers_are_1_96_standard_errors_at_the_bar_ends(expl):
    row = expl[5]
    ax = tx.plots.waterfall(row, max_display=4)
    order = _order(row.values)[:3][::-1]
    container = next(c for c in ax.containers if isinstance(c, ErrorbarContainer))
    segments = container.lines[2][0].get_segments()
    assert len(segments) == 3  # no whisker on the folded bar
    ends = np.array([p.get_x() + p.get_width() for p in ax.patches])[1:]
    for segment, j, end in zip(segments, order, ends):
        (low, y0), (high, y1) = segment
        np.testing.assert_allclose((high - low) / 2, 1.96 * row.stderr[j], rtol=1e-12)
        np.testing.assert_allclose((high + low) / 2, end, rtol=1e-12)


def test_waterfall_of_exact_values_has_no_whiskers_and_needs_one_row(expl):
    exact = tx.Explanation(expl.values[:2], expl.base_values[:2], expl.data.iloc[:2], expl.feature_names, ["bad"])
    ax = tx.plots.waterfall(exact[0])
    assert len(ax.containers) == 1  # the bars only
    assert len(ax.patches) == 10 and ax.get_yticklabels()[0].get_text() == "3 other features"
    with pytest.raises(ValueError, match=r"one row of the explanation, e.g. expl\[0\] \(this one has 2 rows\)"):
        tx.plots.waterfall(exact)


def test_waterfall_on_a_real_model_ends_at_the_models_output(german_pipeline, german_small):
    X, _ = german_small
    groups = {"loan": ["duration", "amount"], "history": ["credit_history", "purpose"]}
    expl = tx.ExactShapley(german_pipeline, X.iloc[:15], feature_groups=groups).explain(X.iloc[20:22])
    ax = tx.plots.waterfall(expl[1])  # two outputs: the positive class "good" by default
    bars = ax.patches
    end = bars[-1].get_x() + bars[-1].get_width()
    np.testing.assert_allclose(end, german_pipeline.predict_proba(X.iloc[21:22])[0, 1], atol=1e-10)
    assert ax.get_xlabel() == "P(good)"
    labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    row = X.iloc[21]
    assert f"status = {row['status']}" in labels
    loan = next(label for label in labels if label.startswith("loan: "))
    assert loan.startswith(f"loan: duration = {row['duration']}, amount = ")
    bad = tx.plots.waterfall(expl[1], output="bad")
    np.testing.assert_allclose(bad.patches[-1].get_x() + bad.patches[-1].get_width(),
                               german_pipeline.predict_proba(X.iloc[21:22])[0, 0], atol=1e-10)


# output selection -----------------------------------------------------------------------------
@pytest.mark.parametrize("plot", ["waterfall", "bar", "beeswarm", "heatmap", "scatter"])
def test_every_plot_selects_an_output_and_names_the_outputs_that_exist(plot):
    rng = np.random.default_rng(1)
    data = _frame(6, rng).iloc[:, :3]
    values = rng.normal(size=(6, 3, 3))
    multi = tx.Explanation(values, np.zeros((6, 3)), data, list(data.columns), ["setosa", "versicolor", "virginica"],
                           params={"response": "predict_proba"})
    single = tx.Explanation(values[:, :, 0], np.zeros(6), data, list(data.columns), ["output"])

    def draw(explanation, **kwargs):
        function = getattr(tx.plots, plot)
        target = explanation[0] if plot == "waterfall" else explanation
        return function(target, "duration", **kwargs) if plot == "scatter" else function(target, **kwargs)

    with pytest.raises(ValueError, match=r"3 outputs \['setosa', 'versicolor', 'virginica'\]; choose one"):
        draw(multi)
    with pytest.raises(ValueError, match=r"outputs \['setosa', 'versicolor', 'virginica'\] or be a position 0 to 2; got 'rose'"):
        draw(multi, output="rose")
    with pytest.raises(ValueError, match=r"one output \('output'\).*got 'bad'"):
        draw(single, output="bad")
    by_name = draw(multi, output="virginica")
    by_position = draw(multi, output=2)
    label = by_name.get_xlabel() + by_name.get_ylabel() + by_name.figure.axes[-1].get_ylabel()
    assert "P(virginica)" in label
    assert _drawn(by_name) == _drawn(by_position)
    single_ax = draw(single)
    assert "prediction" in single_ax.get_xlabel() + single_ax.get_ylabel() + single_ax.figure.axes[-1].get_ylabel()


def _drawn(ax):
    return ([tuple(np.round(p.get_width(), 12) for p in ax.patches)]
            + [np.round(np.asarray(c.get_offsets()), 12).tolist() for c in ax.collections if hasattr(c, "get_offsets")]
            + [np.asarray(im.get_array()).round(12).tolist() for im in ax.images])


# bar ------------------------------------------------------------------------------------------
def test_bar_lengths_are_mean_absolute_values_with_intervals_over_rows(expl):
    ax = tx.plots.bar(expl, max_display=6)
    magnitudes = np.abs(expl.values)
    means = magnitudes.mean(axis=0)
    order = np.argsort(-means, kind="stable")
    shown, folded = order[:5], order[5:]
    rest = magnitudes[:, folded].sum(axis=1)
    widths = [p.get_width() for p in ax.patches]
    np.testing.assert_allclose(widths, list(means[shown]) + [rest.mean()], rtol=1e-12)
    heights = [p.get_y() for p in ax.patches]
    assert heights == sorted(heights, reverse=True)  # most important on top
    ticks = dict(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()]))
    assert [ticks[p.get_y() + p.get_height() / 2] for p in ax.patches] == \
        [expl.feature_names[j] for j in shown] + ["7 other features"]
    segments = next(c for c in ax.containers if isinstance(c, ErrorbarContainer)).lines[2][0].get_segments()
    table = np.column_stack([magnitudes[:, shown], rest])
    expected = 1.96 * table.std(axis=0, ddof=1) / np.sqrt(len(table))
    np.testing.assert_allclose([(s[1][0] - s[0][0]) / 2 for s in segments], expected, rtol=1e-12)
    assert ax.get_xlabel() == "mean |attribution| to P(bad)"


def test_bar_by_cohort_draws_each_cohorts_means(expl):
    cohorts = pd.Series(np.where(np.arange(40) % 4 == 0, "female", "male"))
    cohorts[7] = None
    ax = tx.plots.bar(expl, max_display=3, cohorts=cohorts)
    magnitudes = np.abs(expl.values)
    order = np.argsort(-magnitudes.mean(axis=0), kind="stable")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["female (n=10)", "male (n=29)", "missing (n=1)"]
    for name in ("female", "male", "missing"):
        rows = (cohorts.fillna("missing") == name).to_numpy()
        label = next(t for t in legend if t.startswith(name))
        group = next(c for c in ax.containers if c.get_label() == label)
        widths = [p.get_width() for p in group.patches]
        part = magnitudes[rows]
        expected = list(part[:, order[:2]].mean(axis=0)) + [part[:, order[2:]].sum(axis=1).mean()]
        np.testing.assert_allclose(widths, expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"one label per explained row \(40\); got shape \(3,\)"):
        tx.plots.bar(expl, cohorts=["a", "b", "c"])
    with pytest.raises(ValueError, match="`cohorts` has 10 distinct labels; a bar plot by cohort draws at most 8"):
        tx.plots.bar(expl, cohorts=np.arange(40) % 10)


# beeswarm -------------------------------------------------------------------------------------
def test_beeswarm_dots_are_the_values_coloured_by_the_feature(expl):
    ax = tx.plots.beeswarm(expl, max_display=5)
    order = np.argsort(-np.abs(expl.values).mean(axis=0), kind="stable")
    shown = order[:4]
    dots = ax.collections[:5]
    for collection, j in zip(dots, shown):
        np.testing.assert_array_equal(np.asarray(collection.get_offsets())[:, 0], expl.values[:, j])
        positions = np.asarray(collection.get_offsets())[:, 1]
        assert np.ptp(positions) <= 0.8 + 1e-12
    np.testing.assert_allclose(np.asarray(dots[4].get_offsets())[:, 0], expl.values[:, order[4:]].sum(axis=1))
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [expl.feature_names[j] for j in shown] + ["8 other features"]
    names = [expl.feature_names[j] for j in shown]
    data = expl.data
    for collection, name in zip(dots, names):
        colours = collection.get_facecolors()
        if name == "status":
            codes = data["status"].cat.codes.to_numpy()
            np.testing.assert_allclose(colours, [to_rgba(CATEGORY_COLORS[c]) for c in codes])
        else:
            column = data[name].to_numpy(dtype=float)
            low, high = np.percentile(column, [5, 95])
            position = np.clip((column - low) / (high - low), 0, 1)
            lowest, highest = np.argmin(position), np.argmax(position)
            np.testing.assert_allclose(colours[lowest], to_rgba(AGAINST))
            np.testing.assert_allclose(colours[highest], to_rgba(TOWARDS))
    np.testing.assert_allclose(dots[4].get_facecolors()[0], to_rgba(NEUTRAL))
    assert any(a.get_ylabel() == "feature value" for a in ax.figure.axes)  # the colour bar
    assert ax.get_xlabel() == "attribution to P(bad)"


def test_beeswarm_of_categories_only_has_no_colour_bar():
    data = pd.DataFrame({"job": ["a", "b", None, "a"], "home": pd.array([True, False, True, True], dtype="boolean")})
    expl = tx.Explanation(np.arange(8.0).reshape(4, 2), np.zeros(4), data, ["job", "home"], ["output"])
    ax = tx.plots.beeswarm(expl)
    assert len(ax.figure.axes) == 1
    job = ax.collections[1]  # "home" has the larger values: drawn first
    np.testing.assert_allclose(job.get_facecolors(), [to_rgba(c) for c in
                                                      (CATEGORY_COLORS[0], CATEGORY_COLORS[1], NEUTRAL,
                                                       CATEGORY_COLORS[0])])


# scatter --------------------------------------------------------------------------------------
def test_scatter_draws_attribution_against_the_raw_value(expl):
    ax = tx.plots.scatter(expl, "duration")
    j = expl.feature_names.index("duration")
    np.testing.assert_array_equal(np.asarray(ax.collections[0].get_offsets()),
                                  np.column_stack([expl.data["duration"], expl.values[:, j]]))
    assert ax.get_xlabel() == "duration" and ax.get_ylabel() == "attribution of duration\nto P(bad)"


def test_scatter_of_a_category_uses_a_categorical_axis_and_colour_by_another_feature(expl):
    ax = tx.plots.scatter(expl, "status", color="amount")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == list(expl.data["status"].cat.categories)
    offsets = np.asarray(ax.collections[0].get_offsets())
    codes = expl.data["status"].cat.codes.to_numpy()
    np.testing.assert_array_equal(np.round(offsets[:, 0]), codes)
    assert np.abs(offsets[:, 0] - codes).max() <= 0.3 + 1e-12
    np.testing.assert_array_equal(offsets[:, 1], expl.values[:, 2])
    np.testing.assert_array_equal(ax.collections[0].get_array(), expl.data["amount"])
    assert ax.figure.axes[-1].get_ylabel() == "amount"
    coloured = tx.plots.scatter(expl, "duration", color="status")
    assert [t.get_text() for t in coloured.get_legend().get_texts()] == labels


def test_scatter_of_a_grouped_column_and_unknown_features():
    data = pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": [3.0, 4.0, 5.0]})
    expl = tx.Explanation([[1.0], [2.0], [3.0]], np.zeros(3), data, ["ab"], ["output"],
                          params={"parameters": {"feature_groups": {"ab": ["a", "b"]}}})
    ax = tx.plots.scatter(expl, "a")
    np.testing.assert_array_equal(np.asarray(ax.collections[0].get_offsets()), [[1.0, 1.0], [2.0, 2.0]])
    assert ax.get_ylabel() == "attribution of group ab\nto prediction"
    assert ax.get_title() == "1 row with a missing not drawn"
    with pytest.raises(ValueError, match=r"unknown feature 'zz'; the players are \['ab'\]"):
        tx.plots.scatter(expl, "zz")
    with pytest.raises(ValueError, match="needs the explained rows' data"):
        tx.plots.scatter(tx.Explanation([[1.0]], [0.0], None, ["a"], ["output"]), "a")


# heatmap --------------------------------------------------------------------------------------
def test_heatmap_rows_ordered_by_output_or_clustering(expl):
    ax = tx.plots.heatmap(expl, max_display=4)
    order = np.argsort(expl.output_values, kind="stable")
    players = np.argsort(-np.abs(expl.values).mean(axis=0), kind="stable")
    expected = np.column_stack([expl.values[:, players[:3]], expl.values[:, players[3:]].sum(axis=1)])[order].T
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert [t.get_text() for t in ax.get_yticklabels()] == [expl.feature_names[j] for j in players[:3]] + [
        "9 other features"]
    inset = ax.child_axes[0]
    np.testing.assert_allclose(inset.lines[0].get_ydata(), expl.output_values[order])
    low, high = ax.images[0].get_clim()
    assert low == -high == -np.abs(expected).max()
    twins = np.repeat(np.eye(3) * 4.0, 3, axis=0)[[0, 3, 6, 1, 4, 7, 2, 5, 8]]
    clustered = tx.plots.heatmap(tx.Explanation(twins, np.zeros(9), None, ["a", "b", "c"], ["output"]),
                                 order="clustering")
    drawn = np.asarray(clustered.images[0].get_array()).T
    changes = (np.abs(np.diff(drawn, axis=0)).sum(axis=1) > 0).sum()
    assert changes == 2  # identical rows sit together
    with pytest.raises(ValueError, match="`order` must be one of"):
        tx.plots.heatmap(expl, order="random")


# accessor, axes, names ------------------------------------------------------------------------
def test_plot_accessor_forwards_to_tx_plots(expl):
    assert _drawn(expl.plot.bar(max_display=4)) == _drawn(tx.plots.bar(expl, max_display=4))
    assert _drawn(expl.plot(kind="beeswarm")) == _drawn(tx.plots.beeswarm(expl))
    assert _drawn(expl[0].plot.waterfall()) == _drawn(tx.plots.waterfall(expl[0]))
    assert _drawn(expl.plot.scatter("age")) == _drawn(tx.plots.scatter(expl, "age"))
    assert _drawn(expl.plot.heatmap()) == _drawn(tx.plots.heatmap(expl))
    with pytest.raises(ValueError, match=r"`kind` must be one of \['waterfall', 'bar'"):
        expl.plot(kind="pie")
    with pytest.raises(AttributeError, match="no plot 'pie'"):
        expl.plot.pie()


def test_each_call_makes_a_new_figure_and_honours_ax(expl):
    first, second = tx.plots.bar(expl), tx.plots.bar(expl)
    assert first.figure is not second.figure
    assert first.figure.get_layout_engine() is not None
    _, ax = plt.subplots()
    assert tx.plots.beeswarm(expl, ax=ax) is ax
    with pytest.raises(TypeError, match="`ax` must be a matplotlib Axes; got str"):
        tx.plots.bar(expl, ax="left")


def test_long_names_are_shortened_and_labels_stay_inside_the_figure():
    long = "a feature with an exceedingly long descriptive name from a data warehouse export"
    data = pd.DataFrame({long: [1.0, 2.0], "dit_history": ["paid back duly", "critical account"]})
    expl = tx.Explanation([[1.0, -0.5], [0.2, 0.1]], [0.0, 0.0], data, [long, "dit_history"], ["output"])
    ax = tx.plots.bar(expl)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[-1] == "dit_history" and len(ticks[0]) <= 30 and ticks[0].endswith("…")
    for axes in (ax, tx.plots.waterfall(expl[1])):
        figure = axes.figure
        figure.canvas.draw()
        box = figure.get_tightbbox(figure.canvas.get_renderer())
        assert box.x0 >= -1 and box.y0 >= -1
        assert box.x1 <= figure.bbox_inches.x1 + 0.01 and box.y1 <= figure.bbox_inches.y1 + 0.01


def test_readable_conditions_label_a_waterfall_when_the_explanation_has_them():
    data = pd.DataFrame({"age": [30.0], "job": ["clerk"]})
    expl = tx.Explanation([[0.5, -0.25]], [0.0], data, ["age", "job"], ["output"])
    expl.conditions = np.array([["age <= 35", "job = clerk"]], dtype=object)
    labels = [t.get_text() for t in tx.plots.waterfall(expl).get_yticklabels()]
    assert labels == ["job = clerk", "age <= 35"]
    assert "    age <= 35    +0.500" in repr(expl)


def test_rendering_every_plot_writes_a_png(expl, tmp_path):
    drawings = {
        "waterfall": tx.plots.waterfall(expl[0]), "bar": tx.plots.bar(expl),
        "cohorts": tx.plots.bar(expl, cohorts=np.arange(40) % 3), "beeswarm": tx.plots.beeswarm(expl),
        "scatter": tx.plots.scatter(expl, "status", color="age"), "heatmap": tx.plots.heatmap(expl),
    }
    for name, ax in drawings.items():
        path = tmp_path / f"{name}.png"
        ax.figure.savefig(path, dpi=60)
        image = plt.imread(path)
        assert path.stat().st_size > 5_000 and image.shape[0] > 150 and image.shape[1] > 300
        assert image[..., :3].std() > 0.05  # not blank


@pytest.mark.parametrize("values", [np.zeros(5), np.arange(7.0), np.r_[np.zeros(40), 1.0, 1.0, -3.0],
                                    np.random.default_rng(3).normal(size=500).round(1)])
def test_swarm_offsets_equal_the_naive_stacking(values):
    from naive import swarm_offsets

    from tabxai.plots.beeswarm import _swarm

    np.testing.assert_allclose(_swarm(values, 0.4), swarm_offsets(values, 0.4), rtol=0, atol=1e-15)
    assert np.abs(_swarm(values, 0.4)).max() <= 0.4


def test_nullable_dtypes_draw_with_missing_values_named_and_grey():
    data = pd.DataFrame({"count": pd.array([1, None, 3, 4], dtype="Int64"),
                         "share": pd.array([0.5, 0.25, None, 1.0], dtype="Float64"),
                         "flag": pd.array([True, None, False, True], dtype="boolean"),
                         "name": pd.array(["a", "b", None, "a"], dtype="string")})
    values = np.array([[4.0, 3.0, 2.0, 1.0]] * 4) * np.array([[1.0], [-1.0], [0.5], [2.0]])
    expl = tx.Explanation(values, np.zeros(4), data, list(data.columns), ["output"])
    labels = [t.get_text() for t in tx.plots.waterfall(expl[1]).get_yticklabels()]
    assert labels == ["name = b", "flag = missing", "share = 0.25", "count = missing"]
    ax = tx.plots.beeswarm(expl)
    count, share, flag, name = ax.collections[:4]
    np.testing.assert_allclose(count.get_facecolors()[1], to_rgba(NEUTRAL))
    np.testing.assert_allclose(flag.get_facecolors()[1], to_rgba(NEUTRAL))
    np.testing.assert_allclose(flag.get_facecolors()[0], to_rgba(CATEGORY_COLORS[1]))  # True after False
    np.testing.assert_allclose(name.get_facecolors()[2], to_rgba(NEUTRAL))
    scatter = tx.plots.scatter(expl, "name", color="count")
    assert [t.get_text() for t in scatter.get_xticklabels()] == ["a", "b", "missing"]
    assert scatter.get_title() == "" and tx.plots.scatter(expl, "count").get_title() == \
        "1 row with count missing not drawn"
