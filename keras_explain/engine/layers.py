"""Finding layers in (nested) Keras models and reading their outputs.

A layer's output is read while the model runs: for the duration of one call
the layer instance's `call` is wrapped so that its result is handed to a
callback, then the original is restored. This works the same for Sequential,
Functional and subclassed models, and for a layer inside a nested base model
(`Sequential([base, head])`, `Model(inp, head(base(inp)))`), without building
a second model or touching TensorFlow internals.
"""

import contextlib

import keras

from keras_explain.engine.errors import describe

CONV2D_TYPES = (
    keras.layers.Conv2D,
    keras.layers.Conv2DTranspose,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
)


def iter_layers(model):
    """Every layer of `model` in order, descending into nested models."""
    for layer in getattr(model, "layers", []):
        yield layer
        if isinstance(layer, keras.Model):
            yield from iter_layers(layer)


def layer_path(model, target):
    """The names leading to `target`, like "mobilenetv2/Conv_1"."""
    for layer in getattr(model, "layers", []):
        if layer is target:
            return layer.name
        if isinstance(layer, keras.Model):
            inner = layer_path(layer, target)
            if inner is not None:
                return f"{layer.name}/{inner}"
    return None


def find_layer(model, layer):
    """Resolve `layer` (a name, "outer/inner" path, or Layer) to a layer of `model`.

    Raises:
        ValueError: if no such layer is in the model.
    """
    if isinstance(layer, keras.layers.Layer):
        if layer_path(model, layer) is None:
            raise ValueError(
                f"layer: expected a layer of model {model.name!r}, received layer "
                f"{layer.name!r}, which it does not contain."
            )
        return layer
    if not isinstance(layer, str):
        raise ValueError(f"layer: expected a layer name or a keras Layer, received {describe(layer)}.")
    for candidate in iter_layers(model):
        if candidate.name == layer or layer_path(model, candidate) == layer:
            return candidate
    names = [layer_path(model, c) for c in iter_layers(model)]
    shown = ", ".join(repr(n) for n in names[-8:])
    raise ValueError(
        f"layer: expected the name of a layer in model {model.name!r} "
        f"(the last ones are {shown}), received {layer!r}."
    )


def last_conv2d(model):
    """The last 2D convolution of `model`, nested models included.

    Raises:
        ValueError: if the model has none.
    """
    found = None
    for layer in iter_layers(model):
        if isinstance(layer, CONV2D_TYPES):
            found = layer
    if found is None:
        raise ValueError(
            f"layer: expected a model with a 2D convolution to pick automatically, "
            f"received model {model.name!r} with none; pass layer= the name of a layer "
            f"whose output is a feature map (N, h, w, c)."
        )
    return found


@contextlib.contextmanager
def swapped_attributes(replacements):
    """Set instance attributes for the duration of the block, then restore them.

    Args:
        replacements: list of (layer, attribute, value). Only the layer
            instances change (their classes and TensorFlow's registries are
            never touched), and nothing outlives the block.
    """
    saved = []
    try:
        for layer, attribute, value in replacements:
            saved.append((layer, attribute, attribute in layer.__dict__, layer.__dict__.get(attribute)))
            object.__setattr__(layer, attribute, value)
        yield
    finally:
        for layer, attribute, had_own, original in reversed(saved):
            if had_own:
                object.__setattr__(layer, attribute, original)
            else:
                object.__delattr__(layer, attribute)


def observe_output(layer, callback):
    """Within the block, hand every output of `layer` to `callback(output)`.

    The callback may return a replacement for the output (for example a
    tensor the gradient tape watches); returning None keeps the output.
    """
    bound = layer.call

    def call(*args, **kwargs):
        output = bound(*args, **kwargs)
        replaced = callback(output)
        return output if replaced is None else replaced

    return swapped_attributes([(layer, "call", call)])
