"""Checks of the `explain` arguments: the files before TensorFlow, then the method's needs."""

import ast
import inspect
import os

from keras_explain import io
from keras_explain.cli.usage import CLI_ARGUMENTS, FORMATS
from keras_explain.engine.errors import check_int, fail
from keras_explain.io.messages import error

#: Options that command-line flags set, which --option may not set again.
_SET_BY_FLAGS = {"random_state": "--seed", "verbose": "--progress/--quiet"}

#: What a required file option holds, for the message when it is missing.
_REQUIRED_FILES = {
    "--background": "a .npy or .csv file of reference inputs",
    "--training-data": "a .csv file of training rows",
}


def parse_formats(text):
    """The formats named in a comma-separated `--format`, each once."""
    chosen = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in FORMATS]
    if not chosen or unknown:
        fail("--format", f"a comma-separated list of {', '.join(FORMATS)}", text)
    return list(dict.fromkeys(chosen))


def parse_options(pairs):
    """A dict of the `--option NAME=VALUE` pairs, each VALUE a Python literal or a string."""
    options = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            fail("--option", "NAME=VALUE", pair)
        try:
            options[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[name] = value
    return options


def parse_target(text):
    """`--target` as an output index when it is an integer, else as a class name."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _check_data_file(path, flag, suffixes):
    if not os.path.isfile(path):
        raise error(flag, "an existing file", f"'{path}', which does not exist")
    if not path.lower().endswith(suffixes):
        raise error(flag, f"a {' or '.join(suffixes)} file", f"'{path}'")


def _check_options(options):
    for flag, _, names in CLI_ARGUMENTS:
        for name in names:
            if name in options:
                fail("--option", f"options other than {name}, which {flag} sets", name)
    for name, flag in _SET_BY_FLAGS.items():
        if name in options:
            fail("--option", f"options other than {name}, which {flag} sets", name)


def check_files(args):
    """Everything that can be checked before importing TensorFlow.

    Returns:
        (formats, options, the model file, the class names or None).
    """
    formats = parse_formats(args.format)
    options = parse_options(args.option)
    _check_options(options)
    if args.num_samples != "auto":
        check_int("--num-samples", args.num_samples, minimum=1, allow_none=True)
    check_int("--batch-size", args.batch_size, minimum=1, allow_none=True)
    check_int("--seed", args.seed, minimum=0)
    if args.preprocess is not None and args.preprocess not in io.PREPROCESSING:
        fail("--preprocess", f"one of {', '.join(io.PREPROCESSING)}", args.preprocess)
    model = io.check_model_file(args.model, "MODEL")
    kinds = io.check_input_files(args.inputs, "INPUT")
    if args.preprocess is not None and "image" not in kinds:
        raise error(
            "--preprocess",
            "image inputs (PNG or JPEG) to preprocess",
            "only .npy arrays and .csv tables, which are used as they are",
        )
    for path in args.custom_objects:
        if not os.path.isfile(path):
            raise error("--custom-objects", "a Python file (.py)", f"'{path}', which does not exist")
        if not path.endswith(".py"):
            raise error("--custom-objects", "a Python file (.py)", f"'{path}'")
    class_names = (
        io.read_class_names(args.class_names, "--class-names") if args.class_names else None
    )
    if args.background is not None:
        _check_data_file(args.background, "--background", (".npy", ".csv"))
    if args.training_data is not None:
        _check_data_file(args.training_data, "--training-data", (".csv", ".npy"))
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise error("--out", "a folder", f"'{args.out}', which is a file")
    return formats, options, model, class_names


def method_takes(method):
    """The names of every constructor and `explain` parameter of a registered method."""
    from keras_explain import api as registry

    names = registry.method_options(method)
    return set(names["constructor"]) | set(names["explain"])


def _required_parameters(method):
    from keras_explain import api as registry

    signature = inspect.signature(registry.explainer_class(method).__init__)
    return [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in ("self", "model", "explainer")
    ]


def method_plan(method, args, options):
    """Constructor arguments fed by command-line options, checked against the method.

    Returns:
        (dict parameter -> the command-line attribute holding its value,
        the set of parameter names the method takes).
    """
    from keras_explain import api as registry

    cls = registry.explainer_class(method)
    if not cls.per_example:
        raise error(
            "--method",
            "a method that explains each input",
            f"{method!r}, which explains a whole dataset with labels; use "
            f"kx.{cls.__name__}(model).explain(x, y) in Python",
        )
    takes = method_takes(method)
    plan = {}
    for flag, attribute, parameters in CLI_ARGUMENTS:
        parameter = next((p for p in parameters if p in takes), None)
        given = getattr(args, attribute) is not None
        if given and parameter is None:
            users = [
                m for m in registry.available_methods() if set(parameters) & method_takes(m)
            ]
            raise error(
                flag,
                f"a method that takes it ({', '.join(users) or 'none is registered'})",
                f"--method {method}, which does not",
            )
        if parameter is not None and given:
            plan[parameter] = attribute
    for parameter in _required_parameters(method):
        if parameter in plan or parameter in options:
            continue
        flag = next((f for f, _, ps in CLI_ARGUMENTS if parameter in ps), None)
        if flag is not None:
            what = _REQUIRED_FILES.get(flag, "a value")
            raise error(flag, f"{what}, which --method {method} needs", "none")
        raise error("--option", f"{parameter}=VALUE, which --method {method} needs", "none")
    return plan, takes


def resolve_target(target, class_names, outputs):
    """`--target` as an output index, checked against the class names and the outputs."""
    if target is None:
        return None
    if isinstance(target, str):
        if class_names is None:
            raise error(
                "--target",
                "an output index (an integer)",
                f"'{target}'; pass --class-names to name the outputs",
            )
        if target not in class_names:
            shown = ", ".join(repr(n) for n in class_names[:10]) + (
                ", ..." if len(class_names) > 10 else ""
            )
            raise error(
                "--target", f"an output index or one of the class names ({shown})", f"'{target}'"
            )
        return class_names.index(target)
    if outputs is not None and not 0 <= target < outputs:
        fail("--target", f"an output index between 0 and {outputs - 1}", target)
    return target
