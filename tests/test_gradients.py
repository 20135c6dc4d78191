"""The maths of GradientSaliency, IntegratedGradients and SmoothGrad."""

import numpy as np
import pytest
import tensorflow as tf

import keras_explain as kx
from keras_explain.methods.gradients.integrated_gradients import quadrature


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclassed"])
def test_linear_gradients_equal_weights(linear_models, linear_weights, rows, kind):
    kernel, bias = linear_weights
    e = kx.GradientSaliency(linear_models[kind]).explain(rows)
    expected_targets = np.argmax(rows @ kernel + bias, axis=1)
    np.testing.assert_array_equal(e.targets, expected_targets)
    np.testing.assert_allclose(e.attributions, kernel[:, e.targets].T, atol=1e-6)
    np.testing.assert_allclose(e.predictions, rows @ kernel + bias, atol=1e-5)
    assert e.attributions.shape == rows.shape and e.method == "saliency"


def test_saliency_options(linear_model, linear_weights, rows):
    kernel, _ = linear_weights
    targets = np.arange(len(rows)) % 3
    signed = kernel[:, targets].T
    times = kx.GradientSaliency(linear_model, multiply_by_inputs=True).explain(rows, targets)
    np.testing.assert_allclose(times.attributions, signed * rows, atol=1e-6)
    both = kx.GradientSaliency(linear_model, multiply_by_inputs=True, absolute=True)
    np.testing.assert_allclose(both.explain(rows, targets).attributions, np.abs(signed * rows), atol=1e-6)
    absolute = kx.GradientSaliency(linear_model, absolute=True).explain(rows, targets=2)
    np.testing.assert_allclose(absolute.attributions, np.abs(np.tile(kernel[:, 2], (len(rows), 1))), atol=1e-6)
    np.testing.assert_array_equal(absolute.targets, np.full(len(rows), 2))


def test_regressor_explains_output_zero(regressor, rows):
    e = kx.GradientSaliency(regressor).explain(rows)
    np.testing.assert_array_equal(e.targets, np.zeros(len(rows)))
    x = tf.constant(rows)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = regressor(x)[:, 0]
    np.testing.assert_allclose(e.attributions, tape.gradient(y, x).numpy(), atol=1e-6)


def test_integrated_gradients_linear_is_exact(linear_model, linear_weights, rows):
    kernel, bias = linear_weights
    baseline = np.linspace(-1, 1, rows.shape[1]).astype("float32")
    e = kx.IntegratedGradients(linear_model, steps=7, baseline=baseline).explain(rows, targets=1)
    np.testing.assert_allclose(e.attributions, kernel[:, 1] * (rows - baseline), atol=1e-5)
    np.testing.assert_allclose(e.completeness_gap, 0.0, atol=1e-5)
    np.testing.assert_allclose(e.baseline_scores, baseline @ kernel[:, 1] + bias[1], atol=1e-5)


