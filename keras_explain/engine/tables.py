"""Tables: reading user tables (numpy, object arrays of strings, DataFrames).

* `TableSchema`: the column names, which columns are categorical and how
  categories reach the model. Numeric columns go to the model as they are.
  A categorical column of strings (or a pandas categorical column) goes to
  the model as integer codes: the position of each category in
  `categorical_names[column]` when given, else in the pandas categories,
  else in the sorted list of the strings seen in the training data. The
  schema encodes user tables (numpy, including object arrays of strings, or
  pandas DataFrames) into float64 arrays and checks them, naming the column
  at fault.

pandas is optional: DataFrames are recognised by their attributes.
"""

import dataclasses
import numbers

import numpy as np

from keras_explain.engine.errors import describe, fail


def _raise(name, expected, received):
    """The house-style message when `received` is already readable text."""
    raise ValueError(f"{name}: expected {expected}, received {received}.")


def is_dataframe(data):
    """True for a pandas DataFrame (recognised by its attributes; pandas is optional)."""
    return hasattr(data, "columns") and hasattr(data, "iloc") and hasattr(data, "dtypes")


def _is_missing(value):
    if value is None:
        return True
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return not np.isfinite(float(value))
    try:  # pandas.NA, pandas.NaT
        return bool(value != value)
    except (TypeError, ValueError):
        return True


def _describe_table(data):
    if is_dataframe(data):
        return f"a DataFrame of shape {tuple(data.shape)}"
    return describe(data)


@dataclasses.dataclass
class _Column:
    """One column as read from a user table.

    kind: "numeric" (values float64), "text" (values object, any str among
    them) or "category" (a pandas categorical; values object, `categories`
    the pandas categories in code order).
    """

    kind: str
    values: np.ndarray
    categories: list = None


def _read_series(series):
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _Column("category", series.astype(object).to_numpy(), list(dtype.categories))
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return _Column("numeric", series.to_numpy(dtype=np.float64, na_value=np.nan))
    return _read_values(series.to_numpy(dtype=object))


def _read_values(values):
    values = np.asarray(values)
    if values.dtype.kind in "biuf":
        return _Column("numeric", values.astype(np.float64))
    if values.dtype.kind in "US":
        return _Column("text", values.astype(object))
    values = values.astype(object)
    if any(isinstance(v, (str, bytes)) for v in values):
        return _Column("text", values)
    try:
        numbers = [np.nan if _is_missing(v) else v for v in values]
        return _Column("numeric", np.array(numbers, dtype=np.float64))
    except (TypeError, ValueError):
        return _Column("text", values)


def _read_table(data, name):
    """(column keys, [_Column], is_frame) of a 2-D table."""
    if is_dataframe(data):
        if data.shape[0] == 0 or data.shape[1] == 0:
            fail(name, "a non-empty table of shape (N, n_features)", data)
        columns = [_read_series(data.iloc[:, j]) for j in range(data.shape[1])]
        return list(data.columns), columns, True
    if hasattr(data, "numpy") and hasattr(data, "dtype") and not isinstance(data, np.ndarray):
        data = data.numpy()  # tf.Tensor
    try:
        array = np.asarray(data)
    except ValueError:
        fail(name, "a rectangular table of shape (N, n_features)", data)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        fail(name, "a non-empty table of shape (N, n_features)", array)
    if array.dtype.kind not in "biufUSO":
        fail(name, "a table of numbers or category strings", array)
    columns = [_read_values(array[:, j]) for j in range(array.shape[1])]
    return list(range(array.shape[1])), columns, False


def _first_bad(values):
    """(count, first row) of missing or infinite entries of a column."""
    if values.dtype.kind == "f":
        bad = ~np.isfinite(values)
    else:
        bad = np.array([_is_missing(v) for v in values], dtype=bool)
    rows = np.flatnonzero(bad)
    return len(rows), (int(rows[0]) if len(rows) else None)


def _check_finite_column(name, label, values):
    count, row = _first_bad(values)
    if count:
        _raise(
            name,
            "finite values",
            f"{count} NaN or infinite value(s) in column {label!r} (the first in row {row})",
        )


def _shown(items, limit=8):
    text = ", ".join(repr(v) for v in items[:limit])
    return text + (", ..." if len(items) > limit else "")


def _plain(value):
    """numpy scalars as Python values, for messages and labels."""
    return value.item() if isinstance(value, np.generic) else value


