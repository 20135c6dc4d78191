"""KernelSHAP: the LIME base with coalitions, the Shapley kernel and exact constraints."""

__all__ = ["KernelShap", "coalition_budget", "coalition_plan", "read_groups"]

import dataclasses
import numbers

import numpy as np
import tensorflow as tf

import keras_explain.methods.lime.surrogate as surrogate
from keras_explain.engine.checks import explained_scores
from keras_explain.engine.draws import warn_short
from keras_explain.engine.errors import check_int, fail
from keras_explain.engine.explainer import row_size
from keras_explain.engine.registry import register
from keras_explain.methods.lime.base import (
    LimeBase,
    SurrogateSums,
    check_sampling,
    precise,
    sample_levels,
    top_signature,
)
from keras_explain.methods.lime.coalitions import (
    CoalitionValues,
    coalition_budget,
    coalition_members,
    coalition_plan,
    fit_coalitions,
    pack_coalitions,
)
from keras_explain.methods.shap.background import BackgroundExplainer


def read_groups(feature_groups, example_shape):
    """(the groups as given, their labels renumbered 0 .. M - 1 as int32) for one example's shape."""
    example_shape = tuple(int(d) for d in example_shape)
    if feature_groups is None:
        return None, np.arange(int(np.prod(example_shape)), dtype=np.int32).reshape(example_shape)
    groups = np.array(feature_groups)
    leading = [example_shape[:k] for k in range(len(example_shape) - 1, 0, -1)]
    if groups.dtype.kind not in "iu" or groups.shape not in [example_shape, *leading]:
        prefixes = f", or of its leading axes such as {leading[0]}" if leading else ""
        fail("feature_groups", f"integer group labels of shape {example_shape}{prefixes}", groups)
    _, labels = np.unique(groups, return_inverse=True)
    return groups, labels.reshape(groups.shape).astype(np.int32)


def _check_num_samples(num_samples):
    if isinstance(num_samples, str) and num_samples == "auto":
        return num_samples
    if isinstance(num_samples, (bool, str)) or not isinstance(num_samples, numbers.Integral) or num_samples < 2:
        fail("num_samples", "'auto' or an integer >= 2", num_samples)
    return int(num_samples)


class _CoalitionSums(SurrogateSums):
    """The regression's raw sums (no centring), fed one coalition value at a time.

    The kernel returns each coalition's value (the model output averaged over
    the background, summed in the graph); the coalition's representation and
    kernel weight are the same for every example, so the weighted terms are
    formed here once per (example, coalition), not once per background row.
    """

    def __init__(self, masks, weights, y_reference):
        self.masks = masks.astype(np.float64)
        self.roots = np.sqrt(weights)
        self.y_reference = np.asarray(y_reference, np.float64)
        super().__init__(np.zeros((len(y_reference), masks.shape[1])), self.y_reference, len(masks))

    def add(self, first_group, values):
        groups = first_group + np.arange(len(values["y"]))
        examples, coalitions = np.divmod(groups, self.num_samples)
        root = self.roots[coalitions]
        a = self.masks[coalitions] * root[:, None]
        b = (values["y"] - self.y_reference[examples]) * root[:, None]
        self.sums.add_pairs(first_group, self.num_samples, root, a, b)

    def result(self):
        self.sums.flush()
        return self.sums