@pytest.mark.parametrize("rule", ["trapezoid", "gauss_legendre", "midpoint"])
def test_integrated_gradients_completeness_tanh_mlp(tanh_mlp, rows, rule):
    e = kx.IntegratedGradients(tanh_mlp, steps=300, rule=rule).explain(rows)
    outputs = tanh_mlp(rows).numpy()
    at_zero = tanh_mlp(np.zeros_like(rows)).numpy()
    index = np.arange(len(rows))
    difference = outputs[index, e.targets] - at_zero[index, e.targets]
    total = e.attributions.sum(axis=1)
    np.testing.assert_allclose(total, difference, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(e.completeness_gap, total - difference, atol=1e-5)


def test_integrated_gradients_gap_shrinks_with_steps(tanh_mlp, rows):
    few = kx.IntegratedGradients(tanh_mlp, steps=3).explain(rows, targets=0)
    many = kx.IntegratedGradients(tanh_mlp, steps=200).explain(rows, targets=0)
    assert np.abs(many.completeness_gap).max() < np.abs(few.completeness_gap).max() / 100


def test_integrated_gradients_baselines(linear_model, linear_weights, rows):
    kernel, _ = linear_weights
    per_input = np.random.default_rng(3).normal(size=rows.shape).astype("float32")
    ig = kx.IntegratedGradients(linear_model, steps=4)
    e = ig.explain(rows, targets=0, baseline=per_input)
    np.testing.assert_allclose(e.attributions, kernel[:, 0] * (rows - per_input), atol=1e-5)
    scalar = kx.IntegratedGradients(linear_model, steps=4, baseline=0.5).explain(rows, targets=0)
    np.testing.assert_allclose(scalar.attributions, kernel[:, 0] * (rows - 0.5), atol=1e-5)
    with pytest.raises(ValueError) as error:
        ig.explain(rows, baseline=np.zeros((3, 5)))
    assert str(error.value) == (
        "baseline: expected a number, an array of shape (5,) (one example) or (11, 5) "
        "(one per example), received an array of shape (3, 5) and dtype float32."
    )


@pytest.mark.parametrize("rule", ["trapezoid", "left", "right", "midpoint", "gauss_legendre"])
def test_quadrature_integrates_polynomials(rule):
    alphas, weights = quadrature(rule, 40)
    assert weights.sum() == pytest.approx(1.0)
    assert (weights * alphas**2).sum() == pytest.approx(1 / 3, abs=0.03)
    if rule in ("trapezoid", "midpoint", "gauss_legendre"):
        assert (weights * alphas**2).sum() == pytest.approx(1 / 3, abs=2e-4)


def test_smoothgrad_without_noise_is_the_wrapped_method(tanh_mlp, rows):
    plain = kx.IntegratedGradients(tanh_mlp, steps=8).explain(rows)
    smooth = kx.SmoothGrad(kx.IntegratedGradients(tanh_mlp, steps=8), samples=3, noise=0.0)
    np.testing.assert_allclose(smooth.explain(rows).attributions, plain.attributions, atol=1e-6)


def test_smoothgrad_linear_moments(linear_model, linear_weights, rows):
    kernel, _ = linear_weights
    wrapped = kx.GradientSaliency(linear_model)
    square = kx.SmoothGrad(wrapped, samples=4, mode="square", random_state=0).explain(rows, 1)
    np.testing.assert_allclose(square.attributions, np.tile(kernel[:, 1] ** 2, (len(rows), 1)), rtol=1e-5)
    variance = kx.SmoothGrad(wrapped, samples=4, mode="variance", random_state=0).explain(rows, 1)
    np.testing.assert_allclose(variance.attributions, 0.0, atol=1e-6)


def test_smoothgrad_noise_scale(linear_model, linear_weights, rows):
    """VarGrad of gradient x input on a linear model is w^2 sigma^2, sigma = noise * range."""
    kernel, _ = linear_weights
    wrapped = kx.GradientSaliency(linear_model, multiply_by_inputs=True)
    e = kx.SmoothGrad(wrapped, samples=4000, noise=0.2, mode="variance", random_state=3).explain(rows, 0)
    sigma = 0.2 * (rows.max(axis=1) - rows.min(axis=1))
    expected = kernel[:, 0] ** 2 * sigma[:, None] ** 2
    np.testing.assert_allclose(e.attributions, expected, rtol=0.1)
    mean = kx.SmoothGrad(wrapped, samples=4000, noise=0.2, random_state=3).explain(rows, 0)
    bound = 4 * np.sqrt(expected / 4000) + 1e-6  # four standard errors of the mean
    assert np.all(np.abs(mean.attributions - kernel[:, 0] * rows) <= bound)


def test_smoothgrad_seeds(tanh_mlp, rows):
    def run(seed, batch_size=None):
        inner = kx.GradientSaliency(tanh_mlp)
        sg = kx.SmoothGrad(inner, samples=6, random_state=seed, batch_size=batch_size)
        return sg.explain(rows).attributions

    np.testing.assert_array_equal(run(5), run(5))
    np.testing.assert_allclose(run(5), run(5, batch_size=4), atol=1e-6)
    assert np.abs(run(5) - run(6)).max() > 1e-4


def test_smoothgrad_targets_come_from_the_clean_input(linear_model, linear_weights, rows):
    kernel, bias = linear_weights
    e = kx.SmoothGrad(kx.GradientSaliency(linear_model), samples=3, noise=2.0).explain(rows)
    np.testing.assert_array_equal(e.targets, np.argmax(rows @ kernel + bias, axis=1))


def test_a_large_completeness_gap_warns_and_suggests_more_steps(tanh_mlp, rows):
    import warnings

    from keras_explain.engine.checks import GAP_FLOOR, GAP_WARNING
    from keras_explain.methods.gradients import CompletenessWarning

    with pytest.warns(CompletenessWarning) as caught:
        coarse = kx.IntegratedGradients(tanh_mlp, steps=2, baseline=-2.0).explain(rows * 3)
    scores = coarse.predictions[np.arange(len(rows)), coarse.targets].astype(np.float64)
    difference = scores - coarse.baseline_scores
    large = np.abs(coarse.completeness_gap) > GAP_WARNING * np.maximum(np.abs(difference), GAP_FLOOR)
    assert large.any()
    worst = int(np.argmax(np.where(large, np.abs(coarse.completeness_gap), -np.inf)))
    message = str(caught[0].message)
    assert message.startswith(
        f"Integrated Gradients: {int(large.sum())} of {len(rows)} example(s) have a completeness "
        f"gap above 0.05 of |f(x) - f(baseline)|; the worst is example {worst}: "
    )
    assert message.endswith("use more steps (for example steps=8) or rule='gauss_legendre'.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompletenessWarning)
        fine = kx.IntegratedGradients(tanh_mlp, steps=400, baseline=-2.0).explain(rows * 3)
    assert np.all(np.abs(fine.completeness_gap) <= GAP_WARNING * np.maximum(np.abs(difference), GAP_FLOOR))
