"""Occlusion: exact drops of linear models, brute-force windows, a pointing game, errors."""

import itertools

import keras
import numpy as np
import pytest

from keras_explain.engine import registry
from keras_explain.methods.perturbation.occlusion import Occlusion, window_grid

IMAGE_SHAPE = (6, 6, 2)


def _linear(shape, seed):
    """Flatten + Dense(3) with fixed weights; returns (model, kernel (*shape, 3), bias)."""
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=shape + (3,)).astype("float32")
    bias = rng.normal(size=3).astype("float32")
    model = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(3)])
    model.layers[-1].set_weights([kernel.reshape(-1, 3), bias])
    return model, kernel, bias


@pytest.fixture(scope="module")
def linear_image():
    model, kernel, _ = _linear(IMAGE_SHAPE, seed=10)
    x = np.random.default_rng(11).uniform(size=(4,) + IMAGE_SHAPE).astype("float32")
    return model, kernel, x


def _starts(size, window, stride):
    """Window starts along an axis, written out: stride steps, then one ending at the border."""
    starts = []
    start = 0
    while start + window <= size:
        starts.append(start)
        start += stride
    if starts[-1] + window < size:
        starts.append(size - window)
    return starts


def _brute_force(x, kernel, target, baseline, window, strides):
    """Each position's mean over the windows covering it of the window's sum w.(x - baseline)."""
    baseline = np.broadcast_to(baseline, x.shape).astype(np.float64)
    weights = kernel[..., target].astype(np.float64)
    strides = (strides,) * len(window) if isinstance(strides, int) else strides
    axes = [_starts(x.shape[1 + d], w, s) for d, (w, s) in enumerate(zip(window, strides))]
    result = np.zeros(x.shape)
    for i in range(len(x)):
        total, count = np.zeros(x.shape[1:]), np.zeros(x.shape[1:])
        for corner in itertools.product(*axes):
            region = tuple(slice(c, c + w) for c, w in zip(corner, window))
            drop = (weights[region] * (x[i] - baseline[i])[region]).sum()
            total[region] += drop
            count[region] += 1
        result[i] = total / count
    return result


BASELINES = {
    "zero": 0.0,
    "number": 0.7,
    "mean": "mean",
    "one_example": np.linspace(-1.0, 1.0, 5).astype("float32"),
}


@pytest.mark.parametrize("name", sorted(BASELINES))
@pytest.mark.parametrize("window", [1, (1,)])
def test_window_one_on_a_linear_model_is_w_times_x_minus_baseline(
    linear_model, linear_weights, rows, name, window
):
    kernel, _ = linear_weights
    baseline = BASELINES[name]
    targets = np.arange(len(rows)) % 3
    e = Occlusion(linear_model, window=window, baseline=baseline).explain(rows, targets)
    reference = rows.mean(axis=1, keepdims=True) if name == "mean" else baseline
    np.testing.assert_allclose(e.attributions, kernel[:, targets].T * (rows - reference), atol=1e-6)
    np.testing.assert_array_equal(e.num_windows, np.full(len(rows), 5))
    np.testing.assert_array_equal(e.targets, targets)


def test_a_baseline_per_example_given_to_explain(linear_model, linear_weights, rows):
    kernel, _ = linear_weights
    per_example = np.random.default_rng(3).normal(size=rows.shape).astype("float32")
    occlusion = Occlusion(linear_model, window=1)
    e = occlusion.explain(rows, targets=2, baseline=per_example)
    np.testing.assert_allclose(e.attributions, kernel[:, 2] * (rows - per_example), atol=1e-6)
    assert occlusion.baseline == 0.0


@pytest.mark.parametrize(
    "window,strides,baseline",
    [((2, 2), None, 0.0), ((3, 3), 1, 0.25), ((4, 4), None, "mean"), ((2, 3), (1, 2), 0.0)],
    ids=["2x2", "3x3-stride-1", "4x4-shifted-to-the-border", "2x3-strides-1-2"],
)
def test_image_windows_match_brute_force(linear_image, window, strides, baseline):
    model, kernel, x = linear_image
    e = Occlusion(model, window=window, strides=strides, baseline=baseline).explain(x, targets=1)
    reference = x.mean(axis=(1, 2, 3), keepdims=True) if baseline == "mean" else baseline
    expected = _brute_force(x, kernel, 1, reference, window, strides or window)
    np.testing.assert_allclose(e.attributions, expected, atol=1e-5)
    assert e.attributions.shape == x.shape


def test_windows_that_do_not_fit_end_at_the_border():
    starts, stops = window_grid((6, 6, 2), (4, 4), None)
    np.testing.assert_array_equal(starts, [[0, 0], [0, 2], [2, 0], [2, 2]])
    np.testing.assert_array_equal(stops, starts + 4)
    starts, _ = window_grid((12, 12, 2), 3, 2)
    np.testing.assert_array_equal(np.unique(starts[:, 0]), [0, 2, 4, 6, 8, 9])
    assert len(window_grid((5,), 1, None)[0]) == 5


