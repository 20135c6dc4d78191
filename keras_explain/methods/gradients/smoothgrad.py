"""SmoothGrad, SquareGrad and VarGrad over any smoothable gradient explainer."""

import warnings

import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import check_choice, check_float, check_int, fail
from keras_explain.engine.explainer import Explainer, Plan
from keras_explain.engine.registry import explainer_class, register
from keras_explain.methods.gradients.integrated_gradients import CompletenessWarning

_SMOOTH_MODES = ("mean", "square", "variance")


@register("smoothgrad", aliases=("smooth_grad",), wraps="saliency")
class SmoothGrad(Explainer):
    """SmoothGrad: average a gradient explainer over noisy copies of each example.

    Each example x gets `samples` copies x + e, e ~ Normal(0, sigma^2) with
    sigma = noise * (max(x) - min(x)) for that input; the wrapped explainer
    runs on every copy (an Integrated Gradients wrapper runs its whole path on
    each) and the results are combined per `mode`.

    Args:
        explainer: the gradient explainer to smooth: `GradientSaliency`,
            `IntegratedGradients`, `GradCAM` or `GradCAMPlusPlus` (any
            explainer that declares `smoothable`). Its model, output and
            options are used as they are.
        samples: noisy copies per example. Defaults to 32.
        noise: noise standard deviation as a fraction of each example's value
            range. Defaults to 0.15.
        mode: "mean" (SmoothGrad), "square" (SquareGrad, the mean of squares)
            or "variance" (VarGrad). Defaults to "mean".
        random_state: int seed; the same seed gives identical results.
            Defaults to None (a fresh draw per call).
        batch_size, run_eagerly, verbose: as in `keras_explain.Explainer`;
            `batch_size` defaults to the wrapped explainer's.

    `explain(x, targets=None, **options)` passes `options` to the wrapped
    explainer (for example an Integrated Gradients `baseline`). Targets default
    to the prediction on the clean example.

    Example:

    ```python
    sg = kx.SmoothGrad(kx.GradientSaliency(model), samples=32, noise=0.15)
    e = sg.explain(x, targets=y)
    ```

    References: Smilkov et al., "SmoothGrad: removing noise by adding noise",
    2017; Adebayo et al., "Local Explanation Methods for Deep Neural Networks
    Lack Sensitivity to Parameter Values", 2018 (VarGrad); Hooker et al., "A
    Benchmark for Interpretability Methods in Deep Neural Networks", 2019
    (SquareGrad).
    """

    method = "smoothgrad"
    config_attributes = ("samples", "noise", "mode", "random_state")

    def __init__(
        self,
        explainer,
        samples=32,
        noise=0.15,
        mode="mean",
        random_state=None,
        batch_size=None,
        run_eagerly=False,
        verbose="auto",
    ):
        if not (isinstance(explainer, Explainer) and explainer.smoothable):
            fail(
                "explainer",
                "a gradient explainer instance (GradientSaliency, IntegratedGradients, GradCAM or GradCAMPlusPlus)",
                explainer,
            )
        self.explainer = explainer
        # The wrapped explainer's explain() options pass through.
        self.explain_options = dict(explainer.explain_options)
        self.samples = check_int("samples", samples, minimum=1)
        self.noise = check_float("noise", noise, minimum=0.0)
        self.mode = check_choice("mode", mode, _SMOOTH_MODES)
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
        if batch_size is None:
            batch_size = explainer.batch_size
        super().__init__(
            explainer.model,
            output=explainer.output,
            batch_size=batch_size,
            run_eagerly=run_eagerly,
            verbose=verbose,
        )

    def get_config(self):
        config = super().get_config()
        del config["output"]
        # The wrapped explainer's output is the one explained.
        config["explainer"] = {
            "class_name": type(self.explainer).__name__,
            "config": self.explainer.get_config(),
        }
        return config

    @classmethod
    def from_config(cls, config, model):
        config = dict(config)
        inner = config.pop("explainer")
        explainer = explainer_class(inner["class_name"]).from_config(inner["config"], model)
        return cls(explainer, **config)

    @property
    def pairs_per_example(self):
        return self.samples * self.explainer.pairs_per_example

    def plan(self, x, targets, predictions, **options):
        inner = self.explainer.plan(x, targets, predictions, **options)
        flat = tf.reshape(x, [tf.shape(x)[0], -1])
        sigma = self.noise * (tf.reduce_max(flat, axis=1) - tf.reduce_min(flat, axis=1))
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        per_example = dict(inner.per_example)
        per_example["noise_sigma"] = tf.cast(sigma, tf.float32)
        per_example["noise_seed"] = tf.fill([tf.shape(x)[0]], tf.constant(seed, tf.int64))
        # Pair k of an example is noise draw k // P at the inner pair k % P:
        # the inner per-pair-index values repeat once per draw.
        repeated = {
            key: tf.nest.map_structure(lambda v: _repeat(v, self.samples), value)
            for key, value in inner.per_pair_index.items()
        }
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            per_example=per_example,
            pairs=self.samples * inner.pairs,
            group_size=inner.pairs,
            per_pair_index=repeated,
            extras={"inner": inner},
        )

    def batch_kernel(self, rows):
        inner_pairs = self.explainer.pairs_per_example
        k = rows["pair_index"]
        draw = k // inner_pairs
        stream = tf.cast(rows["example_index"], tf.int64) * self.samples + tf.cast(draw, tf.int64)
        seeds = tf.stack([rows["noise_seed"], stream], axis=1)
        x = rows["x"]
        noise = tf.map_fn(
            lambda seed: tf.random.stateless_normal(tf.shape(x)[1:], seed=seed, dtype=x.dtype),
            seeds,
            fn_output_signature=tf.TensorSpec(x.shape[1:], x.dtype),
        )
        sigma = tf.reshape(
            tf.cast(rows["noise_sigma"], x.dtype),
            tf.concat([[-1], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0),
        )
        inner_rows = dict(rows)
        inner_rows["x"] = x + sigma * noise
        inner_rows["pair_index"] = k % inner_pairs
        return {"attributions": self.explainer.batch_kernel(inner_rows)["attributions"]}

    def accumulator(self, plan):
        return _NoiseStatistics(plan.num_examples, self.samples)

    def finish(self, plan, sums):
        mean = sums["sum"] / self.samples
        if self.mode == "mean":
            # The wrapped explainer finishes the mean, keeping what it reports
            # beside the attributions (Integrated Gradients' completeness gap
            # against the clean example).
            inner = plan.extras["inner"]
            inner.inputs = plan.inputs
            with warnings.catch_warnings():
                # A gap against the clean example measures the noise too: it
                # is reported, not warned about as a quadrature error.
                warnings.simplefilter("ignore", CompletenessWarning)
                explanation = self.explainer.finish(inner, {"attributions": mean.astype(np.float32)})
            explanation.method = self.method
            explanation.config = self.get_config()
            return explanation
        if self.mode == "square":
            attributions = sums["sum_squares"] / self.samples
        else:
            attributions = np.maximum(sums["sum_squares"] / self.samples - mean * mean, 0.0)
        return self.explanation(plan, attributions.astype(np.float32))


def _repeat(value, times):
    """`value` (P, ...) tiled `times` along its first axis."""
    value = tf.convert_to_tensor(value)
    return tf.tile(value, tf.concat([[times], tf.ones([tf.rank(value) - 1], tf.int32)], 0))


class _NoiseStatistics:
    """Sums and sums of squares of every example's noise draws, in float64."""

    def __init__(self, num_examples, samples):
        self.num_examples, self.samples = num_examples, samples
        self.total = self.squares = None

    def add(self, first_group, values):
        value = values["attributions"].astype(np.float64)
        if self.total is None:
            shape = (self.num_examples,) + value.shape[1:]
            self.total, self.squares = np.zeros(shape), np.zeros(shape)
        owners = (first_group + np.arange(len(value))) // self.samples
        for owner in np.unique(owners):
            draws = value[owners == owner]
            self.total[owner] += draws.sum(axis=0)
            self.squares[owner] += (draws * draws).sum(axis=0)

    def result(self):
        return {"sum": self.total, "sum_squares": self.squares}
