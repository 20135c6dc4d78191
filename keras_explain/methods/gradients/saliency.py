"""Vanilla gradient saliency and gradient x input."""

import tensorflow as tf

from keras_explain.engine.embedding import TokenInputs
from keras_explain.engine.errors import check_bool
from keras_explain.engine.explainer import Explainer
from keras_explain.engine.gradients import target_gradient
from keras_explain.engine.registry import register


@register("saliency", aliases=("gradient", "gradients", "vanilla_gradient"))
class GradientSaliency(TokenInputs, Explainer):
    """Vanilla gradient saliency: d output[target] / d input.

    Args:
        model: a Keras 3 model (Sequential, Functional or subclassed).
        absolute: return |gradient| instead of the signed gradient.
            Defaults to False.
        multiply_by_inputs: return gradient * input ("gradient x input").
            Defaults to False.
        layer: for a model of token ids, the Embedding layer to explain
            them through (a name, "outer/inner" path or Layer). Defaults to
            None: the model's first Embedding layer, if it has one.
        token_reduce: for token ids, "sum" (one attribution per token,
            (N, T), summed over the embedding dimension) or None (the
            embedding values, (N, T, D)). Defaults to "sum".
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose` as in
            `keras_explain.Explainer`.

    `explain(x, targets=None)` returns an `Explanation` whose `attributions`
    have the shape of x, (N, ...) (for a model with several inputs, x and the
    attributions are lists with one array per input). The gradient and the
    model outputs come from the same pass through the model.

    On a model of token ids (N, T) with an Embedding layer the gradient is
    taken with respect to the layer's output E (N, T, D), gradient x input is
    gradient * E, and the explanation has the annotation `token_space` (see
    `keras_explain.engine.embedding`); `inputs` stay the ids.

    Example:

    ```python
    e = kx.GradientSaliency(model).explain(x_test[:8])
    e.heatmap(reduce="max_abs")   # (8, H, W)
    ```

    Reference: Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional
    Networks: Visualising Image Classification Models and Saliency Maps", 2014.
    """

    method = "saliency"
    computes_predictions = True
    accepts_several_inputs = True
    smoothable = True
    config_attributes = ("absolute", "multiply_by_inputs")
    state_attributes = ("_tokens",)

    def __init__(self, model, absolute=False, multiply_by_inputs=False, layer=None, token_reduce="sum", **kwargs):
        self.absolute = check_bool("absolute", absolute)
        self.multiply_by_inputs = check_bool("multiply_by_inputs", multiply_by_inputs)
        super().__init__(model, **kwargs)
        self._setup_tokens(layer, token_reduce)

    def batch_kernel(self, rows):
        if self._tokens is not None:
            gradient, x, y, chosen = self._tokens.gradient(rows)
        else:
            x = rows["x"]
            gradient, y, chosen = target_gradient(self._model_fn, x, rows["target"])

        def finish(g, part):
            if self.multiply_by_inputs:
                g = g * tf.cast(part, g.dtype)
            return tf.abs(g) if self.absolute else g

        attributions = tf.nest.map_structure(finish, gradient, x)
        if self._tokens is not None:
            attributions = self._tokens.reduce(attributions)
        return {"attributions": attributions, "y": y, "target": chosen}

    def finish(self, plan, sums):
        explanation = super().finish(plan, sums)
        return self._token_annotated(explanation)
