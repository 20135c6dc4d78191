"""Bring user inputs (numpy, tf.Tensor, tf.data.Dataset, pandas) to numpy."""

import numpy as np
import tensorflow as tf

from keras_explain.engine.tables import is_dataframe
from keras_explain.engine.errors import (
    check_batch_shape,
    check_finite,
    check_numeric,
    describe,
)


def _dataset_features(element):
    """The features of a dataset element: x itself, or x from (x, y[, w])."""
    if isinstance(element, (tuple, list)):
        if not element:
            raise ValueError("x: expected a dataset of x or (x, y), received empty elements.")
        return element[0]
    if isinstance(element, dict):
        raise ValueError(
            "x: expected a tf.data.Dataset of x or (x, y), received a dataset of "
            f"dicts with keys {sorted(element)}; map it to x first."
        )
    return element


def dataset_to_numpy(dataset, batched=None):
    """Materialise the features of a tf.data.Dataset into one numpy array.

    Args:
        dataset: a dataset of x or (x, y) or (x, y, sample_weight).
        batched: True if each element is a batch (N_i, ...), False if it is a
            single input, None to decide from the element rank against the
            model input rank in the caller.
    """
    parts = [np.asarray(_dataset_features(element)) for element in dataset.as_numpy_iterator()]
    if not parts:
        raise ValueError("x: expected a non-empty tf.data.Dataset, received an empty one.")
    if batched:
        return np.concatenate(parts, axis=0)
    return np.stack(parts, axis=0)


def materialize(x, expected_shape=None):
    """A tf.data.Dataset or tf.Tensor as numpy (features only); anything else unchanged."""
    if isinstance(x, tf.data.Dataset):
        element_rank = len(_dataset_features(x.element_spec).shape)
        batched = True
        if expected_shape is not None:
            batched = element_rank == len(expected_shape)
        return dataset_to_numpy(x, batched=batched)
    if isinstance(x, (tf.Tensor, tf.Variable)):
        return x.numpy()
    return x


def to_numpy(x, name="x", expected_shape=None):
    """Convert a batch of inputs to a numpy array and check it.

    Args:
        x: numpy array, tf.Tensor, tf.data.Dataset (of x or (x, y)), pandas
            DataFrame, or nested lists.
        name: argument name for error messages.
        expected_shape: the model's input shape (None, ...) when known.

    Returns:
        np.ndarray with a leading batch dimension, unchanged dtype.

    Raises:
        ValueError: for non-numeric data, wrong rank or shape, NaN or infinity.
    """
    x = materialize(x, expected_shape)
    if is_dataframe(x):
        array = x.to_numpy()
        if array.dtype == object:
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name}: expected numeric columns, received a DataFrame with "
                    f"non-numeric columns {[c for c in x.columns if x[c].dtype == object]}."
                ) from None
    elif isinstance(x, np.ndarray):
        array = x
    elif isinstance(x, (list, tuple)):
        try:
            array = np.asarray(x)
        except ValueError:
            raise ValueError(f"{name}: expected a rectangular array of numbers, received {describe(x)}.") from None
    else:
        raise ValueError(
            f"{name}: expected a numpy array, tf.Tensor or tf.data.Dataset, received {describe(x)}."
        )
    check_numeric(name, array)
    check_batch_shape(name, array, expected_shape)
    check_finite(name, array)
    return array
