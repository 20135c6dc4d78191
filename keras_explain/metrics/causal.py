"""Deletion and Insertion (Petsiuk et al. 2018): features replaced in order of attribution."""

import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import check_float, check_int
from keras_explain.metrics.base import Metric, check_activation, target_scores
from keras_explain.metrics.perturbations import (
    baseline_array,
    check_metric_baseline,
    check_sigma,
    feature_mask,
    pixel_values,
)
from keras_explain.metrics.statistics import trapezoid_area


class CausalMetric(Metric):
    """Deletion or Insertion: the output along a path that replaces features by attribution.

    Features are ranked by decreasing attribution (signed; images rank
    pixels by their attribution averaged over channels, as xplique does;
    ties keep the features' order). Step k of `steps` replaces the first
    n_k = floor(k / steps * max_fraction * F) features of F: deletion puts
    the baseline in place of the example's values, insertion the example's
    values in place of the baseline. The score of an example is the area
    under its curve s_0 ... s_steps of the explained output, by the
    trapezoidal rule over evenly spaced points of [0, 1]:
    AUC = mean_k (s_k + s_{k+1}) / 2. `steps + 1` model evaluations per
    example.

    This is xplique's `Deletion` / `Insertion` (the mean of our scores
    equals its `evaluate`, the mean of our curves its `detailed_evaluate`),
    per example.

    Args:
        steps: points of the path after the start. Defaults to 10.
        baseline: what replaces (deletion) or starts (insertion) the
            example: a number, "mean" (each example's mean value), "blur"
            (the image blurred with a Gaussian of `blur_sigma` pixels) or an
            array shaped like one example or like x. Defaults to 0.0.
        max_fraction: the fraction of the features replaced at the last
            step, in (0, 1]. Defaults to 1.0.
        activation: None, "softmax" or "sigmoid", applied to the model's
            outputs before the target is read (a probability instead of a
            logit). Defaults to None.
        blur_sigma: the Gaussian's standard deviation in pixels for
            `baseline="blur"`. Defaults to 5.0.
        **kwargs: `output`, `batch_size`, `run_eagerly` (see `Metric`).

    Returns (of a call), a `MetricResult` with `curve` (N, steps + 1), the
    explained output at each step, and `fractions` (steps + 1,), the
    fraction of the features replaced at each step.

    Raises:
        ValueError: for steps < 1 or another bad argument.

    Reference: Petsiuk, Das and Saenko, "RISE: Randomized Input Sampling
    for Explanation of Black-box Models", BMVC 2018.
    """

    mode = None
    config_attributes = ("steps", "baseline", "max_fraction", "activation", "blur_sigma")

    def __init__(
        self, steps=10, baseline=0.0, max_fraction=1.0, activation=None, blur_sigma=5.0, **kwargs
    ):
        super().__init__(**kwargs)
        self.steps = check_int("steps", steps, minimum=1)
        self.baseline = check_metric_baseline(baseline)
        self.max_fraction = check_float("max_fraction", max_fraction, 0.0, 1.0, strict_minimum=True)
        self.activation = check_activation(activation)
        self.blur_sigma = check_sigma(blur_sigma)

    def compute(self, inputs):
        values = pixel_values(inputs.attributions, inputs.x)
        count, features = values.shape
        order = np.argsort(-values, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.broadcast_to(np.arange(features), order.shape), axis=1)
        largest = int(np.floor(features * self.max_fraction))
        replaced = np.linspace(0, largest, self.steps + 1).astype(np.int32)
        per_example = {
            "rank": rank.astype(np.int32),
            "baseline": baseline_array(self.baseline, inputs.x, self.blur_sigma),
        }
        per_pair = {"replaced": np.tile(replaced, count)}
        curve = self.run(inputs, per_example, self.steps + 1, per_pair=per_pair)["score"]
        curve = curve.astype(np.float64)
        return self.result(trapezoid_area(curve), curve=curve, fractions=replaced / features)

    def kernel(self, model_function, rows):
        x = rows["x"]
        mask = feature_mask(rows["rank"] < rows["replaced"][:, None], x)
        baseline = tf.cast(rows["baseline"], x.dtype)
        path = tf.where(mask, baseline, x) if self.mode == "deletion" else tf.where(mask, x, baseline)
        return {"score": target_scores(model_function, path, rows["target"], self.activation)}


class Deletion(CausalMetric):
    """Deletion: the explained output as the most important features are removed first.

    A faithful attribution makes the output fall fast: a small area under
    the curve. See `CausalMetric` for the path, the arguments and the
    result.

    Example:

    ```python
    e = kx.GradientSaliency(model).explain(x)
    result = kx.metrics.Deletion(steps=20)(model, x, e)
    result.scores   # (N,) area under each example's curve, lower is better
    result.curve    # (N, 21)
    ```
    """

    name = "deletion"
    mode = "deletion"
    higher_is_better = False


class Insertion(CausalMetric):
    """Insertion: the explained output as the most important features are put back first.

    Starting from the baseline (a blurred image, say), a faithful
    attribution makes the output rise fast: a large area under the curve.
    See `CausalMetric` for the path, the arguments and the result.

    Example:

    ```python
    result = kx.metrics.Insertion(steps=20, baseline="blur")(model, x, e)
    ```
    """

    name = "insertion"
    mode = "insertion"
    higher_is_better = True
