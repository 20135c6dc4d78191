"""Checks an attribution promises: its sum against the change of the output.

Integrated Gradients' completeness gap and DeepShap's additivity gap are the
same quantity, the attributions' sum minus the change of the explained output
between the example and its reference (a baseline, or the background's
expectation), computed here once.
"""

import numpy as np
import tensorflow as tf


def row_sums(attributions):
    """Sum every axis but the first, in float64: (N, ...) -> (N,).

    A list of arrays (one per model input) sums over all of them.
    """
    return sum(
        np.asarray(part, dtype=np.float64).reshape(len(part), -1).sum(axis=1)
        for part in tf.nest.flatten(attributions)
    )


def attribution_gap(attributions, scores, reference_scores):
    """sum(attributions) - (scores - reference_scores) per example, in float64.

    Args:
        attributions: (N, ...) array, or a list of them (one per model input).
        scores: (N,) the explained output at each example.
        reference_scores: (N,) the same output at the reference.

    Returns:
        np.ndarray float64 (N,).
    """
    difference = np.asarray(scores, np.float64) - np.asarray(reference_scores, np.float64)
    return row_sums(attributions) - difference


def explained_scores(predictions, targets):
    """predictions[i, targets[i]] per example, float64 (N,)."""
    return np.asarray(predictions, np.float64)[np.arange(len(targets)), targets]


#: An example's completeness gap is large when
#: |gap| > GAP_WARNING * max(|f(x) - f(baseline)|, GAP_FLOOR).
GAP_WARNING = 0.05
GAP_FLOOR = 1e-2


def large_gaps(gap, difference):
    """Which examples' completeness gaps are large (see GAP_WARNING), as a bool array."""
    allowed = GAP_WARNING * np.maximum(np.abs(np.asarray(difference, np.float64)), GAP_FLOOR)
    return ~(np.abs(np.asarray(gap, np.float64)) <= allowed)


def completeness_message(gap, difference, steps):
    """The warning for examples with large completeness gaps, or None when there are none."""
    bad = large_gaps(gap, difference)
    if not bad.any():
        return None
    i = int(np.argmax(np.where(bad, np.abs(gap), -np.inf)))
    suggestion = f"use more steps (for example steps={4 * steps}) or rule='gauss_legendre'"
    if steps == "auto":
        suggestion = "raise max_steps or use rule='gauss_legendre'"
    elif not isinstance(steps, int):
        suggestion = "use more steps or rule='gauss_legendre'"
    return (
        f"Integrated Gradients: {int(bad.sum())} of {len(gap)} example(s) have a "
        f"completeness gap above {GAP_WARNING:g} of |f(x) - f(baseline)|; the worst is "
        f"example {i}: gap {gap[i]:.3g} against f(x) - f(baseline) = {difference[i]:.3g}. "
        f"The path integral is not converged at steps={steps}: {suggestion}."
    )
