"""Grad-CAM++ against the paper's closed form written out with a GradientTape."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_explain.engine.registry import build_explainer, explainer_class
from keras_explain.methods.gradients.gradcam import GradCAM, GradCAMPlusPlus
from keras_explain.methods.gradients.smoothgrad import SmoothGrad


def closed_form(split, x, targets, relu=True):
    """Grad-CAM++ maps (N, H, W) in float64; split(x) -> (feature maps A, outputs y)."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        maps, y = split(x)
        score = tf.reduce_sum(y * tf.one_hot(targets, y.shape[-1]), axis=1)
    g = tape.gradient(score, maps).numpy().astype(np.float64)
    a = maps.numpy().astype(np.float64)
    denominator = 2.0 * g**2 + a.sum(axis=(1, 2), keepdims=True) * g**3
    zero = denominator == 0.0
    alpha = np.where(zero, 0.0, g**2 / np.where(zero, 1.0, denominator))
    weights = np.sum(alpha * np.clip(g, 0.0, None), axis=(1, 2))
    cam = np.einsum("nhwk,nk->nhw", a, weights)
    if relu:
        cam = np.clip(cam, 0.0, None)
    size = x.shape[1:3]
    return tf.image.resize(cam[..., None].astype(np.float32), size, method="bilinear")[..., 0].numpy()


def _assert_maps_equal(actual, expected):
    assert actual.shape == expected.shape
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def _through(model, layer_name):
    inner = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.outputs[0]])
    return lambda x: tuple(inner(x))


def test_small_cnn_last_convolution(small_cnn, images):
    explainer = GradCAMPlusPlus(small_cnn)
    assert explainer.layer_name == "conv_b"
    e = explainer.explain(images)
    np.testing.assert_array_equal(e.targets, np.argmax(small_cnn(images).numpy(), axis=1))
    np.testing.assert_allclose(e.predictions, small_cnn(images).numpy(), rtol=1e-6, atol=1e-6)
    assert e.method == "gradcam_plus_plus"
    _assert_maps_equal(e.attributions, closed_form(_through(small_cnn, "conv_b"), images, e.targets))


def test_small_cnn_earlier_layer(small_cnn, images):
    # conv_a's gradient varies over positions (conv_b's relu lies between), unlike conv_b's.
    targets = (np.arange(len(images)) + 1) % 3
    e = GradCAMPlusPlus(small_cnn, layer="conv_a").explain(images, targets=targets)
    expected = closed_form(_through(small_cnn, "conv_a"), images, targets)
    _assert_maps_equal(e.attributions, expected)
    # Feature maps >= 0 (after a relu) get weights >= 0: the final relu changes nothing.
    signed = GradCAMPlusPlus(small_cnn, layer="conv_a", relu=False).explain(images, targets=targets)
    np.testing.assert_array_equal(signed.attributions, e.attributions)


def _nested(style):
    """A base model ending in a linear convolution (feature maps of both signs) and a head."""
    keras.utils.set_random_seed(21)
    inputs = keras.Input((12, 12, 2))
    hidden = keras.layers.Conv2D(4, 3, activation="tanh", name="base_first")(inputs)
    hidden = keras.layers.Conv2D(5, 3, name="base_last")(hidden)
    base = keras.Model(inputs, hidden, name="base")
    head = keras.Sequential(
        [
            keras.Input((8, 8, 5)),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dense(3),
        ],
        name="head",
    )
    if style == "sequential":
        return keras.Sequential([base, head]), base, head
    outer = keras.Input((12, 12, 2))
    return keras.Model(outer, head(base(outer)), name="outer"), base, head


@pytest.mark.parametrize("style", ["sequential", "functional"])
def test_convolution_inside_a_nested_base_model(images, style):
    model, base, head = _nested(style)
    explainer = GradCAMPlusPlus(model)
    assert explainer.layer_name == "base/base_last"
    e = explainer.explain(images)

    def split(x):
        maps = base(x)
        return maps, head(maps)

    _assert_maps_equal(e.attributions, closed_form(split, images, e.targets))
    signed = GradCAMPlusPlus(model, relu=False).explain(images)
    expected = closed_form(split, images, e.targets, relu=False)
    assert expected.min() < 0 < expected.max()
    _assert_maps_equal(signed.attributions, expected)
    for layer in ("base/base_last", "base_last", base.get_layer("base_last")):
        again = GradCAMPlusPlus(model, layer=layer).explain(images)
        np.testing.assert_array_equal(again.attributions, e.attributions)


