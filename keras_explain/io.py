"""Files in: saved `.keras` models, images, `.npy` arrays, CSV tables, class names.

Importing this module loads only numpy and the standard library: Pillow is
imported to read images and Keras only by `load_model`, so the command line can
check every file a user names before it pays for importing TensorFlow.

Every problem with a file raises a `ValueError` in the house style,
"`name`: expected X, received Y.", where `name` is the argument (`path`, or
`MODEL`, `INPUT`, `--class-names` for the command line).

```python
import keras_explain as kx

model = kx.load_model("digits.keras")                     # compile=False, safe_mode=True
inputs = kx.io.read_inputs(["three.png", "more.npy"], model.inputs[0].shape)
inputs.x, inputs.names, inputs.notes                      # (N, 8, 8, 1) float32, ...
```
"""

import csv
import dataclasses
import importlib.util
import json
import math
import os
import re
import sys
import zipfile
from typing import List, Optional

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
ARRAY_SUFFIXES = (".npy",)
TABLE_SUFFIXES = (".csv",)

#: How image pixels (0..255) become model inputs, by `preprocess` name.
PREPROCESSING = {
    "none": "kept in [0, 255]",
    "unit": "scaled to [0, 1]",
    "minus-one-one": "scaled to [-1, 1]",
}

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_SAVE_HINT = "a .keras archive written by model.save('model.keras')"


def _file_error(name, expected, path, detail=""):
    """The house-style error about a file: name, expectation, the file and why."""
    received = f"'{path}'" + (f", {detail}" if detail else "")
    return ValueError(f"{name}: expected {expected}, received {received}.")


def _one_line(text, limit=300):
    """The first line of a message, shortened: error messages stay on one line."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


# -- saved models ----------------------------------------------------------------


def check_model_file(path, name="path"):
    """Check, without importing Keras, that `path` looks like a `.keras` archive.

    Args:
        path: str or path-like.
        name: the argument named in error messages. Defaults to "path".

    Returns:
        The path as a str.

    Raises:
        ValueError: for a missing file, a directory (a TensorFlow SavedModel),
            a legacy HDF5 file, a file that is not a zip archive, a zip archive
            without the `config.json` of a Keras model, or an archive whose name
            does not end in `.keras` (Keras refuses those).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise _file_error(name, "a saved Keras model (.keras file)", path, "which does not exist")
    if os.path.isdir(path):
        raise _file_error(
            name,
            _SAVE_HINT,
            path,
            "a directory (a TensorFlow SavedModel?), which Keras 3 cannot load as a model; "
            "save the model with model.save('model.keras') where it was built",
        )
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_HDF5_SIGNATURE))
    except OSError as error:
        raise _file_error(
            name, "a readable file", path, f"which cannot be read ({error.strerror})"
        ) from None
    if head == _HDF5_SIGNATURE or path.lower().endswith((".h5", ".hdf5")):
        stem = os.path.splitext(os.path.basename(path))[0]
        raise _file_error(
            name,
            _SAVE_HINT,
            path,
            f"a legacy HDF5 file, which safe mode cannot check; convert it once, in an "
            f"environment you trust, with keras.saving.load_model('{os.path.basename(path)}')"
            f".save('{stem}.keras') and pass the .keras file",
        )
    if not zipfile.is_zipfile(path):
        raise _file_error(name, _SAVE_HINT, path, "which is not a zip archive")
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as error:
        raise _file_error(
            name, _SAVE_HINT, path, f"a damaged zip archive ({_one_line(error)})"
        ) from None
    if "config.json" not in members:
        raise _file_error(
            name, _SAVE_HINT, path, "a zip archive without the config.json of a Keras model"
        )
    if not path.endswith(".keras"):
        raise _file_error(
            name, _SAVE_HINT, path, "a Keras archive whose name does not end in .keras; rename it"
        )
    return path


def _model_config(path):
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json").decode("utf-8"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return {}


