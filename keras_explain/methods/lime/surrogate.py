"""The local linear surrogate shared by the LIME explainers: a weighted ridge.

LIME fits, for each explained input and label, a ridge regression (alpha=1,
with intercept) of the model's outputs on the interpretable representation of
the perturbed samples, weighted by a kernel of their distance to the input.
Everything here works on the weighted, centred sufficient statistics

    G = Xc^T W Xc   (F, F)      r = Xc^T W yc   (F,)      yy = yc^T W yc

so that a fit on any subset of features, with any ridge penalty, costs a small
solve, and every (example, label) pair is solved in one batched call. Every
feature selection ("none", "highest_weights", "forward_selection",
"lasso_path") needs nothing but these statistics.

The statistics come from the raw weighted sums of the samples shifted by a
reference point per example (x_ref, y_ref; LIME's sample 0, the example itself):

    W = sum w      sd = sum w d      sdd = sum w d d^T      se = sum w e
    sde = sum w e d^T      see = sum w e^2      (d = x - x_ref, e = y - y_ref)

which add up over any split of the samples, so samples can be folded in as
they are produced, batch by batch, and never all held at once (`Accumulator`,
which sums each example's samples in aligned blocks of `BLOCK`, so the sums
are the same to the last bit however the samples were cut into batches);
`statistics` computes the same sums for samples held in arrays. Centring is
exact algebra on the sums: G = sdd - W dm dm^T with dm = sd / W, and so on;
the shift keeps the sums small (binary masks differ from the all-ones input
by -1 or 0), so no precision is lost to cancellation.

Shapes: X (N, S, F) interpretable samples per example (row 0 is the example
itself), Y (N, S, L) model outputs for the L explained labels of each example,
w (N, S) sample weights. The distances and kernel are TensorFlow functions
(they also run inside compiled steps); the small linear algebra runs in numpy.
All arithmetic is float64.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_explain.methods.lime.selection import (  # noqa: F401  (re-exported)
    FEATURE_SELECTIONS,
    constrained_least_squares,
    constrained_standard_errors,
    r2_score,
    select_features,
    solve,
    standard_errors,
)

#: Samples of one example summed together: block k holds samples k * BLOCK ... (k + 1) * BLOCK - 1.
BLOCK = 128


def cosine_distance(z, reference):
    """Cosine distance along the last axis (0 similarity for a zero vector), float64."""
    z = tf.convert_to_tensor(z, tf.float64)
    reference = tf.convert_to_tensor(reference, tf.float64)
    dot = tf.reduce_sum(z * reference, axis=-1)
    norms = tf.norm(z, axis=-1) * tf.norm(reference, axis=-1)
    similarity = tf.math.divide_no_nan(dot, norms)
    return tf.clip_by_value(1.0 - similarity, 0.0, 2.0)


def cosine_distance_to_first(X):
    """Cosine distance of every row of X (N, S, F) to row 0 of its example: (N, S)."""
    X = tf.convert_to_tensor(X, tf.float64)
    return cosine_distance(X, X[:, :1, :])


def euclidean_distance_to_first(X):
    """Euclidean distance of every row of X (N, S, F) to row 0 of its input: (N, S)."""
    X = tf.convert_to_tensor(X, tf.float64)
    return tf.norm(X - X[:, :1, :], axis=-1)


def exponential_kernel(distances, width):
    """LIME's kernel: sqrt(exp(-d^2 / width^2))."""
    distances = tf.convert_to_tensor(distances, tf.float64)
    return tf.sqrt(tf.exp(-(distances**2) / float(width) ** 2))


