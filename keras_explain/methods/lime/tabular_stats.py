"""LIME's tabular training statistics, computed once when an explainer is built.

`TrainingStatistics` holds what LIME's tabular sampler needs from the
training data: means and scales (as scikit-learn's
`StandardScaler(with_mean=False)` computes them: population standard
deviation, 1 for constant columns), the bin edges of the quartile, decile or
entropy discretizer, the mean, standard deviation and range of the training
values in every bin, and the frequency of every bin or category.
scikit-learn is imported only for the entropy discretizer.
"""

import dataclasses

import numpy as np

from keras_explain.engine.errors import check_choice, fail

DISCRETIZERS = ("quartile", "decile", "entropy")
#: Added to every bin's standard deviation, as LIME does.
BIN_STD_FLOOR = 1e-11

CONTINUOUS, BINNED, CATEGORICAL = 0, 1, 2


def _bin_edges(column, method, labels, random_state):
    if method == "quartile":
        edges = np.percentile(column, [25, 50, 75])
    elif method == "decile":
        edges = np.percentile(column, [10, 20, 30, 40, 50, 60, 70, 80, 90])
    else:
        from sklearn.tree import DecisionTreeClassifier

        tree = DecisionTreeClassifier(criterion="entropy", max_depth=3, random_state=random_state)
        tree.fit(column[:, None], labels)
        edges = np.sort(tree.tree_.threshold[tree.tree_.children_left > -1])
        if edges.size == 0:
            edges = np.array([np.median(column)])
    return np.unique(edges)


def bin_labels(name, edges):
    """LIME's names of the bins cut at `edges`: "x <= 1.00", "1.00 < x <= 2.00", "x > 2.00"."""
    labels = [f"{name} <= {edges[0]:.2f}"]
    labels += [f"{low:.2f} < {name} <= {high:.2f}" for low, high in zip(edges[:-1], edges[1:])]
    labels.append(f"{name} > {edges[-1]:.2f}")
    return labels


