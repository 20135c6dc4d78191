"""GradientShap with samples="auto": draws until the mean's standard error is small."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import models

import keras_explain as kx
from keras_explain.engine.draws import PrecisionWarning
from keras_explain.engine.random import pair_bits_numpy

#: Agreement of two runs whose pairs go through the model in other batches,
#: or whose float64 sums are taken in another order (see test_all_methods).
ROUND_OFF = dict(atol=1e-6, rtol=1e-5)


@pytest.fixture(scope="module")
def background():
    return np.random.default_rng(0).normal(size=(8, models.N_FEATURES)).astype("float32")


def drawn(seed, example, count, rows):
    """Draws 0 .. count - 1 of `example`, by hand: (alpha (count,) float32, background row (count,))."""
    bits = pair_bits_numpy(seed, np.full(count, example), np.arange(count), 2)
    alpha = ((bits[:, 0] >> np.uint64(41)).astype(np.float64) + 0.5) / 2.0**23
    row = ((bits[:, 1] >> np.uint64(32)) * np.uint64(rows)) >> np.uint64(32)
    return alpha.astype(np.float32), row.astype(np.int64)


def per_draw(model, x, target, background, seed, example, count):
    """(count, F) float64: (x - r) * grad f(r + alpha (x - r)) for each draw, with its own gradient tape."""
    alpha, row = drawn(seed, example, count, len(background))
    reference = background[row]
    point = tf.constant(reference + alpha[:, None] * (x[example] - reference))
    with tf.GradientTape() as tape:
        tape.watch(point)
        score = tf.reduce_sum(model(point)[:, target])
    gradient = tape.gradient(score, point).numpy().astype(np.float64)
    return gradient * (x[example] - reference).astype(np.float64)


def mean_and_error(draws):
    """The mean of per-draw attributions and its standard error's norm over the mean's norm."""
    mean = draws.mean(axis=0)
    error = np.sqrt((draws.var(axis=0, ddof=1) / len(draws)).sum())
    return mean, error / np.sqrt((mean**2).sum())


def auto(model, background, **options):
    return kx.GradientShap(model, background, samples="auto", verbose=0, **options)


def test_auto_stops_at_the_first_level_that_meets_the_tolerance(tanh_mlp, rows, background):
    e = auto(tanh_mlp, background, tolerance=0.2, max_samples=128, random_state=3).explain(rows)
    assert set(e.samples_used) <= {16, 32, 64, 128} and len(set(e.samples_used)) >= 3
    for i, count in enumerate(e.samples_used):
        mean, error = mean_and_error(per_draw(tanh_mlp, rows, e.targets[i], background, 3, i, count))
        np.testing.assert_allclose(e.attributions[i], mean, **ROUND_OFF)
        np.testing.assert_allclose(e.relative_error[i], error, rtol=1e-5)
        if count < 128:
            assert error <= 0.2
        if count > 16:  # one level fewer was not precise enough
            _, before = mean_and_error(per_draw(tanh_mlp, rows, e.targets[i], background, 3, i, count // 2))
            assert before > 0.2


def test_auto_equals_the_fixed_run_with_the_samples_it_used(tanh_mlp, rows, background):
    e = auto(tanh_mlp, background, tolerance=0.2, max_samples=128, random_state=3).explain(rows)
    for count in np.unique(e.samples_used):
        fixed = kx.GradientShap(tanh_mlp, background, samples=int(count), random_state=3, verbose=0).explain(rows)
        same = e.samples_used == count
        # The same draws; the float64 sums are taken per draw here, per group in the fixed run.
        np.testing.assert_allclose(e.attributions[same], fixed.attributions[same], **ROUND_OFF)
        np.testing.assert_allclose(e.additivity_gap[same], fixed.additivity_gap[same], **ROUND_OFF)
    # An example's draws and stop decision do not depend on the examples after it.
    first = auto(tanh_mlp, background, tolerance=0.2, max_samples=128, random_state=3).explain(rows[:4])
    np.testing.assert_array_equal(first.samples_used, e.samples_used[:4])
    np.testing.assert_allclose(first.attributions, e.attributions[:4], **ROUND_OFF)


def test_auto_does_not_depend_on_the_batch_size(tanh_mlp, rows, background):
    runs = [
        auto(tanh_mlp, background, tolerance=0.2, max_samples=128, random_state=5, batch_size=b).explain(rows)
        for b in (7, 64)
    ]
    np.testing.assert_array_equal(runs[0].samples_used, runs[1].samples_used)
    np.testing.assert_allclose(runs[0].attributions, runs[1].attributions, **ROUND_OFF)
    np.testing.assert_allclose(runs[0].relative_error, runs[1].relative_error, rtol=1e-5)


def test_linear_model_adds_up_to_the_drawn_rows_exactly(linear_model, linear_weights, rows):
    kernel, bias = linear_weights
    background = np.random.default_rng(4).normal(size=(20, models.N_FEATURES)).astype("float32")
    scores = rows @ kernel[:, 1] + bias[1]
    expected = (background @ kernel[:, 1] + bias[1]).mean()
    for options in ({"samples": "auto", "tolerance": 0.1, "max_samples": 64}, {"samples": 5}):
        e = kx.GradientShap(linear_model, background, random_state=2, verbose=0, **options).explain(rows, targets=1)
        used = np.broadcast_to(getattr(e, "samples_used", 5), len(rows))
        for i, count in enumerate(used):
            # Every draw adds w * (x - r) whatever alpha: the mean is w * (x - mean of the drawn rows),
            # and the sum is f(x) - the mean of f over the drawn rows, not f(x) - E[f(background)].
            picked = background[drawn(2, i, count, len(background))[1]].astype(np.float64)
            np.testing.assert_allclose(e.attributions[i], kernel[:, 1] * (rows[i] - picked.mean(0)), atol=1e-5)
            drawn_mean = (picked @ kernel[:, 1] + bias[1]).mean()
            np.testing.assert_allclose(e.attributions[i].sum(), scores[i] - drawn_mean, atol=1e-5)
            np.testing.assert_allclose(e.additivity_gap[i], expected - drawn_mean, atol=1e-5)
        assert np.abs(e.additivity_gap).max() > 1e-3  # the sampling error of the rows, not zero


def test_auto_on_token_ids(linear_text_model):
    model = linear_text_model
    ids, background = models.token_ids(6, seed=3), models.token_ids(10, seed=6)
    e = auto(model, background, tolerance=0.1, max_samples=64, random_state=1).explain(ids, targets=2)
    assert e.attributions.shape == ids.shape and e.extras["token_space"] == "ids"
    table = model.get_layer("tokens").get_weights()[0]
    head = model.get_layer("head").get_weights()[0][:, 2]
    for i, count in enumerate(e.samples_used):
        picked = drawn(1, i, count, len(background))[1]
        # Linear in the embeddings: token t adds (E(x_t) - E(r_t)) . w / T for every draw.
        by_hand = ((table[ids[i]][None] - table[background[picked]]) @ head).mean(axis=0) / ids.shape[1]
        np.testing.assert_allclose(e.attributions[i], by_hand, atol=1e-6)
        fixed = kx.GradientShap(model, background, samples=int(count), random_state=1, verbose=0)
        np.testing.assert_allclose(e.attributions[i], fixed.explain(ids, targets=2).attributions[i], **ROUND_OFF)


@pytest.fixture(scope="module")
def linear_text_model():
    return models.linear_text_model()


def test_auto_with_several_inputs_splits_the_single_input_result():
    keras.utils.set_random_seed(9)
    hidden, head = keras.layers.Dense(6, activation="tanh"), keras.layers.Dense(3)
    a, b, joined = keras.Input((4,)), keras.Input((3,)), keras.Input((7,))
    two = keras.Model([a, b], head(hidden(keras.layers.Concatenate()([a, b]))))
    one = keras.Model(joined, head(hidden(joined)))
    rng = np.random.default_rng(22)
    background, x = rng.normal(size=(9, 7)).astype("float32"), rng.normal(size=(5, 7)).astype("float32")
    split = lambda v: [v[:, :4], v[:, 4:]]  # noqa: E731
    whole = auto(one, background, tolerance=0.15, max_samples=64, random_state=0).explain(x)
    parts = auto(two, split(background), tolerance=0.15, max_samples=64, random_state=0).explain(split(x))
    np.testing.assert_array_equal(parts.samples_used, whole.samples_used)
    np.testing.assert_allclose(parts.relative_error, whole.relative_error, rtol=1e-5)
    for got, want in zip(parts.attributions, split(whole.attributions)):
        np.testing.assert_allclose(got, want, **ROUND_OFF)


def test_auto_config_round_trip_and_reseeded(tanh_mlp, rows, background, tmp_path):
    explainer = auto(tanh_mlp, background, random_state=1)
    config = explainer.get_config()
    assert (config["samples"], config["tolerance"], config["max_samples"]) == ("auto", 0.05, 256)
    e = explainer.explain(rows[:4])
    again = kx.GradientShap.from_config(config, tanh_mlp).explain(rows[:4])
    np.testing.assert_array_equal(again.attributions, e.attributions)
    np.testing.assert_array_equal(again.samples_used, e.samples_used)
    loaded = kx.Explanation.load(e.save(tmp_path / "auto"))
    np.testing.assert_array_equal(loaded.samples_used, e.samples_used)
    np.testing.assert_array_equal(loaded.relative_error, e.relative_error)
    assert loaded.config == e.config
    traces = explainer.trace_count
    copy = explainer.reseeded(7)
    rebuilt = kx.GradientShap.from_config({**config, "random_state": 7}, tanh_mlp)
    np.testing.assert_array_equal(copy.explain(rows[:4]).attributions, rebuilt.explain(rows[:4]).attributions)
    assert copy.trace_count == traces


def test_bad_arguments(tanh_mlp, background):
    cases = [
        ({"samples": "many"}, "samples: expected an integer >= 1, received 'many'."),
        ({"samples": 0}, "samples: expected an integer >= 1, received 0."),
        ({"tolerance": 1.5}, "tolerance: expected a number between 0 and 1 (relative standard error), received 1.5."),
        ({"tolerance": True}, "tolerance: expected a number between 0 and 1 (relative standard error), received True."),
        ({"max_samples": 8}, "max_samples: expected an integer >= 16, received 8."),
    ]
    for options, message in cases:
        with pytest.raises(ValueError) as error:
            kx.GradientShap(tanh_mlp, background, **options)
        assert str(error.value) == message


def test_examples_stopped_by_max_samples_are_warned_about(background):
    model = models.tanh_mlp()
    x = np.random.default_rng(3).normal(size=(3, models.N_FEATURES)).astype("float32")
    with pytest.warns(PrecisionWarning) as caught:
        e = kx.GradientShap(model, background, samples="auto", tolerance=1e-6, max_samples=32, random_state=0,
                            verbose=0).explain(x)
    assert str(caught[0].message) == (
        "GradientShap: 3 of 3 example(s) did not reach the tolerance 1e-06 within max_samples=32 "
        "(e.samples_used says how many each drew); raise max_samples or the tolerance."
    )
    np.testing.assert_array_equal(e.samples_used, [32, 32, 32])
    with pytest.warns(PrecisionWarning, match=r"^SmoothGrad: 3 of 3 example\(s\)"):
        kx.SmoothGrad(kx.GradientSaliency(model), samples="auto", tolerance=1e-6, max_samples=16, random_state=0,
                      verbose=0).explain(x)
