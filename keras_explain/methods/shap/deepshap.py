"""DeepShap: DeepLIFT's rules averaged over a background distribution."""

import numpy as np
import tensorflow as tf

from keras_explain.engine.embedding import TokenInputs, embedding_for, head_model
from keras_explain.engine.errors import check_bool
from keras_explain.engine.explainer import row_size
from keras_explain.engine.model import ModelFunction, check_model
from keras_explain.engine.registry import register
from keras_explain.methods.shap.background import BackgroundExplainer, mean_of_sums
from keras_explain.methods.shap.deeplift import Layout, capture_pass, pair_pass
from keras_explain.methods.shap.deeplift_plan import activation_size, plan_rules

#: Additivity tolerance of DeepShap: |gap| <= ABSOLUTE + RELATIVE * |f(x) - E f(bg)|.
ADDITIVITY_ABSOLUTE = 1e-4
ADDITIVITY_RELATIVE = 1e-3


class AdditivityError(RuntimeError):
    """DeepShap attributions that do not sum to f(x) - E[f(background)]."""


@register("deepshap", aliases=("deep_shap", "deeplift_shap", "deep"))
class DeepShap(TokenInputs, BackgroundExplainer):
    """DeepSHAP: DeepLIFT's rescale rule averaged over a background distribution.

    For every example x and every background row r, DeepLIFT propagates the
    difference f(x) - f(r) back to the input with exact rules (the rescale
    rule for elementwise nonlinearities, dedicated rules for max pooling,
    softmax and layer normalization, ordinary gradients for linear layers),
    giving attributions phi(x, r) with sum(phi(x, r)) == f(x) - f(r). The SHAP
    values are their mean over the background, so that

        sum(attributions) == f(x) - E[f(background)]

    up to float32 rounding. This is checked on every call: `e.additivity_gap`
    holds the gap per example, and `check_additivity=True` raises when it
    exceeds 1e-4 + 1e-3 * |f(x) - E[f(background)]|.

    The semantics are those of `shap.DeepExplainer`, but the rules are
    attached to the model's Keras layers with `tf.custom_gradient` while the
    explainer traces its step, and removed afterwards: no TensorFlow
    internals are touched and an unsupported layer is reported before
    anything runs. Each step takes a batch of (example, background row) pairs:
    one forward pass over the distinct inputs and background rows of the
    batch records the layers' values, and one backward pass over the pairs
    applies the rules (their multiplier computations compiled with XLA); the
    per-example sums are taken in the graph. A step costs about one backward
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
    activations; the Random* augmentation layers (the identity at inference);
    keras.ops calls that are linear in their tensors (add, subtract, negative,
    reshape, transpose, concatenate, sum, mean, ..., and multiply or divide by
    a constant, as in `preprocess_input` written with keras.ops). For
    anything else (subclassed models, attention, custom layers) use
    `GradientShap`.

    Args:
        model: a Sequential or Functional Keras 3 model, with one input or
            several (then x, the background and the attributions are lists
            with one array per model input, in the order of `model.inputs`;
            a dict keyed by input name is accepted for x and the background).
        background: the reference distribution, (M, ...) like the model input
            (a numpy array, tf.Tensor or tf.data.Dataset); 100 to 1000 rows
            are typical. Every explained example is paired with every row.
        check_additivity: raise `AdditivityError` when the attributions of an
            example do not sum to f(x) - E[f(background)] within
            1e-4 + 1e-3 * |f(x) - E[f(background)]|. Defaults to True.
        layer: for a model of token ids, the Embedding layer to explain
            them through (a name or Layer among the model's own layers).
            Defaults to None: the model's first Embedding layer, if it has one.
        token_reduce: for token ids, "sum" (one attribution per token,
            (N, T)) or None (per embedding value, (N, T, D)). Defaults to "sum".
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose` as in
            `keras_explain.Explainer`. `batch_size` counts (example, background
            row) pairs per step (rounded up by less than a quarter, to a size
            the compiled rules are shared by); the forward pass of a step
            sees at most min(batch_size, M) background rows and
            batch_size // M + 2 examples. Defaults to None: as many pairs as
            keep a layer's output for the step within 2**26 values (256 MB
            in float32), from 16 up to 8192 pairs (larger steps share each
            step's forward pass over the background among more pairs).

    Attributes:
        expected_value: np.ndarray float64 (K,), the mean model output over
            the background.

    On a model of token ids (N, T) the background is token-id rows (M, T):
    the rules run on the part of the model after its Embedding layer, between
    the embeddings of each example and of each background row, and the
    attributions are summed over the embedding dimension (the explanation
    has the annotation `token_space`; `inputs` stay the ids). An Embedding
    with `mask_zero=True` is refused: its mask is not an input DeepLIFT's
    rules take.

    `explain(x, targets=None)` returns an `Explanation` with `attributions`
    shaped like x, (N, ...), `expected_value` (N,) = E[f(background)] for
    each example's explained output, and `additivity_gap` (N,) =
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
    computes_predictions = True
    # Under mixed precision the rules run in float32, where additivity holds.
    computes_in_float32 = True
    state_attributes = BackgroundExplainer.state_attributes + ("_rules", "_activation_size", "_tokens", "_head_fn")
    config_attributes = ("check_additivity",)

    def __init__(self, model, background, check_additivity=True, layer=None, token_reduce="sum", **kwargs):
        self.check_additivity = check_bool("check_additivity", check_additivity)
        # The model is checked first: a subclassed model or a layer without a
        # rule raises before the background is read. Token ids: the rules are
        # those of the model after its Embedding layer.
        embedding = embedding_for(check_model(model), layer)
        head = None if embedding is None else head_model(model, embedding, "DeepShap")
        self._rules = plan_rules(model if head is None else head)
        self._activation_size = activation_size(self._rules)
        super().__init__(model, background, **kwargs)
        self._setup_tokens(layer, token_reduce)
        self._head_fn = None if head is None else ModelFunction(head, self.output, float32=self.computes_in_float32)

    def default_batch_size(self, x):
        # A step's memory is a few tensors of (pairs, largest layer output),
        # so the default bounds that: 2**26 values (256 MB in float32), as
        # the base's 2**23 input values do for a model whose largest layer
        # output is 8 times its input. Up to 8192 pairs, because each step
        # also runs the model forward over the background rows it meets and
        # larger steps share that pass among more pairs.
        per_row = row_size(x)
        largest = max(per_row, self._activation_size or 8 * per_row)
        return int(np.clip(2**26 // largest, 16, 8192))

    def plan(self, x, targets, predictions):
        # Every example is paired with every background row.
        if self._tokens is None:
            return self.background_plan(
                x, targets, predictions, self.background_size, per_pair_index={"background": self._background}
            )
        # The rules run between embeddings, taken at the model's current weights.
        size = self.batch_size_for(x)
        background = self._tokens.embed(self._background, size)
        return self.background_plan(
            tf.constant(self._tokens.embed(x, size)),
            targets,
            predictions,
            self.background_size,
            per_pair_index={"background": background},
            shared={"whole_background": background},
            examples=x,
        )

    def batch_kernel(self, rows):
        # Written over a structure of inputs so that multi-input models only
        # need `x` and `background` to become lists.
        x, reference = rows["x"], rows["background"]
        background = rows.get("whole_background", self._background)
        model_fn = self._model_fn if self._head_fn is None else self._head_fn
        layout = Layout(rows["example_index"], rows["pair_index"], self.background_size)
        # 1. The capture pass: the distinct inputs and background rows.
        captured = tf.nest.map_structure(layout.capture_batch, x, background)
        records = {}
        with capture_pass(self._rules, records):
            y = model_fn(captured)
        y_x = tf.gather(y[: layout.count], layout.owner[: layout.size])  # f(x) per pair
        target = rows["target"]
        chosen = tf.where(target < 0, tf.argmax(y_x, axis=1, output_type=tf.int32), target)
        padded = tf.concat([chosen, tf.zeros([layout.padded - layout.size], tf.int32)], 0)
        # 2. The pair pass: DeepLIFT's backward pass for every pair.
        pairs = tf.nest.map_structure(layout.pair_batch, x)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(pairs)
            with pair_pass(self._rules, records, layout):
                outputs = model_fn(pairs)
            one_hot = tf.one_hot(padded, tf.shape(outputs)[1], dtype=outputs.dtype)
            score = tf.reduce_sum(outputs * one_hot * layout.valid[:, None])
        multipliers = tape.gradient(score, pairs)

        def attribution(multiplier, a, b):
            if multiplier is None:
                return tf.zeros_like(a, dtype=tf.float32)
            delta = tf.cast(a, tf.float32) - tf.cast(b, tf.float32)
            return tf.cast(multiplier[: layout.size], tf.float32) * delta

        # Predictions and targets are reported once per example (by its first
        # pair), so that their sums over the example's pairs are exact.
        first = tf.cast(rows["pair_index"] == 0, tf.int32)
        attributions = tf.nest.map_structure(attribution, multipliers, x, reference)
        return {
            "attributions": attributions if self._tokens is None else self._tokens.reduce(attributions),
            "y": y_x * tf.cast(first, y_x.dtype)[:, None],
            "target": chosen * first,
        }

    def finish(self, plan, sums):
        plan.predictions = sums["y"].astype(np.float32)
        plan.targets = sums["target"].astype(np.int64)
        attributions = mean_of_sums(sums["attributions"], self.background_size)
        expected, difference, gap = self.expected_and_gap(plan, attributions)
        if self.check_additivity:
            _check_additivity(gap, difference, plan.targets)
        explanation = self.explanation(plan, attributions, expected_value=expected, additivity_gap=gap)
        return self._token_annotated(explanation)


def _check_additivity(gap, difference, targets):
    tolerance = ADDITIVITY_ABSOLUTE + ADDITIVITY_RELATIVE * np.abs(difference)
    # Written so that a NaN gap counts as a miss.
    bad = ~(np.abs(gap) <= tolerance)
    if not np.any(bad):
        return
    i = int(np.argmax(np.where(bad, np.abs(gap) / tolerance, -np.inf)))
    raise AdditivityError(
        f"DeepShap: expected the attributions of each example to sum to "
        f"f(x) - E[f(background)] within 1e-4 + 1e-3 * |f(x) - E[f(background)]|, but "
        f"{int(bad.sum())} of {len(gap)} example(s) miss it; the worst is example {i} "
        f"(output {int(targets[i])}): sum of attributions {difference[i] + gap[i]:.7g}, "
        f"f(x) - E[f(background)] = {difference[i]:.7g}, gap {gap[i]:.3g}, tolerance "
        f"{tolerance[i]:.3g}. A layer of this model is not covered by an exact rule; "
        f"pass check_additivity=False to get the values anyway, or use kx.GradientShap."
    )
