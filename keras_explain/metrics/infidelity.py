"""Infidelity and MaxSensitivity (Yeh et al. 2019), with captum's definitions."""

import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import check_bool, check_choice, check_float, check_int
from keras_explain.engine.explainer import row_size
from keras_explain.metrics.base import (
    Metric,
    broadcast_like,
    check_activation,
    check_injected,
    resolve_seed,
    row_draws,
    row_seeds,
    target_scores,
)
from keras_explain.metrics.explainers import check_explainer, explainer_for

#: Values of perturbed inputs held at once by MaxSensitivity between explanations.
CHUNK_VALUES = 2**24


def check_perturbation(perturbation, name):
    """A built-in perturbation's name, or a callable."""
    if callable(perturbation):
        return perturbation
    return check_choice("perturbation", perturbation, (name,))


class Infidelity(Metric):
    """Explanation infidelity (Yeh et al. 2019), as captum's `infidelity` computes it.

    For perturbations I drawn from a distribution μ (by default Gaussian:
    I ~ N(0, radius²) for every value, the perturbed input x - I):

        INFD(a, f, x) = E_I[ (I · a - (f(x) - f(x - I)))² ]

    estimated with `nb_samples` draws per example. With `normalize=True`
    the attributions are first scaled by the best constant,
    β = E[(I · a)(f(x) - f(x - I))] / E[(I · a)²] (captum's `normalize`), so
    that the score does not depend on the attributions' scale. Lower is
    better: 0 when the attributions predict every output change exactly.
    Attributions (N, H, W) of images (N, H, W, C) count for every channel.

    Args:
        nb_samples: perturbations per example (captum's `n_perturb_samples`).
            Defaults to 10.
        perturbation: "gaussian", or a function `fn(x, seeds, radius)`
            written in TensorFlow that takes a batch x (B, ...) and seeds
            (B, 2) int64 (one per perturbation, for
            `tf.random.stateless_*`) and returns (I, perturbed inputs), both
            shaped like x. Defaults to "gaussian".
        radius: the Gaussian's standard deviation (passed to a function).
            Defaults to 0.1.
        normalize: scale the attributions by β first. Defaults to False.
        activation: None, "softmax" or "sigmoid", applied to the model's
            outputs before the target is read. Defaults to None.
        random_state: int seed; draw k of example i depends only on the seed,
            i and k. None draws a fresh seed.
        **kwargs: `output`, `batch_size`, `run_eagerly` (see `Metric`).

    A call may give the perturbations I instead: `perturbations=` an array
    (N, nb_samples, ...) shaped like x per sample (the perturbed input is
    x - I). The result has `dots` (I · a) and `drops` (f(x) - f(x - I)),
    (N, nb_samples), and `beta` (N,) with `normalize`.

    Example:

    ```python
    result = kx.metrics.Infidelity(nb_samples=32, radius=0.05, random_state=0)(model, x, e)
    ```

    Reference: Yeh, Hsieh, Suggala, Inouye and Ravikumar, "On the
    (In)fidelity and Sensitivity of Explanations", NeurIPS 2019.
    """

    name = "infidelity"
    higher_is_better = False
    call_options = ("perturbations",)
    config_attributes = ("nb_samples", "perturbation", "radius", "normalize", "activation", "random_state")

    def __init__(
        self, nb_samples=10, perturbation="gaussian", radius=0.1, normalize=False, activation=None,
        random_state=None, **kwargs,
    ):
        super().__init__(**kwargs)
        self.nb_samples = check_int("nb_samples", nb_samples, minimum=1)
        self.perturbation = check_perturbation(perturbation, "gaussian")
        self.radius = check_float("radius", radius, minimum=0.0, strict_minimum=True)
        self.normalize = check_bool("normalize", normalize)
        self.activation = check_activation(activation)
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)

    def compute(self, inputs, perturbations=None):
        count, samples = len(inputs), self.nb_samples
        per_example = {
            "attributions": broadcast_like(inputs.attributions, inputs.x),
            "seed": np.full(count, resolve_seed(self.random_state), np.int64),
        }
        per_pair = {}
        if perturbations is not None:
            per_pair["noise"] = check_injected("perturbations", perturbations, count, samples, inputs.x.shape[1:])
        out = self.run(inputs, per_example, samples, per_pair=per_pair)
        dots = out["dot"].astype(np.float64)
        drops = inputs.scores[:, None] - out["score"].astype(np.float64)
        if not self.normalize:
            return self.result(((dots - drops) ** 2).mean(axis=1), dots=dots, drops=drops)
        squares, products = (dots**2).sum(axis=1), (dots * drops).sum(axis=1)
        beta = products / np.where(squares != 0, squares, 1.0)
        scores = (beta**2 * squares - 2 * beta * products + (drops**2).sum(axis=1)) / samples
        return self.result(scores, dots=dots, drops=drops, beta=beta)

    def kernel(self, model_function, rows):
        x = rows["x"]
        if "noise" in rows:
            noise = tf.cast(rows["noise"], x.dtype)
            perturbed = x - noise
        elif callable(self.perturbation):
            noise, perturbed = self.perturbation(x, row_seeds(rows, self.nb_samples), self.radius)
        else:
            noise = self.radius * row_draws(rows, self.nb_samples, tuple(x.shape[1:]), "normal", x.dtype)
            perturbed = x - noise
        dots = tf.cast(rows["attributions"], tf.float32) * tf.cast(noise, tf.float32)
        return {
            "score": target_scores(model_function, perturbed, rows["target"], self.activation),
            "dot": tf.reduce_sum(tf.reshape(dots, (tf.shape(dots)[0], -1)), axis=1),
        }


