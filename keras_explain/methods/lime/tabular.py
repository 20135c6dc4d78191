"""LIME for tables, vectorised across rows: sampling, the model and the kernel in compiled TF."""

import numpy as np
import tensorflow as tf

import keras_explain.methods.lime.surrogate as surrogate
from keras_explain.engine.errors import check_bool, check_choice, check_int, fail
from keras_explain.engine.explainer import Plan
from keras_explain.engine.inputs import materialize
from keras_explain.engine.registry import register
from keras_explain.engine.tables import TableSchema
from keras_explain.methods.lime.base import LimeBase, explained_labels
from keras_explain.methods.lime.tabular_sampler import NeighbourhoodSampler
from keras_explain.methods.lime.tabular_stats import (
    CONTINUOUS,
    DISCRETIZERS,
    TrainingStatistics,
    check_training_labels,
)

MODES = ("classification", "regression")

@register("lime_tabular", aliases=("lime_tab", "tabular_lime", "lime_table"))
class LimeTabular(LimeBase):
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

    Sampling uses a counter-based generator (SplitMix64) keyed by
    `random_state`, the row and the sample, so results do not depend on
    `batch_size` and sample k of a row is the same for any `num_samples`
    (`keras_explain.methods.lime.tabular_sampler`: inverse-CDF tables). The
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
    precision; values are float32 quantiles of 4096 equally likely cells
    (CDF within 1/8192 of lime's; a normal reaches 3.5 standard deviations).

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
        num_samples: neighbours per row, the row included, or "auto" (128,
            256, ... until the top 5 features hold and the standard errors
            are under `tolerance`, as `keras_explain.methods.lime.base`
            says; `e.samples_used` (N,), `e.standard_errors` (N, L,
            n_features)). Defaults to 5000.
        feature_selection: "auto" (forward selection up to 6 features,
            highest weights beyond), "highest_weights", "forward_selection",
            "lasso_path" or "none". Defaults to "auto".
        batch_size: neighbours per model call; bounds memory, never changes
            results. Defaults to None: about 2**19 values per batch (8192
            rows of 64 features), between 512 and 16384 rows.
        random_state: int seed; the same seed gives identical results.
            Defaults to None (a fresh draw per call).
        tolerance: with num_samples="auto", the largest standard error of a
            weight relative to the largest |weight|. Defaults to 0.05.
        max_samples: with num_samples="auto", the most neighbours per row.
            Defaults to 8192.
        **kwargs: `output`, `run_eagerly`, `verbose` as in
            `keras_explain.Explainer`.

    `explain(rows, targets=None, num_features=10, top_labels=None, verbose=None)`:
        rows: (N, n_features), numpy or DataFrame, like `training_data`, or
            a tf.Tensor or tf.data.Dataset of numeric rows.
        targets: the explained output per row (None: the predicted class);
            ignored in regression (output 0).
        num_features: features kept per row by `feature_selection`.
        top_labels: also explain the k best-scoring outputs of each row, as
            lime's `top_labels` (the explained target first): `labels`
            (N, k) and `feature_weights` (N, k, n_features) hold them.

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
    kx.LimeTabular(model, data.frame[data.feature_names], num_samples="auto")  # e.samples_used
    ```

    References: Ribeiro, Singh & Guestrin, "Why Should I Trust You?:
    Explaining the Predictions of Any Classifier", KDD 2016; for "auto",
    Zhou, Hooker & Wang, "S-LIME: Stabilized-LIME for Model Explanation",
    KDD 2021.
    """

    method = "lime_tabular"
    pair_addressed_draws = True
    state_attributes = ("_schema", "_training", "_sampler")
    config_attributes = (
        "class_names",
        "mode",
        "discretize_continuous",
        "discretizer",
        "training_labels",
        "sample_around_instance",
    )
    explain_options = {
        "num_features": "features kept by the surrogate (feature selection). Defaults to 10",
        "top_labels": "also explain the k best-scoring outputs of each row (the target first)",
    }

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
        # The neighbourhood and the surrogate:
        sample_around_instance=False, kernel_width=None, num_samples=5000,
        feature_selection="auto", batch_size=None, random_state=None, tolerance=0.05, max_samples=8192,
        **kwargs,
    ):
        self.mode = check_choice("mode", mode, MODES)
        self.discretize_continuous = check_bool("discretize_continuous", discretize_continuous)
        self.discretizer = check_choice("discretizer", discretizer, DISCRETIZERS)
        self.sample_around_instance = check_bool("sample_around_instance", sample_around_instance)
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
        self.training_labels = check_training_labels(
            training_labels, len(encoded), self.discretize_continuous and discretizer == "entropy"
        )
        super().__init__(
            model,
            num_samples,
            kernel_width,
            feature_selection,
            random_state,
            tolerance,
            max_samples,
            batch_size=batch_size,
            **kwargs,
        )
        self._check_model(size)
        self._training = encoded
        self.stats = TrainingStatistics.compute(
            encoded,
            self._schema,
            discretize=self.discretize_continuous,
            discretizer=self.discretizer,
            training_labels=self.training_labels,
            random_state=self.random_state or 0,
        )
        self._sampler = NeighbourhoodSampler(self.stats, self.pairs_per_example)

    def _check_model(self, size):
        outputs = self._model_fn.output_size()
        if self.class_names is not None and outputs is not None and len(self.class_names) != outputs:
            fail("class_names", f"one name per model output ({outputs})", self.class_names)
        shape = self._model_fn.input_shape
        if shape is not None and (len(shape) != 2 or shape[1] not in (None, size)):
            expected = f"a model taking (N, {size}) rows like training_data"
            received = f"a model with input shape {tuple(shape)}"
            raise ValueError(f"model: expected {expected}, received {received}.")
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
        # The table is stored encoded, through the schema.
        config.update(
            training_data=self._schema.decode_table(self._training),
            feature_names=names,
            categorical_features=categorical,
            categorical_names=categorical_names,
        )
        return config

    # -- the engine's hooks ----------------------------------------------------

    def read_inputs(self, x, targets):
        # Rows are read like the training data: a DataFrame or an array, with
        # category strings encoded; in regression the one output is explained.
        encoded = self._schema.encode(materialize(x, self._model_fn.input_shape), "rows")
        if self.mode == "regression":
            targets = None
        return encoded.astype(self._model_fn.input_dtype.as_numpy_dtype), targets

    def default_batch_size(self, x):
        return int(np.clip(2**19 // max(int(x.shape[1]), 1), 512, 16384))

    def plan(self, x, targets, predictions, num_features=10, top_labels=None):
        num_features = check_int("num_features", num_features, minimum=1)
        top_labels = check_int("top_labels", top_labels, minimum=1, allow_none=True)
        labels = explained_labels(targets, predictions, top_labels)
        if self.mode == "regression" and predictions.shape[1] != 1:
            raise ValueError(
                f"model: expected a single-output model for mode='regression', received a "
                f"model with {predictions.shape[1]} outputs."
            )
        rows = x.numpy()
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**62))
        per_example = {
            "positions": tf.constant(self.stats.row_positions(rows.astype(np.float64), rows.dtype)),
            "seed": tf.fill([len(rows)], tf.constant(seed, tf.int64)),
            "labels": labels.astype(np.int32),
        }
        if self.sample_around_instance and self._sampler.has_continuous:
            per_example["centres"] = tf.constant(rows, tf.float32)
        # The row's own representation: 1 for a binned or categorical
        # feature (it keeps its bin), the scaled value for a continuous one.
        own = np.ones(rows.shape)
        if self._sampler.has_continuous:
            scaled = (tf.constant(rows, tf.float32) - self._sampler.mean) / self._sampler.scale
            own = np.where(self.stats.kind == CONTINUOUS, scaled.numpy(), 1.0)
        per_example["x_reference"] = own.astype(np.float64)
        per_example["y_reference"] = np.take_along_axis(predictions, labels, axis=1).astype(np.float64)
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            per_example=per_example,
            pairs=self.pairs_per_example,
            group_size=1,
            extras={"num_features": num_features, "dtype": rows.dtype, "labels": labels},
        )

    def sample(self, rows):
        inputs, same, scaled = self._sampler.draw(
            tf.cast(rows["x"], tf.float32),
            rows["positions"],
            rows.get("centres"),
            rows["example_index"],
            rows["pair_index"],
            rows["seed"][0],
        )
        if scaled is None:
            z = tf.cast(same, tf.float64)
        else:
            z = self._sampler.representation(same, scaled)
        return z, tf.cast(inputs, self._model_fn.input_dtype)

    def explain_fit(self, plan, fitted, stats):
        # A feature that never varies around a row (a constant column, a single
        # category) has weight exactly 0; the solver leaves rounding dust.
        attributions = np.where(stats.constant, 0.0, fitted["coef"][:, 0, :]).astype(np.float32)
        rows = plan.inputs.astype(np.float64)
        dtype = plan.extras["dtype"]
        parts = dict(
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
            parts["class_names"] = list(self.class_names)
        labels = plan.extras["labels"]
        if labels.shape[1] > 1:
            weights = np.where(stats.constant[:, None, :], 0.0, fitted["coef"])
            parts.update(labels=labels, feature_weights=weights.astype(np.float32))
        return self.explanation(plan, attributions, **parts)


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
