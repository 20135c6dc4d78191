"""How image pixels become inputs: `--preprocess`, or a default that suits the model.

Pixels are scaled to [0, 1] by default ("unit"), unless the model starts with
a `Rescaling` or `Normalization` layer (found by
`keras_explain.engine.layers.input_scaling_layer`): that model scales its
input itself, so it gets the pixels as they are ("none"). The choice and its
reason are said in one line; a `--preprocess` that scales pixels for such a
model is kept, with a warning.
"""

import sys

import numpy as np

from keras_explain import io
from keras_explain.cli.usage import PROG

#: What each `--preprocess` does to pixels 0..255, in the words of the output lines.
PIXELS = {
    "none": "passed as they are in [0, 255]",
    "unit": "scaled to [0, 1]",
    "minus-one-one": "scaled to [-1, 1]",
}


def _numbers(value):
    """A scale, an offset or a mean in 3 significant digits: "0.00392", "[124, 117, 104]"."""
    values = np.asarray(value, dtype=np.float64).reshape(-1)
    shown = [f"{v:.3g}" for v in values[:4]] + (["..."] if len(values) > 4 else [])
    return shown[0] if values.size == 1 else "[" + ", ".join(shown) + "]"


def layer_text(model, layer):
    """The scaling layer as the output lines show it.

    Example: "Rescaling(scale=0.00392, offset=0) 'rescaling'", or
    "Normalization(mean=[124, 117, 104], variance=[3.41e+03, ...]) 'base/normalization'"
    for a layer inside the nested model 'base'.
    """
    import keras

    from keras_explain.engine.layers import layer_path

    path = layer_path(model, layer) or layer.name
    kind = type(layer).__name__
    if isinstance(layer, keras.layers.Rescaling):
        return f"{kind}(scale={_numbers(layer.scale)}, offset={_numbers(layer.offset)}) {path!r}"
    mean, variance = getattr(layer, "mean", None), getattr(layer, "variance", None)
    if mean is None or variance is None:
        return f"{kind} {path!r}"
    return f"{kind}(mean={_numbers(mean)}, variance={_numbers(variance)}) {path!r}"


def choose_preprocess(args, model, say):
    """The `preprocess` for the image inputs, said in a line with its reason.

    Args:
        args: the parsed arguments; `args.preprocess` is None unless given.
        model: the loaded model.
        say: prints a line of the output.

    Returns:
        "none", "unit" or "minus-one-one"; None when no input is an image
        file, as `.npy` arrays and CSV rows are used as they are.
    """
    if not any(io.input_kind(path) == "image" for path in args.inputs):
        return None
    from keras_explain.engine.layers import input_scaling_layer

    layer = input_scaling_layer(model)
    starts = None if layer is None else f"the model starts with {layer_text(model, layer)}"
    chosen = args.preprocess
    if chosen is None:
        chosen = "unit" if layer is None else "none"
        why = starts or "the model does not start with Rescaling or Normalization"
        say(
            f"{PROG}: preprocess: {chosen} ({why}, so pixels are {PIXELS[chosen]}); "
            "pass --preprocess to choose"
        )
        return chosen
    say(f"{PROG}: preprocess: {chosen} (--preprocess {chosen}, so pixels are {PIXELS[chosen]})")
    if layer is not None and chosen != "none":
        print(
            f"{PROG}: warning: --preprocess {chosen}: pixels are {PIXELS[chosen]} and {starts}, "
            "which scales them again; pass --preprocess none to give it pixels in [0, 255]",
            file=sys.stderr,
        )
    return chosen
