"""Adaptive draw counts: sums of squares per example, the relative standard error, doubling levels.

`samples="auto"` of SmoothGrad and GradientShap: every example starts with
`FIRST_SAMPLES` draws and, while the standard error of its mean is above a
tolerance of the mean's norm, its draws double. Each decision reads one
example's own sums at a fixed draw count, so results depend on the seed
alone, not on the batch size or on the other examples.
"""

import warnings

import numpy as np

from keras_explain.engine.errors import check_int, fail

#: Draws per example of the first level of samples="auto".
FIRST_SAMPLES = 16


class PrecisionWarning(UserWarning):
    """Examples of an "auto" run that reached its sample limit before its tolerance."""


def warn_short(method, short, count, tolerance, limit_name, limit):
    """Warn (PrecisionWarning) when `short` of `count` examples stopped at the limit, not at the tolerance."""
    if short:
        warnings.warn(
            f"{method}: {short} of {count} example(s) did not reach the tolerance {tolerance:g} within "
            f"{limit_name}={limit} (e.samples_used says how many each drew); raise {limit_name} or the "
            f"tolerance.",
            PrecisionWarning,
            stacklevel=5,
        )


def check_draws(samples, tolerance, max_samples):
    """(samples, tolerance, max_samples) checked: an int >= 1 or "auto", a number in (0, 1), an int >= 16."""
    if not (isinstance(samples, str) and samples == "auto"):
        samples = check_int("samples", samples, minimum=1)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < 1:
        fail("tolerance", "a number between 0 and 1 (relative standard error)", tolerance)
    return samples, float(tolerance), check_int("max_samples", max_samples, minimum=FIRST_SAMPLES)


class DrawStatistics:
    """Sums and sums of squares of every example's draws (consecutive groups of `samples`), in float64."""

    def __init__(self, num_examples, samples):
        self.num_examples, self.samples = num_examples, samples
        self.total = self.squares = None

    def add(self, first_group, values):
        value = values["attributions"].astype(np.float64)
        if self.total is None:
            shape = (self.num_examples,) + value.shape[1:]
            self.total, self.squares = np.zeros(shape), np.zeros(shape)
        owners = (first_group + np.arange(len(value))) // self.samples
        for owner in np.unique(owners):
            draws = value[owners == owner]
            self.total[owner] += draws.sum(axis=0)
            self.squares[owner] += (draws * draws).sum(axis=0)

    def result(self):
        return {"sum": self.total, "sum_squares": self.squares}


def relative_errors(total, squares, counts):
    """(N,): the L2 norm of each example's standard error of the mean over the mean's norm.

    Args:
        total, squares: (N, ...) float64 sums of the draws and of their squares.
        counts: (N,) draws per example (at least 2).
    """
    n = counts.reshape((-1,) + (1,) * (total.ndim - 1)).astype(np.float64)
    mean = total / n
    variance = np.maximum(squares / n - mean * mean, 0.0) * n / (n - 1.0)
    error = np.sqrt((variance / n).reshape(len(total), -1).sum(axis=1))
    size = np.sqrt((mean * mean).reshape(len(total), -1).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(error == 0, 0.0, error / size)


def more_draws(plan, sums, draws, tolerance, max_samples, run_draws, name):
    """The levels of samples="auto" after the first: each level doubles the draws of the examples not yet precise.

    An example stops once `relative_errors` of its own sums is at most
    `tolerance`, or when doubling its draws would pass `max_samples`. Every
    example still running has the same number of draws, the level's, so each
    decision reads one example's sums at 16, 32, 64, ... draws and nothing
    else (not the batch size, not the other examples).

    Args:
        plan: the first level's `Plan`.
        sums: its `DrawStatistics` result, {"sum", "sum_squares"} float64 (N, ...).
        draws: the draws per example of the first level.
        tolerance, max_samples: the stopping rule.
        run_draws: callable(plan of the examples still running, first draw,
            count) -> the `DrawStatistics` sums of those draws.
        name: the method named in the `PrecisionWarning` for examples that
            stop at `max_samples` above the tolerance.

    Returns:
        (sums over every draw, draws per example (N,) int64).
    """
    total, squares = sums["sum"], sums["sum_squares"]
    used = np.full(plan.num_examples, draws, np.int64)
    while True:
        todo = np.flatnonzero(~(relative_errors(total, squares, used) <= tolerance))
        if not len(todo) or 2 * used[todo[0]] > max_samples:
            warn_short(name, len(todo), plan.num_examples, tolerance, "max_samples", max_samples)
            return {"sum": total, "sum_squares": squares}, used
        count = int(used[todo[0]])
        added = run_draws(plan.subset(todo), count, count)
        total[todo] += added["sum"]
        squares[todo] += added["sum_squares"]
        used[todo] += count
