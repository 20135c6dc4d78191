"""RandomizationSanity (Adebayo et al. 2018): does the explanation depend on the weights?"""

import warnings

import keras
import numpy as np

from keras_explain.engine.errors import check_bool, check_int, fail
from keras_explain.engine.layers import all_layers, find_layer, layer_path
from keras_explain.metrics.base import Metric
from keras_explain.metrics.explainers import check_explainer, explainer_for
from keras_explain.metrics.statistics import rank_correlation


class RandomizationSanity(Metric):
    """Cascading model randomization (Adebayo et al. 2018) on a clone of the model.

    The model is cloned (`keras.models.clone_model`, then its weights
    copied); the clone's layers with trainable weights are re-initialised
    one after the other from the output down (cascading: the layers above
    stay random), and after each layer the same explainer configuration
    re-explains the examples on the clone. For every example and every
    step the Spearman rank correlation of the original map with the new one
    is recorded (images: attributions summed over channels; with `absolute`
    their magnitude). An explanation that reflects what the model learned
    changes: the correlation falls. The score of an example is its
    correlation once every chosen layer is random; lower is better.

    A weight is re-initialised from a normal distribution with its own
    standard deviation (1/sqrt(its size) for a constant weight, such as a
    zero bias). The user's model is never touched, and the warnings of the
    randomised model's explanations are not shown.

    Args:
        explainer: what re-explains: an explainer instance, a method name
            (built with `method_options`), or None for the explanation's own
            explainer. Its configuration is rebuilt on the clone with
            `from_config(get_config())`. Defaults to None.
        layers: the names (or "outer/inner" paths) of the layers to
            randomise, taken in cascading order from the output down;
            None for every layer with trainable weights. Defaults to None.
        absolute: compare |maps| (Adebayo et al.'s absolute-value rank
            correlation). Defaults to True.
        random_state: int seed of the new weights. Defaults to 0.
        method_options: options of a method given by name. Defaults to None.
        **kwargs: `output`, `batch_size`, `run_eagerly` (see `Metric`).

    The result has `correlations` (N, L), one column per cascade step, and
    `layers`, the L layer paths in the order randomised.

    Raises:
        ValueError: for a model `clone_model` cannot clone (a subclassed
            model without `get_config`), an unknown layer, or a model with
            no trainable weights.

    Example:

    ```python
    e = kx.GradientSaliency(model).explain(x)
    result = kx.metrics.RandomizationSanity()(model, x, e)
    result.correlations.mean(axis=0)   # one value per cascade step
    ```

    Reference: Adebayo, Gilmer, Muelly, Goodfellow, Hardt and Kim, "Sanity
    Checks for Saliency Maps", NeurIPS 2018.
    """

    name = "randomization"
    higher_is_better = False
    config_attributes = ("explainer", "layers", "absolute", "random_state", "method_options")

    def __init__(self, explainer=None, layers=None, absolute=True, random_state=0, method_options=None, **kwargs):
        super().__init__(**kwargs)
        self.explainer, self.method_options = check_explainer(explainer, method_options)
        if layers is not None and (isinstance(layers, str) or not all(isinstance(n, str) for n in layers)):
            fail("layers", "None or a list of layer names", layers)
        self.layers = None if layers is None else list(layers)
        self.absolute = check_bool("absolute", absolute)
        self.random_state = check_int("random_state", random_state, minimum=0)

    def compute(self, inputs):
        explainer, options = explainer_for(self.explainer, self.method_options, inputs, type(self).__name__)
        clone = cloned(inputs.model)
        replica = type(explainer).from_config(explainer.get_config(), clone)
        cascade = self.cascade(clone)
        rng = np.random.default_rng(self.random_state)
        before = maps(inputs.attributions, self.absolute)
        correlations = np.empty((len(inputs), len(cascade)))
        for step, layer in enumerate(cascade):
            randomize(layer, rng)
            with warnings.catch_warnings():
                # What a randomised model's explanation warns about (an
                # unconverged path integral, say) says nothing about the user's.
                warnings.simplefilter("ignore")
                again = replica.explain(inputs.x, targets=inputs.targets, verbose=0, **options)
            after = maps(again.attributions, self.absolute)
            correlations[:, step] = [rank_correlation(a, b) for a, b in zip(before, after)]
        names = [layer_path(clone, layer) for layer in cascade]
        return self.result(correlations[:, -1], correlations=correlations, layers=names)

    def cascade(self, clone):
        """The clone's layers to randomise, from the output down."""
        weighted = [
            layer
            for layer in all_layers(clone)
            if not isinstance(layer, keras.Model) and layer.trainable_weights
        ][::-1]
        if not weighted:
            fail("model", "a model with trainable weights to randomise", clone)
        if self.layers is None:
            return weighted
        chosen = []
        for name in self.layers:
            try:
                layer = find_layer(clone, name)
            except ValueError as error:
                raise ValueError("layers" + str(error)[len("layer"):]) from None
            if layer not in weighted:
                fail("layers", "names of layers with trainable weights", name)
            chosen.append(layer)
        return [layer for layer in weighted if any(layer is c for c in chosen)]


def cloned(model):
    """A copy of `model` with its own variables holding the same values."""
    try:
        clone = keras.models.clone_model(model, recursive=True)
    except (ValueError, TypeError, NotImplementedError) as error:
        raise ValueError(
            f"model: expected a model keras.models.clone_model can copy (Sequential, Functional, or "
            f"subclassed with get_config), received {model.name!r}, which it could not: {error}"
        ) from None
    clone.set_weights(model.get_weights())
    if {id(v) for v in clone.weights} & {id(v) for v in model.weights}:
        raise RuntimeError(f"model: the copy of {model.name!r} shares variables with it.")
    return clone


def randomize(layer, rng):
    """Re-initialise the trainable weights of `layer` (normal, each weight's own spread)."""
    for weight in layer.trainable_weights:
        values = np.asarray(weight.numpy())
        spread = float(values.std()) or 1.0 / np.sqrt(values.size)
        weight.assign(rng.normal(0.0, spread, size=values.shape).astype(values.dtype))


def maps(attributions, absolute):
    """One map per example: images' attributions summed over channels, |.| with `absolute`."""
    values = np.asarray(attributions, dtype=np.float64)
    if values.ndim == 4:
        values = values.sum(axis=-1)
    return np.abs(values) if absolute else values
