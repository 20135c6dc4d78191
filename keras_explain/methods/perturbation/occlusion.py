"""Occlusion: slide a window over the example, hide it, read the score's drop."""

import itertools
import numbers

import numpy as np
import tensorflow as tf

from keras_explain.engine.batching import GroupCollector
from keras_explain.engine.errors import check_int, describe, fail
from keras_explain.engine.explainer import Plan
from keras_explain.engine.registry import register
from keras_explain.methods.perturbation.base import PerturbationExplainer, like_inputs


def _check_sizes(name, value, allow_none=False):
    """An int or a non-empty tuple of ints >= 1 (lists become tuples)."""
    if value is None and allow_none:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return check_int(name, value, minimum=1)
    if isinstance(value, (list, tuple)) and value and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in value
    ):
        return tuple(int(v) for v in value)
    fail(name, "a positive integer or a tuple of positive integers", value)


def window_starts(size, window, stride):
    """Where the windows along one axis start.

    Starts are 0, stride, 2 * stride, ... while the window fits; when the last
    of them does not end at the border, one more window ends exactly there
    (starts at size - window), so every window has its full size.

    Args:
        size: the axis's length.
        window: the window's length along it (<= size).
        stride: the step between starts.

    Returns:
        np.ndarray int (count,).
    """
    starts = list(range(0, size - window + 1, stride))
    if starts[-1] != size - window:
        starts.append(size - window)
    return np.array(starts, dtype=np.int64)


def _uncovered(size, window, starts):
    covered = np.zeros(size, dtype=bool)
    for start in starts:
        covered[start : start + window] = True
    return int((~covered).sum())


def window_grid(shape, window, strides):
    """Every window over the leading axes of an example, checked against its shape.

    Args:
        shape: the example's shape (without the batch axis).
        window: an int (the same size along `max(1, len(shape) - 1)` leading
            axes: both image axes of (H, W, C), the one axis of (F,) or (T, C))
            or a tuple of sizes for the leading `len(window)` axes.
        strides: None (the window), an int, or a tuple like the window.

    Returns:
        (starts, stops): int32 arrays (num_windows, k), in row-major order
        of the windows' positions (the last covered axis moves fastest).

    Raises:
        ValueError: naming `window` for a window with too many axes or larger
            than the example, `strides` for strides of the wrong length or that
            leave positions in no window.
    """
    shape = tuple(int(d) for d in shape)
    if isinstance(window, int):
        window = (window,) * max(1, len(shape) - 1)
    if len(window) > len(shape):
        axes = "axis" if len(shape) == 1 else "axes"
        raise ValueError(
            f"window: expected a window over at most {len(shape)} {axes} for examples of "
            f"shape {shape}, received {window}."
        )
    covered = shape[: len(window)]
    if any(w > d for w, d in zip(window, covered)):
        raise ValueError(
            f"window: expected a window no larger than the examples' axes {covered}, "
            f"received {window}."
        )
    if strides is None:
        strides = window
    elif isinstance(strides, int):
        strides = (strides,) * len(window)
    if len(strides) != len(window):
        fail("strides", f"None, an integer or {len(window)} integers like the window {window}", strides)
    axes = []
    for axis, (size, w, s) in enumerate(zip(covered, window, strides)):
        starts = window_starts(size, w, s)
        missing = _uncovered(size, w, starts)
        if missing:
            raise ValueError(
                f"strides: expected strides that leave no position uncovered (stride <= "
                f"window does), received {strides}: {missing} of the {size} positions "
                f"along axis {axis + 1} are in no window of size {w}."
            )
        axes.append(starts)
    starts = np.array(list(itertools.product(*axes)), dtype=np.int32).reshape(-1, len(window))
    return starts, starts + np.array(window, dtype=np.int32)


def window_masks(starts, stops, shape):
    """Which positions each pair's window hides, in TensorFlow.

    Args:
        starts, stops: int32 tensors (B, k): the window of every pair along
            the example's leading k axes.
        shape: the example's static shape.

    Returns:
        bool tensor (B, shape[0], ..., shape[k - 1], 1, ..., 1), broadcastable
        to the examples.
    """
    mask = None
    for axis in range(starts.shape[1]):
        positions = tf.range(shape[axis], dtype=starts.dtype)[None, :]
        inside = (positions >= starts[:, axis : axis + 1]) & (positions < stops[:, axis : axis + 1])
        view = [-1] + [1] * len(shape)
        view[axis + 1] = shape[axis]
        inside = tf.reshape(inside, view)
        mask = inside if mask is None else tf.logical_and(mask, inside)
    return mask


