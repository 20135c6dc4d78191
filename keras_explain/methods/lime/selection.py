"""LIME's ridge solve and feature selections on `surrogate.Statistics`.

Every feature selection ("none", "highest_weights", "forward_selection",
"lasso_path") needs nothing but the weighted, centred sufficient statistics;
each (example, label) pair is solved in one batched call.
"""

import numpy as np

FEATURE_SELECTIONS = ("auto", "none", "highest_weights", "forward_selection", "lasso_path")


def solve(stats, used, alpha):
    """Ridge coefficients (N, L, F) on the features `used` (N, L, F) bool.

    Features not used get coefficient 0. alpha=0 is ordinary least squares.
    """
    mask = np.asarray(used, dtype=np.float64)
    gram = stats.gram[:, None, :, :] * mask[..., :, None] * mask[..., None, :]
    eye = np.eye(gram.shape[-1])
    # Unused features get an identity row so the system stays regular; a
    # vanishing jitter keeps alpha=0 solvable for collinear samples.
    scale = np.max(np.diagonal(stats.gram, axis1=1, axis2=2), axis=-1)[:, None, None, None]
    jitter = 1e-12 * np.maximum(scale, 1.0)
    system = gram + (alpha * mask[..., None] + (1.0 - mask[..., None]) + jitter) * eye
    rhs = (stats.cross * mask)[..., None]
    return np.linalg.solve(system, rhs)[..., 0] * mask


def sum_squared_errors(stats, coef):
    """Weighted residual sum of squares (N, L) of centred predictions with `coef`."""
    fitted = np.einsum("nlf,nfg,nlg->nl", coef, stats.gram, coef)
    return stats.yy - 2.0 * np.sum(coef * stats.cross, axis=-1) + fitted


def standard_errors(stats, coef, used, alpha):
    """Standard errors (N, L, F) of the ridge weights, from the sufficient statistics.

    The weighted least squares covariance with the ridge term,
    sigma^2 (X^T W X + alpha I)^-1 on the features `used`, with sigma^2 the
    weighted residual variance sum w (y - y_hat)^2 / (n - p - 1) (n samples,
    p used features, one intercept), as statsmodels' WLS reads the weights;
    0 for the features not used.

    Args:
        stats: `Statistics` with `count` (the samples per example).
        coef: (N, L, F) the fitted weights.
        used: (N, L, F) bool, the features fitted.
        alpha: the ridge penalty the weights were fitted with.

    Returns:
        np.ndarray float64 (N, L, F).
    """
    mask = np.asarray(used, dtype=np.float64)
    gram = stats.gram[:, None, :, :] * mask[..., :, None] * mask[..., None, :]
    system = gram + (alpha * mask[..., None] + (1.0 - mask[..., None])) * np.eye(gram.shape[-1])
    scale = np.diagonal(np.linalg.pinv(system, hermitian=True), axis1=-2, axis2=-1)
    residual = np.maximum(sum_squared_errors(stats, coef), 0.0)
    freedom = np.maximum(np.asarray(stats.count, np.float64)[:, None] - mask.sum(axis=-1) - 1.0, 1.0)
    return np.sqrt(np.maximum(residual / freedom, 0.0)[..., None] * np.maximum(scale, 0.0)) * mask


def r2_score(stats, coef):
    """Weighted R^2 (N, L) as scikit-learn defines it (1 or 0 for constant outputs)."""
    sse = sum_squared_errors(stats, coef)
    constant = stats.yy <= 1e-300
    perfect = np.abs(sse) <= 1e-300
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(constant, 0.0, sse / np.where(constant, 1.0, stats.yy))
    return np.where(constant, np.where(perfect, 1.0, 0.0), 1.0 - ratio)


def _forward_selection(stats, num_features):
    """Greedily add the feature that most raises R^2 of an OLS fit (LIME's rule).

    Each round solves, for every (example, label) and every candidate feature, the
    small system of the features chosen so far plus the candidate.
    """
    gram, cross, yy = stats.gram, stats.cross, stats.yy
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
    return used


def _highest_weights(stats, num_features):
    """Top features by |coef * x0| of a ridge (alpha=0.01) fit on all features."""
    n, labels, size = stats.cross.shape
    coef = solve(stats, np.ones((n, labels, size), dtype=bool), 0.01)
    strength = np.abs(coef * stats.first[:, None, :])
    order = np.argsort(-strength, axis=-1, kind="stable")[..., :num_features]
    used = np.zeros(strength.shape, dtype=bool)
    np.put_along_axis(used, order, True, axis=-1)
    return used


