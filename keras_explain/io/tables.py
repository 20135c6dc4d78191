"""Tables: CSV files read through a `keras_explain.engine.tables.TableSchema`.

The first row of a CSV file names the features; every other row is one input.
Numbers are read as they are. A categorical column may hold category
strings, which reach the model as integer codes, in the order the schema
defines: the position of each category in `categorical_names[column]` when
given, else in the sorted strings of the table that defines the schema.

The table that defines the categories (the training data) is read with
`read_training_table`; other tables, with its schema, by `read_table`.

```python
train = kx.io.read_training_table("train.csv")        # text columns are categorical
rows, names = kx.io.read_table("rows.csv", schema=train.schema)
```
"""

import csv
import dataclasses
import math
import os
from typing import List

import numpy as np

from keras_explain.engine.tables import TableSchema
from keras_explain.io.messages import file_error, one_line

TABLE_SUFFIXES = (".csv",)


@dataclasses.dataclass
class Table:
    """A CSV table read through its schema.

    Attributes:
        rows: float32 array (n, n_features), categories as their codes.
        feature_names: the header, one name per column.
        schema: the `TableSchema` that encoded the rows: which columns are
            categorical and the categories of each in code order.
    """

    rows: np.ndarray
    feature_names: List[str]
    schema: TableSchema


