"""The LIME base: a sampler, a kernel and a surrogate, configured per method.

LIME explains one example with a weighted linear model (the surrogate) fitted
to the model's outputs on perturbed copies of it. Three parts make a LIME
method, and only the first differs between images and tables:

* the *sampler* (`sample(rows)`, pure TensorFlow): for each pair, the
  perturbation's interpretable representation z (B, F) (which superpixels
  are kept, which features keep their bin) and the model input it stands for;
* the *kernel* (`root_weights(z, rows)`): the square root of each sample's
  weight, by default LIME's exponential kernel sqrt(exp(-d^2 / width^2)) of a
  distance `distance(z, rows)` to the example's own representation;
* the *surrogate*: weighted ridge regression with LIME's feature selection,
  fitted from sufficient statistics that are summed batch by batch while
  the pairs stream (`surrogate.Accumulator`), so memory is O(N F^2) whatever
  `num_samples` is.

A subclass's `plan` puts in `per_example` the example's own representation
`"x_reference"` (N, F) float64, the explained `"labels"` (N, L) int32 and a
shift of the outputs `"y_reference"` (N, L) float64 (the model's output at
the example keeps the sums small), plus what its sampler needs; it may set
`extras["feature_counts"]` (N,) when examples have different numbers of
features padded to F. Its `explain_fit(plan, fitted, stats)` turns the fit
into an Explanation.

KernelSHAP is this base with a coalition sampler, the Shapley kernel and no
penalty; see captum's lime.py and kernel_shap.py for the same composition.
"""

import warnings

import numpy as np
import tensorflow as tf

import keras_explain.methods.lime.surrogate as surrogate
from keras_explain.engine.errors import check_choice, check_float, check_int
from keras_explain.engine.explainer import Explainer


class ConstantOutputWarning(UserWarning):
    """The model's output did not change over the samples: the explanation is empty."""


class LimeBase(Explainer):
    """Base of the LIME explainers (see the module docstring).

    Args:
        model: a Keras 3 model.
        num_samples: perturbations per example (the example itself first).
        kernel_width: width of the exponential kernel.
        feature_selection: one of `surrogate.FEATURE_SELECTIONS`.
        random_state: int seed; the same seed gives identical results.
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose`.
    """

    explain_options = {"num_features": "features kept by the surrogate (feature selection)"}
    config_attributes = ("num_samples", "kernel_width", "feature_selection", "random_state")

    def __init__(
        self, model, num_samples, kernel_width, feature_selection, random_state, **kwargs
    ):
        self.num_samples = check_int("num_samples", num_samples, minimum=2)
        self.kernel_width = check_float(
            "kernel_width", kernel_width, minimum=0.0, strict_minimum=True
        )
        self.feature_selection = check_choice(
            "feature_selection", feature_selection, surrogate.FEATURE_SELECTIONS
        )
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
        super().__init__(model, **kwargs)

    @property
    def pairs_per_example(self):
        return self.num_samples

    # -- the sampler and the kernel, written by each configuration ------------

    def sample(self, rows):
        """(z (B, F) interpretable representation, the model's inputs (B, ...))."""
        raise NotImplementedError

    def distance(self, z, rows):
        """Distance of each sample to the example's own representation (B,)."""
        return tf.norm(z - tf.cast(rows["x_reference"], tf.float64), axis=-1)

    def root_weights(self, z, rows):
        """sqrt of each sample's surrogate weight (B,), float64."""
        return tf.sqrt(surrogate.exponential_kernel(self.distance(z, rows), self.kernel_width))

    def explain_fit(self, plan, fitted, stats):
        """The Explanation from the surrogate fit (see `surrogate.fit_statistics`)."""
        raise NotImplementedError

    # -- the engine's hooks ----------------------------------------------------

    def batch_kernel(self, rows):
        z, model_inputs = self.sample(rows)
        z = tf.cast(z, tf.float64)
        outputs = self._model_fn(model_inputs)
        y = tf.cast(tf.gather(outputs, rows["labels"], batch_dims=1), tf.float64)
        root = self.root_weights(z, rows)
        # The surrogate's inputs per pair: sqrt(w), and sqrt(w) times the
        # shifted representation and outputs (`surrogate.Accumulator`).
        return {
            "root": root,
            "a": (z - tf.cast(rows["x_reference"], tf.float64)) * root[:, None],
            "b": (y - tf.cast(rows["y_reference"], tf.float64)) * root[:, None],
        }

    def accumulator(self, plan):
        return SurrogateSums(
            plan.per_example["x_reference"], plan.per_example["y_reference"], self.num_samples
        )

    def finish(self, plan, stats):
        fitted = fit_by_feature_count(
            stats,
            plan.extras.get("feature_counts"),
            plan.extras.get("num_features"),
            self.feature_selection,
        )
        _warn_if_constant(stats, self.num_samples)
        return self.explain_fit(plan, fitted, stats)


