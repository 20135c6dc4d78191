"""The metrics against the reference implementations: xplique on the same work, and captum's and
Quantus' formulas written out in numpy on the same perturbations."""

import numpy as np
import pytest
import tensorflow as tf

import keras_explain as kx
from keras_explain import metrics
from keras_explain.metrics.correlation import normalised


def _xplique():
    try:
        from xplique import metrics as reference
    except Exception as error:  # noqa: BLE001 - skip with xplique's own error
        pytest.skip(f"xplique cannot run: {type(error).__name__}: {error}")
    return reference


@pytest.fixture(scope="module")
def work(small_cnn, images):
    """The model, inputs, attributions and one-hot targets both sides see."""
    predictions = small_cnn.predict(images, verbose=0)
    targets = predictions.argmax(axis=1)
    attributions = np.random.default_rng(0).normal(size=images.shape).astype(np.float32)
    return small_cnn, images, attributions, targets, np.eye(predictions.shape[1], dtype=np.float32)[targets]


@pytest.mark.parametrize("name", ["Deletion", "Insertion"])
@pytest.mark.parametrize("activation", [None, "softmax"])
def test_deletion_and_insertion_equal_xplique(name, activation, work):
    reference = _xplique()
    model, x, a, targets, one_hot = work
    theirs = getattr(reference, name)(
        model, x, one_hot, batch_size=16, steps=6, baseline_mode=0.3, max_percentage_perturbed=0.7,
        activation=activation,
    )
    ours = getattr(metrics, name)(steps=6, baseline=0.3, max_fraction=0.7, activation=activation)(
        model, x, a, targets=targets
    )
    # xplique scores the mean curve; ours are per example and average to it.
    assert ours.mean == pytest.approx(float(theirs.evaluate(a)), abs=1e-4)
    curve = np.array(list(theirs.detailed_evaluate(a).values()))
    np.testing.assert_allclose(ours.curve.mean(axis=0), curve, atol=1e-4)


def _recorded_masks(metric):
    """Wrap xplique's mask drawing to keep the masks it draws (kept cells are 1)."""
    draw, kept = metric._perturb_samples, []

    def recording(inputs, count):
        perturbed, masks = draw(inputs, count)
        kept.append(masks.numpy()[..., 0])
        return perturbed, masks

    metric._perturb_samples = recording
    return kept


def test_mufidelity_equals_xplique_on_the_same_subsets(work):
    reference = _xplique()
    model, x, a, targets, one_hot = work
    theirs = reference.MuFidelity(model, x, one_hot, batch_size=64, grid_size=4, nb_samples=20, baseline_mode=0.1)
    kept = _recorded_masks(theirs)
    expected = theirs.evaluate(a)
    masks = np.concatenate(kept)  # (N, 20, 12, 12): one 4 x 4 grid resized to 12 x 12
    hidden = 1.0 - masks[:, :, ::3, ::3]
    mufidelity = metrics.MuFidelity(grid_size=4, nb_samples=20, baseline=0.1)
    ours = mufidelity(model, x, a, targets=targets, perturbations=hidden)
    assert ours.mean == pytest.approx(expected, abs=1e-4)
    # Where the definitions part: the paper's Pearson correlation instead of xplique's Spearman.
    pearson = metrics.MuFidelity(grid_size=4, nb_samples=20, baseline=0.1, correlation="pearson")(
        model, x, a, targets=targets, perturbations=hidden
    )
    by_hand = [np.corrcoef(m, d)[0, 1] for m, d in zip(ours.masses, ours.drops)]
    np.testing.assert_allclose(pearson.scores, by_hand, atol=1e-10)
    assert abs(pearson.mean - expected) > 1e-3


def _tanh_inputs(tanh_mlp, rows):
    targets = tanh_mlp.predict(rows, verbose=0).argmax(axis=1)
    return tanh_mlp, rows, targets


def _gradients(model, x, targets):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.gather(model(x), targets, batch_dims=1)
    return tape.gradient(score, x).numpy().astype(np.float64)


@pytest.mark.parametrize("normalize", [False, True])
def test_infidelity_equals_captums_formula(normalize, tanh_mlp, rows):
    model, x, targets = _tanh_inputs(tanh_mlp, rows)
    a = _gradients(model, x, targets).astype(np.float32) * 1.7
    noise = np.random.default_rng(1).normal(0.0, 0.2, size=(len(x), 6) + x.shape[1:]).astype(np.float32)
    ours = metrics.Infidelity(nb_samples=6, normalize=normalize)(model, x, a, targets=targets, perturbations=noise)
    # captum: perturbation I, perturbed input x - I, infidelity E[(I . a - (f(x) - f(x - I)))^2].
    f = lambda v: model.predict(v, verbose=0).astype(np.float64)  # noqa: E731
    before = f(x)[np.arange(len(x)), targets]
    after = f((x[:, None] - noise).reshape(-1, x.shape[1])).reshape(len(x), 6, -1)
    drops = before[:, None] - np.take_along_axis(after, targets[:, None, None], axis=2)[..., 0]
    dots = np.einsum("nsf,nf->ns", noise.astype(np.float64), a.astype(np.float64))
    if normalize:
        beta = (dots * drops).sum(axis=1) / (dots**2).sum(axis=1)
        dots = beta[:, None] * dots
    np.testing.assert_allclose(ours.scores, ((dots - drops) ** 2).mean(axis=1), rtol=1e-4, atol=1e-9)


