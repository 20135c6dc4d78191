"""Timing benchmark of the gradient explainers against a bare TensorFlow loop and xplique.

What is measured
----------------
Two methods, each computed three ways on the same images, targets and model:

* GradientSaliency: the gradient of the selected output with respect to the
  input, one backward pass per image.
* IntegratedGradients (trapezoid rule, zero baseline, `steps` points): one
  backward pass per (image, step) pair, N * steps rows in all.

For each method:

* lower bound: a bare `tf.function` (traced once before timing) that takes a
  `tf.GradientTape` gradient of the selected output with respect to the input
  rows, called over exactly the rows keras_explain sends through the model and
  at the same batch size B. For Integrated Gradients the function builds the
  interpolated rows of B consecutive (image, step) pairs itself and sums the
  weighted gradients per image inside the graph, as keras_explain does.
* ours: `kx.GradientSaliency(model, batch_size=B)` and
  `kx.IntegratedGradients(model, steps=steps, batch_size=B)`, called once
  before timing (the first call traces).
* xplique: `xplique.attributions.Saliency` and `IntegratedGradients` with the
  same steps and one-hot targets (N, 1000), `reducer=None` so that they return
  full-size attributions like ours. xplique's Saliency sends `batch_size` rows
  per model call; its IntegratedGradients takes `batch_size // steps` images at
  a time, interpolates them into `(batch_size // steps) * steps` rows and sends
  those in chunks of `batch_size` rows. Its Saliency gets batch_size B; its
  IntegratedGradients gets the multiple of `steps` closest to B from below (at
  least `steps`), so that every model call is full. xplique's `tf.function`
  retraces for every new batch shape, so it is warmed up on the batch shapes
  the timed run uses (one full batch and the remainder, if any).

The model is `keras.applications.MobileNetV2(weights=None)` (224x224x3 input,
1000 outputs, seeded random weights): the numbers are about speed only, its
gradients mean nothing. The N images are astronaut, chelsea and coffee from
scikit-image in turn, resized to 224x224, with small seeded noise, scaled to
[-1, 1]. Image i explains class i % 1000 in every library.

The three runs of a method alternate (lower bound, ours, xplique, lower bound,
...) for `--repeats` rounds and the table reports the median time of each. All
outputs are fetched as numpy arrays inside the timed region. Every ratio comes
from one run on one machine; absolute seconds depend on the machine and its
load.

How to run
----------
From the repository root:

    .venv/bin/python benchmarks/gradients.py            # full run, 10-20 minutes on 2 cores
    .venv/bin/python benchmarks/gradients.py --quick --no-write   # smoke run

The script prints the versions, the command, the batch sizes and a Markdown
table, and (unless `--no-write`) replaces the section
"## Gradient explainers (benchmarks/gradients.py)" of benchmarks/RESULTS.md.
"""

import argparse

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
import tensorflow as tf  # noqa: E402
from skimage import data as skdata  # noqa: E402
from skimage.transform import resize  # noqa: E402

import keras_explain as kx  # noqa: E402
from keras_explain.methods.gradients.integrated_gradients import quadrature  # noqa: E402

xplique = optional_import("xplique")
if xplique is not None:
    from xplique.attributions import IntegratedGradients as XpliqueIntegratedGradients
    from xplique.attributions import Saliency as XpliqueSaliency

SECTION = "Gradient explainers (benchmarks/gradients.py)"
IMAGE_SIZE = 224
NUM_CLASSES = 1000
#: The contenders, in the order of every round; xplique only when it is installed.
LIBRARIES = ("lower bound", "ours") + (("xplique",) if xplique is not None else ())


# -- inputs -------------------------------------------------------------------


def make_images(count, seed=0):
    """`count` deterministic 224x224x3 float32 images in [-1, 1]."""
    sources = [skdata.astronaut(), skdata.chelsea(), skdata.coffee()]
    bases = [
        resize(image, (IMAGE_SIZE, IMAGE_SIZE), anti_aliasing=True).astype(np.float32)
        for image in sources
    ]
    rng = np.random.default_rng(seed)
    images = np.stack([bases[i % len(bases)] for i in range(count)])
    images = images + rng.normal(0.0, 0.02, size=images.shape).astype(np.float32)
    return (np.clip(images, 0.0, 1.0) * 2.0 - 1.0).astype(np.float32)


def make_model(seed=0):
    """MobileNetV2 with seeded random weights (nothing is downloaded)."""
    keras.utils.set_random_seed(seed)
    return keras.applications.MobileNetV2(weights=None)


# -- lower bound: a bare tf.function per batch --------------------------------


def _row_spec(x):
    return tf.TensorSpec((None,) + x.shape[1:], tf.float32)


