"""What LIME explanations look like: image masks by class id, tabular bar charts."""

import keras
import numpy as np
import pytest

import keras_explain as kx
from keras_explain import viz

SIZE = 16
CLASSES = 5


def _grid(count, cells=4):
    """(count, SIZE, SIZE) labels: a regular grid of cells x cells superpixels."""
    step = SIZE // cells
    rows, cols = np.indices((SIZE, SIZE)) // step
    return np.repeat((rows * cells + cols)[None].astype(np.int64), count, axis=0)


@pytest.fixture(scope="module")
def image_explanation():
    """A LimeImage explanation of two images with top_labels=2.

    The last layer's bias makes class 3 the prediction and class 4 the runner-up, so the
    second explained label (4) is no valid position in `labels[i]` (of length 2).
    """
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    dense = model.layers[-1]
    kernel, _ = dense.get_weights()
    dense.set_weights([kernel, np.array([0.0, 0.0, 0.0, 3.0, 2.0], np.float32)])
    images = np.random.default_rng(0).uniform(0.0, 1.0, (2, SIZE, SIZE, 3)).astype("float32")
    lime = kx.LimeImage(model, num_samples=40, segmentation=_grid(2), random_state=0)
    return lime.explain(images, top_labels=2)


def _mask_by_hand(e, i, position, num_features, positive_only):
    """The mask the docstring of `lime_image_and_mask` describes, from `segment_weights`."""
    weights = e.segment_weights[i, position, : int(e.num_segments[i])]
    order = np.argsort(-np.abs(weights), kind="stable")
    if positive_only:
        chosen = [f for f in order if weights[f] > 0][:num_features]
        return np.isin(e.segments[i], chosen).astype(np.int64)
    mask = np.zeros(e.segments[i].shape, np.int64)
    for f in order[:num_features]:
        mask[e.segments[i] == f] = 1 if weights[f] > 0 else -1
    return mask


def test_image_mask_takes_the_class_id_as_label(image_explanation):
    e = image_explanation
    np.testing.assert_array_equal(e.labels, [[3, 4], [3, 4]])
    # The two explained labels have different surrogates, so the masks tell them apart.
    assert not np.allclose(e.segment_weights[:, 0], e.segment_weights[:, 1])
    for positive_only in (True, False):
        kwargs = dict(num_features=3, positive_only=positive_only)
        for i in (0, 1):
            _, mask = viz.lime_image_and_mask(e, i, label=int(e.labels[i, 1]), **kwargs)
            expected = _mask_by_hand(e, i, 1, 3, positive_only)
            np.testing.assert_array_equal(mask, expected)
            _, by_position = viz.lime_image_and_mask(e, i, label_index=1, **kwargs)
            np.testing.assert_array_equal(by_position, expected)
            # Without either, the target: label_index 0.
            _, default = viz.lime_image_and_mask(e, i, **kwargs)
            np.testing.assert_array_equal(default, _mask_by_hand(e, i, 0, 3, positive_only))
    _, mask = viz.lime_image_and_mask(e, 0, label=np.int64(3), positive_only=False, num_features=16)
    np.testing.assert_array_equal(mask, np.sign(e.segment_weights[0, 0])[e.segments[0]])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"label": 0},
            "label: expected one of the labels explained for image 1, [3, 4], received 0.",
        ),
        (
            {"label": 2.0},
            "label: expected an integer class id, one of the labels explained for image 1, "
            "[3, 4], received 2.0.",
        ),
        (
            {"label_index": 2},
            "label_index: expected a position in labels[1] between 0 and 1, received 2.",
        ),
        (
            {"label_index": -1},
            "label_index: expected a position in labels[1] between 0 and 1, received -1.",
        ),
        (
            {"label": 4, "label_index": 1},
            "label_index: expected None when label is given, received 1.",
        ),
    ],
    ids=["unexplained_label", "float_label", "position_too_large", "negative_position", "both"],
)
def test_image_mask_rejects_labels_and_positions(image_explanation, kwargs, message):
    with pytest.raises(ValueError) as error:
        viz.lime_image_and_mask(image_explanation, 1, **kwargs)
    assert str(error.value) == message


def test_image_mask_rejects_images_out_of_range(image_explanation):
    with pytest.raises(ValueError) as error:
        viz.lime_image_and_mask(image_explanation, 2, label=3)
    assert str(error.value) == "index: expected an image index between -2 and 1, received 2."
    _, last = viz.lime_image_and_mask(image_explanation, -1, label=4)
    _, second = viz.lime_image_and_mask(image_explanation, 1, label=4)
    np.testing.assert_array_equal(last, second)


