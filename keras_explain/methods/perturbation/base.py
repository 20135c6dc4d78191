"""What Occlusion and FeatureAblation share: baselines and the drop of the score.

Both methods hide part of an example (set it to a baseline), run the model on
the hidden copy and attribute f(x)[target] - f(x hidden)[target] to the hidden
positions. One (example, hidden part) pair is one kernel evaluation; the part
is built from the pair index inside the compiled step.

The model's outputs at the examples come from the base class's forward pass
(`computes_predictions` is False): the kernel receives each example's
explained score and subtracts the hidden copy's from it, in float64.
"""

import numbers

import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import check_float, describe, fail
from keras_explain.engine.explainer import Explainer

#: The baseline of each example is its own mean value.
MEAN = "mean"
_BASELINE_EXPECTED = "a number, 'mean' or an array"


def check_baseline(baseline):
    """A baseline as stored: a float, "mean", or a finite float32 array.

    Raises:
        ValueError: naming `baseline`, for anything else.
    """
    if isinstance(baseline, str):
        if baseline != MEAN:
            fail("baseline", _BASELINE_EXPECTED, baseline)
        return MEAN
    if isinstance(baseline, (bool, np.bool_)) or baseline is None:
        fail("baseline", _BASELINE_EXPECTED, baseline)
    if isinstance(baseline, numbers.Real):
        return check_float("baseline", baseline)
    try:
        array = np.asarray(baseline, dtype=np.float32)
    except (TypeError, ValueError):
        fail("baseline", _BASELINE_EXPECTED, baseline)
    if array.ndim == 0:
        return check_float("baseline", float(array))
    if not np.all(np.isfinite(array)):
        fail("baseline", "finite values", array)
    return array


def baseline_values(baseline, x):
    """The baseline of every example as a tensor broadcastable to x.

    Args:
        baseline: as `check_baseline` returns it.
        x: the examples, a tensor (N, ...).

    Returns:
        a tensor of x's dtype: (N, 1, ..., 1) for a number or "mean" (each
        example's mean over all its values), (N, ...) for an array.

    Raises:
        ValueError: naming `baseline`, for an array shaped neither like one
            example nor like x.
    """
    count, single = int(x.shape[0]), tuple(x.shape[1:])
    ones = (count,) + (1,) * len(single)
    if isinstance(baseline, str):
        means = x.numpy().reshape(count, -1).astype(np.float64).mean(axis=1)
        return tf.constant(means.reshape(ones), x.dtype)
    if not isinstance(baseline, np.ndarray):
        return tf.fill(ones, tf.cast(baseline, x.dtype))
    if baseline.shape not in (single, tuple(x.shape)):
        raise ValueError(
            f"baseline: expected a number, 'mean', an array of shape {single} (one example) "
            f"or {tuple(x.shape)} (one per example), received {describe(baseline)}."
        )
    return tf.constant(np.broadcast_to(baseline, x.shape), x.dtype)


def trailing_axes(tensor, rank):
    """`tensor` with axes of size 1 appended up to `rank`."""
    extra = rank - tensor.shape.rank
    return tf.reshape(tensor, tf.concat([tf.shape(tensor), tf.ones([extra], tf.int32)], 0))


class PerturbationExplainer(Explainer):
    """Base of the methods that hide part of an example and read the score's drop.

    Args:
        model: a Keras 3 model.
        baseline: the value hidden positions take: a number, "mean" (each
            example's own mean value) or an array shaped like one example or
            like x (one per example).
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose`.
    """

    config_attributes = ("baseline",)
    explain_options = {"baseline": "replaces the constructor's baseline for this call"}

    def __init__(self, model, baseline=0.0, **kwargs):
        self.baseline = check_baseline(baseline)
        super().__init__(model, **kwargs)

    def shared_inputs(self, x, targets, predictions, baseline=None):
        """The per-example rows every hiding kernel reads: the baseline and the score."""
        value = self.baseline if baseline is None else check_baseline(baseline)
        scores = np.asarray(predictions, np.float64)[np.arange(len(targets)), targets]
        return {"baseline": baseline_values(value, x), "score": scores}

    def score_drop(self, rows, hidden):
        """f(x)[target] - f(x hidden)[target] per pair (B,), float64.

        Args:
            rows: the kernel's rows (with the `shared_inputs`).
            hidden: bool tensor broadcastable to x (B, ...), True where the
                pair hides the example.
        """
        x = rows["x"]
        copies = tf.where(hidden, tf.cast(rows["baseline"], x.dtype), x)
        outputs = self._model_fn(copies)
        score = tf.gather(outputs, rows["target"], batch_dims=1)
        return tf.cast(rows["score"], tf.float64) - tf.cast(score, tf.float64)

    def spread(self, drop, hidden):
        """The drop of every pair on the positions it hid (B, ...), float64."""
        weight = tf.cast(hidden, tf.float64)
        return trailing_axes(drop, weight.shape.rank) * weight


def like_inputs(values, x):
    """Group sums shaped (N, ...) with axes of size 1 broadcast to x's shape, as float32."""
    return np.ascontiguousarray(np.broadcast_to(values, x.shape), dtype=np.float32)
