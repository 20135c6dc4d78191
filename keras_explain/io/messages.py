"""The one-line error messages of the file readers and the command line.

`keras_explain.engine.errors.fail` describes a received *value*; the files
and the command line often receive something that only reads well as text
("'rows.csv', 2 columns (p, q)"), so these build the same house-style
message, "`name`: expected X, received Y.", from text.
"""


def error(name, expected, received):
    """The house-style `ValueError` when `received` is already readable text.

    Args:
        name: the argument or option at fault.
        expected: what it should have been.
        received: what it was, as text.

    Returns:
        ValueError, for the caller to raise where the problem is found.
    """
    return ValueError(f"{name}: expected {expected}, received {received}.")


def file_error(name, expected, path, detail=""):
    """The house-style `ValueError` about a file: its name in quotes, then why.

    Args:
        name: the argument or option that named the file.
        expected: what the file should have been.
        path: the file, as given.
        detail: what is wrong with it. Defaults to "" (nothing more).

    Returns:
        ValueError, for the caller to raise where the problem is found.
    """
    received = f"'{path}'" + (f", {detail}" if detail else "")
    return error(name, expected, received)


def one_line(text, limit=300):
    """The first non-empty line of `text`, shortened to `limit` characters.

    Error messages stay on one line however long the error they report.
    """
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
