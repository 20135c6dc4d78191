"""The argument parser: each command's options as a table, added in a loop."""

import argparse

from keras_explain.cli.evaluate import EVALUATE_EPILOG, FORMAT_ARGUMENT, METRIC_ARGUMENTS, run_evaluate
from keras_explain.cli.explain import run_explain
from keras_explain.cli.explain_dataset import (
    EXPLAIN_DATASET_ARGUMENTS,
    EXPLAIN_DATASET_PARSER,
    run_explain_dataset,
)
from keras_explain.cli.methods import run_methods
from keras_explain.cli.summarize import SUMMARIZE_ARGUMENTS, SUMMARIZE_PARSER, run_summarize
from keras_explain.cli.usage import DEFAULT_FORMATS, FORMATS, PROG, Parser
from keras_explain.io.images import PREPROCESSING

DESCRIPTION = (
    "Explain the predictions of a saved Keras 3 model (.keras) and write "
    "pictures, a self-contained HTML report and the raw attributions."
)
EPILOG = (
    "Run 'keras-explain explain --help' for the options of a run, "
    "'keras-explain methods' for the methods and their options."
)

EXPLAIN_EPILOG = (
    "examples:\n"
    "  keras-explain explain digits.keras three.png seven.png --method integrated_gradients\n"
    "  keras-explain explain cnn.keras cat.jpg --method gradcam --class-names classes.txt --target cat\n"
    "  keras-explain explain cnn.keras batch.npy --method deepshap --background background.npy\n"
    "  keras-explain explain mlp.keras rows.csv --method lime_tabular --training-data train.csv\n"
    "\n"
    "files written to --out, named after the method:\n"
    "  METHOD.png   contact sheet of every input (more pages: METHOD-2.png, ...)\n"
    "  METHOD.pdf   the same sheets as pages of one PDF\n"
    "  METHOD.npz   the explanation; keras_explain.Explanation.load() reads it\n"
    "  METHOD.html  a self-contained report (pictures inside, no network)\n"
    "  METHOD.json  predictions, targets and per-input summaries\n"
    "\n"
    "exit status: 0 success, 2 bad usage or input (one line on stderr), 1 unexpected failure"
)

def sample_count(text):
    """`--num-samples`: an integer, or "auto" (the methods' num_samples="auto")."""
    return "auto" if text == "auto" else int(text)


_DEBUG = (("--debug",), dict(action="store_true", help="show the traceback of an error"))

