"""MuFidelity and FaithfulnessCorrelation (Bhatt et al. 2020): attribution mass against output drop."""

import functools

import numpy as np
import tensorflow as tf

from keras_explain.engine.baselines import check_baseline
from keras_explain.engine.errors import check_bool, check_choice, check_float, check_int, fail
from keras_explain.metrics.base import (
    Metric,
    broadcast_like,
    check_activation,
    check_injected,
    resolve_seed,
    row_draws,
    row_subsets,
    target_scores,
)
from keras_explain.metrics.perturbations import baseline_array, feature_mask
from keras_explain.metrics.statistics import row_correlations

CORRELATIONS = ("pearson", "spearman")


class SubsetCorrelation(Metric):
    """The correlation, over random subsets S of features, of the attribution S holds
    and the drop of the output when S is hidden.

    For each example x and each of `nb_samples` subsets S: the drop
    d_S = f(x) - f(x with S set to the baseline) (f(x) is run in the same
    batches as the subsets: `nb_samples + 1` model rows per example) and
    the mass m_S = sum of the attributions in S. The score is corr(m, d) over the
    subsets: 1 when the attributions add up to exactly what hiding does
    (0 when the drops or the masses are all equal).

    Subsets are drawn per example and subset from `random_state`, so the same
    seed gives the same scores whatever the batch size. A call may give its
    own subsets instead: `metric(model, x, e, perturbations=masks)`, masks of
    shape (N, nb_samples, ...) (see each metric), True (or 1) where a feature
    is hidden.

    Args:
        nb_samples: subsets per example. Each is one model evaluation.
        baseline: what hidden features become: a number, "mean" (each
            example's mean value) or an array shaped like one example or like
            x. Defaults to 0.0.
        correlation: "pearson" or "spearman".
        activation: None, "softmax" or "sigmoid", applied to the model's
            outputs before the target is read. Defaults to None.
        random_state: int seed of the subsets; None draws a fresh seed.
        **kwargs: `output`, `batch_size`, `run_eagerly` (see `Metric`).
    """

    call_options = ("perturbations",)
    config_attributes = ("nb_samples", "baseline", "correlation", "activation", "random_state")

    def __init__(self, nb_samples, baseline, correlation, activation=None, random_state=None, **kwargs):
        super().__init__(**kwargs)
        self.nb_samples = check_int("nb_samples", nb_samples, minimum=2)
        self.baseline = check_baseline(baseline, allow_mean=True)
        self.correlation = check_choice("correlation", correlation, CORRELATIONS)
        self.activation = check_activation(activation)
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)

    def compute(self, inputs, perturbations=None):
        count = len(inputs)
        shape = self.subset_shape(inputs.x, inputs.attributions)
        per_example = {
            "baseline": baseline_array(self.baseline, inputs.x),
            "attributions": broadcast_like(self.prepared(inputs.attributions), inputs.x),
            "seed": np.full(count, resolve_seed(self.random_state), np.int64),
        }
        per_pair = {}
        if perturbations is not None:
            hidden = check_injected("perturbations", perturbations, count, self.nb_samples, shape)
            hidden = hidden.reshape((count, self.nb_samples) + shape)
            hidden = np.concatenate([hidden, np.zeros((count, 1) + shape, hidden.dtype)], axis=1)
            per_pair["hidden"] = hidden.reshape((count * self.pairs,) + shape)
        out = self.run(inputs, per_example, self.pairs, per_pair=per_pair)
        outputs = out["score"].astype(np.float64)
        drops = outputs[:, -1:] - outputs[:, :-1]
        masses = out["mass"][:, :-1].astype(np.float64)
        scores = np.nan_to_num(row_correlations(masses, drops, self.correlation), nan=0.0)
        return self.result(scores, drops=drops, masses=masses)

    def kernel(self, model_function, rows):
        x = rows["x"]
        mask = self.expand(rows["hidden"] > 0.5, x) if "hidden" in rows else self.drawn_mask(rows, x)
        # The last pair of every example is x itself: f(x) comes from the same batches.
        subset = tf.reshape(rows["pair_index"] < self.nb_samples, [-1] + [1] * (len(mask.shape) - 1))
        mask = tf.logical_and(mask, subset)
        perturbed = tf.where(mask, tf.cast(rows["baseline"], x.dtype), x)
        held = tf.where(mask, tf.cast(rows["attributions"], tf.float32), 0.0)
        return {
            "score": target_scores(model_function, perturbed, rows["target"], self.activation),
            "mass": tf.reduce_sum(tf.reshape(held, (tf.shape(held)[0], -1)), axis=1),
        }

    @property
    def pairs(self):
        """Model rows per example: the `nb_samples` subsets, then x itself."""
        return self.nb_samples + 1

    # -- what each metric decides -------------------------------------------------

    def subset_shape(self, x, attributions):
        """The shape of one subset mask (what `perturbations` holds per sample)."""
        raise NotImplementedError

    def prepared(self, attributions):
        """The attributions the masses are summed from."""
        return attributions

    def draw(self, rows, x):
        """The hidden features of each pair, bool (B, prod(subset_shape))."""
        raise NotImplementedError

    def drawn_mask(self, rows, x):
        """The mask of the drawn subsets, broadcasting against x."""
        return self.expand(self.draw(rows, x), x)

    def expand(self, chosen, x):
        """A mask of hidden features (B, ...) to a mask broadcasting against x."""
        return feature_mask(chosen, x)


