"""Files of a results folder: atomic writes, checksums and leftovers of an interrupted run.

Every file is written to a temporary name in the same folder, flushed to
disk and renamed over its final name (`os.replace` is atomic on one file
system), so a reader, or a run resumed after a crash, sees either the old
file or the new one, never a part of one.
"""

import hashlib
import json
import os

#: The manifest's name in a results folder.
MANIFEST = "manifest.json"
#: What a temporary name adds to the final one (followed by the process id).
TEMPORARY = ".partial-"
_CHUNK = 1 << 20


def atomic_write(path, write):
    """Write a file through `write(handle)` on a temporary name, then rename it to `path`.

    Args:
        path: the final file path.
        write: callable taking a binary file handle open for writing.

    Returns:
        str, the sha256 hex digest of the bytes written.
    """
    path = os.fspath(path)
    temporary = f"{path}{TEMPORARY}{os.getpid()}"
    try:
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        digest = sha256_of(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return digest


def atomic_write_json(path, value):
    """Write `value` as JSON (sorted keys, indented) atomically; returns its sha256."""
    text = json.dumps(value, indent=1, sort_keys=True).encode("utf-8")
    return atomic_write(path, lambda handle: handle.write(text))


def read_json(path):
    """The JSON value of a file."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def sha256_of(path):
    """The sha256 hex digest of a file's bytes, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(piece)
    return digest.hexdigest()


def verifies(path, digest):
    """True when `path` exists and its sha256 is `digest`."""
    return os.path.isfile(path) and sha256_of(path) == digest


def remove_leftovers(directory, prefixes):
    """Remove the temporary files an interrupted run left, of names starting with `prefixes`.

    Returns:
        list of the names removed.
    """
    removed = []
    for name in sorted(os.listdir(directory)):
        if TEMPORARY in name and name.startswith(prefixes):
            os.remove(os.path.join(directory, name))
            removed.append(name)
    return removed
