"""LimeTabular: lime's statistics, sampler and surrogate, vectorised; parity with lime."""

import re

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from scipy import stats as scipy_stats
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

import keras_explain as kx
from keras_explain.api import build_explainer
from keras_explain.engine.tables import TableSchema
from keras_explain.methods.lime.tabular import LimeTabular, fit_surrogate
from keras_explain.methods.lime.tabular_sampler import NeighbourhoodSampler, first_reaching, uniform24
from keras_explain.methods.lime.tabular_stats import BINNED, TrainingStatistics

lime_tabular = pytest.importorskip("lime.lime_tabular")

SAMPLES = 5000


# -- tasks: small MLPs trained once per module ----------------------------------


def _mlp(x, outputs, activation, seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Normalization(mean=x.mean(axis=0), variance=x.var(axis=0)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(outputs, activation=activation),
        ]
    )


def _fast_predict(model, size):
    """A compiled predict function for lime (model.predict per call is slow)."""
    function = tf.function(
        lambda rows: model(rows, training=False),
        input_signature=[tf.TensorSpec((None, size), tf.float32)],
    )
    return lambda rows: function(rows.astype(np.float32)).numpy().astype(np.float64)


def _classification_task(loader, seed):
    data = loader()
    x, y = data.data.astype(np.float32), data.target
    model = _mlp(x, len(data.target_names), "softmax", seed)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=20, batch_size=64, verbose=0)
    rows = x[:: len(x) // 20][:20]
    return model, x, y, list(data.feature_names), rows, _fast_predict(model, x.shape[1])


@pytest.fixture(scope="module")
def breast_cancer_task():
    return _classification_task(load_breast_cancer, 0)


@pytest.fixture(scope="module")
def wine_task():
    return _classification_task(load_wine, 1)


@pytest.fixture(scope="module")
def diabetes_task():
    data = load_diabetes()
    x = data.data.astype(np.float32)
    y = ((data.target - data.target.mean()) / data.target.std()).astype(np.float32)
    model = _mlp(x, 1, None, 2)
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=30, batch_size=64, verbose=0)
    rows = x[:: len(x) // 20][:20]
    return model, x, y, list(data.feature_names), rows, _fast_predict(model, x.shape[1])


def _linear_model(weights, bias=0.0):
    model = keras.Sequential([keras.Input((len(weights),)), keras.layers.Dense(1)])
    model.layers[0].set_weights([np.asarray(weights, np.float32)[:, None], np.array([bias], np.float32)])
    return model


# -- parity with lime -------------------------------------------------------------


def _lime_weights(x, names, rows, predict, labels, num_features, seed, mode="classification", **options):
    explainer = lime_tabular.LimeTabularExplainer(
        x.astype(np.float64), mode=mode, feature_names=names, random_state=seed, **options
    )
    weights = np.zeros(rows.shape)
    for i, row in enumerate(rows):
        label = int(labels[i])
        explanation = explainer.explain_instance(
            row.astype(np.float64), predict, labels=(label,), num_features=num_features, num_samples=SAMPLES
        )
        key = label if mode == "classification" else 1
        for feature, weight in explanation.local_exp[key]:
            weights[i, feature] = weight
    return weights


def _agreement(ours, theirs):
    """Mean Spearman correlation of |weights| and mean top-5 overlap over rows."""
    spearman = np.mean([scipy_stats.spearmanr(np.abs(a), np.abs(b))[0] for a, b in zip(ours, theirs)])
    top = np.mean(
        [
            len(set(np.argsort(-np.abs(a))[:5]) & set(np.argsort(-np.abs(b))[:5])) / 5
            for a, b in zip(ours, theirs)
        ]
    )
    return spearman, top


@pytest.mark.parametrize("task", ["breast_cancer_task", "wine_task"])
def test_classification_parity_with_lime(task, request):
    model, x, _, names, rows, predict = request.getfixturevalue(task)
    e = LimeTabular(model, x, feature_names=names, random_state=0, verbose=0).explain(rows)
    np.testing.assert_array_equal(e.targets, np.argmax(predict(rows), axis=1))
    theirs = _lime_weights(x, names, rows, predict, e.targets, 10, seed=1)
    again = _lime_weights(x, names, rows, predict, e.targets, 10, seed=2)
    spearman, top = _agreement(e.attributions, theirs)
    lime_spearman, lime_top = _agreement(again, theirs)
    print(f"{task}: ours vs lime {spearman:.3f} {top:.2f}, lime vs lime {lime_spearman:.3f} {lime_top:.2f}")
    assert spearman >= 0.85 and top >= 0.8, (spearman, top)
    # Ours differs from lime no more than lime differs from itself under another seed.
    assert spearman >= lime_spearman - 0.05, (spearman, lime_spearman)
    assert top >= lime_top - 0.05, (top, lime_top)
    assert np.all(e.used.sum(axis=1) == 10)


def test_regression_parity_with_lime(diabetes_task):
    model, x, _, names, rows, predict = diabetes_task
    explainer = LimeTabular(model, x, feature_names=names, mode="regression", random_state=0, verbose=0)
    e = explainer.explain(rows, targets=np.ones(len(rows), int), num_features=10)
    np.testing.assert_array_equal(e.targets, 0)  # targets are ignored in regression
    theirs = _lime_weights(x, names, rows, predict, np.zeros(len(rows)), 10, seed=1, mode="regression")
    spearman, top = _agreement(e.attributions, theirs)
    print(f"diabetes regression: ours vs lime {spearman:.3f} {top:.2f}")
    assert spearman >= 0.85 and top >= 0.8, (spearman, top)
    np.testing.assert_allclose(e.predictions[:, 0], predict(rows)[:, 0], atol=1e-5)


def test_surrogate_on_lime_samples_equals_lime(breast_cancer_task):
    """Given lime's own neighbourhood, our distance, kernel and fit reproduce lime to 1e-8."""
    model, x, _, names, rows, predict = breast_cancer_task
    explainer = lime_tabular.LimeTabularExplainer(x.astype(np.float64), random_state=3)
    row = rows[4].astype(np.float64)
    data, inverse = explainer._LimeTabularExplainer__data_inverse(row, 800)
    scaled = (data - explainer.scaler.mean_) / explainer.scaler.scale_
    outputs = predict(inverse)
    distances = np.linalg.norm(scaled - scaled[0], axis=1)
    for method, count in (("auto", 10), ("forward_selection", 4), ("none", 30)):
        intercept, pairs, score, local = explainer.base.explain_instance_with_data(
            scaled, outputs, distances, 1, count, feature_selection=method
        )
        ours = fit_surrogate(scaled[None], outputs[None, :, 1:2], 0.75 * np.sqrt(30), count, method)
        expected = np.zeros(30)
        for feature, weight in pairs:
            expected[feature] = weight
        np.testing.assert_allclose(ours["coef"][0, 0], expected, atol=1e-8)
        assert ours["intercept"][0, 0] == pytest.approx(intercept, abs=1e-8)
        assert ours["score"][0, 0] == pytest.approx(score, abs=1e-8)
        assert ours["local_pred"][0, 0] == pytest.approx(local[0], abs=1e-8)


# -- training statistics and labels against lime's ---------------------------------


@pytest.mark.parametrize("discretizer", ["quartile", "decile", "entropy"])
def test_training_statistics_match_lime(breast_cancer_task, discretizer):
    _, x, y, names, rows, _ = breast_cancer_task
    x = x.astype(np.float64)
    theirs = lime_tabular.LimeTabularExplainer(
        x, feature_names=names, training_labels=y, discretizer=discretizer, random_state=0
    )
    schema, encoded = TableSchema.from_training(x, feature_names=names)
    ours = TrainingStatistics.compute(encoded, schema, discretizer=discretizer, training_labels=y, random_state=0)
    d = theirs.discretizer
    for j in range(x.shape[1]):
        assert ours.kind[j] == BINNED
        assert ours.labels[j] == d.names[j]
        np.testing.assert_allclose(ours.bin_mean[j], d.means[j], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ours.bin_std[j], d.stds[j], rtol=1e-12)
        np.testing.assert_allclose(ours.bin_min[j], d.mins[j], rtol=1e-12)
        np.testing.assert_allclose(ours.bin_max[j], d.maxs[j], rtol=1e-12)
        np.testing.assert_array_equal(ours.values[j], theirs.feature_values[j])
        np.testing.assert_allclose(ours.frequencies[j], theirs.feature_frequencies[j], rtol=1e-12)
    # Row labels: lime's discretized names of the same rows.
    labels = ours.feature_labels(rows.astype(np.float64), schema)
    for i, row in enumerate(rows[:5]):
        bins = d.discretize(row.astype(np.float64))
        assert list(labels[i]) == [d.names[j][int(bins[j])] for j in range(x.shape[1])]


def test_continuous_statistics_match_lime_scaler():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(200, 4))
    x[:, 2] = 7.0  # constant: scale 1, as StandardScaler sets it
    x[:, 3] = rng.integers(0, 3, size=200)
    theirs = lime_tabular.LimeTabularExplainer(x, categorical_features=[3], discretize_continuous=False)
    schema, encoded = TableSchema.from_training(x, categorical_features=[3])
    ours = TrainingStatistics.compute(encoded, schema, discretize=False)
    np.testing.assert_allclose(ours.mean, theirs.scaler.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.scale, theirs.scaler.scale_, rtol=1e-12)
    assert ours.scale[2] == 1.0
    np.testing.assert_array_equal(ours.values[3], theirs.feature_values[3])
    np.testing.assert_allclose(ours.frequencies[3], theirs.feature_frequencies[3])


