"""Where the rows of a dataset come from, one shard at a time.

A `Source` reads the rows of shards without ever holding more than one
shard of them: numpy arrays (memory-mapped `.npy` files included) and
DataFrames are sliced, image files are read shard by shard, and a
tf.data.Dataset streams through a pipeline that skips the rows before the
first wanted shard and batches the rest into shards.
"""

import dataclasses
import os
from typing import Optional

import numpy as np

from keras_explain.engine.errors import describe, fail
from keras_explain.engine.table_columns import is_dataframe


@dataclasses.dataclass
class Chunk:
    """The rows of one shard: `x` (n, ...) (a DataFrame for a table), labels `y` (n, ...) or None, `names`."""

    index: int
    x: object
    y: Optional[np.ndarray] = None
    names: Optional[np.ndarray] = None

    def __len__(self):
        return len(self.x)


class Source:
    """Rows by shard. Subclasses set `kind`, `rows` (None when unknown) and write `_read`.

    Args:
        data: the user's data.
        shard_size: rows per shard.
    """

    kind = None

    def __init__(self, data, shard_size):
        self.data = data
        self.shard_size = shard_size
        self.rows = len(data)

    @property
    def num_shards(self):
        """Shards of the data, or None when its length is unknown."""
        return None if self.rows is None else -(-self.rows // self.shard_size)

    def fingerprint(self):
        """What identifies the data for a resumed run: its kind and its rows (when known)."""
        return {"kind": self.kind, "rows": self.rows}

    def chunks(self, shards, open_from=None):
        """The `Chunk` of each shard of `shards` (increasing indices), in order.

        Args:
            shards: list of shard indices.
            open_from: for data of unknown length, a shard index from which
                every shard to the end of the data follows. Defaults to None.
        """
        for index in shards:
            start = index * self.shard_size
            yield self._read(index, start, min(start + self.shard_size, self.rows))

    def _read(self, index, start, stop):
        raise NotImplementedError


class ArraySource(Source):
    kind = "array"

    def fingerprint(self):
        return {**super().fingerprint(), "shape": list(self.data.shape[1:]), "dtype": str(self.data.dtype)}

    def _read(self, index, start, stop):
        return Chunk(index, np.asarray(self.data[start:stop]))


class FrameSource(Source):
    kind = "dataframe"

    def fingerprint(self):
        return {**super().fingerprint(), "columns": [str(c) for c in self.data.columns]}

    def _read(self, index, start, stop):
        return Chunk(index, self.data.iloc[start:stop])


class FileSource(Source):
    """Image files, read with `keras_explain.io.read_image` at the model's input size."""

    kind = "files"

    def __init__(self, data, shard_size, input_shape, preprocess):
        super().__init__(data, shard_size)
        from keras_explain.io.images import check_preprocess

        if input_shape is None or len(input_shape) not in (3, 4):
            fail("data", "image files for a model taking images (N, H, W) or (N, H, W, C)", data[0])
        self.size = tuple(input_shape[1:3])
        self.channels = input_shape[3] if len(input_shape) == 4 else None
        self.preprocess = check_preprocess(preprocess)

    def fingerprint(self):
        return {**super().fingerprint(), "preprocess": self.preprocess}

    def _read(self, index, start, stop):
        from keras_explain.io.images import read_image

        paths = [os.fspath(p) for p in self.data[start:stop]]
        images = [read_image(p, self.size, self.channels, self.preprocess, name="data")[0] for p in paths]
        return Chunk(index, np.stack(images), names=np.asarray([os.path.basename(p) for p in paths], dtype=str))


class DatasetSource(Source):
    """A tf.data.Dataset of x or (x, y[, w]), batched or not, of any length."""

    kind = "tf.data"

    def __init__(self, data, shard_size, input_shape):
        from keras_explain.engine.inputs import check_finite_dataset, dataset_is_batched

        check_finite_dataset(data, "data")
        if isinstance(data.element_spec, dict):
            fail("data", "a tf.data.Dataset of x or (x, y); map a dataset of dicts to x first", data)
        self.data, self.shard_size = data, shard_size
        self.batched = dataset_is_batched(data, input_shape)
        self.labelled = isinstance(data.element_spec, (tuple, list)) and len(data.element_spec) > 1
        cardinality = int(data.cardinality())
        self.rows = None if self.batched or cardinality < 0 else cardinality

    def fingerprint(self):
        return {**super().fingerprint(), "element_spec": str(self.data.element_spec)}

    def chunks(self, shards, open_from=None):
        runs = _runs(shards) + ([(open_from, None)] if open_from is not None else [])
        for first, stop in runs:
            yield from self._run(first, stop)

    def _run(self, first, stop):
        """Shards first ... stop - 1 (every one from `first` when stop is None), streamed."""
        dataset = self.data
        if self.labelled:
            dataset = dataset.map(_features_and_labels)
        elif isinstance(dataset.element_spec, (tuple, list)):
            dataset = dataset.map(lambda x: x)
        if self.batched:
            dataset = dataset.unbatch()
        dataset = dataset.skip(first * self.shard_size)
        if stop is not None:
            dataset = dataset.take((stop - first) * self.shard_size)
        dataset = dataset.batch(self.shard_size)
        for index, element in enumerate(dataset.as_numpy_iterator(), start=first):
            if self.labelled:
                yield Chunk(index, element[0], element[1])
            else:
                yield Chunk(index, element)


def _features_and_labels(*element):
    return element[0], element[1]


def _runs(shards):
    """Consecutive runs (first, stop) of a sorted list of shard indices."""
    runs = []
    for index in shards:
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs


def make_source(data, shard_size, input_shape, preprocess="unit"):
    """The `Source` of a user's data.

    Args:
        data: a numpy array (N, ...), a pandas DataFrame, a list of image
            file paths, or a tf.data.Dataset of x or (x, y).
        shard_size: rows per shard.
        input_shape: the model's input shape (None, ...), or None.
        preprocess: how image files' pixels become inputs (see
            `keras_explain.io.read_image`). Defaults to "unit".

    Raises:
        ValueError: for another kind of data, or empty data.
    """
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        return DatasetSource(data, shard_size, input_shape)
    if is_dataframe(data):
        source = FrameSource(data, shard_size)
    elif isinstance(data, (list, tuple)) and data and all(isinstance(p, (str, os.PathLike)) for p in data):
        source = FileSource(list(data), shard_size, input_shape, preprocess)
    elif isinstance(data, np.ndarray) and data.ndim >= 1:
        source = ArraySource(data, shard_size)
    else:
        fail("data", "a numpy array, a DataFrame, a list of image files or a tf.data.Dataset", data)
    if source.rows == 0:
        raise ValueError(f"data: expected at least one row, received {describe(data)}.")
    return source
