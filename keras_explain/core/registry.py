"""The method registry and the one-call `explain(model, x, method=...)`."""

import dataclasses
import inspect

from keras_explain.core.validation import describe

_BASE_OPTIONS = ("output", "batch_size", "run_eagerly", "verbose")


@dataclasses.dataclass
class _Entry:
    name: str
    cls: type
    aliases: tuple
    wraps: str = None


_METHODS = {}
_LOOKUP = {}


def register(name, aliases=(), wraps=None):
    """Class decorator that makes an explainer available by name.

    Args:
        name: the canonical method name (also `Explanation.method`).
        aliases: other accepted names.
        wraps: for wrappers such as SmoothGrad, the method wrapped by default.
    """

    def decorate(cls):
        entry = _Entry(name, cls, tuple(aliases), wraps)
        _METHODS[name] = entry
        for key in (name, cls.__name__.lower(), *aliases):
            _LOOKUP[key.lower()] = entry
        return cls

    return decorate


def _load_methods():
    """Import the method modules, which register themselves."""
    import keras_explain.methods  # noqa: F401


def available_methods():
    """Canonical names of every registered method, sorted."""
    _load_methods()
    return sorted(_METHODS)


def multi_input_methods():
    """Class names of the explainers that take models with several inputs."""
    _load_methods()
    return sorted({e.cls.__name__ for e in _METHODS.values() if e.cls._multi_input})


def _entry(method, argument="method"):
    _load_methods()
    if not isinstance(method, str) or method.lower() not in _LOOKUP:
        names = ", ".join(repr(n) for n in available_methods())
        raise ValueError(f"{argument}: expected one of {names}, received {describe(method)}.")
    return _LOOKUP[method.lower()]


def explainer_class(name):
    """The explainer class registered under a method or class name."""
    return _entry(name).cls


def method_options(method):
    """Constructor and explain() options of a method, for help texts.

    Returns:
        dict with keys "constructor" and "explain", each a list of names.
    """
    entry = _entry(method)
    return {
        "constructor": _parameters(entry.cls.__init__, skip=("self", "model", "explainer")),
        "explain": _parameters(entry.cls._plan, skip=("self", "x", "targets", "predictions")),
    }


def _parameters(function, skip):
    names = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name in skip or parameter.kind in (
            parameter.VAR_KEYWORD,
            parameter.VAR_POSITIONAL,
        ):
            continue
        names.append(parameter.name)
    return names


def _split(entry, options):
    """Split options into (constructor kwargs, explain kwargs, leftovers)."""
    names = method_options(entry.name)
    constructor, call, rest = {}, {}, {}
    for key, value in options.items():
        if key in names["explain"]:
            call[key] = value
        elif key in names["constructor"] or key in _BASE_OPTIONS:
            constructor[key] = value
        else:
            rest[key] = value
    return constructor, call, rest


def build_explainer(model, method="saliency", **options):
    """Build the explainer registered as `method` with `options`.

    For a wrapper (SmoothGrad) the option `explainer` names the wrapped method
    (default: saliency); options the wrapped method takes go to it.

    Returns:
        (explainer, explain options).

    Raises:
        ValueError: for an unknown method or option.
    """
    entry = _entry(method)
    if entry.wraps is None:
        constructor, call, rest = _split(entry, options)
        if rest:
            _unknown(entry, rest)
        return entry.cls(model, **constructor), call
    options = dict(options)
    inner_name = options.pop("explainer", entry.wraps)
    inner_entry = _entry(inner_name, argument="explainer")
    outer, _, rest = _split(entry, options)
    inner, call, rest = _split(inner_entry, rest)
    for key in ("output", "batch_size", "run_eagerly"):
        if key in outer:
            inner.setdefault(key, outer[key])
    outer.pop("output", None)
    if rest:
        _unknown(entry, rest)
    return entry.cls(inner_entry.cls(model, **inner), **outer), call


def _unknown(entry, rest):
    names = method_options(entry.name)
    known = sorted(set(names["constructor"]) | set(names["explain"]) | set(_BASE_OPTIONS))
    raise ValueError(
        f"options: method {entry.name!r} takes {', '.join(known)}; "
        f"received unknown option(s) {', '.join(sorted(rest))}."
    )


def explain(model, x, method="saliency", targets=None, **options):
    """Explain `model` on inputs `x` with a method chosen by name.

    Args:
        model: a Keras 3 model.
        x: inputs (N, ...): numpy array, tf.Tensor or tf.data.Dataset.
        method: a name from `available_methods()` ("saliency",
            "integrated_gradients", "smoothgrad", "gradcam", ...) or an alias
            ("ig"). Defaults to "saliency".
        targets: None (the predicted class), an int, or an int array (N,).
        **options: constructor options of the method (for example `steps=64`)
            and options of its `explain()` (for example `baseline=`).

    Returns:
        `Explanation`.

    Example:

    ```python
    e = kx.explain(model, x, method="ig", steps=100)
    ```
    """
    explainer, call = build_explainer(model, method, **options)
    return explainer.explain(x, targets=targets, **call)
