"""The metrics' maths on a linear model, where the exact attribution is known, and the engine's promises."""

import numpy as np
import pytest
import tensorflow as tf

import keras_explain as kx
from keras_explain import metrics
from keras_explain.metrics.perturbations import blurred


def exact(kernel, x, targets, baseline=0.0):
    """The exact attribution of a linear model: w[:, target] * (x - baseline)."""
    return (kernel[:, targets].T * (x - baseline)).astype(np.float32)


@pytest.fixture(scope="module")
def linear(linear_model, linear_weights, rows):
    kernel, bias = linear_weights
    outputs = rows @ kernel + bias
    targets = outputs.argmax(axis=1)
    return linear_model, kernel, bias, rows, targets


def test_exact_attributions_are_perfectly_faithful(linear):
    model, kernel, _, x, targets = linear
    a = exact(kernel, x, targets, baseline=0.5)
    mu = metrics.MuFidelity(nb_samples=40, baseline=0.5, random_state=0)(model, x, a, targets=targets)
    faithful = metrics.FaithfulnessCorrelation(nb_samples=40, subset_size=2, baseline=0.5, random_state=0)(
        model, x, a, targets=targets
    )
    assert mu.scores.min() > 0.99 and faithful.scores.min() > 0.99
    # The drop of a linear model is exactly the attribution mass hidden.
    np.testing.assert_allclose(mu.drops, mu.masses, atol=1e-5)
    np.testing.assert_allclose(faithful.drops, faithful.masses, atol=1e-5)
    assert mu.higher_is_better and faithful.higher_is_better


