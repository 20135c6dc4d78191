"""Timing benchmark of the Deletion, Insertion and MuFidelity metrics against their lower bound and xplique.

What is measured
----------------
Each metric scores the gradient saliency maps of two models:

* the digits CNN of benchmarks/common.py (8x8x1 -> 10 logits), trained
  `--epochs` epochs on scikit-learn's digits, on `--digits` (32) test images;
* `keras.applications.MobileNetV2(weights=None)` (seeded random weights,
  nothing is downloaded) on `--images` (4) scikit-image photographs resized
  to `--image-size` (224) and scaled to [-1, 1].

Metrics: `kx.metrics.Deletion(steps=50)` and `kx.metrics.Insertion(steps=50)`
(baseline 0), `kx.metrics.MuFidelity(grid_size=9, subset_percent=0.2,
nb_samples=200)`, against xplique's `Deletion`, `Insertion` and `MuFidelity`
with the same settings, the same model, inputs, attributions and targets
(one-hot), and the batch size ours uses, constructed and evaluated inside
the timed call (xplique computes its reference predictions in the
constructor; ours in the call).

The lower bound is the same number of model rows (the perturbed inputs,
plus one prediction per image for MuFidelity, which reads f(x); Deletion
and Insertion given the targets need none, their curves start or end at x)
through a bare compiled call (`tf.function` of `model(rows,
training=False)`, traced before timing), in batches of the size ours uses,
outputs fetched as numpy. Its inputs are built once before timing (one full
batch and the last, shorter one, each fed as often as ours sends such
batches: a model's cost does not depend on the values).

Targets: ours within 1.15x of the lower bound, xplique >= 3x slower than
ours. The agreement of the mean scores with xplique's is printed (equal for
Deletion and Insertion; MuFidelity draws other random subsets).

The contenders of a case alternate for `--repeats` rounds (3) after one
untimed round each (which traces). A round makes `--calls` calls (20 for
workloads under 2**22 input values, such as the digits CNN's, whose call
lasts tens of milliseconds; else 1); the table gives the wall-clock median
per call.

How to run
----------
From the repository root:

    .venv/bin/python benchmarks/metrics.py             # full run
    .venv/bin/python benchmarks/metrics.py --quick --no-write   # smoke run

The script prints the versions, the command, the seconds of every round and
a Markdown table, and (unless `--no-write`) replaces the section
"## Metrics (benchmarks/metrics.py)" of benchmarks/RESULTS.md.
"""

import argparse
import os
import warnings

# common sets the environment defaults, so it comes before Keras and TensorFlow.
from common import (
    add_run_options,
    announce,
    apply_defaults,
    digits_cnn,
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
from sklearn.datasets import load_digits  # noqa: E402

import keras_explain as kx  # noqa: E402

xplique = optional_import("xplique")
if xplique is not None:
    from xplique import metrics as xplique_metrics

SECTION = "Metrics (benchmarks/metrics.py)"
#: The targets: ours / lower bound at most, xplique / ours at least.
BOUND, PEER_TARGET = 1.15, 3.0
METRICS = ("deletion", "insertion", "mufidelity")


# -- models and inputs ------------------------------------------------------------------


def digits_case(args):
    """(name, model, images) of the trained digits CNN on test images."""
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    order = np.random.default_rng(args.seed).permutation(len(x))
    train, test = order[:-args.digits], order[-args.digits:]
    model = digits_cnn(args.seed, name="digits_cnn")
    model.fit(x[train], digits.target[train], epochs=args.epochs, batch_size=64, verbose=0)
    return "digits CNN", model, x[test]


def mobilenet_case(args):
    """(name, model, images) of MobileNetV2(weights=None) on scikit-image photographs."""
    from skimage import data as skdata
    from skimage.transform import resize

    size = args.image_size
    keras.utils.set_random_seed(args.seed)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(size, size, 3))
    sources = [skdata.astronaut(), skdata.chelsea(), skdata.coffee()]
    images = np.stack([resize(sources[i % 3], (size, size), anti_aliasing=True) for i in range(args.images)])
    return "MobileNetV2(weights=None)", model, (images * 2.0 - 1.0).astype(np.float32)


# -- one metric on one model ----------------------------------------------------------