# -- the sampler --------------------------------------------------------------------


def _draw(sampler, row, stats, count, seed=0, centres=None):
    rows = np.repeat(row[None].astype(np.float32), count, axis=0)
    positions = stats.row_positions(rows.astype(np.float64))
    inputs, interpretable = sampler(
        tf.constant(rows),
        tf.constant(positions),
        None if centres is None else tf.constant(np.repeat(centres[None], count, axis=0), tf.float32),
        tf.zeros(count, tf.int32),
        tf.range(1, count + 1),
        tf.constant(seed, tf.int64),
    )
    return inputs.numpy().astype(np.float64), interpretable.numpy().astype(np.float64)


def test_sampler_reproduces_lime_distribution(breast_cancer_task):
    _, x, _, names, rows, _ = breast_cancer_task
    x = x.astype(np.float64)
    schema, encoded = TableSchema.from_training(x, feature_names=names)
    stats = TrainingStatistics.compute(encoded, schema)
    count = 40000
    sampler = NeighbourhoodSampler(stats, count + 1)
    row = rows[3].astype(np.float64)
    inputs, same = _draw(sampler, row, stats, count)
    row_bins = stats.row_bins(row[None])[0]
    lime = lime_tabular.LimeTabularExplainer(x, random_state=0).discretizer
    for j in (0, 7, 23):
        edges = stats.edges[j]
        drawn = np.searchsorted(edges.astype(np.float32), inputs[:, j].astype(np.float32))
        # Bins by training frequency, "same bin" exactly when the value lies in the row's bin.
        frequencies = np.bincount(drawn, minlength=len(edges) + 1)[stats.values[j].astype(int)] / count
        np.testing.assert_allclose(frequencies, stats.frequencies[j], atol=0.01)
        np.testing.assert_array_equal(same[:, j], drawn == row_bins[j])
        for b in range(len(edges) + 1):
            values = inputs[drawn == b, j]
            low, high = stats.bin_min[j][b], stats.bin_max[j][b]
            assert values.min() >= low - 1e-5 * abs(low) and values.max() <= high + 1e-5 * abs(high)
            # The same truncated normal as lime's undiscretize (scipy truncnorm).
            theirs = lime.undiscretize(np.full((3000, x.shape[1]), b, dtype=float))[:, j]
            assert scipy_stats.ks_2samp(values, theirs).pvalue > 1e-3, (j, b)


