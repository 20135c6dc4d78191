"""Global plots: the numbers they draw, read from the returned data and from the figure's artists."""

import matplotlib.figure
import numpy as np
import pytest

import keras_explain as kx
from keras_explain import viz
from keras_explain.render.global_plots import interaction_strengths, swarm_offsets

NAMES = ["a", "b", "c", "d", "e", "f"]


@pytest.fixture(scope="module")
def table():
    """400 rows of 6 features; attribution j = (j + 1) * x_j / 2, but a's is x_a * x_d (an interaction)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6))
    a = x * (np.arange(1, 7) / 2.0)
    a[:, 0] = x[:, 0] * x[:, 3]
    predictions = rng.uniform(size=(400, 3))
    targets = np.argmax(predictions, axis=1)
    return kx.Explanation(a, x, targets, predictions, "kernel_shap", feature_names=NAMES)


def _scatter_points(axis):
    return [c for c in axis.collections if len(c.get_offsets())]


def test_beeswarm_draws_every_row_of_every_shown_feature(table):
    figure = viz.summary_plot(table, max_features=4, max_points=None)
    assert isinstance(figure, matplotlib.figure.Figure)
    data = figure.keras_explain_data
    by_hand = np.argsort(-np.abs(table.attributions).mean(axis=0), kind="stable")[:4]
    np.testing.assert_array_equal(data["order"], by_hand)
    assert data["features"] == [NAMES[j] for j in by_hand]
    assert data["points"] == 1600 and not data["sampled"]
    axis = figure.axes[0]
    offsets = np.concatenate([c.get_offsets() for c in _scatter_points(axis)])
    assert len(offsets) == 1600
    # Feature k of the order sits on row 3 - k, its points at its attributions.
    for k, j in enumerate(by_hand):
        near = np.abs(offsets[:, 1] - (3 - k)) <= 0.4 + 1e-9
        np.testing.assert_allclose(np.sort(offsets[near, 0]), np.sort(table.attributions[:, j]))
    ticks = sorted(zip(axis.get_yticks(), [t.get_text() for t in axis.get_yticklabels()]))
    assert [label for _, label in ticks] == [NAMES[j] for j in by_hand][::-1]  # the strongest at the top


def test_beeswarm_colours_are_the_feature_values_between_percentiles(table):
    figure = viz.summary_plot(table, max_features=1, max_points=None)
    j = figure.keras_explain_data["order"][0]
    coloured = [c for c in _scatter_points(figure.axes[0]) if c.get_array() is not None][0]
    values = table.inputs[:, j]
    low, high = np.percentile(values, [5, 95])
    np.testing.assert_allclose(coloured.get_array(), np.clip((values - low) / (high - low), 0, 1))
    np.testing.assert_allclose(coloured.get_offsets()[:, 0], table.attributions[:, j])


def test_beeswarm_subsamples_with_a_seed_and_says_so(table):
    first = viz.summary_plot(table, max_points=50, random_state=3).keras_explain_data
    again = viz.summary_plot(table, max_points=50, random_state=3)
    np.testing.assert_array_equal(first["rows"], again.keras_explain_data["rows"])
    expected = np.sort(np.random.default_rng(3).choice(400, size=50, replace=False))
    np.testing.assert_array_equal(first["rows"], expected)
    assert first["sampled"] and first["points"] == 50 * 6
    assert sum(len(c.get_offsets()) for c in _scatter_points(again.axes[0])) == 300
    assert "50 of 400 examples drawn (seeded choice, random_state=3)" in again.axes[0].get_title()


def test_swarm_offsets_stack_equal_values():
    offsets = swarm_offsets(np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0]))
    # Five equal values: 0, down 1, up 1, down 2, up 2 steps of 0.4 / 2; the lone value stays.
    np.testing.assert_allclose(offsets, [0.0, 0.2, -0.2, 0.4, -0.4, 0.0])


def test_bar_lengths_are_the_mean_absolute_attributions(table):
    figure = viz.summary_plot(table, kind="bar", by_class=False, max_features=3)
    mean_abs = np.abs(table.attributions).mean(axis=0)
    top = np.argsort(-mean_abs)[:3]
    bars = sorted(figure.axes[0].patches, key=lambda p: -p.get_y())
    np.testing.assert_allclose([p.get_width() for p in bars], mean_abs[top])
    np.testing.assert_allclose(figure.keras_explain_data["values"], mean_abs[top])


def test_bars_per_class_are_the_class_means(table):
    figure = viz.summary_plot(table, kind="bar", max_features=6)
    data = figure.keras_explain_data
    assert data["classes"] == [0, 1, 2]
    assert len(figure.axes[0].patches) == 6 * 3
    for k, c in enumerate((0, 1, 2)):
        rows = table.targets == c
        np.testing.assert_allclose(data["values"][:, k], np.abs(table.attributions[rows]).mean(axis=0)[data["order"]])
    widths = sorted(p.get_width() for p in figure.axes[0].patches)
    np.testing.assert_allclose(widths, np.sort(data["values"].reshape(-1)))


def test_a_summary_draws_bars_and_refuses_a_beeswarm(table):
    summary = kx.summarize(table, keep=False)
    assert "summary" not in table.extras
    figure = viz.summary_plot(summary, by_class=False)
    assert figure.keras_explain_data["kind"] == "bar"
    with pytest.raises(ValueError) as error:
        viz.summary_plot(summary, kind="beeswarm")
    assert str(error.value).startswith(
        "kind: expected 'bar' for a summary without per-example attributions (kind='beeswarm' needs them), "
        "received a Summary object"
    )


def test_violin_quartiles(table):
    figure = viz.summary_plot(table, kind="violin", max_features=2)
    order = figure.keras_explain_data["order"]
    np.testing.assert_allclose(
        figure.keras_explain_data["quartiles"], np.percentile(table.attributions[:, order], [25, 50, 75], axis=0).T
    )
    assert len(figure.axes[0].collections) >= 2


def test_permutation_importance_bars_have_error_bars(method_cases):
    case = method_cases["permutation_importance"]
    e = case.build().explain(case.x, case.labels, verbose=0)
    figure = viz.summary_plot(e)
    data = figure.keras_explain_data
    importances = e.attributions[0].astype(np.float64)
    order = np.argsort(-np.abs(importances), kind="stable")
    assert data["kind"] == "bar"
    np.testing.assert_allclose(data["values"], importances[order])
    np.testing.assert_allclose(data["std"], e.importances_std[0][order], rtol=1e-6)
    bars = sorted(figure.axes[0].patches, key=lambda p: -p.get_y())
    np.testing.assert_allclose([p.get_width() for p in bars], importances[order], rtol=1e-6)
    with pytest.raises(ValueError, match=r"received a global explanation\.$"):
        viz.summary_plot(e, kind="beeswarm")


def test_dependence_plot_picks_the_interacting_feature(table):
    figure = viz.dependence_plot(table, "a")
    data = figure.keras_explain_data
    np.testing.assert_array_equal(data["x"], table.inputs[:, 0])
    np.testing.assert_array_equal(data["y"], table.attributions[:, 0])
    assert data["color_by"] == "d" and data["color_index"] == 3
    assert data["interactions"][0] == 0.0
    assert len(figure.axes) == 2  # the plot and the colour bar of "d"


def test_interaction_strengths_pick_what_shap_picks(table):
    shap = pytest.importorskip("shap")
    ours = interaction_strengths(0, table.attributions, table.inputs)
    theirs = shap.utils.approximate_interactions(0, table.attributions, table.inputs)
    assert int(np.argmax(ours)) == int(theirs[0]) == 3


def test_interaction_strength_by_hand():
    # Bins of 2 rows (N = 20): in each, attribution 0 against feature 1 correlates exactly (+1 or -1).
    x = np.zeros((20, 3))
    x[:, 0] = np.arange(20)
    x[:, 1] = np.tile([0.0, 1.0], 10)
    x[:, 2] = 7.0
    a = np.zeros((20, 3))
    a[:, 0] = np.where(np.arange(20) % 4 < 2, 1.0, -1.0) * x[:, 1]
    np.testing.assert_allclose(interaction_strengths(0, a, x), [0.0, 10.0, 0.0])


def test_dependence_plot_colour_choices_and_errors(table):
    assert viz.dependence_plot(table, 2, color_by="b").keras_explain_data["color_index"] == 1
    plain = viz.dependence_plot(table, "c", color_by=None, max_points=30)
    assert plain.keras_explain_data["color_by"] is None and len(plain.axes) == 1
    assert len(plain.keras_explain_data["x"]) == 30
    with pytest.raises(ValueError) as error:
        viz.dependence_plot(table, "z")
    assert str(error.value) == (
        "feature: expected a feature name ('a', 'b', 'c', 'd', 'e', 'f') or an index below 6, received 'z'."
    )
    with pytest.raises(ValueError) as error:
        viz.dependence_plot(table, 9)
    assert str(error.value) == "feature: expected an integer between 0 and 5, received 9."


def test_plots_draw_on_a_given_axes_and_save(table, tmp_path):
    figure = matplotlib.figure.Figure()
    left, right = figure.subplots(1, 2)
    assert viz.summary_plot(table, kind="bar", ax=left, save=tmp_path / "bar.png") is figure
    viz.dependence_plot(table, "b", ax=right)
    assert left.keras_explain_data["kind"] == "bar" and right.keras_explain_data["feature"] == "b"
    assert figure.keras_explain_data is right.keras_explain_data
    assert (tmp_path / "bar.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def saliency(small_cnn, images):
    return kx.GradientSaliency(small_cnn, verbose=0).explain(images, targets=np.array([0, 1, 0, 2, 1, 0, 2]))


def test_class_average_maps(saliency):
    figure = viz.class_average_plot(saliency)
    data = figure.keras_explain_data
    magnitude = np.abs(saliency.attributions.astype(np.float64)).sum(axis=-1)
    assert data["classes"] == [0, 1, 2] and data["counts"] == {0: 3, 1: 2, 2: 2}
    for c in (0, 1, 2):
        np.testing.assert_allclose(data["maps"][c], magnitude[saliency.targets == c].mean(axis=0), rtol=1e-12)
    shown = [image.get_array() for axis in figure.axes for image in axis.images]
    assert len(shown) == 3
    np.testing.assert_allclose(shown[1], data["maps"][1])
    assert data["limits"][0] == 0.0


def test_extremes_are_the_highest_and_lowest_scores(saliency):
    figure = viz.extremes_sheet(saliency, k=2)
    data = figure.keras_explain_data
    scores = saliency.predictions[np.arange(7), saliency.targets].astype(np.float64)
    assert data["highest"] == list(np.argsort(-scores)[:2])
    assert data["lowest"] == list(np.argsort(scores)[:2])
    np.testing.assert_array_equal(data["lowest_scores"], np.sort(scores)[:2])
    assert sum(1 for axis in figure.axes if axis.images) == 4
    first = data["highest"][0]
    assert figure.axes[0].get_title().split("\n")[0] == f"#{first}, explained {scores[first]:.3g}"


def test_images_are_refused_by_the_table_plots(saliency):
    with pytest.raises(ValueError) as error:
        viz.summary_plot(saliency)
    assert str(error.value) == (
        "summary_plot: expected tabular attributions (N, n_features), received image attributions of maps "
        "(12, 12); use kx.viz.class_average_plot or kx.viz.extremes_sheet."
    )
    with pytest.raises(ValueError, match=r"^dependence_plot: expected tabular attributions \(N, n_features\)"):
        viz.dependence_plot(saliency, 0)
    with pytest.raises(ValueError) as error:
        viz.class_average_plot(kx.Explanation(np.ones((2, 3)), np.ones((2, 3)), [0, 1], np.ones((2, 2)), "x"))
    assert str(error.value) == (
        "explanations: expected image attributions (N, H, W) or (N, H, W, C), received attributions of 3 table "
        "features; for tables use kx.viz.summary_plot."
    )
