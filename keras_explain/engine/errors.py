"""Argument and input checks that fail loudly, kindly and in one voice.

Every user-facing check in the package goes through these helpers, so each
message names the argument, states what was expected and shows what was
received.
"""

import numbers

import numpy as np


def describe(value):
    """A short, readable description of a received value for error messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"a {type(value).__name__} of shape {tuple(value.shape)}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (bool, numbers.Number)) or value is None:
        return repr(value)
    if isinstance(value, (list, tuple, dict)):
        text = repr(value)
        if len(text) > 60:
            text = text[:57] + "..."
        return f"{text} ({type(value).__name__})"
    return f"a {type(value).__name__} object"


def fail(name, expected, value):
    """Raise the house-style ValueError for argument `name`."""
    raise ValueError(f"{name}: expected {expected}, received {describe(value)}.")


def check_int(name, value, minimum=None, maximum=None, allow_none=False):
    """Return `value` as an int, checking type and bounds."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(name, _int_expectation(minimum, maximum), value)
    value = int(value)
    if (minimum is not None and value < minimum) or (
        maximum is not None and value > maximum
    ):
        fail(name, _int_expectation(minimum, maximum), value)
    return value


def _int_expectation(minimum, maximum):
    if minimum is not None and maximum is not None:
        return f"an integer between {minimum} and {maximum}"
    if minimum is not None:
        return f"an integer >= {minimum}"
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def check_float(name, value, minimum=None, maximum=None, strict_minimum=False):
    """Return `value` as a float, checking type, finiteness and bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(name, "a real number", value)
    value = float(value)
    low_ok = minimum is None or (value > minimum if strict_minimum else value >= minimum)
    high_ok = maximum is None or value <= maximum
    if not np.isfinite(value) or not low_ok or not high_ok:
        if minimum is not None and maximum is not None:
            bound = f"a number in {'(' if strict_minimum else '['}{minimum}, {maximum}]"
        elif minimum is not None:
            bound = f"a number {'>' if strict_minimum else '>='} {minimum}"
        elif maximum is not None:
            bound = f"a number <= {maximum}"
        else:
            bound = "a finite number"
        fail(name, bound, value)
    return value


def check_choice(name, value, choices):
    """Check that `value` is one of `choices` (strings)."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        fail(name, f"one of {options}", value)
    return value


def check_bool(name, value):
    """Check that `value` is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        fail(name, "True or False", value)
    return bool(value)


def check_finite(name, array):
    """Raise if a numeric array holds NaN or infinity, saying where."""
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))
        first = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"{name}: expected finite values, received {len(bad)} NaN or infinite "
            f"value(s) (the first at index {first})."
        )
    return array


def check_numeric(name, array):
    """Raise unless `array` holds numbers (bool, int or float)."""
    if array.dtype.kind not in "biuf":
        fail(name, "a numeric array", array)
    return array


def shape_text(shape):
    """Render a shape with the batch dimension written as N: (N, 8, 8, 1)."""
    dims = ["N"] + ["?" if d is None else str(d) for d in shape[1:]]
    return "(" + ", ".join(dims) + ")"


def check_batch_shape(name, array, expected_shape):
    """Check rank and known dimensions of a batched array against a model input.

    Args:
        name: argument name for messages.
        array: the batched array, shape (N, ...).
        expected_shape: the model's input shape including the batch dimension,
            with None for unknown dimensions, or None when unknown.
    """
    if array.ndim < 1 or array.shape[0] == 0:
        fail(name, "a non-empty batch of inputs", array)
    if expected_shape is None:
        if array.ndim < 2:
            fail(name, "a batched array of rank >= 2 (N, ...)", array)
        return array
    expected_shape = tuple(expected_shape)
    hint = ""
    if array.ndim == len(expected_shape) - 1:
        hint = " (a single input needs a batch dimension: pass x[None])"
    if array.ndim != len(expected_shape):
        raise ValueError(
            f"{name}: expected an array of rank {len(expected_shape)} with shape "
            f"{shape_text(expected_shape)}, received {describe(array)}{hint}."
        )
    for got, want in zip(array.shape[1:], expected_shape[1:]):
        if want is not None and got != want:
            raise ValueError(
                f"{name}: expected shape {shape_text(expected_shape)}, "
                f"received {describe(array)}."
            )
    return array
