"""Tables: how a user table's columns reach the model (`TableSchema`).

* `TableSchema`: the column names, which columns are categorical and how
  categories reach the model. Numeric columns go to the model as they are.
  A categorical column of strings (or a pandas categorical column) goes to
  the model as integer codes: the position of each category in
  `categorical_names[column]` when given, else in the pandas categories,
  else in the sorted list of the strings seen in the training data. The
  schema encodes user tables (numpy, including object arrays of strings, or
  pandas DataFrames) into float64 arrays and checks them, naming the column
  at fault.

The columns themselves are read in `table_columns.py`.
"""

import numbers

import numpy as np

from keras_explain.engine.errors import fail
from keras_explain.engine.table_columns import (  # noqa: F401  (is_dataframe is public here too)
    check_finite_column,
    describe_table,
    format_number,
    is_dataframe,
    plain_value,
    raise_readable,
    read_columns,
    shown_items,
)


class TableSchema:
    """Column names, categorical columns and category codes of a table.

    Build it with `TableSchema.from_training`, which also returns the encoded
    training data.

    Attributes:
        keys: the column keys (DataFrame columns, or 0 .. F-1 for arrays).
        from_frame: True when the training data was a DataFrame.
        feature_names: display names, one per column.
        categorical: sorted tuple of the categorical column indices.
        codes: dict column -> list of the categories in code order, for the
            columns whose categories are strings or pandas categories.
        names: dict column -> list of display names indexed by code (LIME's
            `categorical_names`), for columns that have them.
        seen: dict column -> sorted float64 array of the encoded values seen
            in the training data, for every categorical column.
    """

    def __init__(self, keys, from_frame, feature_names, categorical, codes, names):
        self.keys = list(keys)
        self.from_frame = bool(from_frame)
        self.feature_names = list(feature_names)
        self.categorical = tuple(sorted(categorical))
        self.codes = dict(codes)
        self.names = dict(names)
        self.seen = {}

    @property
    def num_features(self):
        return len(self.feature_names)

    # -- building from the training data ----------------------------------

    @classmethod
    def from_training(
        cls, data, feature_names=None, categorical_features=None, categorical_names=None,
        name="training_data",
    ):
        """The schema of `data` and `data` encoded as float64 (N, F).

        Args:
            data: numpy array (numbers, or objects with category strings) or
                pandas DataFrame, shape (N, F).
            feature_names: F display names. Defaults to the DataFrame's
                columns, or "0", "1", ... for arrays.
            categorical_features: categorical columns, by index or by name
                (a DataFrame column or a feature name). Defaults to none.
            categorical_names: dict column (index or name) -> list of
                category names indexed by code. Defaults to None.
            name: argument name for messages.

        Returns:
            (TableSchema, np.ndarray float64 (N, F)).

        Raises:
            ValueError: naming the argument and the column, for missing or
                infinite values, undeclared string columns, unknown columns
                or names of the wrong length.
        """
        keys, columns, from_frame = read_columns(data, name)
        display = _display_names(feature_names, keys)
        lookup = _ColumnLookup(keys, display)
        categorical = lookup.indices("categorical_features", categorical_features)
        names = _category_names(categorical_names, lookup, display)
        schema = cls(keys, from_frame, display, categorical, {}, {})
        encoded = np.empty((len(columns[0].values), len(columns)), dtype=np.float64)
        for j, column in enumerate(columns):
            if j in schema.categorical:
                encoded[:, j] = schema._categorical(name, j, column, names.get(j))
            else:
                encoded[:, j] = schema._continuous(name, display[j], column)
        for j in schema.categorical:
            schema.seen[j] = np.unique(encoded[:, j])
        return schema, encoded

    def _categorical(self, name, j, column, given):
        """Column j's codes; records its categories (`given` names, if any)."""
        label = self.feature_names[j]
        check_finite_column(name, label, column.values)
        if column.kind == "numeric":
            if given is not None:
                self.names[j] = [str(v) for v in given]
            return column.values
        if given is not None:
            order = given
        elif column.kind == "category":
            order = [plain_value(v) for v in column.categories]
        else:
            order = sorted({plain_value(v) for v in column.values}, key=lambda v: (str(type(v)), v))
        self.codes[j] = order
        self.names[j] = [str(v) for v in order]
        position = {v: k for k, v in enumerate(order)}
        for row, value in enumerate(column.values):
            if plain_value(value) not in position:
                raise ValueError(
                    f"categorical_names: expected every category of column {label!r} in "
                    f"training_data, received a list without {plain_value(value)!r} (row {row})."
                )
        return [position[plain_value(v)] for v in column.values]

    def _continuous(self, name, label, column):
        if column.kind == "category":
            raise_readable(
                name,
                f"numbers in column {label!r}",
                "a pandas categorical column; declare it in categorical_features",
            )
        if column.kind == "text":
            example = next(v for v in column.values if isinstance(v, (str, bytes)))
            raise_readable(
                name,
                f"numbers in column {label!r}",
                f"strings such as {plain_value(example)!r}; declare it in categorical_features",
            )
        check_finite_column(name, label, column.values)
        return column.values

    # -- encoding rows ----------------------------------------------------

    def encode(self, data, name="rows"):
        """Encode a table with the training columns into float64 (N, F).

        A DataFrame is matched by column name when its columns include every
        feature name (or every column of a training DataFrame; other columns
        are ignored); anything else by position. String (or pandas
        categorical) values of categorical columns become their codes;
        numbers in such columns are taken as codes.

        Raises:
            ValueError: naming `name` and the column, for a wrong number of
                columns, a missing column, NaN or infinity, strings in a
                numeric column, or a category not seen in the training data.
        """
        if is_dataframe(data):
            columns = [plain_value(c) for c in data.columns]
            by_name = [str(c) for c in columns]
            names = self.feature_names
            if all(feature in by_name for feature in names) and len(set(by_name)) == len(by_name):
                data = data.iloc[:, [by_name.index(feature) for feature in names]]
            elif self.from_frame:
                missing = [k for k in self.keys if plain_value(k) not in columns]
                if missing:
                    raise_readable(
                        name,
                        "the columns of training_data",
                        f"a DataFrame without column {plain_value(missing[0])!r}",
                    )
                data = data[self.keys]
        size = self.num_features
        shape = getattr(data, "shape", None)
        if shape is not None and len(shape) == 1 and shape[0] == size:
            raise_readable(
                name,
                f"a table of shape (N, {size})",
                f"{describe_table(data)} (a single row needs a batch dimension: pass row[None])",
            )
        keys, columns, _ = read_columns(data, name)
        if len(columns) != size:
            raise_readable(
                name, f"a table of shape (N, {size}), one column per feature", describe_table(data)
            )
        encoded = np.empty((len(columns[0].values), size), dtype=np.float64)
        for j, column in enumerate(columns):
            label = self.feature_names[j]
            if j not in self.categorical:
                encoded[:, j] = self._continuous(name, label, column)
                continue
            check_finite_column(name, label, column.values)
            if column.kind == "numeric":
                values = column.values
            elif j in self.codes:
                position = {v: k for k, v in enumerate(self.codes[j])}
                values = np.empty(len(column.values))
                for row, value in enumerate(column.values):
                    value = plain_value(value)
                    if value not in position:
                        self._unseen(name, j, value, row)
                    values[row] = position[value]
            else:
                # Category strings in a numeric categorical column: none can be seen.
                self._unseen(name, j, plain_value(column.values[0]), 0)
            unseen = ~np.isin(values, self.seen[j])
            if np.any(unseen):
                row = int(np.flatnonzero(unseen)[0])
                value = values[row]
                self._unseen(name, j, float(value) if j not in self.codes else value, row)
            encoded[:, j] = values
        return encoded

    def _unseen(self, name, j, value, row):
        if j in self.codes:
            known = self.codes[j]
            if isinstance(value, float) and value.is_integer() and 0 <= value < len(known):
                value = known[int(value)]
        else:
            known = [plain_value(v) for v in self.seen[j]]
            known = [int(v) if float(v).is_integer() else v for v in known]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
        raise_readable(
            name,
            f"a category of column {self.feature_names[j]!r} seen in training_data "
            f"({shown_items(known)})",
            f"{value!r} in row {row}",
        )

    # -- decoding for people ------------------------------------------------

    def value_text(self, j, value):
        """How the encoded value of column j reads: a category name or a number."""
        names = self.names.get(j)
        if names is not None and float(value).is_integer() and 0 <= value < len(names):
            return str(names[int(value)])
        if j in self.categorical:
            return format_number(value)
        return f"{float(value):.2f}"

    def decode_values(self, encoded):
        """The values of an encoded table as text (N, F): categories by name."""
        out = np.empty(encoded.shape, dtype=object)
        for j in range(encoded.shape[1]):
            out[:, j] = [self.value_text(j, v) for v in encoded[:, j]]
        return out.astype(str)

    def to_config(self):
        """(feature_names, categorical indices, categorical_names) to rebuild the schema."""
        names = {j: list(self.codes[j]) for j in self.codes}
        for j, value in self.names.items():
            names.setdefault(j, list(value))
        return self.feature_names, list(self.categorical), names or None

    def decode_table(self, encoded):
        """An encoded table back in the user's terms: an object array with category values."""
        out = encoded.astype(object)
        for j, order in self.codes.items():
            out[:, j] = [order[int(v)] for v in encoded[:, j]]
        return out


