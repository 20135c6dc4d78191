"""Reference files of `explain`: `--background` and `--training-data`.

A CSV reference is read before the inputs: the first (the training data when
there is one) defines the table schema, whose categorical columns (its
columns of text, and any `--option categorical_features`) turn category
strings into codes in every table, the inputs' included. A `.npy` reference
is read after the inputs, shaped like one of them.
"""

from keras_explain import io
from keras_explain.io.messages import error

#: The reference options, the one that sets the schema first.
_REFERENCES = (("training_data", "--training-data"), ("background", "--background"))


def _input_header(paths):
    """The header of the first CSV input, or None when no input is a table."""
    for path in paths:
        if path.lower().endswith(".csv"):
            return io.read_csv_header(path, "INPUT")
    return None


def _check_columns(flag, path, columns, header):
    if header is not None and columns != header:
        raise error(
            flag,
            f"the columns of the inputs ({', '.join(header)})",
            f"'{path}' with columns ({', '.join(columns)})",
        )


def _check_rows(flag, path, rows, item_shape):
    if item_shape is not None and (
        len(item_shape) != 1 or item_shape[0] not in (None, rows.shape[1])
    ):
        raise error(flag, "an .npy file for a model that does not take table rows", f"'{path}'")


def _category_options(takes, options):
    """The categorical options of the method, which also shape the schema."""
    return {
        key: options.get(key) if key in takes else None
        for key in ("categorical_features", "categorical_names")
    }


def read_table_references(args, plan, takes, options, item_shape):
    """Read the CSV references, before the inputs.

    Args:
        args: the parsed arguments.
        plan: dict parameter -> the attribute of `args` that feeds it.
        takes: the parameters the method takes.
        options: the `--option` values.
        item_shape: the shape of one model input, or None.

    Returns:
        (dict attribute -> float32 rows, the `TableSchema` or None).
    """
    header = _input_header(args.inputs)
    tables, schema = {}, None
    for attribute, flag in _REFERENCES:
        path = getattr(args, attribute)
        if attribute not in plan.values() or not path.lower().endswith(".csv"):
            continue
        _check_columns(flag, path, io.read_csv_header(path, flag), header)
        if schema is None:
            table = io.read_training_table(path, flag, **_category_options(takes, options))
            rows, schema = table.rows, table.schema
        else:
            rows, _ = io.read_table(path, name=flag, schema=schema)
        _check_rows(flag, path, rows, item_shape)
        tables[attribute] = rows
    return tables, schema


def read_array_reference(args, attribute, item_shape):
    """A `.npy` reference, each row shaped like one model input."""
    flag = dict(_REFERENCES)[attribute]
    return io.read_array(getattr(args, attribute), item_shape, name=flag)


def category_arguments(schema, takes):
    """`categorical_features` and `categorical_names` of the schema, for a method that takes them."""
    arguments = {}
    if schema is None or not schema.categorical:
        return arguments
    if "categorical_features" in takes:
        arguments["categorical_features"] = list(schema.categorical)
    if schema.names and "categorical_names" in takes:
        arguments["categorical_names"] = {j: list(names) for j, names in schema.names.items()}
    return arguments