def _warn_if_constant(stats, num_samples):
    """Warn where the outputs never moved over the samples: the fit there explains nothing."""
    spread = np.sqrt(np.maximum(stats.yy, 0.0))
    flat = spread <= 1e-7 * np.maximum(np.abs(stats.y_mean), 1e-30)
    if not flat.any():
        return
    example, label = (int(v) for v in np.argwhere(flat)[0])
    warnings.warn(
        f"LIME: the model's output does not change over the {num_samples} samples of "
        f"{int(flat.any(axis=1).sum())} example(s) (the first is example {example}, label "
        f"position {label}, output {stats.y_mean[example, label]:.6g}): their explanation "
        f"is empty (every weight 0), whatever score the surrogate reports.",
        ConstantOutputWarning,
        stacklevel=4,
    )


class SurrogateSums:
    """The accumulator of LIME methods: streamed sums into `surrogate.Statistics`."""

    def __init__(self, x_reference, y_reference, num_samples):
        self.sums = surrogate.Accumulator(np.asarray(x_reference), np.asarray(y_reference))
        self.num_samples = num_samples

    def add(self, first_group, values):
        self.sums.add_pairs(first_group, self.num_samples, values["root"], values["a"], values["b"])

    def result(self):
        return self.sums.statistics()


def fit_by_feature_count(stats, counts, num_features, feature_selection):
    """`surrogate.fit_statistics`, fitted apart for examples with different feature counts.

    Args:
        stats: `surrogate.Statistics` over F features (padded where an example
            has fewer).
        counts: (N,) features per example, or None when all have F.
        num_features, feature_selection: as in `surrogate.fit_statistics`.

    Returns:
        the fit dict with every array over the F features (zeros where padded).
    """
    if counts is None:
        return surrogate.fit_statistics(stats, num_features, feature_selection)
    n, labels, width = stats.cross.shape
    fitted = {
        "coef": np.zeros((n, labels, width)),
        "intercept": np.zeros((n, labels)),
        "score": np.zeros((n, labels)),
        "local_pred": np.zeros((n, labels)),
        "used": np.zeros((n, labels, width), dtype=bool),
    }
    for count in np.unique(counts):
        chosen = np.flatnonzero(counts == count)
        part = surrogate.fit_statistics(
            surrogate.subset(stats, chosen, int(count)), num_features, feature_selection
        )
        fitted["coef"][chosen, :, :count] = part["coef"]
        fitted["used"][chosen, :, :count] = part["used"]
        for key in ("intercept", "score", "local_pred"):
            fitted[key][chosen] = part[key]
    return fitted


def explained_labels(targets, predictions, top_labels):
    """Labels per image (N, L): the target first, then the best other labels."""
    targets = targets[:, None]
    if not top_labels or top_labels == 1:
        return targets
    classes = predictions.shape[1]
    if top_labels > classes:
        raise ValueError(
            f"top_labels: expected at most {classes} (the model's outputs), received {top_labels}."
        )
    order = np.argsort(-predictions, axis=1, kind="stable")
    rest = np.array([row[row != t][: top_labels - 1] for row, t in zip(order, targets[:, 0])])
    return np.concatenate([targets, rest], axis=1)
