"""Which DeepLIFT rule each layer of a Keras model gets, checked before anything runs."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from keras_explain.methods.shap.deeplift_rules import layer_norm, max_pool, rescale, softmax

#: What the errors for unsupported models suggest.
GRADIENT_SHAP = "use kx.GradientShap(model, background), which works with any differentiable model"

_L = keras.layers
_A = keras.activations
#: The activation a layer's linear part is taken with.
LINEAR_ACTIVATION = _A.linear

#: Layers whose ordinary gradient is already the DeepLIFT multiplier (linear
#: or affine in inference), some with a fused activation handled separately.
LINEAR_LAYERS = (
    _L.InputLayer, _L.Dense, _L.EinsumDense,
    _L.Conv1D, _L.Conv2D, _L.Conv3D,
    _L.Conv1DTranspose, _L.Conv2DTranspose, _L.Conv3DTranspose,
    _L.DepthwiseConv1D, _L.DepthwiseConv2D, _L.SeparableConv1D, _L.SeparableConv2D,
    _L.AveragePooling1D, _L.AveragePooling2D, _L.AveragePooling3D,
    _L.GlobalAveragePooling1D, _L.GlobalAveragePooling2D, _L.GlobalAveragePooling3D,
    _L.BatchNormalization, _L.Normalization, _L.Rescaling,
    _L.Dropout, _L.SpatialDropout1D, _L.SpatialDropout2D, _L.SpatialDropout3D,
    _L.GaussianDropout, _L.GaussianNoise, _L.AlphaDropout, _L.ActivityRegularization,
    _L.Flatten, _L.Reshape, _L.Permute, _L.RepeatVector, _L.Identity,
    _L.Cropping1D, _L.Cropping2D, _L.Cropping3D,
    _L.ZeroPadding1D, _L.ZeroPadding2D, _L.ZeroPadding3D,
    _L.UpSampling1D, _L.UpSampling2D, _L.UpSampling3D,
    _L.Add, _L.Subtract, _L.Concatenate, _L.Average,
)  # fmt: skip

#: Augmentation layers: the identity at inference, so linear.
AUGMENTATION_LAYERS = tuple(
    getattr(_L, name)
    for name in (
        "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
        "RandomBrightness", "RandomCrop", "RandomGrayscale", "RandomHue", "RandomSaturation",
        "RandomSharpness", "RandomShear", "RandomColorJitter", "RandomColorDegeneration",
        "RandomErasing", "RandomGaussianBlur", "RandomPerspective", "RandomPosterization",
        "RandomInvert", "RandomElasticTransform",
    )
    if hasattr(_L, name)
)  # fmt: skip

#: keras.ops calls of a functional graph that are linear in their tensors.
LINEAR_OPERATIONS = frozenset(
    ("Add", "Subtract", "Negative", "Reshape", "Transpose", "ExpandDims", "Squeeze",
     "Concatenate", "Stack", "Mean", "Sum", "Flip", "MoveAxis")
)  # fmt: skip
#: keras.ops calls that are linear when one operand is a constant (the divisor
#: for a division).
SCALING_OPERATIONS = frozenset(("Multiply", "TrueDivide", "Divide"))

#: Elementwise nonlinear layers: the rescale rule around their call.
ELEMENTWISE_LAYERS = (_L.ReLU, _L.LeakyReLU, _L.ELU, _L.PReLU)

#: Max pooling layers: the max pooling rule around their call.
MAX_POOLING_LAYERS = (
    _L.MaxPooling1D, _L.MaxPooling2D, _L.MaxPooling3D,
    _L.GlobalMaxPooling1D, _L.GlobalMaxPooling2D, _L.GlobalMaxPooling3D,
)  # fmt: skip

#: Elementwise activation functions: the rescale rule.
ELEMENTWISE_ACTIVATIONS = (
    _A.relu, _A.relu6, _A.leaky_relu, _A.elu, _A.selu, _A.gelu, _A.silu,
    _A.sigmoid, _A.tanh, _A.softplus, _A.softsign, _A.hard_sigmoid, _A.hard_silu,
    _A.hard_tanh, _A.mish, _A.exponential, _A.celu, _A.log_sigmoid,
    _A.tanh_shrink, _A.squareplus, _A.sparse_plus, _A.sparse_sigmoid,
    _A.soft_shrink, _A.hard_shrink,
)  # fmt: skip

_GRAPH_MODEL_CALLS = ("Functional.call", "Sequential.call")


@dataclasses.dataclass
class Entry:
    """How one layer instance is explained.

    Attributes:
        layer: the layer.
        linear: the layer has a linear part whose gradient is used as is (all
            of it for linear layers; all but the fused activation for Dense,
            convolutions, ...).
        rule: None, or the rule's kind: "rescale", "softmax", "max_pool" or
            "layer_norm".
        where: "activation" when the rule applies to the fused `activation`
            attribute (or an `Activation` layer's), "call" when it applies to
            the whole call.
    """

    layer: object
    linear: bool
    rule: str = None
    where: str = None
    #: The rule's backward function, built once so that its compiled kernels
    #: are shared by every step and call.
    backward: object = None


def _defining_class(layer, classes):
    """The class of `classes` that `layer` is, if it keeps that class's call."""
    for cls in classes:
        if isinstance(layer, cls) and type(layer).call is cls.call:
            return cls
    return None


def _activation_name(fn):
    return getattr(fn, "__name__", None) or type(fn).__name__


def _unsupported(path, layer, detail=""):
    kind = type(layer).__name__
    raise ValueError(
        f"model: expected layers that DeepShap has DeepLIFT rules for, received layer "
        f"{path!r} of type {kind}{detail}, which it has no rule for; {GRADIENT_SHAP}."
    )


def _check_graph_model(model, path):
    qualname = getattr(type(model).call, "__qualname__", "")
    if qualname not in _GRAPH_MODEL_CALLS:
        where = "" if path is None else f" (layer {path!r})"
        raise ValueError(
            f"model: expected a Sequential or Functional Keras model, received a "
            f"subclassed model {model.name!r} of type {type(model).__name__}{where}, whose "
            f"call DeepShap cannot see into; {GRADIENT_SHAP}."
        )


def _children(model):
    """A graph model's operations: layers, and any bare keras.ops nodes."""
    operations = getattr(model, "operations", None)
    if operations is None:
        operations = model.layers
    return list(operations)


def _activation_rule(path, layer):
    fn = getattr(layer, "activation", None)
    if fn is None or fn is _A.linear:
        return None
    if any(fn is known for known in ELEMENTWISE_ACTIVATIONS):
        return "rescale"
    if fn is _A.softmax:
        return "softmax"
    _unsupported(path, layer, f" with activation {_activation_name(fn)!r}")


def _linear_operation(operation):
    """True for a keras.ops node that is linear in the tensors it is given."""
    name = type(operation).__name__
    if name in LINEAR_OPERATIONS:
        return True
    if name not in SCALING_OPERATIONS:
        return False
    for node in getattr(operation, "_inbound_nodes", []):
        tensors = [a for a in node.arguments.args if isinstance(a, keras.KerasTensor)]
        if len(tensors) != 1 or (name != "Multiply" and node.arguments.args[0] is not tensors[0]):
            return False
    return True


def _entry(path, layer):
    if _defining_class(layer, AUGMENTATION_LAYERS) is not None:
        return Entry(layer, linear=True)
    if _defining_class(layer, LINEAR_LAYERS) is not None:
        rule = _activation_rule(path, layer)
        return Entry(layer, linear=True, rule=rule, where="activation" if rule else None)
    if _defining_class(layer, (_L.Activation,)) is not None:
        rule = _activation_rule(path, layer)
        return Entry(layer, linear=rule is None, rule=rule, where="activation" if rule else None)
    if _defining_class(layer, ELEMENTWISE_LAYERS) is not None:
        return Entry(layer, linear=False, rule="rescale", where="call")
    if _defining_class(layer, MAX_POOLING_LAYERS) is not None:
        return Entry(layer, linear=False, rule="max_pool", where="call")
    if _defining_class(layer, (_L.Softmax,)) is not None:
        axis = layer.axis
        if isinstance(axis, (list, tuple)) and len(axis) != 1:
            _unsupported(path, layer, f" over several axes {tuple(axis)}")
        return Entry(layer, linear=False, rule="softmax", where="call")
    if _defining_class(layer, (_L.LayerNormalization,)) is not None:
        return Entry(layer, linear=False, rule="layer_norm", where="call")
    _unsupported(path, layer)


def plan_rules(model):
    """Check that DeepShap can explain `model` and list how each layer is explained.

    Args:
        model: a Sequential or Functional Keras model (nested models allowed).

    Returns:
        list of `Entry`, one per layer instance (nested models' layers
        included, input layers excluded).

    Raises:
        ValueError: naming the first layer (or activation) without a rule, or
            a subclassed model, and pointing to GradientShap.
    """
    _check_graph_model(model, None)
    entries, seen = [], set()

    def visit(container, prefix):
        for layer in _children(container):
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            path = f"{prefix}{layer.name}"
            if isinstance(layer, keras.Model):
                _check_graph_model(layer, path)
                visit(layer, path + "/")
                continue
            if not isinstance(layer, keras.layers.Layer):
                if _linear_operation(layer):
                    continue  # its ordinary gradient is exact
                raise ValueError(
                    f"model: expected layers that DeepShap has DeepLIFT rules for, received "
                    f"the operation {path!r} ({type(layer).__name__}), a keras.ops call in "
                    f"the functional graph, which it has no rule for; wrap it in a layer "
                    f"(for example keras.layers.Activation) or {GRADIENT_SHAP}."
                )
            entry = _entry(path, layer)
            if not isinstance(layer, _L.InputLayer):
                if entry.rule:
                    fn = layer.activation if entry.where == "activation" else layer.call
                    entry.backward = rule_backward(entry, fn)
                entries.append(entry)

    visit(model, "")
    return entries


def activation_size(entries):
    """The most values per row that a layer in `entries` outputs, from the model's graph.

    Args:
        entries: list of `Entry`, as `plan_rules` returns.

    Returns:
        int, or None when a layer's output shape is not known or not static
        (beyond the batch dimension).
    """
    largest = 1
    for entry in entries:
        try:
            outputs = tf.nest.flatten(entry.layer.output)
        except (AttributeError, ValueError):
            return None
        for output in outputs:
            shape = getattr(output, "shape", None)
            if shape is None or any(d is None for d in tuple(shape)[1:]):
                return None
            largest = max(largest, int(np.prod(tuple(shape)[1:], dtype=np.int64)))
    return largest


def rule_backward(entry, fn):
    """The rule's backward function for a layer whose rule input goes through `fn`."""
    if entry.rule == "rescale":
        return rescale(fn)
    if entry.rule == "softmax":
        axis = -1 if entry.where == "activation" else entry.layer.axis
        axis = axis[0] if isinstance(axis, (list, tuple)) else axis
        return softmax(axis)
    if entry.rule == "max_pool":
        return max_pool(fn, entry.layer)
    return layer_norm(entry.layer)