def test_sequences_are_occluded_along_time_over_every_channel():
    model, kernel, _ = _linear((8, 3), seed=12)
    x = np.random.default_rng(13).normal(size=(3, 8, 3)).astype("float32")
    e = Occlusion(model, window=(3,), strides=2, baseline=0.5).explain(x, targets=0)
    np.testing.assert_allclose(e.attributions, _brute_force(x, kernel, 0, 0.5, (3,), (2,)), atol=1e-5)
    np.testing.assert_array_equal(e.num_windows, [4, 4, 4])


def _peak_quadrants(maps):
    """The quadrant (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) of each map's maximum."""
    count, half = len(maps), maps.shape[1] // 2
    blocks = maps.reshape(count, 2, half, 2, half).transpose(0, 1, 3, 2, 4)
    return blocks.reshape(count, 4, -1).max(axis=2).argmax(axis=1)


def test_pointing_game_on_the_quadrant_task(quadrant_task):
    model, x_test, y_test, _ = quadrant_task
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    correct = predicted == y_test
    e = Occlusion(model, window=(4, 4), strides=2).explain(x_test[correct], targets=y_test[correct])
    hits = np.mean(_peak_quadrants(e.heatmap()) == y_test[correct])
    assert hits >= 0.9, hits


def test_results_do_not_depend_on_the_batch_size(small_cnn, images):
    default = Occlusion(small_cnn, window=(3, 3), strides=2, baseline="mean").explain(images)
    single = Occlusion(small_cnn, window=(3, 3), strides=2, baseline="mean", batch_size=1)
    again = single.explain(images)
    np.testing.assert_allclose(again.attributions, default.attributions, atol=1e-6)
    np.testing.assert_array_equal(again.targets, default.targets)


def test_names_config_and_no_retrace(small_cnn, images):
    assert registry.explainer_class("occlusion") is Occlusion
    assert registry.explainer_class("occlusion_sensitivity") is Occlusion
    occlusion = Occlusion(small_cnn, window=[4, 4], strides=2, baseline="mean", batch_size=5)
    config = occlusion.get_config()
    assert config == {
        "output": None, "batch_size": 5, "run_eagerly": False, "verbose": "auto",
        "baseline": "mean", "window": (4, 4), "strides": 2,
    }
    first = occlusion.explain(images, verbose=0)
    same = Occlusion.from_config(config, small_cnn).explain(images, verbose=0)
    np.testing.assert_array_equal(same.attributions, first.attributions)
    assert first.method == "occlusion" and first.config["window"] == [4, 4]
    # Fewer rows and a baseline for this call reuse the compiled step, and change nothing.
    traces, state = occlusion.trace_count, dict(vars(occlusion))
    occlusion.explain(images[:3], baseline=0.5, verbose=0)
    assert occlusion.trace_count == traces
    assert all(vars(occlusion)[key] is value for key, value in state.items())
    assert repr(occlusion) == (
        "Occlusion(output=None, batch_size=5, run_eagerly=False, verbose='auto', "
        "baseline='mean', window=(4, 4), strides=2)"
    )


def _message(call):
    with pytest.raises(ValueError) as error:
        call()
    return str(error.value)


def test_bad_input_is_refused_with_exact_messages(linear_image, linear_model, rows):
    model, _, x = linear_image
    assert _message(lambda: Occlusion(model).explain(x)) == (
        "window: expected a window no larger than the examples' axes (6, 6), received (8, 8)."
    )
    assert _message(lambda: Occlusion(model, window=(2, 2), strides=5).explain(x)) == (
        "strides: expected strides that leave no position uncovered (stride <= window does), "
        "received (5, 5): 2 of the 6 positions along axis 1 are in no window of size 2."
    )
    assert _message(lambda: Occlusion(linear_model).explain(rows)) == (
        "window: expected a window over at most 1 axis for examples of shape (5,), "
        "received (8, 8)."
    )
    assert _message(lambda: Occlusion(model, window=(2, 2), baseline=np.zeros(3)).explain(x)) == (
        "baseline: expected a number, 'mean', an array of shape (6, 6, 2) (one example) or "
        "(4, 6, 6, 2) (one per example), received an array of shape (3,) and dtype float32."
    )
    assert _message(lambda: Occlusion(model, window=0)) == (
        "window: expected an integer >= 1, received 0."
    )
    assert _message(lambda: Occlusion(model, window=(2, "a"))) == (
        "window: expected a positive integer or a tuple of positive integers, received "
        "(2, 'a') (tuple)."
    )
    assert _message(lambda: Occlusion(model, window=(2, 2), strides=(1, 1, 1))) == (
        "strides: expected None, an integer or 2 integers like the window (2, 2), "
        "received (1, 1, 1) (tuple)."
    )
    assert _message(lambda: Occlusion(model, baseline="median")) == (
        "baseline: expected a number, 'mean' or an array, received 'median'."
    )
    assert _message(lambda: Occlusion(model, baseline=[0.0, np.nan])) == (
        "baseline: expected finite values, received an array of shape (2,) and dtype float32."
    )
