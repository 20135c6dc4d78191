"""Counter-based random draws for batches of consecutive pairs, in the compiled step.

A batch of the engine is a run of consecutive pairs, so one Philox call per
batch, its counter set by the batch's first pair, gives every pair the same
draws whatever the batch it falls in: no per-pair loop, and results that do
not depend on `batch_size`.
"""

import tensorflow as tf

_PHILOX = 1  # tf.random.Algorithm.PHILOX


def philox_bits(seed, first_pair, num_pairs, size):
    """One 64-bit draw per (pair, feature), a pure function of (seed, pair, feature).

    The draws of pair p are Philox-4x32-10 blocks p * ceil(size / 2) ... of
    the stream keyed by `seed`: one uint64 per (pair, feature), padded to an
    even count per pair so that each pair starts on a block boundary. A batch
    of consecutive pairs starting at `first_pair` reads exactly its part of
    the stream, so the samples do not depend on how pairs are cut into
    batches (results are invariant to `batch_size`).

    LIME's tabular sampler reads two 24-bit integers from each draw (bits
    40-63 and 16-39); `pair_uniforms` reads one.

    Args:
        seed: int64 scalar tensor (the Philox key).
        first_pair: int64 scalar tensor, the global index of the batch's
            first pair (row * num_samples + sample).
        num_pairs: int32 scalar tensor, pairs in the batch.
        size: F, features per pair (a Python int).

    Returns:
        uint64 tensor (num_pairs, size).
    """
    padded = size + size % 2
    counter = tf.stack([tf.cast(first_pair, tf.uint64) * (padded // 2), tf.constant(0, tf.uint64)])
    key = tf.reshape(tf.bitcast(tf.cast(seed, tf.int64), tf.uint64), [1])
    bits = tf.raw_ops.StatelessRandomUniformFullIntV2(
        shape=tf.stack([num_pairs * padded]), key=key, counter=counter, alg=_PHILOX, dtype=tf.uint64
    )
    bits = tf.reshape(bits, [-1, padded])
    return bits[:, :size] if padded != size else bits


def pair_uniforms(seed, first_pair, num_pairs, size):
    """Uniforms in (0, 1), float32 (num_pairs, size), for consecutive pairs from `first_pair`.

    Each value is (k + 0.5) / 2**24 for the top 24 bits k of the pair's
    `philox_bits`: never 0 or 1, so `tf.math.ndtri` of it is finite (normal
    draws then reach about 5.3 standard deviations).
    """
    bits = philox_bits(seed, first_pair, num_pairs, size)
    top = tf.cast(tf.bitwise.right_shift(bits, tf.constant(40, tf.uint64)), tf.float32)
    return (top + 0.5) * (2.0**-24)
