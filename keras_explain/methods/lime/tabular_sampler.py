"""LIME's tabular neighbourhood sampler, drawn per pair in compiled TensorFlow."""

import math

import numpy as np
import tensorflow as tf

from keras_explain.engine.random import philox_bits
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


def _normal_cdf(z):
    """The standard normal CDF of a float64 array, in float64."""
    return 0.5 * np.vectorize(math.erfc, otypes=[np.float64])(-np.asarray(z) / np.sqrt(2.0))


#: Columns of the per-(feature, value) table of `NeighbourhoodSampler`.
_ATOM_COLUMNS = ("mean", "spread", "p_low", "p_span")
#: Features with up to this many discrete values pick theirs by one
#: comparison per cumulative frequency, others by binary search.
_COMPARE_LIMIT = 16
_SMALLEST = float(np.finfo(np.float32).tiny)
_LARGEST_BELOW_ONE = float(1.0 - 2.0**-24)


class NeighbourhoodSampler:
    """LIME's tabular samples for batches of (row, sample) pairs, in TF.

    Per feature, as `lime.lime_tabular.LimeTabularExplainer` samples:

    * CATEGORICAL: a category drawn by its training frequency; the
      interpretable value is 1 when it equals the row's category.
    * BINNED: a bin drawn by its training frequency (interpretable value 1
      when it is the row's bin), then a value from the normal with the bin's
      training mean and standard deviation truncated to the bin (scipy's
      `truncnorm`, drawn by inverting its CDF).
    * CONTINUOUS (no discretizer): centre + scale * Normal(0, 1), the centre
      being the training mean or the row (`sample_around_instance`); the
      interpretable value is (value - mean) / scale.

    Sample 0 of every row is the row itself (interpretable: all ones for
    discrete features, the scaled row for continuous ones).

    Every discrete value of every feature is an "atom" (mean, spread, p_low,
    p_span), and a draw is one uniform u1 that picks the atom and one uniform
    u2 that gives value = mean + spread * ndtri(p_low + u2 * p_span). A bin
    is (bin mean, bin std, Phi(a), Phi(b) - Phi(a)) with a and b its
    standardised edges, which is the truncated normal; a category, or a bin
    of zero width, is (value, 0, 0.5, 0), which is its value; a continuous
    feature is (centre, scale, 0, 1), a normal. The pair's two uniforms are
    the two 24-bit halves of its `philox_bits`, so the samples do not depend
    on the batch a pair falls in. The atom is picked by comparing u1's
    integer with integer thresholds (`first_reaching` the cumulative
    frequencies), the same test as comparing u1 with the frequencies. The
    draw is float32, the precision the model receives it in; its normal
    quantiles reach about 5.3 standard deviations (a probability of 1e-7 per
    draw is cut).

    Args:
        stats: `TrainingStatistics`.
        num_samples: S, samples per row (to number the pairs).
    """

    def __init__(self, stats, num_samples):
        self.num_samples = int(num_samples)
        kind = np.asarray(stats.kind)
        size = len(kind)
        width = max([1] + [len(v) for v in stats.values])
        # thresholds[j, k]: u1's integer from which feature j takes value k + 1 or later.
        thresholds = np.full((size, max(width - 1, 1)), _NEVER, dtype=np.int64)
        atoms = np.zeros((size, width, len(_ATOM_COLUMNS)))
        atoms[..., 2] = 0.5
        for j in range(size):
            values = stats.values[j]
            if kind[j] == CONTINUOUS:
                atoms[j, 0] = stats.mean[j], stats.scale[j], 0.0, 1.0
                continue
            cumulative = np.cumsum(stats.frequencies[j])
            cumulative = (cumulative / cumulative[-1]).astype(np.float32)
            thresholds[j, : len(values) - 1] = first_reaching(cumulative[:-1])
            if kind[j] == CATEGORICAL:
                atoms[j, : len(values), 0] = values
                continue
            bins = values.astype(int)
            mean, std = stats.bin_mean[j][bins], stats.bin_std[j][bins]
            low, high = stats.bin_min[j][bins], stats.bin_max[j][bins]
            p_low = _normal_cdf((low - mean) / std)
            p_high = _normal_cdf((high - mean) / std)
            wide = high > low
            atoms[j, : len(values), 0] = np.where(wide, mean, low)
            atoms[j, : len(values), 1] = np.where(wide, std, 0.0)
            atoms[j, : len(values), 2] = np.where(wide, p_low, 0.5)
            atoms[j, : len(values), 3] = np.where(wide, p_high - p_low, 0.0)
        atoms = atoms.reshape(size * width, len(_ATOM_COLUMNS)).astype(np.float32)
        # u2 = (k + 0.5) * 2**-24 times p_span is (k + 0.5) times p_span * 2**-24,
        # exactly: a power of two scales without rounding (p_span is 0 or above
        # 0.47, far from float32's subnormals).
        atoms[:, 3] *= np.float32(2.0**-24)
        self.size, self.width = size, width
        self.has_continuous = bool(np.any(kind == CONTINUOUS))
        #: Binary representations (every feature discrete) are kept as uint8.
        self.representation_dtype = tf.float32 if self.has_continuous else tf.uint8
        self.continuous = tf.constant(kind == CONTINUOUS)
        self.thresholds = tf.constant(thresholds, tf.int32)
        self.atoms = tf.constant(atoms)
        self.offsets = tf.constant(np.arange(size, dtype=np.int32) * width)
        self.mean = tf.constant(stats.mean, tf.float32)
        self.scale = tf.constant(stats.scale, tf.float32)

    def __call__(self, rows, positions, centres, pair, sample, seed):
        """Samples for a batch of consecutive pairs.

        Args:
            rows: float32 (B, F), each pair's row.
            positions: int32 (B, F), index of the row's value among the
                discrete values of each feature (-1 if not seen in training).
            centres: float32 (B, F), centre of the continuous normals, or
                None for the training mean.
            pair: int32 (B,), each pair's row index; sample: int32 (B,), its
                sample index.
            seed: int64 scalar.

        Returns:
            (inputs float32 (B, F) for the model, interpretable (B, F):
            float32, or uint8 when every feature is discrete).
        """
        inputs, same, scaled = self.draw(rows, positions, centres, pair, sample, seed)
        return inputs, self.representation(same, scaled)

    def representation(self, same, scaled):
        """The interpretable representation (B, F) from `draw`'s `same` and `scaled`."""
        if scaled is None:
            return tf.cast(same, tf.uint8)
        return tf.where(self.continuous, scaled, tf.cast(same, tf.float32))

    def draw(self, rows, positions, centres, pair, sample, seed):
        """Samples for a batch of consecutive pairs, as the parts the surrogate reads.

        Args: as for calling the sampler.

        Returns:
            (inputs float32 (B, F); same: bool (B, F), whether a discrete
            feature takes the row's value (True for continuous features);
            scaled: float32 (B, F), (value - mean) / scale, or None when
            every feature is discrete).
        """
        ids = tf.cast(pair, tf.int64) * self.num_samples + tf.cast(sample, tf.int64)
        count = tf.shape(ids, out_type=tf.int64)[0]
        # The batching loop hands over consecutive pairs; the stream offsets rely on it.
        check = tf.debugging.assert_equal(
            ids, ids[0] + tf.range(count), message="LimeTabular: a batch of non-consecutive pairs"
        )
        with tf.control_dependencies([check]):
            bits = philox_bits(seed, ids[0], tf.cast(count, tf.int32), self.size)

        pick = tf.cast(tf.bitwise.right_shift(bits, tf.constant(40, tf.uint64)), tf.int32)
        if self.width == 1:
            index = tf.zeros_like(positions)
        elif self.width <= _COMPARE_LIMIT:
            index = tf.add_n(
                [tf.cast(pick >= self.thresholds[:, k], tf.int32) for k in range(self.width - 1)]
            )
        else:
            index = tf.transpose(
                tf.searchsorted(self.thresholds, tf.transpose(pick), side="right")
            )
        # Bits 16-39: the low 32 bits of bits >> 16, masked to 24.
        place = tf.bitwise.bitwise_and(
            tf.cast(tf.bitwise.right_shift(bits, tf.constant(16, tf.uint64)), tf.int32),
            tf.constant(0xFFFFFF, tf.int32),
        )
        half = tf.cast(place, tf.float32) + 0.5  # u2 * 2**24
        atom = tf.gather(self.atoms, index + self.offsets[None, :])  # (B, F, 4)
        mean, spread, p_low, p_span = tf.unstack(atom, axis=-1)
        if centres is not None and self.has_continuous:
            mean = tf.where(self.continuous, centres, mean)
        p = tf.clip_by_value(p_low + half * p_span, _SMALLEST, _LARGEST_BELOW_ONE)
        inputs = mean + spread * tf.math.ndtri(p)
        same = tf.equal(index, positions)

        # Sample 0 of a row is the row: overwrite the few first samples in the batch.
        starts = tf.where(tf.equal(sample, 0))
        inputs = tf.tensor_scatter_nd_update(inputs, starts, tf.gather_nd(rows, starts))
        same = tf.tensor_scatter_nd_update(
            same, starts, tf.ones(tf.stack([tf.shape(starts)[0], self.size]), tf.bool)
        )
        if not self.has_continuous:
            return inputs, same, None
        return inputs, same, (inputs - self.mean) / self.scale
