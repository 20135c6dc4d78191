"""What Occlusion and FeatureAblation share: baselines and the drop of the score.

Both methods hide part of an example (set it to a baseline), run the model on
the hidden copy and attribute f(x)[target] - f(x hidden)[target] to the hidden
positions. One (example, hidden part) pair is one kernel evaluation; the part
is built from the pair index inside the compiled step.

The model's outputs at the examples come from the base class's forward pass
(`computes_predictions` is False): the kernel receives each example's
explained score and subtracts the hidden copy's from it, in float64.
"""

import numpy as np
import tensorflow as tf

from keras_explain.engine.baselines import baseline_values, check_baseline
from keras_explain.engine.explainer import Explainer


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
        self.baseline = check_baseline(baseline, allow_mean=True)
        super().__init__(model, **kwargs)

    def shared_inputs(self, x, targets, predictions, baseline=None):
        """The per-example rows every hiding kernel reads: the baseline and the score."""
        value = self.baseline if baseline is None else check_baseline(baseline, allow_mean=True)
        scores = np.asarray(predictions, np.float64)[np.arange(len(targets)), targets]
        return {"baseline": baseline_values(value, x, allow_mean=True), "score": scores}

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
