"""How an explanation's attributions read as features, for the global and local views.

Explanations are read by duck typing (`attributions`, `inputs`, `targets`,
`predictions`, `method`, `len()`, `extras`). Tables (N, F) have F named
columns; images (N, H, W[, C]) have pixels, channels last.
"""

import dataclasses

import numpy as np

from keras_explain.engine.checks import explained_scores, row_sums
from keras_explain.engine.errors import check_int, describe, fail

#: Where the base value E[f] of a local view comes from, in the order they are tried.
BASE_SOURCES = ("expected_value", "baseline_scores", "f(x) - sum(attributions)")


def _feature_shape(explanation):
    return tuple(np.shape(explanation.attributions)[1:])


def check_explanations(items, name="explanations"):
    """The explanations of a global view, checked: one method, one input, the same features.

    Args:
        items: list of explanations.
        name: the argument named in errors. Defaults to "explanations".

    Returns:
        the list.

    Raises:
        ValueError: for an empty list, a non-explanation, a model with
            several inputs, attributions that are neither tables nor images,
            another method, other features or other feature names.
    """
    if not items:
        fail(name, "an Explanation or a non-empty list of them", items)
    for k, e in enumerate(items):
        if not all(hasattr(e, a) for a in ("attributions", "targets", "predictions", "method")):
            fail(name, "Explanation objects", e)
        if isinstance(e.attributions, list):
            raise ValueError(
                f"{name}: expected explanations of a model with one input, received one of a model "
                f"with {len(e.attributions)} inputs (explanation {k}); global views read one input's "
                f"attributions."
            )
        if np.ndim(e.attributions) not in (2, 3, 4):
            fail(name, "attributions of tables (N, F) or images (N, H, W) or (N, H, W, C)", e.attributions)
    first = items[0]
    names = first.extras.get("feature_names")
    for k, e in enumerate(items[1:], start=1):
        if e.method != first.method:
            raise ValueError(
                f"{name}: expected explanations of one method, received {first.method!r} "
                f"(explanation 0) and {e.method!r} (explanation {k})."
            )
        if _feature_shape(e) != _feature_shape(first):
            raise ValueError(
                f"{name}: expected explanations of the same features, received attributions of shape "
                f"(N, {', '.join(map(str, _feature_shape(first)))}) in explanation 0 and "
                f"(N, {', '.join(map(str, _feature_shape(e)))}) in explanation {k}."
            )
        other = e.extras.get("feature_names")
        if names is not None and other is not None and list(map(str, other)) != list(map(str, names)):
            raise ValueError(
                f"{name}: expected explanations with the same feature names, received "
                f"{describe(list(names))} in explanation 0 and {describe(list(other))} in explanation {k}."
            )
    return items


def is_global(explanation):
    """True for a global explanation: one row of importances with `importances_std` (PermutationImportance)."""
    return len(explanation) == 1 and explanation.extras.get("importances_std") is not None


def example_scores(explanation):
    """Each example's explained score, predictions[i, targets[i]], float64 (N,).

    Predictions of one value per example (N,) are that value.
    """
    predictions = np.asarray(explanation.predictions, np.float64)
    targets = np.asarray(explanation.targets, np.int64)
    if predictions.ndim == 1:
        return predictions.copy()
    return explained_scores(predictions.reshape(len(predictions), -1), targets)


def reduced_values(explanation):
    """(|attribution| (N, F), attribution (N, F), map shape (H, W) or None), float64.

    Tables keep their F columns (shape None). Images (N, H, W) give their
    H x W pixels; (N, H, W, C) sum |attribution| over the channels for the
    first array and the attribution for the second.
    """
    a = np.asarray(explanation.attributions, np.float64)
    count = len(a)
    if a.ndim == 2:
        return np.abs(a), a, None
    if a.ndim == 3:
        return np.abs(a).reshape(count, -1), a.reshape(count, -1), a.shape[1:]
    return np.abs(a).sum(axis=-1).reshape(count, -1), a.sum(axis=-1).reshape(count, -1), a.shape[1:3]


def pixel_labels(shape):
    """"(row, column)" for every pixel of an (H, W) map (and "(row, column, channel)" for 3 dims), row by row."""
    return [f"({', '.join(map(str, index))})" for index in np.ndindex(*shape)]


