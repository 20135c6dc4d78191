"""Inputs: image files, `.npy` arrays and CSV tables read into one batch for a model."""

import dataclasses
import os
from typing import List, Optional

import numpy as np

from keras_explain.engine.errors import shape_text
from keras_explain.io.arrays import ARRAY_SUFFIXES, read_array
from keras_explain.io.images import IMAGE_SUFFIXES, check_preprocess, read_image
from keras_explain.io.messages import file_error
from keras_explain.io.tables import TABLE_SUFFIXES, read_table

#: Suffixes of text files, one example per line (read by `keras_explain.io.text`).
TEXT_SUFFIXES = (".txt",)


@dataclasses.dataclass
class Inputs:
    """Inputs read from files, ready for an explainer.

    Attributes:
        x: float32 array (N, ...) shaped like the model input.
        names: N display names: the file name, "file.npy[3]" or "file.csv[3]".
        notes: N notes saying what was done to each input (the resize, the
            colour conversion, the scaling).
        kind: "images" (image files and arrays of images), "arrays" (only
            `.npy` files), "table" (CSV rows, possibly with `.npy` rows) or
            "text" (`keras_explain.io.text`: x is then a str array (N,)).
        feature_names: the CSV header for tables, else None.
    """

    x: np.ndarray
    names: List[str]
    notes: List[str]
    kind: str
    feature_names: Optional[List[str]] = None


def input_kind(path, name="inputs"):
    """ "image", "array", "table" or "text" (`.txt`) from a file's suffix.

    Raises:
        ValueError: for any other suffix.
    """
    lower = os.fspath(path).lower()
    if lower.endswith(IMAGE_SUFFIXES):
        return "image"
    if lower.endswith(ARRAY_SUFFIXES):
        return "array"
    if lower.endswith(TABLE_SUFFIXES):
        return "table"
    if lower.endswith(TEXT_SUFFIXES):
        return "text"
    raise file_error(name, "a PNG or JPEG image, a .npy array or a .csv table", os.fspath(path))


def check_input_files(paths, name="inputs"):
    """Check that every input exists and has a known suffix; return their kinds."""
    kinds = []
    for path in paths:
        path = os.fspath(path)
        if not os.path.isfile(path):
            detail = "which is a directory" if os.path.isdir(path) else "which does not exist"
            raise file_error(name, "an existing input file", path, detail)
        kinds.append(input_kind(path, name))
    return kinds


def read_inputs(
    paths, input_shape=None, preprocess=None, name="inputs", progress=None, schema=None
):
    """Read image files, `.npy` arrays and CSV tables into one batch for a model.

    Images are resized to the model's height and width and converted to its
    channels (see `read_image`); `.npy` arrays are used as they are (cast to
    float32); CSV rows are the inputs of a tabular model, their header naming
    the features (see `read_table`). The batch keeps the order of `paths`.

    Args:
        paths: file paths.
        input_shape: the model's input shape with the batch dimension, for
            example (None, 8, 8, 1), or None when the model does not declare it.
        preprocess: for image files: "unit" (default), "minus-one-one" or
            "none"; see `read_image`.
        name: the argument named in error messages. Defaults to "inputs".
        progress: optional callable, called once per file read.
        schema: for CSV files: the `TableSchema` of the training data, which
            turns category strings into their codes (see
            `read_training_table`). Defaults to None: numbers only.

    Returns:
        `Inputs` (x, names, notes, kind, feature_names).

    Raises:
        ValueError: naming the file: a missing file, an unknown suffix, an
            image for a model that does not take images, a table for one that
            does not take rows, arrays of the wrong shape, CSV files whose
            headers differ, or (with `schema`) a category it has not seen.
            For a model that takes any image size, images are resized to the
            size of the first one.

    Example:

    ```python
    inputs = kx.io.read_inputs(["a.png", "b.jpg"], model.inputs[0].shape)
    e = kx.GradientSaliency(model).explain(inputs.x)
    ```
    """
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError(f"{name}: expected at least one input file, received none.")
    kinds = check_input_files(paths, name)
    preprocess = check_preprocess("unit" if preprocess is None else preprocess)
    shape = (
        None if input_shape is None else tuple(None if d is None else int(d) for d in input_shape)
    )
    _check_kinds(paths, kinds, shape, name)
    batch = _Batch(shape, preprocess, name, schema)
    for path, kind in zip(paths, kinds):
        batch.read(path, kind)
        if progress is not None:
            progress()
    return batch.inputs(kinds)