class MaxSensitivity(Metric):
    """Max-sensitivity (Yeh et al. 2019), as captum's `sensitivity_max` computes it.

    The explainer explains `nb_samples` perturbed copies x + δ of every
    example (by default δ uniform in the L∞ ball of `radius`), for the same
    targets, and the score is the largest relative change of the
    attributions:

        SENS_max(a, x) = max_δ ‖a(x + δ) - a(x)‖₂ / ‖a(x)‖₂

    (‖a(x)‖ = 0 counts as 1, as in captum). a(x) is the attributions given.
    Lower is better. The perturbed copies are built in the compiled step and
    explained in chunks of at most about 16 million values.

    Args:
        explainer: what re-explains: an explainer instance (rebuilt from its
            config when it explains another model), a method name (built
            with `method_options`), or None for the explanation's own
            explainer. Defaults to None.
        nb_samples: perturbed copies per example. Defaults to 10.
        radius: the half-width of the uniform noise. Defaults to 0.02.
        perturbation: "uniform", or a function `fn(x, seeds, radius)` in
            TensorFlow returning the perturbed inputs (see `Infidelity`).
            Defaults to "uniform".
        random_state: int seed of the noise; None draws a fresh seed.
        method_options: options of a method given by name. Defaults to None.
        **kwargs: `output`, `batch_size`, `run_eagerly` (see `Metric`).

    A call may give the noise instead: `perturbations=` δ (N, nb_samples,
    ...). The result has `sensitivities` (N, nb_samples).

    Raises:
        ValueError: for attributions given as an array without `explainer`.

    Example:

    ```python
    e = kx.GradientSaliency(model).explain(x)
    kx.metrics.MaxSensitivity(radius=0.05, random_state=0)(model, x, e).scores
    ```

    Reference: Yeh, Hsieh, Suggala, Inouye and Ravikumar, "On the
    (In)fidelity and Sensitivity of Explanations", NeurIPS 2019.
    """

    name = "max_sensitivity"
    higher_is_better = False
    call_options = ("perturbations",)
    config_attributes = ("explainer", "nb_samples", "radius", "perturbation", "random_state", "method_options")

    def __init__(
        self, explainer=None, nb_samples=10, radius=0.02, perturbation="uniform", random_state=None,
        method_options=None, **kwargs,
    ):
        super().__init__(**kwargs)
        self.explainer, self.method_options = check_explainer(explainer, method_options)
        self.nb_samples = check_int("nb_samples", nb_samples, minimum=1)
        self.radius = check_float("radius", radius, minimum=0.0, strict_minimum=True)
        self.perturbation = check_perturbation(perturbation, "uniform")
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)

    def compute(self, inputs, perturbations=None):
        explainer, options = explainer_for(self.explainer, self.method_options, inputs, type(self).__name__)
        count, samples, shape = len(inputs), self.nb_samples, inputs.x.shape[1:]
        per_example = {"seed": np.full(count, resolve_seed(self.random_state), np.int64)}
        per_pair = {}
        if perturbations is not None:
            per_pair["noise"] = check_injected("perturbations", perturbations, count, samples, shape)
        original = inputs.attributions.reshape(count, -1).astype(np.float64)
        norms = np.linalg.norm(original, axis=1)
        norms = np.where(norms == 0.0, 1.0, norms)
        chunk = max(1, CHUNK_VALUES // (samples * row_size(inputs.x)))
        sensitivities = np.empty((count, samples))
        for start in range(0, count, chunk):
            rows = slice(start, min(count, start + chunk))
            moved = self.run(inputs, per_example, samples, per_pair=per_pair, rows=rows)["x"]
            size = len(moved)
            again = explainer.explain(
                moved.reshape((size * samples,) + shape),
                targets=np.repeat(inputs.targets[rows], samples),
                verbose=0,
                **options,
            ).attributions
            if np.shape(again)[1:] != inputs.attributions.shape[1:]:
                raise ValueError(
                    f"attributions: expected the shape the explainer gives, (N,) + {np.shape(again)[1:]}, "
                    f"received {inputs.attributions.shape}."
                )
            changes = np.asarray(again, np.float64).reshape(size, samples, -1) - original[rows, None, :]
            sensitivities[rows] = np.linalg.norm(changes, axis=2) / norms[rows, None]
        return self.result(sensitivities.max(axis=1), sensitivities=sensitivities)

    def kernel(self, model_function, rows):
        x = rows["x"]
        if "noise" in rows:
            return {"x": x + tf.cast(rows["noise"], x.dtype)}
        if callable(self.perturbation):
            return {"x": self.perturbation(x, row_seeds(rows, self.nb_samples), self.radius)}
        uniform = row_draws(rows, self.nb_samples, tuple(x.shape[1:]), "uniform", x.dtype)
        return {"x": x + self.radius * (2.0 * uniform - 1.0)}
