"""Grad-CAM against a hand-written GradientTape Grad-CAM, nested models included."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_explain as kx


def hand_gradcam(feature_model, head, x, targets):
    """Grad-CAM written out: feature_model(x) -> (A, y) or A with head(A) -> y."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        if head is None:
            features, y = feature_model(x)
        else:
            features = feature_model(x)
            tape.watch(features)
            y = head(features)
        score = tf.gather(y, targets, batch_dims=1)
    gradient = tape.gradient(score, features)
    weights = tf.reduce_mean(gradient, axis=(1, 2))
    cam = tf.nn.relu(tf.einsum("bhwc,bc->bhw", features, weights))
    return tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear")[..., 0].numpy()


def test_matches_hand_written(small_cnn, images):
    e = kx.GradCAM(small_cnn).explain(images)
    assert e.config["layer"] == "conv_b"
    features = keras.Model(small_cnn.inputs, [small_cnn.get_layer("conv_b").output, small_cnn.outputs[0]])
    expected = hand_gradcam(lambda x: features(x), None, images, e.targets)
    assert e.attributions.shape == images.shape[:3]
    assert expected.max() > 0
    np.testing.assert_allclose(e.attributions, expected, atol=1e-6 * expected.max())
    np.testing.assert_array_equal(e.targets, np.argmax(small_cnn(images).numpy(), axis=1))


def test_named_earlier_layer_and_no_relu(small_cnn, images):
    targets = np.arange(len(images)) % 3
    e = kx.GradCAM(small_cnn, layer="conv_a", relu=False).explain(images, targets)
    features = keras.Model(small_cnn.inputs, [small_cnn.get_layer("conv_a").output, small_cnn.outputs[0]])
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        a, y = features(x)
        score = tf.gather(y, targets, batch_dims=1)
    weights = tf.reduce_mean(tape.gradient(score, a), axis=(1, 2))
    cam = tf.einsum("bhwc,bc->bhw", a, weights)
    expected = tf.image.resize(cam[..., None], (12, 12))[..., 0].numpy()
    assert expected.min() < 0
    np.testing.assert_allclose(e.attributions, expected, atol=1e-6 * np.abs(expected).max())


def _base_and_head():
    keras.utils.set_random_seed(11)
    inputs = keras.Input((12, 12, 2))
    hidden = keras.layers.Conv2D(5, 3, activation="relu", name="base_conv1")(inputs)
    hidden = keras.layers.Conv2D(6, 3, activation="relu", name="base_conv2")(hidden)
    base = keras.Model(inputs, hidden, name="base")
    head = keras.Sequential(
        [keras.Input((8, 8, 6)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)],
        name="head",
    )
    return base, head


@pytest.mark.parametrize("style", ["sequential", "functional"])
def test_nested_base_model(images, style):
    base, head = _base_and_head()
    if style == "sequential":
        model = keras.Sequential([base, head])
    else:
        inputs = keras.Input((12, 12, 2))
        model = keras.Model(inputs, head(base(inputs)))
    explainer = kx.GradCAM(model)
    assert explainer.layer_name == "base/base_conv2"
    e = explainer.explain(images)
    expected = hand_gradcam(base, head, images, e.targets)
    assert expected.max() > 0
    np.testing.assert_allclose(e.attributions, expected, atol=1e-6 * expected.max())
    by_path = kx.GradCAM(model, layer="base/base_conv2").explain(images)
    np.testing.assert_allclose(by_path.attributions, e.attributions)


class TwoConvNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.first = keras.layers.Conv2D(4, 3, activation="relu")
        self.second = keras.layers.Conv2D(4, 3, activation="relu")
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.out = keras.layers.Dense(3)

    def call(self, x):
        return self.out(self.pool(self.second(self.first(x))))


def test_subclassed_model(images):
    keras.utils.set_random_seed(12)
    model = TwoConvNet()
    model(images[:1])
    e = kx.GradCAM(model).explain(images)
    first_part = lambda x: model.second(model.first(x))  # noqa: E731
    expected = hand_gradcam(first_part, lambda a: model.out(model.pool(a)), images, e.targets)
    np.testing.assert_allclose(e.attributions, expected, atol=1e-6 * expected.max())


def test_layer_without_feature_map(small_cnn, images):
    explainer = kx.GradCAM(small_cnn, layer="head")
    with pytest.raises(ValueError) as error:
        explainer.explain(images)
    assert str(error.value) == (
        "layer: expected a layer with a feature-map output (N, h, w, c), received 'head' with "
        "output shape (None, 3)."
    )
