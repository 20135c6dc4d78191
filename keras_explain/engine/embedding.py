"""Gradient methods on token ids: attributions in the space of an `Embedding` layer.

Gradients do not flow into integer token ids, so a gradient method explains a
text model through its first `keras.layers.Embedding` layer instead. The model
is taken in two halves: ids -> the embedding layer's output E (N, T, D), and
E -> the model output. The second half is the whole model run on the ids with
the embedding layer's output replaced by the point a method asks for (the
same mechanism as Grad-CAM's reading of an inner layer, see
`keras_explain.engine.layers.observe_output`), so the Keras mask of an
`Embedding(mask_zero=True)` still comes from the ids and reaches the layers
after it. Methods differentiate with respect to that point, multiply by
embedding differences, and sum over the embedding dimension: one attribution
per token (N, T), or the whole (N, T, D) with `token_reduce=None`.

DeepShap's rules need a model of the embeddings alone: `head_model` builds it
for Functional and Sequential models (without a mask).

Example:

```python
ids = keras.Input((40,), dtype="int32")
h = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(5000, 32, mask_zero=True)(ids))
model = keras.Model(ids, keras.layers.Dense(2)(h))
e = kx.IntegratedGradients(model, steps=64, baseline_token=0).explain(x_ids)
e.attributions                # (N, 40): one value per token
e.extras["token_space"]       # "ids"
```
"""

import keras
import numpy as np
import tensorflow as tf

from keras_explain.engine.batching import collect_groups, iterate_groups
from keras_explain.engine.compile import CompiledStep
from keras_explain.engine.errors import describe, fail
from keras_explain.engine.gradients import pick
from keras_explain.engine.layers import find_layer, iter_layers, layer_path, observe_output

#: The values of `token_reduce`: "sum" over the embedding dimension, or None to keep it.
TOKEN_REDUCTIONS = ("sum", None)
#: The `token_space` annotation of explanations with one attribution per token (N, T).
TOKEN_SPACE = "ids"
#: The `token_space` annotation of explanations kept per embedding value (N, T, D).
EMBEDDING_SPACE = "embeddings"
#: The key of the embedding-space noise a wrapper (SmoothGrad) adds to a kernel's rows.
EMBEDDING_NOISE = "embedding_noise"


def integer_input(model):
    """The dtype name of the model's single input when it holds integers, else None."""
    try:
        inputs = list(model.inputs or [])
    except (AttributeError, ValueError):
        return None
    if len(inputs) != 1:
        return None
    dtype = tf.as_dtype(inputs[0].dtype)
    return dtype.name if dtype.is_integer else None


def find_embedding(model, layer=None):
    """The Embedding layer to explain a model through, or None for a model of float inputs.

    Args:
        model: a Keras 3 model.
        layer: None for the model's first Embedding layer (nested models
            searched too), or a layer name, "outer/inner" path or Layer.
            Defaults to None.

    Returns:
        A `keras.layers.Embedding`, or None when `layer` is None, the model
        has none and its input is not integer.

    Raises:
        ValueError: for a `layer` that is not in the model or not an
            Embedding, or a model with integer inputs and no Embedding layer.
    """
    if layer is not None:
        found = find_layer(model, layer)
        if not isinstance(found, keras.layers.Embedding):
            raise ValueError(
                f"layer: expected an Embedding layer of model {model.name!r} to explain token ids "
                f"through, received layer {layer_path(model, found)!r} of type {type(found).__name__}."
            )
        return found
    for candidate in iter_layers(model):
        if isinstance(candidate, keras.layers.Embedding):
            return candidate
    dtype = integer_input(model)
    if dtype is not None:
        raise ValueError(
            f"model: expected an Embedding layer to explain a model whose input is integer "
            f"token ids ({dtype}), received model {model.name!r} with none; gradients do not "
            f"flow into integer ids, so the gradient methods explain ids through the output "
            f"of an Embedding layer."
        )
    return None


def embedding_for(model, layer=None):
    """The Embedding layer a gradient method explains `model` through, or None.

    As `find_embedding`, except that a model with several inputs is
    explained as before (None) unless `layer` names the layer.
    """
    try:
        several = len(model.inputs or []) > 1
    except (AttributeError, ValueError):
        several = False
    return None if several and layer is None else find_embedding(model, layer)


def check_token_reduce(token_reduce):
    """`token_reduce` checked: "sum" or None."""
    if token_reduce not in TOKEN_REDUCTIONS or isinstance(token_reduce, bool):
        fail("token_reduce", "'sum' (one attribution per token) or None (per embedding value)", token_reduce)
    return token_reduce