def _selected_gradient(model, rows, targets):
    """Gradient of model(rows)[b, targets[b]] with respect to rows."""
    with tf.GradientTape() as tape:
        tape.watch(rows)
        outputs = model(rows, training=False)
        scores = tf.gather(outputs, targets, axis=1, batch_dims=1)
    return tape.gradient(scores, rows)


def lower_bound_saliency(model, x, batch_size):
    """A callable (x, targets) -> gradients (N, ...) over batches of `batch_size` rows."""

    @tf.function(input_signature=[_row_spec(x), tf.TensorSpec((None,), tf.int32)])
    def gradient(rows, targets):
        return _selected_gradient(model, rows, targets)

    def run(x, targets):
        out = np.empty_like(x)
        for start in range(0, len(x), batch_size):
            stop = start + batch_size
            out[start:stop] = gradient(x[start:stop], targets[start:stop]).numpy()
        return out

    return run


def lower_bound_integrated_gradients(model, x, steps, batch_size):
    """A callable (x, targets) -> Integrated Gradients (N, ...), zero baseline.

    The (image, step) pairs are ordered image-major, as in keras_explain, and
    cut into batches of `batch_size` consecutive pairs; each batch builds its
    interpolated rows, takes their gradients and sums the weighted gradients
    per image inside the graph.
    """
    alphas, weights = (tf.constant(v, tf.float32) for v in quadrature("trapezoid", steps))
    broadcast = [-1] + [1] * (len(x.shape) - 1)

    @tf.function(
        input_signature=[
            _row_spec(x),
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None,), tf.int32),
        ]
    )
    def batch(images, targets, pairs):
        owner = pairs // steps
        step = pairs % steps
        inputs = tf.gather(images, owner)
        alpha = tf.reshape(tf.gather(alphas, step), broadcast)
        gradient = _selected_gradient(model, alpha * inputs, tf.gather(targets, owner))
        weighted = tf.reshape(tf.gather(weights, step), broadcast) * gradient * inputs
        local = owner - owner[0]
        return tf.math.unsorted_segment_sum(weighted, local, local[-1] + 1)

    def run(x, targets):
        images = tf.convert_to_tensor(x)
        target_tensor = tf.convert_to_tensor(targets)
        out = np.zeros_like(x)
        total = len(x) * steps
        for start in range(0, total, batch_size):
            pairs = np.arange(start, min(start + batch_size, total), dtype=np.int32)
            sums = batch(images, target_tensor, pairs).numpy()
            first = start // steps
            out[first : first + len(sums)] += sums
        return out

    return run


# -- the three contenders per method ------------------------------------------