class MuFidelity(SubsetCorrelation):
    """μ-fidelity (Bhatt et al. 2020, as xplique computes it).

    Each subset hides every cell of a `grid_size` x `grid_size` grid over
    the image with probability `subset_percent` (each cell covers all the
    channels of its pixels; tables: each feature); the score of an example
    is the correlation of the attribution mass hidden and the drop of the
    output over `nb_samples` subsets (a cell is laid over the pixels as
    `tf.image.resize(..., method="nearest")` lays it, as in xplique; only the
    cells that cover a pixel are drawn, as on an 8x8 image whose 9x9 grid
    leaves one row and one column of cells on no pixel):

        μF(x) = corr_S( sum_{i in S} a_i , f(x) - f(x_[S = baseline]) )

    With `correlation="spearman"` (the default) this is xplique's
    `MuFidelity` per example: on the same subsets the mean of our scores
    equals its `evaluate`. The paper writes the Pearson correlation
    (`correlation="pearson"`); a drop or a mass that never changes gives 0,
    as in xplique.

    Args:
        grid_size: cells per side of the grid over an image, or None for one
            cell per pixel. Ignored for inputs that are not images. Defaults
            to 9.
        subset_percent: the probability that a cell is hidden, in (0, 1).
            Defaults to 0.2.
        nb_samples: subsets per example. Defaults to 200.
        baseline: what hidden cells become (see `SubsetCorrelation`).
            Defaults to 0.0.
        correlation: "spearman" or "pearson". Defaults to "spearman".
        activation, random_state, **kwargs: see `SubsetCorrelation`.

    `perturbations`, for a call: hidden cells (N, nb_samples, grid_size,
    grid_size) for images ((N, nb_samples, H, W) with grid_size None), or
    hidden features (N, nb_samples, n_features) for tables. The result has
    `drops` and `masses` (N, nb_samples).

    Example:

    ```python
    result = kx.metrics.MuFidelity(grid_size=7, nb_samples=128, random_state=0)(model, x, e)
    result.mean   # higher is better, at most 1
    ```

    Reference: Bhatt, Weller and Moura, "Evaluating and Aggregating
    Feature-based Model Explanations", IJCAI 2020 (definition 3).
    """

    name = "mufidelity"
    higher_is_better = True
    config_attributes = ("grid_size", "subset_percent")

    def __init__(
        self, grid_size=9, subset_percent=0.2, nb_samples=200, baseline=0.0, correlation="spearman", **kwargs
    ):
        super().__init__(nb_samples, baseline, correlation, **kwargs)
        self.grid_size = check_int("grid_size", grid_size, minimum=1, allow_none=True)
        self.subset_percent = check_float("subset_percent", subset_percent, 0.0, 1.0, strict_minimum=True)
        if self.subset_percent >= 1.0:
            fail("subset_percent", "a number in (0, 1)", subset_percent)

    def subset_shape(self, x, attributions=None):
        if len(x.shape) != 4:
            return (int(np.prod(x.shape[1:])),)
        if self.grid_size is None:
            return tuple(int(d) for d in x.shape[1:3])
        return (self.grid_size, self.grid_size)

    def drawn_mask(self, rows, x):
        if len(x.shape) != 4:
            return self.expand(row_subsets(rows, self.pairs, self.subset_shape(x)[0], self.subset_percent), x)
        # Only the cells that cover a pixel are drawn: the others hide nothing.
        size = tuple(int(d) for d in x.shape[1:3])
        count, pixel_cells = seen_cells(self.subset_shape(x), size)
        chosen = row_subsets(rows, self.pairs, count, self.subset_percent)
        if pixel_cells is not None:
            chosen = tf.gather(chosen, tf.constant(pixel_cells), axis=1)
        return tf.reshape(chosen, (-1,) + size + (1,))

    def expand(self, chosen, x):
        if len(x.shape) != 4:
            return super().expand(chosen, x)
        grid, size = self.subset_shape(x), tuple(int(d) for d in x.shape[1:3])
        flat = tf.reshape(chosen, (-1, grid[0] * grid[1]))
        cells = tf.constant(grid_cells(grid, size))
        return tf.reshape(tf.gather(flat, cells, axis=1), (-1,) + size + (1,))