class TokenSpace:
    """A model of token ids seen from the output of one of its Embedding layers.

    Args:
        model_fn: the explainer's `ModelFunction` (ids (B, T) -> (B, K)).
        layer: the `keras.layers.Embedding` layer.
        token_reduce: "sum" or None (see the module docstring).
        run_eagerly: run the embedding passes as plain Python. Defaults to False.

    Raises:
        ValueError: for a model with several inputs.
    """

    def __init__(self, model_fn, layer, token_reduce="sum", run_eagerly=False):
        if model_fn.several_inputs:
            raise ValueError(
                f"model: expected a model with a single input of token ids to explain through "
                f"Embedding layer {layer.name!r}, received a model with {len(model_fn.input_shapes)} "
                f"inputs ({', '.join(model_fn.input_names)})."
            )
        self.model_fn, self.layer = model_fn, layer
        self.token_reduce = check_token_reduce(token_reduce)
        self._step = CompiledStep(self._run, run_eagerly=run_eagerly)

    @property
    def layer_name(self):
        """The path of the Embedding layer in the model, like "encoder/embedding"."""
        return layer_path(self.model_fn.model, self.layer)

    @property
    def dim(self):
        """D, the embedding dimension."""
        return int(self.layer.output_dim)

    # -- the two halves, in the graph ----------------------------------------

    def run(self, ids, point=None):
        """Run the model on `ids`, replacing the embedding output E by `point(E)`.

        Args:
            ids: float tensor (B, T) of token ids.
            point: None (E itself) or a callable E (B, T, D) float32 -> the
                embeddings the rest of the model runs on.

        Returns:
            (y (B, K), E (B, T, D) float32, the point (B, T, D) float32).

        Raises:
            ValueError: when the layer does not run exactly once per call.
        """
        seen = []

        def replace(output):
            if seen:
                raise ValueError(
                    f"layer: expected Embedding layer {self.layer_name!r} to run once per model call, "
                    f"but the model calls it more than once (a shared embedding); pass layer= an "
                    f"Embedding layer that runs once."
                )
            embeddings = tf.cast(output, tf.float32)
            at = embeddings if point is None else point(embeddings)
            seen.append((embeddings, at))
            return tf.cast(at, output.dtype)

        with observe_output(self.layer, replace):
            y = self.model_fn(ids)
        if not seen:
            raise ValueError(
                f"layer: expected Embedding layer {self.layer_name!r} to run when the model is called, "
                f"but the model's call never used it."
            )
        return (y,) + seen[0]

    def gradient(self, rows, reference=None, alpha=None):
        """The explained output's gradient along a path in embedding space, for one batch.

        The example's embeddings E (plus `rows[EMBEDDING_NOISE]` when a
        wrapper added noise) are the path's end x'; the gradient is taken at
        reference + alpha (x' - reference).

        Args:
            rows: the kernel's rows: "x" ids (B, T), "target" (B,).
            reference: None (zeros) or embeddings (B, T, D). Defaults to None.
            alpha: None (1: the gradient at x') or (B,) path positions.

        Returns:
            (gradient (B, T, D), x' - reference (B, T, D), y (B, K), target used (B,)),
            float32 but the targets.
        """
        ends = []

        def point(embeddings):
            end = embeddings + tf.cast(rows[EMBEDDING_NOISE], tf.float32) if EMBEDDING_NOISE in rows else embeddings
            start = tf.zeros_like(end) if reference is None else tf.cast(reference, tf.float32)
            ends.append(end - start)
            at = end if alpha is None else start + tf.reshape(tf.cast(alpha, tf.float32), [-1, 1, 1]) * (end - start)
            at = tf.identity(at)
            tape.watch(at)
            return at

        with tf.GradientTape() as tape:
            y, _, at = self.run(rows["x"], point)
            score, chosen = pick(y, rows["target"])
        gradient = tape.gradient(score, at)
        gradient = tf.zeros_like(at) if gradient is None else tf.cast(gradient, tf.float32)
        return gradient, ends[0], y, chosen

    def reduce(self, attributions):
        """(B, T, D) attributions per token (B, T) for token_reduce="sum", unchanged for None."""
        return attributions if self.token_reduce is None else tf.reduce_sum(attributions, axis=-1)

    # -- compiled passes over whole arrays ------------------------------------

    def _run(self, kind, tensors):
        if kind == "embed":
            return {"y": self.run(tensors["x"])[1]}
        return {"y": self.run(tensors["x"], lambda _: tensors["embeddings"])[0]}

    def _collect(self, kind, feed, batch_size):
        count = int(feed["x"].shape[0])
        groups = iterate_groups(lambda part: self._step(kind, part), feed, count, batch_size=batch_size, verbose=0)
        return collect_groups(groups, count)["y"]

    def embed(self, ids, batch_size=256):
        """E(ids): the embedding layer's output for token ids (N, T), as float32 numpy (N, T, D)."""
        return self._collect("embed", {"x": self.model_fn.tensors(np.asarray(ids))}, batch_size)

    def outputs_at(self, ids, embeddings, batch_size=256):
        """The model's explained output (N, K) on `ids` with the embedding output replaced by `embeddings`."""
        feed = {"x": self.model_fn.tensors(np.asarray(ids)), "embeddings": tf.convert_to_tensor(embeddings, tf.float32)}
        return self._collect("outputs_at", feed, batch_size)

    def baseline(self, ids, baseline=None, baseline_token=None):
        """The baseline embeddings (N, T, D) of every example: zeros, a value, or a token's embedding.

        Args:
            ids: the examples (N, T).
            baseline: None (zeros), a number, or an array (T, D) or (N, T, D) in
                embedding space.
            baseline_token: a token id (a padding id, say): every position's
                baseline is that token's embedding. Defaults to None.

        Raises:
            ValueError: naming `baseline`, for an array of another shape.
        """
        count, steps = int(ids.shape[0]), int(ids.shape[1])
        if baseline_token is not None:
            row = self.embed(np.full((1, steps), baseline_token, np.float32))
            return np.broadcast_to(row, (count, steps, self.dim)).astype(np.float32)
        if baseline is None or not isinstance(baseline, np.ndarray):
            return np.full((count, steps, self.dim), 0.0 if baseline is None else baseline, np.float32)
        if baseline.shape in ((steps, self.dim), (count, steps, self.dim)):
            return np.broadcast_to(baseline, (count, steps, self.dim)).astype(np.float32)
        raise ValueError(
            f"baseline: expected None, a number, or embeddings of shape ({steps}, {self.dim}) or "
            f"({count}, {steps}, {self.dim}) (the output of Embedding layer {self.layer_name!r}), "
            f"received {describe(baseline)}; baseline_token= takes a token id."
        )

    def annotate(self, explanation):
        """Record on `explanation` that it is in token space, and through which layer."""
        space = TOKEN_SPACE if self.token_reduce == "sum" else EMBEDDING_SPACE
        return explanation.annotate(token_space=space, embedding_layer=self.layer_name)