def test_sampler_continuous_and_categorical():
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(10.0, 3.0, 500), rng.integers(0, 4, 500), np.full(500, 2.5)])
    schema, encoded = TableSchema.from_training(x, categorical_features=[1])
    stats = TrainingStatistics.compute(encoded, schema, discretize=False)
    count = 40000
    sampler = NeighbourhoodSampler(stats, count + 1)
    row = np.array([4.0, 2.0, 2.5])
    inputs, interpretable = _draw(sampler, row, stats, count)
    # Continuous: Normal(mean, scale); representation (value - mean) / scale.
    assert inputs[:, 0].mean() == pytest.approx(x[:, 0].mean(), abs=4 * x[:, 0].std() / np.sqrt(count))
    assert inputs[:, 0].std() == pytest.approx(x[:, 0].std(), rel=0.02)
    scaled = (inputs[:, 0] - x[:, 0].mean()) / x[:, 0].std()
    np.testing.assert_allclose(interpretable[:, 0], scaled, rtol=1e-4, atol=1e-5)
    # The constant column: LIME's scale of 1 around the constant, never a division by zero.
    assert inputs[:, 2].std() == pytest.approx(1.0, rel=0.02)
    # Categories by training frequency; 1 where the category is the row's.
    frequencies = np.bincount(inputs[:, 1].astype(int), minlength=4) / count
    np.testing.assert_allclose(frequencies, np.bincount(x[:, 1].astype(int)) / 500, atol=0.01)
    np.testing.assert_array_equal(interpretable[:, 1], inputs[:, 1] == 2.0)
    # Around the instance: Normal(row, scale).
    around, _ = _draw(sampler, row, stats, count, centres=row)
    assert around[:, 0].mean() == pytest.approx(4.0, abs=4 * x[:, 0].std() / np.sqrt(count))