def _quadrant_of_peaks(maps):
    """0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right, per map."""
    height, width = maps.shape[1:3]
    peak = maps.reshape(len(maps), -1).argmax(axis=1)
    return 2 * (peak // width >= height // 2) + (peak % width >= width // 2)


def test_pointing_game_on_the_quadrant_task(quadrant_task):
    model, x_test, y_test, accuracy = quadrant_task
    assert accuracy > 0.95
    explainer = GradCAMPlusPlus(model)
    assert explainer.layer_name == "last_conv"
    e = explainer.explain(x_test, verbose=0)
    correct = e.targets == y_test
    assert correct.sum() >= 150
    hits = np.mean(_quadrant_of_peaks(e.attributions[correct]) == y_test[correct])
    assert hits >= 0.9, hits


def test_batch_size_does_not_change_the_maps(small_cnn, images):
    targets = np.arange(len(images)) % 3
    whole = GradCAMPlusPlus(small_cnn, layer="conv_a").explain(images, targets=targets)
    scale = np.abs(whole.attributions).max()
    for batch_size in (1, 3):
        part = GradCAMPlusPlus(small_cnn, layer="conv_a", batch_size=batch_size).explain(images, targets)
        np.testing.assert_allclose(part.attributions, whole.attributions, rtol=1e-6, atol=1e-6 * scale)
        np.testing.assert_array_equal(part.targets, whole.targets)


def test_config_round_trip(small_cnn, images):
    explainer = GradCAMPlusPlus(small_cnn, layer=small_cnn.get_layer("conv_a"), relu=False, batch_size=4)
    config = explainer.get_config()
    assert config == {
        "output": None,
        "batch_size": 4,
        "run_eagerly": False,
        "verbose": "auto",
        "layer": "conv_a",
        "relu": False,
    }
    rebuilt = GradCAMPlusPlus.from_config(config, small_cnn)
    assert rebuilt.get_config() == config
    assert rebuilt.layer_name == "conv_a"
    np.testing.assert_array_equal(
        rebuilt.explain(images, verbose=0).attributions, explainer.explain(images, verbose=0).attributions
    )


def test_registered_names_and_smoothing(small_cnn, images):
    for name in ("gradcam_plus_plus", "grad_cam_plus_plus", "gradcampp", "GradCAMPlusPlus"):
        assert explainer_class(name) is GradCAMPlusPlus
    built, options = build_explainer(small_cnn, "gradcampp", layer="conv_a", relu=False)
    assert options == {} and built.get_config()["layer"] == "conv_a" and built.relu is False
    assert GradCAMPlusPlus.smoothable and GradCAMPlusPlus.computes_predictions
    # Without noise every copy is the example itself: the mean is the plain map.
    plain = GradCAMPlusPlus(small_cnn).explain(images, targets=1)
    smoothed = SmoothGrad(GradCAMPlusPlus(small_cnn), samples=3, noise=0.0).explain(images, targets=1)
    np.testing.assert_allclose(smoothed.attributions, plain.attributions, rtol=1e-6, atol=1e-7)


def _message(build):
    with pytest.raises(ValueError) as error:
        build()
    return str(error.value)


def test_errors_are_those_of_gradcam(small_cnn, linear_model, images):
    missing = _message(lambda: GradCAMPlusPlus(small_cnn, layer="conv_z"))
    assert missing == _message(lambda: GradCAM(small_cnn, layer="conv_z"))
    assert missing == (
        "layer: expected the name of a layer in model 'small_cnn' (the last ones are 'conv_a', "
        "'conv_b', 'pool', 'head'), received 'conv_z'."
    )
    no_convolution = _message(lambda: GradCAMPlusPlus(linear_model))
    assert no_convolution == _message(lambda: GradCAM(linear_model))
    assert no_convolution == (
        "layer: expected a model with a 2D convolution to pick automatically, received model "
        f"{linear_model.name!r} with none; pass layer= the name of a layer whose output is a "
        "feature map (N, h, w, c)."
    )
    flat = _message(lambda: GradCAMPlusPlus(small_cnn, layer="head").explain(images))
    assert flat == _message(lambda: GradCAM(small_cnn, layer="head").explain(images))
    assert flat == (
        "layer: expected a layer with a feature-map output (N, h, w, c), received 'head' with "
        "output shape (None, 3)."
    )
    assert _message(lambda: GradCAMPlusPlus(small_cnn, relu="yes")) == (
        "relu: expected True or False, received 'yes'."
    )
