"""The local linear surrogate shared by the LIME explainers: weighted ridge in TF.

LIME fits, for each explained input and label, a ridge regression (alpha=1,
with intercept) of the model's outputs on the interpretable representation of
the perturbed samples, weighted by a kernel of their distance to the input.
Everything here works on the weighted, centred sufficient statistics

    G = Xc^T W Xc   (F, F)      r = Xc^T W yc   (F,)      yy = yc^T W yc

so that a fit on any subset of features, with any ridge penalty, costs a small
solve, and every (input, label) pair is solved in one batched call:

* X: (N, S, F) interpretable samples per input (row 0 is the input itself),
* Y: (N, S, L) model outputs for the L explained labels of each input,
* w: (N, S) sample weights.

All arithmetic is float64.
"""

import dataclasses

import numpy as np
import tensorflow as tf

FEATURE_SELECTIONS = ("auto", "none", "highest_weights", "forward_selection", "lasso_path")


def cosine_distance_to_first(X):
    """Cosine distance of every row of X (N, S, F) to row 0 of its input: (N, S)."""
    X = tf.convert_to_tensor(X, tf.float64)
    first = X[:, :1, :]
    dot = tf.reduce_sum(X * first, axis=-1)
    norms = tf.norm(X, axis=-1) * tf.norm(first, axis=-1)
    similarity = tf.math.divide_no_nan(dot, norms)
    return tf.clip_by_value(1.0 - similarity, 0.0, 2.0)


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
    """Weighted, centred sufficient statistics of N inputs x L labels."""

    gram: tf.Tensor  # (N, F, F)
    cross: tf.Tensor  # (N, L, F)
    yy: tf.Tensor  # (N, L)
    x_mean: tf.Tensor  # (N, F)
    y_mean: tf.Tensor  # (N, L)
    first: tf.Tensor  # (N, F): the input's own representation (row 0)
    first_y: tf.Tensor  # (N, L)


def statistics(X, Y, w):
    """Compute `Statistics` from samples X (N, S, F), outputs Y (N, S, L), weights w (N, S)."""
    X = tf.convert_to_tensor(X, tf.float64)
    Y = tf.convert_to_tensor(Y, tf.float64)
    w = tf.convert_to_tensor(w, tf.float64)
    total = tf.reduce_sum(w, axis=1, keepdims=True)
    x_mean = tf.einsum("ns,nsf->nf", w, X) / total
    y_mean = tf.einsum("ns,nsl->nl", w, Y) / total
    Xc = X - x_mean[:, None, :]
    Yc = Y - y_mean[:, None, :]
    weighted = Xc * w[:, :, None]
    return Statistics(
        gram=tf.einsum("nsf,nsg->nfg", weighted, Xc),
        cross=tf.einsum("nsf,nsl->nlf", weighted, Yc),
        yy=tf.einsum("ns,nsl->nl", w, Yc * Yc),
        x_mean=x_mean,
        y_mean=y_mean,
        first=X[:, 0, :],
        first_y=Y[:, 0, :],
    )


def solve(stats, used, alpha):
    """Ridge coefficients (N, L, F) on the features `used` (N, L, F) bool.

    Features not used get coefficient 0. alpha=0 is ordinary least squares.
    """
    mask = tf.cast(used, tf.float64)
    gram = stats.gram[:, None, :, :] * mask[..., :, None] * mask[..., None, :]
    size = gram.shape[-1]
    eye = tf.eye(size, dtype=tf.float64)
    # Unused features get an identity row so the system stays regular; a
    # vanishing jitter keeps alpha=0 solvable for collinear samples.
    scale = tf.reduce_max(tf.linalg.diag_part(stats.gram), axis=-1)[:, None, None, None]
    jitter = 1e-12 * tf.maximum(scale, 1.0)
    system = gram + (alpha * mask[..., None] + (1.0 - mask[..., None]) + jitter) * eye
    rhs = (stats.cross * mask)[..., None]
    return tf.linalg.solve(system, rhs)[..., 0] * mask


def sum_squared_errors(stats, coef):
    """Weighted residual sum of squares (N, L) of centred predictions with `coef`."""
    fitted = tf.einsum("nlf,nfg,nlg->nl", coef, stats.gram, coef)
    return stats.yy - 2.0 * tf.reduce_sum(coef * stats.cross, axis=-1) + fitted