def test_first_sample_is_the_row(breast_cancer_task):
    model, x, _, names, rows, _ = breast_cancer_task
    schema, encoded = TableSchema.from_training(x)
    stats = TrainingStatistics.compute(encoded, schema)
    sampler = NeighbourhoodSampler(stats, 10)
    for i in range(3):
        inputs, interpretable = sampler(
            tf.constant(np.repeat(rows[i : i + 1], 3, axis=0)),
            tf.constant(stats.row_positions(np.repeat(rows[i : i + 1], 3, axis=0).astype(np.float64))),
            None,
            tf.fill([3], i),
            tf.range(3),
            tf.constant(5, tf.int64),
        )
        np.testing.assert_array_equal(inputs.numpy()[0], rows[i])
        np.testing.assert_array_equal(interpretable.numpy()[0], 1)
        assert np.all(inputs.numpy()[1:] != rows[i])
        assert interpretable.dtype == tf.uint8
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-consecutive pairs"):
        sampler(
            tf.constant(rows[:2]),
            tf.zeros((2, 30), tf.int32),
            None,
            tf.constant([0, 1]),
            tf.constant([0, 0]),
            tf.constant(5, tf.int64),
        )


def test_integer_thresholds_equal_float_comparisons():
    """A draw's 24-bit integer k is read as the float32 uniform (k + 0.5) / 2**24; comparing
    k with first_reaching(c) is the same test as comparing that uniform with c."""
    k = np.arange(2**24)
    u = uniform24(k)
    # The sampler's own float32 arithmetic gives the same uniforms.
    sample = np.random.default_rng(0).integers(0, 2**24, 1000)
    on_device = (tf.cast(tf.constant(sample, tf.uint64), tf.float32) + 0.5) * tf.constant(2.0**-24, tf.float32)
    np.testing.assert_array_equal(on_device.numpy(), u[sample])
    assert u.min() > 0 and np.all(np.diff(u) >= 0)
    values = np.concatenate(
        [
            np.array([2**-26, 1 / 3, 0.5, 0.5 + 2**-24, 0.75, 1 - 2**-24, 1.0, 2.0], np.float32),
            np.random.default_rng(1).uniform(0, 1, 6).astype(np.float32),
        ]
    )
    thresholds = first_reaching(values)
    for value, threshold in zip(values, thresholds):
        np.testing.assert_array_equal(k >= threshold, u >= value)
    # 2.0 is never reached; 1.0 only by the largest k, whose uniform rounds up to 1.
    assert thresholds[7] == 2**24 and thresholds[6] == 2**24 - 1