class FaithfulnessCorrelation(SubsetCorrelation):
    """Faithfulness correlation (Bhatt et al. 2020, as Quantus defines it).

    Each subset is `subset_size` features drawn uniformly without
    replacement (a feature is one attribution value: attributions shaped
    like x count every value, (N, H, W) attributions every pixel); the score
    is the Pearson correlation of the attribution sum over the subset and
    the drop of the output when the subset is set to the baseline, over
    `nb_samples` subsets.

    This is Quantus' `FaithfulnessCorrelation` with `normalise=False`.
    Quantus normalises the attributions by default (`normalise=True` here:
    positive values divided by the largest, negative ones by the largest
    magnitude among them), which weighs the positive and the negative side
    differently, so that an attribution that adds up exactly to what
    hiding does scores below 1; its "black" baseline is the input's
    minimum, here `baseline=` a number (0 by default). A drop or a mass
    that never changes gives 0 (Quantus gives NaN).

    Args:
        nb_samples: subsets per example (Quantus' `nr_runs`). Defaults to 100.
        subset_size: features per subset, fewer than there are; None for
            224 (Quantus' default, made for 224x224 images) when the
            attributions have more than 896 features, else a quarter of them
            (at least 1). Defaults to None.
        baseline: what the subset's values become (see `SubsetCorrelation`).
            Defaults to 0.0.
        absolute: use |attributions|. Defaults to False.
        normalise: normalise each example's attributions as Quantus does.
            Defaults to False.
        correlation: "pearson" or "spearman". Defaults to "pearson".
        activation, random_state, **kwargs: see `SubsetCorrelation`.

    `perturbations`, for a call: hidden features (N, nb_samples, F) with F
    the number of features. The result has `drops` and `masses`.

    Example:

    ```python
    result = kx.metrics.FaithfulnessCorrelation(nb_samples=50, random_state=0)(model, x, e)
    ```

    Reference: Bhatt, Weller and Moura, "Evaluating and Aggregating
    Feature-based Model Explanations", IJCAI 2020.
    """

    name = "faithfulness_correlation"
    higher_is_better = True
    config_attributes = ("subset_size", "absolute", "normalise")

    def __init__(
        self, nb_samples=100, subset_size=None, baseline=0.0, absolute=False, normalise=False,
        correlation="pearson", **kwargs,
    ):
        super().__init__(nb_samples, baseline, correlation, **kwargs)
        self.subset_size = check_int("subset_size", subset_size, minimum=1, allow_none=True)
        self.absolute = check_bool("absolute", absolute)
        self.normalise = check_bool("normalise", normalise)

    def subset_shape(self, x, attributions=None):
        features = int(np.prod(x.shape[1:]))
        if attributions is not None and attributions.ndim == len(x.shape) - 1:
            features //= int(x.shape[-1])
        self.subset_count(features)
        return (features,)

    def subset_count(self, features):
        """`subset_size`, or its default, checked against the number of features."""
        size = self.subset_size
        if size is None:
            size = 224 if features > 4 * 224 else max(1, features // 4)
        if size >= features:
            fail("subset_size", f"an integer below {features}, the number of features", size)
        return size

    def prepared(self, attributions):
        values = normalised(attributions) if self.normalise else attributions
        return np.abs(values) if self.absolute else values

    def draw(self, rows, x):
        features = int(np.prod(rows["attributions"].shape[1:]))
        uniform = row_draws(rows, self.pairs, (features,))
        threshold = tf.math.top_k(uniform, self.subset_count(features)).values[:, -1:]
        return uniform >= threshold


@functools.lru_cache(maxsize=32)
def grid_cells(grid, size):
    """The grid cell of every pixel, int32 (H * W,): a `grid` mask resized to `size` by nearest neighbour.

    It is read from `tf.image.resize(..., method="nearest")` of the cells'
    numbers (as xplique scales its grid), so that gathering a mask of cells
    by it equals resizing the mask.
    """
    with tf.init_scope():
        numbers = tf.reshape(tf.range(grid[0] * grid[1], dtype=tf.float32), (1,) + tuple(grid) + (1,))
        resized = tf.image.resize(numbers, size, method="nearest")
        return tf.cast(tf.reshape(resized, [-1]), tf.int32).numpy()


@functools.lru_cache(maxsize=32)
def seen_cells(grid, size):
    """(C, pixel_cells): the C cells of `grid` that cover a pixel, and each pixel's among them.

    `pixel_cells` is int32 (H * W,), or None when every pixel has a cell of
    its own, in raster order (a grid at least as fine as the image): the
    drawn cells are then the pixel mask itself.
    """
    seen, pixel_cells = np.unique(grid_cells(grid, size), return_inverse=True)
    if len(seen) == len(pixel_cells):
        return len(seen), None
    return len(seen), pixel_cells.reshape(-1).astype(np.int32)


def normalised(attributions):
    """Each example's attributions in [-1, 1], as Quantus' `normalise_by_negative`.

    Positive values are divided by the example's largest value, negative
    ones by the magnitude of its smallest; an example whose values are all
    zero is left as it is.
    """
    values = attributions.astype(np.float64)
    flat = values.reshape(len(values), -1)
    shape = (len(values),) + (1,) * (values.ndim - 1)
    top = flat.max(axis=1).reshape(shape)
    bottom = flat.min(axis=1).reshape(shape)
    positive = np.where(values > 0, values / np.where(top > 0, top, 1.0), 0.0)
    negative = np.where(values < 0, values / np.where(bottom < 0, -bottom, 1.0), 0.0)
    return (positive + negative).astype(np.float32)