@register("occlusion", aliases=("occlusion_sensitivity",))
class Occlusion(PerturbationExplainer):
    """Occlusion: the drop of the score when a sliding window is hidden.

    A window slides over the example; for every position of it the covered
    values are set to the baseline, and the drop f(x)[target] - f(x with the
    window hidden)[target] is given to every covered position. A position
    covered by several windows gets the mean of their drops (captum's
    `Occlusion`); a position covered by none would get 0, but strides that
    leave one uncovered are refused.

    The window covers the leading axes of an example and every value of the
    axes after them: for images (N, H, W, C) a window (h, w) covers all
    channels of h x w pixels; for sequences (N, T, C) a window (t,) covers t
    steps; for tables (N, F) a window (1,) (or 1) hides one feature at a time.
    Along each axis windows start at 0, stride, 2 * stride, ...; when the last
    of them does not end at the border, one more window ends exactly at the
    border, so every window has its full size (captum cuts that last window
    short instead).

    Every (example, window) pair is one evaluation of the model: the window
    is built from the pair index inside the compiled step, pairs run in
    batches of at most `batch_size`, and the drops are summed per example in
    float64 before the division.

    Args:
        model: a Keras 3 model.
        window: the window's size: a tuple over the leading axes of an
            example, or an int for the same size along every axis but the
            last (both image axes, the one axis of a table, the time axis of
            a sequence). Defaults to (8, 8).
        strides: the step between windows: None (the window, no overlap), an
            int, or a tuple like the window. Defaults to None.
        baseline: the value hidden positions take: a number, "mean" (each
            example's own mean value) or an array shaped like one example or
            like x. Defaults to 0.0.
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose` as in
            `keras_explain.Explainer`.

    `explain(x, targets=None, baseline=None)`: a `baseline` given here
    replaces the constructor's for this call.

    Returns from `explain`: `Explanation` with `attributions` shaped like x
    (N, ...) and `num_windows` (N,), the windows per example.

    Raises:
        ValueError: for a window larger than the examples (naming `window`),
            strides that leave positions in no window (naming `strides`), or a
            baseline array shaped neither like one example nor like x.

    Example:

    ```python
    e = kx.Occlusion(model, window=(4, 4), strides=2).explain(images)
    e.heatmap()     # (N, H, W)
    ```

    Reference: Zeiler & Fergus, "Visualizing and Understanding Convolutional
    Networks", ECCV 2014.
    """

    method = "occlusion"
    config_attributes = ("window", "strides")

    def __init__(self, model, window=(8, 8), strides=None, baseline=0.0, **kwargs):
        self.window = _check_sizes("window", window)
        self.strides = _check_sizes("strides", strides, allow_none=True)
        if isinstance(self.window, tuple) and isinstance(self.strides, tuple) and (
            len(self.strides) != len(self.window)
        ):
            raise ValueError(
                f"strides: expected None, an integer or {len(self.window)} integers like the "
                f"window {self.window}, received {describe(strides)}."
            )
        super().__init__(model, baseline=baseline, **kwargs)

    def plan(self, x, targets, predictions, baseline=None):
        starts, stops = window_grid(x.shape[1:], self.window, self.strides)
        count = len(starts)
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            per_example=self.shared_inputs(x, targets, predictions, baseline),
            pairs=count,
            per_pair_index={"start": starts, "stop": stops},
            extras={"num_windows": count},
        )

    def batch_kernel(self, rows):
        hidden = window_masks(rows["start"], rows["stop"], rows["x"].shape[1:])
        drop = self.score_drop(rows, hidden)
        return {"drop": self.spread(drop, hidden), "count": tf.cast(hidden, tf.float64)}

    def accumulator(self, plan):
        # The float64 sums are divided before rounding.
        return GroupCollector(plan.num_groups, keep_float64=True)

    def finish(self, plan, sums):
        count = sums["count"]
        mean = np.where(count > 0, sums["drop"] / np.maximum(count, 1.0), 0.0)
        return self.explanation(
            plan,
            like_inputs(mean, plan.inputs),
            num_windows=np.full(plan.num_examples, plan.extras["num_windows"], dtype=np.int64),
        )
