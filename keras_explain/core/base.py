"""`Explainer`: the base class that owns the only `explain()` loop.

A method writes three things, nothing else:

* `_plan(x, targets, predictions, **options)`: per-input rows and the number of
  samples per input (interpolation steps, noise draws, ...), as a `Plan`;
* `_pair(rows)`: pure TensorFlow over one batch of (input, sample) pairs,
  returning per-pair tensors that are summed per group of pairs;
* `_finish(plan, sums)`: numpy post-processing into an `Explanation`.

The base class validates inputs, computes predictions, resolves targets, runs
the shared batching loop over a step compiled once, and builds the result.
"""

import dataclasses
from typing import Any, Dict, Optional

import numpy as np
import tensorflow as tf

from keras_explain.core.batching import collect_groups, iterate_groups, segment_sums
from keras_explain.core.compile import CompiledStep
from keras_explain.core.model import ModelFunction
from keras_explain.core.targets import resolve_targets
from keras_explain.core.validation import check_bool, check_int, fail
from keras_explain.explanation import Explanation


@dataclasses.dataclass
class Plan:
    """What one `explain()` call will compute.

    Attributes:
        x: the inputs as a float tensor (N, ...).
        targets: int64 array (N,), -1 where the kernel picks the argmax itself.
        predictions: model outputs (N, K), or None when the kernel returns them.
        per_input: extra tensors (N, ...) gathered for every pair of an input.
        samples: pairs per input.
        group_size: consecutive pairs summed together (divides `samples`).
        per_pair: arrays (N * samples, ...) sliced per batch.
        per_sample: arrays (samples, ...) gathered by each pair's sample
            index (for example a background shared by every input).
        extras: anything `_finish` needs that is not a tensor.
        inputs: the inputs as the user gave them (numpy), set by `explain()`.
    """

    x: Any
    targets: np.ndarray
    predictions: Optional[np.ndarray]
    per_input: Dict[str, Any] = dataclasses.field(default_factory=dict)
    samples: int = 1
    group_size: Optional[int] = None
    per_pair: Dict[str, Any] = dataclasses.field(default_factory=dict)
    per_sample: Dict[str, Any] = dataclasses.field(default_factory=dict)
    extras: Dict[str, Any] = dataclasses.field(default_factory=dict)
    inputs: Optional[np.ndarray] = None


