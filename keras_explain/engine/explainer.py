"""`Explainer`: the base class that owns the only `explain()` loop (and its `Plan`)."""

__all__ = ["Explainer", "Plan", "row_size"]

import numpy as np
import tensorflow as tf

from keras_explain.engine.batching import (
    GroupCollector,
    collect_groups,
    iterate_groups,
    segment_sums,
)
from keras_explain.engine.compile import CompiledStep
from keras_explain.engine.errors import check_bool, check_int, fail
from keras_explain.engine.model import ModelFunction
from keras_explain.engine.plan import Plan
from keras_explain.engine.registry import methods_taking_several_inputs
from keras_explain.engine.targets import resolve_targets


class Explainer:
    """Base class of every explainer: the one `explain()` loop.

    An *example* is one explained row of `x`; a model *input* is one of the
    model's input tensors (a model may take several). Work is a list of
    *pairs* (example, pair index): one evaluation of the method's kernel, such
    as one interpolation step, one noise draw, one perturbation or one
    background row. The base class reads and checks the examples, computes
    predictions, resolves targets, cuts the pairs into batches of at most
    `batch_size`, runs them through a step compiled once, sums the kernel's
    results per group of pairs inside the graph and hands the sums to the
    method.

    A method is a subclass. It writes its maths in these hooks:

    * `batch_kernel(rows)` (required): pure TensorFlow over one batch of
      pairs. `rows` holds `"x"` (B, ...) and `"target"` (B,) for each pair's
      example, everything in the plan's `per_example`, `per_pair` and
      `per_pair_index`, and `"example_index"` and `"pair_index"` (B,) int32.
      It returns a dict of tensors (B, ...) (or lists of them, one per model
      input), summed per group of pairs by the engine.
    * `plan(x, targets, predictions, **options)`: a `Plan`: how many pairs
      per example, what the kernel is fed, and what `finish` needs. The
      default is one pair per example and no options.
    * `finish(plan, sums)`: numpy post-processing of the group sums into an
      `Explanation`, usually through `self.explanation(plan, attributions,
      ...)`. The default returns `sums["attributions"]`.
    * `read_inputs(x, targets)`: the examples as a checked numpy array and
      the targets to resolve. The default accepts numpy, tf.Tensor and
      tf.data (and lists or dicts for several model inputs). It may return
      a third item, a dict of what reading found (a DataFrame's column
      labels, say), passed to `plan` as keyword arguments.
    * `default_batch_size(x)`: the batch size when the user gave none.
    * `accumulator(plan)`: the object that reduces group sums while they
      stream: `add(first_group, values)` per batch and `result()` for the
      `sums` given to `finish`. The default keeps every group's sums.

    and declares what it can do in class attributes:

    * `method`: the registered name, also `Explanation.method`.
    * `computes_predictions`: the kernel returns the model output `"y"`
      (summed to exactly one per example) and the explained `"target"`, so
      that no separate forward pass is made.
    * `accepts_several_inputs`: models with several inputs are explained;
      `x` and the attributions are then lists with one array per input.
    * `smoothable`: `SmoothGrad` may wrap the method: its kernel is a
      differentiable function of `rows["x"]` alone.
    * `pairs_per_example`: kernel evaluations per example (a property when it
      depends on the configuration); `SmoothGrad` reads it.
    * `model_rows_per_pair`: model rows one pair sends through the model
      (1; KernelSHAP's pair is a coalition over every background row);
      `batch_size` counts model rows, so a batch takes
      batch_size // model_rows_per_pair pairs (at least one).
    * `explain_options`: the options `explain()` takes beyond `x` and
      `targets`, name -> one-line help; the registry and the command line
      read it.
    * `per_example`: False for a method that explains a whole dataset with
      one global result (permutation importance); the callback and the
      command line explain examples one by one and refuse such methods.
    * `computes_in_float32`: a model under mixed precision computes in
      float32 for this method (its kernel needs float32 consistently).
    * `state_attributes`: the private attributes the constructor sets
      besides the base class's; nothing else is stored on the instance.
    * `config_attributes`: the constructor arguments `get_config()` returns,
      read from the public attributes of the same names (each class adds its
      own to its bases'); a method overrides `get_config` only for an
      argument that is stored differently.

    The constructor stores and validates the configuration and checks the
    model; `explain()` never changes the explainer.

    Args:
        model: a Keras 3 model (Sequential, Functional or subclassed).
        output: which output of a multi-output model to explain, by index or
            name. Defaults to None (the model's only output).
        batch_size: the largest number of pairs sent through the model at
            once; bounds memory, never changes results. Defaults to None:
            chosen from the example size (up to 512 pairs of small examples,
            about 64 images of 224x224x3).
        run_eagerly: run the kernel as plain Python for debugging. Defaults to False.
        verbose: 0, 1 or "auto" (a progress bar when writing to a terminal).
            Defaults to "auto".

    Raises:
        RuntimeError: if Keras does not run on the TensorFlow backend.
        ValueError: for a model that is not a Keras 3 model or a bad argument.

    Example, a complete method (gradient x input):

    ```python
    class GradientTimesInput(kx.Explainer):
        method = "gradient_times_input"

        def batch_kernel(self, rows):
            x = rows["x"]
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = self.model_function(x)
                score = tf.gather(y, rows["target"], batch_dims=1)
            return {"attributions": tape.gradient(score, x) * x}
    ```
    """

    method = None
    computes_predictions = False
    accepts_several_inputs = False
    smoothable = False
    pairs_per_example = 1
    model_rows_per_pair = 1
    explain_options = {}
    per_example = True
    computes_in_float32 = False
    state_attributes = ()
    config_attributes = ("output", "batch_size", "run_eagerly", "verbose")

    def __init__(self, model, output=None, batch_size=None, run_eagerly=False, verbose="auto"):
        self._model_fn = ModelFunction(model, output, float32=self.computes_in_float32)
        if self._model_fn.several_inputs and not self.accepts_several_inputs:
            takes = ", ".join(methods_taking_several_inputs())
            raise ValueError(
                f"model: expected a model with a single input for {type(self).__name__}, "
                f"received a model with {len(self._model_fn.input_shapes)} inputs "
                f"({', '.join(self._model_fn.input_names)}); {takes} explain models with "
                f"several inputs."
            )
        self.batch_size = check_int("batch_size", batch_size, minimum=1, allow_none=True)
        self.run_eagerly = check_bool("run_eagerly", run_eagerly)
        self.verbose = _check_verbose(verbose)
        self._step = CompiledStep(self._run_step, run_eagerly=self.run_eagerly)

    # -- configuration -------------------------------------------------------

    @property
    def model(self):
        """The explained Keras model."""
        return self._model_fn.model

    @property
    def model_function(self):
        """The model as a function of its inputs to the explained output (N, K)."""
        return self._model_fn

    @property
    def output(self):
        """The explained output (index, name or None)."""
        return self._model_fn.output

    @property
    def trace_count(self):
        """Number of graph traces so far (one per kind of step and input shape)."""
        return self._step.trace_count

    def get_config(self):
        """The constructor arguments except the model, as a dict (see `config_attributes`)."""
        names = []
        for cls in reversed(type(self).__mro__):
            names += [n for n in vars(cls).get("config_attributes", ()) if n not in names]
        return {name: getattr(self, name) for name in names}

    @classmethod
    def from_config(cls, config, model):
        """Rebuild an explainer of `model` from `get_config()`."""
        return cls(model, **config)

    def reseeded(self, random_state):
        """This explainer drawing with another `random_state`, sharing its model, state and compiled step.

        A method with random draws reads `random_state` on the host, when it
        plans (never inside `batch_kernel`), so the copy explains exactly as
        `from_config({**get_config(), "random_state": random_state}, model)`
        would, without tracing its step again. What the constructor derived
        from the seed (LimeTabular's training statistics) stays the
        original's.

        Raises:
            ValueError: for an explainer without `random_state`, or a bad seed.
        """
        if "random_state" not in self.get_config():
            fail("random_state", f"no seed: {type(self).__name__} draws nothing at random", random_state)
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.random_state = check_int("random_state", random_state, minimum=0)
        return copy

    def __repr__(self):
        items = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if not _is_array(v))
        return f"{type(self).__name__}({items})"

    # -- the one explain loop -----------------------------------------------

    def explain(self, x, targets=None, verbose=None, **options):
        """Explain the model's output for a batch of examples.

        Args:
            x: examples (N, ...): a numpy array, tf.Tensor or tf.data.Dataset
                of x or (x, y) (labels are ignored). For a model with several
                inputs (methods that take one), a list of arrays, one per
                model input, or a dict keyed by input name.
            targets: the output explained per example: None for the predicted
                class (argmax; output 0 for a single-output model), an int for
                all examples, or an int array of shape (N,).
            verbose: overrides the explainer's `verbose` for this call.
                Defaults to None.
            **options: the method's `explain_options`.

        Returns:
            `Explanation`.

        Raises:
            ValueError: for examples of the wrong shape, NaN or infinite
                values, or targets out of range.
        """
        verbose = self.verbose if verbose is None else _check_verbose(verbose)
        unknown = sorted(set(options) - set(self.explain_options))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.explain() got unexpected options {unknown}; it takes "
                f"{sorted(self.explain_options) or 'none'}."
            )
        read = self.read_inputs(x, targets)
        x_np, targets = read[:2]
        found = read[2] if len(read) > 2 else {}
        x_tensor = self._model_fn.tensors(x_np)
        count = _rows(x_tensor)
        if self.computes_predictions:
            predictions = None
            resolved = resolve_targets(targets, count, num_outputs=self._model_fn.output_size())
        else:
            predictions = self.predict(x_tensor)
            resolved = resolve_targets(targets, count, predictions=predictions)
        plan = self.plan(x_tensor, resolved, predictions, **options, **found)
        plan.inputs = x_np
        return self.finish(plan, self.run_plan(self.first_run(plan), verbose))

    def first_run(self, plan):
        """The plan that `explain` runs before `finish(plan, sums)`: `plan` itself unless overridden.

        A method that refines adaptively returns its first level here, and
        runs further levels from `finish` with `run_plan`.
        """
        return plan

    def run_plan(self, plan, verbose=0):
        """Run every pair of `plan` through the kernel; the accumulator's result."""
        per_example = dict(plan.per_example)
        per_example["x"] = plan.x
        per_example["target"] = plan.targets.astype(np.int32)
        # Single-pair groups skip the in-graph sum: a separate kind of step.
        kind = "pairs" if (plan.group_size or plan.pairs) == 1 else "groups"
        groups = iterate_groups(
            lambda feed: self._step(kind, feed),
            per_example,
            plan.num_examples,
            pairs=plan.pairs,
            group_size=plan.group_size,
            batch_size=self.batch_size_for(plan.x),
            per_pair=plan.per_pair,
            per_pair_index=plan.per_pair_index,
            whole=plan.shared,
            verbose=verbose,
        )
        accumulator = self.accumulator(plan)
        for first, values in groups:
            accumulator.add(first, values)
        return accumulator.result()

    def predict(self, x):
        """Model outputs (N, K) for examples x, through the compiled step.

        Args:
            x: numpy array or tensor (N, ...); for a model with several
                inputs, a list of them.

        Returns:
            np.ndarray float32 (N, K).
        """
        x = self._model_fn.tensors(x)
        count = _rows(x)
        groups = iterate_groups(
            lambda feed: self._step("forward", feed),
            {"x": x},
            count,
            batch_size=self._model_rows(x),
            verbose=0,
        )
        return collect_groups(groups, count)["y"]

    def batch_size_for(self, x):
        """Pairs per batch for examples x: `batch_size` (or `default_batch_size(x)`) model rows."""
        return max(1, self._model_rows(x) // self.model_rows_per_pair)

    def _model_rows(self, x):
        return self.batch_size if self.batch_size is not None else self.default_batch_size(x)

    def _run_step(self, kind, tensors):
        if kind == "forward":
            return {"y": self._model_fn(tensors["x"])}
        values = self.batch_kernel(tensors)
        return segment_sums(values, tensors["segment"], 1 if kind == "pairs" else None)

    # -- the hooks a method writes -------------------------------------------

    def read_inputs(self, x, targets):
        """The examples as a checked numpy array (N, ...), and the targets to resolve."""
        return self._model_fn.read(x, "x"), targets

    def default_batch_size(self, x):
        """Pairs per batch when `batch_size` is None: about 2**23 input values."""
        return int(np.clip(2**23 // row_size(x), 16, 512))

    def plan(self, x, targets, predictions, **options):
        """One pair per example; see the class docstring."""
        return Plan(x=x, targets=targets, predictions=predictions)

    def batch_kernel(self, rows):
        """Pure TensorFlow over one batch of pairs; see the class docstring."""
        raise NotImplementedError(f"{type(self).__name__} does not define batch_kernel().")

    def accumulator(self, plan):
        """The reduction of group sums while they stream; keeps every group by default."""
        return GroupCollector(plan.num_groups)

    def finish(self, plan, sums):
        """The Explanation from the group sums; see the class docstring."""
        return self.explanation(plan, sums["attributions"], **_kernel_predictions(sums))

    def explanation(self, plan, attributions, targets=None, predictions=None, **parts):
        """The Explanation with the shared fields filled in from `plan`."""
        from keras_explain.explanation import Explanation

        explanation = Explanation(
            attributions=attributions,
            inputs=plan.inputs,
            targets=plan.targets if targets is None else targets,
            predictions=plan.predictions if predictions is None else predictions,
            method=self.method,
            config=self.get_config(),
            **parts,
        )
        explanation.explainer = self
        return explanation


def _kernel_predictions(sums):
    """Targets and predictions a kernel returned (methods that compute predictions)."""
    found = {}
    if "target" in sums:
        found["targets"] = sums["target"].astype(np.int64)
    if "y" in sums:
        found["predictions"] = sums["y"]
    return found


def _check_verbose(verbose):
    if verbose not in (0, 1, "auto", True, False):
        fail("verbose", "0, 1 or 'auto'", verbose)
    return verbose


def _is_array(value):
    """True for an array (or a list of arrays, one per model input) too long to show."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
        return True
    return isinstance(value, np.ndarray) and value.size > 1


def _rows(x):
    """N, the number of examples of a tensor or of a list of tensors (one per model input)."""
    return int(tf.nest.flatten(x)[0].shape[0])


def row_size(x):
    """Values per example, summed over the model's inputs (at least 1)."""
    return sum(int(np.prod(part.shape[1:])) for part in tf.nest.flatten(x)) or 1
