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

With `num_samples="auto"` the samples come in levels of fixed sizes
(`sample_levels`: 128, 256, 512, ... up to `max_samples`). After each level
the surrogate of every example still running is fitted from its sums, and
the example stops when (a) its `TOP_FEATURES` features by |weight| and their
signs are those of the previous level, for every explained label, and (b)
every weight's standard error (`surrogate.standard_errors`: the weighted
least squares sigma^2 (X^T W X + alpha I)^-1 with the weighted residual
variance) is at most `tolerance` times the largest |weight|. The decision
reads only the example's own sums at a fixed sample count, never batch
boundaries, so results depend on `random_state` alone, not on `batch_size`
or on the other examples. A level draws samples start ... stop - 1 of each
example: the plan describes `max_samples` samples per example, `sample`
sees the example's index and the sample's index in the full plan
(`rows["example_index"]`, `rows["pair_index"]`), and a sampler whose draw
is a function of those gives sample k the same value in a fixed run, so an
auto result equals the fixed run with `e.samples_used[i]` samples. The sums
are folded in aligned blocks (`surrogate.Accumulator`), so that equality
holds bit for bit.

This follows S-LIME (Zhou, Hooker & Wang, "S-LIME: Stabilized-LIME for
Model Explanation", KDD 2021) in spirit: S-LIME selects features along the
LARS path and, at each step, tests with the central limit theorem whether
the best candidate beats the runner-up; while the test fails it draws more
samples (up to a limit). Here the test is on the fitted weights instead: a
top-k that holds between consecutive levels and standard errors small
relative to the largest weight. It needs no extra fits per selection step,
covers every feature selection, and decides at fixed sample counts only;
it is a precision rule, not S-LIME's significance test.

KernelSHAP is this base with a coalition sampler, the Shapley kernel and no
penalty; see captum's lime.py and kernel_shap.py for the same composition.
"""

import dataclasses
import numbers
import warnings

import numpy as np
import tensorflow as tf

import keras_explain.methods.lime.surrogate as surrogate
from keras_explain.engine.draws import warn_short
from keras_explain.engine.errors import check_choice, check_float, check_int, fail
from keras_explain.engine.explainer import Explainer
from keras_explain.methods.lime.surrogate import fit_by_feature_count

#: Samples per example of the first level of num_samples="auto" (one block of the sums).
FIRST_LEVEL = surrogate.BLOCK
#: Features whose set and signs must hold between two levels for an example to stop.
TOP_FEATURES = 5
#: The ridge penalty of LIME's surrogate.
ALPHA = 1.0


class ConstantOutputWarning(UserWarning):
    """The model's output did not change over the samples: the explanation is empty."""


class LimeBase(Explainer):
    """Base of the LIME explainers (see the module docstring).

    Args:
        model: a Keras 3 model.
        num_samples: perturbations per example (the example itself first),
            or "auto" (see the module docstring).
        kernel_width: width of the exponential kernel.
        feature_selection: one of `surrogate.FEATURE_SELECTIONS`.
        random_state: int seed; the same seed gives identical results.
        tolerance: with num_samples="auto", the largest standard error of a
            weight relative to the largest |weight|. Defaults to 0.05.
        max_samples: with num_samples="auto", the most samples per example.
            Defaults to 8192.
        **kwargs: `output`, `batch_size`, `run_eagerly`, `verbose`.

    A subclass whose `sample` draws each pair from its (example_index,
    pair_index) alone, or from `per_pair` arrays, sets `pair_addressed_draws`
    so that a level batches the pairs of several examples together; by
    default a level runs each example apart, for samplers that read one
    stream per batch of consecutive pairs.
    """

    explain_options = {"num_features": "features kept by the surrogate (feature selection)"}
    config_attributes = ("num_samples", "kernel_width", "feature_selection", "random_state", "tolerance",
                         "max_samples")
    pair_addressed_draws = False
    #: "auto" runs by `_levels` (KernelShap, whose plans are not prefixes, runs its own).
    auto_by_levels = True

    def __init__(
        self, model, num_samples, kernel_width, feature_selection, random_state, tolerance=0.05,
        max_samples=8192, **kwargs
    ):
        self.num_samples, self.tolerance, self.max_samples = check_sampling(num_samples, tolerance, max_samples)
        self.kernel_width = check_float(
            "kernel_width", kernel_width, minimum=0.0, strict_minimum=True
        )
        self.feature_selection = check_choice(
            "feature_selection", feature_selection, surrogate.FEATURE_SELECTIONS
        )
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
        super().__init__(model, **kwargs)

    @property
    def adaptive(self):
        """True for num_samples="auto"."""
        return self.num_samples == "auto"

    @property
    def pairs_per_example(self):
        # "auto" plans every sample an example may get; levels run its prefixes.
        return self.max_samples if self.adaptive else self.num_samples

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
        if "level_example" in rows:
            # A level of "auto": the sampler sees each pair's place in the full plan.
            rows = dict(rows, example_index=rows["level_example"], pair_index=rows["pair_index"] + rows["level_offset"])
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
        if "level" in plan.extras:
            return plan.extras["level"]
        return SurrogateSums(plan.per_example["x_reference"], plan.per_example["y_reference"], plan.pairs)

    def first_run(self, plan):
        if not (self.adaptive and self.auto_by_levels):
            return plan
        sums = surrogate.Accumulator(plan.per_example["x_reference"], plan.per_example["y_reference"])
        # Samplers that read one stream per batch run each example apart, in `_levels`.
        examples = np.arange(plan.num_examples if self.pair_addressed_draws else 0)
        return level_plan(plan, examples, 0, FIRST_LEVEL, sums)

    def finish(self, plan, stats):
        used = None
        if self.adaptive and self.auto_by_levels:
            # `stats` holds the sums of the first level (see `first_run`); the other levels run here.
            stats, used = self._levels(plan, stats)
        fitted = self._fit(plan, stats)
        _warn_if_constant(stats, self.num_samples if used is None else f"up to {int(used.max())}")
        explanation = self.explain_fit(plan, fitted, stats)
        if used is not None:
            errors = surrogate.standard_errors(stats, fitted["coef"], fitted["used"], ALPHA)
            explanation.annotate(samples_used=used, standard_errors=errors)
        return explanation

    def _fit(self, plan, stats):
        return fit_by_feature_count(
            stats, plan.extras.get("feature_counts"), plan.extras.get("num_features"), self.feature_selection
        )

    # -- num_samples="auto" ------------------------------------------------------

    def _levels(self, plan, sums):
        """The levels of "auto" after `first_run`'s (see the module docstring): (Statistics, samples used (N,))."""
        used = np.zeros(plan.num_examples, np.int64)
        todo, previous, start = np.arange(plan.num_examples), None, 0
        for stop in sample_levels(self.max_samples):
            parts = [todo] if self.pair_addressed_draws else [todo[i : i + 1] for i in range(len(todo))]
            for part in parts if start or not self.pair_addressed_draws else ():
                self.run_plan(level_plan(plan, part, start, stop, sums), self.verbose)
            used[todo] = stop
            stats = surrogate.subset(sums.statistics(), todo, sums.sum_d.shape[1])
            part_plan = dataclasses.replace(plan, extras=dict(plan.extras))
            if "feature_counts" in plan.extras:
                part_plan.extras["feature_counts"] = plan.extras["feature_counts"][todo]
            fitted = self._fit(part_plan, stats)
            signature = top_signature(fitted["coef"])
            errors = surrogate.standard_errors(stats, fitted["coef"], fitted["used"], ALPHA)
            done = precise(errors, fitted["coef"], self.tolerance) & (previous is not None)
            if previous is not None:
                done &= np.all(signature == previous, axis=(1, 2))
            todo, previous, start = todo[~done], signature[~done], stop
            if not len(todo):
                break
        warn_short(type(self).__name__, len(todo), plan.num_examples, self.tolerance, "max_samples", self.max_samples)
        return sums.statistics(), used


def check_sampling(num_samples, tolerance, max_samples):
    """(num_samples, tolerance, max_samples) checked: an int >= 2 or "auto", a number > 0, an int >= FIRST_LEVEL."""
    if isinstance(num_samples, str):
        if num_samples != "auto":
            fail("num_samples", "'auto' or an integer >= 2", num_samples)
    else:
        num_samples = check_int("num_samples", num_samples, minimum=2)
    if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or not 0 < tolerance < np.inf:
        fail("tolerance", "a number > 0 (a standard error relative to the largest |weight|)", tolerance)
    if isinstance(max_samples, numbers.Integral) and not isinstance(max_samples, bool) and max_samples < FIRST_LEVEL:
        fail("max_samples", f"an integer >= {FIRST_LEVEL} (the first level of num_samples='auto')", max_samples)
    return num_samples, float(tolerance), check_int("max_samples", max_samples, minimum=FIRST_LEVEL)


def sample_levels(max_samples):
    """The sample counts of "auto": FIRST_LEVEL, doubling while <= max_samples, then max_samples."""
    found = [FIRST_LEVEL]
    while 2 * found[-1] <= max_samples:
        found.append(2 * found[-1])
    if found[-1] < max_samples:
        found.append(max_samples)
    return found


def level_plan(plan, examples, start, stop, sums):
    """The plan of samples start ... stop - 1 of `examples`, summed into `sums` (an Accumulator)."""
    part = plan.subset(examples)
    per_example = dict(part.per_example)
    per_example["level_example"] = examples.astype(np.int32)
    per_example["level_offset"] = np.full(len(examples), start, np.int32)
    per_pair = {}
    for key, value in part.per_pair.items():
        grid = value.reshape((len(examples), plan.pairs) + value.shape[1:])[:, start:stop]
        per_pair[key] = grid.reshape((-1,) + value.shape[1:])
    level = SurrogateSums(None, None, stop - start, sums=sums, examples=examples, offset=start)
    return dataclasses.replace(
        part,
        per_example=per_example,
        pairs=stop - start,
        group_size=1,
        per_pair=per_pair,
        per_pair_index={key: value[start:stop] for key, value in plan.per_pair_index.items()},
        extras={**plan.extras, "level": level},
    )


def top_signature(coef, k=TOP_FEATURES):
    """(N, L, k) the top-k features by |weight| as signed indices, sorted: (feature + 1) * sign."""
    k = min(k, coef.shape[-1])
    order = np.argsort(-np.abs(coef), axis=-1, kind="stable")[..., :k]
    signs = np.sign(np.take_along_axis(coef, order, axis=-1))
    return np.sort((order + 1) * signs, axis=-1)


def precise(errors, coef, tolerance):
    """(N,) bool: every label's largest standard error is at most `tolerance` times its largest |weight|."""
    largest = np.abs(coef).max(axis=-1)
    return np.all(errors.max(axis=-1) <= tolerance * largest, axis=-1)


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
    """The accumulator of LIME methods: streamed sums into `surrogate.Statistics`.

    Args:
        x_reference, y_reference: as for `surrogate.Accumulator` (unused with `sums`).
        num_samples: pairs per example of the plan.
        sums: an Accumulator to add to instead of a new one (`result` is
            then that Accumulator). Defaults to None.
        examples: the row of `sums` of each example of the plan. Defaults to None.
        offset: the sample index of each example's first pair. Defaults to 0.
    """

    def __init__(self, x_reference, y_reference, num_samples, sums=None, examples=None, offset=0):
        self.level = sums is not None
        if sums is None:
            sums = surrogate.Accumulator(np.asarray(x_reference), np.asarray(y_reference))
        self.sums, self.examples, self.offset = sums, examples, offset
        self.num_samples = num_samples

    def add(self, first_group, values):
        self.sums.add_pairs(
            first_group, self.num_samples, values["root"], values["a"], values["b"], self.offset, self.examples
        )

    def result(self):
        # A level adds to shared sums, which the levels' loop reads.
        return self.sums if self.level else self.sums.statistics()


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
