"""`Metric`: the base class of every metric, run on the engine's one loop.

A metric scores attributions by what the model does with perturbed inputs.
Work is a list of pairs (example, perturbation), as for an explainer: the
engine cuts them into batches of at most `batch_size`, and the metric's
`kernel` builds each batch's perturbed inputs and runs the model on them
inside one compiled step (a `tf.function` with a None batch dimension,
traced once per metric and model). The kernel returns one value per pair;
`compute` turns the (N, P) values into the per-example scores.
"""

import dataclasses
import inspect
from typing import Any

import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import check_bool, check_choice, check_finite, check_int, describe, fail
from keras_explain.engine.explainer import Explainer, Plan, row_size
from keras_explain.engine.random import pair_below, pair_uniforms
from keras_explain.engine.targets import resolve_targets
from keras_explain.explanation import Explanation

#: The most rows a metric's batch holds by default (explainers, which keep gradients, hold 512).
FORWARD_ROWS = 2048

#: What the metrics may apply to the model's output before reading the target.
ACTIVATIONS = ("softmax", "sigmoid")


class MetricResult:
    """What one metric call found: a score per example, their mean and the details.

    Attributes:
        name: the metric's name (the key of `Explanation.metric_scores`).
        scores: float64 array (N,), one score per example.
        mean: float, the mean score.
        higher_is_better: whether a larger score means a better explanation.
        details: dict of the metric's other results (Deletion's `curve`
            (N, steps + 1) and `fractions`, RandomizationSanity's
            `correlations` (N, L) and `layers`, ...), each also an attribute.

    `np.asarray(result)` is `result.scores`.
    """

    def __init__(self, name, scores, higher_is_better, **details):
        self.name = name
        self.scores = np.asarray(scores, dtype=np.float64)
        self.higher_is_better = bool(higher_is_better)
        self.details = details

    @property
    def mean(self):
        return float(np.mean(self.scores))

    def __getattr__(self, name):
        details = self.__dict__.get("details", {})
        if name in details:
            return details[name]
        raise AttributeError(f"MetricResult of {self.__dict__.get('name')!r} has no attribute {name!r}")

    def __array__(self, dtype=None, copy=None):
        return self.scores if dtype is None else self.scores.astype(dtype)

    def __len__(self):
        return len(self.scores)

    def __repr__(self):
        better = "higher" if self.higher_is_better else "lower"
        return f"MetricResult({self.name!r}, n={len(self)}, mean={self.mean:.4g}, {better} is better)"


@dataclasses.dataclass
class MetricInputs:
    """What one metric call reads, checked: the arrays, the targets and the engine.

    Attributes:
        model: the Keras model.
        x: the examples, numpy (N, ...).
        attributions: float32 (N, ...) like x, or (N, H, W) for images.
        targets: int64 (N,), the explained output per example.
        explanation: the Explanation given, or None for plain attributions.
        engine: the explainer running the metric's kernel on this model.
        activation: what the metric applies to the outputs (see `activated`).
        predictions: float32 (N, K), the model's outputs at x, run through
            the model only when first read (the predicted class needs them;
            Deletion with given targets does not).
        scores: float64 (N,), the explained output at x (after `activation`).
    """

    model: Any
    x: np.ndarray
    attributions: np.ndarray
    targets: np.ndarray
    explanation: Any
    engine: Any
    activation: Any = None
    known_predictions: Any = None

    @property
    def predictions(self):
        if self.known_predictions is None:
            self.known_predictions = self.engine.predict(self.x)
        return self.known_predictions

    @property
    def scores(self):
        outputs = activated(tf.constant(self.predictions), self.activation).numpy()
        return outputs[np.arange(len(self.x)), self.targets].astype(np.float64)

    def __len__(self):
        return len(self.targets)


