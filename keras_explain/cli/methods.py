"""The `methods` command: every registered method and the options it takes."""

import inspect

from keras_explain.cli.runtime import import_tensorflow
from keras_explain.cli.usage import AUTOMATIC_ARGUMENTS, CLI_ARGUMENTS, PROG


def _method_lines(registry, method, fed):
    """The block of lines that describes one method."""
    cls = registry.explainer_class(method)
    summary = (inspect.getdoc(cls) or "").splitlines()[0] if cls.__doc__ else ""
    names = registry.method_options(method)
    takes = set(names["constructor"]) | set(names["explain"])
    signature = inspect.signature(cls.__init__)
    lines = [f"{method}"]
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
    return lines


def run_methods(args):
    """The `methods` command: each method, its command-line options and other options."""
    import_tensorflow()
    from keras_explain import api as registry

    fed = (
        {p for _, _, ps in CLI_ARGUMENTS for p in ps}
        | {p for _, p in AUTOMATIC_ARGUMENTS}
        | {"verbose"}
    )
    lines = [f"Methods for '{PROG} explain MODEL INPUT... --method NAME':", ""]
    for method in registry.available_methods():
        lines += _method_lines(registry, method, fed) + [""]
    lines.append(
        "Every method also takes --target, --class-names, --batch-size and --option output=NAME "
        "(multi-output models)."
    )
    print("\n".join(lines))
    return 0
