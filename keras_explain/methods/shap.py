"""SHAP values for deep models: DeepShap (DeepLIFT) and GradientShap (expected gradients)."""

import numpy as np
import tensorflow as tf

from keras_explain.core.base import Explainer, Plan, row_size
from keras_explain.core.deeplift import (
    Layout,
    activation_size,
    capture_pass,
    pair_pass,
    plan_rules,
)
from keras_explain.core.gradients import target_gradient
from keras_explain.core.registry import register
from keras_explain.core.validation import check_bool, check_int

#: Additivity tolerance of DeepShap: |gap| <= ABSOLUTE + RELATIVE * |f(x) - E f(bg)|.
ADDITIVITY_ABSOLUTE = 1e-4
ADDITIVITY_RELATIVE = 1e-3


class AdditivityError(RuntimeError):
    """DeepShap attributions that do not sum to f(x) - E[f(background)]."""


def _row_sums(array):
    """Sum every axis but the first, in float64: (N, ...) -> (N,); a list of
    arrays (one per model input) sums over all of them."""
    return sum(
        np.asarray(part, dtype=np.float64).reshape(len(part), -1).sum(axis=1)
        for part in tf.nest.flatten(array)
    )



def _mean_of_sums(sums, count):
    """Summed attributions divided by `count`, as float32; a list stays a list."""
    return tf.nest.map_structure(lambda a: (a / count).astype(np.float32), sums)


class _BackgroundExplainer(Explainer):
    """What DeepShap and GradientShap share: a background and its expected value.

    For a model with several inputs the background, the inputs and the
    attributions are lists with one array per model input.
    """

    _multi_input = True

    def __init__(self, model, background, **kwargs):
        super().__init__(model, **kwargs)
        self._check_model()
        array = self._model_fn.read(background, "background")
        self.background = array
        self._background = self._model_fn.tensors(array)
        # E[f(background)] for every output, (K,), in float64.
        self.expected_value = self.predict(self._background).astype(np.float64).mean(axis=0)

    def _check_model(self):
        """Method-specific model checks, run before any computation."""

    @property
    def background_size(self):
        """The number of background rows."""
        return len(tf.nest.flatten(self.background)[0])

    def get_config(self):
        config = super().get_config()
        config["background"] = self.background
        return config

    def _check_like_background(self, x):
        parts = tf.nest.flatten(x)
        for k, (part, reference) in enumerate(zip(parts, tf.nest.flatten(self.background))):
            if tuple(part.shape[1:]) != tuple(reference.shape[1:]):
                name = f"x[{k}]" if len(parts) > 1 else "x"
                raise ValueError(
                    f"{name}: expected inputs shaped like the background, (N, "
                    f"{', '.join(str(d) for d in reference.shape[1:])}), received "
                    f"inputs of shape {tuple(part.shape)}."
                )

    def _scores_and_gap(self, plan, attributions):
        rows = np.arange(len(plan.targets))
        scores = plan.predictions[rows, plan.targets].astype(np.float64)
        expected = self.expected_value[plan.targets]
        difference = scores - expected
        return expected, difference, _row_sums(attributions) - difference


