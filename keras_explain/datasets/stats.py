"""The global summary of a dataset, computed shard by shard while the shards stream.

Each shard's statistics (per feature: count, mean and sum of squared
deviations of |attribution| and of the attribution, over all its rows and
per explained class; and every row's explained score) are written beside
the shard. The summary of the dataset merges them in shard order with
Chan, Golub and LeVeque's pairwise update, the update
`keras_explain.summaries.Moments` applies to each batch, so the result is
the one `kx.summarize` gives on the list of the shards' explanations, and
it does not depend on which shards a resumed run made again.
"""

import numpy as np

from keras_explain.feature_views import example_scores, reduced_values

# The Summary of a pair of merged moments is built as `kx.summarize` builds it.
from keras_explain.summaries import Moments, from_moments

_PARTS = ("count", "abs_mean", "abs_m2", "mean", "m2")


def _moments_arrays(key, magnitude, signed):
    pair = Moments(magnitude.shape[1]), Moments(magnitude.shape[1])
    pair[0].add(magnitude)
    pair[1].add(signed)
    values = (np.int64(pair[0].count), pair[0].mean, pair[0].m2, pair[1].mean, pair[1].m2)
    return {f"{key}/{part}": np.asarray(v) for part, v in zip(_PARTS, values)}


def shard_stats(explanation):
    """The statistics of one shard's explanation, as a dict of arrays (written as `.npz`).

    Keys: "scores" (n,) float64, "targets" (n,) int64, "map_shape" ((H, W),
    or empty for tables), and for "all" and each explained class c
    ("class/<c>"): "count", "abs_mean", "abs_m2", "mean", "m2" per feature.
    """
    magnitude, signed, shape = reduced_values(explanation)
    targets = np.asarray(explanation.targets, np.int64)
    arrays = {
        "scores": example_scores(explanation),
        "targets": targets,
        "map_shape": np.asarray(shape if shape is not None else (), np.int64),
    }
    arrays.update(_moments_arrays("all", magnitude, signed))
    for c in np.unique(targets):
        rows = targets == c
        arrays.update(_moments_arrays(f"class/{int(c)}", magnitude[rows], signed[rows]))
    return arrays


class MergedMoments(Moments):
    """`Moments` that also fold in another set's (count, mean, m2), with the same update as `add`."""

    def merge(self, count, mean, m2):
        if count == 0:
            return
        total = self.count + count
        delta = mean - self.mean
        self.mean = self.mean + delta * (count / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * count / total)
        self.count = total


class StreamedSummary:
    """Merges shard statistics (`shard_stats`) in shard order into a `Summary`.

    Args:
        method: the explanations' method.
        feature_names: names of a table's columns, or None ("x0", "x1", ...).
    """

    def __init__(self, method, feature_names=None):
        self.method = method
        self.feature_names = feature_names
        self.moments = {}
        self.scores, self.targets = [], []
        self.map_shape = None

    def add(self, stats):
        """Fold one shard's statistics (a mapping of arrays) in."""
        shape = tuple(int(s) for s in stats["map_shape"])
        self.map_shape = shape or None
        self.scores.append(np.asarray(stats["scores"], np.float64))
        self.targets.append(np.asarray(stats["targets"], np.int64))
        keys = ["all"] + [f"class/{int(c)}" for c in np.unique(stats["targets"])]
        for key in keys:
            size = len(stats[f"{key}/abs_mean"])
            pair = self.moments.setdefault(key, (MergedMoments(size), MergedMoments(size)))
            count = int(stats[f"{key}/count"])
            pair[0].merge(count, stats[f"{key}/abs_mean"], stats[f"{key}/abs_m2"])
            pair[1].merge(count, stats[f"{key}/mean"], stats[f"{key}/m2"])

    def result(self):
        """The `Summary` of every row folded in: per class when more than one class was explained.

        Raises:
            ValueError: when no shard was folded in.
        """
        if not self.scores:
            raise ValueError("results: expected at least one complete shard to summarize, received none.")
        scores, targets = np.concatenate(self.scores), np.concatenate(self.targets)
        classes = sorted(int(c) for c in np.unique(targets))
        size = len(self.moments["all"][0].mean)
        names = None
        if self.map_shape is None:
            names = [str(n) for n in (self.feature_names or [f"x{j}" for j in range(size)])]
        common = {"method": self.method, "feature_names": names, "map_shape": self.map_shape}
        overall = self._part("all", scores, common)
        if len(classes) > 1:
            overall.classes = classes
            overall.per_class = {c: self._part(f"class/{c}", scores[targets == c], common) for c in classes}
            for c, part in overall.per_class.items():
                overall.maps.update({f"{name}/{c}": value for name, value in part.maps.items()})
        return overall

    def _part(self, key, scores, common):
        magnitude, signed = self.moments[key]
        return from_moments(magnitude, signed, scores, common)