def _display_names(feature_names, keys):
    """The display name of every column: `feature_names`, or the column keys."""
    if feature_names is None:
        return [str(k) for k in keys]
    expected = f"a list of {len(keys)} names, one per column of training_data"
    if isinstance(feature_names, str) or not hasattr(feature_names, "__len__"):
        fail("feature_names", expected, feature_names)
    display = [str(v) for v in feature_names]
    if len(display) != len(keys):
        fail("feature_names", expected, feature_names)
    return display


def _category_names(categorical_names, lookup, display):
    """dict column index -> category names, from the user's `categorical_names`."""
    names = {}
    if categorical_names is None:
        return names
    if not isinstance(categorical_names, dict):
        fail("categorical_names", "a dict column -> list of category names", categorical_names)
    for key, value in categorical_names.items():
        index = lookup.index("categorical_names", key)
        if isinstance(value, str) or not hasattr(value, "__len__"):
            fail("categorical_names", f"a list of category names for column {display[index]!r}", value)
        names[index] = [plain_value(v) for v in value]
    return names


class _ColumnLookup:
    """Resolve a column given by index, DataFrame key or feature name."""

    def __init__(self, keys, names):
        self.keys, self.names = keys, names

    def index(self, argument, key):
        size = len(self.keys)
        if isinstance(key, (numbers.Integral, np.integer)) and not isinstance(key, bool):
            if key in self.keys and not all(isinstance(k, numbers.Integral) for k in self.keys):
                return self.keys.index(key)
            if 0 <= int(key) < size:
                return int(key)
            if -size <= int(key) < 0:
                return int(key) + size
        elif key in self.keys:
            return self.keys.index(key)
        elif isinstance(key, str) and key in self.names:
            return self.names.index(key)
        raise_readable(
            argument,
            f"column indices (0 to {size - 1}) or names of training_data ({shown_items(self.names, 5)})",
            repr(plain_value(key)),
        )

    def indices(self, argument, keys):
        if keys is None:
            return ()
        if isinstance(keys, (str, numbers.Integral)) or not hasattr(keys, "__iter__"):
            fail(argument, "a list of column indices or names", keys)
        return tuple(sorted({self.index(argument, k) for k in keys}))


# -- training statistics ------------------------------------------------------
