"""Arrays: `.npy` files read as a batch of model inputs, never unpickled."""

import os

import numpy as np

from keras_explain.io.messages import file_error, one_line

ARRAY_SUFFIXES = (".npy",)


def read_array(path, item_shape=None, name="inputs"):
    """Read a `.npy` file as a batch of inputs.

    Args:
        path: the `.npy` file (never unpickled).
        item_shape: the shape of one model input without the batch
            dimension, None for unknown sizes; an array of exactly that rank
            is one input, one more rank is a batch. None: the array is a batch.
        name: the argument named in error messages. Defaults to "inputs".

    Returns:
        np.ndarray float32 (n, ...).

    Raises:
        ValueError: for a file numpy cannot read, an object array, a
            non-numeric array, NaN or infinity, or a shape that does not match.
    """
    path = os.fspath(path)
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:
        detail = (
            "which holds Python objects (refused: loading them runs code)"
            if "allow_pickle" in str(error)
            else f"which numpy cannot read ({one_line(error)})"
        )
        raise file_error(name, "a numeric .npy array", path, detail) from None
    except OSError as error:
        raise file_error(
            name, "a numeric .npy array", path, f"which numpy cannot read ({one_line(error)})"
        ) from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        kind = getattr(array, "dtype", type(array))
        raise file_error(name, "a numeric .npy array", path, f"of dtype {kind}")
    if item_shape is not None:
        item_shape = tuple(item_shape)
        if array.ndim == len(item_shape):
            array = array[None]
        if array.ndim != len(item_shape) + 1 or any(
            want is not None and got != want for got, want in zip(array.shape[1:], item_shape)
        ):
            shown = (
                "("
                + ", ".join("?" if d is None else str(d) for d in item_shape)
                + (",)" if len(item_shape) == 1 else ")")
            )
            batch = "(N, " + shown[1:] if item_shape else "(N,)"
            raise file_error(
                name,
                f"an array of shape {shown} or {batch} for the model's input",
                path,
                f"an array of shape {tuple(array.shape)}",
            )
    elif array.ndim < 1:
        raise file_error(name, "a batch of inputs (N, ...)", path, "a scalar")
    if len(array) == 0:
        raise file_error(name, "at least one input", path, "an empty array")
    _check_finite_array(array, path, name)
    return array.astype(np.float32)


def _check_finite_array(array, path, name):
    """Raise, naming the file, when a float array holds NaN or infinity.

    Unlike `keras_explain.engine.errors.check_finite`, the message names the
    file the array came from.
    """
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))
        raise file_error(
            name,
            "finite numbers",
            path,
            f"which holds {len(bad)} NaN or infinite value(s), the first at index "
            f"{tuple(int(i) for i in bad[0])}",
        )
