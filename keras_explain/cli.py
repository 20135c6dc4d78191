"""The `keras-explain` command: explain a saved `.keras` model on files.

```sh
keras-explain explain digits.keras three.png seven.png --method integrated_gradients \\
    --class-names classes.txt --out explanations
keras-explain explain patients.keras rows.csv --method lime_tabular --training-data train.csv
keras-explain methods
python -m keras_explain --help
```

`explain` loads the model with `kx.load_model` (safe mode), reads the inputs
(PNG/JPEG images resized to the model's input, `.npy` arrays, CSV rows whose
header names the features), runs the method chosen by name through the
registry, and writes `METHOD.png` (a contact sheet), `METHOD.pdf`,
`METHOD.npz` (`kx.Explanation.load` reads it), `METHOD.html` (a
self-contained report) and `METHOD.json` (predictions and summaries) to
`--out`.

Exit status: 0 on success, 2 for bad usage or input with one line on stderr
("keras-explain: error: ..."), 1 for an unexpected failure; `--debug`
re-raises the error with its traceback. Arguments and files are checked
before TensorFlow is imported where the package allows it.
"""

import argparse
import ast
import inspect
import json
import os
import sys
import time

import numpy as np

from keras_explain import io

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
_FLAG_NAMES = {
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


class _Parser(argparse.ArgumentParser):
    """argparse that raises `UsageError` instead of printing usage and exiting."""

    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


def _fail(name, expected, received):
    raise ValueError(f"{name}: expected {expected}, received {received}.")


# -- argument parsing --------------------------------------------------------------


def build_parser():
    """The argument parser of `keras-explain` (commands `explain` and `methods`)."""
    from keras_explain import __version__

    parser = _Parser(
        prog=PROG,
        description="Explain the predictions of a saved Keras 3 model (.keras) and write "
        "pictures, a self-contained HTML report and the raw attributions.",
        epilog="Run 'keras-explain explain --help' for the options of a run, "
        "'keras-explain methods' for the methods and their options.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    explain = commands.add_parser(
        "explain",
        help="explain a saved model on image, .npy or CSV inputs",
        description="Explain a saved .keras model on input files and write the results to --out.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
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
        ),
    )
    explain.add_argument("model", metavar="MODEL", help="the saved model, a .keras file")
    explain.add_argument(
        "inputs",
        metavar="INPUT",
        nargs="+",
        help="PNG/JPEG images (resized to the model's input size), .npy arrays (one input "
        "or a batch), or CSV files for tabular models (header = feature names)",
    )
    explain.add_argument(
        "--method", required=True, metavar="NAME", help="the method: see 'keras-explain methods'"
    )
    explain.add_argument(
        "--target",
        metavar="N|NAME",
        help="the output to explain for every input: an index, or a class name from "
        "--class-names (default: each input's predicted class)",
    )
    explain.add_argument(
        "--out",
        "-o",
        default="explanations",
        metavar="DIR",
        help="output folder (default: explanations)",
    )
    explain.add_argument(
        "--format",
        default=DEFAULT_FORMATS,
        metavar="LIST",
        help=f"comma-separated files to write, from {', '.join(FORMATS)} (default: {DEFAULT_FORMATS})",
    )
    explain.add_argument(
        "--class-names",
        metavar="FILE",
        help="names of the model's outputs: a text file with one per line, or a JSON list",
    )
    explain.add_argument(
        "--background",
        metavar="FILE",
        help="reference inputs (.npy, or .csv for tables) for methods that take a background "
        "(deepshap, gradientshap)",
    )
    explain.add_argument(
        "--training-data",
        metavar="CSV",
        help="training rows (.csv with the inputs' header, or .npy) for methods that take "
        "training data (lime_tabular)",
    )
    explain.add_argument(
        "--num-samples",
        type=int,
        metavar="N",
        help="samples per input for sampling methods (num_samples of LIME, samples of "
        "SmoothGrad and GradientSHAP)",
    )
    explain.add_argument(
        "--preprocess",
        metavar="{" + ",".join(io.PREPROCESSING) + "}",
        help="how image pixels 0..255 become inputs: none (0..255), unit (/255, the default) "
        "or minus-one-one (/127.5 - 1); .npy and CSV inputs are used as they are",
    )
    explain.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other option of the method, repeatable; VALUE is a Python literal or a "
        "string (--option steps=64 --option layer=last_conv)",
    )
    explain.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="random_state of sampling methods (default: 0)",
    )
    explain.add_argument(
        "--batch-size", type=int, metavar="N", help="rows per model call (bounds memory)"
    )
    explain.add_argument(
        "--custom-objects",
        action="append",
        default=[],
        metavar="FILE.py",
        help="a Python file to import before loading the model: it registers custom layers "
        "with @keras.saving.register_keras_serializable() (or defines a CUSTOM_OBJECTS dict); "
        "repeatable",
    )
    explain.add_argument(
        "--unsafe",
        action="store_true",
        help="load the model with safe mode off, allowing Lambda layers: this RUNS PYTHON CODE "
        "stored in the file; only for files you trust",
    )
    explain.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars (default: when stderr is a terminal)",
    )
    explain.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    explain.add_argument("--debug", action="store_true", help="show the traceback of an error")
    explain.set_defaults(run=run_explain)

    methods = commands.add_parser(
        "methods",
        help="list the methods and their options",
        description="List the registered methods, the command-line options they take and "
        "their other options (for --option NAME=VALUE).",
    )
    methods.add_argument("--debug", action="store_true", help="show the traceback of an error")
    methods.set_defaults(run=run_methods)
    return parser


