"""The manifest of a results folder: what made the results, and which shards are complete.

`manifest.json` holds:

* "run": what made the results and must be the same to resume them: the
  method, the explainer's class and configuration (arrays as checksums;
  `batch_size`, `verbose` and `run_eagerly` left out, since they never
  change results), the model's digest (architecture and weights), the
  explain options, the targets, the shard size, the file format, the kept
  columns and the data's kind and length (when known);
* "seed": the base seed of a method with random draws (None otherwise);
* "shards": per complete shard its index, rows [start, stop), file and
  sha256, and its statistics file and sha256;
* "columns" (item shape and dtype of each column), "extras" (JSON-safe
  fields of the explanations that are not per row: feature names, class
  names, mode), "rows" and "complete" once the data has ended, and
  "summary" (the summary file and the fields it does not hold).

It is rewritten atomically after every shard.
"""

import os

from keras_explain.datasets.files import MANIFEST, atomic_write_json, read_json
from keras_explain.engine.errors import fail

FORMAT = "keras_explain.DatasetResults"
VERSION = 1

#: Keys of "run", the argument a difference is reported against, and what it names.
_RUN_KEYS = {
    "method": ("explainer", "the method"),
    "explainer": ("explainer", "the configuration"),
    "model": ("explainer", "the model"),
    "options": ("options", "the explain options"),
    "targets": ("targets", "the targets"),
    "shard_size": ("shard_size", "the shard size"),
    "format": ("format", "the file format"),
    "keep": ("keep", "the kept columns"),
    "data": ("data", "the data"),
    "replicas": ("strategy", "the number of replicas"),
}
_AGAIN = "pass resume=False to explain again from the start, or another out folder"


def new_manifest(run, seed):
    """An empty manifest for a run (no shard complete yet)."""
    from keras_explain import __version__

    return {
        "format": FORMAT,
        "version": VERSION,
        "keras_explain": __version__,
        "run": run,
        "seed": seed,
        "shards": [],
        "columns": None,
        "extras": {},
        "rows": None,
        "complete": False,
        "summary": None,
    }


def manifest_path(directory):
    return os.path.join(os.fspath(directory), MANIFEST)


def load_manifest(directory, name="out"):
    """The manifest of a results folder.

    Raises:
        ValueError: when the folder holds no manifest, or not one of these results.
    """
    path = manifest_path(directory)
    if not os.path.isfile(path):
        fail(name, f"a folder of results written by kx.explain_dataset (with a {MANIFEST})", os.fspath(directory))
    manifest = read_json(path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        fail(name, f"a folder whose {MANIFEST} was written by kx.explain_dataset", os.fspath(directory))
    if manifest.get("version", 0) > VERSION:
        raise ValueError(
            f"{name}: expected results of format version {VERSION} or older, received version "
            f"{manifest['version']} in '{os.fspath(directory)}'; upgrade keras_explain to read them."
        )
    return manifest


def save_manifest(directory, manifest):
    """Write the manifest atomically (shards sorted by index)."""
    manifest["shards"] = sorted(manifest["shards"], key=lambda entry: entry["index"])
    atomic_write_json(manifest_path(directory), manifest)


def check_resumable(manifest, run, directory):
    """Raise unless the results in `directory` were made by the same `run` (see the module docstring).

    Raises:
        ValueError: naming the argument that differs, what the results were
            made with and what was received.
    """
    old = manifest["run"]
    where = f"the results in '{os.fspath(directory)}'"
    for key in sorted(set(old) | set(run), key=lambda k: list(_RUN_KEYS).index(k) if k in _RUN_KEYS else 99):
        before, now = old.get(key), run.get(key)
        if before == now:
            continue
        argument, what = _RUN_KEYS.get(key, (key, key))
        if key == "explainer":
            if before["class_name"] != now["class_name"]:
                before, now = {"class_name": before["class_name"]}, {"class_name": now["class_name"]}
            else:
                before, now = before["config"], now["config"]
        if key == "model":
            detail = f"of digest {str(before)[:12]}, received a model of digest {str(now)[:12]}"
            detail += " (other weights or layers)"
        elif isinstance(before, dict) and isinstance(now, dict):
            detail = f"received one that differs in {config_difference(before, now)}"
        else:
            detail = f"{_short(before)}, received {_short(now)}"
        raise ValueError(f"{argument}: expected {what} that made {where}, {detail}; {_AGAIN}.")


def config_difference(before, now):
    """"steps (16 before, 32 now)": the configuration keys that differ, with both values."""
    keys = sorted(k for k in set(before) | set(now) if k not in before or k not in now or before[k] != now[k])
    unset = _Unset()
    return ", ".join(f"{k} ({_short(before.get(k, unset))} before, {_short(now.get(k, unset))} now)" for k in keys)


class _Unset:
    def __repr__(self):
        return "unset"


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
