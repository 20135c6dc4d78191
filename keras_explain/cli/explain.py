"""The `explain` command: load the model, read the files, explain, write the results."""

import os
import sys
import time
import types
import warnings

from keras_explain import io
from keras_explain.cli.checks import check_files, method_plan, parse_target, resolve_target
from keras_explain.cli.outputs import prediction_text, write_outputs
from keras_explain.cli.progress import Progress
from keras_explain.cli.references import (
    category_arguments,
    read_array_reference,
    read_table_references,
)
from keras_explain.cli.runtime import import_tensorflow
from keras_explain.cli.scaling import choose_preprocess
from keras_explain.cli.usage import PROG, Printer, listing
from keras_explain.engine.errors import shape_text
from keras_explain.io import text as io_text
from keras_explain.io.messages import error


def run_explain(args):
    """The `explain` command; returns the exit status."""
    started = time.perf_counter()
    say = Printer(args.quiet)
    show_progress = args.progress if args.progress is not None else sys.stderr.isatty()
    show_progress = show_progress and not args.quiet
    run = explain_files(args, say, show_progress)
    explanation = run.explanation
    listing(
        say,
        [
            f"{n}: {prediction_text(explanation, i, run.class_names)}"
            for i, n in enumerate(run.inputs.names)
        ],
    )
    report_warnings(run.warnings)
    written = write_outputs(explanation, args, run.formats, run.class_names, run.model_path, show_progress)
    for path in written:
        say(f"{PROG}: wrote {path}")
    say(f"{PROG}: done in {time.perf_counter() - started:.1f} s")
    return 0


def explain_files(args, say, show_progress, prepare=None):
    """Check the files, load the model, read the inputs and explain them.

    Args:
        args: the parsed arguments of `explain` (or of a command that takes
            the same ones).
        say: the `Printer` of the run.
        show_progress: draw progress bars.
        prepare: optional callable run once TensorFlow is imported, before the
            model loads (a command checks its own options there).

    Returns:
        types.SimpleNamespace with `explanation`, `inputs`, `formats`,
        `class_names`, `model_path`, `warnings` (those raised while
        explaining) and `prepared` (what `prepare` returned).
    """
    formats, options, model_path, class_names = check_files(args)
    target = parse_target(args.target)
    if isinstance(target, str) and class_names is None:
        resolve_target(target, None, None)

    # TensorFlow from here on.
    import_tensorflow()
    prepared = prepare() if prepare is not None else None
    from keras_explain import api as registry

    method = registry.explainer_class(args.method).method
    plan, takes = method_plan(method, args, options)
    model = _load_model(args, model_path)
    input_shape, outputs = _describe_model(model, model_path, options, say)
    preprocess = choose_preprocess(args, model, say)
    if class_names is not None and outputs is not None and len(class_names) != outputs:
        raise error(
            "--class-names",
            f"{outputs} names, one per model output",
            f"{len(class_names)} in '{args.class_names}'",
        )
    target = resolve_target(target, class_names, outputs)
    item_shape = None if input_shape is None else input_shape[1:]
    tables, schema = read_table_references(args, plan, takes, options, item_shape)
    from keras_explain.engine.embedding import integer_input

    kinds = dict(text=io_text.takes_text(model), ids=integer_input(model))
    inputs = _read_inputs(args, input_shape, preprocess, schema, show_progress, say, **kinds)

    arguments = _arguments(args, plan, takes, options, item_shape, tables, schema)
    _add_automatic_arguments(arguments, args, takes, class_names, inputs, show_progress)

    explainer, call = registry.build_explainer(model, method, **arguments)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        # The explainers' warnings (an unconverged Integrated Gradients
        # path, a LIME model whose output never moves) become output lines.
        warnings.simplefilter("always")
        explanation = explainer.explain(inputs.x, targets=target, **call)
    seconds = time.perf_counter() - start
    _describe_explanation(explanation, preprocess, inputs, class_names, model_path)
    say(
        f"{PROG}: {method} explained {len(explanation)} "
        f"input{'s' if len(explanation) != 1 else ''} in {seconds:.2f} s"
    )
    return types.SimpleNamespace(
        explanation=explanation,
        inputs=inputs,
        formats=formats,
        class_names=class_names,
        model_path=model_path,
        warnings=list(caught),
        prepared=prepared,
    )


