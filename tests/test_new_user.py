"""What a new user meets: stale values, infinite datasets, string columns, small images."""

import glob
import os

import keras
import numpy as np
import pytest

import keras_explain as kx
from keras_explain.callbacks import ExplanationLogger


def _mlp(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(3),
        ]
    )


def _scale_weights(model, factor):
    model.set_weights([w * factor for w in model.get_weights()])


def test_shap_expected_value_follows_new_weights():
    model = _mlp(0)
    rng = np.random.default_rng(0)
    background = rng.normal(size=(16, 4)).astype("float32")
    x = rng.normal(size=(5, 4)).astype("float32")
    deep = kx.DeepShap(model, background)
    gradient = kx.GradientShap(model, background, samples=64, random_state=0)
    before = deep.explain(x, targets=0)
    _scale_weights(model, 1.7)
    mean = model.predict(background, verbose=0).astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(deep.expected_value, mean, rtol=1e-6)
    after = deep.explain(x, targets=0)  # raised AdditivityError with stale E[f]
    np.testing.assert_allclose(after.expected_value, np.full(5, mean[0]), rtol=1e-6)
    scores = model.predict(x, verbose=0)[:, 0].astype(np.float64)
    np.testing.assert_allclose(after.attributions.sum(axis=1), scores - mean[0], atol=1e-5)
    assert abs(after.additivity_gap).max() < 1e-5
    assert not np.allclose(before.expected_value, after.expected_value)
    shap = gradient.explain(x, targets=0)
    np.testing.assert_allclose(shap.expected_value, np.full(5, mean[0]), rtol=1e-6)


def test_the_callback_explains_with_deepshap_every_epoch(tmp_path):
    model = _mlp(1)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    rng = np.random.default_rng(1)
    x_train = rng.normal(size=(64, 4)).astype("float32")
    y_train = rng.normal(size=(64, 3)).astype("float32")
    background = x_train[:8]
    logger = ExplanationLogger(
        "deepshap",
        x_train[:3],
        tmp_path,
        formats=("png", "npz"),
        method_options={"background": background},
        on_error="raise",
    )
    model.fit(x_train, y_train, epochs=3, batch_size=16, verbose=0, callbacks=[logger])
    folder = os.path.join(tmp_path, "explanations")
    saved = sorted(glob.glob(os.path.join(folder, "npz", "*.npz")))
    assert [os.path.basename(p) for p in saved] == [
        f"deepshap_epoch_{epoch:04d}.npz" for epoch in (0, 1, 2)
    ]
    pictures = sorted(glob.glob(os.path.join(folder, "png", "*.png")))
    assert len(pictures) == 3 * 3
    from PIL import Image

    with Image.open(pictures[-1]) as picture:
        assert picture.size[0] > 32 and picture.size[1] > 32
    last = kx.Explanation.load(saved[-1])
    mean = model.predict(background, verbose=0).astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(last.expected_value, mean[last.targets], rtol=1e-5)
    assert abs(last.additivity_gap).max() < 1e-5
    first = kx.Explanation.load(saved[0])
    assert not np.allclose(first.expected_value, last.expected_value)


def test_an_infinite_dataset_is_refused_with_advice(tanh_mlp, rows):
    import tensorflow as tf

    endless = tf.data.Dataset.from_tensor_slices(rows).batch(4).repeat()
    with pytest.raises(ValueError) as error:
        kx.GradientSaliency(tanh_mlp).explain(endless)
    assert str(error.value) == (
        "x: expected a finite tf.data.Dataset, received an infinite one (it repeats); take the "
        "elements to explain first, for example dataset.take(64)."
    )
    e = kx.GradientSaliency(tanh_mlp).explain(endless.take(2))
    np.testing.assert_array_equal(e.inputs, rows[:8])


def test_a_dataframe_with_string_columns_names_them(tanh_mlp):
    import pandas as pd

    frame = pd.DataFrame({f"f{j}": [0.5, 1.5] for j in range(5)})
    frame["f1"] = ["low", "high"]
    frame["f3"] = pd.Categorical(["a", "b"])
    with pytest.raises(ValueError) as error:
        kx.GradientSaliency(tanh_mlp).explain(frame)
    assert str(error.value) == (
        "x: expected numeric columns, received a DataFrame with non-numeric columns ['f1', 'f3']."
    )


def test_lime_tabular_top_labels_class_names_and_constant_outputs(tanh_mlp, rows):
    lime = kx.LimeTabular(tanh_mlp, rows * 2, num_samples=300, random_state=4)
    single = lime.explain(rows[:3])
    top = lime.explain(rows[:3], top_labels=3)
    order = np.argsort(-single.predictions, axis=1, kind="stable")
    np.testing.assert_array_equal(top.labels, order)
    np.testing.assert_array_equal(top.attributions, single.attributions)
    for position in range(3):
        alone = lime.explain(rows[:3], targets=order[:, position])
        np.testing.assert_allclose(top.feature_weights[:, position], alone.attributions, atol=1e-6)
    with pytest.raises(ValueError) as error:
        kx.LimeTabular(tanh_mlp, rows, class_names=["a", "b"])
    assert str(error.value) == "class_names: expected one name per model output (3), received ['a', 'b'] (list)."

    import keras

    flat = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, kernel_initializer="zeros")])
    from keras_explain.methods.lime.base import ConstantOutputWarning

    with pytest.warns(ConstantOutputWarning, match=r"does not change over the 50 samples of 4 example\(s\)"):
        e = kx.LimeTabular(flat, rows, num_samples=50, random_state=0).explain(rows[:4])
    np.testing.assert_array_equal(e.attributions, np.zeros((4, 5), np.float32))


