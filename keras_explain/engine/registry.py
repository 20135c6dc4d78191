"""The method registry: names and aliases to explainer classes.

Methods register themselves when their module is imported; the registry
imports no method (`keras_explain.api` loads them). A name or alias may
belong to one method only: registering a second one under it is refused.
"""

import dataclasses
import inspect
import re

from keras_explain.engine.errors import describe

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

    for key in (name, *aliases):
        if not isinstance(key, str) or not _NAME.fullmatch(key):
            raise ValueError(
                f"register: expected names of lower-case letters, digits, '_', '-' or '+', "
                f"received {describe(key)}."
            )

    def decorate(cls):
        if getattr(cls, "method", None) != name:
            raise ValueError(
                f"register: expected {cls.__name__}.method == {name!r}, received "
                f"{getattr(cls, 'method', None)!r}."
            )
        entry = _Entry(name, cls, tuple(aliases), wraps)
        keys = {k.lower() for k in (name, cls.__name__, *aliases)}
        for key in sorted(keys):
            owner = _LOOKUP.get(key)
            if owner is not None and owner.cls.__qualname__ != cls.__qualname__:
                raise ValueError(
                    f"register: the name {key!r} of {cls.__name__} is already registered "
                    f"by {owner.cls.__name__} (method {owner.name!r}); choose another name."
                )
        _METHODS[name] = entry
        for key in keys:
            _LOOKUP[key] = entry
        return cls

    return decorate


_NAME = re.compile(r"[a-z][a-z0-9_+\-]*")


def registered_methods():
    """Canonical names of every method registered so far, sorted."""
    return sorted(_METHODS)


def methods_taking_several_inputs():
    """Class names of the registered explainers that take models with several inputs."""
    return sorted({e.cls.__name__ for e in _METHODS.values() if e.cls.accepts_several_inputs})


def _entry(method, argument="method"):
    if not isinstance(method, str) or method.lower() not in _LOOKUP:
        names = ", ".join(repr(n) for n in registered_methods())
        raise ValueError(f"{argument}: expected one of {names}, received {describe(method)}.")
    return _LOOKUP[method.lower()]


def explainer_class(name):
    """The explainer class registered under a method or class name."""
    return _entry(name).cls


def method_options(method):
    """Constructor and explain() options of a method, for help texts.

    The constructor's are its signature's; the explain() options are the
    method's declared `explain_options`.

    Returns:
        dict with keys "constructor" and "explain", each a list of names.
    """
    entry = _entry(method)
    return {
        "constructor": _parameters(entry.cls.__init__, skip=("self", "model", "explainer")),
        "explain": list(entry.cls.explain_options),
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
