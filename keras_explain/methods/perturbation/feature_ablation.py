"""Feature ablation: hide one feature (or group of features) at a time."""

import numbers

import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import describe, fail
from keras_explain.engine.explainer import Plan
from keras_explain.engine.registry import register
from keras_explain.engine.table_columns import is_dataframe, shown_items
from keras_explain.methods.perturbation.base import (
    PerturbationExplainer,
    like_inputs,
    trailing_axes,
)

_GROUPS_EXPECTED = "None, an integer mask array or a list of lists of columns"

def check_groups(groups):
    """Feature groups as stored: None, a list of lists of columns, or an int array.

    Raises:
        ValueError: naming `feature_groups`, for anything else.
    """
    if groups is None:
        return None
    if isinstance(groups, (list, tuple)) and groups and all(
        isinstance(g, (list, tuple)) for g in groups
    ):
        if not all(g for g in groups):
            fail("feature_groups", "non-empty groups of columns", groups)
        return [list(g) for g in groups]
    if isinstance(groups, (list, tuple, str)):
        fail("feature_groups", _GROUPS_EXPECTED, groups)
    array = np.asarray(groups)
    if array.dtype.kind not in "iu" or array.ndim == 0:
        fail("feature_groups", _GROUPS_EXPECTED, groups)
    return array.astype(np.int64)


def _column_position(entry, columns, count):
    if columns is not None:
        if entry not in columns:
            raise ValueError(
                f"feature_groups: expected column names of x ({shown_items(columns)}), "
                f"received {entry!r}."
            )
        return columns.index(entry)
    if isinstance(entry, bool) or not isinstance(entry, numbers.Integral):
        raise ValueError(
            f"feature_groups: expected column indices (x is not a DataFrame), received {entry!r}."
        )
    if not 0 <= entry < count:
        raise ValueError(
            f"feature_groups: expected column indices between 0 and {count - 1}, received {entry}."
        )
    return int(entry)


def column_mask(groups, columns, shape):
    """The integer mask (F,) of column groups: the listed groups, then one per other column.

    Args:
        groups: a list of lists of column labels (x a DataFrame) or indices.
        columns: the DataFrame's column labels, or None for an array.
        shape: the example's shape, (F,).

    Returns:
        np.ndarray int64 (F,): group k for the columns of `groups[k]`, and
        len(groups), len(groups) + 1, ... for the columns named in no group,
        in column order.
    """
    if len(shape) != 1:
        raise ValueError(
            f"feature_groups: expected an integer mask for examples of shape {tuple(shape)}; "
            f"lists of columns group the features of tables (N, n_features)."
        )
    count = int(shape[0])
    mask = np.full(count, -1, dtype=np.int64)
    for index, group in enumerate(groups):
        for entry in group:
            position = _column_position(entry, columns, count)
            if mask[position] >= 0:
                raise ValueError(
                    f"feature_groups: expected every column in at most one group, received "
                    f"{entry!r} in groups {mask[position]} and {index}."
                )
            mask[position] = index
    rest = np.flatnonzero(mask < 0)
    mask[rest] = len(groups) + np.arange(len(rest))
    return mask


def _mask_shapes(x_shape):
    """The mask shapes accepted: (one example, one per example), channel-less forms too."""
    count, example = int(x_shape[0]), tuple(int(d) for d in x_shape[1:])
    single = [example] + ([example[:-1]] if len(example) >= 2 else [])
    return single, [(count,) + s for s in single]


def dense_groups(mask, x_shape):
    """Each example's groups numbered 0 .. G_i - 1 in the order of their ids.

    Args:
        mask: int array shaped like one example, like one example without its
            last axis (channels), or either with a leading axis of N.
        x_shape: the examples' shape (N, ...).

    Returns:
        (labels int32 (N, ...mask shape without N), counts int64 (N,)).

    Raises:
        ValueError: naming `feature_groups`, for a mask of another shape.
    """
    single, per_example = _mask_shapes(x_shape)
    count = int(x_shape[0])
    if mask.shape in single:
        _, labels = np.unique(mask, return_inverse=True)
        labels = labels.reshape(mask.shape)
        return np.broadcast_to(labels, (count,) + mask.shape), np.full(count, labels.max() + 1)
    if mask.shape in per_example:
        parts = [np.unique(m, return_inverse=True)[1].reshape(m.shape) for m in mask]
        return np.stack(parts), np.array([p.max() + 1 for p in parts], dtype=np.int64)
    shapes = " or ".join(str(s) for s in single)
    many = " or ".join(str(s) for s in per_example)
    raise ValueError(
        f"feature_groups: expected an integer mask of shape {shapes} (one example) or "
        f"{many} (one per example), received {describe(mask)}."
    )


