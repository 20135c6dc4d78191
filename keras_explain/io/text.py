"""Text inputs: a text file with one example per line, a column of strings in a CSV file, token ids.

For models that take strings (a `keras.layers.TextVectorization` inside),
and (`as_token_ids`) for models that take integer token ids from `.npy` files.
Only the standard library and numpy are used, so that the command line
checks the files before it imports TensorFlow.

```python
from keras_explain.io import text
inputs = text.read_texts(["reviews.txt"])               # one example per line
inputs = text.read_texts(["reviews.csv"], column="review")
e = kx.LimeText(model, random_state=0).explain(inputs.x)
```
"""

import csv
import dataclasses
import os

import numpy as np

from keras_explain.io.inputs import TEXT_SUFFIXES, Inputs
from keras_explain.io.messages import error, file_error


def takes_text(model):
    """True for a Keras model whose (first) declared input has dtype string."""
    inputs = getattr(model, "inputs", None) or []
    return bool(inputs) and str(getattr(inputs[0], "dtype", "")).split(".")[-1] == "string"


def read_text_file(path, name="inputs"):
    """The non-blank lines of a UTF-8 text file: (texts, line numbers, from 1).

    Raises:
        ValueError: for a file that is not UTF-8 or has no text.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except UnicodeDecodeError as problem:
        raise file_error(name, "a UTF-8 text file", path, f"not UTF-8 at byte {problem.start}") from None
    chosen = [(text, number) for number, text in enumerate(lines, start=1) if text.strip()]
    if not chosen:
        raise file_error(name, "a text file with one example per line", path, "which has no text")
    return [t for t, _ in chosen], [n for _, n in chosen]


def read_text_column(path, column, name="inputs"):
    """The cells of `column` in a CSV file with a header: (texts, row numbers, from 1).

    Raises:
        ValueError: for a missing column, an empty cell, or no rows.
    """
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or column not in header:
            shown = ", ".join(repr(c) for c in (header or [])[:8]) or "none"
            raise error("--column", f"a column of '{path}' (its columns: {shown})", repr(column))
        index = header.index(column)
        texts, rows = [], []
        for number, row in enumerate(reader, start=1):
            cell = row[index] if index < len(row) else ""
            if not cell.strip():
                raise file_error(
                    name, f"text in every row of column {column!r}", path, f"an empty cell in row {number}"
                )
            texts.append(cell)
            rows.append(number)
    if not texts:
        raise file_error(name, f"rows of text in column {column!r}", path, "which has only its header")
    return texts, rows


def read_texts(paths, column=None, name="inputs", progress=None):
    """Read text files (one example per line) or a CSV column into one batch of strings.

    Args:
        paths: `.txt` files, or `.csv` files when `column` is given.
        column: the CSV column holding the texts. Defaults to None (text
            files only).
        name: the argument named in errors. Defaults to "inputs".
        progress: optional callable, called once per file read.

    Returns:
        `Inputs` with `x` a str array (N,), `names` "file.txt:3" (the line)
        or "file.csv[2]" (the row), `notes` and `kind` "text".

    Raises:
        ValueError: naming the file: a file that is neither `.txt` nor (with
            `column`) `.csv`, a missing column, an empty cell, a file
            without text.

    Example:

    ```python
    inputs = read_texts(["reviews.csv"], column="review")
    ```
    """
    texts, names, notes = [], [], []
    for path in map(os.fspath, paths):
        base = os.path.basename(path)
        if path.lower().endswith(".csv") and column is not None:
            found, rows = read_text_column(path, column, name)
            names += [f"{base}[{row - 1}]" for row in rows]
            notes += [f"row {row} of {base}, column {column!r}" for row in rows]
        elif path.lower().endswith(TEXT_SUFFIXES):
            found, lines = read_text_file(path, name)
            names += [f"{base}:{line}" for line in lines]
            notes += [f"line {line} of {base}" for line in lines]
        else:
            expected = "a .txt file (one example per line)" + (" or a .csv file" if column else "")
            detail = "a CSV file; name the column of texts with --column" if path.lower().endswith(".csv") else ""
            raise file_error(name, expected + " for a model taking strings", path, detail)
        texts += found
        if progress is not None:
            progress()
    if not texts:
        raise error(name, "at least one text file", "none")
    return Inputs(x=np.array(texts, dtype=str), names=names, notes=notes, kind="text")


#: Every integer of smaller magnitude is exact in float32, the dtype `read_inputs` reads arrays in.
FLOAT32_EXACT = 2**24


def as_token_ids(inputs, dtype, name="inputs"):
    """Inputs read as numbers, in the integer dtype of a model taking token ids.

    `keras_explain.io.read_inputs` reads `.npy` arrays as float32; for a
    model whose input is declared with an integer dtype, the ids go back to
    that dtype, so explanations hold (and save) the ids as integers.

    Args:
        inputs: `Inputs` from `read_inputs`.
        dtype: the model input's dtype name, such as "int32".
        name: the argument named in errors. Defaults to "inputs".

    Returns:
        `Inputs` whose `x` has `dtype`; the rest unchanged.

    Raises:
        ValueError: for values that are not whole numbers, or ids of
            magnitude 2**24 or more (float32 cannot hold all of them).

    Example:

    ```python
    inputs = as_token_ids(kx.io.read_inputs(["ids.npy"], (None, 40)), "int32")
    ```
    """
    x = inputs.x
    flat = x.reshape(len(x), -1)
    checks = (
        (flat != np.round(flat), f"whole-number token ids for a model taking {dtype}"),
        (np.abs(flat) >= FLOAT32_EXACT, f"token ids of magnitude below {FLOAT32_EXACT} (read as float32)"),
    )
    for wrong, expected in checks:
        rows = np.flatnonzero(wrong.any(axis=1))
        if rows.size:
            value = float(flat[rows[0]][wrong[rows[0]]][0])
            raise error(name, expected, f"{np.format_float_positional(value, trim='-')} in {inputs.names[rows[0]]}")
    return dataclasses.replace(inputs, x=x.astype(dtype))