def _layers_of_class(config, class_name):
    """Names of the layers of `class_name` anywhere in a model config."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("class_name") == class_name and isinstance(node.get("config"), dict):
                found.append(str(node["config"].get("name", "?")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def _error_chain_text(error):
    texts, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        texts.append(str(error))
        error = error.__cause__ or error.__context__
    return "\n".join(texts)


def _load_error(error, path, name, cli):
    """Translate a Keras loading error into one clear line."""
    text = _error_chain_text(error)
    missing = re.search(r"Could not locate (class|function) '([^']+)'", text)
    if missing:
        kind, symbol = missing.groups()
        registered = re.search(
            r"'class_name': '" + re.escape(symbol) + r"'.*?'registered_name': '([^']+)'", text
        )
        shown, key = f"'{symbol}'", symbol
        if registered and registered.group(1) != symbol:
            key = registered.group(1)
            shown += f" (registered as '{key}')"
        if cli:
            hint = (
                "pass --custom-objects FILE.py, a Python file that defines it with "
                "@keras.saving.register_keras_serializable()"
            )
        else:
            hint = (
                "import the module that defines it with "
                "@keras.saving.register_keras_serializable() before loading, or pass "
                f"custom_objects={{'{key}': {symbol}}}"
            )
        return _file_error(
            name,
            "a model whose custom classes and functions are registered",
            path,
            f"which uses the unregistered {kind} {shown}; {hint}",
        )
    if "safe_mode=False" in text or "enable_unsafe_deserialization" in text:
        lambdas = _layers_of_class(_model_config(path), "Lambda")
        if lambdas:
            layers = ", ".join(f"'{n}'" for n in lambdas)
            plural = len(lambdas) > 1
            what = f"whose Lambda layer{'s' if plural else ''} {layers} hold{'' if plural else 's'} Python code"
        else:
            what = "which holds Python code"
        switch = "--unsafe" if cli else "safe_mode=False"
        return _file_error(
            name,
            "a model that safe mode can load",
            path,
            f"{what}; if you trust the file, pass {switch}, which runs code from it",
        )
    return _file_error(
        name,
        "a .keras model that Keras can load",
        path,
        f"which failed to load: {type(error).__name__}: {_one_line(text)}",
    )


def _load_model(path, custom_objects=None, safe_mode=True, name="path", cli=False):
    path = check_model_file(path, name)
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise ValueError(
            f"custom_objects: expected a dict of name -> class or function, received "
            f"a {type(custom_objects).__name__}."
        )
    import keras

    try:
        return keras.saving.load_model(
            path, custom_objects=custom_objects, compile=False, safe_mode=bool(safe_mode)
        )
    except (TypeError, ValueError, KeyError, AttributeError, ImportError) as error:
        raise _load_error(error, path, name, cli) from error


def load_model(path, custom_objects=None, safe_mode=True):
    """Load a saved `.keras` model for explaining.

    It is `keras.saving.load_model(path, compile=False, safe_mode=True)`:
    explaining needs no optimizer or loss, and safe mode refuses to run Python
    code stored in the file (Lambda layers). Problems become one clear line.

    Args:
        path: the `.keras` file.
        custom_objects: dict name -> class or function for custom layers that
            are not registered with `@keras.saving.register_keras_serializable()`.
            Defaults to None.
        safe_mode: refuse Lambda layers holding Python code. Pass False only
            for a file you trust: it runs code from the file. Defaults to True.

    Returns:
        keras.Model.

    Raises:
        ValueError: for a missing file, a directory, a legacy `.h5` file (with
            the line that converts it), a file that is not a `.keras` archive,
            a custom class that is not registered (saying how to register it),
            a Lambda layer that safe mode refuses (naming the layer), or any
            other loading failure.

    Example:

    ```python
    model = kx.load_model("digits.keras")
    e = kx.IntegratedGradients(model).explain(x)
    ```
    """
    return _load_model(path, custom_objects=custom_objects, safe_mode=safe_mode, name="path")


def import_custom_objects(path, name="custom_objects"):
    """Import a Python file that registers custom Keras classes and functions.

    The file runs like a script (its folder is put first on `sys.path` so it
    can import its neighbours). Classes decorated with
    `@keras.saving.register_keras_serializable()` are registered by importing
    it; a module-level dict `CUSTOM_OBJECTS` (name -> class or function) is
    returned for the others.

    Args:
        path: the `.py` file.
        name: the argument named in error messages. Defaults to "custom_objects".

    Returns:
        dict, the file's `CUSTOM_OBJECTS` or {}.

    Raises:
        ValueError: for a missing file, a file that is not `.py`, a file that
            raises while importing, or a `CUSTOM_OBJECTS` that is not a dict.

    Example:

    ```python
    objects = kx.io.import_custom_objects("my_layers.py")
    model = kx.load_model("model.keras", custom_objects=objects)
    ```
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise _file_error(name, "a Python file (.py)", path, "which does not exist")
    if not path.endswith(".py"):
        raise _file_error(name, "a Python file (.py)", path)
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "custom_objects"
    module_name = stem if stem not in sys.modules else f"keras_explain_custom_objects_{stem}"
    folder = os.path.dirname(os.path.abspath(path))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - any failure of the user's file is reported
        sys.modules.pop(module_name, None)
        raise _file_error(
            name,
            "a Python file that imports without errors",
            path,
            f"which raised {type(error).__name__}: {_one_line(error)}",
        ) from error
    objects = getattr(module, "CUSTOM_OBJECTS", {})
    if not isinstance(objects, dict):
        raise _file_error(
            name,
            "a file whose CUSTOM_OBJECTS is a dict of name -> class or function",
            path,
            f"whose CUSTOM_OBJECTS is a {type(objects).__name__}",
        )
    return dict(objects)


