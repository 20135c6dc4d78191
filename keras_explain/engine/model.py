"""What the package needs to know about a Keras model, in one place.

Checks the backend and the model, reads its input signature when it has one,
and turns a (possibly multi-output) model into a function from a batch of
inputs to a (B, K) float32 tensor of the explained output.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import describe
from keras_explain.engine.inputs import to_numpy
from keras_explain.engine.layers import all_layers, float32_compute


def require_tensorflow_backend():
    """Raise a RuntimeError unless Keras runs on the TensorFlow backend."""
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise RuntimeError(
            f"keras_explain needs the TensorFlow backend of Keras, but Keras is "
            f"running on {backend!r}. Set the environment variable "
            f"KERAS_BACKEND=tensorflow before importing keras."
        )


def check_model(model):
    """Check that `model` is a Keras 3 model (or layer) we can call."""
    require_tensorflow_backend()
    if not isinstance(model, keras.layers.Layer):
        module = type(model).__module__ or ""
        if module.startswith(("tf_keras", "tensorflow.python.keras")) or (
            module.startswith("keras.") and not module.startswith("keras.src")
        ):
            raise ValueError(
                f"model: expected a Keras 3 model (keras.Model), received a "
                f"{type(model).__name__} from {module!r}, which is Keras 2; load or "
                f"build the model with Keras 3."
            )
        raise ValueError(f"model: expected a Keras 3 model (keras.Model), received {describe(model)}.")
    return model


def _model_inputs(model):
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    return list(inputs) if inputs else None


def input_names(model):
    """Names of the model's inputs, in the order it takes them (empty when unknown)."""
    inputs = _model_inputs(model) or []
    return [str(getattr(i, "name", f"input_{k}")).split(":")[0] for k, i in enumerate(inputs)]


def input_shapes(model):
    """Every input shape of the model, with batch dimension, or None if unknown."""
    inputs = _model_inputs(model)
    if inputs is None:
        return None
    return [tuple(None if d is None else int(d) for d in i.shape) for i in inputs]


def input_shape(model):
    """The model's single input shape with batch dimension, or None if unknown.

    Raises:
        ValueError: for a model with several inputs.
    """
    shapes = input_shapes(model)
    if shapes is None:
        return None
    if len(shapes) != 1:
        raise ValueError(
            f"model: expected a model with a single input, received a model with "
            f"{len(shapes)} inputs ({', '.join(input_names(model))})."
        )
    return shapes[0]


def _floating(dtype):
    dtype = tf.as_dtype(dtype)
    return dtype if dtype.is_floating else tf.float32


def input_dtype(model):
    """The dtype the model's (first) input expects (float32 when unknown)."""
    inputs = _model_inputs(model)
    return _floating(inputs[0].dtype) if inputs else tf.float32


def output_names(model):
    """Names of the model's outputs when it has several, else an empty list."""
    try:
        names = list(model.output_names)
    except (AttributeError, ValueError):
        return []
    return names if len(names) > 1 else []


def check_output(model, output):
    """Validate the `output=` argument against what the model declares."""
    if output is None:
        return None
    if isinstance(output, bool) or not isinstance(output, (int, np.integer, str)):
        raise ValueError(
            f"output: expected an output index (int) or name (str), received {describe(output)}."
        )
    names = output_names(model)
    if isinstance(output, str) and names and output not in names:
        raise ValueError(
            f"output: expected one of the model's output names "
            f"{', '.join(repr(n) for n in names)}, received {output!r}."
        )
    if isinstance(output, (int, np.integer)) and names and not 0 <= output < len(names):
        raise ValueError(
            f"output: expected an output index between 0 and {len(names) - 1}, "
            f"received {int(output)}."
        )
    return int(output) if isinstance(output, (int, np.integer)) else output


