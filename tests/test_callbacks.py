"""ExplanationLogger: what lands in TensorBoard and on disk, and what it leaves alone."""

import glob
import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers.models import quadrant_images

import keras_explain as kx
from keras_explain.callbacks import ExplanationLogger, rank_correlation

X, Y = quadrant_images(256, seed=21)
SAMPLES = (X[:4], Y[:4])


def make_model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4, name="logits"),
        ]
    )
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


def read_events(folder):
    """(tag, step, value) for every summary value in a folder's event files."""
    found = []
    for path in sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found.append((value.tag, event.step, value))
    return found


def image_sizes(value):
    strings = value.tensor.string_val
    return [tuple(tf.image.decode_png(png).shape) for png in strings[2:]]


def scalar(value):
    return float(tf.make_ndarray(value.tensor))


def test_tensorboard_png_and_npz(tmp_path):
    model = make_model()
    logger = ExplanationLogger("saliency", SAMPLES, tmp_path, formats=("tensorboard", "png", "npz"), max_outputs=3)
    model.fit(
        X, Y, epochs=3, batch_size=64, verbose=0, validation_data=(X[:32], Y[:32]),
        callbacks=[keras.callbacks.TensorBoard(str(tmp_path)), logger],
    )
    assert {"train", "validation", "explanations"} <= set(os.listdir(tmp_path))
    events = read_events(tmp_path / "explanations")
    images = [(step, value) for tag, step, value in events if tag == "saliency"]
    assert [step for step, _ in images] == [0, 1, 2]
    assert all(image_sizes(value) == [(64, 64, 3)] * 3 for _, value in images)
    # What TensorBoard's image dashboard reads: its plugin, then width and height.
    assert {value.metadata.plugin_data.plugin_name for _, value in images} == {"images"}
    assert all(list(value.tensor.string_val[:2]) == [b"64", b"64"] for _, value in images)
    changes = [(step, scalar(v)) for tag, step, v in events if tag == "saliency/rank_correlation_with_previous"]
    assert [step for step, _ in changes] == [1, 2]
    assert all(-1.0 <= value <= 1.0 for _, value in changes)
    pngs = sorted(os.listdir(tmp_path / "explanations" / "png"))
    assert len(pngs) == 12 and pngs[0] == "saliency_epoch_0000_sample_00.png"
    assert pngs[-1] == "saliency_epoch_0002_sample_03.png"
    last = kx.Explanation.load(tmp_path / "explanations" / "npz" / "saliency_epoch_0002.npz")
    fresh = kx.GradientSaliency(model).explain(SAMPLES[0], targets=SAMPLES[1])
    np.testing.assert_allclose(last.attributions, fresh.attributions, atol=1e-6)
    np.testing.assert_array_equal(last.targets, SAMPLES[1])
    first = kx.Explanation.load(tmp_path / "explanations" / "npz" / "saliency_epoch_0001.npz")
    expected = np.mean([rank_correlation(a, b) for a, b in zip(last.heatmap(), first.heatmap())])
    assert changes[-1][1] == pytest.approx(expected, abs=1e-6)


def test_training_is_unchanged(tmp_path):
    def train(callbacks):
        model = make_model(seed=3)
        model.fit(X, Y, epochs=2, batch_size=32, verbose=0, callbacks=callbacks)
        return model.get_weights()

    grid = (np.indices((16, 16)) // 8).reshape(2, 16, 16)
    quarters = np.repeat((grid[0] * 2 + grid[1])[None], len(SAMPLES[0]), axis=0)
    plain = train([])
    logged = train(
        [
            ExplanationLogger("smoothgrad", SAMPLES, tmp_path / "a", method_options={"samples": 4}),
            ExplanationLogger("integrated_gradients", SAMPLES[0], tmp_path / "b", formats=("npz",)),
            ExplanationLogger("lime_image", SAMPLES, tmp_path / "c", on_error="raise",
                              method_options={"num_samples": 20, "segmentation": quarters}),
        ]
    )
    assert len(os.listdir(tmp_path / "c" / "explanations" / "png")) == 8
    for before, after in zip(plain, logged):
        np.testing.assert_array_equal(before, after)


def test_compiled_once_and_resumed_epochs(tmp_path):
    model = make_model()
    ig = kx.IntegratedGradients(model, steps=8)
    logger = ExplanationLogger(ig, SAMPLES, tmp_path, formats=("tensorboard",))
    model.fit(X, Y, epochs=1, batch_size=64, verbose=0, callbacks=[logger])
    traces = ig.trace_count
    assert traces == 2
    model.fit(X, Y, initial_epoch=1, epochs=4, batch_size=64, verbose=0, callbacks=[logger])
    assert ig.trace_count == traces
    events = read_events(tmp_path / "explanations")
    assert [step for tag, step, _ in events if tag == "integrated_gradients"] == [0, 1, 2, 3]
    gaps = [scalar(v) for tag, _, v in events if tag == "integrated_gradients/mean_abs_completeness_gap"]
    assert len(gaps) == 4 and max(gaps) < 0.05


def test_every_n_epochs_and_dataset_samples(tmp_path):
    model = make_model()
    batched = tf.data.Dataset.from_tensor_slices(SAMPLES).batch(3)
    unbatched = tf.data.Dataset.from_tensor_slices(SAMPLES)
    loggers = [
        ExplanationLogger("gradcam", batched, tmp_path / "batched", every_n_epochs=2, formats=("npz",)),
        ExplanationLogger("gradcam", unbatched, tmp_path / "unbatched", every_n_epochs=2, formats=("npz",)),
    ]
    model.fit(tf.data.Dataset.from_tensor_slices((X, Y)).batch(64), epochs=4, verbose=0, callbacks=loggers)
    for name in ("batched", "unbatched"):
        files = sorted(os.listdir(tmp_path / name / "explanations" / "npz"))
        assert files == ["gradcam_epoch_0001.npz", "gradcam_epoch_0003.npz"]
        e = kx.Explanation.load(tmp_path / name / "explanations" / "npz" / files[-1])
        np.testing.assert_array_equal(e.inputs, SAMPLES[0])
        np.testing.assert_array_equal(e.targets, SAMPLES[1])


def test_tabular_bar_charts(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ExplanationLogger("saliency", x[:2], tmp_path)])
    events = read_events(tmp_path / "explanations")
    sizes = [image_sizes(v) for tag, _, v in events if tag == "saliency"][0]
    figure = kx.GradientSaliency(model).explain(x[:1]).plot()
    width, height = figure.get_size_inches() * figure.dpi
    assert sizes == [(int(round(height)), int(round(width)), 3)] * 2