def _check_kinds(paths, kinds, shape, name):
    """Refuse a mix of images and tables, and files of a kind the model cannot take."""
    if "text" in kinds:
        raise file_error(
            name,
            "inputs for a model taking numbers",
            paths[kinds.index("text")],
            "a text file; text files need a model taking strings (keras_explain.io.text)",
        )
    if "image" in kinds and "table" in kinds:
        raise ValueError(
            f"{name}: expected inputs of one kind (images and .npy arrays, or .csv tables and "
            f".npy arrays), received both images and .csv tables."
        )
    if "image" in kinds and shape is not None:
        if not (len(shape) == 3 or (len(shape) == 4 and shape[3] in (1, 3, 4))):
            raise file_error(
                name,
                f"inputs for the model's input {shape_text(shape)}",
                paths[kinds.index("image")],
                "an image; image files need a model taking (N, H, W, C) with 1, 3 or 4 channels, "
                "or (N, H, W)",
            )
    if "table" in kinds and shape is not None and len(shape) != 2:
        raise file_error(
            name,
            f"inputs for the model's input {shape_text(shape)}",
            paths[kinds.index("table")],
            "a table; CSV rows need a model taking (N, n_features)",
        )


class _Batch:
    """The inputs read so far, file by file, with their names and notes."""

    def __init__(self, shape, preprocess, name, schema):
        self.shape, self.preprocess, self.name, self.schema = shape, preprocess, name, schema
        self.parts, self.names, self.notes = [], [], []
        self.header, self.header_path = None, None
        self.image_size = None

    def read(self, path, kind):
        {"image": self._image, "array": self._array, "table": self._table}[kind](path)

    def _image(self, path):
        shape = self.shape
        if shape is None:
            size, channels = self.image_size, 3
        else:
            size = shape[1:3]
            channels = shape[3] if len(shape) == 4 else None
            if None in size and self.image_size is not None:
                size = tuple(self.image_size)
        pixels, note = read_image(
            path, size=size, channels=channels, preprocess=self.preprocess, name=self.name
        )
        if self.image_size is None:
            self.image_size = pixels.shape[:2]
        self.parts.append(pixels[None])
        self.names.append(os.path.basename(path))
        self.notes.append(note)

    def _array(self, path):
        base = os.path.basename(path)
        item_shape = None if self.shape is None else self.shape[1:]
        array = read_array(path, item_shape, name=self.name)
        self.parts.append(array)
        if len(array) == 1:
            self.names.append(base)
        else:
            self.names.extend(f"{base}[{i}]" for i in range(len(array)))
        shown = "x".join(str(d) for d in array.shape[1:])
        self.notes.extend([f"array ({shown}), used as it is"] * len(array))

    def _table(self, path):
        base, shape, name = os.path.basename(path), self.shape, self.name
        rows, columns = read_table(path, name=name, schema=self.schema)
        if shape is not None and shape[1] is not None and rows.shape[1] != shape[1]:
            raise file_error(
                name,
                f"{shape[1]} columns for the model's input {shape_text(shape)}",
                path,
                f"{rows.shape[1]} columns ({', '.join(columns[:6])}"
                f"{', ...' if len(columns) > 6 else ''})",
            )
        if self.header is None:
            self.header, self.header_path = columns, path
        elif columns != self.header:
            raise file_error(name, f"the columns of '{self.header_path}'", path, "different columns")
        self.parts.append(rows)
        self.names.extend(f"{base}[{i}]" for i in range(len(rows)))
        self.notes.extend([f"row {i + 1} of {base}" for i in range(len(rows))])

    def inputs(self, kinds):
        """The `Inputs` of every file read, in order."""
        try:
            x = np.concatenate(self.parts, axis=0).astype(np.float32)
        except ValueError:
            shapes = sorted({tuple(p.shape[1:]) for p in self.parts})
            raise ValueError(
                f"{self.name}: expected inputs of one shape, received shapes "
                f"{', '.join(map(str, shapes))}."
            ) from None
        kind = "images" if "image" in kinds else ("table" if "table" in kinds else "arrays")
        return Inputs(x=x, names=self.names, notes=self.notes, kind=kind, feature_names=self.header)
