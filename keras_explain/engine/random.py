"""Counter-based random draws for batches of consecutive pairs, in the compiled step.

A batch of the engine is a run of consecutive pairs, so one Philox call per
batch (`philox_words`), its counter set by the batch's first pair, gives
every pair the same draws whatever the batch it falls in: no per-pair loop, and results that do
not depend on `batch_size`. `pair_bits` addresses each pair by (example,
sample) instead, for samplers whose sample k must not depend on the number
of samples per example either (`num_samples="auto"` runs prefixes of a plan).
"""

import numpy as np
import tensorflow as tf

_PHILOX = 1  # tf.random.Algorithm.PHILOX
_GAMMA = 0x9E3779B97F4A7C15
_MIX = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)


def philox_words(seed, first_pair, num_pairs, size):
    """One 32-bit draw per (pair, feature), a pure function of (seed, pair, feature).

    The draws of pair p are Philox-4x32-10 blocks p * ceil(size / 4) ... of
    the stream keyed by `seed` (each block is four words), padded to a
    multiple of four per pair so that each pair starts on a block boundary.
    A batch of consecutive pairs starting at `first_pair` reads exactly its
    part of the stream, so the samples do not depend on how pairs are cut
    into batches (results are invariant to `batch_size`).

    Args:
        seed: int64 scalar tensor (the Philox key).
        first_pair: int64 scalar tensor, the global index of the batch's
            first pair (row * num_samples + sample).
        num_pairs: int32 scalar tensor, pairs in the batch.
        size: F, features per pair (a Python int).

    Returns:
        uint32 tensor (num_pairs, size).
    """
    padded = -(-size // 4) * 4
    counter = tf.stack([tf.cast(first_pair, tf.uint64) * (padded // 4), tf.constant(0, tf.uint64)])
    key = tf.reshape(tf.bitcast(tf.cast(seed, tf.int64), tf.uint64), [1])
    words = tf.raw_ops.StatelessRandomUniformFullIntV2(
        shape=tf.stack([num_pairs * padded]), key=key, counter=counter, alg=_PHILOX, dtype=tf.uint32
    )
    words = tf.reshape(words, [-1, padded])
    return words[:, :size] if padded != size else words


def pair_uniforms(seed, first_pair, num_pairs, size):
    """Uniforms in (0, 1), float32 (num_pairs, size), for consecutive pairs from `first_pair`.

    Each value is (k + 0.5) / 2**23 for the top 23 bits k of the pair's
    `philox_words`, exact in float32 and never 0 or 1 (with 24 bits the
    largest would round to 1), so `tf.math.ndtri` of it is finite (normal
    draws then reach about 5.2 standard deviations).
    """
    words = philox_words(seed, first_pair, num_pairs, size)
    top = tf.cast(tf.bitwise.right_shift(words, tf.constant(9, tf.uint32)), tf.float32)
    return (top + 0.5) * (2.0**-23)


def pair_below(seed, first_pair, num_pairs, size, probability):
    """`pair_uniforms(...) < probability`, bool (num_pairs, size), read from the words directly.

    With p the float32 of `probability`, (k + 0.5) / 2**23 < p holds exactly
    when the top 23 bits k are below t = ceil(p * 2**23 - 0.5), that is when
    the word is below t * 2**9: one comparison per value instead of the
    uniforms' shift, conversion and scaling, and the same draws.
    """
    scaled = float(np.float32(probability)) * 2.0**23 - 0.5
    threshold = int(np.clip(np.ceil(scaled), 0, 2**23)) << 9
    words = philox_words(seed, first_pair, num_pairs, size)
    if threshold >= 2**32:
        return tf.ones_like(words, dtype=tf.bool)
    return words < tf.constant(threshold, tf.uint32)


def pair_bits(seed, example, sample, size):
    """64 random bits (B, size) per (example, sample) pair and feature, in the compiled step.

    SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number
    generators", OOPSLA 2014): the output function of key + counter * gamma,
    with key the mixed seed and counter ((example * 2**32 + sample) * size +
    feature). A pure function of (seed, example, sample, feature): the pairs
    come in any order and any number. Counters stay distinct while the
    examples times `size` stay below 2**32 and the samples per example below
    2**32.

    Args:
        seed: int64 scalar tensor.
        example, sample: int (B,) tensors, each pair's example and sample index.
        size: F, draws per pair (a Python int).

    Returns:
        uint64 tensor (B, size).
    """
    key = _mix(tf.bitcast(tf.cast(seed, tf.int64), tf.uint64))
    shifted = tf.bitwise.left_shift(tf.cast(example, tf.uint64), tf.constant(32, tf.uint64))
    counter = (shifted + tf.cast(sample, tf.uint64)) * tf.constant(size, tf.uint64)
    counter = counter[:, None] + tf.cast(tf.range(size), tf.uint64)[None, :]
    return _mix(key + counter * tf.constant(_GAMMA, tf.uint64))


def _mix(values):
    """SplitMix64's output function of uint64 tensors."""
    for shift, multiplier in zip((30, 27), _MIX):
        values = tf.bitwise.bitwise_xor(values, tf.bitwise.right_shift(values, tf.constant(shift, tf.uint64)))
        values = values * tf.constant(multiplier, tf.uint64)
    return tf.bitwise.bitwise_xor(values, tf.bitwise.right_shift(values, tf.constant(31, tf.uint64)))


def splitmix64(values):
    """SplitMix64's output function of uint64 values in numpy (a reference for `pair_bits`)."""
    values = np.asarray(values, np.uint64)
    with np.errstate(over="ignore"):
        for shift, multiplier in zip((30, 27), _MIX):
            values = (values ^ (values >> np.uint64(shift))) * np.uint64(multiplier)
    return values ^ (values >> np.uint64(31))


def pair_bits_numpy(seed, example, sample, size):
    """`pair_bits` computed in numpy (B, size): the reference the tests compare with."""
    key = splitmix64(np.uint64(np.int64(seed).view(np.uint64)))
    counter = ((np.asarray(example, np.uint64) << np.uint64(32)) + np.asarray(sample, np.uint64)) * np.uint64(size)
    counter = counter[:, None] + np.arange(size, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        return splitmix64(key + counter * np.uint64(_GAMMA))
