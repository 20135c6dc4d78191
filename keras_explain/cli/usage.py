"""What the command's parts share: its name, the option tables and usage errors."""

import argparse

from keras_explain.io.messages import one_line

PROG = "keras-explain"
FORMATS = ("png", "pdf", "npz", "html", "json")
DEFAULT_FORMATS = "png,npz,html,json"

#: Which command-line option feeds which constructor argument of a method: the
#: first parameter name the method takes, in this order. A method that takes
#: none of them refuses the option; a method that needs one requires it.
CLI_ARGUMENTS = (
    ("--background", "background", ("background",)),
    ("--training-data", "training_data", ("training_data",)),
    ("--num-samples", "num_samples", ("num_samples", "samples")),
)

#: Options given to every method that takes them, silently skipped otherwise:
#: (command-line option, constructor parameter).
AUTOMATIC_ARGUMENTS = (
    ("--seed", "random_state"),
    ("--class-names", "class_names"),
    ("the CSV header", "feature_names"),
)

#: Parameter names in error messages of the explainers, as the command calls them.
FLAG_NAMES = {
    "method": "--method",
    "targets": "--target",
    "background": "--background",
    "training_data": "--training-data",
    "num_samples": "--num-samples",
    "samples": "--num-samples",
    "random_state": "--seed",
    "batch_size": "--batch-size",
    "class_names": "--class-names",
    "preprocess": "--preprocess",
    "options": "--option",
    "x": "INPUT",
    "rows": "INPUT",
    "images": "INPUT",
}


class UsageError(Exception):
    """Bad command-line usage: reported on one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse that raises `UsageError` instead of printing usage and exiting."""

    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


def error_message(error):
    """The one line that reports `error`, its argument named as the command names it.

    An explainer's "x: expected ..." reads "INPUT: expected ...", its
    "num_samples: ..." reads "--num-samples: ...", and an `OSError` names its
    file.
    """
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        text = f"{error.filename}: {error.strerror}."
    else:
        text = one_line(error, limit=600)
    head, colon, rest = text.partition(": ")
    if colon and head in FLAG_NAMES:
        text = f"{FLAG_NAMES[head]}: {rest}"
    return text


class Printer:
    """`print` unless quiet, flushed at once so the lines interleave with progress bars."""

    def __init__(self, quiet):
        self.quiet = quiet

    def __call__(self, text=""):
        if not self.quiet:
            print(text, flush=True)


def listing(say, lines, limit=20):
    """Say `lines` indented, at most half of `limit` of them when there are more."""
    shown = lines if len(lines) <= limit else lines[: limit // 2]
    for line in shown:
        say(f"  {line}")
    if len(shown) < len(lines):
        say(f"  ... and {len(lines) - len(shown)} more (see the .json and .html files)")
