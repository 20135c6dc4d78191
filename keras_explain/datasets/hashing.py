"""Fingerprints of what made a results folder: the model, the explainer's configuration, the options.

A resumed run compares them with the manifest's, so that shards made by
another model or another configuration are never mixed with new ones.
"""

import hashlib
import json

import numpy as np

#: Explainer settings that change how fast results come, never the results (rule 2 of the design).
RUNTIME_SETTINGS = ("batch_size", "verbose", "run_eagerly")


def array_digest(array):
    """sha256 of an array's dtype, shape and values: its bytes (C order), or its items' repr for objects."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(repr(array.tolist()).encode("utf-8") if array.dtype.kind == "O" else array.tobytes())
    return digest.hexdigest()


def canonical(value):
    """A JSON-safe, comparable copy of a configuration value.

    Arrays become {"array": sha256, "shape": [...], "dtype": "..."} (a
    one-element array becomes its number), numpy scalars numbers, tuples
    lists, callables and other objects their qualified name.
    """
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.size == 1 and value.dtype.kind in "biuf":
            return value.reshape(()).item()
        return {"array": array_digest(value), "shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    kind = type(value) if not callable(value) else value
    return f"<{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', type(value).__name__)}>"


def digest(value):
    """sha256 of the canonical JSON of a value."""
    text = json.dumps(canonical(value), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def explainer_config(explainer):
    """The explainer's configuration without the settings that never change results.

    Returns:
        dict {"class_name": str, "config": canonical config}; a wrapped
        explainer's configuration (SmoothGrad's "explainer") loses the same
        settings.
    """
    return {"class_name": type(explainer).__name__, "config": _results_config(explainer.get_config())}


def _results_config(config):
    config = {k: v for k, v in config.items() if k not in RUNTIME_SETTINGS}
    inner = config.get("explainer")
    if isinstance(inner, dict) and "config" in inner:
        config["explainer"] = {**inner, "config": _results_config(inner["config"])}
    return canonical(config)


def model_digest(model):
    """sha256 of a Keras model's architecture (its config JSON) and of every weight's values.

    The names of the layers (and of the model) are replaced by their
    position in the config, so that the same model
    built again in a process that named other layers first ("dense_3"
    instead of "dense") has the same digest. A model whose config cannot be
    read (a subclassed model without `get_config`) is described by its
    class and its weights' shapes.
    """
    digest_ = hashlib.sha256()
    digest_.update(_architecture(model).encode("utf-8"))
    for weight in model.weights:
        digest_.update(array_digest(np.asarray(weight)).encode())
    return digest_.hexdigest()


def _architecture(model):
    try:
        config = canonical(model.get_config())
    except Exception:  # noqa: BLE001 - subclassed models may not serialise
        config = {"class_name": type(model).__name__}
    found = [config.get("name")] + _layer_names(config)
    names = {name: f"<layer {k}>" for k, name in enumerate(dict.fromkeys(n for n in found if isinstance(n, str)))}
    return json.dumps(_renamed(config, names), sort_keys=True)


def _layer_names(value):
    """The names of the layers a model config lists ("layers": [{"config": {"name": ...}}]), nested included."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "layers" and isinstance(item, list):
                found += [layer["config"].get("name") for layer in item
                          if isinstance(layer, dict) and isinstance(layer.get("config"), dict)]
            found += _layer_names(item)
    elif isinstance(value, list):
        for item in value:
            found += _layer_names(item)
    return found


def _renamed(value, names):
    if isinstance(value, dict):
        return {k: _renamed(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    if isinstance(value, str):
        return names.get(value, value)
    return value
