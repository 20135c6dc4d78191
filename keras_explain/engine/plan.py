"""`Plan`: what one `explain()` call computes, as a method's `plan` hook returns it."""

import dataclasses
from typing import Any, Dict, Optional

import numpy as np
import tensorflow as tf


@dataclasses.dataclass
class Plan:
    """What one `explain()` call will compute, returned by `Explainer.plan`.

    Attributes:
        x: the examples as a float tensor (N, ...), or a list of tensors (one
            per model input).
        targets: int64 array (N,), -1 where the kernel picks the argmax itself.
        predictions: model outputs (N, K), or None when the kernel returns them.
        per_example: tensors (N, ...) gathered for every pair of an example.
        pairs: pairs (kernel evaluations) per example. Defaults to 1.
        group_size: consecutive pairs summed together (divides `pairs`).
            Defaults to `pairs`: one sum per example.
        per_pair: arrays (N * pairs, ...) sliced per batch.
        per_pair_index: arrays (pairs, ...) gathered by each pair's index
            within its example (a background, quadrature weights, ...).
        shared: tensors handed whole to every step, for a kernel that
            gathers its own rows in the graph (a dataset it shuffles).
        extras: anything `finish` needs that is not fed to the kernel.
        inputs: the examples as the user gave them (numpy), set by `explain()`.
    """

    x: Any
    targets: np.ndarray
    predictions: Optional[np.ndarray]
    per_example: Dict[str, Any] = dataclasses.field(default_factory=dict)
    pairs: int = 1
    group_size: Optional[int] = None
    per_pair: Dict[str, Any] = dataclasses.field(default_factory=dict)
    per_pair_index: Dict[str, Any] = dataclasses.field(default_factory=dict)
    shared: Dict[str, Any] = dataclasses.field(default_factory=dict)
    extras: Dict[str, Any] = dataclasses.field(default_factory=dict)
    inputs: Optional[np.ndarray] = None

    @property
    def num_examples(self):
        return len(self.targets)

    @property
    def num_groups(self):
        return self.num_examples * self.pairs // (self.group_size or self.pairs)

    def subset(self, examples):
        """This plan restricted to `examples` (an int array of indices into its examples).

        `x`, `targets`, `predictions`, every per-example value and the rows
        of `per_pair` are those of the chosen examples, in that order; the
        rest is kept. Methods that refine some examples further (levels of
        samples="auto") run such subsets with `run_plan`.
        """
        examples = np.asarray(examples, np.int64)
        rows = tf.constant(examples, tf.int32)

        def gather(value):
            if isinstance(value, np.ndarray):
                return value[examples]
            return tf.nest.map_structure(lambda part: tf.gather(part, rows), value)

        per_pair = {}
        for key, value in self.per_pair.items():
            value = np.asarray(value)
            grid = value.reshape((self.num_examples, self.pairs) + value.shape[1:])[examples]
            per_pair[key] = grid.reshape((-1,) + value.shape[1:])
        return dataclasses.replace(
            self,
            x=gather(self.x),
            targets=self.targets[examples],
            predictions=None if self.predictions is None else self.predictions[examples],
            per_example={key: gather(value) for key, value in self.per_example.items()},
            per_pair=per_pair,
        )