def main(argv=None):
    """Run `keras-explain` with `argv` (default: the process arguments).

    Args:
        argv: list of str, the arguments after the program name. Defaults to
            None (`sys.argv[1:]`).

    Returns:
        int, the exit status: 0 success, 2 bad usage or input, 1 an
        unexpected failure. With `--debug` errors are re-raised instead.

    Example:

    ```python
    from keras_explain.cli import main
    main(["explain", "model.keras", "cat.png", "--method", "saliency", "--out", "out"])
    ```
    """
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise UsageError(
                f"expected a command, explain or methods, received none (see {PROG} --help)"
            )
        return args.run(args)
    except SystemExit as stop:  # --help and --version
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (UsageError, ValueError, OSError) as error:
        if debug:
            raise
        print(f"{PROG}: error: {_message(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - one line instead of a traceback
        if debug:
            raise
        print(
            f"{PROG}: error: {type(error).__name__}: {_message(error)} "
            f"(run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


def _message(error):
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        text = f"{error.filename}: {error.strerror}."
    else:
        text = io._one_line(error, limit=600)
    head, colon, rest = text.partition(": ")
    if colon and head in _FLAG_NAMES:
        text = f"{_FLAG_NAMES[head]}: {rest}"
    return text


# -- explain -------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on stderr: `label [#####.....] 5/10`.

    Args:
        label: what is counted.
        total: the count at the end.
        enabled: draw it at all.
        stream: where to draw. Defaults to sys.stderr.
    """

    width = 30

    def __init__(self, label, total, enabled, stream=None):
        self.label, self.total, self.done = label, int(total), 0
        self.enabled = bool(enabled) and self.total > 0
        self.stream = stream or sys.stderr
        self._draw()

    def __call__(self, count=1):
        self.done = min(self.total, self.done + count)
        self._draw()

    def _draw(self):
        if not self.enabled:
            return
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False


def _formats(text):
    chosen = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in FORMATS]
    if not chosen or unknown:
        _fail("--format", f"a comma-separated list of {', '.join(FORMATS)}", repr(text))
    return list(dict.fromkeys(chosen))


def _options(pairs):
    options = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            _fail("--option", "NAME=VALUE", repr(pair))
        try:
            options[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[name] = value
    return options


def _target(text):
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _check_data_file(path, flag, suffixes):
    if not os.path.isfile(path):
        _fail(flag, "an existing file", f"'{path}', which does not exist")
    if not path.lower().endswith(suffixes):
        _fail(flag, f"a {' or '.join(suffixes)} file", f"'{path}'")


def _check_out(path):
    if os.path.exists(path) and not os.path.isdir(path):
        _fail("--out", "a folder", f"'{path}', which is a file")


def _check_files(args):
    """Everything that can be checked before importing TensorFlow."""
    formats = _formats(args.format)
    options = _options(args.option)
    for flag, _, names in CLI_ARGUMENTS:
        for name in names:
            if name in options:
                _fail("--option", f"options other than {name}, which {flag} sets", repr(name))
    for name in ("random_state", "verbose"):
        if name in options:
            flag = "--seed" if name == "random_state" else "--progress/--quiet"
            _fail("--option", f"options other than {name}, which {flag} sets", repr(name))
    if args.num_samples is not None and args.num_samples < 1:
        _fail("--num-samples", "an integer >= 1", args.num_samples)
    if args.batch_size is not None and args.batch_size < 1:
        _fail("--batch-size", "an integer >= 1", args.batch_size)
    if args.seed < 0:
        _fail("--seed", "an integer >= 0", args.seed)
    if args.preprocess is not None and args.preprocess not in io.PREPROCESSING:
        _fail("--preprocess", f"one of {', '.join(io.PREPROCESSING)}", repr(args.preprocess))
    model = io.check_model_file(args.model, "MODEL")
    kinds = io.check_input_files(args.inputs, "INPUT")
    if args.preprocess is not None and "image" not in kinds:
        _fail(
            "--preprocess",
            "image inputs (PNG or JPEG) to preprocess",
            "only .npy arrays and .csv tables, which are used as they are",
        )
    for path in args.custom_objects:
        if not os.path.isfile(path):
            _fail("--custom-objects", "a Python file (.py)", f"'{path}', which does not exist")
        if not path.endswith(".py"):
            _fail("--custom-objects", "a Python file (.py)", f"'{path}'")
    class_names = (
        io.read_class_names(args.class_names, "--class-names") if args.class_names else None
    )
    if args.background is not None:
        _check_data_file(args.background, "--background", (".npy", ".csv"))
    if args.training_data is not None:
        _check_data_file(args.training_data, "--training-data", (".csv", ".npy"))
    _check_out(args.out)
    return formats, options, model, class_names


def _method_plan(method, args, options):
    """Constructor arguments fed by command-line options, checked against the method.

    Returns:
        dict parameter -> the command-line attribute holding its value.
    """
    from keras_explain import api as registry

    names = registry.method_options(method)
    takes = set(names["constructor"]) | set(names["explain"])
    signature = inspect.signature(registry.explainer_class(method).__init__)
    required = [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in ("self", "model", "explainer")
    ]
    plan = {}
    for flag, attribute, parameters in CLI_ARGUMENTS:
        parameter = next((p for p in parameters if p in takes), None)
        given = getattr(args, attribute) is not None
        if given and parameter is None:
            users = [m for m in registry.available_methods() if set(parameters) & _takes(m)]
            _fail(
                flag,
                f"a method that takes it ({', '.join(users) or 'none is registered'})",
                f"--method {method}, which does not",
            )
        if parameter is not None and given:
            plan[parameter] = attribute
    for parameter in required:
        if parameter in plan or parameter in options:
            continue
        flag = next((f for f, _, ps in CLI_ARGUMENTS if parameter in ps), None)
        if flag is not None:
            what = {
                "--background": "a .npy or .csv file of reference inputs",
                "--training-data": "a .csv file of training rows",
            }.get(flag, "a value")
            _fail(flag, f"{what}, which --method {method} needs", "none")
        _fail("--option", f"{parameter}=VALUE, which --method {method} needs", "none")
    return plan, takes


def _takes(method):
    from keras_explain import api as registry

    names = registry.method_options(method)
    return set(names["constructor"]) | set(names["explain"])


def _read_reference(path, flag, item_shape, header):
    if path.lower().endswith(".csv"):
        rows, columns = io.read_table(path, name=flag)
        if header is not None and columns != header:
            _fail(
                flag,
                f"the columns of the inputs ({', '.join(header)})",
                f"'{path}' with columns ({', '.join(columns)})",
            )
        if item_shape is not None and (
            len(item_shape) != 1 or item_shape[0] not in (None, rows.shape[1])
        ):
            _fail(flag, "an .npy file for a model that does not take table rows", f"'{path}'")
        return rows
    return io.read_array(path, item_shape, name=flag)


def _resolve_target(target, class_names, outputs):
    if target is None:
        return None
    if isinstance(target, str):
        if class_names is None:
            _fail(
                "--target",
                "an output index (an integer)",
                f"'{target}'; pass --class-names to name the outputs",
            )
        if target not in class_names:
            shown = ", ".join(repr(n) for n in class_names[:10]) + (
                ", ..." if len(class_names) > 10 else ""
            )
            _fail("--target", f"an output index or one of the class names ({shown})", f"'{target}'")
        return class_names.index(target)
    if outputs is not None and not 0 <= target < outputs:
        _fail("--target", f"an output index between 0 and {outputs - 1}", target)
    return target


class _Printer:
    def __init__(self, quiet):
        self.quiet = quiet

    def __call__(self, text=""):
        if not self.quiet:
            print(text, flush=True)


def run_explain(args):
    """The `explain` command; returns the exit status."""
    started = time.perf_counter()
    say = _Printer(args.quiet)
    formats, options, model_path, class_names = _check_files(args)
    show_progress = args.progress if args.progress is not None else sys.stderr.isatty()
    show_progress = show_progress and not args.quiet
    target = _target(args.target)
    if isinstance(target, str) and class_names is None:
        _resolve_target(target, None, None)

    # TensorFlow from here on.
    from keras_explain.engine import model as model_info
    from keras_explain import api as registry

    method = registry.explainer_class(args.method).method
    plan, takes = _method_plan(method, args, options)
    custom = {}
    for path in args.custom_objects:
        custom.update(io.import_custom_objects(path, "--custom-objects"))
    if args.unsafe:
        print(
            f"{PROG}: warning: --unsafe: loading {os.path.basename(model_path)} with safe mode off "
            "runs Python code stored in it",
            file=sys.stderr,
        )
    model = io._load_model(
        model_path, custom_objects=custom or None, safe_mode=not args.unsafe, name="MODEL", cli=True
    )
    input_shape = model_info.input_shape(model)
    outputs = model_info.static_output_size(model, options.get("output"))
    shape_text = io._shape_text(input_shape) if input_shape is not None else "(not declared)"
    say(
        f"{PROG}: model {os.path.basename(model_path)}: {model.name!r}, input {shape_text}, "
        f"{outputs if outputs is not None else 'unknown'} output{'s' if outputs != 1 else ''}"
    )
    if class_names is not None and outputs is not None and len(class_names) != outputs:
        _fail(
            "--class-names",
            f"{outputs} names, one per model output",
            f"{len(class_names)} in '{args.class_names}'",
        )
    target = _resolve_target(target, class_names, outputs)

    bar = Progress("reading inputs", len(args.inputs), show_progress)
    inputs = io.read_inputs(args.inputs, input_shape, args.preprocess, name="INPUT", progress=bar)
    bar.close()
    say(
        f"{PROG}: {len(inputs.x)} input{'s' if len(inputs.x) != 1 else ''} "
        f"{io._shape_text((None,) + inputs.x.shape[1:])} float32"
    )
    _list(say, [f"{n}: {note}" for n, note in zip(inputs.names, inputs.notes)])

    item_shape = None if input_shape is None else input_shape[1:]
    arguments = dict(options)
    for parameter, attribute in plan.items():
        if attribute == "background":
            arguments[parameter] = _read_reference(
                args.background, "--background", item_shape, inputs.feature_names
            )
        elif attribute == "training_data":
            arguments[parameter] = _read_reference(
                args.training_data, "--training-data", item_shape, inputs.feature_names
            )
        else:
            arguments[parameter] = getattr(args, attribute)
    if "random_state" in takes:
        arguments["random_state"] = args.seed
    if class_names is not None and "class_names" in takes:
        arguments.setdefault("class_names", class_names)
    if inputs.feature_names is not None and "feature_names" in takes:
        arguments.setdefault("feature_names", inputs.feature_names)
    if args.batch_size is not None:
        arguments["batch_size"] = args.batch_size
    arguments["verbose"] = 1 if show_progress else 0

    explainer, call = registry.build_explainer(model, method, **arguments)
    start = time.perf_counter()
    explanation = explainer.explain(inputs.x, targets=target, **call)
    seconds = time.perf_counter() - start
    explanation.extras.update(
        input_names=list(inputs.names),
        input_notes=list(inputs.notes),
        model_file=os.path.basename(model_path),
    )
    if class_names is not None:
        explanation.extras["class_names"] = list(class_names)
    if inputs.feature_names is not None and explanation.attributions.ndim == 2:
        explanation.extras.setdefault("feature_names", list(inputs.feature_names))
    if inputs.kind == "images":
        explanation.extras["preprocess"] = args.preprocess or "unit"
    say(
        f"{PROG}: {method} explained {len(explanation)} "
        f"input{'s' if len(explanation) != 1 else ''} in {seconds:.2f} s"
    )
    _list(
        say,
        [
            f"{n}: {_prediction_text(explanation, i, class_names)}"
            for i, n in enumerate(inputs.names)
        ],
    )

    written = _write_outputs(explanation, args, formats, class_names, model_path, show_progress)
    for path in written:
        say(f"{PROG}: wrote {path}")
    say(f"{PROG}: done in {time.perf_counter() - started:.1f} s")
    return 0


def _write_outputs(explanation, args, formats, class_names, model_path, show_progress):
    """Write the chosen files to --out; return their paths."""
    from keras_explain import report, viz

    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, explanation.method)
    written = []
    if "npz" in formats:
        written.append(explanation.save(base + ".npz"))
    if "json" in formats:
        written.append(_write_json(explanation, base + ".json", class_names))
    per_page = 48
    pages = -(-len(explanation) // per_page)
    for suffix in ("png", "pdf"):
        if suffix in formats:
            bar = Progress(f"writing {suffix} pages", pages, show_progress)
            written += viz.write_contact_sheet(
                explanation,
                f"{base}.{suffix}",
                per_page=per_page,
                progress=bar,
                class_names=class_names,
            )
            bar.close()
    if "html" in formats:
        bar = Progress("writing report", len(explanation), show_progress)
        written.append(
            report.write_html(
                explanation,
                base + ".html",
                title=f"{explanation.method} on {os.path.basename(model_path)}",
                class_names=class_names,
                progress=bar,
            )
        )
        bar.close()
    return written


def _list(say, lines, limit=20):
    shown = lines if len(lines) <= limit else lines[: limit // 2]
    for line in shown:
        say(f"  {line}")
    if len(shown) < len(lines):
        say(f"  ... and {len(lines) - len(shown)} more (see the .json and .html files)")


def _prediction_text(explanation, i, class_names):
    from keras_explain.viz import output_label

    predictions = explanation.predictions
    target = int(explanation.targets[i])
    if predictions.ndim != 2 or predictions.shape[1] == 1:
        value = float(predictions[i].reshape(-1)[0])
        return f"output {value:.4g}; explained output {target}"
    predicted = int(np.argmax(predictions[i]))
    text = (
        f"predicted {output_label(predicted, class_names)} ({float(predictions[i, predicted]):.3g})"
    )
    if target == predicted:
        return text + ", the explained output"
    return (
        text
        + f"; explained {output_label(target, class_names)} ({float(predictions[i, target]):.3g})"
    )


def _write_json(explanation, path, class_names, top=5):
    """Predictions, targets and per-input summaries as JSON."""
    from keras_explain.explanation import jsonable

    predictions = explanation.predictions
    names = explanation.extras.get("input_names") or [f"#{i}" for i in range(len(explanation))]
    notes = explanation.extras.get("input_notes") or [None] * len(explanation)

    def name_of(k):
        return class_names[k] if class_names is not None and 0 <= k < len(class_names) else None

    samples = []
    for i in range(len(explanation)):
        target = int(explanation.targets[i])
        row = {
            "index": i,
            "input": names[i],
            "note": notes[i],
            "target": target,
            "target_name": name_of(target),
            "attribution_sum": float(np.sum(explanation.attributions[i], dtype=np.float64)),
        }
        if predictions.ndim == 2 and predictions.shape[1] > 1:
            predicted = int(np.argmax(predictions[i]))
            order = np.argsort(-predictions[i], kind="stable")[:top]
            row.update(
                predicted=predicted,
                predicted_name=name_of(predicted),
                score=float(predictions[i, predicted]),
                target_score=float(predictions[i, target]),
                top=[
                    {"output": int(k), "name": name_of(int(k)), "score": float(predictions[i, k])}
                    for k in order
                ],
            )
        elif predictions.ndim == 2:
            row["output"] = float(predictions[i, 0])
        for key in (
            "completeness_gap",
            "additivity_gap",
            "expected_value",
            "score",
            "intercept",
            "local_pred",
        ):
            value = explanation.extras.get(key)
            if (
                isinstance(value, np.ndarray)
                and value.dtype.kind in "fiu"
                and len(value) == len(explanation)
                and value.ndim in (1, 2)
            ):
                row.setdefault(key, float(value[i] if value.ndim == 1 else value[i, 0]))
        if explanation.attributions.ndim == 2:
            from keras_explain.report import feature_rows

            row["features"] = [
                {"feature": label, "value": value, "weight": weight}
                for label, value, weight in feature_rows(
                    explanation, i, explanation.attributions.shape[1]
                )
            ]
        samples.append(row)
    summary = {
        "format": "keras_explain.cli.summary",
        "version": 1,
        "method": explanation.method,
        "config": explanation.config,
        "model": explanation.extras.get("model_file"),
        "class_names": class_names,
        "feature_names": explanation.extras.get("feature_names"),
        "attributions_shape": list(explanation.attributions.shape),
        "samples": samples,
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(jsonable(summary), handle, indent=1, allow_nan=True)
    return path


# -- methods ---------------------------------------------------------------------


def run_methods(args):
    """The `methods` command: each method, its command-line options and other options."""
    from keras_explain import api as registry

    fed = (
        {p for _, _, ps in CLI_ARGUMENTS for p in ps}
        | {p for _, p in AUTOMATIC_ARGUMENTS}
        | {"verbose"}
    )
    lines = [f"Methods for '{PROG} explain MODEL INPUT... --method NAME':", ""]
    for method in registry.available_methods():
        cls = registry.explainer_class(method)
        summary = (inspect.getdoc(cls) or "").splitlines()[0] if cls.__doc__ else ""
        names = registry.method_options(method)
        takes = set(names["constructor"]) | set(names["explain"])
        signature = inspect.signature(cls.__init__)
        lines.append(f"{method}")
        if summary:
            lines.append(f"    {summary}")
        for flag, _, parameters in CLI_ARGUMENTS:
            parameter = next((p for p in parameters if p in takes), None)
            if parameter is not None:
                needed = signature.parameters.get(parameter)
                required = needed is not None and needed.default is needed.empty
                lines.append(f"    {flag} -> {parameter}{' (required)' if required else ''}")
        if "random_state" in takes:
            lines.append("    --seed -> random_state")
        others = [n for n in names["constructor"] + names["explain"] if n not in fed]
        others = list(dict.fromkeys(others + ["output", "batch_size"]))
        if "explainer" in signature.parameters:  # a wrapper such as SmoothGrad
            others.append("explainer=METHOD (the wrapped method) and that method's options")
        lines.append(f"    --option NAME=VALUE: {', '.join(others)}")
        lines.append("")
    lines.append(
        "Every method also takes --target, --class-names, --batch-size and --option output=NAME "
        "(multi-output models)."
    )
    print("\n".join(lines))
    return 0