# -- class names -----------------------------------------------------------------


def read_class_names(path, name="class_names"):
    """Read output names: one per line of a text file, or a JSON list.

    Blank lines are skipped and surrounding spaces removed.

    Args:
        path: a text file (one name per line) or a `.json` file holding a
            list of strings.
        name: the argument named in error messages. Defaults to "class_names".

    Returns:
        list of str.

    Raises:
        ValueError: for a missing, unreadable or empty file, or JSON that is
            not a list of strings.

    Example:

    ```python
    names = kx.io.read_class_names("classes.txt")   # ["cat", "dog", ...]
    ```
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise _file_error(
            name, "a text file with one class name per line", path, "which does not exist"
        )
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise _file_error(
            name, "a UTF-8 text file", path, f"which cannot be read ({_one_line(error)})"
        ) from None
    if path.lower().endswith(".json"):
        try:
            names = json.loads(text)
        except ValueError as error:
            raise _file_error(
                name, "a JSON list of strings", path, f"which is not JSON ({_one_line(error)})"
            ) from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _file_error(
                name, "a JSON list of strings", path, f"which holds a {type(names).__name__}"
            )
        names = [n.strip() for n in names]
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise _file_error(name, "at least one class name", path, "which is empty")
    return names


# -- inputs ----------------------------------------------------------------------


@dataclasses.dataclass
class Inputs:
    """Inputs read from files, ready for an explainer.

    Attributes:
        x: float32 array (N, ...) shaped like the model input.
        names: N display names: the file name, "file.npy[3]" or "file.csv[3]".
        notes: N notes saying what was done to each input (the resize, the
            colour conversion, the scaling).
        kind: "images" (image files and arrays of images), "arrays" (only
            `.npy` files) or "table" (CSV rows, possibly with `.npy` rows).
        feature_names: the CSV header for tables, else None.
    """

    x: np.ndarray
    names: List[str]
    notes: List[str]
    kind: str
    feature_names: Optional[List[str]] = None


def input_kind(path, name="inputs"):
    """ "image", "array" or "table" from a file's suffix.

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
    raise _file_error(name, "a PNG or JPEG image, a .npy array or a .csv table", os.fspath(path))


def check_input_files(paths, name="inputs"):
    """Check that every input exists and has a known suffix; return their kinds."""
    kinds = []
    for path in paths:
        path = os.fspath(path)
        if not os.path.isfile(path):
            detail = "which is a directory" if os.path.isdir(path) else "which does not exist"
            raise _file_error(name, "an existing input file", path, detail)
        kinds.append(input_kind(path, name))
    return kinds