@register("feature_ablation", aliases=("ablation",))
class FeatureAblation(PerturbationExplainer):
    """Feature ablation: the drop of the score when one feature group is hidden.

    Each feature (or group of features) of an example is set to the baseline
    in turn, with the others as they are, and every element of the group gets
    the group's drop f(x)[target] - f(x with the group hidden)[target]
    (captum's `FeatureAblation`). Every (example, group) pair is one
    evaluation of the model, built from the pair index inside the compiled
    step and run in batches of at most `batch_size`.

    Args:
        model: a Keras 3 model.
        baseline: the value hidden features take: a number, "mean" (each
            example's own mean value) or an array shaped like one example or
            like x. Defaults to 0.0.
        feature_groups: which features are hidden together. None: every
            scalar of an example on its own. An integer numpy array (captum's
            `feature_mask`): the distinct ids are the groups (they need not
            be contiguous nor consecutive), shaped like one example, like one
            example without its last axis (an (H, W) segmentation applies to
            every channel of (H, W, C) images, a (T,) mask to every channel of
            (T, C) sequences), or either with a leading axis of N (one mask
            per example). For tables (N, n_features), a list of lists of
            columns: labels of a pandas DataFrame passed to `explain`
            (numeric columns only), or column indices for arrays; the columns
            named in no list are groups of their own. Defaults to None.
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose` as in
            `keras_explain.Explainer`.

    Examples with different numbers of groups (per-example masks) all get as
    many pairs as the one with the most; the pairs beyond an example's own
    groups hide nothing and add exactly 0.

    `explain(x, targets=None, baseline=None, feature_groups=None)`: a
    `baseline` or `feature_groups` given here replaces the constructor's for
    this call. x may be a pandas DataFrame of numeric columns.

    Returns from `explain`: `Explanation` with `attributions` shaped like x
    (N, ...), `num_groups` (N,), and with groups given, `groups` (N, ...
    mask shape), each position's group numbered 0 .. num_groups - 1 (the
    order of the distinct ids, or of the lists of columns); for a DataFrame,
    `feature_names`.

    Raises:
        ValueError: for a mask of another shape or columns x does not have
            (naming `feature_groups`), or a baseline array shaped neither like
            one example nor like x.

    Example:

    ```python
    segments = np.arange(64).reshape(8, 8).repeat(4, 0).repeat(4, 1)   # (32, 32)
    e = kx.FeatureAblation(model, feature_groups=segments).explain(images)
    e = kx.FeatureAblation(table_model, feature_groups=[["height", "weight"]]).explain(frame)
    ```

    Reference: Zeiler & Fergus, "Visualizing and Understanding Convolutional
    Networks", ECCV 2014 (occlusion of one region at a time); captum's
    `FeatureAblation`.
    """

    method = "feature_ablation"
    config_attributes = ("feature_groups",)
    explain_options = {
        **PerturbationExplainer.explain_options,
        "feature_groups": "replaces the constructor's feature groups for this call",
    }

    def __init__(self, model, baseline=0.0, feature_groups=None, **kwargs):
        self.feature_groups = check_groups(feature_groups)
        super().__init__(model, baseline=baseline, **kwargs)

    def read_inputs(self, x, targets):
        # A DataFrame's column labels reach `plan`, for groups named by column.
        columns = list(x.columns) if is_dataframe(x) else None
        return (*super().read_inputs(x, targets), {"columns": columns})

    def plan(self, x, targets, predictions, baseline=None, feature_groups=None, columns=None):
        groups = self.feature_groups if feature_groups is None else check_groups(feature_groups)
        per_example = self.shared_inputs(x, targets, predictions, baseline)
        extras = {"columns": columns}
        if groups is None:
            pairs = int(np.prod(x.shape[1:]))
            counts = np.full(len(targets), pairs)
        else:
            if isinstance(groups, list):
                groups = column_mask(groups, columns, x.shape[1:])
            labels, counts = dense_groups(groups, x.shape)
            per_example["groups"] = tf.constant(labels, tf.int32)
            extras["groups"] = np.asarray(labels)
            pairs = int(counts.max())
        extras["num_groups"] = counts
        return Plan(x, targets, predictions, per_example=per_example, pairs=pairs, extras=extras)

    def batch_kernel(self, rows):
        x, index = rows["x"], rows["pair_index"]
        if "groups" in rows:
            groups = rows["groups"]
            hidden = tf.equal(groups, trailing_axes(index, groups.shape.rank))
            hidden = trailing_axes(hidden, x.shape.rank)
        else:
            size = int(np.prod(x.shape[1:]))
            hidden = tf.equal(tf.range(size)[None, :], index[:, None])
            hidden = tf.reshape(hidden, [-1] + list(x.shape[1:]))
        return {"attributions": self.spread(self.score_drop(rows, hidden), hidden)}

    def finish(self, plan, sums):
        parts = {"num_groups": plan.extras["num_groups"].astype(np.int64)}
        if "groups" in plan.extras:
            parts["groups"] = plan.extras["groups"].astype(np.int32)
        if plan.extras["columns"] is not None:
            parts["feature_names"] = [str(c) for c in plan.extras["columns"]]
        return self.explanation(plan, like_inputs(sums["attributions"], plan.inputs), **parts)
