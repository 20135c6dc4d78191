"""Integrated Gradients and its quadrature rules."""

import warnings

import numpy as np
import tensorflow as tf

from keras_explain.engine.baselines import baseline_values, check_baseline
from keras_explain.engine.checks import attribution_gap, completeness_message, explained_scores
from keras_explain.engine.errors import check_choice, check_int
from keras_explain.engine.explainer import Explainer, Plan
from keras_explain.engine.gradients import target_gradient
from keras_explain.engine.registry import register

_IG_RULES = ("trapezoid", "left", "right", "midpoint", "gauss_legendre")

class CompletenessWarning(UserWarning):
    """Integrated Gradients attributions far from summing to f(x) - f(baseline)."""


def quadrature(rule, steps):
    """Points and weights on [0, 1] for the path integral of Integrated Gradients.

    Args:
        rule: "trapezoid", "left", "right", "midpoint" or "gauss_legendre".
        steps: number of points.

    Returns:
        (alphas (steps,), weights (steps,)) as float64 arrays; weights sum to 1.
    """
    if rule == "trapezoid":
        alphas = np.linspace(0.0, 1.0, steps)
        weights = np.full(steps, 1.0 / (steps - 1))
        weights[[0, -1]] *= 0.5
    elif rule == "gauss_legendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        alphas, weights = (nodes + 1.0) / 2.0, weights / 2.0
    else:
        offset = {"left": 0.0, "right": 1.0, "midpoint": 0.5}[rule]
        alphas = (np.arange(steps) + offset) / steps
        weights = np.full(steps, 1.0 / steps)
    return alphas, weights


@register("integrated_gradients", aliases=("ig", "integratedgradients"))
class IntegratedGradients(Explainer):
    """Integrated Gradients: gradients averaged along a path from a baseline.

    attribution = (x - baseline) * integral over a in [0, 1] of
    d output[target] / d input at baseline + a * (x - baseline), computed with
    a quadrature rule. The attributions of a row sum to
    output[target](x) - output[target](baseline) up to the quadrature error,
    reported per row as `e.completeness_gap`. When a row's gap exceeds
    `keras_explain.engine.checks.GAP_WARNING` (5%) of |f(x) - f(baseline)| (or of 0.01 when that is
    smaller), a `CompletenessWarning` suggests more steps.

    Args:
        model: a Keras 3 model.
        steps: gradient evaluations per example. Defaults to 50.
        baseline: None (zeros), a number, an array shaped like one example
            (...), or an array of shape (N, ...) with one baseline per example.
            Defaults to None.
        rule: quadrature rule: "trapezoid", "left", "right", "midpoint" or
            "gauss_legendre". Defaults to "trapezoid".
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose`.

    `explain(x, targets=None, baseline=None)`: a `baseline` given here replaces
    the constructor's for this call.

    Returns from `explain`: `Explanation` with `attributions` shaped like x,
    `completeness_gap` (N,) = sum(attributions) - (f(x) - f(baseline)) for the
    explained output, and `baseline_scores` (N,) = f(baseline).

    Example:

    ```python
    ig = kx.IntegratedGradients(model, steps=64)
    e = ig.explain(x)
    abs(e.completeness_gap).max()
    ```

    Reference: Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep
    Networks", ICML 2017.
    """

    method = "integrated_gradients"
    smoothable = True
    config_attributes = ("steps", "baseline", "rule")
    explain_options = {"baseline": "replaces the constructor's baseline for this call"}

    def __init__(self, model, steps=50, baseline=None, rule="trapezoid", **kwargs):
        self.rule = check_choice("rule", rule, _IG_RULES)
        self.steps = check_int("steps", steps, minimum=2 if rule == "trapezoid" else 1)
        self.baseline = check_baseline(baseline, allow_none=True)
        super().__init__(model, **kwargs)

    @property
    def pairs_per_example(self):
        return self.steps

    def plan(self, x, targets, predictions, baseline=None):
        value = self.baseline if baseline is None else check_baseline(baseline, allow_none=True)
        baselines = baseline_values(value, x, full=True)
        alphas, weights = quadrature(self.rule, self.steps)
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            per_example={"baseline": baselines},
            pairs=self.steps,
            per_pair_index={
                "alpha": alphas.astype(np.float32),
                "weight": weights.astype(np.float32),
            },
            extras={"baseline_predictions": self.predict(baselines)},
        )

    def batch_kernel(self, rows):
        x, baseline = rows["x"], rows["baseline"]
        shape = tf.concat([[-1], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0)
        alpha = tf.reshape(rows["alpha"], shape)
        weight = tf.reshape(rows["weight"], shape)
        delta = tf.cast(x - baseline, tf.float32)
        point = baseline + tf.cast(alpha, x.dtype) * (x - baseline)
        gradient, _, _ = target_gradient(self._model_fn, point, rows["target"])
        return {"attributions": weight * gradient * delta}

    def finish(self, plan, sums):
        attributions = sums["attributions"]
        scores = explained_scores(plan.predictions, plan.targets)
        baseline_scores = explained_scores(plan.extras["baseline_predictions"], plan.targets)
        gap = attribution_gap(attributions, scores, baseline_scores)
        message = completeness_message(gap, scores - baseline_scores, self.steps)
        if message:
            warnings.warn(message, CompletenessWarning, stacklevel=3)
        return self.explanation(
            plan,
            attributions,
            completeness_gap=gap,
            baseline_scores=baseline_scores.astype(np.float32),
        )
