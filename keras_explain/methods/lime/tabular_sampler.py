"""LIME's tabular neighbourhood sampler, drawn per pair in compiled TensorFlow.

Every draw is a pure function of (seed, example, sample, feature): 64 random
bits of `engine.random.pair_bits` (SplitMix64), so sample k of an example is
the same whatever the number of samples, the batch it falls in or the other
examples of the call.

Values are read from per-(feature, value) tables of the inverse CDF: the
quantiles at the midpoints (c + 0.5) / TABLE_CELLS of `TABLE_CELLS`
equally likely cells, one table lookup per value instead of an inverse
normal. The picking of a bin or category is exact (integer thresholds);
inside a bin the value is the midpoint quantile of one of 4096 equally
likely cells, so its CDF is within 1 / 8192 of the truncated normal's
(scipy's truncnorm, as lime draws it) everywhere, and a normal of a
continuous feature reaches 3.5 standard deviations (the outer 1 / 8192 of
each tail is drawn at its cell's midpoint). The whole draw runs as one
XLA-compiled function.
"""

import math

import numpy as np
import tensorflow as tf

from keras_explain.engine.random import pair_bits
from keras_explain.methods.lime.tabular_stats import CATEGORICAL, CONTINUOUS

#: A 24-bit threshold no draw reaches.
_NEVER = 2**24


def uniform24(k):
    """The uniform a 24-bit integer k stands for: (k + 0.5) * 2**-24, in float32.

    Rounded as float32 arithmetic rounds it (above 2**23 the half is rounded
    to even), exactly as the sampler's draws are read.
    """
    return (np.asarray(k).astype(np.float32) + np.float32(0.5)) * np.float32(2.0**-24)


def first_reaching(values):
    """The smallest 24-bit k with uniform24(k) >= value, for float32 values; 2**24 if none.

    Comparing a draw's integer with this threshold is the same test as
    comparing its uniform with the value.
    """
    values = np.asarray(values, dtype=np.float32)
    low = np.zeros(values.shape, dtype=np.int64)
    high = np.full(values.shape, _NEVER, dtype=np.int64)
    while np.any(low < high):
        open_ = low < high
        middle = (low + high) // 2
        reached = uniform24(np.minimum(middle, _NEVER - 1)) >= values
        high = np.where(open_ & reached, middle, high)
        low = np.where(open_ & ~reached, middle + 1, low)
    return low


#: Equally likely cells of every inverse-CDF table (a power of two at most 2**24).
TABLE_CELLS = 4096
_SMALLEST = float(np.finfo(np.float32).tiny)
_LARGEST_BELOW_ONE = float(1.0 - 2.0**-24)
#: Batches are padded to a power of two (at least this many pairs) for the compiled draw.
_SMALLEST_BUCKET = 64
_CELL_BITS = tf.constant(TABLE_CELLS - 1, tf.uint64)


def _normal_cdf(z):
    """The standard normal CDF of a float64 array, in float64."""
    return 0.5 * np.vectorize(math.erfc, otypes=[np.float64])(-np.asarray(z) / np.sqrt(2.0))


def _normal_quantile(p):
    """The standard normal quantile of float64 probabilities in (0, 1)."""
    return tf.math.ndtri(tf.constant(np.asarray(p, np.float64))).numpy()


def _atom_tables(stats, j):
    """Feature j's inverse-CDF tables (values of j, TABLE_CELLS): the quantiles at the cells' midpoints."""
    grid = (np.arange(TABLE_CELLS) + 0.5) / TABLE_CELLS
    values = stats.values[j]
    if stats.kind[j] == CONTINUOUS:
        return (stats.mean[j] + stats.scale[j] * _normal_quantile(grid))[None, :]
    if stats.kind[j] == CATEGORICAL:
        return np.repeat(np.asarray(values, np.float64)[:, None], TABLE_CELLS, axis=1)
    bins = values.astype(int)
    mean, std = stats.bin_mean[j][bins], stats.bin_std[j][bins]
    low, high = stats.bin_min[j][bins], stats.bin_max[j][bins]
    p_low = _normal_cdf((low - mean) / std)
    p_high = _normal_cdf((high - mean) / std)
    # scipy's truncnorm.ppf: the normal quantile at p_low + u (p_high - p_low).
    p = np.clip(p_low[:, None] + grid[None, :] * (p_high - p_low)[:, None], _SMALLEST, _LARGEST_BELOW_ONE)
    tables = np.clip(mean[:, None] + std[:, None] * _normal_quantile(p), low[:, None], high[:, None])
    # A bin of zero width (a constant, or only the minimum) is its one value.
    return np.where((high > low)[:, None], tables, low[:, None])