def _lasso_path(stats, num_features):
    """Features on the lasso path (LARS) at the last step with <= num_features nonzero."""
    used = np.zeros(stats.cross.shape, dtype=bool)
    for i in range(stats.cross.shape[0]):
        for label in range(stats.cross.shape[1]):
            used[i, label] = lasso_path_support(stats.gram[i], stats.cross[i, label], num_features)
    return used


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
    """The features each (example, label) surrogate uses: (N, L, F) bool.

    Args:
        stats: `Statistics`.
        num_features: how many features to keep.
        method: "none" (all), "forward_selection", "highest_weights",
            "lasso_path", or "auto" (forward selection up to 6 features,
            highest weights beyond), as LIME defines them.
    """
    n, labels, size = stats.cross.shape
    if method == "none" or num_features >= size and method != "forward_selection":
        return np.ones((n, labels, size), dtype=bool)
    if method == "auto":
        method = "forward_selection" if num_features <= 6 else "highest_weights"
    if method == "forward_selection":
        return _forward_selection(stats, num_features)
    if method == "highest_weights":
        return _highest_weights(stats, num_features)
    return _lasso_path(stats, num_features)


def constrained_least_squares(gram, cross, total, free):
    """Weighted least squares without intercept or penalty, the coefficients summing to `total`.

    KernelSHAP's surrogate: min sum w (e - z . c)^2 subject to sum(c) = total
    and c_j = 0 for the features that are not free, from the raw sums of an
    `Accumulator` whose x_reference is 0 and whose y_reference is the fixed
    intercept (gram = `sum_dd` = sum w z z^T, cross = `sum_de` = sum w e z).
    The Lagrange system [[G, 1], [1^T, 0]] is solved in float64 through its
    pseudo-inverse, so samples that do not determine every coefficient give
    the least-norm solution that still meets the constraint.

    Args:
        gram: (N, F, F) float64.
        cross: (N, F) float64, for one label.
        total: (N,) what the coefficients of each example sum to.
        free: (N, F) bool, the coefficients that are fitted.

    Returns:
        np.ndarray float64 (N, F), each row summing to `total`.
    """
    system = _constraint_system(gram, free)
    mask = free.astype(np.float64)
    size = mask.shape[1]
    total = np.asarray(total, np.float64)
    rhs = np.concatenate([cross * mask, total[:, None]], axis=1)
    solution = np.einsum("nij,nj->ni", np.linalg.pinv(system, hermitian=True), rhs)
    values = solution[:, :size] * mask
    # The solve meets the constraint up to rounding; the rest is spread evenly.
    residual = total - values.sum(axis=1)
    return values + mask * (residual / np.maximum(mask.sum(axis=1), 1.0))[:, None]


def _constraint_system(gram, free):
    """The Lagrange system [[G, 1], [1^T, 0]] (N, F + 1, F + 1) on the free features (identity elsewhere)."""
    count, size = free.shape
    mask = free.astype(np.float64)
    system = np.zeros((count, size + 1, size + 1))
    system[:, :size, :size] = gram * mask[:, :, None] * mask[:, None, :] + np.eye(size) * (1.0 - mask)[:, None, :]
    system[:, :size, size] = mask
    system[:, size, :size] = mask
    return system


def constrained_standard_errors(gram, free, residual, count):
    """Standard errors (N, F) of `constrained_least_squares`' coefficients.

    The covariance of least squares under the constraint sum(c) = total is
    sigma^2 times the top-left block of the inverse Lagrange system (the
    inverse Gram matrix projected on the constraint), with sigma^2 the
    weighted residual variance residual / (n - (p - 1)) for n samples and p
    free coefficients (one is fixed by the constraint); 0 where not free.

    Args:
        gram: (N, F, F) sum w z z^T.
        free: (N, F) bool.
        residual: (N,) the weighted residual sum of squares of the fit.
        count: (N,) or scalar, samples per example.

    Returns:
        np.ndarray float64 (N, F).
    """
    mask = free.astype(np.float64)
    size = mask.shape[1]
    inverse = np.linalg.pinv(_constraint_system(gram, free), hermitian=True)
    scale = np.maximum(np.diagonal(inverse, axis1=1, axis2=2)[:, :size], 0.0)
    freedom = np.maximum(np.asarray(count, np.float64) - (mask.sum(axis=1) - 1.0), 1.0)
    return np.sqrt(np.maximum(np.asarray(residual, np.float64), 0.0) / freedom)[:, None] * np.sqrt(scale) * mask