def head_model(model, layer, method):
    """The Functional model E (B, T, D) -> the model's outputs, for `method`'s rules on token ids.

    Args:
        model: a Sequential or Functional model.
        layer: its Embedding layer, among its own layers.
        method: the method's name, for the errors.

    Raises:
        ValueError: for a layer with `mask_zero=True`, inside a nested model,
            or a subclassed model.
    """
    use = "use kx.IntegratedGradients or kx.GradientShap, which explain token ids of any model"
    path = layer_path(model, layer)
    if getattr(layer, "mask_zero", False):
        raise ValueError(
            f"model: expected an Embedding layer without mask_zero for {method}, received layer "
            f"{path!r} with mask_zero=True, whose mask DeepLIFT's rules do not take; {use}."
        )
    if getattr(type(model).call, "__qualname__", "") not in ("Functional.call", "Sequential.call"):
        raise ValueError(
            f"model: expected a Sequential or Functional model for {method} on token ids, received "
            f"the subclassed model {model.name!r} ({type(model).__name__}), whose call {method} "
            f"cannot see into; {use}."
        )
    if not any(own is layer for own in model.layers):
        raise ValueError(
            f"layer: expected an Embedding layer among the model's own layers for {method}, "
            f"received layer {path!r}, inside a nested model; {use}."
        )
    return keras.Model(layer.output, model.outputs, name=f"{model.name}_from_embeddings")


class TokenInputs:
    """Mixin of the gradient methods: explain token ids through an Embedding layer.

    A class using it lists `"layer"` and `"token_reduce"` among its
    `config_attributes` (through this mixin's) and `"_tokens"` among its
    `state_attributes`, and calls `_setup_tokens` after `Explainer.__init__`.
    """

    config_attributes = ("layer", "token_reduce")

    def _setup_tokens(self, layer, token_reduce):
        self.token_reduce = check_token_reduce(token_reduce)
        found = embedding_for(self.model, layer)
        self._tokens = None if found is None else TokenSpace(self._model_fn, found, token_reduce, self.run_eagerly)
        self.layer = None if layer is None else self._tokens.layer_name

    @property
    def token_space(self):
        """The `TokenSpace` ids are explained in, or None for a model of float inputs."""
        return self._tokens

    def _token_annotated(self, explanation):
        """`explanation`, annotated as in token space when ids are explained."""
        return explanation if self._tokens is None else self._tokens.annotate(explanation)
