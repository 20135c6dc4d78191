"""Tiny seeded models and small datasets for the tests.

Every function builds its model or data afresh from a fixed seed, so two
calls give identical weights and values. tests/conftest.py builds each once
per session as a fixture of the same name.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

N_FEATURES = 5
N_CLASSES = 3


# -- tabular ------------------------------------------------------------------------


def linear_weights(seed=0):
    """(kernel (N_FEATURES, N_CLASSES), bias (N_CLASSES,)), float32 normal draws."""
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=(N_FEATURES, N_CLASSES)).astype("float32")
    bias = rng.normal(size=(N_CLASSES,)).astype("float32")
    return kernel, bias


class LinearSubclass(keras.Model):
    """A subclassed model: one Dense layer."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(N_CLASSES)

    def call(self, inputs):
        return self.dense(inputs)


def _set_dense(model, kernel, bias):
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][0]
    dense.set_weights([kernel, bias])
    return model


def linear_models(kernel, bias):
    """The same linear map y = x W + b as {"sequential", "functional", "subclassed"} models."""
    sequential = keras.Sequential([keras.Input((N_FEATURES,)), keras.layers.Dense(N_CLASSES)])
    inputs = keras.Input((N_FEATURES,))
    functional = keras.Model(inputs, keras.layers.Dense(N_CLASSES)(inputs))
    subclassed = LinearSubclass()
    subclassed(np.zeros((1, N_FEATURES), "float32"))
    return {
        "sequential": _set_dense(sequential, kernel, bias),
        "functional": _set_dense(functional, kernel, bias),
        "subclassed": _set_dense(subclassed, kernel, bias),
    }


def rows(count=11, seed=1):
    """`count` float32 rows of N_FEATURES standard normal values."""
    return np.random.default_rng(seed).normal(size=(count, N_FEATURES)).astype("float32")


def tanh_mlp(seed=2):
    """N_FEATURES -> 16 tanh -> 16 tanh -> N_CLASSES logits, untrained."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((N_FEATURES,)),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Dense(N_CLASSES),
        ]
    )


def regressor(seed=3):
    """N_FEATURES -> 8 tanh -> 1 output, untrained."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input((N_FEATURES,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)]
    )


# -- images -------------------------------------------------------------------------


def small_cnn(seed=4):
    """12x12x2 images -> conv_a -> conv_b -> pool -> head (N_CLASSES logits), untrained."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((12, 12, 2)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv_a"),
            keras.layers.Conv2D(6, 3, activation="relu", name="conv_b"),
            keras.layers.GlobalAveragePooling2D(name="pool"),
            keras.layers.Dense(N_CLASSES, name="head"),
        ],
        name="small_cnn",
    )


def images(count=7, seed=5):
    """`count` float32 12x12x2 images, uniform in [0, 1), the input of `small_cnn`."""
    return np.random.default_rng(seed).uniform(size=(count, 12, 12, 2)).astype("float32")


def quadrant_images(count, size=16, seed=0):
    """Noisy images with one bright 4x4 square; the label is its quadrant.

    Quadrants: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.3, size=(count, size, size, 1)).astype("float32")
    y = rng.integers(0, 4, size=count)
    half = size // 2
    for i, label in enumerate(y):
        top = (label // 2) * half + rng.integers(0, half - 4 + 1)
        left = (label % 2) * half + rng.integers(0, half - 4 + 1)
        x[i, top : top + 4, left : left + 4, 0] = 1.0
    return x, y


class GatedCoordinates(keras.layers.Layer):
    """Append each pixel's row and column in [-1, 1], multiplied by its value.

    Bright pixels carry their position; dark background carries almost none.
    """

    def call(self, x):
        height, width = x.shape[1], x.shape[2]
        rows = keras.ops.repeat(keras.ops.linspace(-1.0, 1.0, height)[:, None], width, axis=1)
        cols = keras.ops.repeat(keras.ops.linspace(-1.0, 1.0, width)[None, :], height, axis=0)
        grid = keras.ops.cast(keras.ops.stack([rows, cols], axis=-1)[None], x.dtype)
        return keras.ops.concatenate([x, x * grid], axis=-1)


def quadrant_task(seed=6, train_seed=7, test_seed=8):
    """A small CNN trained to tell which quadrant holds the bright square.

    It sees value-weighted pixel coordinates next to the image (so that
    position is a local feature) and ends in global average pooling, the
    architecture Grad-CAM was derived for.

    Returns:
        (model, x_test, y_test, test accuracy) on 200 test images.
    """
    keras.utils.set_random_seed(seed)
    x_train, y_train = quadrant_images(2000, seed=train_seed)
    x_test, y_test = quadrant_images(200, seed=test_seed)
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            GatedCoordinates(),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="last_conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=4, batch_size=64, verbose=0)
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
    return model, x_test, y_test, accuracy