@dataclasses.dataclass
class Statistics:
    """Weighted, centred sufficient statistics of N examples x L labels (numpy float64).

    Attributes:
        gram: (N, F, F) G = Xc^T W Xc.
        cross: (N, L, F) r = Xc^T W yc per label.
        yy: (N, L) yc^T W yc.
        x_mean, y_mean: (N, F) and (N, L) weighted means.
        first: (N, F) the example's own representation (sample 0).
        first_y: (N, L) the reference outputs the sums were shifted by.
        constant: (N, F) bool, features that never differ from sample 0.
        count: (N,) samples per example, or None when not counted.
    """

    gram: np.ndarray
    cross: np.ndarray
    yy: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    first: np.ndarray
    first_y: np.ndarray
    constant: np.ndarray
    count: np.ndarray = None


class Accumulator:
    """Weighted sums of samples that arrive in chunks, turned into `Statistics`.

    Each sample enters as its root weight sqrt(w) and its shifted, root-weighted
    values a = sqrt(w) (x - x_ref) and b = sqrt(w) (y - y_ref), so every sum is
    a matrix product: sdd = a^T a, sde = b^T a, sd = sqrt(w)^T a, and so on.
    The chunks of an example may come in any order and any size; memory is
    O(N F^2) whatever the number of samples.

    Args:
        x_reference: (N, F) the example's own representation (sample 0), the
            shift of x; the surrogate's prediction at the input is read there.
        y_reference: (N, L) the shift of the outputs (any value works; one
            close to the outputs, such as the model's output at the input,
            keeps the sums small).

    Example:

    ```python
    acc = Accumulator(X[:, 0], Y[:, 0])
    root = np.sqrt(w[0, :100])
    acc.add(0, root, root[:, None] * (X[0, :100] - X[0, 0]), root[:, None] * (Y[0, :100] - Y[0, 0]))
    ...
    stats = acc.statistics()
    ```
    """

    def __init__(self, x_reference, y_reference):
        self.x_reference = np.array(x_reference, dtype=np.float64)
        self.y_reference = np.array(y_reference, dtype=np.float64)
        count, size = self.x_reference.shape
        labels = self.y_reference.shape[1]
        self.total = np.zeros(count)
        self.sum_d = np.zeros((count, size))
        self.sum_dd = np.zeros((count, size, size))
        self.sum_e = np.zeros((count, labels))
        self.sum_de = np.zeros((count, labels, size))
        self.sum_ee = np.zeros((count, labels))
        self.count = np.zeros(count, np.int64)
        # Per example: (first sample index, [(root, a, b) rows]) of its open block.
        self._open = {}

    def add(self, index, root_weights, a, b):
        """Add samples of one input, or of all inputs at once.

        Args:
            index: the input (an int) with root_weights (S,), a (S, F) and
                b (S, L); or `slice(None)` with leading N dimensions on all three.
            root_weights: sqrt(w) of each sample.
            a: sqrt(w) (x - x_ref) of each sample.
            b: sqrt(w) (y - y_ref) of each sample.
        """
        root = np.asarray(root_weights, dtype=np.float64)[..., None, :]
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        a_t = np.swapaxes(a, -1, -2)
        self.total[index] += (root @ root[..., 0, :, None])[..., 0, 0]
        self.sum_d[index] += (root @ a)[..., 0, :]
        self.sum_dd[index] += a_t @ a
        self.sum_e[index] += (root @ b)[..., 0, :]
        self.sum_de[index] += np.swapaxes(b, -1, -2) @ a
        self.sum_ee[index] += np.sum(b * b, axis=-2)
        self.count[index] += a.shape[-2]

    def add_pairs(self, first_pair, samples, root_weights, a, b, offset=0, examples=None):
        """Add a run of consecutive (example, sample) pairs in example-major order.

        Pair p is sample offset + p % samples of input p // samples, the order
        of the shared batching loop; a run may start and end anywhere. Each
        example's samples are summed in whole blocks of `BLOCK` (aligned on
        the sample index), a block split between runs waiting for its end,
        and the blocks are added in order: the sums do not depend on how the
        pairs were cut into runs. Call `flush` (`statistics` does) to add the
        blocks still open.

        Args:
            first_pair: index of the run's first pair.
            samples: samples per example.
            root_weights, a, b: as in `add`, one row per pair of the run.
            offset: the sample index of each example's first pair. Defaults to 0.
            examples: the row of these sums each of the run's examples adds
                to (an int array), or None for the same index. Defaults to None.
        """
        start, count = 0, len(root_weights)
        while start < count:
            pair = first_pair + start
            stop = min(count, start + samples - pair % samples)
            example = pair // samples if examples is None else int(examples[pair // samples])
            self._add_run(example, offset + pair % samples, root_weights[start:stop], a[start:stop], b[start:stop])
            start = stop

    def _add_run(self, example, sample, root, a, b):
        """Samples sample, sample + 1, ... of one example, summed block by block."""
        opened = self._open.pop(example, None)
        if opened is not None:
            if opened[0] + len(opened[1]) != sample:
                raise ValueError(f"samples of example {example} out of order: {sample} after the open block")
            sample = opened[0]
            root, a, b = (np.concatenate([part, new]) for part, new in zip(opened[1:], (root, a, b)))
        head = min(len(root), (-sample) % BLOCK)
        if head:
            self.add(example, root[:head], a[:head], b[:head])
        blocks = (len(root) - head) // BLOCK
        stop = head + blocks * BLOCK
        if blocks:
            self._add_blocks(example, *(v[head:stop].reshape((blocks, BLOCK) + v.shape[1:]) for v in (root, a, b)))
        if stop < len(root):
            self._open[example] = (sample + stop, root[stop:], a[stop:], b[stop:])

    def _add_blocks(self, example, root, a, b):
        """Whole blocks (K, BLOCK, ...) of one example, each summed alone, then added in order."""
        root = np.asarray(root, np.float64)
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        parts = {
            "total": np.sum(root * root, axis=1),
            "sum_d": (root[:, None, :] @ a)[:, 0],
            "sum_dd": np.swapaxes(a, 1, 2) @ a,
            "sum_e": (root[:, None, :] @ b)[:, 0],
            "sum_de": np.swapaxes(b, 1, 2) @ a,
            "sum_ee": np.sum(b * b, axis=1),
        }
        for name, blocks in parts.items():
            values = getattr(self, name)
            # cumsum adds one block after another, the same order for any batching.
            values[example] = np.cumsum(np.concatenate([values[example][None], blocks]), axis=0)[-1]
        self.count[example] += root.size

    def flush(self):
        """Add the blocks still open (the last, partial block of each example)."""
        for example in sorted(self._open):
            _, root, a, b = self._open[example]
            self.add(example, root, a, b)
        self._open = {}

    def statistics(self):
        """The centred `Statistics` of everything added so far."""
        self.flush()
        total = self.total
        mean_d = self.sum_d / total[:, None]
        mean_e = self.sum_e / total[:, None]
        gram = self.sum_dd - total[:, None, None] * mean_d[:, :, None] * mean_d[:, None, :]
        cross = self.sum_de - total[:, None, None] * mean_e[:, :, None] * mean_d[:, None, :]
        yy = self.sum_ee - total[:, None] * mean_e * mean_e
        # sum w (x_f - x_ref_f)^2 is zero exactly when no sample moves feature f.
        constant = np.diagonal(self.sum_dd, axis1=1, axis2=2) == 0.0
        return Statistics(
            gram=gram,
            cross=cross,
            yy=yy,
            x_mean=self.x_reference + mean_d,
            y_mean=self.y_reference + mean_e,
            first=self.x_reference,
            first_y=self.y_reference,
            constant=constant,
            count=self.count.copy(),
        )


