"""Grad-CAM: class activation maps from a convolutional layer's gradients."""

import tensorflow as tf

from keras_explain.engine.errors import check_bool
from keras_explain.engine.explainer import Explainer
from keras_explain.engine.gradients import pick
from keras_explain.engine.layers import find_layer, last_conv2d, layer_path, observe_output
from keras_explain.engine.registry import register


@register("gradcam", aliases=("grad_cam", "grad-cam"))
class GradCAM(Explainer):
    """Grad-CAM: feature maps weighted by their average gradient.

    For the feature maps A (h, w, c) of a convolutional layer and the explained
    output y, the map is relu(sum_c mean_hw(dy/dA)[c] * A[..., c]), upsampled
    bilinearly to the input's height and width.

    Args:
        model: a Keras 3 image model taking inputs (N, H, W, C).
        layer: the layer whose output is used: a name, an "outer/inner" path
            into a nested model, or a Layer. Defaults to None: the last 2D
            convolution of the model, searched inside nested base models too
            (the transfer-learning case).
        relu: keep only positive evidence, as in the paper. Defaults to True.
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose`.

    `explain(x, targets=None)` returns an `Explanation` with `attributions`
    (N, H, W), raw (not normalised) so that maps of different inputs compare.

    Raises:
        ValueError: if `layer` is not in the model, or the model has no 2D
            convolution when `layer` is None, or the layer's output is not
            (N, h, w, c).

    Example:

    ```python
    e = kx.GradCAM(model).explain(images)        # last convolution, found for you
    e = kx.GradCAM(model, layer="mobilenetv2_1.00_224/Conv_1").explain(images)
    ```

    Reference: Selvaraju et al., "Grad-CAM: Visual Explanations from Deep
    Networks via Gradient-based Localization", ICCV 2017.
    """

    method = "gradcam"
    computes_predictions = True
    smoothable = True
    state_attributes = ("_layer",)

    def __init__(self, model, layer=None, relu=True, **kwargs):
        super().__init__(model, **kwargs)
        self._layer = last_conv2d(model) if layer is None else find_layer(model, layer)
        self.layer = layer
        self.relu = check_bool("relu", relu)

    @property
    def layer_name(self):
        """The path of the layer used, like "base/conv2d_3"."""
        return layer_path(self.model, self._layer)

    def get_config(self):
        config = super().get_config()
        config.update(layer=self.layer_name, relu=self.relu)
        return config

    def batch_kernel(self, rows):
        x = rows["x"]
        captured = []

        def watch(output):
            if isinstance(output, (list, tuple)) or len(output.shape) != 4:
                captured.append(output)
                return None
            output = tf.identity(output)
            tape.watch(output)
            captured.append(output)
            return output

        with tf.GradientTape() as tape, observe_output(self._layer, watch):
            y = self._model_fn(x)
            score, chosen = pick(y, rows["target"])
        if not captured:
            raise ValueError(
                f"layer: expected layer {self.layer_name!r} to run when the model is "
                f"called, but the model's call never used it."
            )
        if isinstance(captured[-1], (list, tuple)) or len(captured[-1].shape) != 4:
            raise ValueError(
                f"layer: expected a layer with a feature-map output (N, h, w, c), "
                f"received {self.layer_name!r} with output shape "
                f"{getattr(captured[-1], 'shape', type(captured[-1]).__name__)}."
            )
        features = captured[-1]
        gradient = tape.gradient(score, features)
        weights = tf.reduce_mean(tf.cast(gradient, tf.float32), axis=(1, 2))
        cam = tf.einsum("bhwc,bc->bhw", tf.cast(features, tf.float32), weights)
        if self.relu:
            cam = tf.nn.relu(cam)
        size = tf.shape(x)[1:3]
        upsampled = tf.image.resize(cam[..., None], size, method="bilinear")[..., 0]
        return {"attributions": upsampled, "y": y, "target": chosen}
