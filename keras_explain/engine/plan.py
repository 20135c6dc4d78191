"""`Plan`: what one `explain()` call computes, as a method's `plan` hook returns it."""

import dataclasses
from typing import Any, Dict, Optional

import numpy as np


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
