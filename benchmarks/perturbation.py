"""Timing benchmark of Occlusion, KernelShap and PermutationImportance against their lower bounds and peers.

What is measured
----------------
Three cases, each against the lower bound: the same number of forward passes
through a bare `tf.function` of the model (`model(rows, training=False)`,
traced once before timing), in batches of the size our explainer uses
(`explainer.batch_size_for(x)`), on inputs built once before timing, outputs
fetched as numpy. That is the work no implementation can skip.

* Occlusion: `kx.Occlusion(model, window=(16, 16), strides=(8, 8),
  baseline=0.0).explain(images)` on `keras.applications.MobileNetV2(weights=None)`
  (seeded random weights, nothing is downloaded), `--images` (2) of
  scikit-image's astronaut, chelsea and coffee resized to 224x224x3 and
  scaled to [-1, 1]: 27 x 27 = 729 windows per image. The lower bound runs
  the images x 729 occluded copies (window set to 0). xplique's
  `Occlusion(patch_size=(16, 16), patch_stride=(8, 8), occlusion_value=0.0)`
  with the same batch size is a column when xplique is installed.
  Target: ours within 1.10x of the lower bound.
* KernelShap: a breast_cancer MLP (30 standardised features -> 32 relu -> 2
  softmax, trained `--epochs` epochs), `--rows` (10) rows explained against a
  `--background` (50) row background with `--samples` (2048) coalitions:
  `kx.KernelShap(model, background, num_samples=2048, random_state=0)` for
  the predicted class, and shap's `KernelExplainer(f, background).shap_values(
  rows, nsamples=2048, l1_reg=False)` (both classes: it has no top-class
  option) with two predict functions f: the model's `predict(rows,
  verbose=0)` (what shap's documentation and most users pass) and a compiled
  `tf.function` of the model on numpy batches (shap's best case). The lower
  bound runs rows x coalitions x background composite rows (x where the
  coalition holds, the background row elsewhere, from our coalitions).
  shap with `model.predict` takes seconds per row: each round times it on
  `--shap-predict-rows` (2) rows, other rows each round, and scales the time
  to all rows (seconds x rows / rows timed). Targets: ours within 1.5x of the
  lower bound, >= 20x faster than shap with `model.predict`, >= 3x faster
  than shap with the compiled predict function. The agreement
  mean |ours - shap| / mean |shap| (shap compiled, the predicted class) is
  printed, with shap against itself under another seed as the noise floor.
* PermutationImportance: `--permutation-rows` (10,000) rows of breast_cancer
  features (rows resampled, Gaussian noise of 0.1 standard deviations added,
  the labels of the resampled rows), the same MLP, 5 repeats, metric
  accuracy: `kx.PermutationImportance(model, metric="accuracy", n_repeats=5,
  random_state=0).explain(x, y)` against scikit-learn's
  `sklearn.inspection.permutation_importance(estimator, x, y, n_repeats=5,
  random_state=0)` on the model wrapped as an estimator (`fit` returns it,
  `predict` the argmax and `score` the accuracy of the same compiled
  `tf.function`, called once on all rows: scikit-learn's best case), and on
  the model wrapped the way Keras users wrap it for scikit-learn (scikeras'
  KerasClassifier: `predict` and `score` call `model.predict(x, verbose=0)`).
  The lower bound runs rows x features x repeats rows, one feature shuffled
  in each. Ours with `batch_size` = rows (one (feature, repeat) block per
  model call, the calls scikit-learn makes) runs in the same rounds and is
  reported below the table. Target: ours >= 5x faster than scikit-learn on
  the model wrapped with `model.predict`; against the compiled wrapper the
  lower bound itself is only about 2x faster than scikit-learn on this
  30 -> 32 -> 2 MLP (every implementation runs the same model rows), so that
  ratio is reported with its ceiling and no target.

The contenders of a case alternate for `--repeats` rounds (5) after one
untimed call each (which traces); the table gives wall-clock medians.

How to run
----------
From the repository root:

    .venv/bin/python benchmarks/perturbation.py             # full run, about 4 minutes on 2 cores
    .venv/bin/python benchmarks/perturbation.py --quick --no-write   # smoke run

The script prints the versions, the command, the seconds of every round and
a Markdown table, and (unless `--no-write`) replaces the section
"## Perturbation methods (benchmarks/perturbation.py)" of benchmarks/RESULTS.md.
"""