def _read_records(path, name, limit=None):
    """The non-blank rows of a CSV file (at most `limit` of them), as lists of cells."""
    records = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for row in csv.reader(handle):
                if any(cell.strip() for cell in row):
                    records.append(row)
                    if limit is not None and len(records) >= limit:
                        break
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise file_error(
            name, "a UTF-8 CSV file", path, f"which cannot be read ({one_line(error)})"
        ) from None
    return records


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _header(record, path, name):
    """The feature names of a header row, checked: not numbers, distinct, non-empty."""
    header = [cell.strip() for cell in record]
    if all(_is_number(cell) for cell in header):
        shown = ", ".join(header[:3]) + (", ..." if len(header) > 3 else "")
        raise file_error(
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
        raise file_error(name, "distinct, non-empty feature names in the header", path, detail)
    return header


def _empty_error(name, path, records):
    return file_error(
        name,
        "a header row of feature names and at least one row of numbers",
        path,
        "which is empty" if not records else "which has a header but no rows",
    )


def read_csv_header(path, name="inputs"):
    """The feature names in the first row of a CSV file, checked as `read_table` checks them.

    Only the first row is read.

    Args:
        path: the `.csv` file.
        name: the argument named in error messages. Defaults to "inputs".

    Returns:
        list of str.

    Raises:
        ValueError: for an unreadable or empty file, a header of numbers, or
            duplicate or empty feature names.
    """
    path = os.fspath(path)
    records = _read_records(path, name, limit=1)
    if not records:
        raise _empty_error(name, path, records)
    return _header(records[0], path, name)


def _records(path, name):
    """(the rows after the header, the checked header) of a CSV file with rows."""
    records = _read_records(path, name)
    if len(records) < 2:
        raise _empty_error(name, path, records)
    return records[1:], _header(records[0], path, name)


def _cell(cell, row, column, path, name, text_allowed):
    """A cell as a finite float, or as its stripped text where text is allowed."""
    text = cell.strip()
    where = f"in row {row}, column '{column}'"
    if not text:
        raise file_error(name, "a number in every cell", path, f"an empty cell {where}")
    try:
        number = float(cell)
    except ValueError:
        if text_allowed:
            return text
        raise file_error(name, "a number in every cell", path, f"'{text}' {where}") from None
    if not math.isfinite(number):
        raise file_error(name, "finite numbers", path, f"'{text}' {where}")
    return number


def _cells(records, header, path, name, text_columns):
    """An object array (n, n_features) of the cells: floats, and strings in `text_columns`.

    `text_columns` None allows strings in every column.
    """
    cells = np.empty((len(records), len(header)), dtype=object)
    for r, row in enumerate(records, start=1):
        if len(row) != len(header):
            raise file_error(
                name, f"{len(header)} cells per row like the header", path, f"{len(row)} in row {r}"
            )
        for c, cell in enumerate(row):
            allowed = text_columns is None or c in text_columns
            cells[r - 1, c] = _cell(cell, r, header[c], path, name, allowed)
    return cells


def _as_text(cells, records, columns):
    """Every cell of `columns` as its stripped text: categories named in a file stay names."""
    for j in columns:
        cells[:, j] = [row[j].strip() for row in records]
    return cells


def _check_categories(cells, schema, header, path, name):
    """Refuse, naming the file and the row, a category the schema has not seen."""
    for j, known in schema.codes.items():
        for r, value in enumerate(cells[:, j], start=1):
            if value not in known:
                shown = ", ".join(map(str, known[:8])) + (", ..." if len(known) > 8 else "")
                raise file_error(
                    name,
                    f"a category of column '{header[j]}' seen in the training data ({shown})",
                    path,
                    f"'{value}' in row {r}",
                )


def _declared(categorical_features, header):
    """The column indices `categorical_features` names; what it cannot name is left out."""
    if not isinstance(categorical_features, (list, tuple)):
        return set()
    size, found = len(header), set()
    for key in categorical_features:
        if isinstance(key, str) and key in header:
            found.add(header.index(key))
        elif isinstance(key, int) and not isinstance(key, bool) and -size <= key < size:
            found.add(key % size)
    return found


def _check_mixed_columns(cells, header, text, declared, path, name):
    """Refuse text among the numbers of a column not declared categorical.

    A column of text only is a column of categories; a stray word in a
    column of numbers is more likely a mistake than a category.
    """
    first = []
    for j in text:
        strings = [isinstance(v, str) for v in cells[:, j]]
        if j not in declared and not all(strings):
            first.append((strings.index(True), j))
    if first:
        row, j = min(first)
        raise file_error(
            name,
            "a number in every cell",
            path,
            f"'{cells[row, j]}' in row {row + 1}, column '{header[j]}'",
        )


def read_table(path, name="inputs", schema=None):
    """Read a CSV file of inputs whose first row names the features.

    The rows are read through a `TableSchema`: `schema` when given, so that
    category strings in its categorical columns become the codes it defines;
    else the file's own, which takes numbers only.

    Args:
        path: the `.csv` file: a header row of feature names, then one row
            per input, every cell a number (or a category of a categorical
            column of `schema`).
        name: the argument named in error messages. Defaults to "inputs".
        schema: the `TableSchema` of the training data (see
            `read_training_table`), whose feature names the header must
            repeat. Defaults to None.

    Returns:
        (np.ndarray float32 (n, n_features), feature names list).

    Raises:
        ValueError: for an empty file, a header of numbers (a missing header),
            duplicate or empty feature names, a header other than the
            schema's, a row with another number of cells, a cell that is not
            a finite number (outside the categorical columns), or a category
            the schema has not seen.

    Example:

    ```python
    rows, names = kx.io.read_table("patients.csv")
    ```
    """
    path = os.fspath(path)
    records, header = _records(path, name)
    if schema is None:
        cells = _cells(records, header, path, name, text_columns=())
        schema, encoded = TableSchema.from_training(cells, header, name=name)
    else:
        if header != schema.feature_names:
            raise file_error(
                name,
                f"the columns of the schema ({', '.join(schema.feature_names)})",
                path,
                f"columns ({', '.join(header)})",
            )
        cells = _cells(records, header, path, name, text_columns=schema.categorical)
        _check_categories(_as_text(cells, records, schema.codes), schema, header, path, name)
        encoded = schema.encode(cells, name)
    return encoded.astype(np.float32), header


def read_training_table(
    path, name="training_data", categorical_features=None, categorical_names=None
):
    """Read a CSV table that defines the categories: the training data.

    Every column holding only text is categorical, and so is every column
    in `categorical_features` (which may mix numbers and text; its cells are
    then all read as text). The schema built from the table
    (`TableSchema.from_training`) gives each category its code.

    Args:
        path: the `.csv` file: a header row of feature names, then one row
            per example, numbers or category strings.
        name: the argument named in error messages. Defaults to
            "training_data".
        categorical_features: more categorical columns (numeric codes), by
            index or feature name. Defaults to None.
        categorical_names: dict column (index or name) -> list of category
            names indexed by code; for a column of strings it sets the
            codes. Defaults to None: the sorted strings.

    Returns:
        `Table` (rows, feature_names, schema).

    Raises:
        ValueError: as `read_table` (text among the numbers of a column
            not declared categorical included), and for unknown columns or
            category lists that miss a category of the table.

    Example:

    ```python
    train = kx.io.read_training_table("train.csv")
    train.schema.codes        # {1: ["blue", "green", "red"]}
    ```
    """
    path = os.fspath(path)
    records, header = _records(path, name)
    cells = _cells(records, header, path, name, text_columns=None)
    text = [j for j in range(len(header)) if any(isinstance(v, str) for v in cells[:, j])]
    _check_mixed_columns(cells, header, text, _declared(categorical_features, header), path, name)
    _as_text(cells, records, text)
    if categorical_features is None:
        categorical = text
    elif isinstance(categorical_features, (list, tuple)):
        categorical = text + list(categorical_features)
    else:
        categorical = categorical_features  # refused by the schema, in its words
    schema, encoded = TableSchema.from_training(
        cells, header, categorical, categorical_names, name=name
    )
    return Table(encoded.astype(np.float32), header, schema)
