"""Permutation importance: how much a metric drops when a feature is shuffled across rows."""

import collections.abc
import dataclasses
import numbers

import keras
import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import check_finite, check_int, describe, fail
from keras_explain.engine.explainer import Explainer, Plan, row_size
from keras_explain.engine.inputs import dataset_is_batched, dataset_to_numpy
from keras_explain.engine.registry import register
from keras_explain.engine.table_columns import is_dataframe

_METRIC_EXPECTED = "'loss', 'accuracy', a keras.metrics.Metric or a callable(y_true, y_pred) -> float, higher is better"
_GROUPS_EXPECTED = (
    "None, an integer numpy mask shaped like one example, or a list (or dict) of column groups "
    "(a column name or index, or a list of them)"
)
#: Keras metrics where lower is better: their value is negated into a score.
ERROR_METRICS = tuple(getattr(keras.metrics, name) for name in (
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "RootMeanSquaredError", "LogCoshError", "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence",
    "Poisson", "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
))


@register("permutation_importance", aliases=("permutation", "feature_permutation"))
class PermutationImportance(Explainer):
    """Permutation importance: the drop of a metric when a feature's values are shuffled.

    A global explanation over a labelled dataset, as scikit-learn's
    `sklearn.inspection.permutation_importance` defines it: for each feature
    group and each of `n_repeats` repeats, the group's values in every row
    are taken from another row (one permutation of the rows per group and
    repeat); the importance is baseline score - permuted score, the
    attribution its mean over the repeats, `importances_std` its population
    standard deviation (numpy's default, as scikit-learn's).

    The permutations are drawn in `plan` from
    `numpy.random.default_rng(random_state)` (`row_orders`). Each pair (row,
    group, repeat) is built and run through the model in the compiled step,
    its group's values taken from the permuted row (gathered per batch).
    Pairs stream one (group, repeat) at a time, scored once all its rows are
    in: memory is one batch, the outputs over the rows (N, K) once, the
    permutations (N int32 per group and repeat) and one boolean mask like an
    example per group and repeat.

    Args:
        model: a Keras 3 model with one input.
        metric: the score, higher is better. Defaults to "loss".
            * "loss": minus the compiled loss (`model.loss`: a name, a
              `keras.losses.Loss` or a function) on all rows at once, per-row
              values averaged; with one loss per output, that of `output`. A
              model not compiled with a loss is refused: pass a metric.
            * "accuracy": the fraction of rows whose argmax output is the
              integer label (one-hot labels read by argmax); a single output
              means class 1 above 0.5 (a sigmoid probability).
            * a `keras.metrics.Metric`: a copy (the instance itself if its
              config cannot rebuild it) is reset, updated with all rows and
              read per (group, repeat); `ERROR_METRICS` (MeanSquaredError,
              the cross-entropies, ...) are negated: higher is better.
            * a callable `metric(y_true, y_pred) -> float`, higher is better,
              of the labels (numpy (N, ...)) and outputs (float32 (N, K)).
        n_repeats: permutations per group. Defaults to 5.
        feature_groups: what is shuffled together. Defaults to None: each
            feature of table rows (N, n_features); for larger examples each
            position of the last axis: each channel of images (N, H, W, C).
            * an integer numpy array shaped like one example (axes of size 1
              broadcast): equal values form a group, in increasing order.
            * for tables, a list of groups, each a column (a DataFrame's name
              or an index) or a list of columns, or a dict of named groups;
              groups may overlap; columns in no group are never shuffled.
        random_state: int seed; the same seed gives identical results.
            Defaults to None (fresh permutations per call).
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose`.

    `explain(x, y)` (or `explain(x, y=y)`): x (N, ...) a numpy array,
    tf.Tensor, DataFrame of numeric columns or tf.data.Dataset of (x, y)
    batches (whose labels are used); y the labels, one per row. The second
    positional argument, `targets` for other methods, is y here: the metric
    scores every output.

    Returns from `explain`: a global `Explanation` of one "example"
    (`len(e) == 1`): `attributions` (1, n_groups) float32 the mean
    importances, `importances_std` (1, n_groups), `importances`
    (1, n_repeats, n_groups), `baseline_score` (float), `feature_names`
    (column names or "x{j}", "channel {c}", "group {value}", "+"-joined
    columns, the dict's keys), `inputs` (1, ...) the mean row, `predictions`
    (1, K) the mean output, `targets` (1,) zero.

    Raises:
        ValueError: naming the argument, for another kind of metric (pass a
            `keras.losses.Loss` as `lambda y, p: -float(loss(y, p))`), "loss"
            without a compiled loss, labels missing or of another length, a
            mask of another shape or an unknown column.

    Example:

    ```python
    model.compile(loss="sparse_categorical_crossentropy")
    e = kx.PermutationImportance(model, n_repeats=10, random_state=0).explain(x_test, y_test)
    e.as_list(0)          # [("petal length", 0.71), ("petal width", 0.35), ...]
    kx.PermutationImportance(model, metric="accuracy", feature_groups=[["a", "b"], "c"])
    ```

    Reference: Breiman, "Random Forests", Machine Learning 45(1), 2001.
    """

    method = "permutation_importance"
    per_example = False
    config_attributes = ("metric", "n_repeats", "feature_groups", "random_state")
    explain_options = {"y": "the labels of x, one per row (or the second positional argument)"}

    def __init__(self, model, metric="loss", n_repeats=5, feature_groups=None, random_state=None, **kwargs):
        self.metric = _check_metric(metric)
        self.n_repeats = check_int("n_repeats", n_repeats, minimum=1)
        self.feature_groups = _check_groups(feature_groups)
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
        super().__init__(model, **kwargs)
        if self.metric == "loss":
            compiled_loss(self.model, self.output)

    def default_batch_size(self, x):
        # Pairs are rows of the dataset: large batches of small rows keep the
        # number of calls (and the work per call) low, as LimeTabular's do.
        return int(np.clip(2**21 // row_size(x), 512, 16384))

    def read_inputs(self, x, targets):
        # explain(x, y): the second positional argument, the base's `targets`,
        # is the labels; they may also come from a dataset of (x, y). They and
        # a DataFrame's column labels reach `plan`.
        columns = list(x.columns) if is_dataframe(x) else None
        if isinstance(x, tf.data.Dataset):
            x, found = dataset_to_numpy(x, dataset_is_batched(x, self._model_fn.input_shape), "x")
            targets = _once(targets, found)
        return self._model_fn.read(x, "x"), None, {"labels": targets, "columns": columns}

    def plan(self, x, targets, predictions, y=None, labels=None, columns=None):
        count = int(x.shape[0])
        labels = read_labels(_once(labels, y), count)
        masks, names = group_masks(self.feature_groups, tuple(x.shape[1:]), columns)
        blocks = len(masks) * self.n_repeats
        score = scorer(self.metric, self.model, self.output)
        orders = row_orders(self.random_state, count, blocks).reshape(-1).astype(np.int32)
        return Plan(
            # Engine example e is (group e // n_repeats, repeat e % n_repeats),
            # its "x" the group's mask; its pairs are the rows.
            x=tf.constant(np.repeat(masks, self.n_repeats, axis=0)),
            targets=np.zeros(blocks, dtype=np.int64),
            predictions=predictions,
            pairs=count,
            group_size=1,
            per_pair={"source": orders},
            shared={"data": x},
            extras={"labels": labels, "score": score, "names": names, "baseline": score(labels, predictions)},
        )

    def batch_kernel(self, rows):
        # Each pair is one row of the dataset: the group's columns come from
        # the row its permutation puts there, the others from the row itself.
        data = rows["data"]
        shuffled = tf.where(rows["x"], tf.gather(data, rows["source"]), tf.gather(data, rows["pair_index"]))
        return {"y": self._model_fn(shuffled)}

    def accumulator(self, plan):
        return BlockScores(plan.extras["score"], plan.extras["labels"], plan.pairs, plan.num_examples)

    def finish(self, plan, sums):
        baseline, names = plan.extras["baseline"], plan.extras["names"]
        importances = baseline - sums["scores"].reshape(len(names), self.n_repeats)
        mean_row = np.asarray(plan.inputs, dtype=np.float64).mean(axis=0, keepdims=True)
        plan = dataclasses.replace(plan, inputs=mean_row.astype(plan.inputs.dtype))
        return self.explanation(
            plan,
            importances.mean(axis=1)[None].astype(np.float32),
            targets=np.zeros(1, dtype=np.int64),
            predictions=plan.predictions.astype(np.float64).mean(axis=0, keepdims=True).astype(np.float32),
            importances_std=importances.std(axis=1)[None].astype(np.float32),
            importances=importances.T[None].astype(np.float32),
            baseline_score=float(baseline),
            feature_names=names,
        )


def row_orders(random_state, rows, count):
    """`count` permutations of `rows` rows, (count, rows) int64, from a seeded Generator.

    Permutation e shuffles group e // n_repeats in repeat e % n_repeats.
    """
    rng = np.random.default_rng(random_state)
    return rng.permuted(np.tile(np.arange(rows, dtype=np.int64), (count, 1)), axis=1)


class BlockScores:
    """The accumulator: `score(labels, outputs (rows, K))` of every block of `rows` pairs.

    Blocks arrive in order; only the current one's outputs are kept."""

    def __init__(self, score, labels, rows, blocks):
        self.score, self.labels, self.rows = score, labels, rows
        self.scores = np.full(blocks, np.nan)
        self._pending = []

    def add(self, first_group, values):
        outputs, start = values["y"], 0
        while start < len(outputs):
            block, row = divmod(first_group + start, self.rows)
            take = min(self.rows - row, len(outputs) - start)
            self._pending.append(outputs[start : start + take])
            start += take
            if row + take == self.rows:
                self.scores[block] = self.score(self.labels, np.concatenate(self._pending))
                self._pending = []

    def result(self):
        return {"scores": self.scores}


# -- the metric ----------------------------------------------------------------


def _check_metric(metric):
    if isinstance(metric, str) and metric in ("loss", "accuracy"):
        return metric
    if isinstance(metric, keras.losses.Loss):
        raise ValueError(
            f"metric: expected {_METRIC_EXPECTED}, received a keras.losses.Loss "
            f"({type(metric).__name__}), where lower is better; pass "
            f"lambda y, p: -float(loss(y, p))."
        )
    if not callable(metric):
        fail("metric", _METRIC_EXPECTED, metric)
    return metric


def compiled_loss(model, output):
    """The loss `model` was compiled with (for `output`): callable(y_true, y_pred) (ValueError naming `metric`)."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, (collections.abc.Mapping, list, tuple)):
        if len(loss) > 1 and output is None:
            raise ValueError(
                f"metric: expected output= to choose one of the model's {len(loss)} losses "
                f"for metric='loss', received output=None."
            )
        names = list(getattr(model, "output_names", None) or [])
        index = 0 if len(loss) == 1 else names.index(output) if isinstance(output, str) else output
        if isinstance(loss, collections.abc.Mapping):
            loss = next(iter(loss.values())) if len(loss) == 1 else loss.get(names[index])
        else:
            loss = loss[index]
    if loss is None:
        raise ValueError(
            "metric: expected a model compiled with a loss for metric='loss' (or pass "
            "metric='accuracy', a keras.metrics.Metric or a callable(y_true, y_pred)), "
            "received a model that is not compiled with a loss."
        )
    return keras.losses.get(loss) if isinstance(loss, str) else loss


def accuracy(labels, outputs):
    """The fraction of rows whose predicted class is the label (see `PermutationImportance`)."""
    outputs, labels = np.asarray(outputs), np.asarray(labels)
    if outputs.shape[1] == 1:
        predicted = (outputs[:, 0] > 0.5).astype(np.int64)
    else:
        predicted = np.argmax(outputs, axis=1)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = np.argmax(labels, axis=1)
    return float(np.mean(predicted == labels.reshape(len(labels))))


def scorer(metric, model, output):
    """The score of a metric, higher is better: callable(labels, outputs (N, K)) -> float."""
    if metric == "accuracy":
        return accuracy
    if metric == "loss":
        loss = compiled_loss(model, output)
        return lambda labels, outputs: -float(np.mean(np.asarray(loss(labels, outputs), dtype=np.float64)))
    if not isinstance(metric, keras.metrics.Metric):
        return lambda labels, outputs: float(metric(labels, outputs))
    try:
        metric = type(metric).from_config(metric.get_config())
    except (TypeError, ValueError, NotImplementedError):
        pass
    sign = -1.0 if isinstance(metric, ERROR_METRICS) else 1.0

    def read(labels, outputs):
        metric.reset_state()
        metric.update_state(labels, outputs)
        return sign * float(metric.result())

    return read


def _once(first, second):
    """The labels given one way (positionally, as y= or in a dataset), refusing two."""
    if first is not None and second is not None:
        fail("y", "the labels once: explain(x, y), explain(x, y=y) or x a tf.data.Dataset of (x, y)", second)
    return first if second is None else second


def read_labels(labels, count):
    """The labels as a checked numpy array, one entry per row (ValueError naming `y`)."""
    if labels is None:
        raise ValueError(
            "y: expected the labels of x, one per row (or x a tf.data.Dataset of (x, y) "
            "batches), received None."
        )
    array = np.asarray(labels.numpy() if isinstance(labels, (tf.Tensor, tf.Variable)) else labels)
    if array.dtype.kind not in "biuf":
        fail("y", "numeric labels", array)
    if array.ndim == 0 or len(array) != count:
        fail("y", f"one label per row of x ({count} rows)", labels if array.ndim == 0 else array)
    return check_finite("y", array)


# -- the feature groups --------------------------------------------------------


def _check_groups(groups):
    if groups is None:
        return None
    if isinstance(groups, np.ndarray):
        if groups.dtype.kind not in "iu" or groups.ndim == 0:
            fail("feature_groups", _GROUPS_EXPECTED, groups)
        return groups.astype(np.int64)
    if not isinstance(groups, (list, tuple, dict)) or not groups:
        fail("feature_groups", _GROUPS_EXPECTED, groups)
    for member in groups.values() if isinstance(groups, dict) else groups:
        columns = member if isinstance(member, (list, tuple)) else [member]
        if not columns or any(isinstance(c, bool) or not isinstance(c, (str, numbers.Integral)) for c in columns):
            fail("feature_groups", _GROUPS_EXPECTED, groups)
    return groups


def group_masks(groups, shape, columns=None):
    """Which positions of one example each group shuffles, and the groups' names.

    Returns (masks bool (n_groups, *shape), names: n_groups str) for the
    checked `feature_groups`, one example's `shape` and a DataFrame's
    `columns` (or None). Raises a ValueError naming `feature_groups` for a
    mask of another shape, column groups of non-table rows or an unknown column.
    """
    if groups is None:
        if not shape:
            return np.ones((1,), dtype=bool), ["x"]
        size = shape[-1]
        # Group c is position c of the last axis, everywhere along the others.
        eye = np.eye(size, dtype=bool).reshape((size,) + (1,) * (len(shape) - 1) + (size,))
        masks = np.ascontiguousarray(np.broadcast_to(eye, (size,) + shape))
        names = _column_names(columns, size) if len(shape) == 1 else [f"channel {c}" for c in range(size)]
        return masks, names
    if isinstance(groups, np.ndarray):
        if groups.ndim != len(shape) or any(g not in (1, s) for g, s in zip(groups.shape, shape)):
            expected = f"an integer mask shaped like one example, {shape} (axes of size 1 broadcast)"
            fail("feature_groups", expected, groups)
        full = np.broadcast_to(groups, shape)
        values = np.unique(full)
        masks = full[None] == values.reshape((-1,) + (1,) * len(shape))
        if len(shape) == 1:
            known = np.asarray(_column_names(columns, shape[0]))
            return masks, ["+".join(known[m]) for m in masks]
        return masks, [f"group {int(v)}" for v in values]
    if len(shape) != 1:
        fail("feature_groups", f"an integer mask shaped like one example, {shape}", groups)
    return _column_groups(groups, shape[0], columns)


def _column_names(columns, size):
    return [str(c) for c in columns] if columns is not None else [f"x{j}" for j in range(size)]


def _column_groups(groups, size, columns):
    """Masks (n_groups, size) and names of a list or dict of column groups."""
    known = _column_names(columns, size)
    named = list(groups.items()) if isinstance(groups, dict) else [(None, g) for g in groups]
    masks, names = np.zeros((len(named), size), dtype=bool), []
    for k, (name, member) in enumerate(named):
        for column in member if isinstance(member, (list, tuple)) else [member]:
            masks[k, _column_index(column, size, columns)] = True
        names.append("+".join(known[j] for j in np.flatnonzero(masks[k])) if name is None else str(name))
    return masks, names


def _column_index(column, size, columns):
    if columns is not None and not isinstance(column, numbers.Integral) and column in columns:
        return columns.index(column)
    if isinstance(column, numbers.Integral) and 0 <= column < size:
        return int(column)
    if columns is not None:
        expected = f"columns of x ({', '.join(map(str, columns))}) or indices below {size}"
    else:
        expected = f"column indices between 0 and {size - 1} (names need a DataFrame)"
    raise ValueError(f"feature_groups: expected {expected}, received {describe(column)}.")
