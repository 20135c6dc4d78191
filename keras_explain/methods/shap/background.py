"""What DeepShap and GradientShap share: a background and its expected value."""

import numpy as np
import tensorflow as tf

from keras_explain.engine.batching import GroupCollector
from keras_explain.engine.checks import attribution_gap, explained_scores
from keras_explain.engine.explainer import Explainer, Plan


def mean_of_sums(sums, count):
    """Summed attributions divided by `count`, as float32; a list stays a list."""
    return tf.nest.map_structure(lambda a: (a / count).astype(np.float32), sums)


class BackgroundExplainer(Explainer):
    """Base of the SHAP explainers: a background and E[f(background)].

    For a model with several inputs the background, the examples and the
    attributions are lists with one array per model input. The expected
    value is computed at every `explain()` call, with one forward pass over
    the background, so that it follows the model's current weights (during
    `model.fit` too).
    """

    accepts_several_inputs = True
    state_attributes = ("_background",)
    config_attributes = ("background",)

    def __init__(self, model, background, **kwargs):
        super().__init__(model, **kwargs)
        array = self._model_fn.read(background, "background")
        self.background = array
        self._background = self._model_fn.tensors(array)

    @property
    def background_size(self):
        """The number of background rows."""
        return len(tf.nest.flatten(self.background)[0])

    @property
    def expected_value(self):
        """E[f(background)] for every output, (K,) float64, at the current weights."""
        return self.predict(self._background).astype(np.float64).mean(axis=0)

    def accumulator(self, plan):
        # The float64 sums over the background are divided before rounding.
        return GroupCollector(plan.num_groups, keep_float64=True)

    def background_plan(self, x, targets, predictions, pairs, examples=None, **fields):
        """The `Plan` of a SHAP method: x checked against the background, E[f] now.

        The expected value is computed here, at every call, so that it
        follows the model's current weights. `examples` are the examples as
        read, when x is another form of them (token ids' embeddings);
        defaults to x.
        """
        self.check_like_background(x if examples is None else examples)
        extras = {"expected_value": self.expected_value}
        return Plan(x=x, targets=targets, predictions=predictions, pairs=pairs, extras=extras, **fields)

    def check_like_background(self, x):
        """Raise a ValueError unless every part of x is shaped like the background's."""
        parts = tf.nest.flatten(x)
        for k, (part, reference) in enumerate(zip(parts, tf.nest.flatten(self.background))):
            if tuple(part.shape[1:]) != tuple(reference.shape[1:]):
                name = f"x[{k}]" if len(parts) > 1 else "x"
                raise ValueError(
                    f"{name}: expected examples shaped like the background, (N, "
                    f"{', '.join(str(d) for d in reference.shape[1:])}), received "
                    f"examples of shape {tuple(part.shape)}."
                )

    def expected_and_gap(self, plan, attributions):
        """(E[f(background)] per example (N,), f(x) - E[f], the additivity gap (N,))."""
        expected = plan.extras["expected_value"][plan.targets]
        scores = explained_scores(plan.predictions, plan.targets)
        return expected, scores - expected, attribution_gap(attributions, scores, expected)
