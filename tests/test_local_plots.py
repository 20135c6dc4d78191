"""Local plots of one example: the waterfall and force plots walk from E[f] to f(x); LIME's list view."""

import numpy as np
import pytest

import keras_explain as kx
from keras_explain import viz


@pytest.fixture(scope="module")
def shap_explanations(tanh_mlp, rows):
    background = rows[:4] * 0.5
    return {
        "deepshap": kx.DeepShap(tanh_mlp, background, verbose=0).explain(rows),
        "kernel_shap": kx.KernelShap(tanh_mlp, background, random_state=0, verbose=0).explain(rows),
    }


def _score(e, i):
    return float(e.predictions[i, e.targets[i]])


def _bars(figure):
    """The waterfall's bars from the figure, top to bottom: (left, width)."""
    patches = sorted(figure.axes[0].patches, key=lambda p: -p.get_y())
    return np.array([(p.get_x(), p.get_width()) for p in patches])


@pytest.mark.parametrize("method", ["deepshap", "kernel_shap"])
@pytest.mark.parametrize("i", [0, 4, 10])
def test_waterfall_bars_sum_to_the_output_change(shap_explanations, method, i):
    e = shap_explanations[method]
    figure = viz.waterfall_plot(e, i, max_features=10)
    data = figure.keras_explain_data
    change = _score(e, i) - float(e.expected_value[i])
    assert data["base_source"] == "expected_value"
    assert data["base"] == float(e.expected_value[i]) and data["score"] == _score(e, i)
    assert abs(data["values"].sum() - change) < 1e-5
    bars = _bars(figure)
    assert len(bars) == 5
    assert abs(bars[:, 1].sum() - change) < 1e-5
    # Read from the bottom: the walk starts at E[f] and each bar starts where the one below ends.
    assert abs(bars[-1, 0] - data["base"]) < 1e-12
    np.testing.assert_allclose(bars[:-1, 0], bars[1:, 0] + bars[1:, 1], atol=1e-12)
    assert abs(bars[0, 0] + bars[0, 1] - _score(e, i)) < 1e-5
    # The strongest at the top.
    np.testing.assert_allclose(np.abs(bars[:, 1]), np.sort(np.abs(e.attributions[i]))[::-1], rtol=1e-6)


def test_waterfall_folds_the_weakest_features(shap_explanations):
    e = shap_explanations["deepshap"]
    data = viz.waterfall_plot(e, 3, max_features=3).keras_explain_data
    weights = e.attributions[3].astype(np.float64)
    order = np.argsort(-np.abs(weights), kind="stable")
    assert data["features"] == [int(order[0]), int(order[1]), -1]
    assert data["labels"][-1] == "3 other features" and data["other_count"] == 3
    np.testing.assert_allclose(data["values"], [weights[order[0]], weights[order[1]], weights[order[2:]].sum()])
    assert data["labels"][0] == f"x{order[0]} = {e.inputs[3, order[0]]:.4g}"


def test_waterfall_bases_of_other_methods(linear_model, rows):
    ig = kx.IntegratedGradients(linear_model, steps=8, verbose=0).explain(rows)
    data = viz.waterfall_plot(ig, 1).keras_explain_data
    assert data["base_source"] == "baseline_scores" and data["base"] == float(ig.baseline_scores[1])
    # On a linear model Integrated Gradients is exact: the walk ends at f(x).
    assert abs(data["end"] - _score(ig, 1)) < 1e-5
    saliency = kx.GradientSaliency(linear_model, verbose=0).explain(rows)
    data = viz.waterfall_plot(saliency, 2).keras_explain_data
    assert data["base_source"] == "f(x) - sum(attributions)"
    expected = _score(saliency, 2) - saliency.attributions[2].astype(np.float64).sum()
    assert data["base"] == pytest.approx(expected, rel=1e-12)
    assert data["gap"] == pytest.approx(0.0, abs=1e-9)


def test_force_plot_pushes_meet_at_the_output(shap_explanations):
    e = shap_explanations["kernel_shap"]
    data = viz.force_plot(e, 5, max_features=10).keras_explain_data
    weights = e.attributions[5].astype(np.float64)
    positive = sum(v for _, v, _ in data["positive"])
    negative = sum(v for _, v, _ in data["negative"])
    np.testing.assert_allclose(positive, weights[weights > 0].sum())
    np.testing.assert_allclose(negative, weights[weights < 0].sum())
    assert abs(positive + negative - (_score(e, 5) - float(e.expected_value[5]))) < 1e-5
    end = data["end"]
    # The red block ends at the output, the blue one starts there.
    first_red, first_blue = data["positive"][0], data["negative"][0]
    assert first_red[2] + first_red[1] == pytest.approx(end, abs=1e-12)
    assert first_blue[2] == pytest.approx(end, abs=1e-12)
    widths = sorted(p.get_width() for p in viz.force_plot(e, 5).axes[0].patches)
    np.testing.assert_allclose(widths, np.sort(np.abs(weights[weights != 0])))


def test_force_plot_folds_per_side(shap_explanations):
    e = shap_explanations["deepshap"]
    data = viz.force_plot(e, 0, max_features=2).keras_explain_data
    weights = e.attributions[0].astype(np.float64)
    drawn = data["positive"] + data["negative"]
    assert sum(1 for label, _, _ in drawn if "other feature" in label) >= 1
    np.testing.assert_allclose(sum(v for _, v, _ in drawn), weights.sum())


@pytest.fixture(scope="module")
def lime(method_cases):
    case = method_cases["lime_tabular"]
    return case.build().explain(case.x, verbose=0)


def test_lime_list_view_is_as_list_with_the_predictions(lime):
    figure = viz.lime_list_plot(lime, 2)
    data = figure.keras_explain_data
    assert data["features"] == lime.as_list(2)
    assert [label for label, _ in data["values"]] == [
        str(lime.feature_names[j]) for j in np.flatnonzero(lime.used[2])[np.argsort(
            -np.abs(lime.attributions[2][lime.used[2]]), kind="stable")]
    ]
    row = lime.predictions[2].astype(np.float64)
    assert [score for _, score, _ in data["probabilities"]] == sorted(row, reverse=True)
    assert [explained for _, _, explained in data["probabilities"]].index(True) == int(
        np.flatnonzero(np.argsort(-row, kind="stable") == lime.targets[2])[0])
    middle = figure.axes[1]
    widths = sorted(p.get_width() for p in middle.patches)
    np.testing.assert_allclose(widths, sorted(w for _, w in lime.as_list(2)))


def test_lime_list_view_folds_small_probabilities():
    predictions = np.array([[0.05, 0.5, 0.2, 0.15, 0.1]])
    e = kx.Explanation(np.array([[0.3, -0.2]]), np.array([[1.0, 2.0]]), [1], predictions, "lime_tabular")
    data = viz.lime_list_plot(e, 0, top_classes=2).keras_explain_data
    assert [label for label, _, _ in data["probabilities"]] == ["1", "2", "other"]
    np.testing.assert_allclose([s for _, s, _ in data["probabilities"]], [0.5, 0.2, 0.3])
    assert data["values"] == [("x0", "1"), ("x1", "2")]


def test_local_plot_errors(shap_explanations):
    e = shap_explanations["deepshap"]
    with pytest.raises(ValueError) as error:
        viz.waterfall_plot(e, 11)
    assert str(error.value) == "i: expected an example index between 0 and 10, received 11."
    with pytest.raises(ValueError) as error:
        viz.force_plot(e, 0, max_features=0)
    assert str(error.value) == "max_features: expected an integer >= 1, received 0."
