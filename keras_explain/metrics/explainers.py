"""The explainer a metric re-explains with: given, the explanation's own, or rebuilt."""

from keras_explain.engine.errors import describe, fail
from keras_explain.engine.explainer import Explainer


def check_explainer(explainer, method_options):
    """None, an Explainer or a method name; and the options of a method given by name."""
    if explainer is not None and not isinstance(explainer, (Explainer, str)):
        fail("explainer", "None, an explainer instance or a method name", explainer)
    if method_options is not None and not isinstance(method_options, dict):
        fail("method_options", "None or a dict of the method's options", method_options)
    return explainer, dict(method_options or {})


def explainer_for(given, method_options, inputs, metric):
    """(explainer of `inputs.model`, its explain options) to re-explain with.

    Args:
        given: the metric's `explainer`: an instance (rebuilt from its config
            on `inputs.model` when it explains another model), a method name
            (built with `method_options`), or None for the explanation's own
            explainer (rebuilt from the explanation's method and config after
            `Explanation.load`).
        method_options: options of a method given by name.
        inputs: the call's `MetricInputs`.
        metric: the metric's class name, for messages.

    Raises:
        ValueError: naming `explainer`, when there is none to use.
    """
    from keras_explain.api import build_explainer, explainer_class

    model = inputs.model
    found = inputs.explanation
    if given is None and found is not None and found.explainer is not None:
        given = found.explainer
    if isinstance(given, str):
        return build_explainer(model, given, **method_options)
    if isinstance(given, Explainer):
        if given.model is model:
            return given, {}
        return type(given).from_config(given.get_config(), model), {}
    if found is None:
        raise ValueError(
            f"explainer: expected an explainer instance or a method name, since {metric} "
            f"re-explains inputs and the attributions came as an array; received None."
        )
    try:
        return explainer_class(found.method).from_config(found.config, model), {}
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"explainer: expected an explainer instance or a method name, since the explanation "
            f"has none (it was loaded from a file) and its method {found.method!r} could not be "
            f"rebuilt from its config ({describe(found.config)}): {error}"
        ) from None