class NeighbourhoodSampler:
    """LIME's tabular samples for batches of (row, sample) pairs, in TF.

    Per feature, as `lime.lime_tabular.LimeTabularExplainer` samples:

    * CATEGORICAL: a category drawn by its training frequency; the
      interpretable value is 1 when it equals the row's category.
    * BINNED: a bin drawn by its training frequency (interpretable value 1
      when it is the row's bin), then a value from the normal with the bin's
      training mean and standard deviation truncated to the bin (scipy's
      `truncnorm`, by its inverse CDF).
    * CONTINUOUS (no discretizer): centre + scale * Normal(0, 1), the centre
      being the training mean or the row (`sample_around_instance`); the
      interpretable value is (value - mean) / scale.

    Sample 0 of every row is the row itself (interpretable: all ones for
    discrete features, the scaled row for continuous ones).

    Each (pair, feature) draw is 64 bits (see the module docstring): bits
    40-63 pick the bin or category by comparison with integer thresholds
    (`first_reaching` the cumulative frequencies, the same test as comparing
    the uniform `uniform24` with the frequencies), bits 28-39 the cell of
    the value's inverse-CDF table. Values are float32, the precision the
    model receives them in.

    Args:
        stats: `TrainingStatistics`.
        num_samples: S, samples per row, to check the pairs a call of the
            sampler itself receives (see `__call__`).
    """

    def __init__(self, stats, num_samples):
        self.num_samples = int(num_samples)
        kind = np.asarray(stats.kind)
        size = len(kind)
        width = max([1] + [len(v) for v in stats.values])
        # thresholds[j, k]: the pick from which feature j takes value k + 1 or later.
        thresholds = np.full((size, max(width - 1, 1)), _NEVER, dtype=np.int64)
        tables = []
        for j in range(size):
            if kind[j] != CONTINUOUS:
                cumulative = np.cumsum(stats.frequencies[j])
                cumulative = (cumulative / cumulative[-1]).astype(np.float32)
                thresholds[j, : len(stats.values[j]) - 1] = first_reaching(cumulative[:-1])
            tables.append(_atom_tables(stats, j))
        counts = np.array([len(t) for t in tables])
        self.size, self.width = size, width
        self.has_continuous = bool(np.any(kind == CONTINUOUS))
        #: Binary representations (every feature discrete) are kept as uint8.
        self.representation_dtype = tf.float32 if self.has_continuous else tf.uint8
        self.continuous = tf.constant(kind == CONTINUOUS)
        self.thresholds = tf.constant(thresholds, tf.int32)
        self.table = tf.constant(np.concatenate(tables).reshape(-1).astype(np.float32))
        self.starts = tf.constant((np.cumsum(counts) - counts) * TABLE_CELLS, tf.int32)
        self.mean = tf.constant(stats.mean, tf.float32)
        self.scale = tf.constant(stats.scale, tf.float32)
        self._compiled = tf.function(self._draw_values, jit_compile=True)

    def __call__(self, rows, positions, centres, pair, sample, seed):
        """Samples for a batch of consecutive pairs of a plan of `num_samples` per row.

        Args:
            rows: float32 (B, F), each pair's row.
            positions: int32 (B, F), index of the row's value among the
                discrete values of each feature (-1 if not seen in training).
            centres: float32 (B, F), centre of the continuous normals, or
                None for the training mean.
            pair: int32 (B,), each pair's row index; sample: int32 (B,), its
                sample index; pair * num_samples + sample must run on by one
                (the order of the batching loop).
            seed: int64 scalar.

        Returns:
            (inputs float32 (B, F) for the model, interpretable (B, F):
            float32, or uint8 when every feature is discrete).
        """
        ids = tf.cast(pair, tf.int64) * self.num_samples + tf.cast(sample, tf.int64)
        count = tf.shape(ids, out_type=tf.int64)[0]
        check = tf.debugging.assert_equal(
            ids, ids[0] + tf.range(count), message="LimeTabular: a batch of non-consecutive pairs"
        )
        with tf.control_dependencies([check]):
            inputs, same, scaled = self.draw(rows, positions, centres, pair, sample, seed)
        return inputs, self.representation(same, scaled)

    def representation(self, same, scaled):
        """The interpretable representation (B, F) from `draw`'s `same` and `scaled`."""
        if scaled is None:
            return tf.cast(same, tf.uint8)
        return tf.where(self.continuous, scaled, tf.cast(same, tf.float32))

    def draw(self, rows, positions, centres, pair, sample, seed):
        """Samples for any batch of (row, sample) pairs, as the parts the surrogate reads.

        Args: as for calling the sampler, the pairs in any order.

        Returns:
            (inputs float32 (B, F); same: bool (B, F), whether a discrete
            feature takes the row's value (True for continuous features);
            scaled: float32 (B, F), (value - mean) / scale, or None when
            every feature is discrete).
        """
        count = tf.shape(pair)[0]
        # Padded to a multiple of an eighth of the next power of two: the
        # compiled draw sees at most 8 batch shapes per octave, 12.5 % waste at most.
        octave = tf.math.ceil(tf.math.log(tf.cast(tf.maximum(count, 1), tf.float64)) / math.log(2.0))
        step = tf.maximum(_SMALLEST_BUCKET, tf.cast(2.0 ** (octave - 3.0), tf.int32))
        bucket = (count + step - 1) // step * step

        def padded(value):
            padding = tf.concat([[[0, bucket - count]], tf.zeros([tf.rank(value) - 1, 2], tf.int32)], axis=0)
            return tf.pad(value, padding)

        centres = tf.zeros([0, self.size]) if centres is None else padded(tf.cast(centres, tf.float32))
        parts = self._compiled(
            padded(tf.cast(rows, tf.float32)), padded(tf.cast(positions, tf.int32)), centres,
            padded(tf.cast(pair, tf.int32)), padded(tf.cast(sample, tf.int32)), tf.cast(seed, tf.int64),
        )
        inputs, same = parts[0][:count], parts[1][:count]
        return inputs, same, parts[2][:count] if self.has_continuous else None

    def _draw_values(self, rows, positions, centres, pair, sample, seed):
        """(inputs, same, scaled) as `draw` returns them (scaled only with continuous features)."""
        bits = pair_bits(seed, pair, sample, self.size)
        pick = tf.cast(tf.bitwise.right_shift(bits, tf.constant(40, tf.uint64)), tf.int32)
        if self.width == 1:
            index = tf.zeros_like(pick)
        else:
            index = tf.add_n([tf.cast(pick >= self.thresholds[:, k], tf.int32) for k in range(self.width - 1)])
        # Bits 28-39: the cell of the value's table.
        cell = tf.bitwise.bitwise_and(tf.bitwise.right_shift(bits, tf.constant(28, tf.uint64)), _CELL_BITS)
        cell = tf.cast(cell, tf.int32)
        values = tf.gather(self.table, self.starts[None, :] + index * TABLE_CELLS + cell)
        if centres.shape[0] != 0 and self.has_continuous:
            values = values + tf.where(self.continuous, centres - self.mean, 0.0)
        first = tf.equal(sample, 0)[:, None]
        inputs = tf.where(first, rows, values)
        same = tf.equal(index, positions) | first
        if not self.has_continuous:
            return inputs, same
        return inputs, same, (inputs - self.mean) / self.scale
