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


# -- text: token ids (N, T) into an Embedding layer -----------------------------------

TEXT_VOCABULARY, TEXT_STEPS, TEXT_DIM = 20, 6, 4


def linear_text_model(seed=0, sequential=False, mask_zero=False):
    """ids (N, 6) -> Embedding(20, 4) -> GlobalAveragePooling1D -> Dense(3): linear in the embeddings."""
    keras.utils.set_random_seed(seed)
    layers = [
        keras.layers.Embedding(TEXT_VOCABULARY, TEXT_DIM, mask_zero=mask_zero, name="tokens"),
        keras.layers.GlobalAveragePooling1D(name="mean"),
        keras.layers.Dense(N_CLASSES, name="head"),
    ]
    if sequential:
        return keras.Sequential([keras.Input((TEXT_STEPS,))] + layers)
    ids = keras.Input((TEXT_STEPS,), dtype="int32")
    h = ids
    for layer in layers:
        h = layer(h)
    return keras.Model(ids, h)


def conv_text_model(seed=1):
    """ids (N, 6) -> Embedding(20, 8) -> Conv1D(8, 3, relu) -> GlobalMaxPooling1D -> Dense(3)."""
    keras.utils.set_random_seed(seed)
    ids = keras.Input((TEXT_STEPS,), dtype="int32")
    h = keras.layers.Embedding(TEXT_VOCABULARY, 8)(ids)
    h = keras.layers.Conv1D(8, 3, padding="same", activation="relu")(h)
    h = keras.layers.GlobalMaxPooling1D()(h)
    return keras.Model(ids, keras.layers.Dense(N_CLASSES, activation="tanh")(h))


def lstm_text_model(seed=2):
    """ids (N, 6) -> Embedding(20, 4, mask_zero=True) -> LSTM(5) -> Dense(3)."""
    keras.utils.set_random_seed(seed)
    ids = keras.Input((TEXT_STEPS,), dtype="int32")
    h = keras.layers.LSTM(5)(keras.layers.Embedding(TEXT_VOCABULARY, TEXT_DIM, mask_zero=True, name="tokens")(ids))
    return keras.Model(ids, keras.layers.Dense(N_CLASSES)(h))


class SubclassedText(keras.Model):
    """Token ids -> Embedding -> mean -> Dense, as a subclassed model."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.tokens = keras.layers.Embedding(TEXT_VOCABULARY, TEXT_DIM)
        self.mean = keras.layers.GlobalAveragePooling1D()
        self.head = keras.layers.Dense(N_CLASSES)

    def call(self, ids):
        return self.head(self.mean(self.tokens(ids)))


def token_ids(count, seed, padded=False):
    """`count` rows of TEXT_STEPS ids in 1..19, optionally ending in padding (id 0)."""
    ids = np.random.default_rng(seed).integers(1, TEXT_VOCABULARY, (count, TEXT_STEPS)).astype("int32")
    if padded:
        # Example i keeps its first TEXT_STEPS - i % 3 tokens; the rest is padding (id 0).
        for i in range(count):
            ids[i, TEXT_STEPS - i % 3 :] = 0
    return ids


KEYWORD, KEYWORD_STEPS, KEYWORD_VOCABULARY = 7, 12, 30


def keyword_data(count, seed):
    """Random ids in 1..29 without the keyword; label 1 rows get the keyword at a random position."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, KEYWORD_VOCABULARY, (count, KEYWORD_STEPS))
    ids[ids == KEYWORD] = KEYWORD + 1
    labels = rng.integers(0, 2, count)
    where = rng.integers(0, KEYWORD_STEPS, count)
    ids[labels == 1, where[labels == 1]] = KEYWORD
    return ids.astype("int32"), labels


def keyword_task():
    """A tiny Embedding -> Conv1D(k=1, relu) -> max -> Dense(2) model trained to spot the keyword.

    Returns:
        (model, test ids (200, 12), test labels (200,)); training takes about two seconds.
    """
    keras.utils.set_random_seed(11)
    ids = keras.Input((KEYWORD_STEPS,), dtype="int32")
    h = keras.layers.Embedding(KEYWORD_VOCABULARY, 8)(ids)
    h = keras.layers.GlobalMaxPooling1D()(keras.layers.Conv1D(8, 1, activation="relu")(h))
    model = keras.Model(ids, keras.layers.Dense(2)(h))
    model.compile(keras.optimizers.Adam(0.02), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = keyword_data(2000, seed=0)
    model.fit(x, y, epochs=6, batch_size=64, verbose=0)
    test_x, test_y = keyword_data(200, seed=1)
    return model, test_x, test_y
