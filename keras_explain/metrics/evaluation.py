"""Metrics by name, and `evaluate`: score an Explanation and keep the scores in it."""

import numpy as np

from keras_explain.engine.errors import describe, fail
from keras_explain.metrics.base import Metric
from keras_explain.metrics.causal import Deletion, Insertion
from keras_explain.metrics.correlation import FaithfulnessCorrelation, MuFidelity
from keras_explain.metrics.infidelity import Infidelity, MaxSensitivity
from keras_explain.metrics.randomization import RandomizationSanity

#: Name -> metric class, in the order they are listed.
METRICS = {
    cls.name: cls
    for cls in (
        Deletion, Insertion, MuFidelity, FaithfulnessCorrelation, Infidelity, MaxSensitivity, RandomizationSanity
    )
}


def available_metrics():
    """The names of the metrics, in the order `METRICS` lists them."""
    return list(METRICS)


def resolve_metrics(metrics, defaults=None, **options):
    """Metric instances from names and instances.

    Args:
        metrics: a metric name, a `Metric`, or a list of them.
        defaults: options given to the named metrics unless `options` sets
            them (never reported as unused). Defaults to None.
        **options: constructor options for the metrics given by name; each
            goes to every named metric that takes it.

    Returns:
        list of `Metric`.

    Raises:
        ValueError: naming `metrics` for an unknown name (the message lists
            the names), or `options` for an option no named metric takes.
    """
    items = [metrics] if isinstance(metrics, (str, Metric)) else metrics
    try:
        items = list(items)
    except TypeError:
        fail("metrics", "a metric name, a Metric or a list of them", metrics)
    if not items:
        fail("metrics", "at least one metric", metrics)
    built, used = [], set()
    for item in items:
        if isinstance(item, Metric):
            built.append(item)
            continue
        if not isinstance(item, str) or item not in METRICS:
            names = ", ".join(repr(name) for name in METRICS)
            raise ValueError(f"metrics: expected a Metric or one of {names}, received {describe(item)}.")
        takes = METRICS[item].constructor_options()
        chosen = {key: value for key, value in options.items() if key in takes}
        used.update(chosen)
        given = {key: value for key, value in (defaults or {}).items() if key in takes}
        built.append(METRICS[item](**{**given, **chosen}))
    unused = sorted(set(options) - used)
    if unused:
        named = [item for item in items if isinstance(item, str)] or ["none"]
        raise ValueError(
            f"options: expected options of the metrics given by name ({', '.join(named)}), received "
            f"{', '.join(unused)}, which none of them takes."
        )
    return built


def evaluate(explanation, metrics, model=None, **options):
    """Score an explanation's attributions with metrics and keep the scores in it.

    Each metric runs on the explanation's inputs and targets; its per-example
    scores go to `explanation.metric_scores` (a dict metric name -> scores
    (N,), merged with the scores already there), saved and loaded with the
    explanation and shown on the HTML report's cards.

    Args:
        explanation: an `Explanation` of a model with a single input.
        metrics: a name ("deletion", "insertion", "mufidelity",
            "faithfulness_correlation", "infidelity", "max_sensitivity",
            "randomization"), a `Metric`, or a list of them.
        model: the explained model. Defaults to None: the model of the
            explainer that made the explanation.
        **options: constructor options of the metrics given by name
            (`steps=20`, `random_state=0`, ...).

    Returns:
        dict name -> `MetricResult`, in the order of `metrics`.

    Raises:
        ValueError: for an unknown metric or option, or no model to use.

    Example:

    ```python
    e = kx.GradientSaliency(model).explain(x)
    results = e.evaluate(["deletion", "mufidelity"], random_state=0)
    results["deletion"].mean, e.metric_scores["mufidelity"]   # (N,)
    ```
    """
    if model is None:
        explainer = getattr(explanation, "explainer", None)
        if explainer is None:
            fail("model", "the explained model (the explanation has no explainer: it was loaded from a file)", model)
        model = explainer.model
    chosen = resolve_metrics(metrics, defaults={"output": (explanation.config or {}).get("output")}, **options)
    results = {}
    for metric in chosen:
        results[metric.name] = metric(model, explanation.inputs, explanation, targets=explanation.targets)
    scores = dict(explanation.extras.get("metric_scores") or {})
    scores.update({name: np.asarray(result.scores) for name, result in results.items()})
    explanation.annotate(metric_scores=scores)
    return results
