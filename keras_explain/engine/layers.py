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


def all_layers(model):
    """Every layer of `model`, nested models' layers included, each once."""
    found, stack = {}, [model]
    while stack:
        layer = stack.pop()
        if id(layer) in found:
            continue
        found[id(layer)] = layer
        stack.extend(reversed(getattr(layer, "layers", [])))
    return list(found.values())


@contextlib.contextmanager
def float32_compute(layers):
    """Within the block, layers under mixed precision compute in float32.

    Each layer's `dtype_policy` is set to "float32" through its public setter
    and restored afterwards; layers already computing in float32 are left
    alone. Their variables are float32 under mixed precision, so the same
    weights are used.
    """
    changed = [
        (layer, layer.dtype_policy)
        for layer in layers
        if getattr(getattr(layer, "dtype_policy", None), "compute_dtype", "float32") != "float32"
    ]
    try:
        for layer, _ in changed:
            layer.dtype_policy = "float32"
        yield
    finally:
        for layer, policy in changed:
            layer.dtype_policy = policy


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


def input_scaling_layer(model):
    """The `Rescaling` or `Normalization` layer the model starts with, if any.

    The layers that run first are read in order, descending into nested
    Sequential and Functional models (a base model used as the first layer),
    up to the first layer with weights other than a `Normalization`: the first
    `keras.layers.Rescaling` or `keras.layers.Normalization` among them is the
    answer. Layers without weights on the way (the `InputLayer`, `Resizing`,
    random augmentations) do not end the search; a layer with weights (a
    convolution, a dense layer) does, as does a subclassed model with weights,
    whose order of calls cannot be read from its layers.

    Args:
        model: a Keras model.

    Returns:
        The layer, or None when the model does not start with one.

    Example:

    ```python
    model = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Conv2D(8, 3)]
    )
    input_scaling_layer(model)   # the Rescaling layer
    ```
    """
    scaling = (keras.layers.Rescaling, keras.layers.Normalization)
    graph_calls = ("Functional.call", "Sequential.call")

    def search(layers):
        # (the layer found or None, whether the search ended in `layers`)
        for layer in layers:
            if isinstance(layer, scaling):
                return layer, True
            call = getattr(type(layer).call, "__qualname__", "")
            if isinstance(layer, keras.Model) and call in graph_calls:
                found, ended = search(layer.layers)
                if ended:
                    return found, True
            elif layer.weights:
                return None, True
        return None, False

    return search([model])[0]
