"""The one-call form and the method catalogue: `explain`, `available_methods`.

These load every method family (importing `keras_explain.methods` registers
them) and then ask the engine's registry.
"""

from keras_explain.engine import registry


def _registry():
    import keras_explain.methods  # noqa: F401  (registers every method)

    return registry


def available_methods():
    """Canonical names of every method, sorted."""
    return _registry().registered_methods()


def explainer_class(name):
    """The explainer class registered under a method name, alias or class name."""
    return _registry().explainer_class(name)


def method_options(method):
    """{"constructor": [...], "explain": [...]}: the option names a method takes."""
    return _registry().method_options(method)


def build_explainer(model, method="saliency", **options):
    """(explainer, explain options) for a method name; see `engine.registry.build_explainer`."""
    return _registry().build_explainer(model, method, **options)


def explain(model, x, method="saliency", targets=None, **options):
    """Explain `model` on examples `x` with a method chosen by name.

    Args:
        model: a Keras 3 model.
        x: examples (N, ...): numpy array, tf.Tensor or tf.data.Dataset.
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