def test_deletion_and_insertion_curves_by_hand(linear):
    model, kernel, bias, x, targets = linear
    a = exact(kernel, x, targets)
    deletion = metrics.Deletion(steps=5)(model, x, a, targets=targets)
    insertion = metrics.Insertion(steps=5, baseline=0.5)(model, x, exact(kernel, x, targets, 0.5), targets=targets)
    order = np.argsort(-a, axis=1)
    removed = np.cumsum(np.take_along_axis(a.astype(np.float64), order, axis=1), axis=1)
    score = (x @ kernel + bias)[np.arange(len(x)), targets]
    curve = score[:, None] - np.concatenate([np.zeros((len(x), 1)), removed], axis=1)
    np.testing.assert_allclose(deletion.curve, curve, atol=1e-5)
    np.testing.assert_allclose(deletion.scores, ((curve[:, :-1] + curve[:, 1:]) / 2).mean(axis=1), atol=1e-5)
    np.testing.assert_array_equal(deletion.fractions, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    a_half = exact(kernel, x, targets, 0.5).astype(np.float64)
    added = np.cumsum(np.take_along_axis(a_half, np.argsort(-a_half, axis=1), axis=1), axis=1)
    start = (np.full_like(x, 0.5) @ kernel + bias)[np.arange(len(x)), targets]
    np.testing.assert_allclose(insertion.curve[:, 1:], start[:, None] + added, atol=1e-5)
    assert not deletion.higher_is_better and insertion.higher_is_better


def test_the_exact_attribution_beats_random_and_negated_ones(linear):
    model, kernel, _, x, targets = linear
    a = exact(kernel, x, targets)
    noise = np.random.default_rng(0).normal(size=a.shape).astype(np.float32)
    deletion, insertion = metrics.Deletion(steps=5), metrics.Insertion(steps=5)
    scores = {
        name: (deletion(model, x, v, targets=targets).scores, insertion(model, x, v, targets=targets).scores)
        for name, v in (("exact", a), ("random", noise), ("negated", -a))
    }
    for other in ("random", "negated"):
        # Removing the largest contributions first gives the lowest curve at every step.
        assert np.all(scores["exact"][0] <= scores[other][0] + 1e-6)
        assert scores["exact"][0].mean() < scores[other][0].mean()
        assert np.all(scores["exact"][1] >= scores[other][1] - 1e-6)
        assert scores["exact"][1].mean() > scores[other][1].mean()


def test_ties_keep_the_order_of_the_features(linear):
    model, kernel, bias, x, targets = linear
    ties = np.ones_like(x)
    curve = metrics.Deletion(steps=5)(model, x, ties, targets=targets).curve
    contributions = (kernel[:, targets].T * x).astype(np.float64)
    score = (x @ kernel + bias)[np.arange(len(x)), targets]
    expected = score[:, None] - np.concatenate([np.zeros((len(x), 1)), np.cumsum(contributions, axis=1)], axis=1)
    np.testing.assert_allclose(curve, expected, atol=1e-5)


def test_infidelity_and_sensitivity_of_a_linear_models_gradient_are_zero(linear):
    model, kernel, _, x, targets = linear
    e = kx.GradientSaliency(model).explain(x, targets=targets)
    np.testing.assert_allclose(e.attributions, kernel[:, targets].T, atol=1e-6)
    infidelity = metrics.Infidelity(nb_samples=8, radius=0.3, random_state=0)(model, x, e)
    sensitivity = metrics.MaxSensitivity(nb_samples=4, radius=0.1, random_state=0)(model, x, e)
    np.testing.assert_allclose(infidelity.scores, 0.0, atol=1e-9)
    np.testing.assert_allclose(sensitivity.scores, 0.0, atol=1e-6)
    assert np.abs(infidelity.dots).min() > 0  # the noise moved the output


def test_softmax_activation_reads_probabilities(linear):
    model, kernel, bias, x, targets = linear
    curve = metrics.Deletion(steps=5, activation="softmax")(model, x, np.ones_like(x), targets=targets).curve
    logits = x @ kernel + bias
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(curve[:, 0], probabilities[np.arange(len(x)), targets], atol=1e-6)


SEEDED = {
    "deletion": lambda **k: metrics.Deletion(steps=6, baseline="blur", blur_sigma=1.5, **k),
    "mufidelity": lambda **k: metrics.MuFidelity(grid_size=4, nb_samples=12, random_state=3, **k),
    "faithfulness_correlation": lambda **k: metrics.FaithfulnessCorrelation(nb_samples=12, random_state=3, **k),
    "infidelity": lambda **k: metrics.Infidelity(nb_samples=5, random_state=3, **k),
    "max_sensitivity": lambda **k: metrics.MaxSensitivity(nb_samples=3, random_state=3, **k),
}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_batch_size_seed_and_a_single_trace(name, small_cnn, images):
    e = kx.GradientSaliency(small_cnn).explain(images)
    metric = SEEDED[name]()
    first = metric(small_cnn, images, e)
    traces = metric.engine(small_cnn).trace_count
    again = metric(small_cnn, images, e)
    assert metric.engine(small_cnn).trace_count == traces
    np.testing.assert_array_equal(first.scores, again.scores)
    small = SEEDED[name](batch_size=5)(small_cnn, images, e)
    np.testing.assert_allclose(small.scores, first.scores, rtol=1e-5, atol=1e-7)
    assert first.mean == pytest.approx(np.mean(first.scores))
    np.testing.assert_array_equal(np.asarray(first), first.scores)


def test_another_seed_draws_other_subsets(small_cnn, images):
    e = kx.GradientSaliency(small_cnn).explain(images)
    one = metrics.MuFidelity(grid_size=4, nb_samples=12, random_state=1)(small_cnn, images, e)
    two = metrics.MuFidelity(grid_size=4, nb_samples=12, random_state=2)(small_cnn, images, e)
    assert not np.array_equal(one.masses, two.masses)


def test_blur_keeps_a_constant_image_and_smooths_an_edge():
    flat = tf.fill((1, 9, 9, 2), 0.7)
    np.testing.assert_allclose(blurred(flat, 2.0).numpy(), 0.7, atol=1e-6)
    edge = np.zeros((1, 9, 9, 1), np.float32)
    edge[:, :, 5:] = 1.0
    soft = blurred(tf.constant(edge), 1.0).numpy()[0, 4, :, 0]
    assert np.all(np.diff(soft) >= -1e-7) and 0.0 < soft[4] < 0.5 < soft[5] < 1.0