import argparse
import os
import warnings

# common sets the environment defaults, so it comes before Keras and TensorFlow.
from common import (
    add_run_options,
    announce,
    apply_defaults,
    interleaved_rounds,
    optional_import,
    provenance,
    ratio,
    version_of,
    versions,
    write_section,
)

# isort: split

import keras  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.inspection import permutation_importance  # noqa: E402

import keras_explain as kx  # noqa: E402
from keras_explain.methods.lime.kernel_shap import coalition_budget, coalition_plan  # noqa: E402

xplique = optional_import("xplique")
if xplique is not None:
    from xplique.attributions import Occlusion as XpliqueOcclusion
shap = optional_import("shap")

SECTION = "Perturbation methods (benchmarks/perturbation.py)"
#: The targets: ours / lower bound at most, and peer / ours at least.
OCCLUSION_BOUND, KERNEL_BOUND = 1.10, 1.5
SHAP_PREDICT_TARGET, SHAP_COMPILED_TARGET, SKLEARN_TARGET = 20.0, 3.0, 5.0


# -- shared pieces ------------------------------------------------------------------


def forward_function(model, shape):
    """The bare compiled call: a `tf.function` of the model, any batch size."""
    return tf.function(
        lambda rows: model(rows, training=False),
        input_signature=[tf.TensorSpec((None,) + tuple(shape), tf.float32)],
    )


def batched(inputs, batch_size):
    """`inputs` cut into tensors of `batch_size` consecutive rows (built before timing)."""
    return [tf.constant(inputs[start : start + batch_size]) for start in range(0, len(inputs), batch_size)]


def lower_bound(function, feeds):
    """The forward passes over the prepared batches, outputs as numpy."""
    return lambda: [function(feed).numpy() for feed in feeds]


def numpy_predict(function):
    """numpy -> numpy through the compiled call (shap's and scikit-learn's best case)."""
    return lambda rows: function(tf.constant(np.asarray(rows, np.float32))).numpy()


# -- Occlusion -------------------------------------------------------------------------


def make_images(count, size, seed=0):
    """`count` scikit-image photographs resized to size x size, with a little noise, in [-1, 1]."""
    from skimage import data as skdata
    from skimage.transform import resize

    sources = [skdata.astronaut(), skdata.chelsea(), skdata.coffee()]
    bases = [resize(image, (size, size), anti_aliasing=True).astype(np.float32) for image in sources]
    rng = np.random.default_rng(seed)
    images = np.stack([bases[i % len(bases)] for i in range(count)])
    images = images + rng.normal(0.0, 0.02, size=images.shape).astype(np.float32)
    return (np.clip(images, 0.0, 1.0) * 2.0 - 1.0).astype(np.float32)


def starts_along(size, window, stride):
    """Window starts 0, stride, ... and one ending at the border (Occlusion's grid)."""
    starts = list(range(0, size - window + 1, stride))
    if starts[-1] != size - window:
        starts.append(size - window)
    return starts


def occluded_copies(images, window, stride):
    """Every (image, window) copy with the window set to 0, image-major; and the windows."""
    size = images.shape[1]
    windows = [(r, c) for r in starts_along(size, window, stride) for c in starts_along(size, window, stride)]
    copies = np.repeat(images, len(windows), axis=0)
    for i in range(len(images)):
        for k, (r, c) in enumerate(windows):
            copies[i * len(windows) + k, r : r + window, c : c + window, :] = 0.0
    return copies, windows


def occlusion_map(scores, outputs, targets, windows, window, shape):
    """The occlusion map from the lower bound's outputs: mean drop of the windows covering each pixel."""
    count = len(targets)
    outputs = np.concatenate(outputs).astype(np.float64).reshape(count, len(windows), -1)
    drops = scores[:, None] - outputs[np.arange(count), :, targets]
    total = np.zeros((count,) + shape[:2])
    covered = np.zeros(shape[:2])
    for k, (r, c) in enumerate(windows):
        total[:, r : r + window, c : c + window] += drops[:, k, None, None]
        covered[r : r + window, c : c + window] += 1.0
    return total / covered


