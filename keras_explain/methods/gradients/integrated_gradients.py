"""Integrated Gradients and its quadrature rules."""

import warnings

import numpy as np
import tensorflow as tf

import keras_explain.methods.gradients.ig_steps as ig_steps
from keras_explain.engine.baselines import baseline_values, check_baseline
from keras_explain.engine.batching import GroupCollector
from keras_explain.engine.checks import attribution_gap, completeness_message, explained_scores
from keras_explain.engine.embedding import TokenInputs
from keras_explain.engine.errors import check_choice, check_int, fail
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
class IntegratedGradients(TokenInputs, Explainer):
    """Integrated Gradients: gradients averaged along a path from a baseline.

    attribution = (x - baseline) * integral over a in [0, 1] of
    d output[target] / d input at baseline + a * (x - baseline), computed with
    a quadrature rule. The attributions of a row sum to
    output[target](x) - output[target](baseline) up to the quadrature error,
    reported per row as `e.completeness_gap`. When a row's gap exceeds
    `keras_explain.engine.checks.GAP_WARNING` (5%) of |f(x) - f(baseline)| (or of 0.01 when that is
    smaller), a `CompletenessWarning` suggests more steps.

    With `steps="auto"` each example gets the fewest steps that bring its
    relative completeness gap, |gap| / max(|f(x) - f(baseline)|, 0.01),
    under `tolerance`: the rule starts with 8 intervals and doubles them for
    the examples still above it, up to `max_steps` points; the trapezoid,
    left and right rules reuse every point already computed (see
    `keras_explain.methods.gradients.ig_steps`). `e.steps` (N,) gives the
    rule's points each example ended with and `e.gradient_evaluations` (N,)
    what it cost; the result equals a fixed run with `e.steps[i]` steps.

    Args:
        model: a Keras 3 model.
        steps: gradient evaluations per example, or "auto" (see above).
            Defaults to 50.
        baseline: None (zeros), a number, an array shaped like one example
            (...), or an array of shape (N, ...) with one baseline per example.
            Defaults to None.
        rule: quadrature rule: "trapezoid", "left", "right", "midpoint" or
            "gauss_legendre". Defaults to "trapezoid".
        tolerance: with steps="auto", the relative completeness gap to
            reach. Defaults to 1e-3.
        max_steps: with steps="auto", the most points of the rule per
            example. Defaults to 512.
        layer: for a model of token ids, the Embedding layer to explain
            them through (a name, "outer/inner" path or Layer). Defaults to
            None: the model's first Embedding layer, if it has one.
        token_reduce: for token ids, "sum" (one attribution per token,
            (N, T)) or None (per embedding value, (N, T, D)). Defaults to "sum".
        baseline_token: for token ids, a token id (the padding id, say)
            whose embedding is the baseline at every position. Defaults to
            None: `baseline`, in embedding space (zeros when None).
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose`.

    `explain(x, targets=None, baseline=None)`: a `baseline` given here replaces
    the constructor's for this call.

    On a model of token ids (N, T) the path runs in the space of the
    Embedding layer's output E (N, T, D), from the baseline embeddings to
    E(x), the Keras mask (if any) coming from the ids all along; attributions
    are (E(x) - baseline) * the averaged gradient, summed over D, and f(baseline)
    is the model at the baseline embeddings. The explanation has the annotation
    `token_space`; `inputs` stay the ids.

    Returns from `explain`: `Explanation` with `attributions` shaped like x,
    `completeness_gap` (N,) = sum(attributions) - (f(x) - f(baseline)) for the
    explained output, and `baseline_scores` (N,) = f(baseline).

    Example:

    ```python
    ig = kx.IntegratedGradients(model, steps=64)
    e = ig.explain(x)
    abs(e.completeness_gap).max()
    e = kx.IntegratedGradients(model, steps="auto", rule="gauss_legendre").explain(x)
    e.steps                       # (N,) points used per example
    ```

    Reference: Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep
    Networks", ICML 2017.
    """

    method = "integrated_gradients"
    smoothable = True
    config_attributes = ("steps", "baseline", "rule", "tolerance", "max_steps", "baseline_token")
    state_attributes = ("_tokens",)
    explain_options = {"baseline": "replaces the constructor's baseline for this call"}

    def __init__(
        self,
        model,
        steps=50,
        baseline=None,
        rule="trapezoid",
        tolerance=1e-3,
        max_steps=512,
        layer=None,
        token_reduce="sum",
        baseline_token=None,
        **kwargs,
    ):
        self.rule = check_choice("rule", rule, _IG_RULES)
        if not (isinstance(steps, str) and steps == "auto"):
            steps = check_int("steps", steps, minimum=2 if rule == "trapezoid" else 1)
        self.steps = steps
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < 1:
            fail("tolerance", "a number between 0 and 1 (a relative completeness gap)", tolerance)
        self.tolerance = float(tolerance)
        first = ig_steps.rule_points(self.rule, ig_steps.FIRST_INTERVALS)
        self.max_steps = check_int("max_steps", max_steps, minimum=first)
        self.baseline = check_baseline(baseline, allow_none=True)
        self.baseline_token = check_int("baseline_token", baseline_token, minimum=0, allow_none=True)
        super().__init__(model, **kwargs)
        self._setup_tokens(layer, token_reduce)
        if self.baseline_token is not None and (self._tokens is None or baseline is not None):
            fail("baseline_token", "None unless token ids are explained without a baseline", baseline_token)

    @property
    def adaptive(self):
        """True for steps="auto"."""
        return self.steps == "auto"

    @property
    def pairs_per_example(self):
        if self.adaptive:
            return ig_steps.rule_points(self.rule, ig_steps.FIRST_INTERVALS)
        return self.steps

    def plan(self, x, targets, predictions, baseline=None):
        value = self.baseline if baseline is None else check_baseline(baseline, allow_none=True)
        points = quadrature(self.rule, self.pairs_per_example)
        if self._tokens is None:
            return self._path_plan(x, targets, predictions, baseline_values(value, x, full=True), *points)
        token = self.baseline_token if baseline is None else None
        baselines = tf.constant(self._tokens.baseline(x, value, token))
        at_baselines = self._tokens.outputs_at(x, baselines, self.batch_size_for(x))
        return self._path_plan(x, targets, predictions, baselines, *points, baseline_predictions=at_baselines)

    def _path_plan(self, x, targets, predictions, baselines, alphas, weights, baseline_predictions=None):
        """The plan of the points `alphas` (weights `weights`) on every example's path."""
        if baseline_predictions is None:
            baseline_predictions = self.predict(baselines)
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            per_example={"baseline": baselines},
            pairs=len(alphas),
            per_pair_index={
                "alpha": alphas.astype(np.float32),
                "weight": weights.astype(np.float32),
            },
            extras={"baseline_predictions": baseline_predictions},
        )

    def batch_kernel(self, rows):
        x, baseline = rows["x"], rows["baseline"]
        if self._tokens is not None:
            gradient, delta, _, _ = self._tokens.gradient(rows, reference=baseline, alpha=rows["alpha"])
            return {"attributions": self._tokens.reduce(rows["weight"][:, None, None] * gradient * delta)}
        shape = tf.concat([[-1], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0)
        alpha = tf.reshape(rows["alpha"], shape)
        weight = tf.reshape(rows["weight"], shape)
        delta = tf.cast(x - baseline, tf.float32)
        point = baseline + tf.cast(alpha, x.dtype) * (x - baseline)
        gradient, _, _ = target_gradient(self._model_fn, point, rows["target"])
        return {"attributions": weight * gradient * delta}

    def accumulator(self, plan):
        # Adaptive levels add to sums kept in float64, rounded once at the end.
        return GroupCollector(plan.num_groups, keep_float64=self.adaptive)

    def finish(self, plan, sums):
        attributions = sums["attributions"]
        scores = explained_scores(plan.predictions, plan.targets)
        baseline_scores = explained_scores(plan.extras["baseline_predictions"], plan.targets)
        steps = {}
        if self.adaptive:
            attributions, used, cost = self._refine(plan, attributions, scores - baseline_scores)
            attributions = attributions.astype(np.float32)
            steps = {"steps": used, "gradient_evaluations": cost}
        gap = attribution_gap(attributions, scores, baseline_scores)
        message = completeness_message(gap, scores - baseline_scores, self.steps)
        if message:
            warnings.warn(message, CompletenessWarning, stacklevel=3)
        explanation = self.explanation(
            plan,
            attributions,
            completeness_gap=gap,
            baseline_scores=baseline_scores.astype(np.float32),
            **steps,
        )
        return self._token_annotated(explanation)

    def _refine(self, plan, attributions, difference):
        """steps="auto": double the rule for the examples above the tolerance (see `ig_steps`)."""
        nested = self.rule in ig_steps.NESTED_RULES
        intervals = ig_steps.levels(self.rule, self.max_steps)
        points = ig_steps.rule_points(self.rule, intervals[0])
        used = np.full(len(difference), points, np.int64)
        cost = used.copy()
        baselines = plan.per_example["baseline"]
        for before, after in zip(intervals, intervals[1:]):
            gap = attributions.reshape(len(difference), -1).sum(axis=1) - difference
            todo = np.flatnonzero(ig_steps.relative_gaps(gap, difference) > self.tolerance)
            if not len(todo):
                break
            if nested:
                alphas, weights = ig_steps.new_points(before)
            else:
                alphas, weights = quadrature(self.rule, after)
            rows = tf.constant(todo, tf.int32)
            level = self._path_plan(
                tf.gather(plan.x, rows),
                plan.targets[todo],
                plan.predictions[todo],
                tf.gather(baselines, rows),
                alphas,
                weights,
                baseline_predictions=plan.extras["baseline_predictions"][todo],
            )
            added = self.run_plan(level, self.verbose)["attributions"]
            attributions[todo] = (0.5 * attributions[todo] if nested else 0.0) + added
            used[todo] = ig_steps.rule_points(self.rule, after)
            cost[todo] += len(alphas)
        gap = attributions.reshape(len(difference), -1).sum(axis=1) - difference
        short = int((ig_steps.relative_gaps(gap, difference) > self.tolerance).sum())
        if short:
            warnings.warn(
                f"Integrated Gradients: {short} of {len(difference)} example(s) did not reach the "
                f"tolerance {self.tolerance:g} within max_steps={self.max_steps} ({self.rule} rule); raise "
                f"max_steps or use rule='gauss_legendre'.",
                CompletenessWarning,
                stacklevel=4,
            )
        return attributions, used, cost
