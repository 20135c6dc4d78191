"""GradientShap (expected gradients): gradients averaged over random paths."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_explain.engine.draws import FIRST_SAMPLES, DrawStatistics, check_draws, more_draws, relative_errors
from keras_explain.engine.embedding import TokenInputs
from keras_explain.engine.errors import check_int
from keras_explain.engine.gradients import target_gradient
from keras_explain.engine.random import pair_bits
from keras_explain.engine.registry import register
from keras_explain.methods.shap.background import BackgroundExplainer, mean_of_sums

#: The plan's key for the background embeddings (token ids).
REFERENCES = "background_embeddings"


@register("gradientshap", aliases=("gradient_shap", "expected_gradients", "gradshap"))
class GradientShap(TokenInputs, BackgroundExplainer):
    """GradientSHAP (expected gradients): gradients averaged over random paths.

    For each example x and each of `samples` draws, a background row r and a
    point alpha ~ U(0, 1) are drawn, and the draw contributes
    (x - r) * grad f(r + alpha (x - r)). The attributions are the mean over
    the draws: an unbiased estimate of Integrated Gradients averaged over the
    background, so sum(attributions) == f(x) - E[f(background)] holds in
    expectation, with an error that shrinks as 1 / sqrt(samples).
    `e.additivity_gap` reports it per example. (On a linear model every draw
    adds exactly f(x) - f(r), whatever alpha: the gap is then
    E[f(background)] minus the mean of f over the drawn rows.)

    Draw k of example i is a pure function of (random_state, i, k): 64-bit
    SplitMix64 draws addressed by (i, k) (`keras_explain.engine.random.pair_bits`)
    give alpha = (a + 0.5) / 2**23 for the top 23 bits a of one (a float32
    strictly inside (0, 1)) and the row floor(b M / 2**32) for the top 32
    bits b of another (M background rows; each row's probability is within
    2**-32 of 1 / M). So the draws do not depend on `batch_size` or on the
    number of samples: the first k draws of a run with more samples are
    those of samples=k.

    It needs only the model's gradients, so it works with any differentiable
    Keras model: subclassed models, attention, custom layers.

    Args:
        model: a Keras 3 model, with one input or several (lists of arrays,
            as for `DeepShap`).
        background: the reference distribution, (M, ...) like the model input.
        samples: draws per example, or "auto": 16 draws, then doubling for
            the examples whose running mean is not yet precise, until the
            mean's standard error (elementwise, over the draws) has an L2
            norm at most `tolerance` times the mean's norm (over every model
            input together), or doubling again would pass `max_samples`;
            the draws per example are `e.samples_used` (N,), the final ratio
            `e.relative_error` (N,). Each example stops on its own sums at
            16, 32, 64, ... draws, so an auto result is that of
            samples=e.samples_used[i] for example i (to float32 round-off:
            the float64 sums are taken in another order). Defaults to 200
            (shap's default).
        random_state: int seed. Defaults to None (a fresh seed per call).
        tolerance: with samples="auto", the standard error's norm relative
            to the mean's. Defaults to 0.05.
        max_samples: with samples="auto", the most draws per example.
            Defaults to 256.
        layer: for a model of token ids, the Embedding layer to explain
            them through (a name, "outer/inner" path or Layer). Defaults to
            None: the model's first Embedding layer, if it has one.
        token_reduce: for token ids, "sum" (one attribution per token,
            (N, T)) or None (per embedding value, (N, T, D)). Defaults to "sum".
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose` as in
            `keras_explain.Explainer`.

    On a model of token ids (N, T) the background is token-id rows (M, T)
    whose embeddings are the references: the paths run between embeddings
    (the Embedding layer's output, the Keras mask coming from the explained
    ids), the attributions are summed over the embedding dimension, and the
    explanation has the annotation `token_space`; `inputs` stay the ids.

    `explain(x, targets=None)` returns an `Explanation` with `attributions`
    shaped like x, `expected_value` (N,) and `additivity_gap` (N,), as
    `DeepShap`.

    Raises:
        ValueError: for a background that is empty, holds NaN or infinity, or
            is not shaped like the model input, or a bad argument.

    Example:

    ```python
    e = kx.GradientShap(model, x_train[:100], samples=200, random_state=0).explain(x)
    e = kx.GradientShap(model, x_train[:100], samples="auto", tolerance=0.05).explain(x)
    e.samples_used, e.relative_error   # draws per example and the precision they reached
    ```

    References: Erion, Janizek, Sturmfels, Lundberg & Lee, "Improving
    performance of deep learning models with axiomatic attribution priors
    and expected gradients", Nature Machine Intelligence 2021; Lundberg &
    Lee, "A Unified Approach to Interpreting Model Predictions", NeurIPS 2017.
    """

    method = "gradientshap"
    config_attributes = ("samples", "random_state", "tolerance", "max_samples")
    state_attributes = BackgroundExplainer.state_attributes + ("_tokens",)

    def __init__(
        self,
        model,
        background,
        samples=200,
        random_state=None,
        tolerance=0.05,
        max_samples=256,
        layer=None,
        token_reduce="sum",
        **kwargs,
    ):
        self.samples, self.tolerance, self.max_samples = check_draws(samples, tolerance, max_samples)
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
        super().__init__(model, background, **kwargs)
        self._setup_tokens(layer, token_reduce)

    @property
    def adaptive(self):
        """True for samples="auto"."""
        return self.samples == "auto"

    def plan(self, x, targets, predictions):
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        count = len(targets)
        # What addresses the draws: the seed, each example's index in x, and
        # the index of a level's first draw (pair k of a level is draw first + k).
        per_example = {
            "draw_seed": tf.fill([count], tf.constant(seed, tf.int64)),
            "draw_example": tf.range(count, dtype=tf.int64),
            "draw_first": tf.zeros([count], tf.int32),
        }
        shared = {}
        if self._tokens is not None:
            # The references' embeddings at the model's current weights.
            shared[REFERENCES] = self._tokens.embed(self._background, self.batch_size_for(x))
        draws = FIRST_SAMPLES if self.adaptive else self.samples
        plan = self.background_plan(x, targets, predictions, draws, per_example=per_example, shared=shared)
        if self.adaptive:
            # One group per draw: the statistics need every draw's value.
            plan.group_size = 1
        return plan

    def batch_kernel(self, rows):
        alpha, background_row = self._draws(rows)
        x = rows["x"]
        if self._tokens is not None:
            reference = tf.gather(rows[REFERENCES], background_row)
            gradient, delta, _, _ = self._tokens.gradient(rows, reference=reference, alpha=alpha)
            return {"attributions": self._tokens.reduce(gradient * delta)}
        reference = tf.nest.map_structure(lambda part: tf.gather(part, background_row), self._background)

        def interpolate(part, base):
            shape = tf.concat([[-1], tf.ones([tf.rank(part) - 1], tf.int32)], axis=0)
            return base + tf.cast(tf.reshape(alpha, shape), part.dtype) * (part - base)

        point = tf.nest.map_structure(interpolate, x, reference)
        gradient, _, _ = target_gradient(self._model_fn, point, rows["target"])

        def attribution(g, part, base):
            return g * (tf.cast(part, tf.float32) - tf.cast(base, tf.float32))

        attributions = tf.nest.map_structure(attribution, gradient, x, reference)
        if self.adaptive and isinstance(attributions, list):
            # Per-draw values of several inputs travel as one row (B, sum of sizes).
            count = tf.shape(attributions[0])[0]
            attributions = tf.concat([tf.reshape(part, [count, -1]) for part in attributions], axis=1)
        return {"attributions": attributions}

    def _draws(self, rows):
        """(alpha (B,) float32 in (0, 1), background row (B,) int32) of each pair's draw."""
        sample = tf.cast(rows["pair_index"] + rows["draw_first"], tf.int64)
        bits = pair_bits(rows["draw_seed"][0], rows["draw_example"], sample, 2)
        top = tf.bitwise.right_shift(bits, tf.constant(41, tf.uint64))
        alpha = (tf.cast(top[:, 0], tf.float32) + 0.5) * (2.0**-23)
        # Multiply-high: floor(b * M / 2**32) for the top 32 bits b.
        high = tf.bitwise.right_shift(bits[:, 1], tf.constant(32, tf.uint64))
        scaled = high * tf.constant(self.background_size, tf.uint64)
        return alpha, tf.cast(tf.bitwise.right_shift(scaled, tf.constant(32, tf.uint64)), tf.int32)

    def accumulator(self, plan):
        if self.adaptive:
            return DrawStatistics(plan.num_examples, plan.pairs)
        return super().accumulator(plan)

    def finish(self, plan, sums):
        if not self.adaptive:
            return self._explained(plan, mean_of_sums(sums["attributions"], self.samples))
        sums, used = more_draws(
            plan, sums, plan.pairs, self.tolerance, self.max_samples, self._run_draws, "GradientShap"
        )
        mean = mean_of_sums(sums["sum"], used.reshape((-1,) + (1,) * (sums["sum"].ndim - 1)))
        explanation = self._explained(plan, _split_inputs(plan.x, mean))
        error = relative_errors(sums["sum"], sums["sum_squares"], used)
        return explanation.annotate(samples_used=used, relative_error=error)

    def _explained(self, plan, attributions):
        expected, _, gap = self.expected_and_gap(plan, attributions)
        explanation = self.explanation(plan, attributions, expected_value=expected, additivity_gap=gap)
        return self._token_annotated(explanation)

    def _run_draws(self, plan, first, count):
        """DrawStatistics sums of draws first ... first + count - 1 of every example of `plan`."""
        per_example = dict(plan.per_example, draw_first=tf.fill([plan.num_examples], tf.constant(first, tf.int32)))
        level = dataclasses.replace(plan, per_example=per_example, pairs=count, group_size=1)
        return self.run_plan(level, self.verbose)


def _split_inputs(x, flat):
    """The (N, sum of sizes) attributions of several model inputs as one array per input (like x)."""
    if not isinstance(x, (list, tuple)):
        return flat
    shapes = [tuple(part.shape[1:]) for part in x]
    cuts = np.cumsum([int(np.prod(shape)) for shape in shapes])[:-1]
    return [piece.reshape((len(flat),) + shape) for piece, shape in zip(np.split(flat, cuts, axis=1), shapes)]
