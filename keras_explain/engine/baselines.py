"""Baselines: the reference an example is compared with (Integrated Gradients' path
start, the value a perturbation hides a part with), checked and broadcast once."""

import numbers

import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import check_float, describe, fail

#: The baseline of each example is its own mean value.
MEAN = "mean"


def _expected(allow_none, allow_mean):
    if allow_none:
        return "None, a number or an array"
    return "a number, 'mean' or an array" if allow_mean else "a number or an array"


def check_baseline(baseline, allow_none=False, allow_mean=False):
    """A baseline as stored: None, a float, "mean", or a finite float32 array.

    Args:
        baseline: the user's value.
        allow_none: None is accepted (zeros). Defaults to False.
        allow_mean: "mean" is accepted (each example's own mean). Defaults to False.

    Raises:
        ValueError: naming `baseline`, for anything else.
    """
    expected = _expected(allow_none, allow_mean)
    if baseline is None:
        if allow_none:
            return None
        fail("baseline", expected, baseline)
    if isinstance(baseline, str):
        if allow_mean and baseline == MEAN:
            return MEAN
        fail("baseline", expected, baseline)
    if isinstance(baseline, (bool, np.bool_)):
        fail("baseline", expected, baseline)
    if isinstance(baseline, numbers.Real):
        return check_float("baseline", baseline)
    try:
        array = np.asarray(baseline, dtype=np.float32)
    except (TypeError, ValueError):
        fail("baseline", expected, baseline)
    if array.ndim == 0:
        return check_float("baseline", float(array))
    if not np.all(np.isfinite(array)):
        fail("baseline", "finite values", array)
    return array


def baseline_values(baseline, x, full=False, allow_mean=False):
    """The baseline of every example, as a tensor of x's dtype.

    Args:
        baseline: as `check_baseline` returns it (None means zeros).
        x: the examples, a tensor (N, ...).
        full: return the shape of x (N, ...). Defaults to False: a number,
            None or "mean" (each example's mean over all its values) comes
            back as (N, 1, ..., 1), broadcastable to x.
        allow_mean: the error for a wrong shape lists "mean" among the choices.

    Raises:
        ValueError: naming `baseline`, for an array shaped neither like one
            example nor like x.
    """
    count, single = int(x.shape[0]), tuple(x.shape[1:])
    ones = (count,) + (1,) * len(single)
    if baseline is None:
        values = tf.zeros(ones, x.dtype)
    elif isinstance(baseline, str):
        means = x.numpy().reshape(count, -1).astype(np.float64).mean(axis=1)
        values = tf.constant(means.reshape(ones), x.dtype)
    elif not isinstance(baseline, np.ndarray):
        values = tf.fill(ones, tf.cast(baseline, x.dtype))
    elif baseline.shape in (single, tuple(x.shape)):
        values = tf.constant(np.broadcast_to(baseline, x.shape), x.dtype)
    else:
        mean = f"{MEAN!r}, " if allow_mean else ""
        raise ValueError(
            f"baseline: expected a number, {mean}an array of shape {single} (one example) "
            f"or {tuple(x.shape)} (one per example), received {describe(baseline)}."
        )
    return tf.broadcast_to(values, tf.shape(x)) if full else values
