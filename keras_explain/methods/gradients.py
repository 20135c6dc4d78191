"""Gradient explainers: saliency, Integrated Gradients and SmoothGrad."""

import numpy as np
import tensorflow as tf

from keras_explain.core.base import Explainer, Plan
from keras_explain.core.gradients import target_gradient
from keras_explain.core.registry import register
from keras_explain.core.validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    describe,
    fail,
)

def _row_sums(array):
    """Sum every axis but the first: (N, ...) -> (N,)."""
    return array.reshape(len(array), -1).sum(axis=1)


@register("saliency", aliases=("gradient", "gradients", "vanilla_gradient"))
class GradientSaliency(Explainer):
    """Vanilla gradient saliency: d output[target] / d input.

    Args:
        model: a Keras 3 model (Sequential, Functional or subclassed).
        absolute: return |gradient| instead of the signed gradient.
            Defaults to False.
        multiply_by_inputs: return gradient * input ("gradient x input").
            Defaults to False.
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose` as in
            `keras_explain.Explainer`.

    `explain(x, targets=None)` returns an `Explanation` whose `attributions`
    have the shape of x, (N, ...) (for a model with several inputs, x and the
    attributions are lists with one array per input). The gradient and the
    model outputs come from the same pass through the model.

    Example:

    ```python
    e = kx.GradientSaliency(model).explain(x_test[:8])
    e.heatmap(reduce="max_abs")   # (8, H, W)
    ```

    Reference: Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional
    Networks: Visualising Image Classification Models and Saliency Maps", 2014.
    """

    method = "saliency"
    _kernel_predicts = True
    _multi_input = True
    _smoothable = True
    _samples = 1

    def __init__(self, model, absolute=False, multiply_by_inputs=False, **kwargs):
        self.absolute = check_bool("absolute", absolute)
        self.multiply_by_inputs = check_bool("multiply_by_inputs", multiply_by_inputs)
        super().__init__(model, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(absolute=self.absolute, multiply_by_inputs=self.multiply_by_inputs)
        return config

    def _pair(self, rows):
        x = rows["x"]
        gradient, y, chosen = target_gradient(self._model_fn, x, rows["target"])

        def finish(g, part):
            if self.multiply_by_inputs:
                g = g * tf.cast(part, g.dtype)
            return tf.abs(g) if self.absolute else g

        return {"attributions": tf.nest.map_structure(finish, gradient, x), "y": y, "target": chosen}


_IG_RULES = ("trapezoid", "left", "right", "midpoint", "gauss_legendre")


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
    reported per row as `e.completeness_gap`.

    Args:
        model: a Keras 3 model.
        steps: gradient evaluations per input. Defaults to 50.
        baseline: None (zeros), a number, an array shaped like one input
            (...), or an array of shape (N, ...) with one baseline per input.
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
    _smoothable = True

    def __init__(self, model, steps=50, baseline=None, rule="trapezoid", **kwargs):
        self.rule = check_choice("rule", rule, _IG_RULES)
        self.steps = check_int("steps", steps, minimum=2 if rule == "trapezoid" else 1)
        self.baseline = _check_baseline_value(baseline)
        super().__init__(model, **kwargs)
        alphas, weights = quadrature(self.rule, self.steps)
        self._alphas = tf.constant(alphas, tf.float32)
        self._weights = tf.constant(weights, tf.float32)

    @property
    def _samples(self):
        return self.steps

    def get_config(self):
        config = super().get_config()
        config.update(steps=self.steps, baseline=self.baseline, rule=self.rule)
        return config

    def _plan(self, x, targets, predictions, baseline=None):
        value = self.baseline if baseline is None else _check_baseline_value(baseline)
        baselines = broadcast_baseline(value, x)
        baseline_predictions = self.predict(baselines)
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            per_input={"baseline": baselines},
            samples=self.steps,
            extras={"baseline_predictions": baseline_predictions},
        )

    def _pair(self, rows):
        x, baseline = rows["x"], rows["baseline"]
        k = rows["sample_index"]
        shape = tf.concat([[-1], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0)
        alpha = tf.reshape(tf.gather(self._alphas, k), shape)
        weight = tf.reshape(tf.gather(self._weights, k), shape)
        delta = tf.cast(x - baseline, tf.float32)
        point = baseline + tf.cast(alpha, x.dtype) * (x - baseline)
        gradient, _, _ = target_gradient(self._model_fn, point, rows["target"])
        return {"attributions": weight * gradient * delta}

    def _finish(self, plan, sums):
        attributions = sums["attributions"]
        rows = np.arange(len(plan.targets))
        scores = plan.predictions[rows, plan.targets]
        baseline_scores = plan.extras["baseline_predictions"][rows, plan.targets]
        gap = _row_sums(attributions.astype(np.float64)) - (
            scores.astype(np.float64) - baseline_scores
        )
        return self._explanation(
            plan,
            attributions,
            completeness_gap=gap,
            baseline_scores=baseline_scores,
        )


def _check_baseline_value(baseline):
    if baseline is None:
        return None
    if isinstance(baseline, (bool, np.bool_)):
        fail("baseline", "None, a number or an array", baseline)
    if isinstance(baseline, (int, float, np.number)):
        return check_float("baseline", baseline)
    try:
        array = np.asarray(baseline, dtype=np.float32)
    except (TypeError, ValueError):
        fail("baseline", "None, a number or an array", baseline)
    if not np.all(np.isfinite(array)):
        fail("baseline", "finite values", array)
    return array


def broadcast_baseline(value, x):
    """A baseline tensor (N, ...) for inputs x from None, a number or an array."""
    if value is None:
        return tf.zeros_like(x)
    if np.isscalar(value) or np.ndim(value) == 0:
        return tf.fill(tf.shape(x), tf.cast(value, x.dtype))
    array = np.asarray(value)
    single = tuple(x.shape[1:])
    if array.shape == single:
        return tf.broadcast_to(tf.constant(array, x.dtype), tf.shape(x))
    if array.shape == tuple(x.shape):
        return tf.constant(array, x.dtype)
    raise ValueError(
        f"baseline: expected a number, an array of shape {single} (one input) or "
        f"{tuple(x.shape)} (one per input), received {describe(array)}."
    )


_SMOOTH_MODES = ("mean", "square", "variance")


@register("smoothgrad", aliases=("smooth_grad",), wraps="saliency")
class SmoothGrad(Explainer):
    """SmoothGrad: average a gradient explainer over noisy copies of each input.

    Each input x gets `samples` copies x + e, e ~ Normal(0, sigma^2) with
    sigma = noise * (max(x) - min(x)) for that input; the wrapped explainer
    runs on every copy (an Integrated Gradients wrapper runs its whole path on
    each) and the results are combined per `mode`.

    Args:
        explainer: the gradient explainer to smooth: `GradientSaliency`,
            `IntegratedGradients` or `GradCAM`. Its model, output and
            options are used as they are.
        samples: noisy copies per input. Defaults to 32.
        noise: noise standard deviation as a fraction of each input's value
            range. Defaults to 0.15.
        mode: "mean" (SmoothGrad), "square" (SquareGrad, the mean of squares)
            or "variance" (VarGrad). Defaults to "mean".
        random_state: int seed; the same seed gives identical results.
            Defaults to None (a fresh draw per call).
        batch_size, run_eagerly, verbose: as in `keras_explain.Explainer`;
            `batch_size` defaults to the wrapped explainer's.

    `explain(x, targets=None, **options)` passes `options` to the wrapped
    explainer (for example an Integrated Gradients `baseline`). Targets default
    to the prediction on the clean input.

    Example:

    ```python
    sg = kx.SmoothGrad(kx.GradientSaliency(model), samples=32, noise=0.15)
    e = sg.explain(x, targets=y)
    ```

    References: Smilkov et al., "SmoothGrad: removing noise by adding noise",
    2017; Adebayo et al., "Local Explanation Methods for Deep Neural Networks
    Lack Sensitivity to Parameter Values", 2018 (VarGrad); Hooker et al., "A
    Benchmark for Interpretability Methods in Deep Neural Networks", 2019
    (SquareGrad).
    """

    method = "smoothgrad"

    def __init__(
        self,
        explainer,
        samples=32,
        noise=0.15,
        mode="mean",
        random_state=None,
        batch_size=None,
        run_eagerly=False,
        verbose="auto",
    ):
        if not getattr(explainer, "_smoothable", False):
            fail(
                "explainer",
                "a gradient explainer instance (GradientSaliency, IntegratedGradients or GradCAM)",
                explainer,
            )
        self.explainer = explainer
        self.samples = check_int("samples", samples, minimum=1)
        self.noise = check_float("noise", noise, minimum=0.0)
        self.mode = check_choice("mode", mode, _SMOOTH_MODES)
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
        if batch_size is None:
            batch_size = explainer.batch_size
        super().__init__(
            explainer.model,
            output=explainer.output,
            batch_size=batch_size,
            run_eagerly=run_eagerly,
            verbose=verbose,
        )

    def get_config(self):
        config = super().get_config()
        del config["output"]
        config.update(
            explainer={
                "class_name": type(self.explainer).__name__,
                "config": self.explainer.get_config(),
            },
            samples=self.samples,
            noise=self.noise,
            mode=self.mode,
            random_state=self.random_state,
        )
        return config

    @classmethod
    def from_config(cls, config, model):
        from keras_explain.core.registry import explainer_class

        config = dict(config)
        inner = config.pop("explainer")
        explainer = explainer_class(inner["class_name"]).from_config(inner["config"], model)
        return cls(explainer, **config)

    def _plan(self, x, targets, predictions, **options):
        inner = self.explainer._plan(x, targets, predictions, **options)
        flat = tf.reshape(x, [tf.shape(x)[0], -1])
        sigma = self.noise * (tf.reduce_max(flat, axis=1) - tf.reduce_min(flat, axis=1))
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        per_input = dict(inner.per_input)
        per_input["noise_sigma"] = tf.cast(sigma, tf.float32)
        per_input["noise_seed"] = tf.fill([tf.shape(x)[0]], tf.constant(seed, tf.int64))
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            per_input=per_input,
            samples=self.samples * inner.samples,
            group_size=inner.samples,
            extras={"inner": inner},
        )

    def _pair(self, rows):
        inner_samples = self.explainer._samples
        k = rows["sample_index"]
        draw = k // inner_samples
        stream = tf.cast(rows["input_index"], tf.int64) * self.samples + tf.cast(draw, tf.int64)
        seeds = tf.stack([rows["noise_seed"], stream], axis=1)
        x = rows["x"]
        noise = tf.map_fn(
            lambda seed: tf.random.stateless_normal(tf.shape(x)[1:], seed=seed, dtype=x.dtype),
            seeds,
            fn_output_signature=tf.TensorSpec(x.shape[1:], x.dtype),
        )
        sigma = tf.reshape(
            tf.cast(rows["noise_sigma"], x.dtype),
            tf.concat([[-1], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0),
        )
        inner_rows = dict(rows)
        inner_rows["x"] = x + sigma * noise
        inner_rows["sample_index"] = k % inner_samples
        return {"attributions": self.explainer._pair(inner_rows)["attributions"]}

    def _accumulate(self, plan, groups):
        total = squares = None
        for first, values in groups:
            value = values["attributions"].astype(np.float64)
            if total is None:
                shape = (len(plan.targets),) + value.shape[1:]
                total, squares = np.zeros(shape), np.zeros(shape)
            owners = (first + np.arange(len(value))) // self.samples
            for owner in np.unique(owners):
                draws = value[owners == owner]
                total[owner] += draws.sum(axis=0)
                squares[owner] += (draws * draws).sum(axis=0)
        return {"sum": total, "sum_squares": squares}

    def _finish(self, plan, sums):
        mean = sums["sum"] / self.samples
        if self.mode == "mean":
            attributions = mean
        elif self.mode == "square":
            attributions = sums["sum_squares"] / self.samples
        else:
            attributions = np.maximum(sums["sum_squares"] / self.samples - mean * mean, 0.0)
        return self._explanation(plan, attributions.astype(np.float32))
