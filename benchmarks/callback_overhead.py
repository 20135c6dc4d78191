"""What ExplanationLogger adds to the wall time of `model.fit`.

A small CNN on scikit-learn's digits (8x8, 1437 training images) trains for
10 epochs, from the same seed, without and with the callback explaining 16
test digits. Configurations: saliency every epoch (the target: at most 1.10x
the plain fit), Integrated Gradients every epoch, and LimeImage every 5
epochs. Rounds are interleaved and medians reported, so every ratio compares
runs taken side by side on the same machine. Each timed fit builds a fresh
model, so both arms pay Keras's own compilation and the callback arm pays the
explainer's single trace.

Run:

    .venv/bin/python benchmarks/callback_overhead.py            # writes RESULTS.md
    .venv/bin/python benchmarks/callback_overhead.py --quick --no-write
"""

import argparse
import os
import tempfile

# common sets the environment defaults, so it comes before Keras and TensorFlow.
from common import (
    add_run_options,
    command_line,
    digits_cnn,
    interleaved_rounds,
    provenance,
    ratio,
    versions,
    write_section,
)

# isort: split

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import keras_explain as kx  # noqa: E402


def data():
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], digits.target[order]
    return x[:1437], y[:1437], x[1437:], y[1437:]


CONFIGS = {
    "saliency every epoch": ("saliency", 1, {}),
    "integrated_gradients every epoch": ("integrated_gradients", 1, {"steps": 50}),
    "lime_image every 5 epochs": (
        "lime_image",
        5,
        {"num_samples": 1000, "segmentation": "slic", "segmentation_options": {"n_segments": 16}},
    ),
}


def fit(model, x, y, epochs, callbacks):
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=callbacks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    add_run_options(parser, quick="3 epochs, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.repeats = 3, 1
    x_train, y_train, x_test, y_test = data()
    samples = (x_test[: args.samples], y_test[: args.samples])

    fit(digits_cnn(), x_train, y_train, 1, [])  # warm up TensorFlow itself
    run = lambda model, callbacks: fit(model, x_train, y_train, args.epochs, callbacks)  # noqa: E731
    runs = {"plain": run, **{name: run for name in CONFIGS}}
    with tempfile.TemporaryDirectory() as folder:

        def prepare(name, round_index):
            """A fresh model (both arms pay Keras' compilation) and the callbacks of `name`."""
            if name == "plain":
                return digits_cnn(), []
            method, every, options = CONFIGS[name]
            logger = kx.callbacks.ExplanationLogger(
                method,
                samples,
                os.path.join(folder, f"{round_index}-{method}"),
                every_n_epochs=every,
                method_options=options,
                on_error="raise",
            )
            return digits_cnn(), [logger]

        def progress(round_index, rounds):
            print(f"round {round_index + 1}: " + ", ".join(
                f"{name} {times[-1]:.2f} s" for name, times in rounds.wall.items()
            ))

        rounds = interleaved_rounds(runs, args.repeats, prepare=prepare, after_round=progress)

    median = rounds.medians()
    base = median.pop("plain")
    lines = [
        "| configuration | fit without (s) | fit with (s) | with / without |",
        "|---|---:|---:|---:|",
    ]
    for name, value in median.items():
        lines.append(f"| {name} | {base:.2f} | {value:.2f} | {ratio(value, base)} |")
    table = "\n".join(lines)
    header = (
        f"{provenance(command_line(), versions())}.\n\n"
        f"Digits CNN, {len(x_train)} training images, {args.epochs} epochs, batch 64, "
        f"{args.samples} explained test digits, formats tensorboard + png, median of "
        f"{args.repeats} interleaved round(s). Target: saliency every epoch <= 1.10x."
    )
    print()
    print(header)
    print()
    print(table)
    if not args.no_write:
        write_section("Callback overhead (benchmarks/callback_overhead.py)", header + "\n\n" + table)


if __name__ == "__main__":
    main()
