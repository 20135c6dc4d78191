"""Reading the columns of a user table: numpy arrays, object arrays of strings, DataFrames.

pandas is optional: DataFrames are recognised by their attributes.
"""

import dataclasses
import numbers

import numpy as np

from keras_explain.engine.errors import describe, fail


def raise_readable(name, expected, received):
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


def describe_table(data):
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


def read_columns(data, name):
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


def check_finite_column(name, label, values):
    count, row = _first_bad(values)
    if count:
        raise_readable(
            name,
            "finite values",
            f"{count} NaN or infinite value(s) in column {label!r} (the first in row {row})",
        )


def shown_items(items, limit=8):
    text = ", ".join(repr(v) for v in items[:limit])
    return text + (", ..." if len(items) > limit else "")


def plain_value(value):
    """numpy scalars as Python values, for messages and labels."""
    return value.item() if isinstance(value, np.generic) else value


def format_number(value):
    """A value as LIME prints a category: an integer when it is one, else %g."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return f"{value:g}"