@dataclasses.dataclass
class TrainingStatistics:
    """LIME's statistics of a training table, one entry per feature.

    Attributes:
        kind: int array (F,): CONTINUOUS (sampled from a normal, no
            discretizer), BINNED (a discretized numeric feature) or
            CATEGORICAL.
        mean, scale: float64 (F,): column mean and population standard
            deviation (1 for constant columns), used by CONTINUOUS features.
        values: per feature, the sorted discrete values seen in training
            (bin indices for BINNED, encoded categories for CATEGORICAL;
            empty for CONTINUOUS).
        frequencies: per feature, the training frequency of each of `values`.
        edges: per feature, the bin edges of a BINNED feature (else empty);
            bin b holds edges[b-1] < x <= edges[b].
        bin_mean, bin_std, bin_min, bin_max: per feature, one entry per
            bin (len(edges) + 1): mean and standard deviation (+1e-11) of the
            training values in the bin (0 for an empty bin) and its range
            (the training minimum and maximum close the outer bins).
        labels: per feature, the name of each bin ("x <= 1.00") for BINNED
            features, else empty.
    """

    kind: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    values: list
    frequencies: list
    edges: list
    bin_mean: list
    bin_std: list
    bin_min: list
    bin_max: list
    labels: list

    @classmethod
    def compute(
        cls,
        data,
        schema,
        discretize=True,
        discretizer="quartile",
        training_labels=None,
        random_state=None,
    ):
        """Compute the statistics of an encoded training table (N, F).

        Args:
            data: float64 (N, F), as `TableSchema.from_training` returns it.
            schema: its `TableSchema`.
            discretize: bin the numeric features (LIME's
                discretize_continuous). Defaults to True.
            discretizer: "quartile", "decile" or "entropy". Defaults to
                "quartile".
            training_labels: (N,) class labels, needed by "entropy".
            random_state: seed of the entropy discretizer's trees.
        """
        check_choice("discretizer", discretizer, DISCRETIZERS)
        size = data.shape[1]
        mean = data.mean(axis=0)
        variance = data.var(axis=0)
        eps = np.finfo(np.float64).eps
        count = data.shape[0]
        constant = variance <= count * eps * variance + (count * mean * eps) ** 2
        scale = np.where(constant, 1.0, np.sqrt(variance))
        empty = np.zeros(0)
        stats = cls(
            kind=np.zeros(size, dtype=np.int32),
            mean=mean,
            scale=scale,
            values=[empty] * size,
            frequencies=[empty] * size,
            edges=[empty] * size,
            bin_mean=[empty] * size,
            bin_std=[empty] * size,
            bin_min=[empty] * size,
            bin_max=[empty] * size,
            labels=[[] for _ in range(size)],
        )
        for j in range(size):
            column = data[:, j]
            if j in schema.categorical:
                stats.kind[j] = CATEGORICAL
                discrete = column
            elif discretize:
                stats.kind[j] = BINNED
                edges = _bin_edges(column, discretizer, training_labels, random_state)
                bins = np.searchsorted(edges, column)
                stats.edges[j] = edges
                stats.labels[j] = bin_labels(schema.feature_names[j], edges)
                means, stds = np.zeros(len(edges) + 1), np.zeros(len(edges) + 1)
                for b in range(len(edges) + 1):
                    chosen = column[bins == b]
                    if chosen.size:
                        means[b], stds[b] = chosen.mean(), chosen.std()
                stats.bin_mean[j] = means
                stats.bin_std[j] = stds + BIN_STD_FLOOR
                stats.bin_min[j] = np.concatenate([[column.min()], edges])
                stats.bin_max[j] = np.concatenate([edges, [column.max()]])
                discrete = bins.astype(np.float64)
            else:
                continue
            values, counts = np.unique(discrete, return_counts=True)
            stats.values[j] = values
            stats.frequencies[j] = counts / counts.sum()
        # LIME neither centres nor scales categorical and binned features.
        discrete_kinds = stats.kind != CONTINUOUS
        stats.mean = np.where(discrete_kinds, 0.0, stats.mean)
        stats.scale = np.where(discrete_kinds, 1.0, stats.scale)
        return stats

    def row_bins(self, rows, dtype=np.float32):
        """The discrete value of every feature of encoded rows (N, F) as float64.

        Rows are compared with the bin edges at the precision `dtype` the
        model receives them in, so a row equal to an edge stays in the bin
        LIME puts it in. CONTINUOUS features get 0.
        """
        out = np.zeros(rows.shape, dtype=np.float64)
        for j in np.flatnonzero(self.kind == BINNED):
            edges = self.edges[j].astype(dtype)
            out[:, j] = np.searchsorted(edges, rows[:, j].astype(dtype))
        for j in np.flatnonzero(self.kind == CATEGORICAL):
            out[:, j] = rows[:, j].astype(dtype).astype(np.float64)
        return out

    def row_positions(self, rows, dtype=np.float32):
        """Index of each row's discrete value in `values` (N, F) int32; -1 if unseen."""
        discrete = self.row_bins(rows, dtype)
        out = np.zeros(rows.shape, dtype=np.int32)
        for j in np.flatnonzero(self.kind != CONTINUOUS):
            values = self.values[j].astype(dtype).astype(np.float64)
            position = np.searchsorted(values, discrete[:, j])
            position = np.minimum(position, len(values) - 1)
            out[:, j] = np.where(values[position] == discrete[:, j], position, -1)
        return out

    def feature_labels(self, rows, schema, dtype=np.float32):
        """LIME's reading of every feature of every row (N, F) as str.

        "petal width (cm) > 1.80" for a binned feature, "colour = red" for a
        categorical one, the feature name for a continuous one.
        """
        discrete = self.row_bins(rows, dtype)
        out = np.empty(rows.shape, dtype=object)
        for j, name in enumerate(schema.feature_names):
            if self.kind[j] == BINNED:
                out[:, j] = [self.labels[j][int(b)] for b in discrete[:, j]]
            elif self.kind[j] == CATEGORICAL:
                out[:, j] = [f"{name} = {schema.value_text(j, v)}" for v in rows[:, j]]
            else:
                out[:, j] = name
        return out.astype(str)


def check_training_labels(training_labels, count, needed):
    """The entropy discretizer's training labels (count,) checked; needed: whether it is used."""
    if training_labels is not None:
        training_labels = np.asarray(training_labels)
        if training_labels.shape != (count,):
            fail("training_labels", f"one label per training row, shape ({count},)", training_labels)
    elif needed:
        fail("training_labels", "class labels of the training rows for discretizer='entropy'", None)
    return training_labels