def occlusion_case(args):
    size, window, stride = args.image_size, args.window, args.stride
    keras.utils.set_random_seed(args.seed)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(size, size, 3))
    images = make_images(args.images, size, args.seed)
    ours = kx.Occlusion(model, window=(window, window), strides=(stride, stride), baseline=0.0, verbose=0)
    batch_size = ours.batch_size_for(tf.constant(images))
    copies, windows = occluded_copies(images, window, stride)
    function = forward_function(model, images.shape[1:])
    bound = lower_bound(function, batched(copies, batch_size))
    del copies
    runs = {"lower bound": bound, "ours": lambda: ours.explain(images)}
    warmups = {"lower bound": bound, "ours": runs["ours"]}
    result = {"errors": {}}
    if xplique is not None:
        outputs = function(tf.constant(images)).numpy()
        one_hot = np.eye(outputs.shape[1], dtype=np.float32)[np.argmax(outputs, axis=1)]
        peer = XpliqueOcclusion(
            model, batch_size=batch_size, patch_size=(window, window), patch_stride=(stride, stride),
            occlusion_value=0.0,
        )
        runs["xplique"] = lambda: np.asarray(peer.explain(images, one_hot))
        warmups["xplique"] = runs["xplique"]
    rounds = interleaved_rounds(runs, args.repeats, warmups=warmups)
    explained = rounds.outputs["ours"]
    scores = explained.predictions.astype(np.float64)[np.arange(len(images)), explained.targets]
    reference = occlusion_map(
        scores, rounds.outputs["lower bound"], explained.targets, windows, window, images.shape[1:]
    )
    heat = explained.attributions[..., 0].astype(np.float64)
    outputs = np.concatenate(rounds.outputs["lower bound"])
    spread = float(np.abs(outputs - outputs[:1]).max())
    result.update(
        name="Occlusion",
        rounds=rounds,
        times=rounds.medians(),
        cpu=rounds.medians("cpu"),
        batch_size=batch_size,
        model_rows=len(images) * len(windows),
        workload=(
            f"{len(images)} image{'s' if len(images) != 1 else ''} {size}x{size}x3 x {len(windows)} windows "
            f"{window}x{window}, stride {stride}, MobileNetV2(weights=None)"
        ),
        notes=[
            f"ours against the occlusion map computed from the lower bound's outputs: largest difference "
            f"{np.abs(heat - reference).max():.1e} (largest |attribution| {np.abs(heat).max():.1e})",
            f"the untrained MobileNetV2's outputs differ by at most {spread:.1e} between the occluded copies"
            + (
                " (the same outputs for every input: every drop is 0 and the comparison above checks "
                "nothing; the work per model call does not depend on the values)"
                if spread == 0.0
                else ""
            ),
        ],
    )
    return result


# -- the breast_cancer MLP ----------------------------------------------------------