def test_max_sensitivity_equals_captums_formula(tanh_mlp, rows):
    model, x, targets = _tanh_inputs(tanh_mlp, rows)
    e = kx.GradientSaliency(model).explain(x, targets=targets)
    noise = np.random.default_rng(2).uniform(-0.05, 0.05, size=(len(x), 4) + x.shape[1:]).astype(np.float32)
    ours = metrics.MaxSensitivity(nb_samples=4)(model, x, e, perturbations=noise)
    # captum: max over the perturbations of ||a(x + d) - a(x)|| / ||a(x)||.
    start = _gradients(model, x, targets)
    moved = _gradients(model, (x[:, None] + noise).reshape(-1, x.shape[1]), np.repeat(targets, 4))
    changes = np.linalg.norm(moved.reshape(len(x), 4, -1) - start[:, None], axis=2)
    expected = (changes / np.linalg.norm(start, axis=1)[:, None]).max(axis=1)
    np.testing.assert_allclose(ours.scores, expected, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(ours.sensitivities.max(axis=1), ours.scores)


def _quantus_normalise(a):
    """Quantus' normalise_by_negative, per example."""
    out = np.empty_like(a, dtype=np.float64)
    for i, row in enumerate(a.astype(np.float64)):
        if row.min() >= 0:
            out[i] = row / row.max()
        elif row.max() <= 0:
            out[i] = -row / row.min()
        else:
            out[i] = (row > 0) * row / row.max() - (row < 0) * row / row.min()
    return out


@pytest.mark.parametrize("normalise", [False, True])
def test_faithfulness_correlation_equals_quantus_formula(normalise, linear_model, linear_weights, rows):
    kernel, bias = linear_weights
    targets = (rows @ kernel + bias).argmax(axis=1)
    a = (kernel[:, targets].T * rows).astype(np.float32)
    rng = np.random.default_rng(3)
    subsets = np.zeros((len(rows), 15, rows.shape[1]), np.float32)
    for i in range(len(rows)):
        for k in range(15):
            subsets[i, k, rng.choice(rows.shape[1], 2, replace=False)] = 1.0
    metric = metrics.FaithfulnessCorrelation(nb_samples=15, subset_size=2, normalise=normalise)
    ours = metric(linear_model, rows, a, targets=targets, perturbations=subsets)
    # Quantus: pearson(sum of the (normalised) attributions of the subset, f(x) - f(x with the subset at 0)).
    values = _quantus_normalise(a) if normalise else a.astype(np.float64)
    masses = (subsets * values[:, None]).sum(axis=2)
    scores = (rows @ kernel + bias)[np.arange(len(rows)), targets]
    hidden = rows[:, None] * (1 - subsets)
    drops = scores[:, None] - (hidden @ kernel + bias)[np.arange(len(rows)), :, targets]
    expected = [np.corrcoef(m, d)[0, 1] for m, d in zip(masses, drops)]
    np.testing.assert_allclose(ours.scores, expected, atol=1e-5)
    np.testing.assert_allclose(normalised(a), _quantus_normalise(a), atol=1e-6)
    if normalise:
        # Where Quantus' default differs: the exact attribution no longer scores 1.
        assert ours.mean < 0.99
    else:
        assert ours.scores.min() > 0.99


def test_per_pixel_attributions_equal_xplique(work):
    reference = _xplique()
    model, x, a, targets, one_hot = work
    heatmaps = a.sum(axis=-1)  # (N, H, W), as Grad-CAM and LIME give them
    deletion = reference.Deletion(model, x, one_hot, batch_size=32, steps=4)
    ours = metrics.Deletion(steps=4)(model, x, heatmaps, targets=targets)
    assert ours.mean == pytest.approx(float(deletion.evaluate(heatmaps)), abs=1e-4)
    mufidelity = reference.MuFidelity(model, x, one_hot, batch_size=64, grid_size=3, nb_samples=10)
    kept = _recorded_masks(mufidelity)
    expected = mufidelity.evaluate(heatmaps)
    hidden = 1.0 - np.concatenate(kept)[:, :, ::4, ::4]
    ours = metrics.MuFidelity(grid_size=3, nb_samples=10)(model, x, heatmaps, targets=targets, perturbations=hidden)
    assert ours.mean == pytest.approx(expected, abs=1e-4)