@dataclasses.dataclass
class Table:
    """The attributions, feature values and names of tabular explanations, concatenated.

    Attributes:
        attributions: float64 (N, F).
        values: float64 (N, F), the explained inputs; NaN where the inputs
            are not one number per feature.
        names: list of F str.
        targets: int64 (N,).
        method: str.
    """

    attributions: np.ndarray
    values: np.ndarray
    names: list
    targets: np.ndarray
    method: str


def _values(explanation):
    inputs, shape = explanation.inputs, np.shape(explanation.attributions)
    if isinstance(inputs, np.ndarray) and inputs.shape == shape and inputs.dtype.kind in "biuf":
        return inputs.astype(np.float64)
    return np.full(shape, np.nan)


def table_view(items, view):
    """`Table` of checked tabular explanations (see `check_explanations`).

    Args:
        items: list of explanations.
        view: the plot's name, for errors.

    Raises:
        ValueError: for image attributions or a global explanation.
    """
    items = check_explanations(items)
    if np.ndim(items[0].attributions) != 2:
        raise ValueError(
            f"{view}: expected tabular attributions (N, n_features), received "
            f"{describe(items[0].attributions)}; for images use kx.viz.class_average_plot or "
            f"kx.viz.extremes_sheet."
        )
    size = np.shape(items[0].attributions)[1]
    names = items[0].extras.get("feature_names") or [f"x{j}" for j in range(size)]
    return Table(
        attributions=np.concatenate([np.asarray(e.attributions, np.float64) for e in items]),
        values=np.concatenate([_values(e) for e in items]),
        names=[str(n) for n in names],
        targets=np.concatenate([np.asarray(e.targets, np.int64) for e in items]),
        method=items[0].method,
    )


def check_index(explanation, i, name="i"):
    """Example index `i` as an int in [0, N) (negative counts from the end)."""
    count = len(explanation)
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -count <= i < count:
        fail(name, f"an example index between 0 and {count - 1}", i)
    return int(i) % count


def base_values(explanation):
    """(E[f] per example float64 (N,), its source), the start of a local view.

    The source is the first of `BASE_SOURCES` the explanation has:
    `expected_value` (DeepShap, KernelShap, GradientShap: E[f(background)]),
    `baseline_scores` (Integrated Gradients: f(baseline)), else
    f(x) - sum(attributions), so that the attributions lead exactly to f(x).
    """
    for source in BASE_SOURCES[:2]:
        value = explanation.extras.get(source)
        if value is not None and np.size(value) == len(explanation):
            return np.asarray(value, np.float64).reshape(-1), source
    return example_scores(explanation) - row_sums(explanation.attributions), BASE_SOURCES[2]


@dataclasses.dataclass
class Local:
    """One example read as features: what a waterfall or force plot draws.

    Attributes:
        index: the example.
        values: float64 (F,), its attributions (images flattened row by row).
        names: list of F str (feature names, or pixel positions).
        shown: list of F str, the feature values to print ("" when unknown).
        base: float, E[f] (see `base_values`); base_source: where it comes from.
        score: float, f(x) for the explained output.
        target: int, the explained output.
    """

    index: int
    values: np.ndarray
    names: list
    shown: list
    base: float
    base_source: str
    score: float
    target: int


def local_view(explanation, i, view):
    """`Local` of example `i` of a one-input explanation, for the plot `view`."""
    check_explanations([explanation], "explanation")
    i = check_index(explanation, i)
    a = np.asarray(explanation.attributions[i], np.float64)
    if a.ndim == 1:
        names = [str(n) for n in explanation.extras.get("feature_names") or [f"x{j}" for j in range(a.size)]]
    else:
        names = pixel_labels(a.shape)
    labels = explanation.extras.get("feature_values")
    inputs = np.asarray(explanation.inputs[i]) if isinstance(explanation.inputs, np.ndarray) else None
    if labels is not None and a.ndim == 1:
        shown = [str(v) for v in labels[i]]
    elif inputs is not None and inputs.size == a.size and inputs.dtype.kind in "biuf":
        shown = [f"{float(v):.4g}" for v in inputs.reshape(-1)]
    else:
        shown = [""] * a.size
    base, source = base_values(explanation)
    return Local(
        index=i,
        values=a.reshape(-1),
        names=names,
        shown=shown,
        base=float(base[i]),
        base_source=source,
        score=float(example_scores(explanation)[i]),
        target=int(explanation.targets[i]),
    )


def check_max_features(value):
    """`max_features` as an int >= 1."""
    return check_int("max_features", value, minimum=1)