def ours_and_peer(name, args, model, x, one_hot, batch_size):
    """(our metric, a callable building and evaluating xplique's, pairs per image)."""
    if name == "mufidelity":
        ours = kx.metrics.MuFidelity(grid_size=9, subset_percent=0.2, nb_samples=args.nb_samples, random_state=0)
        peer = lambda a: xplique_metrics.MuFidelity(  # noqa: E731
            model, x, one_hot, batch_size=batch_size, grid_size=9, subset_percent=0.2, nb_samples=args.nb_samples
        ).evaluate(a)
        return ours, peer, args.nb_samples
    cls = kx.metrics.Deletion if name == "deletion" else kx.metrics.Insertion
    ours = cls(steps=args.steps, baseline=0.0)

    def peer(a):
        reference = xplique_metrics.Deletion if name == "deletion" else xplique_metrics.Insertion
        return reference(model, x, one_hot, batch_size=batch_size, steps=args.steps, baseline_mode=0.0).evaluate(a)

    return ours, peer, args.steps + 1


def lower_bound(model, x, rows, batch_size):
    """The bare compiled call over `rows` rows in batches of `batch_size` (inputs built now)."""
    function = tf.function(
        lambda batch: model(batch, training=False),
        input_signature=[tf.TensorSpec((None,) + x.shape[1:], tf.float32)],
    )
    full = tf.constant(np.resize(x, (min(batch_size, rows),) + x.shape[1:]))
    tail = tf.constant(np.resize(x, (rows % batch_size or batch_size,) + x.shape[1:]))
    feeds = [full] * (rows // batch_size) + ([tail] if rows % batch_size else [])
    function(full)
    return lambda: [function(feed).numpy() for feed in feeds]


def repeated(function, calls):
    """`function` called `calls` times in one timed round (short workloads), its last value."""

    def run():
        for _ in range(calls - 1):
            function()
        return function()

    return run


def metric_case(name, model_name, model, x, args):
    explanation = kx.GradientSaliency(model, verbose=0).explain(x)
    a, targets = explanation.attributions, explanation.targets
    one_hot = np.eye(explanation.predictions.shape[1], dtype=np.float32)[targets]
    probe = kx.metrics.Deletion()
    batch_size = probe.engine(model).batch_size_for(tf.constant(x))
    ours, peer, pairs = ours_and_peer(name, args, model, x, one_hot, batch_size)
    # MuFidelity reads f(x) besides its perturbations; Deletion and Insertion, given targets, do not.
    rows = len(x) * pairs + (len(x) if name == "mufidelity" else 0)
    calls = args.calls if args.calls is not None else (20 if len(x) * pairs * x[0].size < 2**22 else 1)
    runs = {
        "lower bound": repeated(lower_bound(model, x, rows, batch_size), calls),
        "ours": repeated(lambda: ours(model, x, a, targets=targets), calls),
    }
    if xplique is not None:
        runs["xplique"] = repeated(lambda: peer(a), calls)
    rounds = interleaved_rounds(runs, args.repeats, warmups=dict(runs))
    notes = [f"ours mean {rounds.outputs['ours'].mean:.4f}"]
    if xplique is not None:
        notes.append(f"xplique {float(rounds.outputs['xplique']):.4f}")
    return {
        "name": f"{name}, {model_name}",
        "metric": name,
        "rounds": rounds,
        "calls": calls,
        "times": {key: value / calls for key, value in rounds.medians().items()},
        "cpu": rounds.medians("cpu"),
        "batch_size": batch_size,
        "model_rows": rows,
        "workload": f"{len(x)} images {'x'.join(map(str, x.shape[1:]))} x {pairs} perturbations",
        "notes": notes,
    }


# -- the report -----------------------------------------------------------------------


def markdown_table(results):
    headings = ["metric, model", "workload", "model rows", "rows per call", "calls per round", "lower bound (ms)",
                "ours (ms)", "xplique (ms)", "ours / lower bound", "xplique / ours"]
    lines = ["| " + " | ".join(headings) + " |", "|---|---|" + "---:|" * (len(headings) - 2)]
    for r in results:
        times = r["times"]
        cells = [r["name"], r["workload"], f"{r['model_rows']:,}", str(r["batch_size"]), str(r["calls"])]
        cells += [f"{times['lower bound'] * 1e3:.1f}", f"{times['ours'] * 1e3:.1f}"]
        cells.append(f"{times['xplique'] * 1e3:.1f}" if "xplique" in times else "-")
        cells += [ratio(times["ours"], times["lower bound"]), ratio(times.get("xplique"), times["ours"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def target_lines(results):
    lines = []
    for r in results:
        times = r["times"]
        bound = times["ours"] / times["lower bound"]
        line = f"{r['name']}: ours / lower bound {bound:.2f}x, target within {BOUND:.2f}x: "
        line += "MET" if bound <= BOUND else "NOT MET"
        if "xplique" in times:
            peer = times["xplique"] / times["ours"]
            line += f"; xplique / ours {peer:.2f}x, target >= {PEER_TARGET:g}x: "
            line += "MET" if peer >= PEER_TARGET else "NOT MET"
        else:
            line += "; xplique is not installed: not measured"
        lines.append(line + ".")
    return lines


def note_lines(results):
    lines = []
    for r in results:
        cpu = r["cpu"]
        line = f"{r['name']}: process CPU time ours / lower bound {cpu['ours'] / cpu['lower bound']:.2f}x"
        if "xplique" in cpu:
            line += f", xplique / ours {cpu['xplique'] / cpu['ours']:.2f}x"
        lines.append("; ".join([line] + r["notes"]) + ".")
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 3)")
    parser.add_argument("--metrics", default=",".join(METRICS), help="comma-separated: " + ", ".join(METRICS))
    parser.add_argument("--models", default="digits,mobilenet", help="comma-separated: digits, mobilenet")
    parser.add_argument("--digits", type=int, default=None, help="digits CNN: test images (default 32)")
    parser.add_argument("--epochs", type=int, default=None, help="digits CNN: training epochs (default 5)")
    parser.add_argument("--images", type=int, default=None, help="MobileNetV2: images (default 4)")
    parser.add_argument("--image-size", type=int, default=None, help="MobileNetV2: image side (default 224)")
    parser.add_argument("--steps", type=int, default=None, help="Deletion, Insertion: steps (default 50)")
    parser.add_argument("--nb-samples", type=int, default=None, help="MuFidelity: subsets (default 200)")
    parser.add_argument(
        "--calls", type=int, default=None,
        help="calls per timed round (default 20 for workloads under 2**22 input values, else 1)",
    )
    parser.add_argument("--seed", type=int, default=0)
    add_run_options(parser, quick="smoke run: small sizes, 1 round")
    args = apply_defaults(
        parser.parse_args(argv),
        {
            "repeats": (1, 3),
            "digits": (8, 32),
            "epochs": (1, 5),
            "images": (1, 4),
            "image_size": (96, 224),
            "steps": (10, 50),
            "nb_samples": (20, 200),
        },
    )
    args.metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not args.metrics or any(m not in METRICS for m in args.metrics):
        parser.error(f"--metrics: choose from {', '.join(METRICS)}")
    if not args.models or any(m not in ("digits", "mobilenet") for m in args.models):
        parser.error("--models: choose from digits, mobilenet")
    if min(args.repeats, args.digits, args.images, args.steps, args.epochs, args.calls or 1) < 1 or args.nb_samples < 2:
        parser.error("--repeats, --digits, --images, --steps, --epochs, --calls must be >= 1 and --nb-samples >= 2")
    return args


def main(argv=None):
    warnings.filterwarnings("ignore")
    tf.get_logger().setLevel("ERROR")  # each case's lower bound is its own tf.function
    args = parse_args(argv)
    library_versions = versions(("xplique", version_of(xplique)))
    command = announce(library_versions)
    load_before = os.getloadavg()[0]
    results = []
    builders = {"digits": digits_case, "mobilenet": mobilenet_case}
    for key in args.models:
        model_name, model, x = builders[key](args)
        for name in args.metrics:
            results.append(metric_case(name, model_name, model, x, args))
            print(f"{results[-1]['name']}: seconds per round: {results[-1]['rounds'].text()}", flush=True)
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after the run"
    print(f"{load} ({os.cpu_count()} cores)")
    table = markdown_table(results)
    targets = "\n".join(f"- {line}" for line in target_lines(results))
    notes = "\n".join(f"- {line}" for line in note_lines(results))
    print(f"\n{table}\n\n{targets}\n\n{notes}")
    if not args.no_write:
        missing = " xplique is not installed: its columns are skipped." if xplique is None else ""
        body = (
            f"{provenance(command, library_versions)}; {load} on {os.cpu_count()} shared cores.\n\n"
            f"Median wall-clock milliseconds per call over {args.repeats} interleaved round(s) of "
            f"'calls per round' calls each, after one untimed round of each contender. Deletion and "
            f"Insertion with steps={args.steps} (baseline 0), MuFidelity with "
            f"grid_size=9, subset_percent=0.2, nb_samples={args.nb_samples}, on gradient saliency maps. The "
            f"lower bound is the same number of model rows (perturbed inputs, and one prediction per image "
            f"for MuFidelity) through a bare compiled call (`tf.function` of the model) in batches of the "
            f"rows per call ours uses, inputs built before timing. xplique gets the same batch size, "
            f"model, inputs, attributions and targets.{missing}\n\n"
            f"{table}\n\nTargets (wall-clock medians above):\n\n{targets}\n\n{notes}\n"
        )
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
