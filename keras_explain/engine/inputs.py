"""Bring user inputs (numpy, tf.Tensor, tf.data.Dataset, pandas) to numpy."""

import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import (
    check_batch_shape,
    check_finite,
    check_numeric,
    describe,
)
from keras_explain.engine.table_columns import is_dataframe


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


def _split_element(element, name):
    """(x, y or None) of one dataset element: x, (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(element, (tuple, list)):
        if not element:
            raise ValueError(f"{name}: expected a dataset of x or (x, y), received empty elements.")
        return np.asarray(element[0]), (np.asarray(element[1]) if len(element) > 1 else None)
    return np.asarray(_dataset_features(element)), None


def dataset_to_numpy(dataset, batched=None, name="x", max_examples=None):
    """The features (and labels) of a tf.data.Dataset, as numpy arrays.

    This is the one reader of datasets: explainers and the callback use it.

    Args:
        dataset: a dataset of x or (x, y) or (x, y, sample_weight).
        batched: True if each element is a batch (N_i, ...), False if it is a
            single example, None to decide from the first element's rank
            against `expected_rank` (batched when unknown).
        name: the argument named in errors.
        max_examples: read at most this many examples and stop (an infinite
            dataset is then fine). Defaults to None: the whole dataset, which
            must be finite; one of unknown length is refused past
            `UNKNOWN_LENGTH_LIMIT` elements so that it cannot hang the caller.

    Returns:
        (x, y): numpy arrays (N, ...); y is None when the elements have no labels.
    """
    if max_examples is None:
        check_finite_dataset(dataset, name)
    unknown = int(dataset.cardinality()) == int(tf.data.UNKNOWN_CARDINALITY)
    xs, ys, count = [], [], 0
    for index, element in enumerate(dataset.as_numpy_iterator()):
        if max_examples is None and unknown and index >= UNKNOWN_LENGTH_LIMIT:
            raise ValueError(
                f"{name}: expected a tf.data.Dataset with an end, received one of unknown "
                f"length that goes on past {UNKNOWN_LENGTH_LIMIT} elements; take the "
                f"elements to explain first, for example dataset.take(64)."
            )
        x, y = _split_element(element, name)
        if batched is None:
            batched = True
        xs.append(x if batched else x[None])
        ys.append(None if y is None else (y if batched else y[None]))
        count += len(xs[-1])
        if max_examples is not None and count >= max_examples:
            break
    if not xs:
        raise ValueError(f"{name}: expected a non-empty tf.data.Dataset, received an empty one.")
    x = np.concatenate(xs, axis=0)[:max_examples]
    y = None if any(v is None for v in ys) else np.concatenate(ys, axis=0)[:max_examples]
    return x, y


def _non_numeric_columns(frame):
    """The names of a DataFrame's columns whose dtype is not a number or a bool."""
    return [c for c in frame.columns if getattr(frame[c].dtype, "kind", "O") not in "biuf"]


def dataset_is_batched(dataset, expected_shape):
    """Whether a dataset's elements are batches, from their rank against the model input's."""
    if expected_shape is None:
        return True
    return len(_dataset_features(dataset.element_spec).shape) == len(expected_shape)


def materialize(x, expected_shape=None, name="x"):
    """A tf.data.Dataset or tf.Tensor as numpy (features only); anything else unchanged."""
    if isinstance(x, tf.data.Dataset):
        return dataset_to_numpy(x, dataset_is_batched(x, expected_shape), name)[0]
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