def xplique_ig_batch_size(batch_size, steps):
    """The multiple of `steps` closest to `batch_size` from below, at least `steps`."""
    return steps * max(1, batch_size // steps)


def warmup_sizes(count, per_call):
    """Input counts that trace every batch shape a run over `count` inputs uses."""
    sizes = [min(count, per_call)]
    if count > per_call and count % per_call:
        sizes.append(count % per_call)
    return sizes


def build_cases(model, x, targets, batch_size, steps):
    """[(method name, {library: callable() -> numpy}, {library: warm-up callable})]."""
    one_hot = np.eye(NUM_CLASSES, dtype=np.float32)[targets]
    two = slice(0, min(2, len(x)))

    ours_saliency = kx.GradientSaliency(model, batch_size=batch_size, verbose=0)
    ours_ig = kx.IntegratedGradients(model, steps=steps, batch_size=batch_size, verbose=0)
    xq_ig_batch = xplique_ig_batch_size(batch_size, steps)
    lb_saliency = lower_bound_saliency(model, x, batch_size)
    lb_ig = lower_bound_integrated_gradients(model, x, steps, batch_size)

    def xplique_warmup(explainer, per_call):
        def warm():
            for size in warmup_sizes(len(x), per_call):
                explainer.explain(x[:size], one_hot[:size])

        return warm

    def contenders(lower, ours):
        """The timed calls and the warm-ups of the lower bound and ours for one method."""
        runs = {
            "lower bound": lambda: lower(x, targets),
            "ours": lambda: ours.explain(x, targets=targets).attributions,
        }
        warmups = {
            "lower bound": lambda: lower(x[two], targets[two]),
            "ours": lambda: ours.explain(x[two], targets=targets[two]),
        }
        return runs, warmups

    saliency, saliency_warmup = contenders(lb_saliency, ours_saliency)
    ig, ig_warmup = contenders(lb_ig, ours_ig)
    if xplique is not None:
        xq_saliency = XpliqueSaliency(model, batch_size=batch_size, reducer=None)
        xq_ig = XpliqueIntegratedGradients(model, batch_size=xq_ig_batch, steps=steps, reducer=None)
        for runs, warmups, explainer, per_call in (
            (saliency, saliency_warmup, xq_saliency, batch_size),
            (ig, ig_warmup, xq_ig, xq_ig_batch // steps),
        ):
            runs["xplique"] = lambda explainer=explainer: explainer.explain(x, one_hot).numpy()
            warmups["xplique"] = xplique_warmup(explainer, per_call)
    batches = {
        "GradientSaliency": (batch_size, batch_size),
        f"IntegratedGradients (steps={steps})": (batch_size, xq_ig_batch),
    }
    cases = [
        ("GradientSaliency", saliency, saliency_warmup),
        (f"IntegratedGradients (steps={steps})", ig, ig_warmup),
    ]
    return cases, batches


def agreement(outputs, absolute):
    """Largest difference of ours from the lower bound and xplique (None without it), relative to the scale."""
    ours = outputs["ours"]
    scale = float(np.abs(outputs["lower bound"]).max()) or 1.0
    to_lower = float(np.abs(ours - outputs["lower bound"]).max()) / scale
    if "xplique" not in outputs:
        return to_lower, None
    to_xplique = float(np.abs((np.abs(ours) if absolute else ours) - outputs["xplique"]).max())
    return to_lower, to_xplique / scale


# -- reporting ----------------------------------------------------------------


def markdown_table(rows):
    """rows: [(method, {library: median seconds})] -> Markdown table text (xplique's columns if present)."""
    others = [library for library in LIBRARIES if library != "ours"]
    lines = [
        "| method | "
        + " | ".join(f"{library} (s)" for library in LIBRARIES)
        + " | "
        + " | ".join(f"ours / {library}" for library in others)
        + " |",
        "|---|" + "---:|" * (len(LIBRARIES) + len(others)),
    ]
    for method, median in rows:
        seconds = " | ".join(f"{median[library]:.2f}" for library in LIBRARIES)
        ratios = " | ".join(ratio(median["ours"], median[library]) for library in others)
        lines.append(f"| {method} | {seconds} | {ratios} |")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--batch-size", type=int, default=32, help="rows per model call, ours and lower bound"
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 3)")
    parser.add_argument("--images", type=int, default=None, help="number of images (default 32)")
    parser.add_argument("--steps", type=int, default=None, help="IG steps (default 50)")
    add_run_options(parser, quick="smoke run: 8 images, 1 round, 10 IG steps")
    args = apply_defaults(
        parser.parse_args(argv), {"images": (8, 32), "repeats": (1, 3), "steps": (10, 50)}
    )
    if min(args.batch_size, args.repeats, args.images) < 1 or args.steps < 2:
        parser.error("--batch-size, --repeats and --images must be >= 1, --steps >= 2")
    return args


def main(argv=None):
    args = parse_args(argv)
    library_versions = versions(("xplique", version_of(xplique)))
    command = announce(library_versions)

    x = make_images(args.images)
    targets = (np.arange(args.images) % NUM_CLASSES).astype(np.int32)
    model = make_model()
    cases, batches = build_cases(model, x, targets, args.batch_size, args.steps)
    print(
        f"{args.images} images 224x224x3, MobileNetV2(weights=None), "
        f"{args.repeats} interleaved round(s), medians reported"
    )
    for method, (ours_batch, xplique_batch) in batches.items():
        print(
            f"batch sizes, {method}: lower bound and ours {ours_batch} rows per call"
            + (f"; xplique batch_size={xplique_batch}" if xplique is not None else "")
        )

    rows = []
    for method, runs, warmups in cases:
        rounds = interleaved_rounds(runs, args.repeats, warmups=warmups)
        rows.append((method, rounds.medians()))
        to_lower, to_xplique = agreement(rounds.outputs, absolute=method == "GradientSaliency")
        print(f"{method}: seconds per round: {rounds.text()}")
        print(
            f"{method}: max |ours - lower bound| / max |lower bound| = {to_lower:.1e}"
            + (f", vs xplique {to_xplique:.1e}" if to_xplique is not None else "")
        )

    table = markdown_table(rows)
    print()
    print(table)

    if not args.no_write:
        ig_method = f"IntegratedGradients (steps={args.steps})"
        peer = (
            f", xplique batch_size is {batches['GradientSaliency'][1]} for Saliency "
            f"and {batches[ig_method][1]} for IntegratedGradients"
            if xplique is not None
            else ", xplique is not installed"
        )
        body = (
            f"{provenance(command, library_versions)}.\n\n"
            f"{args.images} images, MobileNetV2(weights=None), median of {args.repeats} "
            f"interleaved round(s); ours and the lower bound send {args.batch_size} rows per "
            f"model call{peer}.\n\n"
            f"{table}\n"
        )
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
