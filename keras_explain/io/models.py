"""Saved models: checking and loading `.keras` files, importing custom objects.

`check_model_file` needs neither Keras nor TensorFlow, so the command line can
check the file before it pays for importing them; `load_model` imports Keras.
"""

import importlib.util
import json
import os
import re
import sys
import zipfile

from keras_explain.io.messages import file_error, one_line

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_SAVE_HINT = "a .keras archive written by model.save('model.keras')"

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
        raise file_error(name, "a saved Keras model (.keras file)", path, "which does not exist")
    if os.path.isdir(path):
        raise file_error(
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
        raise file_error(
            name, "a readable file", path, f"which cannot be read ({error.strerror})"
        ) from None
    if head == _HDF5_SIGNATURE or path.lower().endswith((".h5", ".hdf5")):
        stem = os.path.splitext(os.path.basename(path))[0]
        raise file_error(
            name,
            _SAVE_HINT,
            path,
            f"a legacy HDF5 file, which safe mode cannot check; convert it once, in an "
            f"environment you trust, with keras.saving.load_model('{os.path.basename(path)}')"
            f".save('{stem}.keras') and pass the .keras file",
        )
    if not zipfile.is_zipfile(path):
        raise file_error(name, _SAVE_HINT, path, "which is not a zip archive")
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as error:
        raise file_error(
            name, _SAVE_HINT, path, f"a damaged zip archive ({one_line(error)})"
        ) from None
    if "config.json" not in members:
        raise file_error(
            name, _SAVE_HINT, path, "a zip archive without the config.json of a Keras model"
        )
    if not path.endswith(".keras"):
        raise file_error(
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
        return file_error(
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
        return file_error(
            name,
            "a model that safe mode can load",
            path,
            f"{what}; if you trust the file, pass {switch}, which runs code from it",
        )
    return file_error(
        name,
        "a .keras model that Keras can load",
        path,
        f"which failed to load: {type(error).__name__}: {one_line(text)}",
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
        raise file_error(name, "a Python file (.py)", path, "which does not exist")
    if not path.endswith(".py"):
        raise file_error(name, "a Python file (.py)", path)
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
        raise file_error(
            name,
            "a Python file that imports without errors",
            path,
            f"which raised {type(error).__name__}: {one_line(error)}",
        ) from error
    objects = getattr(module, "CUSTOM_OBJECTS", {})
    if not isinstance(objects, dict):
        raise file_error(
            name,
            "a file whose CUSTOM_OBJECTS is a dict of name -> class or function",
            path,
            f"whose CUSTOM_OBJECTS is a {type(objects).__name__}",
        )
    return dict(objects)
