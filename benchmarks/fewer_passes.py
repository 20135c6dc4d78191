"""Model passes, precision and seconds of the adaptive explainers against their fixed-size runs.

What is measured
----------------
Integrated Gradients (zero baseline, the predicted class of each input) at a
relative completeness gap of `--tolerance` (1e-3), on two models:

* the digits CNN of benchmarks/common.py, trained here for `--epochs` on
  scikit-learn's 8x8 digits, explaining `--digits` test digits (32);
* `keras.applications.MobileNetV2(weights=None)` (seeded random weights,
  nothing downloaded) on `--images` scikit-image pictures (2: astronaut,
  chelsea) resized to `--image-size` (224) and scaled to [-1, 1].

The contenders, timed in interleaved rounds after one untimed call each:

* ours, fixed: `kx.IntegratedGradients(model, steps=50)` (trapezoid rule);
* ours, auto (Gauss-Legendre): `steps="auto", tolerance=1e-3,
  rule="gauss_legendre"`;
* ours, auto (trapezoid): `steps="auto", tolerance=1e-3`;
* xplique's `IntegratedGradients(steps=50, reducer=None)` with one-hot
  targets, in chunks of the largest multiple of 50 rows that fits ours'
  rows per call (when xplique is installed).

Per contender: gradient passes per example (the fixed runs: their steps;
auto: the mean and largest `e.gradient_evaluations`), the largest and the
median relative gap |sum(attributions) - (f(x) - f(baseline))| /
max(|f(x) - f(baseline)|, 0.01), where f(x) = e.predictions[i, e.targets[i]]
and f(baseline) = e.baseline_scores[i] (xplique's sums are compared with the
f of our fixed run: the same model and outputs), how many examples are
within the tolerance, and the median seconds. The target: auto's mean passes
at most 0.5x those of the fixed 50-step run, at an equal or smaller largest
gap (gaps less than 1e-6 apart, float32 rounding, count as equal); each auto
rule gets a MET / NOT MET line. Where the fixed run misses the tolerance,
auto at the tolerance buys more precision with more passes; so an untimed
Gauss-Legendre auto run at the fixed run's own largest gap (at least 1e-6)
is reported too: the passes the same answer needs. The untrained MobileNetV2's
softmax outputs hardly depend on the input, so its f(x) - f(baseline) is
printed too: below 0.01 its relative gap is the absolute gap over 0.01.

SmoothGrad of the digits CNN's gradient saliency on the same digits:
`kx.SmoothGrad(kx.GradientSaliency(model), samples=32, random_state=0)`
against `samples="auto", tolerance=0.05`. Per contender: the noise draws per
example (`e.samples_used` for auto), the relative standard error of the mean
(the L2 norm of its elementwise standard error over the mean's norm; auto
reports it as `e.relative_error`) and the median seconds. The fixed run's
error comes from an untimed auto run with max_samples=32 and a tolerance of
1e-9: it draws the same 32 copies per example (checked: its attributions
are compared with the fixed run's) and reports their error.

Completeness warnings are silenced: every gap is in the table. Every ratio
comes from one run on one machine; absolute seconds depend on its load.

How to run
----------
From the repository root:

    .venv/bin/python benchmarks/fewer_passes.py            # full run, a few minutes on 2 cores
    .venv/bin/python benchmarks/fewer_passes.py --quick --no-write   # smoke run

The script prints the versions, the command, the seconds of every round, two
Markdown tables, the target lines and notes, and (unless `--no-write`)
replaces the section "## Fewer passes" of benchmarks/RESULTS.md.
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
from skimage import data as skdata  # noqa: E402
from skimage.transform import resize  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import keras_explain as kx  # noqa: E402
from keras_explain.methods.gradients.integrated_gradients import CompletenessWarning  # noqa: E402

xplique = optional_import("xplique")
if xplique is not None:
    from xplique.attributions import IntegratedGradients as XpliqueIntegratedGradients

SECTION = "Fewer passes (benchmarks/fewer_passes.py)"
#: The relative gap divides by max(|f(x) - f(baseline)|, FLOOR).
FLOOR = 0.01
#: Auto's passes over the fixed run's, at most.
PASS_TARGET = 0.5
#: Relative gaps closer than this count as equal: float32 rounding of the sums, not quadrature error.
SLACK = 1e-6
FIXED = "ours, fixed"
AUTO_RULES = {"ours, auto (Gauss-Legendre)": "gauss_legendre", "ours, auto (trapezoid)": "trapezoid"}


# -- models and inputs ------------------------------------------------------------


def trained_digits(args):
    """(digits CNN trained for args.epochs, the first args.digits test digits, test accuracy)."""
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    order = np.random.default_rng(args.seed).permutation(len(x))
    cut = int(0.8 * len(x))
    train, test = order[:cut], order[cut:]
    model = digits_cnn(args.seed)
    model.fit(x[train], digits.target[train], epochs=args.epochs, batch_size=64, verbose=0)
    predicted = np.argmax(model.predict(x[test], verbose=0), axis=1)
    return model, x[test[: args.digits]], float(np.mean(predicted == digits.target[test]))


def pictures(count, side, seed):
    """`count` scikit-image pictures (astronaut, chelsea in turn) as side x side x 3 in [-1, 1]."""
    sources = (skdata.astronaut(), skdata.chelsea())
    rng = np.random.default_rng(seed)
    out = np.empty((count, side, side, 3), np.float32)
    for i in range(count):
        image = resize(sources[i % len(sources)], (side, side), anti_aliasing=True)
        noisy = image + rng.normal(0.0, 0.02, size=image.shape)
        out[i] = np.clip(noisy, 0.0, 1.0) * 2.0 - 1.0
    return out


def mobilenet(side, seed):
    keras.utils.set_random_seed(seed)
    return keras.applications.MobileNetV2(weights=None, input_shape=(side, side, 3))


# -- Integrated Gradients ---------------------------------------------------------


def ig_runs(model, x, targets, steps, tolerance):
    """({contender: callable}, rows per call of ours, xplique's batch_size or None)."""
    fixed = kx.IntegratedGradients(model, steps=steps, verbose=0)
    runs = {FIXED: lambda: fixed.explain(x, targets=targets)}
    for name, rule in AUTO_RULES.items():
        auto = kx.IntegratedGradients(model, steps="auto", tolerance=tolerance, rule=rule, verbose=0)
        runs[name] = lambda auto=auto: auto.explain(x, targets=targets)
    rows = fixed.batch_size_for(x)
    chunk = None
    if xplique is not None:
        chunk = steps * max(1, rows // steps)
        theirs = XpliqueIntegratedGradients(model, batch_size=chunk, steps=steps, reducer=None)
        one_hot = np.eye(model.output_shape[-1], dtype=np.float32)[targets]
        runs["xplique"] = lambda: theirs.explain(x, one_hot).numpy()
    return runs, rows, chunk


def ig_case(name, model, x, args):
    """Time the Integrated Gradients contenders on (model, x); their passes, gaps and seconds."""
    targets = np.argmax(model.predict(x, verbose=0), axis=1).astype(np.int32)
    runs, rows, chunk = ig_runs(model, x, targets, args.steps, args.tolerance)
    rounds = interleaved_rounds(runs, args.repeats, warmups=dict(runs))
    seconds = rounds.medians()
    fixed = rounds.outputs[FIXED]
    index = np.arange(len(x))
    difference = fixed.predictions[index, fixed.targets].astype(np.float64) - fixed.baseline_scores
    stats = {}
    for contender, output in rounds.outputs.items():
        passes, steps = np.full(len(x), args.steps), None
        if contender == "xplique":
            # xplique reports no gap: its sums against our fixed run's f(x) - f(baseline).
            gap, own = output.reshape(len(x), -1).astype(np.float64).sum(axis=1) - difference, difference
        else:
            gap = output.completeness_gap.astype(np.float64)
            own = output.predictions[index, output.targets].astype(np.float64) - output.baseline_scores
            if contender in AUTO_RULES:
                passes, steps = output.gradient_evaluations, output.steps
        relative = relative_gaps(gap, own)
        stats[contender] = {
            "passes": np.asarray(passes, np.float64),
            "steps": steps,
            "largest": float(relative.max()),
            "median": float(np.median(relative)),
            "within": int((relative <= args.tolerance).sum()),
            "seconds": seconds[contender],
        }
    # Untimed: the Gauss-Legendre passes that reach the fixed run's own largest gap.
    matched = min(max(stats[FIXED]["largest"], SLACK), 0.5)
    same = kx.IntegratedGradients(model, steps="auto", tolerance=matched, rule="gauss_legendre", verbose=0)
    same = same.explain(x, targets=targets)
    own = same.predictions[index, same.targets].astype(np.float64) - same.baseline_scores
    reached = float(relative_gaps(same.completeness_gap.astype(np.float64), own).max())
    print(f"{name}: {rows} rows per call (ours)" + (f", xplique batch_size={chunk}" if chunk else ""))
    print(f"{name}: seconds per round: {rounds.text()}")
    return {"name": name, "count": len(x), "stats": stats, "difference": difference,
            "scores": fixed.predictions[index, fixed.targets],
            "matched": (matched, np.mean(same.gradient_evaluations), reached)}


def relative_gaps(gap, difference):
    """|gap| / max(|f(x) - f(baseline)|, FLOOR) per example."""
    return np.abs(gap) / np.maximum(np.abs(difference), FLOOR)


def ig_table(cases, args):
    lines = [
        "| model | contender | passes per example (mean) | passes (max) | passes / fixed | largest relative gap "
        f"| median relative gap | examples within {args.tolerance:g} | seconds | seconds / fixed |",
        "|---|---|" + "---:|" * 8,
    ]
    for case in cases:
        base = case["stats"][FIXED]
        for contender, s in case["stats"].items():
            cells = [case["name"], contender, f"{s['passes'].mean():.1f}", f"{s['passes'].max():.0f}",
                     ratio(s["passes"].mean(), base["passes"].mean()), f"{s['largest']:.1e}", f"{s['median']:.1e}",
                     f"{s['within']}/{case['count']}", f"{s['seconds']:.2f}", ratio(s["seconds"], base["seconds"])]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ig_targets(cases, args):
    lines = []
    for case in cases:
        base = case["stats"][FIXED]
        for contender in AUTO_RULES:
            s = case["stats"][contender]
            share = s["passes"].mean() / base["passes"].mean()
            met = share <= PASS_TARGET and s["largest"] <= base["largest"] + SLACK
            lines.append(
                f"{case['name']}, {contender}: {share:.2f}x the passes of steps={args.steps} (target <= "
                f"{PASS_TARGET:g}x), largest relative gap {s['largest']:.1e} vs the fixed run's "
                f"{base['largest']:.1e} (target: equal or smaller; gaps within {SLACK:g} count as equal): "
                f"{'MET' if met else 'NOT MET'}."
            )
    return lines


def ig_notes(cases):
    lines = []
    for case in cases:
        d, scores = case["difference"], case["scores"]
        line = (
            f"{case['name']}: f(x) (the explained output) from {scores.min():.4g} to {scores.max():.4g}, "
            f"f(x) - f(baseline) from {d.min():.2e} to {d.max():.2e}"
        )
        tolerance, passes, reached = case["matched"]
        fixed = case["stats"][FIXED]
        line += (
            f"; Gauss-Legendre auto at the fixed run's own largest gap (tolerance {tolerance:.1e}, untimed): "
            f"{passes:.1f} passes per example ({ratio(passes, fixed['passes'].mean())} of the fixed run's), "
            f"largest relative gap {reached:.1e}"
        )
        if fixed["within"] < case["count"]:
            line += (
                f"; the fixed run meets the tolerance on {fixed['within']}/{case['count']} examples, so auto at "
                f"the tolerance does more work than it"
            )
        if np.abs(d).max() < FLOOR:
            line += (
                f"; every |f(x) - f(baseline)| is below the floor {FLOOR:g}: the untrained network's softmax "
                f"barely depends on its input, so this relative gap is the absolute gap / {FLOOR:g}, and a "
                f"tolerance met here says little about a trained network"
            )
        steps = {c: s["steps"] for c, s in case["stats"].items() if s["steps"] is not None}
        line += "; points of the rule per example: " + ", ".join(
            f"{c} {np.array2string(np.asarray(v), separator=' ')}" for c, v in steps.items()
        )
        lines.append(line + ".")
    return lines


# -- SmoothGrad -------------------------------------------------------------------


def smoothgrad_case(model, x, args):
    """Time SmoothGrad with 32 draws against samples="auto"; draws, relative errors, seconds."""
    fixed = kx.SmoothGrad(kx.GradientSaliency(model, verbose=0), samples=args.samples, random_state=0, verbose=0)
    auto = kx.SmoothGrad(kx.GradientSaliency(model, verbose=0), samples="auto", tolerance=args.sg_tolerance,
                         random_state=0, verbose=0)
    runs = {"ours, fixed": lambda: fixed.explain(x), "ours, auto": lambda: auto.explain(x)}
    rounds = interleaved_rounds(runs, args.repeats, warmups=dict(runs))
    print(f"SmoothGrad: seconds per round: {rounds.text()}")
    # The same draws as the fixed run: stream width max_samples = samples, no early stop.
    same = kx.SmoothGrad(kx.GradientSaliency(model, verbose=0), samples="auto", tolerance=1e-9,
                         max_samples=args.samples, random_state=0, verbose=0).explain(x)
    reference = rounds.outputs["ours, fixed"].attributions
    scale = float(np.abs(reference).max()) or 1.0
    drift = float(np.abs(same.attributions - reference).max()) / scale
    explained = rounds.outputs["ours, auto"]
    seconds = rounds.medians()
    return {
        "count": len(x),
        "stats": {
            "ours, fixed": (np.full(len(x), args.samples), same.relative_error, seconds["ours, fixed"]),
            "ours, auto": (explained.samples_used, explained.relative_error, seconds["ours, auto"]),
        },
        "same_draws": (int(np.all(same.samples_used == args.samples)), drift),
    }


def smoothgrad_table(case, args):
    lines = [
        "| contender | draws per example (mean) | draws (max) | relative standard error (median) | largest "
        f"| examples within {args.sg_tolerance:g} | seconds | seconds / fixed |",
        "|---|" + "---:|" * 7,
    ]
    base = case["stats"]["ours, fixed"][2]
    for contender, (draws, error, seconds) in case["stats"].items():
        name = f"{contender} ({'samples=' + str(args.samples) if 'fixed' in contender else 'samples=auto'})"
        cells = [name, f"{np.mean(draws):.1f}", f"{np.max(draws):.0f}", f"{np.median(error):.3f}",
                 f"{np.max(error):.3f}", f"{int((error <= args.sg_tolerance).sum())}/{case['count']}",
                 f"{seconds:.2f}", ratio(seconds, base)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- the command line -------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 3)")
    parser.add_argument("--digits", type=int, default=None, help="test digits explained (default 32)")
    parser.add_argument("--images", type=int, default=None, help="MobileNetV2 images (default 2)")
    parser.add_argument("--image-size", type=int, default=None, help="MobileNetV2 image side (default 224)")
    parser.add_argument("--epochs", type=int, default=None, help="digits CNN training epochs (default 10)")
    parser.add_argument("--steps", type=int, default=50, help="steps of the fixed IG runs (default 50)")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="IG relative gap (default 1e-3)")
    parser.add_argument("--samples", type=int, default=32, help="SmoothGrad fixed draws (default 32)")
    parser.add_argument("--sg-tolerance", type=float, default=0.05, help="SmoothGrad auto tolerance (default 0.05)")
    parser.add_argument("--seed", type=int, default=0)
    add_run_options(parser, quick="smoke run: 4 digits, 1 MobileNetV2 image at 96x96, 1 round")
    args = apply_defaults(
        parser.parse_args(argv),
        {"repeats": (1, 3), "digits": (4, 32), "images": (1, 2), "image_size": (96, 224), "epochs": (2, 10)},
    )
    if min(args.repeats, args.digits, args.images, args.epochs) < 1 or args.steps < 2 or args.samples < 16:
        parser.error("--repeats, --digits, --images and --epochs must be >= 1, --steps >= 2, --samples >= 16")
    return args


def main(argv=None):
    args = parse_args(argv)
    warnings.filterwarnings("ignore", category=CompletenessWarning)
    library_versions = versions(("xplique", version_of(xplique)))
    command = announce(library_versions)
    load_before = os.getloadavg()[0]
    model, digits, accuracy = trained_digits(args)
    print(f"digits CNN: {args.epochs} epoch(s), test accuracy {accuracy:.1%}; {len(digits)} test digits explained")
    side = args.image_size
    cases = [
        ig_case("digits CNN", model, digits, args),
        ig_case(f"MobileNetV2 {side}x{side}", mobilenet(side, args.seed), pictures(args.images, side, args.seed), args),
    ]
    smooth = smoothgrad_case(model, digits, args)
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after the run"
    print(f"{load} ({os.cpu_count()} cores)")
    tables = f"{ig_table(cases, args)}\n\n{smoothgrad_table(smooth, args)}"
    targets = "\n".join(f"- {line}" for line in ig_targets(cases, args))
    full, drift = smooth["same_draws"]
    notes = ig_notes(cases) + [
        f"SmoothGrad: the fixed run's relative error is that of an auto run with max_samples={args.samples} "
        f"drawing the same copies ({'all' if full else 'not all'} examples at {args.samples} draws; its "
        f"attributions differ from the fixed run's by {drift:.1e} of their largest |value|); the auto run "
        f"draws other copies (its streams are max_samples wide)."
    ]
    notes = "\n".join(f"- {line}" for line in notes)
    print(f"\n{tables}\n\n{targets}\n\n{notes}")
    if not args.no_write:
        body = (
            f"{provenance(command, library_versions)}; {load} on {os.cpu_count()} shared cores.\n\n"
            f"Integrated Gradients (zero baseline, predicted class) on {args.digits} test digits of the digits "
            f"CNN ({args.epochs} epochs, test accuracy {accuracy:.1%}) and {args.images} scikit-image pictures "
            f"through MobileNetV2(weights=None) at {side}x{side}; relative gap = |gap| / max(|f(x) - f(baseline)|, "
            f"{FLOOR:g}); auto runs at tolerance {args.tolerance:g}. SmoothGrad of the gradient saliency on the "
            f"same digits, auto at tolerance {args.sg_tolerance:g}. Median wall-clock seconds of {args.repeats} "
            f"interleaved round(s), after one untimed call of each contender.\n\n"
            f"{tables}\n\nTargets:\n\n{targets}\n\n{notes}\n"
        )
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