class Explainer:
    """Base class of every explainer.

    Args:
        model: a Keras 3 model (Sequential, Functional or subclassed).
        output: which output of a multi-output model to explain, by index or
            name. Defaults to None (the model's only output).
        batch_size: the largest number of rows sent through the model at once;
            bounds memory, never changes results. Defaults to None: chosen from
            the input size (up to 512 rows of small inputs, about 64 images of
            224x224x3).
        run_eagerly: run the kernel as plain Python for debugging. Defaults to False.
        verbose: 0, 1 or "auto" (a progress bar when writing to a terminal).
            Defaults to "auto".

    Raises:
        RuntimeError: if Keras does not run on the TensorFlow backend.
        ValueError: for a model that is not a Keras 3 model or a bad argument.
    """

    #: Registry name of the method, set by each subclass.
    method = None
    #: True when `_pair` computes the model output at x itself (no separate
    #: forward pass is needed for predictions and predicted-class targets).
    _kernel_predicts = False
    #: True when the method takes models with several inputs: `x` (and the
    #: attributions) are then lists with one array per model input.
    _multi_input = False

    def __init__(self, model, output=None, batch_size=None, run_eagerly=False, verbose="auto"):
        self._model_fn = ModelFunction(model, output)
        if self._model_fn.multiple and not self._multi_input:
            takes = ", ".join(_multi_input_methods())
            raise ValueError(
                f"model: expected a model with a single input for {type(self).__name__}, "
                f"received a model with {len(self._model_fn.input_shapes)} inputs "
                f"({', '.join(self._model_fn.input_names)}); {takes} explain models with "
                f"several inputs."
            )
        self.batch_size = check_int("batch_size", batch_size, minimum=1, allow_none=True)
        self.run_eagerly = check_bool("run_eagerly", run_eagerly)
        if verbose not in (0, 1, "auto", True, False):
            fail("verbose", "0, 1 or 'auto'", verbose)
        self.verbose = verbose
        self._step = CompiledStep(self._run_step, run_eagerly=self.run_eagerly)

    # -- configuration -------------------------------------------------------

    @property
    def model(self):
        """The explained Keras model."""
        return self._model_fn.model

    @property
    def output(self):
        """The explained output (index, name or None)."""
        return self._model_fn.output

    @property
    def trace_count(self):
        """Number of graph traces so far (one per kind of step and input shape)."""
        return self._step.trace_count

    def get_config(self):
        """The constructor arguments except the model, as a dict."""
        return {
            "output": self.output,
            "batch_size": self.batch_size,
            "run_eagerly": self.run_eagerly,
            "verbose": self.verbose,
        }

    @classmethod
    def from_config(cls, config, model):
        """Rebuild an explainer of `model` from `get_config()`."""
        return cls(model, **config)

    def __repr__(self):
        items = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if not _is_array(v))
        return f"{type(self).__name__}({items})"

    # -- the one explain loop -----------------------------------------------

    def explain(self, x, targets=None, verbose=None, **options):
        """Explain the model's output for a batch of inputs.

        Args:
            x: inputs (N, ...): a numpy array, tf.Tensor or tf.data.Dataset of x
                or (x, y) (labels are ignored). For a model with several
                inputs (methods that take one), a list of arrays, one per
                model input, or a dict keyed by input name.
            targets: the output explained per input: None for the predicted
                class (argmax; output 0 for a single-output model), an int for
                all inputs, or an int array of shape (N,).
            verbose: overrides the explainer's `verbose` for this call.
                Defaults to None.
            **options: method-specific options, documented by each method.

        Returns:
            `Explanation`.

        Raises:
            ValueError: for inputs of the wrong shape, NaN or infinite values,
                or targets out of range.
        """
        if verbose is None:
            verbose = self.verbose
        elif verbose not in (0, 1, "auto", True, False):
            fail("verbose", "0, 1 or 'auto'", verbose)
        x_np, targets = self._prepare(x, targets)
        x_tensor = self._model_fn.tensors(x_np)
        count = _rows(x_tensor)
        if self._kernel_predicts:
            predictions = None
            resolved = resolve_targets(targets, count, num_outputs=self._model_fn.output_size())
        else:
            predictions = self.predict(x_tensor)
            resolved = resolve_targets(targets, count, predictions=predictions)
        plan = self._plan(x_tensor, resolved, predictions, **options)
        plan.inputs = x_np
        sums = self._accumulate(plan, self._groups(plan, verbose))
        return self._finish(plan, sums)

    def predict(self, x):
        """Model outputs (N, K) for inputs x, through the compiled step.

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
            batch_size=self._batch_size_for(x),
            verbose=0,
        )
        return collect_groups(groups, count)["y"]

    def _groups(self, plan, verbose):
        per_input = dict(plan.per_input)
        per_input["x"] = plan.x
        per_input["target"] = plan.targets.astype(np.int32)
        # Single-pair groups skip the in-graph sum: a separate kind of step.
        kind = "pairs" if (plan.group_size or plan.samples) == 1 else "groups"
        return iterate_groups(
            lambda feed: self._step(kind, feed),
            per_input,
            len(plan.targets),
            samples=plan.samples,
            group_size=plan.group_size,
            batch_size=self._batch_size_for(plan.x),
            per_pair=plan.per_pair,
            per_sample=plan.per_sample,
            verbose=verbose,
        )

    def _accumulate(self, plan, groups):
        """Collect group sums; wrappers override this to reduce while streaming."""
        group_size = plan.group_size or plan.samples
        return collect_groups(groups, len(plan.targets) * plan.samples // group_size)

    def _run_step(self, kind, tensors):
        if kind == "forward":
            return {"y": self._model_fn(tensors["x"])}
        values = self._pair(tensors)
        return segment_sums(values, tensors["segment"], 1 if kind == "pairs" else None)

    def _batch_size_for(self, x):
        if self.batch_size is not None:
            return self.batch_size
        return int(np.clip(2**23 // row_size(x), 16, 512))

    # -- what each method writes ---------------------------------------------

    def _prepare(self, x, targets):
        """The inputs as a checked numpy array (N, ...), and the targets to resolve.

        Methods whose inputs need their own reading (tables with category
        strings) override this; the default accepts what `to_numpy` does.
        """
        return self._model_fn.read(x, "x"), targets

    def _plan(self, x, targets, predictions, **options):
        if options:
            raise TypeError(
                f"{type(self).__name__}.explain() got unexpected options {sorted(options)}"
            )
        return Plan(x=x, targets=targets, predictions=predictions)

    def _pair(self, rows):
        raise NotImplementedError

    def _finish(self, plan, sums):
        if self._kernel_predicts:
            return self._explanation(
                plan,
                sums["attributions"],
                targets=sums["target"].astype(np.int64),
                predictions=sums["y"],
            )
        return self._explanation(plan, sums["attributions"])

    def _explanation(self, plan, attributions, targets=None, predictions=None, **extras):
        """Build the Explanation with the shared fields filled in."""
        return Explanation(
            attributions=attributions,
            inputs=plan.inputs,
            targets=plan.targets if targets is None else targets,
            predictions=plan.predictions if predictions is None else predictions,
            method=self.method,
            config=self.get_config(),
            **extras,
        )


def _is_array(value):
    """True for an array (or a list of arrays, one per model input) too long to show."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
        return True
    return isinstance(value, np.ndarray) and value.size > 1


def _rows(x):
    """N, the number of inputs of a tensor or of a list of tensors (one per model input)."""
    return int(tf.nest.flatten(x)[0].shape[0])


def row_size(x):
    """Values per input row, summed over the model's inputs (at least 1)."""
    return sum(int(np.prod(part.shape[1:])) for part in tf.nest.flatten(x)) or 1


def _multi_input_methods():
    from keras_explain.core.registry import multi_input_methods

    return multi_input_methods()