class MetricEngine(Explainer):
    """The engine's loop run for a metric: each pair is one perturbed input.

    Never registered and never making an Explanation: `run_plan` hands the
    metric's per-pair values back.
    """

    method = "metric"
    accepts_several_inputs = True  # the metric refuses such models in its own words
    state_attributes = ("_kernel",)

    def __init__(self, kernel, model, **options):
        self._kernel = kernel
        super().__init__(model, verbose=0, **options)

    def batch_kernel(self, rows):
        return self._kernel(self.model_function, rows)

    def default_batch_size(self, x):
        """About 2**23 input values per batch, at most `FORWARD_ROWS`: forward passes keep no gradients."""
        return int(np.clip(2**23 // row_size(x), 16, FORWARD_ROWS))


class Metric:
    """Base class of every metric: `metric(model, x, explanation) -> MetricResult`.

    A metric writes `compute(inputs, **options)`, which returns
    `self.result(scores, **details)`, and, when it runs the model on
    perturbed inputs, `kernel(model_function, rows)`: pure TensorFlow over
    one batch of pairs (example, perturbation), fed as for an explainer's
    `batch_kernel` (`rows["x"]`, `rows["target"]`, `rows["pair_index"]`,
    `rows["example_id"]`, what `run` is given per example and per pair),
    returning a dict of tensors (B, ...), one value per pair. It declares:

    * `name`: the name it is known by (`kx.metrics.evaluate`, the command
      line) and the key of its scores in `Explanation.metric_scores`.
    * `higher_is_better`: whether a larger score means a better explanation.
    * `config_attributes`: the constructor arguments `get_config()` returns.
    * `call_options`: the options `__call__` takes beyond `targets`.

    Args:
        output: which output of a multi-output model, by index or name.
            Defaults to None (the only output).
        batch_size: the largest number of perturbed inputs sent through the
            model at once; bounds memory, never changes results. Defaults to
            None: about 2**23 input values, at least 16 and at most 2048
            rows (a forward pass only, so four times an explainer's 512).
        run_eagerly: run the kernel as plain Python, for debugging.
            Defaults to False.
    """

    name = None
    higher_is_better = True
    config_attributes = ("output", "batch_size", "run_eagerly")
    call_options = ()
    activation = None  # what a metric that reads outputs applies first (see `activated`)

    def __init__(self, output=None, batch_size=None, run_eagerly=False):
        if isinstance(output, bool) or not (output is None or isinstance(output, (int, str))):
            fail("output", "None, an output index or an output name", output)
        self.output = output
        self.batch_size = check_int("batch_size", batch_size, minimum=1, allow_none=True)
        self.run_eagerly = check_bool("run_eagerly", run_eagerly)
        self._engine = None

    #: The constructor arguments, as a dict (see `config_attributes`), read as explainers read theirs.
    get_config = Explainer.get_config

    @classmethod
    def constructor_options(cls):
        """Every argument the constructor takes, its bases' included."""
        names = []
        for klass in cls.__mro__:
            init = vars(klass).get("__init__")
            if init is None:
                continue
            for parameter in inspect.signature(init).parameters.values():
                if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
                    if parameter.name != "self" and parameter.name not in names:
                        names.append(parameter.name)
        return names

    def __repr__(self):
        shown = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if not hasattr(v, "shape"))
        return f"{type(self).__name__}({shown})"

    # -- the call ----------------------------------------------------------------

    def __call__(self, model, x, explanation, targets=None, **options):
        """Score attributions of `model` at the examples `x`.

        Args:
            model: the explained Keras model (a single input).
            x: the examples (N, ...), or None to use `explanation.inputs`.
            explanation: an `Explanation`, or its attributions: an array
                (N, ...) shaped like x, or (N, H, W) for images (x (N, H, W, C)).
            targets: the explained output per example: None for the
                explanation's targets (the predicted class for plain
                attributions), an int or an int array (N,).
            **options: the metric's `call_options`.

        Returns:
            `MetricResult`: `scores` (N,), `mean` and the metric's details.

        Raises:
            ValueError: for inputs, attributions or targets that do not fit.
        """
        unknown = sorted(set(options) - set(self.call_options))
        if unknown:
            taken = ", ".join(self.call_options) or "none"
            raise TypeError(f"{type(self).__name__}() got unexpected options {unknown}; it takes {taken}.")
        return self.compute(self.read(model, x, explanation, targets), **options)

    def read(self, model, x, explanation, targets=None):
        """The checked `MetricInputs` of one call."""
        engine = self.engine(model)
        if engine.model_function.several_inputs:
            raise ValueError(
                f"model: expected a model with a single input for {type(self).__name__}, received a "
                f"model with {len(engine.model_function.input_shapes)} inputs."
            )
        found = explanation if isinstance(explanation, Explanation) else None
        attributions = explanation
        if found is not None:
            attributions = found.attributions
            x = found.inputs if x is None else x
            targets = found.targets if targets is None else targets
        if x is None:
            fail("x", "the explained examples (N, ...) with attributions given as an array", x)
        x = engine.model_function.read(x, "x")
        attributions = check_attributions(attributions, x)
        outputs = engine.model_function.output_size()
        predictions = None
        if targets is None or outputs is None:
            predictions = engine.predict(x)
            targets = resolve_targets(targets, len(x), predictions=predictions)
        else:
            targets = resolve_targets(targets, len(x), num_outputs=outputs)
        return MetricInputs(model, x, attributions, targets, found, engine, self.activation, predictions)

    def engine(self, model):
        """The engine of `model`, built on the first call and reused (compiled once)."""
        if self._engine is None or self._engine.model is not model:
            self._engine = MetricEngine(
                self.kernel, model, output=self.output, batch_size=self.batch_size, run_eagerly=self.run_eagerly
            )
        return self._engine

    def run(self, inputs, per_example, pairs, per_pair=None, rows=None):
        """Every (example, perturbation) pair through `kernel`, in bounded batches.

        Args:
            inputs: the call's `MetricInputs`.
            per_example: dict name -> array (N, ...) gathered for each pair.
            pairs: P, perturbations per example.
            per_pair: dict name -> array (N * P, ...), one row per pair.
            rows: a slice of the examples to run (all by default); seeds
                and injected rows follow each example's index in the call.

        Returns:
            dict name -> numpy array (n, P, ...), the kernel's values.
        """
        rows = rows or slice(0, len(inputs))
        # Contiguous examples: a batch's pairs are consecutive in the draw streams (`row_draws`).
        if rows.step not in (None, 1):
            raise ValueError(f"rows: expected a contiguous slice of the examples, received {rows}")
        count = len(range(*rows.indices(len(inputs))))
        fed = {key: value[rows] for key, value in per_example.items()}
        fed["example_id"] = np.arange(len(inputs), dtype=np.int64)[rows]
        start = rows.start or 0
        plan = Plan(
            x=inputs.engine.model_function.tensors(inputs.x[rows]),
            targets=inputs.targets[rows],
            predictions=None,
            per_example=fed,
            pairs=pairs,
            group_size=1,
            per_pair={k: v[start * pairs : (start + count) * pairs] for k, v in (per_pair or {}).items()},
        )
        values = inputs.engine.run_plan(plan)
        return {key: value.reshape((count, pairs) + value.shape[1:]) for key, value in values.items()}

    def result(self, scores, **details):
        """The `MetricResult` of this metric."""
        return MetricResult(self.name, scores, self.higher_is_better, **details)

    # -- what a metric writes ---------------------------------------------------

    def compute(self, inputs, **options):
        """The `MetricResult` from the checked inputs."""
        raise NotImplementedError(f"{type(self).__name__} does not define compute().")

    def kernel(self, model_function, rows):
        """Pure TensorFlow over one batch of pairs; see the class docstring."""
        raise NotImplementedError(f"{type(self).__name__} does not define kernel().")


# -- helpers the metrics share ------------------------------------------------------


def check_attributions(attributions, x, like_x_only=False):
    """Attributions as float32 (N, ...), shaped like x or, for images, (N, H, W).

    Raises:
        ValueError: naming `attributions`, for another shape or non-finite values.
    """
    if isinstance(attributions, (list, tuple)) and attributions and hasattr(attributions[0], "shape"):
        fail("attributions", "one array for a model with a single input", attributions)
    try:
        array = np.asarray(attributions, dtype=np.float32)
    except (TypeError, ValueError):
        fail("attributions", f"an array of shape {x.shape} like x", attributions)
    per_pixel = x.ndim == 4 and not like_x_only
    if array.shape != x.shape and not (per_pixel and array.shape == x.shape[:-1]):
        other = f", or {x.shape[:-1]} with one value per pixel" if per_pixel else ""
        raise ValueError(
            f"attributions: expected an array of shape {x.shape} like x{other}, received "
            f"{describe(np.asarray(attributions))}."
        )
    return check_finite("attributions", array)


def broadcast_like(attributions, x):
    """Per-pixel attributions (N, H, W) as (N, H, W, 1), so that they broadcast against x."""
    return attributions[..., None] if attributions.ndim == x.ndim - 1 else attributions


def check_activation(activation):
    """None, "softmax" or "sigmoid"."""
    if activation is not None:
        check_choice("activation", activation, ACTIVATIONS)
    return activation


def activated(outputs, activation):
    """The model's outputs (B, K) after `activation` (None leaves them as they are)."""
    if activation == "softmax":
        return tf.nn.softmax(outputs, axis=-1)
    if activation == "sigmoid":
        return tf.sigmoid(outputs)
    return outputs


def target_scores(model_function, x, targets, activation=None):
    """The explained output of each row: f(x)[target] (B,), float32."""
    return tf.gather(activated(model_function(x), activation), targets, batch_dims=1)


def resolve_seed(random_state):
    """`random_state`, or a fresh seed when it is None."""
    return int(np.random.default_rng().integers(0, 2**31 - 1)) if random_state is None else random_state


def row_seeds(rows, pairs):
    """The seed of every pair of a batch, (B, 2) int64: (rows["seed"], example * P + pair)."""
    stream = tf.cast(rows["example_id"], tf.int64) * pairs + tf.cast(rows["pair_index"], tf.int64)
    return tf.stack([tf.cast(rows["seed"], tf.int64), stream], axis=1)


def row_draws(rows, pairs, shape, kind="uniform", dtype=tf.float32):
    """Random values (B, *shape) for a batch of pairs, seeded per pair.

    Draw k of example i depends only on (rows["seed"], i, k): the same seed
    gives the same draws whatever the batch size. The pairs of a batch are
    consecutive (example-major, `Metric.run`), so the whole batch is one
    Philox call from its first pair (`keras_explain.engine.random`).

    Args:
        rows: the batch; `rows["seed"]` (B,) int64, `"example_id"`, `"pair_index"`.
        pairs: P, pairs per example.
        shape: the shape of one draw.
        kind: "uniform" in (0, 1) or "normal" (standard, through the inverse
            normal CDF of the uniforms).
    """
    size = int(np.prod(shape))
    first = tf.cast(rows["example_id"][0], tf.int64) * pairs + tf.cast(rows["pair_index"][0], tf.int64)
    uniforms = pair_uniforms(rows["seed"][0], first, tf.shape(rows["example_id"])[0], size)
    if kind == "normal":
        uniforms = tf.math.ndtri(uniforms)
    return tf.cast(tf.reshape(uniforms, [-1, *shape]), dtype)


def row_subsets(rows, pairs, size, probability):
    """Random subsets (B, size) for a batch of pairs: each feature in with `probability`.

    Exactly `row_draws(rows, pairs, (size,)) < probability`, the same
    features for the same seed, compared on the random bits
    (`keras_explain.engine.random.pair_below`).
    """
    first = tf.cast(rows["example_id"][0], tf.int64) * pairs + tf.cast(rows["pair_index"][0], tf.int64)
    return pair_below(rows["seed"][0], first, tf.shape(rows["example_id"])[0], size, probability)


def check_injected(name, values, count, pairs, row_shape, dtype=np.float32):
    """Perturbations given by the caller, (N, P, *row_shape), as rows (N * P, *row_shape).

    Raises:
        ValueError: naming `name`, for another shape or non-finite values.
    """
    expected = (count, pairs) + tuple(row_shape)
    try:
        array = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError):
        fail(name, f"an array of shape {expected}", values)
    if array.shape != expected:
        fail(name, f"an array of shape {expected} (examples, samples, ...)", array)
    return check_finite(name, array).reshape((count * pairs,) + tuple(row_shape))
