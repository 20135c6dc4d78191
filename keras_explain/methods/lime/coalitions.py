"""KernelSHAP's coalitions: how many, which ones (as shap picks them), packed as bits."""

import itertools
import math

import numpy as np
import tensorflow as tf

from keras_explain.methods.lime.selection import constrained_least_squares, constrained_standard_errors

#: Coalition bits per packed int32 word.
WORD_BITS = 32
#: Draws per round of the coalition stream (fixed, so the stream does not depend on the budget).
STREAM_CHUNK = 2048


def coalition_budget(num_features, num_samples):
    """Coalitions evaluated per example: `num_samples` ("auto": 2 M + 2048), at most 2^M - 2."""
    budget = 2 * num_features + 2048 if num_samples == "auto" else num_samples
    if num_features <= 30:
        budget = min(budget, 2**num_features - 2)
    return max(budget, 0)


def coalition_plan(num_features, budget, rng):
    """The coalitions of M features and their regression weights, as shap's KernelExplainer picks them.

    Coalition sizes k and M - k are taken together (a coalition and its
    complement), with the Shapley kernel's mass of both sizes. From the
    smallest (and largest) sizes inward, a size is enumerated whole, each
    coalition with its exact kernel weight, while the budget covers its
    share of the mass; the rest of the budget is drawn at random: a size in
    proportion to the remaining mass, a uniform subset of that size, and its
    complement. A draw seen before adds to its weight instead of the budget,
    and the drawn weights share the mass left over in proportion to their
    counts. With budget 2^M - 2 every coalition is enumerated.

    The draws are read from one stream of `rng` that does not depend on the
    budget: sizes by the mass of every size, the draws of enumerated sizes
    passed over (which leaves the remaining sizes in proportion to their
    mass). So a larger budget enumerates the same sizes or more and reads
    the same stream further: with the same seed, its drawn coalitions of the
    sizes both leave random start with the smaller budget's.

    Args:
        num_features: M.
        budget: the number of coalitions (see `coalition_budget`).
        rng: a numpy Generator.

    Returns:
        (masks (S, M) bool, weights (S,) float64 summing to 1), S <= budget.
    """
    sizes = np.arange(1, num_features // 2 + 1)
    if num_features < 2 or budget < 1:
        return np.zeros((0, num_features), bool), np.zeros(0)
    paired = 2 * sizes != num_features
    # The Shapley kernel's mass of each size, both sizes k and M - k for a paired one.
    mass = (num_features - 1.0) / (sizes * (num_features - sizes)) * np.where(paired, 2.0, 1.0)
    mass /= mass.sum()
    counts = np.array([math.comb(num_features, int(k)) for k in sizes], np.float64) * np.where(paired, 2, 1)
    left, remaining, full = budget, mass.copy(), 0
    for k in range(len(sizes)):
        if left * remaining[k] / counts[k] < 1.0 - 1e-8:
            break
        full, left = full + 1, left - int(counts[k])
        if remaining[k] < 1.0:
            remaining /= 1.0 - remaining[k]
    masks, weights = [np.zeros((0, num_features), bool)], [np.zeros(0)]
    for k in range(full):
        subsets = np.array(list(itertools.combinations(range(num_features), int(sizes[k]))))
        chosen = np.zeros((len(subsets), num_features), bool)
        np.put_along_axis(chosen, subsets, True, axis=1)
        if paired[k]:
            chosen = np.stack([chosen, ~chosen], axis=1).reshape(-1, num_features)
        masks.append(chosen)
        weights.append(np.full(len(chosen), mass[k] / counts[k]))
    if full < len(sizes) and left > 0:
        drawn, counted = _drawn_coalitions(num_features, sizes, mass, paired, full, left, rng)
        masks.append(drawn)
        weights.append(counted * (mass[full:].sum() / counted.sum()))
    return np.concatenate(masks), np.concatenate(weights)


def _drawn_coalitions(num_features, sizes, mass, paired, full, budget, rng):
    """The random part of `coalition_plan`: up to `budget` distinct coalitions of sizes[full:] and their counts.

    The stream comes in rounds of `STREAM_CHUNK` draws over every size; the
    draws of the first `full` (enumerated) sizes are passed over, until the
    distinct ones fill the budget or 4 x budget draws were kept; the stream
    is then read in order, as shap reads it one draw at a time.
    """
    # A paired size's draw brings its complement: half the mass per draw.
    chances = mass / np.where(paired, 2.0, 1.0)
    chances /= chances.sum()
    stream, stream_sizes = [], []
    drawn = 0
    while drawn < 4 * budget:
        picked = sizes[rng.choice(len(sizes), STREAM_CHUNK, p=chances)]
        order = np.argsort(rng.random((STREAM_CHUNK, num_features)), axis=1)
        kept = picked > sizes[full - 1] if full else np.ones(STREAM_CHUNK, bool)
        subsets = np.zeros((STREAM_CHUNK, num_features), bool)
        np.put_along_axis(subsets, order, np.arange(num_features) < picked[:, None], axis=1)
        stream.append(subsets[kept][: 4 * budget - drawn])
        stream_sizes.append(picked[kept][: 4 * budget - drawn])
        drawn += len(stream[-1])
        _, first = np.unique(pack_coalitions(np.concatenate(stream)), axis=0, return_index=True)
        if _cost(np.concatenate(stream_sizes)[first], num_features).sum() >= budget:
            break
    subsets, picked = np.concatenate(stream), np.concatenate(stream_sizes)
    _, first, inverse = np.unique(pack_coalitions(subsets), axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    new = first[inverse] == np.arange(len(subsets))
    spent = np.cumsum(_cost(picked, num_features) * new)
    # The draw that fills the budget is the last one read.
    stop = int(np.searchsorted(spent, budget)) if spent[-1] >= budget else len(subsets) - 1
    kept = np.flatnonzero(new[: stop + 1])
    tally = np.bincount(inverse[: stop + 1], minlength=len(first))[inverse[kept]].astype(np.float64)
    units = subsets[kept]
    with_complement = 2 * picked[kept] != num_features
    if spent[stop] > budget:
        with_complement[-1] = False  # no budget was left for the last complement
    masks = np.stack([units, ~units], axis=1).reshape(-1, num_features)
    counts = np.repeat(tally, 2)
    keep = np.stack([np.ones(len(kept), bool), with_complement], axis=1).reshape(-1)
    return masks[keep], counts[keep]


def _cost(sizes, num_features):
    """Budget a draw of each size takes: 2 with its complement, 1 for size M / 2."""
    return np.where(2 * np.asarray(sizes) != num_features, 2, 1)


def pack_coalitions(masks):
    """Coalitions (S, M) bool as int32 words (S, ceil(M / 32)), bit j % 32 of word j // 32."""
    masks = np.asarray(masks, bool)
    words = -(-masks.shape[1] // WORD_BITS)
    padded = np.zeros((len(masks), words * WORD_BITS), np.uint64)
    padded[:, : masks.shape[1]] = masks
    shifts = np.arange(WORD_BITS, dtype=np.uint64)
    packed = (padded.reshape(len(masks), words, WORD_BITS) << shifts).sum(axis=-1)
    return packed.astype(np.uint32).view(np.int32)


def coalition_members(words, num_features):
    """Which features each packed coalition keeps, in TensorFlow: (B, W) int32 -> (B, M) bool."""
    features = np.arange(num_features)
    chosen = tf.gather(words, features // WORD_BITS, axis=1)
    return tf.bitwise.bitwise_and(tf.bitwise.right_shift(chosen, features % WORD_BITS), 1) > 0


class CoalitionValues:
    """Each (example, coalition) value v(z), kept: the levels of "auto" refit them with new weights."""

    def __init__(self, num_examples, num_coalitions):
        self.values = np.zeros((num_examples, num_coalitions))

    def add(self, first_group, values):
        groups = first_group + np.arange(len(values["y"]))
        self.values.reshape(-1)[groups] = values["y"][:, 0]

    def result(self):
        return self


def fit_coalitions(masks, weights, shifted, change, free):
    """KernelSHAP's regression on coalition values: (values (n, M), standard errors (n, M)).

    Args:
        masks: (S, M) bool coalitions; weights: (S,) their kernel weights.
        shifted: (n, S) each example's coalition values minus E[f(background)].
        change: (n,) f(x) - E[f(background)], what the values sum to.
        free: (n, M) bool, the features that are fitted.
    """
    z = masks.astype(np.float64)
    gram = np.broadcast_to(z.T @ (weights[:, None] * z), (len(shifted), z.shape[1], z.shape[1]))
    fitted = constrained_least_squares(gram, (shifted * weights) @ z, change, free)
    residual = np.sum(weights * (shifted - fitted @ z.T) ** 2, axis=1)
    return fitted, constrained_standard_errors(gram, free, residual, len(masks))
