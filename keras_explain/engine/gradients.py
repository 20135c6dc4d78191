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
        x: float tensor (B, ...), or a list of them for a model with several
            inputs.
        target: int32 tensor (B,), -1 for the row's argmax.

    Returns:
        (gradient like x (float32), y (B, K), target used (B,)).
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model_fn(x)
        score, chosen = pick(y, target)
    gradient = tape.gradient(score, x)

    def checked(part, grad):
        return tf.zeros_like(part, tf.float32) if grad is None else tf.cast(grad, tf.float32)

    if isinstance(x, (list, tuple)):
        return [checked(p, g) for p, g in zip(x, gradient)], y, chosen
    return checked(x, gradient), y, chosen
