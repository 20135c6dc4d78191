"""The one place that turns a user's `targets` into an int array of shape (N,)."""

import numbers

import numpy as np

from keras_explain.engine.errors import describe

#: Marker passed to kernels that pick the predicted class themselves.
PREDICTED = -1


def resolve_targets(targets, num_examples, predictions=None, num_outputs=None):
    """Resolve `targets` to explained output indices.

    Args:
        targets: None (the predicted class: argmax for a model with several
            outputs, output 0 for a single output), an int for every example,
            or an int array-like of shape (N,).
        num_examples: N, the number of examples explained.
        predictions: optional model outputs (N, K); needed when `targets` is None.
        num_outputs: K when `predictions` is not available; used for range checks.

    Returns:
        np.ndarray of dtype int64 and shape (N,). When `targets` is None and
        `predictions` is None, every entry is `PREDICTED` (-1): the kernel picks
        the argmax itself.

    Raises:
        ValueError: naming `targets`, for a wrong type, shape or range.
    """
    if predictions is not None:
        num_outputs = int(predictions.shape[1])
    if targets is None:
        if predictions is None:
            if num_outputs == 1:
                return np.zeros(num_examples, dtype=np.int64)
            return np.full(num_examples, PREDICTED, dtype=np.int64)
        if num_outputs == 1:
            return np.zeros(num_examples, dtype=np.int64)
        return np.argmax(predictions, axis=1).astype(np.int64)

    if isinstance(targets, bool) or isinstance(targets, (str, bytes, float)):
        raise ValueError(
            f"targets: expected None, an int or an int array of shape ({num_examples},), "
            f"received {describe(targets)}."
        )
    if isinstance(targets, numbers.Integral):
        array = np.full(num_examples, int(targets), dtype=np.int64)
    else:
        array = np.asarray(targets)
        if array.ndim == 0:
            return resolve_targets(array.item(), num_examples, predictions, num_outputs)
        if array.dtype.kind not in "iu":
            raise ValueError(
                f"targets: expected integer output indices of shape ({num_examples},), "
                f"received {describe(array)}."
            )
        if array.shape != (num_examples,):
            raise ValueError(
                f"targets: expected one output index per example, shape ({num_examples},), "
                f"received {describe(array)}."
            )
        array = array.astype(np.int64)
    if num_outputs is not None:
        bad = (array < 0) | (array >= num_outputs)
        if np.any(bad):
            raise ValueError(
                f"targets: expected output indices between 0 and {num_outputs - 1} for a "
                f"model with {num_outputs} output(s), received {int(array[bad][0])}."
            )
    elif np.any(array < 0):
        raise ValueError(
            f"targets: expected non-negative output indices, received {int(array[array < 0][0])}."
        )
    return array
