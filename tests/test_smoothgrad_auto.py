"""SmoothGrad with samples="auto": draws until the mean's standard error is small."""

import numpy as np
import pytest

import keras_explain as kx


def by_hand(model, x, draws, seed, width):
    """The mean saliency over draws 0 .. draws - 1 of each example, and its relative standard error."""
    import tensorflow as tf

    means, errors = [], []
    for i, row in enumerate(x):
        sigma = 0.15 * (row.max() - row.min())
        grads = []
        for k in range(draws[i]):
            noise = tf.random.stateless_normal(row.shape, seed=[seed, i * width + k], dtype=tf.float32)
            point = tf.constant(row[None]) + sigma * noise[None]
            with tf.GradientTape() as tape:
                tape.watch(point)
                out = model(point)
                score = out[0, int(np.argmax(model(row[None]).numpy()[0]))]
            grads.append(tape.gradient(score, point).numpy()[0].astype(np.float64))
        grads = np.array(grads)
        mean = grads.mean(axis=0)
        error = np.sqrt((grads.var(axis=0, ddof=1) / len(grads)).sum()) / np.sqrt((mean**2).sum())
        means.append(mean)
        errors.append(error)
    return np.array(means), np.array(errors)


def test_auto_stops_where_the_standard_error_is_met(tanh_mlp, rows):
    x = rows[:5]
    sg = kx.SmoothGrad(kx.GradientSaliency(tanh_mlp), samples="auto", tolerance=0.05, max_samples=128, random_state=3)
    e = sg.explain(x, verbose=0)
    assert set(e.samples_used) <= {16, 32, 64, 128}
    mean, error = by_hand(tanh_mlp, x, e.samples_used, 3, 128)
    np.testing.assert_allclose(e.attributions, mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(e.relative_error, error, rtol=1e-4)
    stopped = e.samples_used < 128
    assert np.all(error[stopped] <= 0.05)
    # One level fewer was not precise enough.
    fewer = np.maximum(e.samples_used // 2, 16)
    _, before = by_hand(tanh_mlp, x, fewer, 3, 128)
    assert np.all(before[e.samples_used > 16] > 0.05)


def test_auto_to_the_cap_equals_the_fixed_run_and_ignores_batch_size(tanh_mlp, rows):
    fixed = kx.SmoothGrad(kx.GradientSaliency(tanh_mlp), samples=64, random_state=0).explain(rows, verbose=0)
    runs = []
    for batch_size in (3, 64):
        runs.append(kx.SmoothGrad(
            kx.GradientSaliency(tanh_mlp), samples="auto", tolerance=1e-6, max_samples=64, random_state=0,
            batch_size=batch_size,
        ).explain(rows, verbose=0))
        assert np.all(runs[-1].samples_used == 64)
        # The same draws, summed level by level: equal up to float32 rounding.
        np.testing.assert_allclose(runs[-1].attributions, fixed.attributions, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(runs[0].attributions, runs[1].attributions, rtol=1e-6, atol=1e-7)
    tolerant = [
        kx.SmoothGrad(kx.GradientSaliency(tanh_mlp), samples="auto", random_state=0, batch_size=b).explain(rows)
        for b in (5, 512)
    ]
    np.testing.assert_array_equal(tolerant[0].samples_used, tolerant[1].samples_used)


def test_auto_keeps_the_wrapped_checks_and_config(tanh_mlp, rows):
    sg = kx.SmoothGrad(kx.IntegratedGradients(tanh_mlp, steps=8), samples="auto", random_state=1)
    e = sg.explain(rows, verbose=0)
    assert e.completeness_gap.shape == (len(rows),)
    assert e.config["samples"] == "auto" and e.config["tolerance"] == 0.05 and e.config["max_samples"] == 256
    again = kx.SmoothGrad.from_config(sg.get_config(), tanh_mlp).explain(rows, verbose=0)
    np.testing.assert_array_equal(again.attributions, e.attributions)


def test_auto_bad_input(tanh_mlp):
    saliency = kx.GradientSaliency(tanh_mlp)
    with pytest.raises(ValueError, match=r"^samples: expected an integer for mode 'square' or 'variance'"):
        kx.SmoothGrad(saliency, samples="auto", mode="square")
    with pytest.raises(ValueError, match=r"^tolerance: expected a number between 0 and 1"):
        kx.SmoothGrad(saliency, samples="auto", tolerance=1.5)
    with pytest.raises(ValueError, match=r"^max_samples: "):
        kx.SmoothGrad(saliency, samples="auto", max_samples=4)