def r2_score(stats, coef):
    """Weighted R^2 (N, L) as scikit-learn defines it (1 or 0 for constant outputs)."""
    sse = sum_squared_errors(stats, coef)
    constant = stats.yy <= 1e-300
    perfect = tf.abs(sse) <= 1e-300
    ratio = tf.math.divide_no_nan(sse, stats.yy)
    one, zero = tf.ones_like(sse), tf.zeros_like(sse)
    return tf.where(constant, tf.where(perfect, one, zero), 1.0 - ratio)


def _forward_selection(stats, num_features):
    """Greedily add the feature that most raises R^2 of an OLS fit (LIME's rule).

    Each round solves, for every (input, label) and every candidate feature, the
    small system of the features chosen so far plus the candidate.
    """
    gram, cross, yy = stats.gram.numpy(), stats.cross.numpy(), stats.yy.numpy()
    n, labels, size = cross.shape
    chosen = np.zeros((n, labels, 0), dtype=np.int64)
    rows = np.arange(n)[:, None, None, None, None]
    for _ in range(min(num_features, size)):
        candidates = np.broadcast_to(np.arange(size), (n, labels, size))[..., None]
        index = np.concatenate(
            [np.broadcast_to(chosen[:, :, None, :], (n, labels, size, chosen.shape[-1])), candidates],
            axis=-1,
        )  # (N, L, F, k + 1)
        sub = gram[rows, index[..., :, None], index[..., None, :]]
        rhs = np.take_along_axis(cross[:, :, None, :], index, axis=-1)
        scale = np.maximum(np.abs(sub).max(axis=(-2, -1), keepdims=True), 1.0)
        sub = sub + 1e-12 * scale * np.eye(index.shape[-1])
        coef = np.linalg.solve(sub, rhs[..., None])[..., 0]
        sse = yy[:, :, None] - np.sum(coef * rhs, axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(yy[:, :, None] > 1e-300, 1.0 - sse / yy[:, :, None], 0.0)
        taken = np.zeros((n, labels, size), dtype=bool)
        np.put_along_axis(taken, chosen, True, axis=-1)
        score = np.where(taken, -np.inf, score)
        best = np.argmax(score, axis=-1)
        chosen = np.concatenate([chosen, best[..., None]], axis=-1)
    used = np.zeros((n, labels, size), dtype=bool)
    np.put_along_axis(used, chosen, True, axis=-1)
    return tf.constant(used)


def _highest_weights(stats, num_features):
    """Top features by |coef * x0| of a ridge (alpha=0.01) fit on all features."""
    n, labels = stats.cross.shape[0], stats.cross.shape[1]
    size = stats.gram.shape[-1]
    coef = solve(stats, tf.ones((n, labels, size), tf.bool), 0.01)
    strength = tf.abs(coef * stats.first[:, None, :]).numpy()
    order = np.argsort(-strength, axis=-1, kind="stable")[..., :num_features]
    used = np.zeros(strength.shape, dtype=bool)
    np.put_along_axis(used, order, True, axis=-1)
    return tf.constant(used)


def _lasso_path(stats, num_features):
    """Features on the lasso path (LARS) at the last step with <= num_features nonzero."""
    gram = stats.gram.numpy()
    cross = stats.cross.numpy()
    used = np.zeros(cross.shape, dtype=bool)
    for i in range(cross.shape[0]):
        for label in range(cross.shape[1]):
            used[i, label] = lasso_path_support(gram[i], cross[i, label], num_features)
    return tf.constant(used)


def lasso_path_support(gram, cross, num_features):
    """Support of the lasso path with at most `num_features` nonzero coefficients.

    Walks the LARS-lasso path (Efron et al., 2004) from the Gram matrix and the
    correlations of centred, weighted data, and returns the support of the last
    breakpoint whose support has at most `num_features` features.

    Args:
        gram: (F, F) X^T X.
        cross: (F,) X^T y.
        num_features: the largest support wanted.

    Returns:
        bool array (F,).
    """
    size = len(cross)
    coef = np.zeros(size)
    active = []
    best = np.zeros(size, dtype=bool)
    tiny = np.finfo(float).eps
    for _ in range(8 * size):
        correlation = cross - gram @ coef
        inactive = [j for j in range(size) if j not in active]
        if not active:
            if not inactive:
                break
            j = int(np.argmax(np.abs(correlation)))
            if abs(correlation[j]) <= tiny:
                break
            active.append(j)
        c_max = np.max(np.abs(correlation[active]))
        if c_max <= tiny * 100:
            break
        signs = np.sign(correlation[active])
        sub = gram[np.ix_(active, active)]
        try:
            direction_active = np.linalg.solve(sub, signs)
        except np.linalg.LinAlgError:
            break
        scale = 1.0 / np.sqrt(max(signs @ direction_active, tiny))
        direction_active = direction_active * scale
        direction = np.zeros(size)
        direction[active] = direction_active
        a = gram @ direction
        step = c_max / scale  # the full step to the least-squares fit on the active set
        entering = None
        for j in range(size):
            if j in active:
                continue
            for numerator, denominator in (
                (c_max - correlation[j], scale - a[j]),
                (c_max + correlation[j], scale + a[j]),
            ):
                if denominator > tiny:
                    gamma = numerator / denominator
                    if tiny < gamma < step:
                        step, entering = gamma, j
        leaving = None
        for position, j in enumerate(active):
            if direction_active[position] != 0:
                gamma = -coef[j] / direction_active[position]
                if tiny < gamma < step:
                    step, entering, leaving = gamma, None, j
        coef = coef + step * direction
        if leaving is not None:
            coef[leaving] = 0.0
            active.remove(leaving)
        elif entering is not None:
            active.append(entering)
        support = np.abs(coef) > 0
        if support.sum() <= num_features:
            best = support.copy()
        if entering is None and leaving is None:
            break
    return best


def select_features(stats, num_features, method):
    """The features each (input, label) surrogate uses: (N, L, F) bool.

    Args:
        stats: `Statistics`.
        num_features: how many features to keep.
        method: "none" (all), "forward_selection", "highest_weights",
            "lasso_path", or "auto" (forward selection up to 6 features,
            highest weights beyond), as LIME defines them.
    """
    n, labels = stats.cross.shape[0], stats.cross.shape[1]
    size = stats.gram.shape[-1]
    if method == "none" or num_features >= size and method != "forward_selection":
        return tf.ones((n, labels, size), tf.bool)
    if method == "auto":
        method = "forward_selection" if num_features <= 6 else "highest_weights"
    if method == "forward_selection":
        return _forward_selection(stats, num_features)
    if method == "highest_weights":
        return _highest_weights(stats, num_features)
    return _lasso_path(stats, num_features)


def fit(X, Y, w, num_features=None, feature_selection="auto", alpha=1.0):
    """Fit LIME's weighted ridge surrogate for N inputs x L labels.

    Args:
        X: (N, S, F) interpretable samples; row 0 of each input is the input.
        Y: (N, S, L) model outputs for the explained labels.
        w: (N, S) sample weights (the kernel of the distances).
        num_features: features kept per surrogate. Defaults to all.
        feature_selection: one of `FEATURE_SELECTIONS`. Defaults to "auto".
        alpha: ridge penalty of the final fit. Defaults to 1.0.

    Returns:
        dict of numpy arrays: "coef" (N, L, F) with zeros for unselected
        features, "intercept" (N, L), "score" (N, L) weighted R^2, "local_pred"
        (N, L) the surrogate's prediction at row 0, "used" (N, L, F) bool.
    """
    stats = statistics(X, Y, w)
    size = stats.gram.shape[-1]
    num_features = size if num_features is None else int(num_features)
    used = select_features(stats, num_features, feature_selection)
    coef = solve(stats, used, alpha)
    intercept = stats.y_mean - tf.einsum("nlf,nf->nl", coef, stats.x_mean)
    local = intercept + tf.einsum("nlf,nf->nl", coef, stats.first)
    return {
        "coef": coef.numpy(),
        "intercept": intercept.numpy(),
        "score": r2_score(stats, coef).numpy(),
        "local_pred": local.numpy(),
        "used": np.asarray(used),
    }
