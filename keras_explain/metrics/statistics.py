"""Statistics the metrics share: ranks, correlations and the area under a curve.

Every function takes numpy arrays and computes in float64. The row-wise forms
take (N, P) arrays and return (N,): one value per example over its P
perturbations.
"""

import numpy as np


def ranks(values):
    """Ranks 0 ... n-1 of a 1-D array; tied values share the mean of their ranks."""
    return row_ranks(np.asarray(values)[None, :])[0]


def row_ranks(values):
    """The `ranks` of every row of an array (N, P), float64, with no loop over the rows.

    Each row is sorted once; a run of equal values in the sorted row spans
    positions first ... last, and each of its values gets (first + last) / 2.
    """
    values = np.asarray(values)
    count = values.shape[1]
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    starts = np.ones(values.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = np.ones(values.shape, dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    positions = np.arange(count)
    first = np.maximum.accumulate(np.where(starts, positions, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, positions, count - 1)[:, ::-1], axis=1)[:, ::-1]
    result = np.empty(values.shape, dtype=np.float64)
    np.put_along_axis(result, order, (first + last) / 2.0, axis=1)
    return result


def rank_correlation(a, b):
    """Spearman rank correlation of two maps of the same shape (ties get mean ranks).

    Returns 1.0 when either map is constant (nothing to rank).
    """
    ranks_a, ranks_b = ranks(np.ravel(a)), ranks(np.ravel(b))
    ranks_a -= ranks_a.mean()
    ranks_b -= ranks_b.mean()
    scale = np.sqrt((ranks_a**2).sum() * (ranks_b**2).sum())
    return float((ranks_a * ranks_b).sum() / scale) if scale > 0 else 1.0


def row_correlations(a, b, kind="pearson"):
    """The correlation of a[i] and b[i] for every row i.

    Args:
        a, b: arrays (N, P).
        kind: "pearson", or "spearman" (Pearson's on the ranks, ties given
            their mean rank).

    Returns:
        float64 array (N,); NaN for a row where a or b is constant.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if kind == "spearman":
        a, b = row_ranks(a), row_ranks(b)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    scale = np.sqrt((a**2).sum(axis=1) * (b**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, (a * b).sum(axis=1) / np.where(scale > 0, scale, 1.0), np.nan)


def trapezoid_area(curves):
    """Area under curves sampled at evenly spaced points of [0, 1], by the trapezoidal rule.

    Args:
        curves: array (N, S + 1), the values at 0, 1/S, ..., 1.

    Returns:
        float64 array (N,): mean over k of (c[k] + c[k + 1]) / 2.
    """
    curves = np.asarray(curves, dtype=np.float64)
    return ((curves[:, :-1] + curves[:, 1:]) / 2.0).mean(axis=1)
