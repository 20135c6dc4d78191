"""The typed parts of an `Explanation`, beside its attributions.

Each part groups what one kind of method adds; a field a method does not
fill stays None. An `Explanation` reads every field as an attribute
(`e.segments`, `e.completeness_gap`), and `e.parts` lists the parts present.

* `Checks`: what the attributions promise, per example: Integrated
  Gradients' completeness gap and baseline scores, the SHAP methods'
  additivity gap and expected value.
* `SurrogateFit`: LIME's weighted linear model per example: intercept,
  score (weighted R^2), local prediction, the features used, the explained
  labels, and per label the weight of every superpixel (images) or feature
  (tables, with `top_labels`).
* `Superpixels`: the segments LIME explained an image with.
* `TableFeatures`: how a table's columns read: names, per-example labels
  ("age > 40") and values, and the explanation mode.
* `GlobalSummary`: the per-feature summary over all examples, kept once
  `Explanation.summary()` has computed it (saved with the explanation).

Anything else (the command line's model file, the example names it read)
is a user annotation, set with `Explanation.annotate`.
"""

import collections.abc
import dataclasses
from typing import Any, Optional

import numpy as np

from keras_explain.engine.errors import describe


def _part(name, fields, doc):
    """A dataclass of optional fields, each None until a method fills it."""
    cls = dataclasses.make_dataclass(name, [(f, Optional[Any], None) for f in fields])
    cls.__doc__ = doc
    cls.__module__ = __name__
    return cls


Checks = _part(
    "Checks",
    ("completeness_gap", "baseline_scores", "additivity_gap", "expected_value", "metric_scores"),
    "Per example: sum(attributions) - (f(x) - f(reference)), the reference's value, and "
    "`metric_scores`: metric name -> scores (N,) from `Explanation.evaluate`.",
)
SurrogateFit = _part(
    "SurrogateFit",
    ("intercept", "score", "local_pred", "used", "labels", "segment_weights", "feature_weights"),
    "LIME's weighted linear model per example (and per explained label).",
)
Superpixels = _part(
    "Superpixels", ("segments", "num_segments"), "The segments (N, H, W) and their count per image."
)
GlobalSummary = _part(
    "GlobalSummary",
    ("summary",),
    "What matters across the examples: `summary`, a dict of arrays from `Explanation.summary()`.",
)
TableFeatures = _part(
    "TableFeatures",
    ("feature_names", "feature_labels", "feature_values", "mode"),
    "How a table's columns read: names, per-example labels and values, the mode.",
)


#: Part name -> its class, in the order they are shown.
PART_TYPES = {
    "checks": Checks,
    "surrogate": SurrogateFit,
    "superpixels": Superpixels,
    "table": TableFeatures,
    "global": GlobalSummary,
}

#: Field name -> the part that holds it.
FIELD_PART = {
    field.name: part
    for part, cls in PART_TYPES.items()
    for field in dataclasses.fields(cls)
}

#: Fields whose values are one entry per example (checked against N).
PER_EXAMPLE_FIELDS = frozenset(FIELD_PART) - {"feature_names", "mode", "summary"}


def entry_count(value):
    """len() of a per-example value; None for a 0-d array.

    A dict (metric name -> scores) counts when all its values have the same
    length; otherwise the lengths differ and the count is the set of them.
    """
    if isinstance(value, dict):
        counts = {entry_count(v) for v in value.values()}
        return counts.pop() if len(counts) == 1 else counts
    if isinstance(value, np.ndarray):
        return len(value) if value.ndim else None
    return len(value)


class FieldView(collections.abc.MutableMapping):
    """`Explanation.extras`: the fields by name; setting one calls `annotate`."""

    def __init__(self, explanation):
        self._explanation = explanation

    def __getitem__(self, key):
        return self._explanation._fields()[key]

    def __setitem__(self, key, value):
        self._explanation.annotate(**{key: value})

    def __delitem__(self, key):
        if key not in self._explanation.annotations:
            raise KeyError(f"{key!r}: only user annotations can be removed, received {describe(key)}")
        del self._explanation.annotations[key]

    def __iter__(self):
        return iter(self._explanation._fields())

    def __len__(self):
        return len(self._explanation._fields())