def breast_cancer_mlp(seed, epochs):
    """(model, standardised features, labels): 30 -> 32 relu -> 2 softmax, trained `epochs` epochs."""
    data = load_breast_cancer()
    x = ((data.data - data.data.mean(axis=0)) / data.data.std(axis=0)).astype(np.float32)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((30,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    if epochs:
        model.fit(x, data.target, epochs=epochs, batch_size=64, verbose=0)
    return model, x, data.target


# -- KernelShap ----------------------------------------------------------------------


def composite_rows(rows, background, masks):
    """Every (row, coalition, background row) input, row-major: the row where the coalition holds."""
    parts = [np.where(masks[:, None, :], row, background[None]).reshape(-1, rows.shape[1]) for row in rows]
    return np.concatenate(parts).astype(np.float32)


def shap_top(values, targets):
    """shap's values (N, M, K) or a list of K arrays (N, M) as (N, M) for each row's target."""
    array = np.stack(values, axis=-1) if isinstance(values, list) else np.asarray(values)
    return array[np.arange(len(targets)), :, targets]


def kernel_shap_case(args, model, x):
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(x))
    background, rows = x[order[: args.background]], x[order[args.background : args.background + args.rows]]
    ours = kx.KernelShap(model, background, num_samples=args.samples, random_state=0, verbose=0)
    # Ours sends whole coalitions per step, each over every background row.
    batch_size = ours.batch_size_for(tf.constant(rows)) * ours.model_rows_per_pair
    masks, _ = coalition_plan(30, coalition_budget(30, args.samples), np.random.default_rng(0))
    function = forward_function(model, (30,))
    bound = lower_bound(function, batched(composite_rows(rows, background, masks), batch_size))
    runs = {"lower bound": bound, "ours": lambda: ours.explain(rows)}
    warmups = {"lower bound": bound, "ours": runs["ours"]}
    compiled = numpy_predict(function)
    share = min(args.shap_predict_rows, len(rows))
    if shap is not None:

        def keras_predict(batch):
            return model.predict(np.asarray(batch, np.float32), verbose=0)

        def shap_run(predict):
            peer = shap.KernelExplainer(predict, background)
            return lambda chunk: peer.shap_values(chunk, nsamples=args.samples, l1_reg=False, silent=True)

        runs["shap, model.predict"] = shap_run(keras_predict)
        runs["shap, compiled"] = shap_run(compiled)
        warmups["shap, model.predict"] = lambda: keras_predict(background[:40])
        warmups["shap, compiled"] = lambda: runs["shap, compiled"](rows[:1])

    def prepare(name, round_index):
        """shap's rows (a share of them with model.predict) under a seeded global generator."""
        if not name.startswith("shap"):
            return ()
        np.random.seed(round_index)
        if name == "shap, compiled":
            return (rows,)
        return (rows[(round_index * share + np.arange(share)) % len(rows)],)

    rounds = interleaved_rounds(runs, args.repeats, warmups=warmups, prepare=prepare)
    times, cpu = rounds.medians(), rounds.medians("cpu")
    explained = rounds.outputs["ours"]
    notes = [
        f"ours: largest additivity gap {np.abs(explained.additivity_gap).max():.1e}, "
        f"{len(masks)} coalitions per row",
    ]
    if shap is not None:
        scale = len(rows) / share
        # Timed on `share` rows per round: wall-clock and CPU seconds scaled to all rows.
        times["shap, model.predict"] *= scale
        cpu["shap, model.predict"] *= scale
        theirs = shap_top(rounds.outputs["shap, compiled"], explained.targets)
        np.random.seed(len(rounds.wall["ours"]) + 1)
        again = shap_top(
            shap.KernelExplainer(compiled, background).shap_values(
                rows, nsamples=args.samples, l1_reg=False, silent=True
            ),
            explained.targets,
        )
        ours_values = explained.attributions.astype(np.float64)
        agreement = np.abs(ours_values - theirs).mean() / np.abs(theirs).mean()
        floor = np.abs(again - theirs).mean() / np.abs(theirs).mean()
        notes = [
            f"shap with model.predict timed on {share} of the {len(rows)} rows per round (other rows each "
            f"round), its wall-clock and CPU seconds scaled by {scale:g} to all rows",
            f"agreement, mean |ours - shap| / mean |shap| (shap with the compiled predict function, the "
            f"predicted class): {agreement:.3f}; shap against itself with another seed: {floor:.3f}",
        ] + notes
    return {
        "name": "KernelShap",
        "rounds": rounds,
        "times": times,
        "cpu": cpu,
        "batch_size": batch_size,
        "model_rows": len(rows) * len(masks) * len(background),
        "workload": (
            f"{len(rows)} rows x {len(masks)} coalitions x {len(background)} background rows, "
            f"30 -> 32 -> 2 MLP"
        ),
        "notes": notes,
    }


# -- PermutationImportance ----------------------------------------------------------


class CompiledClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn estimator around a numpy -> probabilities function: argmax and accuracy."""

    def __init__(self, predict_function=None):
        self.predict_function = predict_function

    def fit(self, x, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, x):
        return np.argmax(self.predict_function(x), axis=1)

    def score(self, x, y):
        return float(np.mean(self.predict(x) == np.asarray(y)))


def resampled(x, y, count, seed):
    """`count` rows drawn from (x, y) with Gaussian noise of 0.1 added to the features."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(x), count)
    noise = rng.normal(0.0, 0.1, size=(count, x.shape[1]))
    return (x[index] + noise).astype(np.float32), y[index]


def shuffled_rows(x, n_repeats, seed):
    """Every (feature, repeat) copy of x with that feature's column permuted, feature-major."""
    rng = np.random.default_rng(seed)
    parts = []
    for feature in range(x.shape[1]):
        for _ in range(n_repeats):
            copy = x.copy()
            copy[:, feature] = copy[rng.permutation(len(x)), feature]
            parts.append(copy)
    return np.concatenate(parts)


def permutation_case(args, model, x, y):
    data, labels = resampled(x, y, args.permutation_rows, args.seed)
    ours = kx.PermutationImportance(model, metric="accuracy", n_repeats=args.n_repeats, random_state=0, verbose=0)
    batch_size = ours.batch_size_for(tf.constant(data))
    function = forward_function(model, (x.shape[1],))
    bound = lower_bound(function, batched(shuffled_rows(data, args.n_repeats, args.seed), batch_size))
    estimator = CompiledClassifier(numpy_predict(function)).fit(data, labels)
    keras_estimator = CompiledClassifier(lambda rows: model.predict(rows, verbose=0)).fit(data, labels)

    def sklearn_run(wrapped=estimator, repeats=args.n_repeats):
        return permutation_importance(wrapped, data, labels, n_repeats=repeats, random_state=0)

    # Ours with one (feature, repeat) block of rows per model call, the calls scikit-learn makes:
    # how much of ours is the number of calls.
    whole = kx.PermutationImportance(
        model, metric="accuracy", n_repeats=args.n_repeats, random_state=0, batch_size=len(data), verbose=0
    )
    runs = {
        "lower bound": bound,
        "ours": lambda: ours.explain(data, labels),
        "ours, one block per call": lambda: whole.explain(data, labels),
        "sklearn": sklearn_run,
        # One repeat per round (30 s on 2 cores), its time scaled to all repeats below.
        "sklearn, model.predict": lambda: sklearn_run(keras_estimator, 1),
    }
    rounds = interleaved_rounds(runs, args.repeats, warmups=dict(runs))
    explained, theirs = rounds.outputs["ours"], rounds.outputs["sklearn"]
    times, cpu = rounds.medians(), rounds.medians("cpu")
    times["sklearn, model.predict"] *= args.n_repeats
    cpu["sklearn, model.predict"] *= args.n_repeats
    same = np.array_equal(explained.importances, rounds.outputs["ours, one block per call"].importances)
    mean_ours = explained.attributions[0].astype(np.float64)
    mean_theirs = theirs.importances_mean
    top = len(set(np.argsort(-mean_ours)[:5]) & set(np.argsort(-mean_theirs)[:5]))
    return {
        "name": "PermutationImportance",
        "rounds": rounds,
        "times": times,
        "cpu": cpu,
        "batch_size": batch_size,
        "model_rows": len(data) * x.shape[1] * args.n_repeats,
        "workload": (
            f"{len(data)} rows x {x.shape[1]} features x {args.n_repeats} repeats, metric accuracy, "
            f"30 -> 32 -> 2 MLP"
        ),
        "notes": [
            f"scikit-learn with model.predict timed with 1 repeat per round, its seconds scaled by "
            f"{args.n_repeats} to all repeats",
            f"baseline accuracy {explained.baseline_score:.3f}; scikit-learn calls the compiled function "
            f"once per (feature, repeat) on all {len(data)} rows, ours sends {batch_size} rows per call",
            f"ours with batch_size={len(data)} (one (feature, repeat) block per call, as scikit-learn calls "
            f"the model): {times['ours, one block per call']:.2f} s, scikit-learn / it "
            f"{times['sklearn'] / times['ours, one block per call']:.2f}x, the same importances as ours: "
            f"{'yes' if same else 'no'}",
            f"mean importances, ours vs scikit-learn (other permutations): mean |difference| "
            f"{np.abs(mean_ours - mean_theirs).mean():.4f} (mean |scikit-learn| {np.abs(mean_theirs).mean():.4f}), "
            f"top-5 features shared {top}/5",
        ],
    }


# -- reporting --------------------------------------------------------------------


#: (column, key in the times, shown when): the peers' seconds, then their ratios to ours.
PEERS = (
    ("xplique", "xplique", xplique is not None),
    ("shap, model.predict", "shap, model.predict", shap is not None),
    ("shap, compiled predict", "shap, compiled", shap is not None),
    ("scikit-learn, compiled predict", "sklearn", True),
    ("scikit-learn, model.predict", "sklearn, model.predict", True),
)


def markdown_table(results):
    peers = [(heading, key) for heading, key, shown in PEERS if shown]
    headings = (
        ["method", "workload", "model rows", "rows per call", "lower bound (s)", "ours (s)"]
        + [f"{heading} (s)" for heading, _ in peers]
        + ["ours / lower bound"]
        + [f"{heading} / ours" for heading, _ in peers]
    )
    lines = ["| " + " | ".join(headings) + " |", "|---|---|" + "---:|" * (len(headings) - 2)]
    for r in results:
        times = r["times"]
        cells = [r["name"], r["workload"], f"{r['model_rows']:,}", str(r["batch_size"])]
        cells += [f"{times['lower bound']:.2f}", f"{times['ours']:.2f}"]
        cells += [f"{times[key]:.2f}" if key in times else "-" for _, key in peers]
        cells.append(ratio(times["ours"], times["lower bound"]))
        cells += [ratio(times.get(key), times["ours"]) for _, key in peers]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(value, target, at_most):
    met = value <= target if at_most else value >= target
    return "MET" if met else "NOT MET"


def target_lines(results):
    by_name = {r["name"]: r["times"] for r in results}
    lines = []
    if "Occlusion" in by_name:
        times = by_name["Occlusion"]
        bound = times["ours"] / times["lower bound"]
        line = (
            f"Occlusion: ours / lower bound {bound:.2f}x, target within {OCCLUSION_BOUND:.2f}x of the "
            f"lower bound: {verdict(bound, OCCLUSION_BOUND, True)}"
        )
        if "xplique" in times:
            line += f"; xplique / ours {times['xplique'] / times['ours']:.2f}x"
        else:
            line += "; xplique is not installed: not measured"
        lines.append(line + ".")
    if "KernelShap" in by_name:
        times = by_name["KernelShap"]
        bound = times["ours"] / times["lower bound"]
        line = (
            f"KernelShap: ours / lower bound {bound:.2f}x, target within {KERNEL_BOUND}x: "
            f"{verdict(bound, KERNEL_BOUND, True)}"
        )
        if shap is None:
            line += "; shap is not installed: the targets against shap are not measured"
        else:
            usual = times["shap, model.predict"] / times["ours"]
            best = times["shap, compiled"] / times["ours"]
            ceiling = times["shap, compiled"] / times["lower bound"]
            line += (
                f"; shap (model.predict) / ours {usual:.1f}x, target >= {SHAP_PREDICT_TARGET:g}x: "
                f"{verdict(usual, SHAP_PREDICT_TARGET, False)}; shap (compiled predict) / ours {best:.2f}x, "
                f"target >= {SHAP_COMPILED_TARGET:g}x: {verdict(best, SHAP_COMPILED_TARGET, False)} "
                f"(shap (compiled) / lower bound {ceiling:.2f}x is the most any implementation could reach)"
            )
        lines.append(line + ".")
    if "PermutationImportance" in by_name:
        times = by_name["PermutationImportance"]
        usual = times["sklearn, model.predict"] / times["ours"]
        best = times["sklearn"] / times["ours"]
        size = next(r["batch_size"] for r in results if r["name"] == "PermutationImportance")
        lines.append(
            f"PermutationImportance: scikit-learn (model.predict) / ours {usual:.1f}x, target >= "
            f"{SKLEARN_TARGET:g}x: {verdict(usual, SKLEARN_TARGET, False)}; scikit-learn (compiled predict) / "
            f"ours {best:.2f}x, no target (scikit-learn (compiled) / lower bound "
            f"{times['sklearn'] / times['lower bound']:.2f}x is the most any implementation could reach in "
            f"batches of {size} rows); ours / lower bound {times['ours'] / times['lower bound']:.2f}x (no target)."
        )
    return lines


def note_lines(results):
    lines = []
    for r in results:
        cpu = r["cpu"]
        cpu_text = ", ".join(
            f"{name} / ours {cpu[name] / cpu['ours']:.2f}x" for name in cpu if name not in ("ours", "lower bound")
        )
        line = f"{r['name']}: process CPU time ours / lower bound {cpu['ours'] / cpu['lower bound']:.2f}x"
        line += f", {cpu_text}" if cpu_text else ""
        lines.append("; ".join([line] + r["notes"]) + ".")
    return lines


# -- the command line -------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 5)")
    parser.add_argument("--methods", default="occlusion,kernel_shap,permutation",
                        help="comma-separated: occlusion, kernel_shap, permutation")
    parser.add_argument("--images", type=int, default=None, help="Occlusion: images (default 2)")
    parser.add_argument("--image-size", type=int, default=None, help="Occlusion: image side (default 224)")
    parser.add_argument("--window", type=int, default=16, help="Occlusion: window side (default 16)")
    parser.add_argument("--stride", type=int, default=8, help="Occlusion: stride (default 8)")
    parser.add_argument("--rows", type=int, default=None, help="KernelShap: rows explained (default 10)")
    parser.add_argument("--background", type=int, default=None, help="KernelShap: background rows (default 50)")
    parser.add_argument("--samples", type=int, default=None, help="KernelShap: coalitions per row (default 2048)")
    parser.add_argument("--shap-predict-rows", type=int, default=None,
                        help="KernelShap: rows per round for shap with model.predict (default 2)")
    parser.add_argument("--permutation-rows", type=int, default=None,
                        help="PermutationImportance: rows (default 10000)")
    parser.add_argument("--n-repeats", type=int, default=5, help="PermutationImportance: repeats (default 5)")
    parser.add_argument("--epochs", type=int, default=None, help="MLP training epochs (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    add_run_options(parser, quick="smoke run: small sizes, 1 round")
    args = apply_defaults(
        parser.parse_args(argv),
        {
            "repeats": (1, 5),
            "images": (1, 2),
            "image_size": (96, 224),
            "rows": (3, 10),
            "background": (20, 50),
            "samples": (256, 2048),
            "shap_predict_rows": (1, 2),
            "permutation_rows": (1000, 10000),
            "epochs": (2, 10),
        },
    )
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    known = ("occlusion", "kernel_shap", "permutation")
    if not args.methods or any(m not in known for m in args.methods):
        parser.error(f"--methods: choose from {', '.join(known)}")
    if min(args.repeats, args.images, args.rows, args.shap_predict_rows, args.n_repeats) < 1:
        parser.error("--repeats, --images, --rows, --shap-predict-rows and --n-repeats must be >= 1")
    return args


def main(argv=None):
    warnings.filterwarnings("ignore")
    args = parse_args(argv)
    library_versions = versions(
        ("xplique", version_of(xplique)), ("shap", version_of(shap)), ("scikit-learn", sklearn.__version__)
    )
    command = announce(library_versions)
    load_before = os.getloadavg()[0]
    results = []
    if "occlusion" in args.methods:
        results.append(occlusion_case(args))
    if {"kernel_shap", "permutation"} & set(args.methods):
        model, x, y = breast_cancer_mlp(args.seed, args.epochs)
        if "kernel_shap" in args.methods:
            results.append(kernel_shap_case(args, model, x))
        if "permutation" in args.methods:
            results.append(permutation_case(args, model, x, y))
    for r in results:
        print(f"{r['name']}: {r['batch_size']} rows per model call; seconds per round: {r['rounds'].text()}")
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after the run"
    print(f"{load} ({os.cpu_count()} cores)")
    table = markdown_table(results)
    targets = "\n".join(f"- {line}" for line in target_lines(results))
    notes = "\n".join(f"- {line}" for line in note_lines(results))
    print()
    print(table)
    print()
    print(targets)
    print()
    print(notes)
    if not args.no_write:
        missing = "".join(
            f" {name} is not installed: its columns are skipped." for name, module in (("xplique", xplique),
                                                                                        ("shap", shap))
            if module is None
        )
        body = (
            f"{provenance(command, library_versions)}; {load} on {os.cpu_count()} shared cores.\n\n"
            f"Median wall-clock seconds of {args.repeats} interleaved round(s) per method, after one untimed "
            f"call of each contender. The lower bound is the same number of model rows through a bare "
            f"compiled call (`tf.function` of the model), in batches of the rows per call ours uses, inputs "
            f"built before timing. shap's KernelExplainer runs with nsamples={args.samples}, l1_reg=False "
            f"(both classes); with model.predict it is timed on {min(args.shap_predict_rows, args.rows)} of "
            f"the {args.rows} rows per round and scaled to all rows. scikit-learn's permutation_importance "
            f"runs on the model wrapped as an estimator whose predict and score call the same compiled "
            f"function on all rows at once.{missing}\n\n"
            f"{table}\n\n"
            f"Targets (wall-clock medians above):\n\n{targets}\n\n"
            f"{notes}\n"
        )
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
