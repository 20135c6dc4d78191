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


#: Elements read at most from a dataset whose length TensorFlow does not know.
UNKNOWN_LENGTH_LIMIT = 1_000_000


def check_finite_dataset(dataset, name="x"):
    """Raise a ValueError for a dataset that never ends (`.repeat()` without a count)."""
    if int(dataset.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        raise ValueError(
            f"{name}: expected a finite tf.data.Dataset, received an infinite one (it "
            f"repeats); take the elements to explain first, for example dataset.take(64)."
        )


def dataset_elements(dataset, name="x", limit=None):
    """The elements of a finite dataset as numpy, at most `limit` of them.

    A dataset of unknown length is read up to `UNKNOWN_LENGTH_LIMIT` elements
    and refused beyond, so that an unbounded one cannot hang the caller.
    """
    check_finite_dataset(dataset, name)
    unknown = int(dataset.cardinality()) == int(tf.data.UNKNOWN_CARDINALITY)
    bound = limit if limit is not None else (UNKNOWN_LENGTH_LIMIT if unknown else None)
    if bound is not None:
        dataset = dataset.take(bound + (1 if limit is None else 0))
    elements = list(dataset.as_numpy_iterator())
    if limit is None and unknown and len(elements) > UNKNOWN_LENGTH_LIMIT:
        raise ValueError(
            f"{name}: expected a tf.data.Dataset with an end, received one of unknown length "
            f"that goes on past {UNKNOWN_LENGTH_LIMIT} elements; take the elements to "
            f"explain first, for example dataset.take(64)."
        )
    return elements


def dataset_to_numpy(dataset, batched=None, name="x"):
    """Materialise the features of a tf.data.Dataset into one numpy array.

    Args:
        dataset: a dataset of x or (x, y) or (x, y, sample_weight).
        batched: True if each element is a batch (N_i, ...), False if it is a
            single input, None to decide from the element rank against the
            model input rank in the caller.
    """
    parts = [np.asarray(_dataset_features(element)) for element in dataset_elements(dataset, name)]
    if not parts:
        raise ValueError("x: expected a non-empty tf.data.Dataset, received an empty one.")
    if batched:
        return np.concatenate(parts, axis=0)
    return np.stack(parts, axis=0)


def _non_numeric_columns(frame):
    """The names of a DataFrame's columns whose dtype is not a number or a bool."""
    return [c for c in frame.columns if getattr(frame[c].dtype, "kind", "O") not in "biuf"]


def materialize(x, expected_shape=None, name="x"):
    """A tf.data.Dataset or tf.Tensor as numpy (features only); anything else unchanged."""
    if isinstance(x, tf.data.Dataset):
        element_rank = len(_dataset_features(x.element_spec).shape)
        batched = True
        if expected_shape is not None:
            batched = element_rank == len(expected_shape)
        return dataset_to_numpy(x, batched=batched, name=name)
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
    x = materialize(x, expected_shape, name)
    if is_dataframe(x):
        array = x.to_numpy()
        if array.dtype == object:
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name}: expected numeric columns, received a DataFrame with "
                    f"non-numeric columns {_non_numeric_columns(x)}."
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
