"""GradientShap (expected gradients): gradients averaged over random paths."""

import numpy as np
import tensorflow as tf

from keras_explain.engine.embedding import TokenInputs
from keras_explain.engine.errors import check_int
from keras_explain.engine.gradients import target_gradient
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
    expectation (exactly for a linear model), with an error that shrinks as
    1 / sqrt(samples). `e.additivity_gap` reports it per example.

    It needs only the model's gradients, so it works with any differentiable
    Keras model: subclassed models, attention, custom layers.

    Args:
        model: a Keras 3 model, with one input or several (lists of arrays,
            as for `DeepShap`).
        background: the reference distribution, (M, ...) like the model input.
        samples: draws per example. Defaults to 200 (shap's default).
        random_state: int seed. Draw k of example i depends only on
            (random_state, i, k), so results do not depend on `batch_size`.
            Defaults to None (a fresh seed per call).
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
    ```

    References: Erion, Janizek, Sturmfels, Lundberg & Lee, "Improving
    performance of deep learning models with axiomatic attribution priors
    and expected gradients", Nature Machine Intelligence 2021; Lundberg &
    Lee, "A Unified Approach to Interpreting Model Predictions", NeurIPS 2017.
    """

    method = "gradientshap"
    config_attributes = ("samples", "random_state")
    state_attributes = BackgroundExplainer.state_attributes + ("_tokens",)

    def __init__(self, model, background, samples=200, random_state=None, layer=None, token_reduce="sum", **kwargs):
        self.samples = check_int("samples", samples, minimum=1)
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
        super().__init__(model, background, **kwargs)
        self._setup_tokens(layer, token_reduce)

    def plan(self, x, targets, predictions):
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        count = len(targets)
        # Stateless draws: entry (i, k) depends on the seed and on (i, k) only.
        shape = [count, self.samples]
        alphas = tf.random.stateless_uniform(shape, seed=[seed, 0], dtype=tf.float32)
        rows = tf.random.stateless_uniform(
            shape, seed=[seed, 1], minval=0, maxval=self.background_size, dtype=tf.int32
        )
        per_pair = {
            "alpha": tf.reshape(alphas, [-1]).numpy(),
            "background_row": tf.reshape(rows, [-1]).numpy(),
        }
        shared = {}
        if self._tokens is not None:
            # The references' embeddings at the model's current weights.
            shared[REFERENCES] = self._tokens.embed(self._background, self.batch_size_for(x))
        return self.background_plan(x, targets, predictions, self.samples, per_pair=per_pair, shared=shared)

    def batch_kernel(self, rows):
        x = rows["x"]
        if self._tokens is not None:
            reference = tf.gather(rows[REFERENCES], rows["background_row"])
            gradient, delta, _, _ = self._tokens.gradient(rows, reference=reference, alpha=rows["alpha"])
            return {"attributions": self._tokens.reduce(gradient * delta)}
        reference = tf.nest.map_structure(
            lambda part: tf.gather(part, rows["background_row"]), self._background
        )

        def interpolate(part, base):
            shape = tf.concat([[-1], tf.ones([tf.rank(part) - 1], tf.int32)], axis=0)
            alpha = tf.cast(tf.reshape(rows["alpha"], shape), part.dtype)
            return base + alpha * (part - base)

        point = tf.nest.map_structure(interpolate, x, reference)
        gradient, _, _ = target_gradient(self._model_fn, point, rows["target"])

        def attribution(g, part, base):
            return g * (tf.cast(part, tf.float32) - tf.cast(base, tf.float32))

        return {"attributions": tf.nest.map_structure(attribution, gradient, x, reference)}

    def finish(self, plan, sums):
        attributions = mean_of_sums(sums["attributions"], self.samples)
        expected, _, gap = self.expected_and_gap(plan, attributions)
        explanation = self.explanation(plan, attributions, expected_value=expected, additivity_gap=gap)
        return self._token_annotated(explanation)