def test_the_logger_reads_a_repeated_dataset_without_draining_it(tmp_path):
    import tensorflow as tf

    model = _mlp(2)
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.integers(0, 3, size=32)
    endless = tf.data.Dataset.from_tensor_slices((x[:5], y[:5])).batch(2).repeat()
    logger = ExplanationLogger("saliency", endless, tmp_path, formats=("npz",))
    model.fit(x, rng.normal(size=(32, 3)), epochs=1, verbose=0, callbacks=[logger])
    e = kx.Explanation.load(os.path.join(tmp_path, "explanations", "npz", "saliency_epoch_0000.npz"))
    from keras_explain.callbacks import MAX_DATASET_EXAMPLES

    np.testing.assert_array_equal(e.inputs, np.resize(x[:5], (MAX_DATASET_EXAMPLES, 4)))
    np.testing.assert_array_equal(e.targets, np.resize(y[:5], MAX_DATASET_EXAMPLES))


def test_the_report_shows_a_large_completeness_gap(tanh_mlp, rows, tmp_path):
    import warnings

    from keras_explain.methods.gradients import CompletenessWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompletenessWarning)
        coarse = kx.IntegratedGradients(tanh_mlp, steps=2, baseline=-2.0).explain(rows * 3)
    fine = kx.IntegratedGradients(tanh_mlp, steps=400, baseline=-2.0).explain(rows * 3)
    page = open(kx.report.write_html([coarse, fine], tmp_path / "report.html")).read()
    assert page.count('<p class="warning">') == 1
    assert "have a completeness gap above 0.05 of |f(x) - f(baseline)|" in page
    assert "use more steps (for example steps=8) or rule=&#x27;gauss_legendre&#x27;." in page


def _augmented_cnn(with_preprocessing):
    """The keras.io transfer-learning pattern: augmentation, ops preprocessing, a CNN."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input((8, 8, 3))
    h = inputs
    if with_preprocessing:
        for layer in (keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1),
                      keras.layers.RandomZoom(0.1), keras.layers.RandomContrast(0.2)):
            h = layer(h)
        h = keras.ops.multiply(keras.ops.subtract(keras.ops.true_divide(h, 127.5), 1.0), 2.0)
    else:
        h = keras.layers.Rescaling(2.0 / 127.5, offset=-2.0)(h)
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(h))


def test_deepshap_takes_augmentation_layers_and_linear_ops():
    augmented, plain = _augmented_cnn(True), _augmented_cnn(False)
    for name in ("conv", "head"):
        plain.get_layer(name).set_weights(augmented.get_layer(name).get_weights())
    x = np.random.default_rng(3).uniform(0, 255, size=(5, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(augmented.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-5)
    ours = kx.DeepShap(augmented, x[:3]).explain(x, targets=1)
    reference = kx.DeepShap(plain, x[:3]).explain(x, targets=1)
    assert abs(ours.additivity_gap).max() < 1e-4
    np.testing.assert_allclose(ours.attributions, reference.attributions, rtol=1e-4, atol=1e-7)

    inputs = keras.Input((4,))
    squared = keras.ops.multiply(inputs, inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(squared))
    with pytest.raises(ValueError, match=r"^model: expected layers that DeepShap has DeepLIFT rules for, "
                       r"received the operation 'multiply(_\d+)?' \(Multiply\), a keras.ops call"):
        kx.DeepShap(model, np.zeros((2, 4), "float32"))


def test_deepshap_under_mixed_precision_computes_in_float32():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(8)
        mixed = keras.Sequential(
            [
                keras.Input((8, 8, 2)),
                keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                keras.layers.MaxPooling2D(name="pool"),
                keras.layers.Flatten(name="flat"),
                keras.layers.Dense(3, name="head"),
                keras.layers.Activation("softmax", dtype="float32", name="probabilities"),
            ]
        )
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert mixed.get_layer("conv").compute_dtype == "float16"
    single = keras.Sequential(
        [keras.Input((8, 8, 2)), keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.MaxPooling2D(),
         keras.layers.Flatten(), keras.layers.Dense(3), keras.layers.Activation("softmax")]
    )
    single.set_weights(mixed.get_weights())
    x = np.random.default_rng(4).normal(size=(5, 8, 8, 2)).astype("float32")
    e = kx.DeepShap(mixed, x[:3]).explain(x)
    reference = kx.DeepShap(single, x[:3]).explain(x)
    assert abs(e.additivity_gap).max() < 1e-5
    np.testing.assert_allclose(e.attributions, reference.attributions, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(e.expected_value, reference.expected_value, rtol=1e-6)
    assert mixed.get_layer("conv").compute_dtype == "float16"  # the model is left as it was


def test_the_logger_refuses_a_method_that_explains_a_dataset(tmp_path):
    model = _mlp(3)
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(3).normal(size=(16, 4)).astype("float32")
    logger = ExplanationLogger("permutation_importance", x[:4], tmp_path, formats=("npz",))
    with pytest.raises(ValueError) as error:
        model.fit(x, x[:, :3], epochs=1, verbose=0, callbacks=[logger])
    assert str(error.value) == (
        "explainer: expected a method that explains each sample, received "
        "'permutation_importance', which explains a whole dataset; call it after fit instead."
    )
