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

Anything else (the command line's model file, the example names it read)
is a user annotation, set with `Explanation.annotate`.
"""

import dataclasses
from typing import Any, Optional


@dataclasses.dataclass
class Checks:
    completeness_gap: Optional[Any] = None
    baseline_scores: Optional[Any] = None
    additivity_gap: Optional[Any] = None
    expected_value: Optional[Any] = None


@dataclasses.dataclass
class SurrogateFit:
    intercept: Optional[Any] = None
    score: Optional[Any] = None
    local_pred: Optional[Any] = None
    used: Optional[Any] = None
    labels: Optional[Any] = None
    segment_weights: Optional[Any] = None
    feature_weights: Optional[Any] = None


@dataclasses.dataclass
class Superpixels:
    segments: Optional[Any] = None
    num_segments: Optional[Any] = None


@dataclasses.dataclass
class TableFeatures:
    feature_names: Optional[Any] = None
    feature_labels: Optional[Any] = None
    feature_values: Optional[Any] = None
    mode: Optional[str] = None


#: Part name -> its class, in the order they are shown.
PART_TYPES = {
    "checks": Checks,
    "surrogate": SurrogateFit,
    "superpixels": Superpixels,
    "table": TableFeatures,
}

#: Field name -> the part that holds it.
FIELD_PART = {
    field.name: part
    for part, cls in PART_TYPES.items()
    for field in dataclasses.fields(cls)
}

#: Fields whose values are one entry per example (checked against N).
PER_EXAMPLE_FIELDS = frozenset(FIELD_PART) - {"feature_names", "mode"}
