"""Gradients of one selected output per row, written once for every method."""

import tensorflow as tf


def pick(y, target):
    """Select y[b, target[b]] per row; target -1 selects the row's argmax.

    Args:
        y: float tensor (B, K).
        target: int32 tensor (B,).

    Returns:
        (score (B,), target used (B,) int32).
    """
    chosen = tf.where(target < 0, tf.argmax(y, axis=1, output_type=tf.int32), target)
    score = tf.reduce_sum(y * tf.one_hot(chosen, tf.shape(y)[1], dtype=y.dtype), axis=1)
    return score, chosen


def target_gradient(model_fn, x, target):
    """Gradient of the selected output with respect to the inputs.

    Rows are independent, so the gradient of the sum of the selected scores is
    each row's own gradient.

    Args:
        model_fn: callable (B, ...) -> (B, K).
        x: float tensor (B, ...).
        target: int32 tensor (B,), -1 for the row's argmax.

    Returns:
        (gradient like x, y (B, K), target used (B,)).
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model_fn(x)
        score, chosen = pick(y, target)
    gradient = tape.gradient(score, x)
    if gradient is None:
        gradient = tf.zeros_like(x)
    return tf.cast(gradient, tf.float32), y, chosen