@register("deepshap", aliases=("deep_shap", "deeplift_shap", "deep"))
class DeepShap(_BackgroundExplainer):
    """DeepSHAP: DeepLIFT's rescale rule averaged over a background distribution.

    For every input x and every background row r, DeepLIFT propagates the
    difference f(x) - f(r) back to the input with exact rules (the rescale
    rule for elementwise nonlinearities, dedicated rules for max pooling,
    softmax and layer normalization, ordinary gradients for linear layers),
    giving attributions phi(x, r) with sum(phi(x, r)) == f(x) - f(r). The SHAP
    values are their mean over the background, so that

        sum(attributions) == f(x) - E[f(background)]

    up to float32 rounding. This is checked on every call: `e.additivity_gap`
    holds the gap per input, and `check_additivity=True` raises when it
    exceeds 1e-4 + 1e-3 * |f(x) - E[f(background)]|.

    The semantics are those of `shap.DeepExplainer`, but the rules are
    attached to the model's Keras layers with `tf.custom_gradient` while the
    explainer traces its step, and removed afterwards: no TensorFlow
    internals are touched and an unsupported layer is reported before
    anything runs. Each step takes a batch of (input, background row) pairs:
    one forward pass over the distinct inputs and background rows of the
    batch records the layers' values, and one backward pass over the pairs
    applies the rules (their multiplier computations compiled with XLA); the
    per-input sums are taken in the graph. A step costs about one backward
    pass over the batch, and memory is bounded by one batch whatever the
    background size. The first call compiles the rules for the batch shapes
    it meets (a second or so per distinct shape); later calls reuse them.

    Supported: Sequential and Functional models (nested ones too, layers
    reused any number of times) made of Dense, EinsumDense, Conv1D/2D/3D and
    their transposes, DepthwiseConv1D/2D, SeparableConv1D/2D, average, max
    and global pooling, BatchNormalization (inference), LayerNormalization,
    Dropout and the noise layers, Flatten, Reshape, Permute, RepeatVector,
    Cropping, ZeroPadding, UpSampling, Rescaling, Normalization, Add,
    Subtract, Concatenate, Average, Activation, ReLU, LeakyReLU, ELU, PReLU
    and Softmax; fused activations relu, relu6, leaky_relu, elu, selu, gelu,
    silu/swish, sigmoid, tanh, softplus, softsign, hard_sigmoid, hard_silu,
    mish, exponential, celu, softmax and the other elementwise Keras
    activations. For anything else (subclassed models, attention, custom
    layers) use `GradientShap`.

    Args:
        model: a Sequential or Functional Keras 3 model, with one input or
            several (then x, the background and the attributions are lists
            with one array per model input, in the order of `model.inputs`;
            a dict keyed by input name is accepted for x and the background).
        background: the reference distribution, (M, ...) like the model input
            (a numpy array, tf.Tensor or tf.data.Dataset); 100 to 1000 rows
            are typical. Every explained input is paired with every row.
        check_additivity: raise `AdditivityError` when the attributions of an
            input do not sum to f(x) - E[f(background)] within
            1e-4 + 1e-3 * |f(x) - E[f(background)]|. Defaults to True.
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose` as in
            `keras_explain.Explainer`. `batch_size` counts (input, background
            row) pairs per step (rounded up by less than a quarter, to a size
            the compiled rules are shared by); the forward pass of a step
            sees at most min(batch_size, M) background rows and
            batch_size // M + 2 inputs. Defaults to None: as many pairs as
            keep a layer's output for the step within 2**26 values (256 MB
            in float32), from 16 up to 8192 pairs (larger steps share each
            step's forward pass over the background among more pairs).

    Attributes:
        expected_value: np.ndarray float64 (K,), the mean model output over
            the background.

    `explain(x, targets=None)` returns an `Explanation` with `attributions`
    shaped like x, (N, ...), `expected_value` (N,) = E[f(background)] for
    each input's explained output, and `additivity_gap` (N,) =
    sum(attributions) - (f(x) - E[f(background)]).

    Raises:
        ValueError: for a subclassed model or a layer or activation without a
            rule (naming it and pointing to `GradientShap`), or a background
            that is empty, holds NaN or infinity, or is not shaped like the
            model input.
        AdditivityError: from `explain` when `check_additivity` is True and
            the attributions do not add up.

    Example:

    ```python
    explainer = kx.DeepShap(model, x_train[:100])
    e = explainer.explain(x_test[:10])
    e.attributions.sum(axis=(1, 2, 3))   # == f(x)[target] - e.expected_value
    abs(e.additivity_gap).max()          # about 1e-7
    ```

    References: Lundberg & Lee, "A Unified Approach to Interpreting Model
    Predictions", NeurIPS 2017; Shrikumar, Greenside & Kundaje, "Learning
    Important Features Through Propagating Activation Differences", ICML 2017.
    """

    method = "deepshap"
    # f(x) comes from the capture pass of each step: no separate forward pass.
    _kernel_predicts = True

    def __init__(self, model, background, check_additivity=True, **kwargs):
        self.check_additivity = check_bool("check_additivity", check_additivity)
        super().__init__(model, background, **kwargs)

    def _check_model(self):
        # Raises for a subclassed model or a layer without a rule.
        self._rules = plan_rules(self.model)
        self._activation_size = activation_size(self._rules)

    def _batch_size_for(self, x):
        # A step's memory is a few tensors of (pairs, largest layer output),
        # so the default bounds that: 2**26 values (256 MB in float32), as
        # the base's 2**23 input values do for a model whose largest layer
        # output is 8 times its input. Up to 8192 pairs, because each step
        # also runs the model forward over the background rows it meets and
        # larger steps share that pass among more pairs.
        if self.batch_size is not None:
            return self.batch_size
        per_row = row_size(x)
        largest = max(per_row, self._activation_size or 8 * per_row)
        return int(np.clip(2**26 // largest, 16, 8192))

    def get_config(self):
        config = super().get_config()
        config["check_additivity"] = self.check_additivity
        return config

    def _plan(self, x, targets, predictions):
        self._check_like_background(x)
        count = self.background_size
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            samples=count,
            group_size=count,
            per_sample={"background": self._background},
        )

    def _pair(self, rows):
        # Written over a structure of inputs so that multi-input models only
        # need `x` and `background` to become lists.
        x, reference = rows["x"], rows["background"]
        layout = Layout(rows["input_index"], rows["sample_index"], self.background_size)
        # 1. The capture pass: the distinct inputs and background rows.
        captured = tf.nest.map_structure(layout.capture_batch, x, self._background)
        records = {}
        with capture_pass(self._rules, records):
            y = self._model_fn(captured)
        y_x = tf.gather(y[: layout.count], layout.owner[: layout.size])  # f(x) per pair
        target = rows["target"]
        chosen = tf.where(target < 0, tf.argmax(y_x, axis=1, output_type=tf.int32), target)
        padded = tf.concat([chosen, tf.zeros([layout.padded - layout.size], tf.int32)], 0)
        # 2. The pair pass: DeepLIFT's backward pass for every pair.
        pairs = tf.nest.map_structure(layout.pair_batch, x)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(pairs)
            with pair_pass(self._rules, records, layout):
                outputs = self._model_fn(pairs)
            one_hot = tf.one_hot(padded, tf.shape(outputs)[1], dtype=outputs.dtype)
            score = tf.reduce_sum(outputs * one_hot * layout.valid[:, None])
        multipliers = tape.gradient(score, pairs)

        def attribution(multiplier, a, b):
            if multiplier is None:
                return tf.zeros_like(a, dtype=tf.float32)
            delta = tf.cast(a, tf.float32) - tf.cast(b, tf.float32)
            return tf.cast(multiplier[: layout.size], tf.float32) * delta

        # Predictions and targets are reported once per input (by its first
        # pair), so that their sums over the input's pairs are exact.
        first = tf.cast(rows["sample_index"] == 0, tf.int32)
        return {
            "attributions": tf.nest.map_structure(attribution, multipliers, x, reference),
            "y": y_x * tf.cast(first, y_x.dtype)[:, None],
            "target": chosen * first,
        }

    def _finish(self, plan, sums):
        plan.predictions = sums["y"]
        plan.targets = sums["target"].astype(np.int64)
        attributions = _mean_of_sums(sums["attributions"], np.float32(self.background_size))
        expected, difference, gap = self._scores_and_gap(plan, attributions)
        if self.check_additivity:
            _check_additivity(gap, difference, plan.targets)
        return self._explanation(
            plan, attributions, expected_value=expected, additivity_gap=gap
        )


def _check_additivity(gap, difference, targets):
    tolerance = ADDITIVITY_ABSOLUTE + ADDITIVITY_RELATIVE * np.abs(difference)
    # Written so that a NaN gap counts as a miss.
    bad = ~(np.abs(gap) <= tolerance)
    if not np.any(bad):
        return
    i = int(np.argmax(np.where(bad, np.abs(gap) / tolerance, -np.inf)))
    raise AdditivityError(
        f"DeepShap: expected the attributions of each input to sum to "
        f"f(x) - E[f(background)] within 1e-4 + 1e-3 * |f(x) - E[f(background)]|, but "
        f"{int(bad.sum())} of {len(gap)} input(s) miss it; the worst is input {i} "
        f"(output {int(targets[i])}): sum of attributions {difference[i] + gap[i]:.7g}, "
        f"f(x) - E[f(background)] = {difference[i]:.7g}, gap {gap[i]:.3g}, tolerance "
        f"{tolerance[i]:.3g}. A layer of this model is not covered by an exact rule; "
        f"pass check_additivity=False to get the values anyway, or use kx.GradientShap."
    )


@register("gradientshap", aliases=("gradient_shap", "expected_gradients", "gradshap"))
class GradientShap(_BackgroundExplainer):
    """GradientSHAP (expected gradients): gradients averaged over random paths.

    For each input x and each of `samples` draws, a background row r and a
    point alpha ~ U(0, 1) are drawn, and the draw contributes
    (x - r) * grad f(r + alpha (x - r)). The attributions are the mean over
    the draws: an unbiased estimate of Integrated Gradients averaged over the
    background, so sum(attributions) == f(x) - E[f(background)] holds in
    expectation (exactly for a linear model), with an error that shrinks as
    1 / sqrt(samples). `e.additivity_gap` reports it per input.

    It needs only the model's gradients, so it works with any differentiable
    Keras model: subclassed models, attention, custom layers.

    Args:
        model: a Keras 3 model, with one input or several (lists of arrays,
            as for `DeepShap`).
        background: the reference distribution, (M, ...) like the model input.
        samples: draws per input. Defaults to 200 (shap's default).
        random_state: int seed. Draw k of input i depends only on
            (random_state, i, k), so results do not depend on `batch_size`.
            Defaults to None (a fresh seed per call).
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose` as in
            `keras_explain.Explainer`.

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

    def __init__(self, model, background, samples=200, random_state=None, **kwargs):
        self.samples = check_int("samples", samples, minimum=1)
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
        super().__init__(model, background, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(samples=self.samples, random_state=self.random_state)
        return config

    def _plan(self, x, targets, predictions):
        self._check_like_background(x)
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
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            samples=self.samples,
            per_pair={
                "alpha": tf.reshape(alphas, [-1]).numpy(),
                "background_row": tf.reshape(rows, [-1]).numpy(),
            },
        )

    def _pair(self, rows):
        x = rows["x"]
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

    def _finish(self, plan, sums):
        attributions = _mean_of_sums(sums["attributions"], np.float32(self.samples))
        expected, _, gap = self._scores_and_gap(plan, attributions)
        return self._explanation(
            plan, attributions, expected_value=expected, additivity_gap=gap
        )