def subset(stats, examples, count):
    """The `Statistics` of some examples over their first `count` features."""
    return Statistics(
        gram=stats.gram[examples][:, :count, :count],
        cross=stats.cross[examples][:, :, :count],
        yy=stats.yy[examples],
        x_mean=stats.x_mean[examples][:, :count],
        y_mean=stats.y_mean[examples],
        first=stats.first[examples][:, :count],
        first_y=stats.first_y[examples],
        constant=stats.constant[examples][:, :count],
        count=None if stats.count is None else stats.count[examples],
    )


def statistics(X, Y, w):
    """`Statistics` from samples X (N, S, F), outputs Y (N, S, L), weights w (N, S)."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    root = np.sqrt(np.asarray(w, dtype=np.float64))
    accumulator = Accumulator(X[:, 0], Y[:, 0])
    accumulator.add(
        slice(None),
        root,
        root[..., None] * (X - X[:, :1]),
        root[..., None] * (Y - Y[:, :1]),
    )
    return accumulator.statistics()


def fit_statistics(stats, num_features=None, feature_selection="auto", alpha=1.0):
    """Fit LIME's weighted ridge surrogate from `Statistics`.

    Args:
        stats: `Statistics` of N examples x L labels over F features.
        num_features: features kept per surrogate. Defaults to all.
        feature_selection: one of `FEATURE_SELECTIONS`. Defaults to "auto".
        alpha: ridge penalty of the final fit. Defaults to 1.0.

    Returns:
        dict of numpy arrays: "coef" (N, L, F) with zeros for unselected
        features, "intercept" (N, L), "score" (N, L) weighted R^2, "local_pred"
        (N, L) the surrogate's prediction at sample 0, "used" (N, L, F) bool.
    """
    size = stats.gram.shape[-1]
    num_features = size if num_features is None else int(num_features)
    used = select_features(stats, num_features, feature_selection)
    coef = solve(stats, used, alpha)
    intercept = stats.y_mean - np.einsum("nlf,nf->nl", coef, stats.x_mean)
    local = intercept + np.einsum("nlf,nf->nl", coef, stats.first)
    return {
        "coef": coef,
        "intercept": intercept,
        "score": r2_score(stats, coef),
        "local_pred": local,
        "used": used,
    }


def fit(X, Y, w, num_features=None, feature_selection="auto", alpha=1.0):
    """Fit LIME's weighted ridge surrogate for N examples x L labels.

    Args:
        X: (N, S, F) interpretable samples; row 0 of each example is the example itself.
        Y: (N, S, L) model outputs for the explained labels.
        w: (N, S) sample weights (the kernel of the distances).
        num_features: features kept per surrogate. Defaults to all.
        feature_selection: one of `FEATURE_SELECTIONS`. Defaults to "auto".
        alpha: ridge penalty of the final fit. Defaults to 1.0.

    Returns:
        dict of numpy arrays as `fit_statistics` returns them.
    """
    return fit_statistics(statistics(X, Y, w), num_features, feature_selection, alpha)


def fit_by_feature_count(stats, counts, num_features, feature_selection):
    """`fit_statistics`, fitted apart for examples with different feature counts.

    Args:
        stats: `Statistics` over F features (padded where an example
            has fewer).
        counts: (N,) features per example, or None when all have F.
        num_features, feature_selection: as in `fit_statistics`.

    Returns:
        the fit dict with every array over the F features (zeros where padded).
    """
    if counts is None:
        return fit_statistics(stats, num_features, feature_selection)
    n, labels, width = stats.cross.shape
    fitted = {
        "coef": np.zeros((n, labels, width)),
        "intercept": np.zeros((n, labels)),
        "score": np.zeros((n, labels)),
        "local_pred": np.zeros((n, labels)),
        "used": np.zeros((n, labels, width), dtype=bool),
    }
    for count in np.unique(counts):
        chosen = np.flatnonzero(counts == count)
        part = fit_statistics(
            subset(stats, chosen, int(count)), num_features, feature_selection
        )
        fitted["coef"][chosen, :, :count] = part["coef"]
        fitted["used"][chosen, :, :count] = part["used"]
        for key in ("intercept", "score", "local_pred"):
            fitted[key][chosen] = part[key]
    return fitted