def test_streamed_surrogate_equals_a_fit_on_all_samples(breast_cancer_task):
    """explain() folds each batch into per-row sums; a fit on all samples at once agrees."""
    model, x, _, _, rows, _ = breast_cancer_task
    rows, samples = rows[:4], 700
    for options, num_features in (
        ({}, 10),
        ({"discretize_continuous": False}, 6),
        ({"discretize_continuous": False, "sample_around_instance": True}, 4),
    ):
        explainer = LimeTabular(
            model, x, num_samples=samples, random_state=3, batch_size=333, verbose=0, **options
        )
        e = explainer.explain(rows, num_features=num_features)
        tiled = np.repeat(rows, samples, axis=0)
        inputs, interpretable = explainer._sampler(
            tf.constant(tiled),
            tf.constant(explainer.stats.row_positions(tiled.astype(np.float64))),
            tf.constant(tiled) if options.get("sample_around_instance") else None,
            tf.constant(np.repeat(np.arange(len(rows)), samples), tf.int32),
            tf.tile(tf.range(samples), [len(rows)]),
            tf.constant(3, tf.int64),
        )
        outputs = model(inputs).numpy()[np.arange(len(tiled)), np.repeat(e.targets, samples)]
        fitted = fit_surrogate(
            interpretable.numpy().reshape(len(rows), samples, -1),
            outputs.reshape(len(rows), samples, 1),
            explainer.kernel_width,
            num_features,
            "auto",
        )
        np.testing.assert_array_equal(e.used, fitted["used"][:, 0])
        np.testing.assert_allclose(e.attributions, fitted["coef"][:, 0], atol=1e-6)
        for key in ("intercept", "score", "local_pred"):
            np.testing.assert_allclose(getattr(e, key), fitted[key][:, 0], atol=1e-6, err_msg=key)


# -- the maths on a linear model ------------------------------------------------------


def test_linear_model_without_discretization_recovers_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 6)) * np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0])
    weights = np.array([3.0, -2.0, 1.0, 0.8, 0.0, -0.1])
    model = _linear_model(weights, bias=0.3)
    explainer = LimeTabular(
        model, x, mode="regression", discretize_continuous=False, random_state=0, verbose=0
    )
    rows = x[:5].astype(np.float32)
    e = explainer.explain(rows, num_features=6)
    # The surrogate sees standardised features: its weight is w * scale, exactly linear.
    np.testing.assert_allclose(e.attributions, np.tile(weights * x.std(axis=0), (5, 1)), rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(e.score, 1.0, atol=1e-5)
    np.testing.assert_allclose(e.local_pred, e.predictions[:, 0], rtol=2e-3)
    assert [name for name, _ in e.as_list(0)] == ["1", "0", "3", "2", "5", "4"]


def test_linear_model_ranks_largest_weights_first():
    """With quartile bins, a linear model's explanation ranks its largest weights first.

    Being in the row's quartile moves the output by w times the gap between
    the mean of the values sampled in that quartile and in the others: about
    1.8 standard deviations for an outer quartile (0.4 for a middle one). For
    rows in outer quartiles of every feature the gap is about the same for
    every feature, so the surrogate's weights are ordered like |w|.
    """
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 8))
    weights = np.array([0.0, -4.0, 0.0, 2.0, 0.0, -1.0, 0.0, 0.5])
    names = [f"f{j}" for j in range(8)]
    rows = rng.choice([-1.5, 1.5], size=(10, 8)).astype(np.float32)
    explainer = LimeTabular(
        _linear_model(weights), x, feature_names=names, mode="regression", num_samples=20000,
        random_state=0, verbose=0,
    )
    e = explainer.explain(rows, num_features=4)
    for i in range(10):
        ranked = [re.search(r"f\d", label).group() for label, _ in e.as_list(i)]
        assert ranked == ["f1", "f3", "f5", "f7"]
    np.testing.assert_array_equal(e.attributions[:, [0, 2, 4, 6]], 0.0)
    # The expected weight: w times the gap of scipy truncnorm means, in the row's bin vs the others.
    stats = explainer.stats
    for j in (1, 3, 5, 7):
        low, high = stats.bin_min[j], stats.bin_max[j]
        mean, std = stats.bin_mean[j], stats.bin_std[j]
        a, b = (low - mean) / std, (high - mean) / std
        sampled = scipy_stats.truncnorm.mean(a, b, loc=mean, scale=std)
        frequencies = stats.frequencies[j]
        for i in range(10):
            own = 3 if rows[i, j] > 0 else 0
            others = np.delete(np.arange(4), own)
            gap = sampled[own] - np.average(sampled[others], weights=frequencies[others])
            # Sampling noise: a standard error of about 0.065 (f1's spread outside its bin).
            assert e.attributions[i, j] == pytest.approx(weights[j] * gap, rel=0.05, abs=0.2), (i, j)