def _mode_text(mode):
    return {
        "L": "grey",
        "LA": "grey with alpha",
        "RGB": "RGB",
        "RGBA": "RGBA",
        "P": "palette",
        "1": "black and white",
    }.get(mode, mode)


def read_image(path, size=None, channels=3, preprocess="unit", name="inputs"):
    """Read one PNG or JPEG image as a float32 array the model can take.

    The image is turned upright by its EXIF orientation, converted to grey
    (channels=1 or None; ITU-R 601 luma), RGB (3) or RGBA (4), resized to
    `size` with Pillow's bilinear filter (antialiased when shrinking) when its
    size differs, and scaled per `preprocess`.

    Args:
        path: the image file.
        size: (H, W) the model takes, or None to keep the image's size.
        channels: 1, 3, 4, or None for a model taking (N, H, W) without a
            channel axis. Defaults to 3.
        preprocess: "unit" (pixels / 255, in [0, 1]), "minus-one-one"
            (pixels / 127.5 - 1) or "none" (0..255). Defaults to "unit".
        name: the argument named in error messages. Defaults to "inputs".

    Returns:
        (np.ndarray float32 (H, W, C) or (H, W), note), the note saying what
        was done: "16x16 RGB, converted to grey, resized to 8x8 (bilinear),
        scaled to [0, 1]".

    Raises:
        ValueError: for a file that cannot be decoded, an unknown
            `preprocess` or a channel count other than 1, 3, 4 or None.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = os.fspath(path)
    if preprocess not in PREPROCESSING:
        raise ValueError(
            f"preprocess: expected one of {', '.join(map(repr, PREPROCESSING))}, received {preprocess!r}."
        )
    if channels not in (None, 1, 3, 4):
        raise ValueError(
            f"{name}: expected a model taking images with 1, 3 or 4 channels, received a "
            f"model input with {channels} channels; pass .npy arrays instead."
        )
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened.copy()
            orientation = opened.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise _file_error(
            name, "a PNG or JPEG image", path, f"which cannot be decoded ({_one_line(error)})"
        ) from None
    parts = [f"{image.width}x{image.height} {_mode_text(image.mode)}"]
    if orientation not in (None, 1):
        image = ImageOps.exif_transpose(image)
        parts.append("turned upright (EXIF orientation)")
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit or float greys: bring to 8 bits so every image shares one scale.
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I") else max(float(values.max()), 1.0)
        image = Image.fromarray(
            np.clip(np.round(values / top * 255.0), 0, 255).astype(np.uint8), "L"
        )
        parts.append("reduced to 8 bits")
    target_mode = {None: "L", 1: "L", 3: "RGB", 4: "RGBA"}[channels]
    if image.mode != target_mode:
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert(target_mode)
        parts.append(f"converted to {_mode_text(target_mode)}")
        if has_alpha and target_mode != "RGBA":
            parts.append("alpha dropped")
    if size is not None:
        height = image.height if size[0] is None else int(size[0])
        width = image.width if size[1] is None else int(size[1])
        if (width, height) != image.size:
            image = image.resize((width, height), Image.Resampling.BILINEAR)
            parts.append(f"resized to {width}x{height} (bilinear)")
    pixels = np.asarray(image, dtype=np.float32)
    if channels == 1:
        pixels = pixels[..., None]
    if preprocess == "unit":
        pixels = pixels / np.float32(255.0)
    elif preprocess == "minus-one-one":
        pixels = pixels / np.float32(127.5) - np.float32(1.0)
    parts.append(PREPROCESSING[preprocess])
    return pixels.astype(np.float32), ", ".join(parts)


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
            else f"which numpy cannot read ({_one_line(error)})"
        )
        raise _file_error(name, "a numeric .npy array", path, detail) from None
    except OSError as error:
        raise _file_error(
            name, "a numeric .npy array", path, f"which numpy cannot read ({_one_line(error)})"
        ) from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        kind = getattr(array, "dtype", type(array))
        raise _file_error(name, "a numeric .npy array", path, f"of dtype {kind}")
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
            raise _file_error(
                name,
                f"an array of shape {shown} or {batch} for the model's input",
                path,
                f"an array of shape {tuple(array.shape)}",
            )
    elif array.ndim < 1:
        raise _file_error(name, "a batch of inputs (N, ...)", path, "a scalar")
    if len(array) == 0:
        raise _file_error(name, "at least one input", path, "an empty array")
    _check_finite_array(array, path, name)
    return array.astype(np.float32)


def _check_finite_array(array, path, name):
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))
        raise _file_error(
            name,
            "finite numbers",
            path,
            f"which holds {len(bad)} NaN or infinite value(s), the first at index "
            f"{tuple(int(i) for i in bad[0])}",
        )


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_table(path, name="inputs"):
    """Read a CSV file of numbers whose first row names the features.

    Args:
        path: the `.csv` file: a header row of feature names, then one row
            per input, every cell a number.
        name: the argument named in error messages. Defaults to "inputs".

    Returns:
        (np.ndarray float32 (n, n_features), feature names list).

    Raises:
        ValueError: for an empty file, a header of numbers (a missing header),
            duplicate or empty feature names, a row with another number of
            cells, a cell that is not a finite number.

    Example:

    ```python
    rows, names = kx.io.read_table("patients.csv")
    ```
    """
    path = os.fspath(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            records = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise _file_error(
            name, "a UTF-8 CSV file", path, f"which cannot be read ({_one_line(error)})"
        ) from None
    if len(records) < 2:
        raise _file_error(
            name,
            "a header row of feature names and at least one row of numbers",
            path,
            "which is empty" if not records else "which has a header but no rows",
        )
    header = [cell.strip() for cell in records[0]]
    if all(_is_number(cell) for cell in header):
        shown = ", ".join(header[:3]) + (", ..." if len(header) > 3 else "")
        raise _file_error(
            name,
            "a header row of feature names first",
            path,
            f"whose first row is numbers ({shown})",
        )
    if any(not cell for cell in header) or len(set(header)) != len(header):
        duplicates = sorted({c for c in header if header.count(c) > 1})
        detail = (
            f"whose header repeats {', '.join(map(repr, duplicates))}"
            if duplicates
            else "whose header has an empty name"
        )
        raise _file_error(name, "distinct, non-empty feature names in the header", path, detail)
    values = np.empty((len(records) - 1, len(header)), dtype=np.float64)
    for r, row in enumerate(records[1:], start=1):
        if len(row) != len(header):
            raise _file_error(
                name, f"{len(header)} cells per row like the header", path, f"{len(row)} in row {r}"
            )
        for c, cell in enumerate(row):
            try:
                number = float(cell)
            except ValueError:
                number = math.nan if cell.strip() else None
                if number is None:
                    raise _file_error(
                        name,
                        "a number in every cell",
                        path,
                        f"an empty cell in row {r}, column '{header[c]}'",
                    ) from None
                raise _file_error(
                    name,
                    "a number in every cell",
                    path,
                    f"'{cell.strip()}' in row {r}, column '{header[c]}'",
                ) from None
            if not math.isfinite(number):
                raise _file_error(
                    name,
                    "finite numbers",
                    path,
                    f"'{cell.strip()}' in row {r}, column '{header[c]}'",
                )
            values[r - 1, c] = number
    return values.astype(np.float32), header


def _shape_text(shape):
    return (
        "("
        + ", ".join("N" if i == 0 else ("?" if d is None else str(d)) for i, d in enumerate(shape))
        + ")"
    )


def read_inputs(paths, input_shape=None, preprocess=None, name="inputs", progress=None):
    """Read image files, `.npy` arrays and CSV tables into one batch for a model.

    Images are resized to the model's height and width and converted to its
    channels (see `read_image`); `.npy` arrays are used as they are (cast to
    float32); CSV rows are the inputs of a tabular model, their header naming
    the features. The batch keeps the order of `paths`.

    Args:
        paths: file paths.
        input_shape: the model's input shape with the batch dimension, for
            example (None, 8, 8, 1), or None when the model does not declare it.
        preprocess: for image files: "unit" (default), "minus-one-one" or
            "none"; see `read_image`.
        name: the argument named in error messages. Defaults to "inputs".
        progress: optional callable, called once per file read.

    Returns:
        `Inputs` (x, names, notes, kind, feature_names).

    Raises:
        ValueError: naming the file: a missing file, an unknown suffix, an
            image for a model that does not take images, a table for one that
            does not take rows, arrays of the wrong shape, or CSV files whose
            headers differ. For a model that takes any image size, images are
            resized to the size of the first one.

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
    preprocess = "unit" if preprocess is None else preprocess
    if preprocess not in PREPROCESSING:
        raise ValueError(
            f"preprocess: expected one of {', '.join(map(repr, PREPROCESSING))}, received {preprocess!r}."
        )
    shape = (
        None if input_shape is None else tuple(None if d is None else int(d) for d in input_shape)
    )
    if "image" in kinds and "table" in kinds:
        raise ValueError(
            f"{name}: expected inputs of one kind (images and .npy arrays, or .csv tables and "
            f".npy arrays), received both images and .csv tables."
        )
    item_shape = None if shape is None else shape[1:]
    if "image" in kinds:
        if shape is not None and not (
            len(shape) == 3 or (len(shape) == 4 and shape[3] in (1, 3, 4))
        ):
            first = paths[kinds.index("image")]
            raise _file_error(
                name,
                f"inputs for the model's input {_shape_text(shape)}",
                first,
                "an image; image files need a model taking (N, H, W, C) with 1, 3 or 4 channels, "
                "or (N, H, W)",
            )
    if "table" in kinds and shape is not None and len(shape) != 2:
        first = paths[kinds.index("table")]
        raise _file_error(
            name,
            f"inputs for the model's input {_shape_text(shape)}",
            first,
            "a table; CSV rows need a model taking (N, n_features)",
        )
    parts, names, notes = [], [], []
    header, header_path = None, None
    image_size = None
    for path, kind in zip(paths, kinds):
        base = os.path.basename(path)
        if kind == "image":
            if shape is None:
                size, channels = image_size, 3
            else:
                size = shape[1:3]
                channels = shape[3] if len(shape) == 4 else None
                if None in size and image_size is not None:
                    size = tuple(image_size)
            pixels, note = read_image(
                path, size=size, channels=channels, preprocess=preprocess, name=name
            )
            if image_size is None:
                image_size = pixels.shape[:2]
            parts.append(pixels[None])
            names.append(base)
            notes.append(note)
        elif kind == "array":
            array = read_array(path, item_shape, name=name)
            parts.append(array)
            if len(array) == 1:
                names.append(base)
            else:
                names.extend(f"{base}[{i}]" for i in range(len(array)))
            shape_text = "x".join(str(d) for d in array.shape[1:])
            notes.extend([f"array ({shape_text}), used as it is"] * len(array))
        else:
            rows, columns = read_table(path, name=name)
            if shape is not None and shape[1] is not None and rows.shape[1] != shape[1]:
                raise _file_error(
                    name,
                    f"{shape[1]} columns for the model's input {_shape_text(shape)}",
                    path,
                    f"{rows.shape[1]} columns ({', '.join(columns[:6])}"
                    f"{', ...' if len(columns) > 6 else ''})",
                )
            if header is None:
                header, header_path = columns, path
            elif columns != header:
                raise _file_error(
                    name, f"the columns of '{header_path}'", path, "different columns"
                )
            parts.append(rows)
            names.extend(f"{base}[{i}]" for i in range(len(rows)))
            notes.extend([f"row {i + 1} of {base}" for i in range(len(rows))])
        if progress is not None:
            progress()
    try:
        x = np.concatenate(parts, axis=0).astype(np.float32)
    except ValueError:
        shapes = sorted({tuple(p.shape[1:]) for p in parts})
        raise ValueError(
            f"{name}: expected inputs of one shape, received shapes {', '.join(map(str, shapes))}."
        ) from None
    kind = "images" if "image" in kinds else ("table" if "table" in kinds else "arrays")
    return Inputs(x=x, names=names, notes=notes, kind=kind, feature_names=header)
