"""LIME for tables, vectorised across rows: sampling, the model and the kernel in compiled TF."""

import math

import numpy as np
import tensorflow as tf

from keras_explain.core import surrogate
from keras_explain.core.base import Explainer, Plan
from keras_explain.core.registry import register
from keras_explain.core.tabular import (
    CATEGORICAL,
    CONTINUOUS,
    DISCRETIZERS,
    TableSchema,
    TrainingStatistics,
)
from keras_explain.core.validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    fail,
)

MODES = ("classification", "regression")

_PHILOX = 1  # tf.random.Algorithm.PHILOX
#: A 24-bit threshold no draw reaches.
_NEVER = 2**24


def philox_bits(seed, first_pair, num_pairs, size):
    """One 64-bit draw per (pair, feature), a pure function of (seed, pair, feature).

    The draws of pair p are Philox-4x32-10 blocks p * ceil(size / 2) ... of
    the stream keyed by `seed`: one uint64 per (pair, feature), padded to an
    even count per pair so that each pair starts on a block boundary. A batch
    of consecutive pairs starting at `first_pair` reads exactly its part of
    the stream, so the samples do not depend on how pairs are cut into
    batches (results are invariant to `batch_size`).

    Each draw gives two 24-bit integers: bits 40-63 pick a feature's value
    and bits 16-39 place the value inside its bin; k reads as the uniform
    `uniform24(k)` = (k + 0.5) / 2**24 in float32, never 0 or 1.

    Args:
        seed: int64 scalar tensor (the Philox key).
        first_pair: int64 scalar tensor, the global index of the batch's
            first pair (row * num_samples + sample).
        num_pairs: int32 scalar tensor, pairs in the batch.
        size: F, features per pair (a Python int).

    Returns:
        uint64 tensor (num_pairs, size).
    """
    padded = size + size % 2
    counter = tf.stack([tf.cast(first_pair, tf.uint64) * (padded // 2), tf.constant(0, tf.uint64)])
    key = tf.reshape(tf.bitcast(tf.cast(seed, tf.int64), tf.uint64), [1])
    bits = tf.raw_ops.StatelessRandomUniformFullIntV2(
        shape=tf.stack([num_pairs * padded]), key=key, counter=counter, alg=_PHILOX, dtype=tf.uint64
    )
    bits = tf.reshape(bits, [-1, padded])
    return bits[:, :size] if padded != size else bits


def uniform24(k):
    """The uniform a 24-bit integer k stands for: (k + 0.5) * 2**-24, in float32.

    Rounded as float32 arithmetic rounds it (above 2**23 the half is rounded
    to even), exactly as the sampler's draws are read.
    """
    return (np.asarray(k).astype(np.float32) + np.float32(0.5)) * np.float32(2.0**-24)


def first_reaching(values):
    """The smallest 24-bit k with uniform24(k) >= value, for float32 values; 2**24 if none.

    Comparing a draw's integer with this threshold is the same test as
    comparing its uniform with the value.
    """
    values = np.asarray(values, dtype=np.float32)
    low = np.zeros(values.shape, dtype=np.int64)
    high = np.full(values.shape, _NEVER, dtype=np.int64)
    while np.any(low < high):
        open_ = low < high
        middle = (low + high) // 2
        reached = uniform24(np.minimum(middle, _NEVER - 1)) >= values
        high = np.where(open_ & reached, middle, high)
        low = np.where(open_ & ~reached, middle + 1, low)
    return low


def _normal_cdf(z):
    """The standard normal CDF of a float64 array, in float64."""
    return 0.5 * np.vectorize(math.erfc, otypes=[np.float64])(-np.asarray(z) / np.sqrt(2.0))


#: Columns of the per-(feature, value) table of `NeighbourhoodSampler`.
_ATOM_COLUMNS = ("mean", "spread", "p_low", "p_span")
#: Features with up to this many discrete values pick theirs by one
#: comparison per cumulative frequency, others by binary search.
_COMPARE_LIMIT = 16
_SMALLEST = float(np.finfo(np.float32).tiny)
_LARGEST_BELOW_ONE = float(1.0 - 2.0**-24)


class NeighbourhoodSampler:
    """LIME's tabular samples for batches of (row, sample) pairs, in TF.

    Per feature, as `lime.lime_tabular.LimeTabularExplainer` samples:

    * CATEGORICAL: a category drawn by its training frequency; the
      interpretable value is 1 when it equals the row's category.
    * BINNED: a bin drawn by its training frequency (interpretable value 1
      when it is the row's bin), then a value from the normal with the bin's
      training mean and standard deviation truncated to the bin (scipy's
      `truncnorm`, drawn by inverting its CDF).
    * CONTINUOUS (no discretizer): centre + scale * Normal(0, 1), the centre
      being the training mean or the row (`sample_around_instance`); the
      interpretable value is (value - mean) / scale.

    Sample 0 of every row is the row itself (interpretable: all ones for
    discrete features, the scaled row for continuous ones).

    Every discrete value of every feature is an "atom" (mean, spread, p_low,
    p_span), and a draw is one uniform u1 that picks the atom and one uniform
    u2 that gives value = mean + spread * ndtri(p_low + u2 * p_span). A bin
    is (bin mean, bin std, Phi(a), Phi(b) - Phi(a)) with a and b its
    standardised edges, which is the truncated normal; a category, or a bin
    of zero width, is (value, 0, 0.5, 0), which is its value; a continuous
    feature is (centre, scale, 0, 1), a normal. The pair's two uniforms are
    the two 24-bit halves of its `philox_bits`, so the samples do not depend
    on the batch a pair falls in. The atom is picked by comparing u1's
    integer with integer thresholds (`first_reaching` the cumulative
    frequencies), the same test as comparing u1 with the frequencies. The
    draw is float32, the precision the model receives it in; its normal
    quantiles reach about 5.3 standard deviations (a probability of 1e-7 per
    draw is cut).

    Args:
        stats: `TrainingStatistics`.
        num_samples: S, samples per row (to number the pairs).
    """

    def __init__(self, stats, num_samples):
        self.num_samples = int(num_samples)
        kind = np.asarray(stats.kind)
        size = len(kind)
        width = max([1] + [len(v) for v in stats.values])
        # thresholds[j, k]: u1's integer from which feature j takes value k + 1 or later.
        thresholds = np.full((size, max(width - 1, 1)), _NEVER, dtype=np.int64)
        atoms = np.zeros((size, width, len(_ATOM_COLUMNS)))
        atoms[..., 2] = 0.5
        for j in range(size):
            values = stats.values[j]
            if kind[j] == CONTINUOUS:
                atoms[j, 0] = stats.mean[j], stats.scale[j], 0.0, 1.0
                continue
            cumulative = np.cumsum(stats.frequencies[j])
            cumulative = (cumulative / cumulative[-1]).astype(np.float32)
            thresholds[j, : len(values) - 1] = first_reaching(cumulative[:-1])
            if kind[j] == CATEGORICAL:
                atoms[j, : len(values), 0] = values
                continue
            bins = values.astype(int)
            mean, std = stats.bin_mean[j][bins], stats.bin_std[j][bins]
            low, high = stats.bin_min[j][bins], stats.bin_max[j][bins]
            p_low = _normal_cdf((low - mean) / std)
            p_high = _normal_cdf((high - mean) / std)
            wide = high > low
            atoms[j, : len(values), 0] = np.where(wide, mean, low)
            atoms[j, : len(values), 1] = np.where(wide, std, 0.0)
            atoms[j, : len(values), 2] = np.where(wide, p_low, 0.5)
            atoms[j, : len(values), 3] = np.where(wide, p_high - p_low, 0.0)
        atoms = atoms.reshape(size * width, len(_ATOM_COLUMNS)).astype(np.float32)
        # u2 = (k + 0.5) * 2**-24 times p_span is (k + 0.5) times p_span * 2**-24,
        # exactly: a power of two scales without rounding (p_span is 0 or above
        # 0.47, far from float32's subnormals).
        atoms[:, 3] *= np.float32(2.0**-24)
        self.size, self.width = size, width
        self.has_continuous = bool(np.any(kind == CONTINUOUS))
        #: Binary representations (every feature discrete) are kept as uint8.
        self.representation_dtype = tf.float32 if self.has_continuous else tf.uint8
        self.continuous = tf.constant(kind == CONTINUOUS)
        self.thresholds = tf.constant(thresholds, tf.int32)
        self.atoms = tf.constant(atoms)
        self.offsets = tf.constant(np.arange(size, dtype=np.int32) * width)
        self.mean = tf.constant(stats.mean, tf.float32)
        self.scale = tf.constant(stats.scale, tf.float32)

    def __call__(self, rows, positions, centres, pair, sample, seed):
        """Samples for a batch of consecutive pairs.

        Args:
            rows: float32 (B, F), each pair's row.
            positions: int32 (B, F), index of the row's value among the
                discrete values of each feature (-1 if not seen in training).
            centres: float32 (B, F), centre of the continuous normals, or
                None for the training mean.
            pair: int32 (B,), each pair's row index; sample: int32 (B,), its
                sample index.
            seed: int64 scalar.

        Returns:
            (inputs float32 (B, F) for the model, interpretable (B, F):
            float32, or uint8 when every feature is discrete).
        """
        inputs, same, scaled = self.draw(rows, positions, centres, pair, sample, seed)
        return inputs, self.representation(same, scaled)

    def representation(self, same, scaled):
        """The interpretable representation (B, F) from `draw`'s `same` and `scaled`."""
        if scaled is None:
            return tf.cast(same, tf.uint8)
        return tf.where(self.continuous, scaled, tf.cast(same, tf.float32))

    def draw(self, rows, positions, centres, pair, sample, seed):
        """Samples for a batch of consecutive pairs, as the parts the surrogate reads.

        Args: as for calling the sampler.

        Returns:
            (inputs float32 (B, F); same: bool (B, F), whether a discrete
            feature takes the row's value (True for continuous features);
            scaled: float32 (B, F), (value - mean) / scale, or None when
            every feature is discrete).
        """
        ids = tf.cast(pair, tf.int64) * self.num_samples + tf.cast(sample, tf.int64)
        count = tf.shape(ids, out_type=tf.int64)[0]
        # The batching loop hands over consecutive pairs; the stream offsets rely on it.
        check = tf.debugging.assert_equal(
            ids, ids[0] + tf.range(count), message="LimeTabular: a batch of non-consecutive pairs"
        )
        with tf.control_dependencies([check]):
            bits = philox_bits(seed, ids[0], tf.cast(count, tf.int32), self.size)

        pick = tf.cast(tf.bitwise.right_shift(bits, tf.constant(40, tf.uint64)), tf.int32)
        if self.width == 1:
            index = tf.zeros_like(positions)
        elif self.width <= _COMPARE_LIMIT:
            index = tf.add_n(
                [tf.cast(pick >= self.thresholds[:, k], tf.int32) for k in range(self.width - 1)]
            )
        else:
            index = tf.transpose(
                tf.searchsorted(self.thresholds, tf.transpose(pick), side="right")
            )
        # Bits 16-39: the low 32 bits of bits >> 16, masked to 24.
        place = tf.bitwise.bitwise_and(
            tf.cast(tf.bitwise.right_shift(bits, tf.constant(16, tf.uint64)), tf.int32),
            tf.constant(0xFFFFFF, tf.int32),
        )
        half = tf.cast(place, tf.float32) + 0.5  # u2 * 2**24
        atom = tf.gather(self.atoms, index + self.offsets[None, :])  # (B, F, 4)
        mean, spread, p_low, p_span = tf.unstack(atom, axis=-1)
        if centres is not None and self.has_continuous:
            mean = tf.where(self.continuous, centres, mean)
        p = tf.clip_by_value(p_low + half * p_span, _SMALLEST, _LARGEST_BELOW_ONE)
        inputs = mean + spread * tf.math.ndtri(p)
        same = tf.equal(index, positions)

        # Sample 0 of a row is the row: overwrite the few first samples in the batch.
        starts = tf.where(tf.equal(sample, 0))
        inputs = tf.tensor_scatter_nd_update(inputs, starts, tf.gather_nd(rows, starts))
        same = tf.tensor_scatter_nd_update(
            same, starts, tf.ones(tf.stack([tf.shape(starts)[0], self.size]), tf.bool)
        )
        if not self.has_continuous:
            return inputs, same, None
        return inputs, same, (inputs - self.mean) / self.scale


@register("lime_tabular", aliases=("lime_tab", "tabular_lime", "lime_table"))
class LimeTabular(Explainer):
    """LIME for tables: which feature conditions drive each row's prediction.

    The training statistics are computed once here: column means and scales,
    quartile / decile / entropy bins with the mean, spread and range of the
    training values in each bin, and the frequency of each bin and category.
    `explain` then samples `num_samples` neighbours per row exactly as the
    `lime` package defines them (frequencies for bins and categories, a
    truncated normal inside a bin, a normal around the mean or the row when
    nothing is discretized; the first sample is the row itself), generated
    inside one compiled TensorFlow function for every row at once and fed to
    the model in bounded batches. A weighted ridge regression of the model's
    outputs on the binary (or scaled) representation of the samples, weighted
    by an exponential kernel of their euclidean distance to the row, gives
    each feature a weight.

    The model's outputs are explained as they are: a classifier ending in
    softmax gets probability-space explanations like `lime`'s
    `predict_proba`; a model returning logits gets logit-space explanations.

    Categorical columns reach the model as numbers: numeric columns
    unchanged; string (or pandas categorical) columns as integer codes, the
    position of each category in `categorical_names[column]` when given, else
    in the pandas categories, else in the sorted strings of the training
    data. A model that needs one-hot inputs should encode inside itself.

    Sampling uses a counter-based generator (Philox) keyed by `random_state`,
    the row and the sample, so results do not depend on `batch_size`. The
    compiled step also computes each sample's kernel weight (its distance to
    the row is known there), and every batch is folded into per-row weighted
    sums (`surrogate.Accumulator`) as soon as it arrives, so the samples are
    never held all at once: memory is one batch of samples plus
    N x n_features^2 float64 sums (720 KB for 100 rows of 30 features),
    whatever `num_samples` is.

    Constant columns and single-category columns never divide by zero: binned,
    they fall in one bin and get weight 0; without discretization a constant
    column is perturbed with scale 1, as `lime` (and scikit-learn's
    StandardScaler) does.

    Differences from `lime` 0.2.0.1: a bin of zero width (a constant column,
    or a first bin holding only the minimum, as in a 0/1 column) samples its
    one value, where `lime` returns 0; category labels read "colour = red"
    where `lime` writes "colour=red"; rows are binned at the model's input
    precision; normals are drawn in float32 (the model's precision), which
    cuts quantiles beyond about 5.3 standard deviations (probability 1e-7).

    Args:
        model: a Keras 3 model taking (N, n_features): a classifier (one
            output per class) or, with mode="regression", a single-output
            regressor.
        training_data: numpy array or pandas DataFrame (N_train,
            n_features). Category strings are allowed in categorical columns
            (object arrays or DataFrames).
        feature_names: n_features display names. Defaults to the DataFrame
            columns, or "0", "1", ... for arrays.
        categorical_features: categorical columns by index or name. Defaults
            to None (none).
        categorical_names: dict column (index or name) -> list of category
            names indexed by code. Defaults to None.
        class_names: names of the model's outputs, for reading. Defaults to
            None.
        mode: "classification" or "regression". Defaults to "classification".
        discretize_continuous: bin the numeric features; their labels then
            read "x <= 1.00", "1.00 < x <= 2.00". Defaults to True.
        discretizer: "quartile", "decile" or "entropy" (needs
            `training_labels`). Defaults to "quartile".
        training_labels: (N_train,) class labels, for the entropy
            discretizer. Defaults to None.
        sample_around_instance: centre the normals of continuous features on
            the row instead of the training mean (only without
            discretization). Defaults to False.
        kernel_width: width of the exponential kernel. Defaults to None:
            0.75 * sqrt(n_features).
        num_samples: neighbours per row, the row included. Defaults to 5000.
        feature_selection: "auto" (forward selection up to 6 features,
            highest weights beyond), "highest_weights", "forward_selection",
            "lasso_path" or "none". Defaults to "auto".
        batch_size: neighbours per model call; bounds memory, never changes
            results. Defaults to None: about 2**19 values per batch (8192
            rows of 64 features), between 512 and 16384 rows.
        random_state: int seed; the same seed gives identical results.
            Defaults to None (a fresh draw per call).
        **kwargs: `output`, `run_eagerly`, `verbose` as in
            `keras_explain.Explainer`.

    `explain(rows, targets=None, num_features=10, verbose=None)`:
        rows: (N, n_features), numpy or DataFrame, like `training_data`.
        targets: the explained output per row (None: the predicted class);
            ignored in regression (output 0).
        num_features: features kept per row by `feature_selection`.

    Returns from `explain`: `Explanation` with `attributions` (N, n_features)
    in the original feature order (0 for features not selected),
    `feature_labels` (N, n_features) str, `feature_values` (N, n_features)
    str, `feature_names` (list), `used` (N, n_features) bool, `intercept`,
    `score` (weighted R^2) and `local_pred` (N,); `as_list(i)`,
    `as_dataframe()` and `plot()` (bar charts) read it.

    Raises:
        ValueError: naming the argument and the column: NaN or infinity in
            `training_data` or rows, a wrong number of features, a category
            not seen in training, a string column not declared categorical,
            a model whose input does not match, or a multi-output model in
            regression.

    Example:

    ```python
    from sklearn.datasets import load_breast_cancer
    data = load_breast_cancer(as_frame=True)
    explainer = kx.LimeTabular(model, data.frame[data.feature_names],
                               class_names=list(data.target_names), random_state=0)
    e = explainer.explain(data.frame[data.feature_names][:100])
    e.as_list(0)        # [("worst area > 1084.00", -0.21), ...]
    e.plot(save="lime.png")
    ```

    Reference: Ribeiro, Singh & Guestrin, "Why Should I Trust You?:
    Explaining the Predictions of Any Classifier", KDD 2016.
    """

    method = "lime_tabular"

    def __init__(
        self,
        model,
        training_data,
        feature_names=None,
        categorical_features=None,
        categorical_names=None,
        class_names=None,
        mode="classification",
        discretize_continuous=True,
        discretizer="quartile",
        training_labels=None,
        sample_around_instance=False,
        kernel_width=None,
        num_samples=5000,
        feature_selection="auto",
        batch_size=None,
        random_state=None,
        **kwargs,
    ):
        self.mode = check_choice("mode", mode, MODES)
        self.discretize_continuous = check_bool("discretize_continuous", discretize_continuous)
        self.discretizer = check_choice("discretizer", discretizer, DISCRETIZERS)
        self.sample_around_instance = check_bool("sample_around_instance", sample_around_instance)
        self.num_samples = check_int("num_samples", num_samples, minimum=2)
        self.feature_selection = check_choice(
            "feature_selection", feature_selection, surrogate.FEATURE_SELECTIONS
        )
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
        if class_names is not None:
            if isinstance(class_names, str) or not hasattr(class_names, "__iter__"):
                fail("class_names", "a list of output names or None", class_names)
            class_names = [str(c) for c in class_names]
        self.class_names = class_names
        self._schema, encoded = TableSchema.from_training(
            training_data, feature_names, categorical_features, categorical_names
        )
        size = self._schema.num_features
        if kernel_width is None:
            kernel_width = 0.75 * np.sqrt(size)
        self.kernel_width = check_float(
            "kernel_width", kernel_width, minimum=0.0, strict_minimum=True
        )
        if training_labels is not None:
            training_labels = np.asarray(training_labels)
            if training_labels.shape != (len(encoded),):
                fail(
                    "training_labels",
                    f"one label per training row, shape ({len(encoded)},)",
                    training_labels,
                )
        elif self.discretize_continuous and self.discretizer == "entropy":
            fail(
                "training_labels",
                "class labels of the training rows for discretizer='entropy'",
                None,
            )
        self.training_labels = training_labels
        super().__init__(model, batch_size=batch_size, **kwargs)
        self._check_model(size)
        self._training = encoded
        self.stats = TrainingStatistics.compute(
            encoded,
            self._schema,
            discretize=self.discretize_continuous,
            discretizer=self.discretizer,
            training_labels=training_labels,
            random_state=self.random_state or 0,
        )
        self._sampler = NeighbourhoodSampler(self.stats, self.num_samples)

    def _check_model(self, size):
        shape = self._model_fn.input_shape
        if shape is not None and (len(shape) != 2 or shape[1] not in (None, size)):
            expected = f"a model taking (N, {size}) rows like training_data"
            received = f"a model with input shape {tuple(shape)}"
            raise ValueError(f"model: expected {expected}, received {received}.")
        outputs = self._model_fn.output_size()
        if self.mode == "regression" and outputs not in (None, 1):
            raise ValueError(
                f"model: expected a single-output model for mode='regression', received a "
                f"model with {outputs} outputs."
            )

    # -- configuration -------------------------------------------------------

    @property
    def feature_names(self):
        """The display name of every feature."""
        return list(self._schema.feature_names)

    @property
    def categorical_features(self):
        """Indices of the categorical features."""
        return list(self._schema.categorical)

    def get_config(self):
        config = super().get_config()
        names, categorical, categorical_names = self._schema.to_config()
        config.update(
            training_data=self._schema.decode_table(self._training),
            feature_names=names,
            categorical_features=categorical,
            categorical_names=categorical_names,
            class_names=self.class_names,
            mode=self.mode,
            discretize_continuous=self.discretize_continuous,
            discretizer=self.discretizer,
            training_labels=self.training_labels,
            sample_around_instance=self.sample_around_instance,
            kernel_width=self.kernel_width,
            num_samples=self.num_samples,
            feature_selection=self.feature_selection,
            random_state=self.random_state,
        )
        return config

    # -- the explain loop's three parts ----------------------------------------

    def _prepare(self, x, targets):
        # Rows are read like the training data: a DataFrame or an array, with
        # category strings encoded; in regression the one output is explained.
        encoded = self._schema.encode(x, "rows")
        if self.mode == "regression":
            targets = None
        return encoded.astype(self._model_fn.input_dtype.as_numpy_dtype), targets

    def _batch_size_for(self, x):
        if self.batch_size is not None:
            return self.batch_size
        return int(np.clip(2**19 // max(int(x.shape[1]), 1), 512, 16384))

    def _plan(self, x, targets, predictions, num_features=10):
        num_features = check_int("num_features", num_features, minimum=1)
        if self.mode == "regression" and predictions.shape[1] != 1:
            raise ValueError(
                f"model: expected a single-output model for mode='regression', received a "
                f"model with {predictions.shape[1]} outputs."
            )
        rows = x.numpy()
        dtype = rows.dtype
        wide = rows.astype(np.float64)
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**62))
        per_input = {
            "positions": tf.constant(self.stats.row_positions(wide, dtype)),
            "seed": tf.fill([len(rows)], tf.constant(seed, tf.int64)),
        }
        if self.sample_around_instance and self._sampler.has_continuous:
            per_input["centres"] = tf.constant(rows, tf.float32)
        # The surrogate's sums are shifted by the row's own representation and
        # the model's output at the row (see `surrogate.Accumulator`).
        own = np.ones(rows.shape)
        if self._sampler.has_continuous:
            scaled = (tf.constant(rows, tf.float32) - self._sampler.mean) / self._sampler.scale
            own = np.where(self.stats.kind == CONTINUOUS, scaled.numpy(), 1.0)
            per_input["own"] = tf.constant(own, tf.float64)
        reference = predictions[np.arange(len(rows)), targets].astype(np.float64)
        per_input["reference"] = tf.constant(reference)
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            per_input=per_input,
            samples=self.num_samples,
            group_size=1,
            extras={
                "num_features": num_features,
                "dtype": dtype,
                "own": own,
                "reference": reference[:, None],
            },
        )

    def _pair(self, rows):
        inputs, same, scaled = self._sampler.draw(
            tf.cast(rows["x"], tf.float32),
            rows["positions"],
            rows.get("centres"),
            rows["input_index"],
            rows["sample_index"],
            rows["seed"][0],
        )
        outputs = self._model_fn(tf.cast(inputs, self._model_fn.input_dtype))
        y = tf.cast(tf.gather(outputs, rows["target"], batch_dims=1), tf.float64)
        # The surrogate's inputs per pair, in float64: sqrt(w) and sqrt(w) times
        # the shifted representation and output (`surrogate.Accumulator`).
        if scaled is None:
            # Every feature is binary and the row is all ones: the squared
            # distance is the number of features off the row's value.
            off = tf.logical_not(same)
            distance = tf.sqrt(tf.cast(tf.reduce_sum(tf.cast(off, tf.int32), axis=1), tf.float64))
            root = tf.sqrt(surrogate.exponential_kernel(distance, self.kernel_width))
            shifted = tf.cast(off, tf.float64) * -root[:, None]
        else:
            representation = self._sampler.representation(same, scaled)
            difference = tf.cast(representation, tf.float64) - rows["own"]
            distance = tf.norm(difference, axis=-1)
            root = tf.sqrt(surrogate.exponential_kernel(distance, self.kernel_width))
            shifted = difference * root[:, None]
        return {"root": root, "a": shifted, "b": (y - rows["reference"]) * root}

    def _accumulate(self, plan, groups):
        # Each batch is folded into per-row sums as it arrives: memory stays
        # O(N F^2) whatever num_samples is.
        accumulator = surrogate.Accumulator(plan.extras["own"], plan.extras["reference"])
        for first, values in groups:
            accumulator.add_pairs(
                first, self.num_samples, values["root"], values["a"], values["b"][:, None]
            )
        return accumulator.statistics()

    def _finish(self, plan, stats):
        fitted = surrogate.fit_statistics(
            stats, plan.extras["num_features"], self.feature_selection
        )
        # A feature that never varies around a row (a constant column, a single
        # category) has weight exactly 0; the solver leaves rounding dust.
        attributions = np.where(stats.constant, 0.0, fitted["coef"][:, 0, :]).astype(np.float32)
        rows = plan.inputs.astype(np.float64)
        dtype = plan.extras["dtype"]
        extras = dict(
            feature_names=self.feature_names,
            feature_labels=self.stats.feature_labels(rows, self._schema, dtype),
            feature_values=self._schema.decode_values(rows),
            used=fitted["used"][:, 0, :],
            intercept=fitted["intercept"][:, 0],
            score=fitted["score"][:, 0],
            local_pred=fitted["local_pred"][:, 0],
            mode=self.mode,
        )
        if self.class_names is not None:
            extras["class_names"] = list(self.class_names)
        return self._explanation(plan, attributions, **extras)


def fit_surrogate(
    interpretable, outputs, kernel_width, num_features, feature_selection, chunk_values=2**22
):
    """LIME's tabular surrogate: euclidean distances, exponential kernel, weighted ridge.

    Args:
        interpretable: (N, S, F) interpretable samples; sample 0 is the row.
        outputs: (N, S, L) model outputs for the explained labels.
        kernel_width: the kernel's width.
        num_features: features kept per (row, label).
        feature_selection: one of `surrogate.FEATURE_SELECTIONS`.
        chunk_values: rows are fitted in chunks of about this many float64
            values of `interpretable`, to bound memory. Defaults to 2**22.

    Returns:
        dict of numpy arrays as `surrogate.fit` returns them, for all N rows.
    """
    count, samples, size = interpretable.shape
    chunk = max(1, chunk_values // (samples * size))
    parts = []
    for start in range(0, count, chunk):
        X = np.asarray(interpretable[start : start + chunk], dtype=np.float64)
        distances = surrogate.euclidean_distance_to_first(X)
        weights = surrogate.exponential_kernel(distances, kernel_width).numpy()
        parts.append(
            surrogate.fit(
                X,
                np.asarray(outputs[start : start + chunk], dtype=np.float64),
                weights,
                num_features=num_features,
                feature_selection=feature_selection,
            )
        )
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