@pytest.fixture(scope="module")
def tabular_explainer():
    """LimeTabular on a tiny untrained MLP, with feature and class names."""
    keras.utils.set_random_seed(5)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    training = np.random.default_rng(1).normal(size=(60, 4)).astype("float32")
    lime = kx.LimeTabular(
        model,
        training,
        feature_names=["sepal length", "sepal width", "petal length", "petal width"],
        class_names=["no", "yes"],
        random_state=0,
        num_samples=200,
    )
    return lime, training[:3]


@pytest.fixture(scope="module")
def tabular_explanation(tabular_explainer):
    """The explanation of three rows, for their predicted classes."""
    lime, rows = tabular_explainer
    return lime.explain(rows)


def _strongest_labels(e, i):
    """The feature conditions of row `i` by decreasing |weight| (ties in column order)."""
    order = np.argsort(-np.abs(e.attributions[i]), kind="stable")
    return [str(e.feature_labels[i][j]) for j in order]


def _name(e, output):
    return f"{int(output)} {e.class_names[int(output)]!r}"


def test_tabular_plot_labels_bars_with_conditions_and_titles_with_class_names(
    tabular_explanation,
):
    e = tabular_explanation
    assert e.class_names == ["no", "yes"]
    figure = e.plot()
    assert len(figure.axes) == 3
    for i, axis in enumerate(figure.axes):
        ticks = [text.get_text() for text in axis.get_yticklabels()]
        assert ticks == _strongest_labels(e, i)[::-1]  # the strongest at the top
        widths = [bar.get_width() for bar in axis.patches]
        np.testing.assert_allclose(widths, sorted(e.attributions[i], key=abs))
        target = int(e.targets[i])
        score = e.predictions[i, target]
        expected = f"#{i} explained: {_name(e, target)} ({score:.3g})"
        predicted = int(np.argmax(e.predictions[i]))
        if predicted != target:
            expected += f"; predicted: {_name(e, predicted)} ({e.predictions[i, predicted]:.3g})"
        assert axis.get_title() == expected
    # top_k keeps the strongest.
    axis = e.plot(indices=[1], top_k=2).axes[0]
    assert [t.get_text() for t in axis.get_yticklabels()] == _strongest_labels(e, 1)[:2][::-1]
    assert axis.get_title().startswith(f"#1 explained: {_name(e, e.targets[1])} (")


def test_tabular_plot_titles_the_explained_and_the_predicted_class(tabular_explainer):
    lime, rows = tabular_explainer
    predicted = lime.explain(rows[:1]).targets[0]
    e = lime.explain(rows[:1], targets=1 - predicted)
    assert e.targets[0] == 1 - predicted
    title = e.plot().axes[0].get_title()
    scores = e.predictions[0]
    assert title == (
        f"#0 explained: {_name(e, 1 - predicted)} ({scores[1 - predicted]:.3g}); "
        f"predicted: {_name(e, predicted)} ({scores[predicted]:.3g})"
    )


def test_tabular_plot_without_class_names_and_with_bad_ones(tabular_explanation):
    e = tabular_explanation
    unnamed = kx.Explanation(
        e.attributions, e.inputs, e.targets, e.predictions, "lime_tabular",
        feature_labels=e.feature_labels,
    )
    axis = kx.viz.plot_explanation(unnamed, indices=[0]).axes[0]
    target = int(e.targets[0])
    assert axis.get_title().startswith(f"#0 explained: {target} ({e.predictions[0, target]:.3g})")
    assert [t.get_text() for t in axis.get_yticklabels()] == _strongest_labels(e, 0)[::-1]
    unnamed.class_names = ["only one"]
    with pytest.raises(ValueError) as error:
        kx.viz.plot_explanation(unnamed, indices=[0])
    assert str(error.value) == "class_names: expected 2 names, one per output, received 1."


def test_tabular_contact_sheet_shows_conditions_and_class_names(tabular_explanation):
    e = tabular_explanation
    figure = viz.contact_sheet(e, top_k=3)
    cells = [axis for axis in figure.axes if axis.patches]
    assert len(cells) == 3
    for i, axis in enumerate(cells):
        ticks = [text.get_text() for text in axis.get_yticklabels()]
        assert ticks == _strongest_labels(e, i)[:3][::-1]
        predicted = int(np.argmax(e.predictions[i]))
        lines = [f"#{i}", f"{_name(e, predicted)} ({e.predictions[i, predicted]:.3g})"]
        if int(e.targets[i]) != predicted:
            lines.append(f"explains {_name(e, int(e.targets[i]))}")
        assert axis.get_title() == "\n".join(lines)
