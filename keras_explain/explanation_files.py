"""The `.npz` file format of an `Explanation`: arrays plus JSON metadata.

Core arrays are stored by name (one entry per model input for several
inputs: "attributions:0", ...). Every field whose value is an array is
stored as "extra.NAME"; a field whose value is a dict holding arrays (a
global summary, metric scores) keeps each array as "extra.NAME/KEY" and its
other entries in the metadata. Version 1 files (no dict fields) load as
they were written.
"""

import json
import os

import numpy as np

from keras_explain.engine.errors import fail

FORMAT = "keras_explain.Explanation"
FORMAT_VERSION = 2
CORE_ARRAYS = ("attributions", "inputs", "targets", "predictions")


def jsonable(value):
    """A JSON-safe copy of a config value; arrays become a short description."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.size == 1:
            return jsonable(value.reshape(()).item())
        return {"array_shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _split_dict(name, value, arrays):
    """Arrays of a dict field go to `arrays`; the rest is returned for the metadata."""
    rest = {}
    for key, item in value.items():
        if isinstance(item, np.ndarray):
            arrays[f"extra.{name}/{key}"] = item
        else:
            rest[str(key)] = jsonable(item)
    return rest


def write_explanation(explanation, path):
    """Write `explanation` to `path` (".npz" appended when missing); returns the path."""
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    arrays = {}
    for name in CORE_ARRAYS:
        value = getattr(explanation, name)
        if isinstance(value, list):
            arrays.update({f"{name}:{k}": part for k, part in enumerate(value)})
        else:
            arrays[name] = value
    meta_extras, array_extras, dict_extras = {}, [], []
    for key, value in explanation._fields().items():
        if isinstance(value, np.ndarray):
            arrays["extra." + key] = value
            array_extras.append(key)
        elif isinstance(value, dict) and any(isinstance(v, np.ndarray) for v in value.values()):
            meta_extras[key] = _split_dict(key, value, arrays)
            dict_extras.append(key)
        else:
            meta_extras[key] = jsonable(value)
    meta = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "method": explanation.method,
        "config": explanation.config,
        "extras": meta_extras,
        "array_extras": array_extras,
        "dict_extras": dict_extras,
    }
    arrays["meta.json"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    return path


def _core(data, name):
    if name in data.files:
        return data[name]
    parts = sorted(
        (int(f.rpartition(":")[2]), f) for f in data.files if f.startswith(name + ":")
    )
    return [data[f] for _, f in parts]


def read_explanation(cls, path):
    """The `cls` instance written to `path` by `write_explanation`.

    Raises:
        ValueError: if the file is not a saved Explanation.
    """
    with np.load(os.fspath(path), allow_pickle=False) as data:
        if "meta.json" not in data.files:
            fail("path", "a file written by Explanation.save()", os.fspath(path))
        meta = json.loads(bytes(data["meta.json"]).decode("utf-8"))
        if meta.get("format") != FORMAT:
            fail("path", "a file written by Explanation.save()", os.fspath(path))
        core = {name: _core(data, name) for name in CORE_ARRAYS}
        extras = dict(meta["extras"])
        for key in meta["array_extras"]:
            extras[key] = data["extra." + key]
        for key in meta.get("dict_extras", ()):
            prefix = f"extra.{key}/"
            found = {f[len(prefix):]: data[f] for f in data.files if f.startswith(prefix)}
            extras[key] = {**extras[key], **found}
    return cls(method=meta["method"], config=meta["config"], **core, **extras)
