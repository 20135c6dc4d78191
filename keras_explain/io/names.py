"""Class names: the names of a model's outputs, from a text or JSON file."""

import json
import os

from keras_explain.io.messages import file_error, one_line


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
        raise file_error(
            name, "a text file with one class name per line", path, "which does not exist"
        )
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise file_error(
            name, "a UTF-8 text file", path, f"which cannot be read ({one_line(error)})"
        ) from None
    if path.lower().endswith(".json"):
        try:
            names = json.loads(text)
        except ValueError as error:
            raise file_error(
                name, "a JSON list of strings", path, f"which is not JSON ({one_line(error)})"
            ) from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise file_error(
                name, "a JSON list of strings", path, f"which holds a {type(names).__name__}"
            )
        names = [n.strip() for n in names]
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise file_error(name, "at least one class name", path, "which is empty")
    return names