def select_output(outputs, output, names=()):
    """Pick one output of a model call and shape it as (B, K).

    Args:
        outputs: what the model returned: a tensor, a list/tuple or a dict.
        output: None, an index or a name.
        names: the model's output names, to resolve a name against a list.

    Returns:
        A float32 tensor of shape (B, K).

    Raises:
        ValueError: if the output cannot be found or is not (B,) or (B, K).
    """
    if isinstance(outputs, dict):
        keys = list(outputs)
        if output is None:
            if len(keys) != 1:
                raise ValueError(
                    f"output: the model returns several outputs ({', '.join(map(repr, keys))}); "
                    f"expected output= one of them, received None."
                )
            output = keys[0]
        if isinstance(output, int):
            if not 0 <= output < len(keys):
                raise ValueError(
                    f"output: expected an output index between 0 and {len(keys) - 1}, "
                    f"received {output}."
                )
            output = keys[output]
        if output not in outputs:
            raise ValueError(
                f"output: expected one of the model's output names "
                f"{', '.join(map(repr, keys))}, received {output!r}."
            )
        tensor = outputs[output]
    elif isinstance(outputs, (list, tuple)):
        if output is None:
            if len(outputs) != 1:
                raise ValueError(
                    f"output: the model returns {len(outputs)} outputs; expected output= "
                    f"an index or a name, received None."
                )
            output = 0
        if isinstance(output, str):
            if output not in list(names):
                raise ValueError(
                    f"output: expected one of the model's output names "
                    f"{', '.join(map(repr, names))}, received {output!r}."
                )
            output = list(names).index(output)
        if not 0 <= output < len(outputs):
            raise ValueError(
                f"output: expected an output index between 0 and {len(outputs) - 1}, "
                f"received {output}."
            )
        tensor = outputs[output]
    else:
        if output not in (None, 0):
            raise ValueError(
                f"output: the model has a single output; expected None or 0, received {output!r}."
            )
        tensor = outputs
    tensor = tf.convert_to_tensor(tensor)
    if tensor.shape.rank == 1:
        tensor = tensor[:, None]
    if tensor.shape.rank != 2:
        raise ValueError(
            f"output: expected the explained output to have shape (N,) or (N, K), "
            f"received shape {tuple(tensor.shape)}; wrap the model so that it returns "
            f"one score per output."
        )
    return tf.cast(tensor, tf.float32)


def static_output_size(model, output):
    """Number of columns K of the explained output when the model declares it."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    if not outputs:
        return None
    if output is None:
        if len(outputs) != 1:
            return None
        index = 0
    elif isinstance(output, str):
        names = output_names(model)
        if output not in names:
            return None
        index = names.index(output)
    else:
        index = int(output)
    if not 0 <= index < len(outputs):
        return None
    shape = outputs[index].shape
    if len(shape) == 1:
        return 1
    if len(shape) == 2 and shape[1] is not None:
        return int(shape[1])
    return None


class ModelFunction:
    """Call a Keras model in inference mode and return the explained (B, K) output.

    A model with several inputs takes a list of tensors, one per input in the
    order of `model.inputs`; `several_inputs` says so.
    """

    def __init__(self, model, output=None, float32=False):
        self.model = check_model(model)
        # Layers computing in float16 or bfloat16 (mixed precision), run in
        # float32 when `float32` is set.
        self.mixed_layers = [] if not float32 else [
            layer
            for layer in all_layers(model)
            if getattr(getattr(layer, "dtype_policy", None), "compute_dtype", "float32") != "float32"
        ]
        self.output = check_output(model, output)
        self.output_names = output_names(model)
        self.input_names = input_names(model)
        self.input_shapes = input_shapes(model)
        self.several_inputs = self.input_shapes is not None and len(self.input_shapes) > 1
        self.input_shape = None if self.several_inputs else input_shape(model)
        inputs = _model_inputs(model) or []
        self.input_dtypes = [_floating(i.dtype) for i in inputs] or [tf.float32]
        self.input_dtype = self.input_dtypes[0]

    def read(self, x, name="x"):
        """Inputs as checked numpy: one array (N, ...), or a list per input.

        Raises:
            ValueError: naming `name` for a wrong structure, shape or values.
        """
        if not self.several_inputs:
            return to_numpy(x, name, self.input_shape)
        count = len(self.input_shapes)
        names = self.input_names
        if isinstance(x, dict):
            missing = [n for n in names if n not in x]
            if missing or len(x) != count:
                raise ValueError(
                    f"{name}: expected a dict with the model's inputs {', '.join(map(repr, names))}, "
                    f"received keys {', '.join(map(repr, sorted(map(str, x))))}."
                )
            x = [x[n] for n in names]
        if not isinstance(x, (list, tuple)) or len(x) != count:
            raise ValueError(
                f"{name}: expected a list of {count} arrays, one per model input "
                f"({', '.join(names)}), received {describe(x)}."
            )
        arrays = [
            to_numpy(part, f"{name}[{k}]", shape)
            for k, (part, shape) in enumerate(zip(x, self.input_shapes))
        ]
        sizes = [len(a) for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(
                f"{name}: expected the same number of rows for every model input, "
                f"received {', '.join(map(str, sizes))}."
            )
        return arrays

    def tensors(self, x):
        """Numpy inputs (as `read` returns them) as tensors of the input dtypes."""
        if self.several_inputs:
            return [tf.convert_to_tensor(a, d) for a, d in zip(x, self.input_dtypes)]
        return tf.convert_to_tensor(x, self.input_dtype)

    def __call__(self, x):
        if self.several_inputs:
            x = [tf.cast(part, d) for part, d in zip(x, self.input_dtypes)]
        else:
            x = tf.cast(x, self.input_dtype)
        with float32_compute(self.mixed_layers):
            outputs = self.model(x, training=False)
        return select_output(outputs, self.output, self.output_names)

    def output_size(self):
        """K when the model declares it statically, else None."""
        return static_output_size(self.model, self.output)
