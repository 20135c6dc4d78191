"""LimeTabular's table sampler draws lime's distributions: truncated normals per bin, frequencies, normals."""

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats as scipy_stats
from sklearn.datasets import load_breast_cancer

from keras_explain.engine.random import pair_bits, pair_bits_numpy, splitmix64
from keras_explain.engine.tables import TableSchema
from keras_explain.methods.lime.tabular_sampler import NeighbourhoodSampler
from keras_explain.methods.lime.tabular_stats import TrainingStatistics

lime_tabular = pytest.importorskip("lime.lime_tabular")

DRAWS = 100_000


def _sample(sampler, stats, row, count, first=1, example=0, seed=0, centres=None):
    rows = np.repeat(row[None].astype(np.float32), count, axis=0)
    inputs, same, _ = sampler.draw(
        tf.constant(rows),
        tf.constant(stats.row_positions(rows.astype(np.float64))),
        None if centres is None else tf.constant(np.repeat(centres[None], count, axis=0), tf.float32),
        tf.fill([count], example),
        tf.range(first, first + count),
        tf.constant(seed, tf.int64),
    )
    return inputs.numpy().astype(np.float64), same.numpy()


@pytest.fixture(scope="module")
def breast_cancer():
    x = load_breast_cancer().data
    columns = [0, 7, 23]  # a few features; bins 0 and 3 are the edge bins
    schema, encoded = TableSchema.from_training(x[:, columns])
    stats = TrainingStatistics.compute(encoded, schema)
    lime = lime_tabular.LimeTabularExplainer(x[:, columns], random_state=0)
    return x[:, columns], stats, lime


def test_values_in_every_bin_follow_lime_truncated_normal(breast_cancer):
    x, stats, lime = breast_cancer
    sampler = NeighbourhoodSampler(stats, 2)
    # About 4.4 x DRAWS draws: each quartile bin gets more than DRAWS values.
    inputs, same = _sample(sampler, stats, x[5], int(4.4 * DRAWS))
    discretizer = lime.discretizer
    for j in range(x.shape[1]):
        edges = stats.edges[j]
        drawn = np.searchsorted(edges.astype(np.float32), inputs[:, j].astype(np.float32))
        frequencies = np.bincount(drawn, minlength=len(edges) + 1) / len(drawn)
        np.testing.assert_allclose(frequencies, lime.feature_frequencies[j], atol=0.004)
        np.testing.assert_array_equal(same[:, j], drawn == stats.row_bins(x[5][None])[0, j])
        for b in range(len(edges) + 1):
            values = inputs[drawn == b, j][:DRAWS]
            assert len(values) == DRAWS
            # lime's undiscretize: scipy truncnorm with the bin's mean and std, cut at its min and max.
            mean, std = discretizer.means[j][b], discretizer.stds[j][b]
            low, high = discretizer.mins[j][b], discretizer.maxs[j][b]
            theirs = scipy_stats.truncnorm((low - mean) / std, (high - mean) / std, loc=mean, scale=std)
            statistic = scipy_stats.kstest(values, theirs.cdf).statistic
            assert statistic < 0.01, (j, b, statistic)
            assert values.min() >= np.float32(low) and values.max() <= np.float32(high)


def test_normals_and_categories_without_discretization():
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(10.0, 3.0, 500), rng.integers(0, 4, 500)])
    schema, encoded = TableSchema.from_training(x, categorical_features=[1])
    stats = TrainingStatistics.compute(encoded, schema, discretize=False)
    sampler = NeighbourhoodSampler(stats, 2)
    row = np.array([4.0, 2.0])
    inputs, same = _sample(sampler, stats, row, DRAWS)
    normal = scipy_stats.norm(loc=x[:, 0].mean(), scale=x[:, 0].std())
    assert scipy_stats.kstest(inputs[:, 0], normal.cdf).statistic < 0.01
    around, _ = _sample(sampler, stats, row, DRAWS, centres=row)
    assert scipy_stats.kstest(around[:, 0], scipy_stats.norm(loc=4.0, scale=x[:, 0].std()).cdf).statistic < 0.01
    frequencies = np.bincount(inputs[:, 1].astype(int), minlength=4) / DRAWS
    np.testing.assert_allclose(frequencies, np.bincount(x[:, 1].astype(int)) / 500, atol=0.005)
    np.testing.assert_array_equal(same[:, 1], inputs[:, 1] == 2.0)


def test_sample_k_is_the_same_for_any_plan(breast_cancer):
    """A draw is a function of (seed, example, sample) only: the prefix of a larger plan, in any batch."""
    x, stats, _ = breast_cancer
    small, large = NeighbourhoodSampler(stats, 300), NeighbourhoodSampler(stats, 5000)
    first, _ = _sample(small, stats, x[2], 300, first=0, example=4, seed=9)
    again, _ = _sample(large, stats, x[2], 200, first=100, example=4, seed=9)
    np.testing.assert_array_equal(first[100:], again)
    np.testing.assert_array_equal(first[0], x[2].astype(np.float32))  # sample 0 is the row
    other, _ = _sample(small, stats, x[2], 300, first=0, example=5, seed=9)
    assert np.all(other[1:] != first[1:])


def test_bits_are_splitmix64():
    """The numpy reference of the generator: SplitMix64's published first outputs for seed 0."""
    state = np.uint64(0x9E3779B97F4A7C15) * np.arange(1, 4, dtype=np.uint64)
    np.testing.assert_array_equal(
        splitmix64(state), np.array([0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F], np.uint64)
    )
    example, sample = np.array([0, 0, 3, 2**20]), np.array([0, 1, 2, 2**31 + 5])
    bits = pair_bits_numpy(7, example, sample, 4)
    assert bits.shape == (4, 4) and len(np.unique(bits)) == 16
    # The compiled draw computes the same bits.
    found = pair_bits(tf.constant(7, tf.int64), tf.constant(example, tf.int64), tf.constant(sample, tf.int64), 4)
    np.testing.assert_array_equal(found.numpy(), bits)
