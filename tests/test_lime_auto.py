"""num_samples="auto" for LimeImage, LimeTabular and KernelShap: agreement, prefixes, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_breast_cancer
from test_kernel_shap import _brute_force

import keras_explain as kx
from keras_explain.engine.draws import PrecisionWarning
from keras_explain.methods.lime import surrogate
from keras_explain.methods.lime.base import sample_levels


def _top(weights, k=5):
    return [set(np.argsort(-np.abs(row), kind="stable")[:k]) for row in weights]


def _error(build):
    with pytest.raises(ValueError) as info:
        build()
    return str(info.value)


@pytest.fixture(scope="module")
def breast_cancer_mlp():
    data = load_breast_cancer()
    x = data.data.astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((30,)),
            keras.layers.Normalization(mean=x.mean(axis=0), variance=x.var(axis=0)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(2),
        ]
    )
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, data.target, epochs=20, batch_size=64, verbose=0)
    return model, x, x[::28][:20]


def test_levels_double_up_to_max_samples():
    assert sample_levels(8192) == [128, 256, 512, 1024, 2048, 4096, 8192]
    assert sample_levels(1000) == [128, 256, 512, 1000]
    assert sample_levels(128) == [128]


# -- agreement with a 10,000-sample run --------------------------------------------------


@pytest.mark.slow
def test_auto_lime_image_agrees_with_ten_thousand_samples_on_quadrants(quadrant_task):
    model, x_test, _, _ = quadrant_task
    x = x_test[:30]
    auto = kx.LimeImage(model, num_samples="auto", random_state=0, verbose=0).explain(x)
    reference = kx.LimeImage(model, num_samples=10000, random_state=1, verbose=0).explain(x)
    agree = np.mean([a == b for a, b in zip(_top(auto.segment_weights[:, 0]), _top(reference.segment_weights[:, 0]))])
    print(f"quadrants: top-5 sets equal on {agree:.2f} of images, mean samples {auto.samples_used.mean():.0f}")
    assert agree >= 0.9
    assert (auto.samples_used < 8192).sum() >= 27
    assert auto.samples_used.mean() <= 400  # 0.4 x lime's 1000 passes
    assert auto.standard_errors.shape == auto.segment_weights.shape
    # An auto result is the fixed run with as many masks, bit for bit.
    for i in (0, int(np.argmax(auto.samples_used))):
        fixed = kx.LimeImage(model, num_samples=int(auto.samples_used[i]), random_state=0, verbose=0).explain(x)
        np.testing.assert_array_equal(fixed.segment_weights[i], auto.segment_weights[i])
        np.testing.assert_array_equal(fixed.intercept[i], auto.intercept[i])


@pytest.mark.slow
def test_auto_lime_tabular_agrees_with_ten_thousand_samples_on_breast_cancer(breast_cancer_mlp):
    """Top-5 sets of two 10,000-sample runs with other seeds are equal on only 70 % of these rows
    (30 correlated features): agreement is at least 4 of the top 5 shared."""
    model, x, rows = breast_cancer_mlp
    options = dict(tolerance=0.1, max_samples=16384, verbose=0)
    auto = kx.LimeTabular(model, x, num_samples="auto", random_state=0, **options).explain(rows)
    reference = kx.LimeTabular(model, x, num_samples=10000, random_state=1, verbose=0).explain(rows)
    shared = [len(a & b) for a, b in zip(_top(auto.attributions), _top(reference.attributions))]
    agree = np.mean(np.array(shared) >= 4)
    print(f"breast cancer: >= 4 of top 5 on {agree:.2f} of rows, samples {auto.samples_used}")
    assert agree >= 0.9
    assert (auto.samples_used < 16384).sum() >= 12
    i = int(np.argmin(auto.samples_used))
    fixed = kx.LimeTabular(model, x, num_samples=int(auto.samples_used[i]), random_state=0, verbose=0).explain(rows)
    np.testing.assert_array_equal(fixed.attributions[i], auto.attributions[i])


# -- KernelShap --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def twelve_features():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(2)])
    rng = np.random.default_rng(0)
    background = rng.normal(size=(4, 12)).astype("float32")
    x = rng.normal(size=(3, 12)).astype("float32") * 1.5
    return model, background, x


def test_kernel_shap_auto_is_within_its_tolerance_of_the_exact_values(twelve_features):
    model, background, x = twelve_features
    tolerance = 0.05
    e = kx.KernelShap(model, background, random_state=0, tolerance=tolerance, verbose=0).explain(x)
    exact = _brute_force(model, x, background, e.targets, np.arange(12))
    error = np.abs(e.attributions - exact)
    assert np.all(error.max(axis=1) <= tolerance * np.abs(exact).max(axis=1))
    # The reported standard errors are the scale of the error.
    assert np.all(error <= 3.0 * e.standard_errors + 1e-6)
    assert np.all(e.samples_used < 2**12 - 2)
    scores = model.predict(x, verbose=0).astype(np.float64)[np.arange(len(x)), e.targets]
    np.testing.assert_allclose(e.attributions.sum(axis=1), scores - e.expected_value, atol=1e-5)
    assert np.abs(e.additivity_gap).max() < 1e-5
    # Each level is the fixed plan of its budget.
    i = int(np.argmax(e.samples_used))
    fixed = kx.KernelShap(model, background, num_samples=int(e.samples_used[i]), random_state=0, verbose=0)
    np.testing.assert_allclose(fixed.explain(x[i : i + 1]).attributions[0], e.attributions[i], atol=1e-7)


def test_kernel_shap_auto_enumerates_up_to_eleven_features(tanh_mlp, rows):
    """M <= 11: "auto" is every coalition (no levels), the exact Shapley values."""
    background = rows[:4]
    e = kx.KernelShap(tanh_mlp, background, random_state=0, verbose=0).explain(rows[:3])
    np.testing.assert_allclose(e.attributions, _brute_force(tanh_mlp, rows[:3], background, e.targets, np.arange(5)),
                               atol=1e-6)
    with pytest.raises(AttributeError):
        e.samples_used


# -- determinism ---------------------------------------------------------------------------


def test_auto_results_do_not_depend_on_batch_size(breast_cancer_mlp, small_cnn, images, twelve_features):
    model, x, rows = breast_cancer_mlp
    runs = []
    for batch_size in (7, 64):
        runs.append(
            kx.LimeTabular(model, x, num_samples="auto", max_samples=1024, random_state=3, batch_size=batch_size,
                           verbose=0).explain(rows[:4])
        )
    again = kx.LimeTabular(model, x, num_samples="auto", max_samples=1024, random_state=3, verbose=0)
    runs.append(again.explain(rows[:4]))
    traced = again.trace_count
    again.explain(rows[4:9])  # other rows, other levels: the compiled step is reused
    assert again.trace_count == traced
    for other in runs[1:]:
        for name in ("attributions", "samples_used", "standard_errors", "intercept", "score"):
            np.testing.assert_array_equal(getattr(other, name), getattr(runs[0], name), err_msg=name)
    grid = np.repeat(np.repeat(np.arange(9).reshape(3, 3), 4, axis=0), 4, axis=1)
    image_runs = [
        kx.LimeImage(small_cnn, num_samples="auto", max_samples=512, segmentation=np.stack([grid] * 2),
                     random_state=1, batch_size=batch_size, verbose=0).explain(images[:2])
        for batch_size in (7, 64)
    ]
    for name in ("segment_weights", "samples_used", "standard_errors"):
        np.testing.assert_array_equal(getattr(image_runs[0], name), getattr(image_runs[1], name), err_msg=name)
    shap_model, background, shap_x = twelve_features
    shap_runs = [
        kx.KernelShap(shap_model, background, random_state=2, batch_size=batch_size, verbose=0).explain(shap_x)
        for batch_size in (7, 64)
    ]
    for name in ("attributions", "samples_used", "standard_errors"):
        np.testing.assert_array_equal(getattr(shap_runs[0], name), getattr(shap_runs[1], name), err_msg=name)


# -- the standard errors -------------------------------------------------------------------


def test_standard_errors_equal_a_weighted_least_squares_by_hand(breast_cancer_mlp):
    model, x, rows = breast_cancer_mlp
    explainer = kx.LimeTabular(model, x, num_samples="auto", max_samples=1024, random_state=4, verbose=0)
    e = explainer.explain(rows[:3], num_features=6)
    for i in range(3):
        count = int(e.samples_used[i])
        tiled = np.repeat(rows[i : i + 1], count, axis=0)
        inputs, interpretable = explainer._sampler(
            tf.constant(tiled),
            tf.constant(explainer.stats.row_positions(tiled.astype(np.float64))),
            None,
            tf.fill([count], i),
            tf.range(count),
            tf.constant(4, tf.int64),
        )
        z = interpretable.numpy().astype(np.float64)
        y = model(inputs).numpy().astype(np.float64)[:, e.targets[i]]
        # LIME's kernel: sqrt(exp(-d^2 / width^2)) is the sample's weight.
        w = np.sqrt(np.exp(-np.sum((z - z[0]) ** 2, axis=1) / explainer.kernel_width**2))
        used = np.flatnonzero(e.used[i])
        # Ridge with an unpenalised intercept on [1, z_used]; statsmodels' WLS scale.
        design = np.column_stack([np.ones(count), z[:, used]])
        penalty = np.diag([0.0] + [1.0] * len(used))
        inverse = np.linalg.inv(design.T @ (w[:, None] * design) + penalty)
        beta = inverse @ design.T @ (w * y)
        sigma2 = np.sum(w * (y - design @ beta) ** 2) / (count - len(used) - 1)
        expected = np.zeros(30)
        expected[used] = np.sqrt(sigma2 * np.diag(inverse)[1:])
        np.testing.assert_allclose(e.attributions[i, used], beta[1:], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(e.standard_errors[i, 0], expected, rtol=1e-5, atol=1e-9)


def test_surrogate_standard_errors_are_zero_for_an_exact_fit():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(2, 300, 4)).astype(np.float64)
    Y = (X @ np.array([1.0, -2.0, 0.5, 0.0]))[..., None] + 0.25
    stats = surrogate.statistics(X, Y, np.ones((2, 300)))
    fitted = surrogate.fit_statistics(stats, feature_selection="none", alpha=0.0)
    errors = surrogate.standard_errors(stats, fitted["coef"], fitted["used"], 0.0)
    np.testing.assert_allclose(errors, 0.0, atol=1e-7)
    assert np.all(stats.count == 300)


# -- bad input -----------------------------------------------------------------------------


def test_bad_auto_arguments_are_refused_with_clear_messages(small_cnn, tanh_mlp, rows, breast_cancer_mlp):
    model, x, _ = breast_cancer_mlp
    builders = {
        "LimeImage": lambda **o: kx.LimeImage(small_cnn, **o),
        "LimeTabular": lambda **o: kx.LimeTabular(model, x, **o),
        "KernelShap": lambda **o: kx.KernelShap(tanh_mlp, rows[:4], **o),
    }
    for name, build in builders.items():
        assert _error(lambda: build(num_samples="automatic")) == (
            "num_samples: expected 'auto' or an integer >= 2, received 'automatic'."
        ), name
        for tolerance in (0, -0.1):
            assert _error(lambda: build(num_samples="auto", tolerance=tolerance)) == (
                f"tolerance: expected a number > 0 (a standard error relative to the largest |weight|), "
                f"received {tolerance!r}."
            ), name
        assert _error(lambda: build(num_samples="auto", max_samples=100)) == (
            "max_samples: expected an integer >= 128 (the first level of num_samples='auto'), received 100."
        ), name


def test_examples_stopped_by_max_samples_are_warned_about(breast_cancer_mlp, twelve_features):
    """A single level never confirms a top 5, so every example stops at max_samples, and is said to."""
    model, x, rows = breast_cancer_mlp
    with pytest.warns(PrecisionWarning) as caught:
        e = kx.LimeTabular(model, x, num_samples="auto", max_samples=128, random_state=0, verbose=0).explain(rows[:3])
    assert str(caught[0].message) == (
        "LimeTabular: 3 of 3 example(s) did not reach the tolerance 0.05 within max_samples=128 "
        "(e.samples_used says how many each drew); raise max_samples or the tolerance."
    )
    np.testing.assert_array_equal(e.samples_used, [128, 128, 128])
    shap_model, background, shap_x = twelve_features
    with pytest.warns(PrecisionWarning, match=r"^KernelShap: 3 of 3 example\(s\) did not reach the tolerance 1e-09"):
        kx.KernelShap(shap_model, background, tolerance=1e-9, max_samples=256, random_state=0, verbose=0).explain(
            shap_x
        )