def report_warnings(caught):
    """keras_explain's warnings as `warning:` lines on stderr; others go back to Python's."""
    ours = [w for w in caught if w.category.__module__.startswith("keras_explain")]
    for w in caught:
        if w not in ours:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for message in dict.fromkeys(str(w.message) for w in ours):
        print(f"{PROG}: warning: {message}", file=sys.stderr)


def _load_model(args, model_path):
    """The model, after importing `--custom-objects`; `--unsafe` warns first."""
    custom = {}
    for path in args.custom_objects:
        custom.update(io.import_custom_objects(path, "--custom-objects"))
    if args.unsafe:
        print(
            f"{PROG}: warning: --unsafe: loading {os.path.basename(model_path)} with safe mode off "
            "runs Python code stored in it",
            file=sys.stderr,
        )
    return io._load_model(
        model_path, custom_objects=custom or None, safe_mode=not args.unsafe, name="MODEL", cli=True
    )


def _describe_model(model, model_path, options, say):
    """(input shape, output count) of the model, said in one line."""
    from keras_explain.engine import model as model_info

    input_shape = model_info.input_shape(model)
    outputs = model_info.static_output_size(model, options.get("output"))
    shown = shape_text(input_shape) if input_shape is not None else "(not declared)"
    say(
        f"{PROG}: model {os.path.basename(model_path)}: {model.name!r}, input {shown}, "
        f"{outputs if outputs is not None else 'unknown'} output{'s' if outputs != 1 else ''}"
    )
    return input_shape, outputs


def _read_inputs(args, input_shape, preprocess, schema, show_progress, say, text=False, ids=None):
    """The inputs, with a progress bar; said in a line and a line per input.

    A model taking strings reads `.txt` files (one example per line) or the
    `--column` of CSV files (`keras_explain.io.text`); for a model taking
    integers (`ids`, its input dtype, such as token ids) the arrays read are
    cast back to that dtype.
    """
    column = getattr(args, "column", None)
    if column is not None and not text:
        raise error("--column", "a model taking strings (texts in a CSV column)", "a model taking numbers")
    bar = Progress("reading inputs", len(args.inputs), show_progress)
    if text:
        inputs = io_text.read_texts(args.inputs, column, name="INPUT", progress=bar)
    else:
        inputs = io.read_inputs(
            args.inputs, input_shape, preprocess, name="INPUT", progress=bar, schema=schema
        )
    bar.close()
    if ids is not None and not text:
        inputs = io_text.as_token_ids(inputs, ids, name="INPUT")
    shown = "texts" if text else f"{shape_text((None,) + inputs.x.shape[1:])} {inputs.x.dtype}"
    say(f"{PROG}: {len(inputs.x)} input{'s' if len(inputs.x) != 1 else ''} {shown}")
    listing(say, [f"{n}: {note}" for n, note in zip(inputs.names, inputs.notes)])
    return inputs


def _arguments(args, plan, takes, options, item_shape, tables, schema):
    """The method's arguments from `--option` and the options of `CLI_ARGUMENTS`."""
    arguments = dict(options)
    for parameter, attribute in plan.items():
        if attribute in tables:
            arguments[parameter] = tables[attribute]
        elif attribute in ("background", "training_data"):
            arguments[parameter] = read_array_reference(args, attribute, item_shape)
        else:
            arguments[parameter] = getattr(args, attribute)
    arguments.update(category_arguments(schema, takes))
    return arguments


def _add_automatic_arguments(arguments, args, takes, class_names, inputs, show_progress):
    """Add what every method gets when it takes it (`AUTOMATIC_ARGUMENTS`), and the rest."""
    if "random_state" in takes:
        arguments["random_state"] = args.seed
    if class_names is not None and "class_names" in takes:
        arguments.setdefault("class_names", class_names)
    if inputs.feature_names is not None and "feature_names" in takes:
        arguments.setdefault("feature_names", inputs.feature_names)
    if args.batch_size is not None:
        arguments["batch_size"] = args.batch_size
    arguments["verbose"] = 1 if show_progress else 0


def _describe_explanation(explanation, preprocess, inputs, class_names, model_path):
    """Record in the explanation's extras where its inputs came from."""
    explanation.extras.update(
        input_names=list(inputs.names),
        input_notes=list(inputs.notes),
        model_file=os.path.basename(model_path),
    )
    if class_names is not None:
        explanation.extras["class_names"] = list(class_names)
    if inputs.feature_names is not None and explanation.attributions.ndim == 2:
        explanation.extras.setdefault("feature_names", list(inputs.feature_names))
    if preprocess is not None:
        explanation.extras["preprocess"] = preprocess
