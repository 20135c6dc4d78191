"""Grad-CAM and Grad-CAM++: class activation maps from a convolutional layer's gradients."""

import tensorflow as tf

from keras_explain.engine.errors import check_bool
from keras_explain.engine.explainer import Explainer
from keras_explain.engine.gradients import pick
from keras_explain.engine.layers import find_layer, last_conv2d, layer_path, observe_output
from keras_explain.engine.registry import register


class _ClassActivationMap(Explainer):
    """Feature maps of one layer weighted per channel from the output's gradient.

    The shared part of `GradCAM` and `GradCAMPlusPlus`: the layer is found,
    its output A (N, h, w, c) and the gradient dy/dA are captured in one
    forward and backward pass, and relu(sum_c weights[c] * A[..., c]) is
    upsampled bilinearly to the input's height and width. A subclass writes
    `_channel_weights(features, gradient)`.
    """

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

    def _channel_weights(self, features, gradient):
        """Weights (B, c) from the feature maps and their gradient, both float32 (B, h, w, c)."""
        raise NotImplementedError(f"{type(self).__name__} does not define _channel_weights().")

    def _feature_gradient(self, x, target):
        """The layer's output A, dy/dA, the model output and the explained target.

        Args:
            x: float tensor (B, H, W, C).
            target: int32 tensor (B,), -1 for the row's argmax.

        Returns:
            (A (B, h, w, c), dy/dA like A, y (B, K), target used (B,) int32).

        Raises:
            ValueError: if the layer does not run in the model's call, or its
                output is not (N, h, w, c).
        """
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
            score, chosen = pick(y, target)
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
        return features, tape.gradient(score, features), y, chosen

    def batch_kernel(self, rows):
        x = rows["x"]
        features, gradient, y, chosen = self._feature_gradient(x, rows["target"])
        features = tf.cast(features, tf.float32)
        weights = self._channel_weights(features, tf.cast(gradient, tf.float32))
        cam = tf.einsum("bhwc,bc->bhw", features, weights)
        if self.relu:
            cam = tf.nn.relu(cam)
        size = tf.shape(x)[1:3]
        upsampled = tf.image.resize(cam[..., None], size, method="bilinear")[..., 0]
        return {"attributions": upsampled, "y": y, "target": chosen}


@register("gradcam", aliases=("grad_cam", "grad-cam"))
class GradCAM(_ClassActivationMap):
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

    def _channel_weights(self, features, gradient):
        return tf.reduce_mean(gradient, axis=(1, 2))


@register("gradcam_plus_plus", aliases=("gradcam++", "grad_cam_plus_plus", "gradcampp"))
class GradCAMPlusPlus(_ClassActivationMap):
    """Grad-CAM++: feature maps weighted by their positive gradients, pixel by pixel.

    For the feature maps A (h, w, c) of a convolutional layer and the gradient
    g = dy/dA of the explained output y (as the model returns it: logits or
    probabilities), each position gets the weight

        alpha[i, j, c] = g[i, j, c]^2 / (2 g[i, j, c]^2 + sum_ab A[a, b, c] * g[i, j, c]^3)

    the closed form the paper derives for the exponential of the score, whose
    higher derivatives are powers of the first one, so the one backward pass
    of Grad-CAM suffices. The channel weights are
    w[c] = sum_ij alpha[i, j, c] * relu(g[i, j, c]) and the map is
    relu(sum_c w[c] * A[..., c]), upsampled bilinearly to the input's height
    and width, like `GradCAM`.

    Safe division: where the denominator is exactly 0 (a zero gradient, where
    the numerator is 0 too, or g = -2 / sum_ab A[a, b, c], a pole of the
    closed form) alpha is taken as 0 instead of NaN or infinity, so those
    positions add nothing to the weights; everywhere else the division is
    exact (no small constant is added to the denominator, which for small
    gradients would change the weights noticeably).

    Args:
        model: a Keras 3 image model taking inputs (N, H, W, C).
        layer: the layer whose output is used: a name, an "outer/inner" path
            into a nested model, or a Layer. Defaults to None: the last 2D
            convolution of the model, searched inside nested base models too.
        relu: keep only the positive part of the map, as in the paper.
            Defaults to True.
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose`.

    `explain(x, targets=None)` returns an `Explanation` with `attributions`
    (N, H, W), raw (not normalised), the explained `targets` (N,) and the
    model's `predictions` (N, K) from the same pass.

    Raises:
        ValueError: if `layer` is not in the model, or the model has no 2D
            convolution when `layer` is None, or the layer's output is not
            (N, h, w, c), with the same messages as `GradCAM`.

    Example:

    ```python
    e = kx.GradCAMPlusPlus(model).explain(images)          # last convolution
    e = kx.GradCAMPlusPlus(model, layer="base/Conv_1").explain(images, targets=3)
    ```

    Reference: Chattopadhyay et al., "Grad-CAM++: Improved Visual Explanations
    for Deep Convolutional Networks", WACV 2018.
    """

    method = "gradcam_plus_plus"

    def _channel_weights(self, features, gradient):
        squared = tf.square(gradient)
        cubed = squared * gradient
        totals = tf.reduce_sum(features, axis=(1, 2), keepdims=True)
        alpha = tf.math.divide_no_nan(squared, 2.0 * squared + totals * cubed)
        return tf.reduce_sum(alpha * tf.nn.relu(gradient), axis=(1, 2))
