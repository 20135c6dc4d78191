"""`steps="auto"` for Integrated Gradients: the fewest steps that meet a tolerance.

The rule's size doubles, level by level, for the examples whose relative
completeness gap |sum(attributions) - (f(x) - f(baseline))| /
max(|f(x) - f(baseline)|, GAP_FLOOR) is still above the tolerance. The
trapezoid, left and right rules keep every point when their number of
intervals doubles: a level only evaluates the new points (odd multiples of
1 / (2 m) for m intervals before) and the old sum counts half,
A(2 m) = A(m) / 2 + sum(new gradient terms) / (2 m). Gauss-Legendre and
midpoint points do not nest: their next level is evaluated whole.

A level's decision depends only on the example's own sums at a fixed rule
size, never on batches, so results do not depend on `batch_size` or on
which other examples were explained with it.
"""

import numpy as np

from keras_explain.engine.checks import GAP_FLOOR

#: Rules whose points are kept when the number of intervals doubles.
NESTED_RULES = ("trapezoid", "left", "right")
#: Intervals (points, for rules other than the trapezoid) of the first level.
FIRST_INTERVALS = 8


def rule_points(rule, intervals):
    """Points of `rule` with `intervals` intervals: one more for the trapezoid."""
    return intervals + 1 if rule == "trapezoid" else intervals


def levels(rule, max_steps):
    """The interval counts tried in turn: 8, 16, ... while the rule's points fit in `max_steps`."""
    found = [FIRST_INTERVALS]
    while rule_points(rule, 2 * found[-1]) <= max_steps:
        found.append(2 * found[-1])
    return found


def new_points(intervals):
    """(alphas, weights) a nested rule adds when `intervals` doubles: odd multiples of 1 / (2 m)."""
    alphas = (2.0 * np.arange(intervals) + 1.0) / (2.0 * intervals)
    return alphas, np.full(intervals, 1.0 / (2.0 * intervals))


def relative_gaps(gap, difference):
    """|gap| / max(|f(x) - f(baseline)|, GAP_FLOOR) per example, float64."""
    difference = np.abs(np.asarray(difference, np.float64))
    return np.abs(np.asarray(gap, np.float64)) / np.maximum(difference, GAP_FLOOR)