def test_failures_warn_or_raise(tmp_path):
    model = make_model()
    failing = kx.GradCAM(model, layer="logits")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[ExplanationLogger(failing, SAMPLES, tmp_path)])
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 2
    assert messages[0] == (
        "ExplanationLogger: gradcam failed at epoch 0: ValueError: layer: expected a layer with a "
        "feature-map output (N, h, w, c), received 'logits' with output shape (None, 4)."
    )
    with pytest.raises(ValueError, match="feature-map output"):
        model.fit(X, Y, epochs=1, verbose=0,
                  callbacks=[ExplanationLogger(failing, SAMPLES, tmp_path, on_error="raise")])


def test_failures_while_writing_are_reported(tmp_path):
    # The PNG folder's name is taken by a file: writing fails in the writer thread.
    (tmp_path / "explanations").mkdir()
    (tmp_path / "explanations" / "png").write_text("not a folder")
    model = make_model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[ExplanationLogger("saliency", SAMPLES, tmp_path)])
    messages = sorted(str(w.message) for w in caught if issubclass(w.category, RuntimeWarning))
    assert [m.split(": [Errno")[0] for m in messages] == [
        "ExplanationLogger: saliency failed at epoch 0: FileExistsError",
        "ExplanationLogger: saliency failed at epoch 1: FileExistsError",
    ]
    with pytest.raises(FileExistsError):
        model.fit(X, Y, epochs=1, verbose=0,
                  callbacks=[ExplanationLogger("saliency", SAMPLES, tmp_path, on_error="raise")])


def test_argument_errors(tmp_path, linear_model):
    def message(call):
        with pytest.raises(ValueError) as error:
            call()
        return str(error.value)

    assert message(lambda: ExplanationLogger("saliency", SAMPLES, tmp_path, formats=("gif",))) == (
        "formats: expected one of 'tensorboard', 'png', 'npz', received 'gif'."
    )
    assert message(lambda: ExplanationLogger("saliency", SAMPLES, tmp_path, every_n_epochs=0)) == (
        "every_n_epochs: expected an integer >= 1, received 0."
    )
    other = kx.GradientSaliency(linear_model)
    model = make_model()
    with pytest.raises(ValueError) as error:
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[ExplanationLogger(other, SAMPLES, tmp_path)])
    assert str(error.value) == (
        "explainer: expected an explainer of the model being trained, received one built on "
        f"model {linear_model.name!r}."
    )


def test_rank_correlation_matches_spearman():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, size=(6, 7)).astype(float)  # many ties
    b = a + rng.normal(size=a.shape)
    assert rank_correlation(a, b) == pytest.approx(stats.spearmanr(a.ravel(), b.ravel())[0], abs=1e-12)


def test_row_ranks_equal_scipy_with_ties_and_signed_zeros():
    stats = pytest.importorskip("scipy.stats")
    from keras_explain.metrics.statistics import row_correlations, row_ranks

    rng = np.random.default_rng(1)
    tied = rng.integers(-3, 4, size=(9, 31)).astype(float)
    tied[0, :5] = [0.0, -0.0, 0.0, -0.0, 0.0]  # -0.0 and 0.0 are one value
    for values in (tied, rng.normal(size=(4, 50)), np.ones((2, 6))):
        np.testing.assert_array_equal(row_ranks(values), stats.rankdata(values, axis=1) - 1)
    other = tied + rng.normal(size=tied.shape)
    expected = [stats.spearmanr(a, b)[0] for a, b in zip(tied, other)]
    np.testing.assert_allclose(row_correlations(tied, other, "spearman"), expected, atol=1e-12)
