"""SmoothGrad, SquareGrad and VarGrad over any smoothable gradient explainer."""

import warnings

import numpy as np
import tensorflow as tf

from keras_explain.engine.draws import FIRST_SAMPLES, DrawStatistics, check_draws, more_draws, relative_errors
from keras_explain.engine.embedding import EMBEDDING_NOISE
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
        samples: noisy copies per example, or "auto": 16 copies, then
            doubling for the examples whose running mean is not yet precise,
            until the mean's standard error (elementwise, over the copies)
            has an L2 norm at most `tolerance` times the mean's norm, or
            `max_samples` copies were drawn (mode "mean" only); the copies
            per example are `e.samples_used` (N,), the final ratio
            `e.relative_error` (N,). Copy k of an example is
            the same draw at every level, so an example that runs to
            `max_samples` gets exactly the result of samples=max_samples.
            Defaults to 32.
        noise: noise standard deviation as a fraction of each example's value
            range. Defaults to 0.15.
        mode: "mean" (SmoothGrad), "square" (SquareGrad, the mean of squares)
            or "variance" (VarGrad). Defaults to "mean".
        random_state: int seed; the same seed gives identical results.
            Defaults to None (a fresh draw per call).
        tolerance: with samples="auto", the standard error's norm relative
            to the mean's. Defaults to 0.05.
        max_samples: with samples="auto", the most copies per example.
            Defaults to 256.
        batch_size, run_eagerly, verbose: as in `keras_explain.Explainer`;
            `batch_size` defaults to the wrapped explainer's.

    On a model of token ids (a wrapped explainer with a `token_space`), the
    noise is drawn in the space of the Embedding layer's output E (N, T, D),
    with sigma = noise * (max(E(x)) - min(E(x))), and added to the
    embeddings: the ids never change.

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
    config_attributes = ("samples", "noise", "mode", "random_state", "tolerance", "max_samples")

    def __init__(
        self,
        explainer,
        samples=32,
        noise=0.15,
        mode="mean",
        random_state=None,
        tolerance=0.05,
        max_samples=256,
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
        if getattr(explainer, "steps", None) == "auto":
            raise ValueError(
                "explainer: expected an explainer with a fixed number of steps, received "
                "IntegratedGradients(steps='auto'), whose steps adapt per example; give it an integer "
                "number of steps to wrap it in SmoothGrad."
            )
        self.explainer = explainer
        # The wrapped explainer's explain() options pass through.
        self.explain_options = dict(explainer.explain_options)
        self.samples, self.tolerance, self.max_samples = check_draws(samples, tolerance, max_samples)
        self.noise = check_float("noise", noise, minimum=0.0)
        self.mode = check_choice("mode", mode, _SMOOTH_MODES)
        if samples == "auto" and self.mode != "mean":
            fail("samples", "an integer for mode 'square' or 'variance' ('auto' stops on the mean)", samples)
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
    def draws(self):
        """Copies per example of the first (or only) level."""
        return FIRST_SAMPLES if self.samples == "auto" else self.samples

    @property
    def pairs_per_example(self):
        return self.draws * self.explainer.pairs_per_example

    def plan(self, x, targets, predictions, **options):
        inner = self.explainer.plan(x, targets, predictions, **options)
        tokens = self._token_space
        values = x if tokens is None else tokens.embed(x, self.batch_size_for(x))
        flat = tf.reshape(values, [tf.shape(x)[0], -1])
        sigma = self.noise * (tf.reduce_max(flat, axis=1) - tf.reduce_min(flat, axis=1))
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        per_example = dict(inner.per_example)
        per_example["noise_sigma"] = tf.cast(sigma, tf.float32)
        per_example["noise_seed"] = tf.fill([tf.shape(x)[0]], tf.constant(seed, tf.int64))
        # Example i's draws are the stream i * width + 0, 1, ...
        width = self.max_samples if self.samples == "auto" else self.samples
        per_example["noise_stream"] = tf.range(tf.shape(x)[0], dtype=tf.int64) * width
        plan = Plan(x=x, targets=targets, predictions=predictions, per_example=per_example, extras={"inner": inner})
        return self._draws_plan(plan, 0, self.draws)

    def _draws_plan(self, plan, first, count):
        """`plan` for draws first ... first + count - 1 of every example."""
        inner = plan.extras["inner"]
        per_example = dict(plan.per_example)
        per_example["noise_stream"] = plan.per_example["noise_stream"] + first
        # Pair k of an example is noise draw k // P at the inner pair k % P:
        # the inner per-pair-index values repeat once per draw.
        repeated = {
            key: tf.nest.map_structure(lambda v: _repeat(v, count), value)
            for key, value in inner.per_pair_index.items()
        }
        return Plan(
            x=plan.x,
            targets=plan.targets,
            predictions=plan.predictions,
            per_example=per_example,
            pairs=count * inner.pairs,
            group_size=inner.pairs,
            per_pair_index=repeated,
            extras={**plan.extras, "draws": count},
        )

    def batch_kernel(self, rows):
        inner_pairs = self.explainer.pairs_per_example
        k = rows["pair_index"]
        draw = k // inner_pairs
        stream = rows["noise_stream"] + tf.cast(draw, tf.int64)
        seeds = tf.stack([rows["noise_seed"], stream], axis=1)
        x = rows["x"]
        tokens = self._token_space
        # Token ids get their noise in embedding space (T, D), never on the ids.
        shape, static = tf.shape(x)[1:], x.shape[1:]
        if tokens is not None:
            shape, static = tf.concat([shape, [tokens.dim]], 0), static.concatenate([tokens.dim])
        noise = tf.map_fn(
            lambda seed: tf.random.stateless_normal(shape, seed=seed, dtype=x.dtype),
            seeds,
            fn_output_signature=tf.TensorSpec(static, x.dtype),
        )
        sigma = tf.reshape(
            tf.cast(rows["noise_sigma"], x.dtype),
            tf.concat([[-1], tf.ones([tf.size(shape)], tf.int32)], axis=0),
        )
        inner_rows = dict(rows)
        if tokens is None:
            inner_rows["x"] = x + sigma * noise
        else:
            inner_rows[EMBEDDING_NOISE] = sigma * noise
        inner_rows["pair_index"] = k % inner_pairs
        return {"attributions": self.explainer.batch_kernel(inner_rows)["attributions"]}

    def accumulator(self, plan):
        return DrawStatistics(plan.num_examples, plan.extras["draws"])

    def finish(self, plan, sums):
        used = np.full(plan.num_examples, self.draws, np.int64)
        if self.samples == "auto":
            sums, used = more_draws(
                plan, sums, self.draws, self.tolerance, self.max_samples, self._run_draws, "SmoothGrad"
            )
        mean = sums["sum"] / used.reshape((-1,) + (1,) * (sums["sum"].ndim - 1))
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
            if self.samples == "auto":
                error = relative_errors(sums["sum"], sums["sum_squares"], used)
                explanation.annotate(samples_used=used, relative_error=error)
            return explanation
        if self.mode == "square":
            attributions = sums["sum_squares"] / self.samples
        else:
            attributions = np.maximum(sums["sum_squares"] / self.samples - mean * mean, 0.0)
        explanation = self.explanation(plan, attributions.astype(np.float32))
        return explanation if self._token_space is None else self._token_space.annotate(explanation)

    @property
    def _token_space(self):
        """The wrapped explainer's `TokenSpace` (token ids), or None."""
        return getattr(self.explainer, "token_space", None)

    def _run_draws(self, plan, first, count):
        """The `DrawStatistics` sums of draws first ... first + count - 1 of every example of `plan`."""
        return self.run_plan(self._draws_plan(plan, first, count), self.verbose)


def _repeat(value, times):
    """`value` (P, ...) tiled `times` along its first axis."""
    value = tf.convert_to_tensor(value)
    return tf.tile(value, tf.concat([[times], tf.ones([tf.rank(value) - 1], tf.int32)], 0))
