"""What the perturbation metrics share: features, masks and baselines.

A *feature* is what a metric removes or keeps as one unit: for images
(N, H, W, C) a pixel with all its channels (or a cell of a grid of pixels),
for any other input one value. A mask of features (B, F) is reshaped so
that it broadcasts against the inputs (B, ...) it hides parts of.
"""

import numpy as np
import tensorflow as tf

from keras_explain.engine.baselines import MEAN, baseline_values, check_baseline
from keras_explain.engine.errors import check_float, describe

#: The baseline of each image is itself blurred (Petsiuk et al.'s insertion start).
BLUR = "blur"


def check_metric_baseline(baseline):
    """A number, "mean" (each example's mean), "blur" (images) or an array."""
    if isinstance(baseline, str) and baseline == BLUR:
        return BLUR
    if isinstance(baseline, str) and baseline != MEAN:
        raise ValueError(
            f"baseline: expected a number, {MEAN!r}, {BLUR!r} or an array, received {describe(baseline)}."
        )
    return check_baseline(baseline, allow_mean=True)


def check_sigma(value):
    """A blur's standard deviation in pixels: a number > 0."""
    return check_float("blur_sigma", value, minimum=0.0, strict_minimum=True)


def baseline_array(baseline, x, blur_sigma=5.0):
    """The baseline of every example as float32 numpy, shaped like x (N, ...).

    Raises:
        ValueError: naming `baseline`, for "blur" on inputs that are not
            images or an array of the wrong shape.
    """
    tensor = tf.constant(x, tf.float32)
    if baseline == BLUR:
        if x.ndim != 4:
            raise ValueError(
                f"baseline: expected images (N, H, W, C) for {BLUR!r}, received x of shape {x.shape}; "
                f"use a number or {MEAN!r}."
            )
        return blurred(tensor, blur_sigma).numpy()
    return baseline_values(baseline, tensor, full=True, allow_mean=True).numpy()


def blurred(images, sigma):
    """Images (N, H, W, C) blurred channel by channel with a Gaussian of `sigma` pixels.

    The kernel reaches 3 sigma on each side; near the borders it is
    renormalised over the pixels inside the image (no dark frame).
    """
    radius = max(1, int(np.ceil(3.0 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = tf.constant(taps / taps.sum(), images.dtype)
    channels = int(images.shape[-1])

    def smooth(values):
        across = tf.tile(tf.reshape(taps, (-1, 1, 1, 1)), [1, 1, channels, 1])
        down = tf.tile(tf.reshape(taps, (1, -1, 1, 1)), [1, 1, channels, 1])
        values = tf.nn.depthwise_conv2d(values, across, [1, 1, 1, 1], "SAME")
        return tf.nn.depthwise_conv2d(values, down, [1, 1, 1, 1], "SAME")

    return smooth(images) / smooth(tf.ones_like(images[:1]))


def pixel_values(attributions, x):
    """One value per feature (N, F): images' pixels (channels averaged), else every value."""
    if x.ndim == 4 and attributions.ndim == 4:
        attributions = attributions.mean(axis=-1)
    return attributions.reshape(len(attributions), -1)


def element_values(attributions):
    """One value per feature (N, F): every attribution value."""
    return attributions.reshape(len(attributions), -1)


def feature_mask(flat, x):
    """A mask of features (B, F) reshaped to broadcast against x (B, ...).

    F is either every value of an example (the mask takes x's shape) or,
    for images (B, H, W, C), one per pixel (the mask is (B, H, W, 1)).
    """
    size = int(np.prod(x.shape[1:]))
    count = int(flat.shape[1])
    if count == size:
        shape = tuple(x.shape[1:])
    else:
        shape = tuple(x.shape[1:-1]) + (1,)
    return tf.reshape(flat, (-1,) + shape)


def hidden(x, mask, baseline):
    """x where `mask` is False, the baseline where it is True."""
    return tf.where(mask, tf.cast(baseline, x.dtype), x)