#: The arguments of `explain`, in the order --help lists them: (names, keywords).
EXPLAIN_ARGUMENTS = (
    (("model",), dict(metavar="MODEL", help="the saved model, a .keras file")),
    (
        ("inputs",),
        dict(
            metavar="INPUT",
            nargs="+",
            help="PNG/JPEG images (resized to the model's input size), .npy arrays (one input "
            "or a batch), CSV files for tabular models (header = feature names), or for models "
            "taking strings .txt files (one example per line) and CSV files with --column",
        ),
    ),
    (
        ("--method",),
        dict(required=True, metavar="NAME", help="the method: see 'keras-explain methods'"),
    ),
    (
        ("--target",),
        dict(
            metavar="N|NAME",
            help="the output to explain for every input: an index, or a class name from "
            "--class-names (default: each input's predicted class)",
        ),
    ),
    (
        ("--out", "-o"),
        dict(default="explanations", metavar="DIR", help="output folder (default: explanations)"),
    ),
    (
        ("--format",),
        dict(
            default=DEFAULT_FORMATS,
            metavar="LIST",
            help=f"comma-separated files to write, from {', '.join(FORMATS)} "
            f"(default: {DEFAULT_FORMATS})",
        ),
    ),
    (
        ("--class-names",),
        dict(
            metavar="FILE",
            help="names of the model's outputs: a text file with one per line, or a JSON list",
        ),
    ),
    (
        ("--background",),
        dict(
            metavar="FILE",
            help="reference inputs (.npy, or .csv for tables) for methods that take a "
            "background (deepshap, gradientshap)",
        ),
    ),
    (
        ("--training-data",),
        dict(
            metavar="CSV",
            help="training rows (.csv with the inputs' header, or .npy) for methods that take "
            "training data (lime_tabular); its columns of text are categories, and the inputs' "
            "categories are coded as it codes them",
        ),
    ),
    (
        ("--column",),
        dict(metavar="NAME", help="for models taking strings: the CSV column holding the texts"),
    ),
    (
        ("--num-samples",),
        dict(
            type=sample_count,
            metavar="N",
            help="samples per input for sampling methods (num_samples of LIME, samples of "
            "SmoothGrad and GradientSHAP), or auto: as many as each input needs",
        ),
    ),
    (
        ("--preprocess",),
        dict(
            metavar="{" + ",".join(PREPROCESSING) + "}",
            help="how image pixels 0..255 become inputs: none (0..255), unit (/255) or "
            "minus-one-one (/127.5 - 1); default: none for a model that starts with a Rescaling "
            "or Normalization layer, else unit; .npy and CSV inputs are used as they are",
        ),
    ),
    (
        ("--option",),
        dict(
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="any other option of the method, repeatable; VALUE is a Python literal or a "
            "string (--option steps=64 --option layer=last_conv)",
        ),
    ),
    (
        ("--seed",),
        dict(
            type=int, default=0, metavar="N", help="random_state of sampling methods (default: 0)"
        ),
    ),
    (("--batch-size",), dict(type=int, metavar="N", help="rows per model call (bounds memory)")),
    (
        ("--custom-objects",),
        dict(
            action="append",
            default=[],
            metavar="FILE.py",
            help="a Python file to import before loading the model: it registers custom layers "
            "with @keras.saving.register_keras_serializable() (or defines a CUSTOM_OBJECTS "
            "dict); repeatable",
        ),
    ),
    (
        ("--unsafe",),
        dict(
            action="store_true",
            help="load the model with safe mode off, allowing Lambda layers: this RUNS PYTHON "
            "CODE stored in the file; only for files you trust",
        ),
    ),
    (
        ("--progress",),
        dict(
            action=argparse.BooleanOptionalAction,
            default=None,
            help="show progress bars (default: when stderr is a terminal)",
        ),
    ),
    (("--quiet", "-q"), dict(action="store_true", help="print only errors")),
    _DEBUG,
)

#: The arguments of `evaluate`: those of `explain` (its own --format) and the metrics.
EVALUATE_ARGUMENTS = (
    EXPLAIN_ARGUMENTS[:3]
    + METRIC_ARGUMENTS
    + tuple(FORMAT_ARGUMENT if names == ("--format",) else (names, kw) for names, kw in EXPLAIN_ARGUMENTS[3:])
)

#: The arguments of `methods`.
METHODS_ARGUMENTS = (_DEBUG,)


def _add_arguments(parser, table):
    for names, keywords in table:
        parser.add_argument(*names, **keywords)
    return parser


#: The commands, in the order --help lists them: (name, parser keywords, arguments, run).
COMMANDS = (
    (
        "explain",
        dict(
            help="explain a saved model on image, .npy or CSV inputs",
            description="Explain a saved .keras model on input files and write the results to --out.",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=EXPLAIN_EPILOG,
        ),
        EXPLAIN_ARGUMENTS,
        run_explain,
    ),
    (
        "evaluate",
        dict(
            help="explain inputs of a saved model and score the explanation with metrics",
            description="Explain a saved .keras model on input files as explain does, score the "
            "explanation with faithfulness and sanity metrics, print a table and write JSON to --out.",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=EVALUATE_EPILOG,
        ),
        EVALUATE_ARGUMENTS,
        run_evaluate,
    ),
    ("explain-dataset", EXPLAIN_DATASET_PARSER, EXPLAIN_DATASET_ARGUMENTS, run_explain_dataset),
    ("summarize", SUMMARIZE_PARSER, SUMMARIZE_ARGUMENTS, run_summarize),
    (
        "methods",
        dict(
            help="list the methods and their options",
            description="List the registered methods, the command-line options they take and "
            "their other options (for --option NAME=VALUE).",
        ),
        METHODS_ARGUMENTS,
        run_methods,
    ),
)


def command_names():
    """The commands' names, as an error message lists them: "explain, evaluate, ... or methods"."""
    names = [name for name, *_ in COMMANDS]
    return ", ".join(names[:-1]) + " or " + names[-1]


def build_parser():
    """The argument parser of `keras-explain`, one subcommand per row of `COMMANDS`."""
    from keras_explain import __version__

    parser = Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, keywords, arguments, run in COMMANDS:
        _add_arguments(commands.add_parser(name, **keywords), arguments).set_defaults(run=run)
    return parser