# -- determinism, batch size, compilation ------------------------------------------------


def test_seed_determinism_and_batch_size_invariance(breast_cancer_task):
    model, x, _, _, rows, _ = breast_cancer_task
    rows = rows[:6]
    base = LimeTabular(model, x, num_samples=700, random_state=7, verbose=0)
    first = base.explain(rows)
    again = base.explain(rows)
    np.testing.assert_array_equal(first.attributions, again.attributions)
    np.testing.assert_array_equal(first.intercept, again.intercept)
    for batch_size in (7, 333, 5000):
        other = LimeTabular(model, x, num_samples=700, random_state=7, batch_size=batch_size, verbose=0)
        e = other.explain(rows)
        np.testing.assert_allclose(e.attributions, first.attributions, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(e.score, first.score, rtol=1e-5, atol=1e-6)
    different = LimeTabular(model, x, num_samples=700, random_state=8, verbose=0).explain(rows)
    assert np.abs(different.attributions - first.attributions).max() > 1e-3
    unseeded = LimeTabular(model, x, num_samples=700, verbose=0)
    assert np.abs(unseeded.explain(rows).attributions - unseeded.explain(rows).attributions).max() > 1e-3


def test_compiled_once(breast_cancer_task):
    model, x, _, _, rows, _ = breast_cancer_task
    explainer = LimeTabular(model, x, num_samples=300, batch_size=256, random_state=0, verbose=0)
    explainer.explain(rows[:3])
    count = explainer.trace_count
    explainer.explain(rows[:7], num_features=4)
    explainer.explain(rows[:1])
    assert explainer.trace_count == count


# -- tables: DataFrames, string categories, constant columns -------------------------------


@pytest.fixture(scope="module")
def shop_table():
    rng = np.random.default_rng(4)
    count = 400
    frame = pd.DataFrame(
        {
            "price": rng.normal(20.0, 5.0, count),
            "colour": rng.choice(["red", "green", "blue"], count, p=[0.5, 0.3, 0.2]),
            "grade": pd.Categorical(
                rng.choice(["low", "high", "mid"], count), categories=["low", "mid", "high"]
            ),
            "flat": np.full(count, 3.0),
            "only": ["x"] * count,
        }
    )
    # The model sees the codes: colour sorted (blue 0, green 1, red 2), grade in category order.
    model = _linear_model([0.2, 1.5, -1.0, 0.7, 0.4])
    return frame, model


def test_dataframe_with_string_categories(shop_table, tmp_path):
    frame, model = shop_table
    explainer = LimeTabular(
        model,
        frame,
        categorical_features=["colour", "grade", "only"],
        mode="regression",
        random_state=0,
        verbose=0,
    )
    assert explainer.feature_names == ["price", "colour", "grade", "flat", "only"]
    assert explainer.categorical_features == [1, 2, 4]
    rows = frame.iloc[:4][["grade", "price", "only", "flat", "colour"]]  # matched by name
    e = explainer.explain(rows, num_features=5)
    codes = {"blue": 0, "green": 1, "red": 2}
    np.testing.assert_array_equal(e.inputs[:, 1], [codes[c] for c in frame.colour[:4]])
    np.testing.assert_array_equal(e.inputs[:, 2], frame.grade.cat.codes[:4])
    for i in range(4):
        assert e.feature_labels[i, 1] == f"colour = {frame.colour[i]}"
        assert e.feature_labels[i, 2] == f"grade = {frame.grade[i]}"
        assert e.feature_labels[i, 4] == "only = x"
        assert e.feature_values[i, 1] == frame.colour[i]
    assert e.feature_labels[0, 3] == "flat <= 3.00"
    # Constant and single-category columns never vary: weight 0, no NaN.
    assert np.all(np.isfinite(e.attributions))
    np.testing.assert_array_equal(e.attributions[:, [3, 4]], 0.0)
    assert np.all(np.abs(e.attributions[:, :3]) > 1e-3)
    # Positional object arrays with strings work too, and give the same explanation.
    same = explainer.explain(frame.iloc[:4].to_numpy(dtype=object), num_features=5)
    np.testing.assert_array_equal(same.attributions, e.attributions)
    # Five features: an odd count per pair in the random stream, still batch-size invariant.
    for batch_size in (997, 1234):
        other = LimeTabular(
            model, frame, categorical_features=["colour", "grade", "only"], mode="regression",
            random_state=0, batch_size=batch_size, verbose=0,
        )
        np.testing.assert_allclose(other.explain(rows, num_features=5).attributions, e.attributions, atol=1e-6)
    # get_config round trip: the same explainer, the same explanation.
    rebuilt = LimeTabular.from_config(explainer.get_config(), model)
    np.testing.assert_array_equal(rebuilt.explain(rows, num_features=5).attributions, e.attributions)
    # Save and load keep the string extras.
    loaded = kx.Explanation.load(e.save(tmp_path / "shop"))
    assert loaded.feature_labels.dtype.kind == "U"
    np.testing.assert_array_equal(loaded.feature_labels, e.feature_labels)
    np.testing.assert_array_equal(loaded.feature_values, e.feature_values)
    assert loaded.feature_names == e.feature_names
    assert loaded.as_list(2) == e.as_list(2)


def test_categorical_names_give_codes_and_labels():
    rng = np.random.default_rng(5)
    x = np.column_stack([rng.normal(size=300), rng.integers(0, 3, 300)])
    model = _linear_model([1.0, 2.0])
    explainer = LimeTabular(
        model, x, feature_names=["a", "kind"], categorical_features=["kind"],
        categorical_names={1: ["cat", "dog", "fish"]}, mode="regression", random_state=0, verbose=0,
    )
    e = explainer.explain(np.array([[0.1, 2.0], [0.2, 0.0]]))
    assert list(e.feature_labels[:, 1]) == ["kind = fish", "kind = cat"]
    assert list(e.feature_values[:, 1]) == ["fish", "cat"]


def test_as_list_as_dataframe_and_plot(breast_cancer_task):
    model, x, _, names, rows, _ = breast_cancer_task
    e = LimeTabular(model, x, feature_names=names, num_samples=500, random_state=0, verbose=0).explain(
        rows[:3], num_features=4
    )
    listed = e.as_list(1)
    assert len(listed) == 4 and listed == e.as_list(1, label=int(e.targets[1]))
    weights = [w for _, w in listed]
    assert weights == sorted(weights, key=lambda w: -abs(w))
    chosen = np.flatnonzero(e.used[1])
    assert sorted(label for label, _ in listed) == sorted(e.feature_labels[1, chosen])
    frame = e.as_dataframe()
    assert list(frame.columns) == ["input", "target", "feature", "label", "value", "attribution", "used"]
    assert len(frame) == 3 * 30
    row = frame[(frame.input == 1) & (frame.feature == names[chosen[0]])].iloc[0]
    assert row.attribution == pytest.approx(e.attributions[1, chosen[0]])
    assert row.label == e.feature_labels[1, chosen[0]] and bool(row.used)
    with pytest.raises(ValueError) as error:
        e.as_list(0, label=1 - int(e.targets[0]))
    assert str(error.value) == (
        f"label: expected None or {int(e.targets[0])}, the output explained for input 0, "
        f"received {1 - int(e.targets[0])}."
    )
    figure = e.plot(max_samples=2)
    assert len(figure.axes) == 2 and len(figure.axes[0].patches) == 10


def test_registry_finds_lime_tabular(breast_cancer_task):
    model, x, _, _, rows, _ = breast_cancer_task
    explainer, call = build_explainer(
        model, "lime_tab", training_data=x, num_samples=300, num_features=3, random_state=0
    )
    assert isinstance(explainer, LimeTabular) and call == {"num_features": 3}
    e = kx.explain(
        model, rows[:2], method="lime_tabular", training_data=x, num_samples=300, random_state=0, verbose=0
    )
    assert e.method == "lime_tabular" and e.attributions.shape == (2, 30)


# -- bad input -------------------------------------------------------------------------


def _message(call):
    with pytest.raises(ValueError) as error:
        call()
    return str(error.value)


def test_errors_name_the_column(breast_cancer_task, shop_table):
    model, x, _, names, rows, _ = breast_cancer_task
    frame = pd.DataFrame(x, columns=names)
    bad = frame.copy()
    bad.iloc[5, 0] = np.nan
    assert _message(lambda: LimeTabular(model, bad)) == (
        "training_data: expected finite values, received 1 NaN or infinite value(s) in column "
        "'mean radius' (the first in row 5)."
    )
    explainer = LimeTabular(model, frame, num_samples=100, verbose=0)
    bad_rows = frame.iloc[:3].copy()
    bad_rows.iloc[2, 3] = np.inf
    assert _message(lambda: explainer.explain(bad_rows)) == (
        "rows: expected finite values, received 1 NaN or infinite value(s) in column "
        "'mean area' (the first in row 2)."
    )
    assert _message(lambda: explainer.explain(rows[:, :29])) == (
        "rows: expected a table of shape (N, 30), one column per feature, received an array "
        "of shape (20, 29) and dtype float32."
    )
    assert _message(lambda: explainer.explain(rows[0])) == (
        "rows: expected a table of shape (N, 30), received an array of shape (30,) and dtype "
        "float32 (a single row needs a batch dimension: pass row[None])."
    )
    assert _message(lambda: explainer.explain(frame.iloc[:2, 1:])) == (
        "rows: expected the columns of training_data, received a DataFrame without column 'mean radius'."
    )
    assert _message(lambda: LimeTabular(model, x[:, :20])) == (
        "model: expected a model taking (N, 20) rows like training_data, received a model with "
        "input shape (None, 30)."
    )
    assert _message(lambda: LimeTabular(model, x, mode="regression")) == (
        "model: expected a single-output model for mode='regression', received a model with 2 outputs."
    )
    assert _message(lambda: LimeTabular(model, x, discretizer="entropy")) == (
        "training_labels: expected class labels of the training rows for discretizer='entropy', "
        "received None."
    )
    assert _message(lambda: LimeTabular(model, frame, categorical_features=["mean colour"])) == (
        "categorical_features: expected column indices (0 to 29) or names of training_data "
        "('mean radius', 'mean texture', 'mean perimeter', 'mean area', 'mean smoothness', ...), "
        "received 'mean colour'."
    )
    shop, shop_model = shop_table
    assert _message(lambda: LimeTabular(shop_model, shop, categorical_features=["grade", "only"])) == (
        "training_data: expected numbers in column 'colour', received strings such as 'red'; "
        "declare it in categorical_features."
    )
    shop_explainer = LimeTabular(
        shop_model, shop, categorical_features=["colour", "grade", "only"], mode="regression", verbose=0
    )
    purple = shop.iloc[:3].copy()
    purple.loc[purple.index[1], "colour"] = "purple"
    assert _message(lambda: shop_explainer.explain(purple)) == (
        "rows: expected a category of column 'colour' seen in training_data ('blue', 'green', "
        "'red'), received 'purple' in row 1."
    )
    numeric = LimeTabular(
        _linear_model([1.0, 1.0]), np.array([[0.5, 1], [0.7, 2], [0.1, 1]]), categorical_features=[1],
        mode="regression", verbose=0,
    )
    assert _message(lambda: numeric.explain(np.array([[0.2, 1.0], [0.3, 4.0]]))) == (
        "rows: expected a category of column '1' seen in training_data (1, 2), received 4 in row 1."
    )