def format_number(value):
    """A value as LIME prints a category: an integer when it is one, else %g."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return f"{value:g}"


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
        keys, columns, from_frame = _read_table(data, name)
        size = len(columns)
        if feature_names is None:
            display = [str(k) for k in keys]
        else:
            expected = f"a list of {size} names, one per column of training_data"
            if isinstance(feature_names, str) or not hasattr(feature_names, "__len__"):
                fail("feature_names", expected, feature_names)
            display = [str(v) for v in feature_names]
            if len(display) != size:
                fail("feature_names", expected, feature_names)
        lookup = _ColumnLookup(keys, display)
        categorical = lookup.indices("categorical_features", categorical_features)
        names = {}
        if categorical_names is not None:
            if not isinstance(categorical_names, dict):
                fail(
                    "categorical_names", "a dict column -> list of category names", categorical_names
                )
            for key, value in categorical_names.items():
                index = lookup.index("categorical_names", key)
                if isinstance(value, str) or not hasattr(value, "__len__"):
                    expected = f"a list of category names for column {display[index]!r}"
                    fail("categorical_names", expected, value)
                names[index] = [_plain(v) for v in value]
        schema = cls(keys, from_frame, display, categorical, {}, {})
        encoded = np.empty((len(columns[0].values), size), dtype=np.float64)
        for j, column in enumerate(columns):
            label = display[j]
            if j not in schema.categorical:
                encoded[:, j] = schema._continuous(name, label, column)
                continue
            _check_finite_column(name, label, column.values)
            if column.kind == "numeric":
                encoded[:, j] = column.values
                if j in names:
                    schema.names[j] = [str(v) for v in names[j]]
                continue
            if j in names:
                order = names[j]
            elif column.kind == "category":
                order = [_plain(v) for v in column.categories]
            else:
                order = sorted({_plain(v) for v in column.values}, key=lambda v: (str(type(v)), v))
            schema.codes[j] = order
            schema.names[j] = [str(v) for v in order]
            position = {v: k for k, v in enumerate(order)}
            for row, value in enumerate(column.values):
                value = _plain(value)
                if value not in position:
                    raise ValueError(
                        f"categorical_names: expected every category of column {label!r} in "
                        f"training_data, received a list without {value!r} (row {row})."
                    )
            encoded[:, j] = [position[_plain(v)] for v in column.values]
        for j in schema.categorical:
            schema.seen[j] = np.unique(encoded[:, j])
        return schema, encoded

    def _continuous(self, name, label, column):
        if column.kind == "category":
            _raise(
                name,
                f"numbers in column {label!r}",
                "a pandas categorical column; declare it in categorical_features",
            )
        if column.kind == "text":
            example = next(v for v in column.values if isinstance(v, (str, bytes)))
            _raise(
                name,
                f"numbers in column {label!r}",
                f"strings such as {_plain(example)!r}; declare it in categorical_features",
            )
        _check_finite_column(name, label, column.values)
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
            columns = [_plain(c) for c in data.columns]
            by_name = [str(c) for c in columns]
            names = self.feature_names
            if all(feature in by_name for feature in names) and len(set(by_name)) == len(by_name):
                data = data.iloc[:, [by_name.index(feature) for feature in names]]
            elif self.from_frame:
                missing = [k for k in self.keys if _plain(k) not in columns]
                if missing:
                    _raise(
                        name,
                        "the columns of training_data",
                        f"a DataFrame without column {_plain(missing[0])!r}",
                    )
                data = data[self.keys]
        size = self.num_features
        shape = getattr(data, "shape", None)
        if shape is not None and len(shape) == 1 and shape[0] == size:
            _raise(
                name,
                f"a table of shape (N, {size})",
                f"{_describe_table(data)} (a single row needs a batch dimension: pass row[None])",
            )
        keys, columns, _ = _read_table(data, name)
        if len(columns) != size:
            _raise(
                name, f"a table of shape (N, {size}), one column per feature", _describe_table(data)
            )
        encoded = np.empty((len(columns[0].values), size), dtype=np.float64)
        for j, column in enumerate(columns):
            label = self.feature_names[j]
            if j not in self.categorical:
                encoded[:, j] = self._continuous(name, label, column)
                continue
            _check_finite_column(name, label, column.values)
            if column.kind == "numeric":
                values = column.values
            elif j in self.codes:
                position = {v: k for k, v in enumerate(self.codes[j])}
                values = np.empty(len(column.values))
                for row, value in enumerate(column.values):
                    value = _plain(value)
                    if value not in position:
                        self._unseen(name, j, value, row)
                    values[row] = position[value]
            else:
                # Category strings in a numeric categorical column: none can be seen.
                self._unseen(name, j, _plain(column.values[0]), 0)
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
            known = [_plain(v) for v in self.seen[j]]
            known = [int(v) if float(v).is_integer() else v for v in known]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
        _raise(
            name,
            f"a category of column {self.feature_names[j]!r} seen in training_data "
            f"({_shown(known)})",
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
        _raise(
            argument,
            f"column indices (0 to {size - 1}) or names of training_data ({_shown(self.names, 5)})",
            repr(_plain(key)),
        )

    def indices(self, argument, keys):
        if keys is None:
            return ()
        if isinstance(keys, (str, numbers.Integral)) or not hasattr(keys, "__iter__"):
            fail(argument, "a list of column indices or names", keys)
        return tuple(sorted({self.index(argument, k) for k in keys}))


# -- training statistics ------------------------------------------------------