@register("kernel_shap", aliases=("kernelshap", "kernel"))
class KernelShap(LimeBase, BackgroundExplainer):
    """KernelSHAP: Shapley values of features from a weighted regression over coalitions.

    The players are M features: each element of an example (each column of a
    table), or each group of `feature_groups` (superpixels, blocks of
    columns). A coalition z in {0, 1}^M stands for the input that is x where
    z = 1 and a background row where z = 0; its value v(z) is the model's
    output averaged over the background rows (the interventional value).
    The attributions phi solve LIME's surrogate fit with the Shapley kernel
    pi(z) = (M - 1) / (C(M, |z|) |z| (M - |z|)) as the sample weights, no
    penalty, the intercept fixed at phi_0 = E[f(background)] and the
    efficiency constraint sum(phi) = f(x) - E[f(background)] solved exactly
    (a Lagrange multiplier, in float64). The empty and full coalitions are
    these two constraints, never sampled; additivity holds to float32
    rounding on every example (`e.additivity_gap`).

    When the budget covers every coalition (2^M - 2 <= num_samples; with
    num_samples="auto", M <= 11) every coalition is enumerated with its
    exact kernel weight and the result is the exact Shapley value of v.
    Otherwise the coalitions are chosen as shap's KernelExplainer chooses
    them: sizes enumerated whole from the outside in while the budget allows,
    the rest drawn by the kernel's mass, each draw with its complement.

    With num_samples="auto" and M >= 12 the budget grows in levels (128, 256,
    512, ... up to `max_samples`) and an example stops when its 5 largest
    |values| and their signs are those of the previous level and every
    value's standard error (the constrained weighted least squares
    covariance with the weighted residual variance) is at most `tolerance`
    times the largest |value|; the error is then of the order of a few
    standard errors, a few times `tolerance` of the largest value, and
    additivity still holds exactly. A coalition plan is not a prefix of the
    next level's: a larger budget enumerates more sizes whole, and shap's
    weights of the drawn coalitions are their counts among all draws. So
    each level is the fixed plan of its budget (`coalition_plan`, whose
    draws come from one stream that does not depend on the budget), fitted
    anew, and only its coalitions not evaluated at an earlier level are sent
    through the model; the result of an example equals the fixed run with
    `e.samples_used[i]` coalitions. `e.standard_errors` (N, M) holds the
    standard errors.

    Each (example, coalition) is one pair of the engine: the compiled step
    builds the coalition's composite inputs over every background row from
    the packed bits, calls the model on them and averages the outputs over
    the background in the graph; the regression's sums are folded in batch
    by batch (`surrogate.Accumulator`), so memory is one batch, N M^2
    float64 sums and the coalitions' packed bits (4 bytes per coalition for
    M <= 32), never the composite inputs of more than one batch.

    Differences from shap's KernelExplainer (0.51): the same coalitions serve
    every example of one call; a feature that equals every background row in
    an example (exactly; shap allows a tolerance) gets 0 while the others are
    fitted over the same M players (shap re-plans with fewer); there is no L1
    feature selection (shap's default `l1_reg="num_features(10)"` keeps 10
    features: compare with `l1_reg=False`); the draws come from
    `random_state`, not numpy's global generator; only the explained target
    is fitted.

    Args:
        model: a Keras 3 model with a single input.
        background: the reference rows, (B, ...) like the model input (numpy,
            tf.Tensor or tf.data); 50 to 100 rows are typical (each costs a
            model call per coalition).
        num_samples: coalitions per example, an integer >= 2, or "auto"
            (every coalition for M <= 11, else levels: see above). Capped at
            2^M - 2, where every coalition is enumerated. Defaults to "auto".
        feature_groups: None (every element of an example is a feature), or
            integer labels shaped like one example or its leading axes, such
            as an (H, W) segmentation of (H, W, C) images: the elements with
            one label form one feature, and each carries its group's value in
            the attributions. Defaults to None.
        random_state: int seed for the drawn coalitions; the same seed gives
            identical results. Defaults to None (fresh draws per call).
        tolerance: with num_samples="auto", the largest standard error of a
            value relative to the largest |value|. Defaults to 0.05.
        max_samples: with num_samples="auto", the most coalitions per
            example. Defaults to 8192.
        **kwargs: `output`, `batch_size` (pairs of a coalition and a
            background row per model call, rounded down to whole coalitions
            and at least one; bounds memory, never changes results; None:
            about 2**23 input values, 16 to 65536 pairs),
            `run_eagerly`, `verbose` as in `keras_explain.Explainer`.

    Attributes:
        expected_value: np.ndarray float64 (K,), the mean model output over
            the background, at the current weights.
        num_features: M, the number of features (or groups).

    `explain(x, targets=None)` returns an `Explanation` with `attributions`
    shaped like x, (N, ...), `expected_value` (N,) = E[f(background)] for
    each example's target and `additivity_gap` (N,) = sum of the M values
    minus (f(x) - E[f(background)]). With `feature_groups` an element
    carries its group's value, so the values sum once per group, not per
    element.

    Raises:
        ValueError: for a background not shaped like the model input, empty
            or not finite, `feature_groups` that are not integer labels
            shaped like one example (or its leading axes), num_samples < 2,
            or a model with several inputs.

    Example:

    ```python
    explainer = kx.KernelShap(model, x_train[:50], random_state=0)
    e = explainer.explain(x_test[:5])
    e.attributions.sum(axis=1)   # == f(x)[target] - e.expected_value
    ```

    Reference: Lundberg & Lee, "A Unified Approach to Interpreting Model
    Predictions", NeurIPS 2017.
    """

    method = "kernel_shap"
    accepts_several_inputs = False
    explain_options = {}
    state_attributes = BackgroundExplainer.state_attributes + ("_groups",)
    config_attributes = ("feature_groups",)
    # LIME's exponential kernel and feature selection have no counterpart here.
    kernel_width = None
    feature_selection = "none"
    auto_by_levels = False

    def __init__(
        self, model, background, num_samples="auto", feature_groups=None, random_state=None, tolerance=0.05,
        max_samples=8192, **kwargs
    ):
        self.num_samples = _check_num_samples(num_samples)
        _, self.tolerance, self.max_samples = check_sampling(2, tolerance, max_samples)
        self.random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
        # The LIME constructor is skipped: its kernel width and selection do not apply.
        BackgroundExplainer.__init__(self, model, background, **kwargs)
        self.feature_groups, self._groups = read_groups(feature_groups, self.background.shape[1:])

    def get_config(self):
        config = super().get_config()
        del config["kernel_width"], config["feature_selection"]
        if self.num_samples != "auto":
            del config["tolerance"], config["max_samples"]
        return config

    @property
    def adaptive(self):
        """True when num_samples="auto" leaves coalitions to draw (M >= 12)."""
        size = self.num_features
        return self.num_samples == "auto" and coalition_budget(size, "auto") < 2**size - 2

    @property
    def num_features(self):
        """M, the players: features, or groups of `feature_groups`."""
        return int(self._groups.max()) + 1

    @property
    def pairs_per_example(self):
        if self.adaptive:
            return coalition_budget(self.num_features, sample_levels(self.max_samples)[0])
        return coalition_budget(self.num_features, self.num_samples)

    @property
    def model_rows_per_pair(self):
        # A pair is a coalition, expanded over the background in the graph.
        return self.background_size

    def read_inputs(self, x, targets):
        # Checked before the forward pass, for models that do not declare their input shape.
        x, targets = super().read_inputs(x, targets)
        self.check_like_background(x)
        return x, targets

    def default_batch_size(self, x):
        return int(np.clip(2**23 // row_size(x), 16, 65536))

    # -- the plan: coalitions, weights, and what the fit is held to -----------

    def plan(self, x, targets, predictions):
        size = self.num_features
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**63 - 1))
        # With levels ("auto", M >= 12) the engine runs no coalition: `finish` runs the levels.
        budget = 0 if self.adaptive else self.pairs_per_example
        masks, weights = coalition_plan(size, budget, np.random.default_rng(seed))
        # One pair per (example, coalition); the step expands it over the background.
        plan = self.background_plan(
            x,
            targets,
            predictions,
            len(masks),
            group_size=1,
            per_pair_index={"coalition": pack_coalitions(masks)},
        )
        expected = plan.extras["expected_value"][targets]
        plan.per_example = {"labels": targets[:, None].astype(np.int32)}
        plan.extras.update(
            y_reference=expected[:, None],
            masks=masks,
            weights=weights,
            coalitions=len(masks),
            change=explained_scores(predictions, targets) - expected,
            free=self._varying(x.numpy()),
            seed=seed,
        )
        return plan

    def _varying(self, x):
        """(N, M) bool: the features where an example differs from some background row."""
        labels = self._groups.reshape(-1)
        free = np.zeros((len(x), self.num_features), bool)
        for i, example in enumerate(x):
            differs = np.any(self.background != example, axis=0).reshape(len(labels), -1).any(axis=1)
            free[i] = np.bincount(labels, weights=differs, minlength=self.num_features) > 0
        return free

    # -- the LIME base's hooks -------------------------------------------------

    def batch_kernel(self, rows):
        # Each coalition's value, the output averaged over the background, is
        # the only result that leaves the step: the regression's terms are
        # formed once per coalition by the accumulator.
        x = rows["x"]
        kept = coalition_members(rows["coalition"], self.num_features)
        labels = self._groups.reshape(-1)
        if not np.array_equal(labels, np.arange(labels.size)):
            kept = tf.gather(kept, labels, axis=1)
        trailing = [1] * (x.shape.rank - 1 - self._groups.ndim)
        kept = tf.reshape(kept, [-1, 1, *self._groups.shape, *trailing])
        # (coalitions, background rows, ...): each element is the example's or
        # the background row's, exactly.
        composite = tf.where(kept, x[:, None], self._background[None])
        outputs = self._model_fn(tf.reshape(composite, [-1, *x.shape[1:]]))
        rows_per_coalition = self.background_size
        y = tf.reshape(outputs, [-1, rows_per_coalition, outputs.shape[-1]])
        y = tf.gather(tf.cast(y, tf.float64), rows["labels"], axis=2, batch_dims=1)
        return {"y": tf.reduce_mean(y, axis=1)}

    def accumulator(self, plan):
        extras = plan.extras
        if "level" in extras:
            return extras["level"]
        return _CoalitionSums(extras["masks"], extras["weights"], extras["y_reference"])

    def _run_levels(self, plan, verbose):
        """num_samples="auto": each level's coalition plan fitted anew, new coalitions evaluated only."""
        size, count = self.num_features, plan.num_examples
        values = np.zeros((count, 0))
        columns = {}
        todo, previous = np.arange(count), None
        result = {"values": np.zeros((count, size)), "errors": np.zeros((count, size)),
                  "used": np.zeros(count, np.int64)}
        for level in sample_levels(self.max_samples):
            budget = coalition_budget(size, level)
            masks, weights = coalition_plan(size, budget, np.random.default_rng(plan.extras["seed"]))
            keys = [row.tobytes() for row in pack_coalitions(masks)]
            new = [k for k, key in enumerate(keys) if key not in columns]
            if new:
                values = np.concatenate([values, np.full((count, len(new)), np.nan)], axis=1)
                values[todo, -len(new):] = self._coalition_values(plan, todo, masks[new], verbose)
                columns.update({keys[k]: values.shape[1] - len(new) + i for i, k in enumerate(new)})
            shifted = values[todo][:, [columns[k] for k in keys]] - plan.extras["y_reference"][todo]
            fitted, errors = fit_coalitions(masks, weights, shifted, plan.extras["change"][todo],
                                            plan.extras["free"][todo])
            done = precise(errors[:, None], fitted[:, None], self.tolerance)
            signature = top_signature(fitted[:, None])
            done &= np.zeros(len(todo), bool) if previous is None else np.all(signature == previous, axis=(1, 2))
            last = budget >= 2**size - 2 or level == self.max_samples
            if last and budget < 2**size - 2:
                warn_short("KernelShap", int((~done).sum()), count, self.tolerance, "max_samples", self.max_samples)
            done |= last
            for key, value in (("values", fitted), ("errors", errors), ("used", len(masks))):
                result[key][todo] = value
            todo, previous = todo[~done], signature[~done]
            if not len(todo) or last:
                break
        return result

    def _coalition_values(self, plan, examples, masks, verbose):
        """v(z) (n, S) of the coalitions `masks` for `examples`, through the engine."""
        part = plan.subset(examples)
        level = dataclasses.replace(
            part,
            per_example={"labels": part.per_example["labels"]},
            pairs=len(masks),
            group_size=1,
            per_pair_index={"coalition": pack_coalitions(masks)},
            extras={**plan.extras, "level": CoalitionValues(len(examples), len(masks))},
        )
        return self.run_plan(level, verbose).values

    def finish(self, plan, sums):
        if self.adaptive:
            sums = self._run_levels(plan, self.verbose)
            explanation = self._explanation(plan, sums["values"])
            every = sums["used"] >= 2**self.num_features - 2
            errors = np.where(every[:, None], 0.0, sums["errors"])
            return explanation.annotate(samples_used=sums["used"], standard_errors=errors)
        values = surrogate.constrained_least_squares(
            sums.sum_dd, sums.sum_de[:, 0], plan.extras["change"], plan.extras["free"]
        )
        return self._explanation(plan, values)

    def _explanation(self, plan, values):
        values = values.astype(np.float32)
        expected, _, gap = self.expected_and_gap(plan, values)
        attributions = values[:, self._groups]
        trailing = plan.x.shape.rank - 1 - self._groups.ndim
        attributions = np.broadcast_to(
            attributions.reshape(attributions.shape + (1,) * trailing), tuple(plan.x.shape)
        ).copy()
        return self.explanation(plan, attributions, expected_value=expected, additivity_gap=gap)
