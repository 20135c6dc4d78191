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
import datetime
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import command_line, write_section  # noqa: E402

import keras_explain as kx  # noqa: E402


def data():
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], digits.target[order]
    return x[:1437], y[:1437], x[1437:], y[1437:]


def build(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


CONFIGS = {
    "saliency every epoch": ("saliency", 1, {}),
    "integrated_gradients every epoch": ("integrated_gradients", 1, {"steps": 50}),
    "lime_image every 5 epochs": (
        "lime_image",
        5,
        {"num_samples": 1000, "segmentation": "slic", "segmentation_options": {"n_segments": 16}},
    ),
}


def timed_fit(x, y, epochs, callbacks):
    model = build()
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=callbacks)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="3 epochs, 1 round")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.repeats = 3, 1
    x_train, y_train, x_test, y_test = data()
    samples = (x_test[: args.samples], y_test[: args.samples])

    timed_fit(x_train, y_train, 1, [])  # warm up TensorFlow itself
    plain, with_callback = [], {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory() as folder:
        for round_index in range(args.repeats):
            plain.append(timed_fit(x_train, y_train, args.epochs, []))
            for name, (method, every, options) in CONFIGS.items():
                logger = kx.callbacks.ExplanationLogger(
                    method,
                    samples,
                    os.path.join(folder, f"{round_index}-{method}"),
                    every_n_epochs=every,
                    method_options=options,
                    on_error="raise",
                )
                with_callback[name].append(timed_fit(x_train, y_train, args.epochs, [logger]))
            print(f"round {round_index + 1}: plain {plain[-1]:.2f} s, " + ", ".join(
                f"{name} {times[-1]:.2f} s" for name, times in with_callback.items()
            ))

    base = float(np.median(plain))
    lines = [
        "| configuration | fit without (s) | fit with (s) | with / without |",
        "|---|---:|---:|---:|",
    ]
    for name, times in with_callback.items():
        value = float(np.median(times))
        lines.append(f"| {name} | {base:.2f} | {value:.2f} | {value / base:.2f}x |")
    table = "\n".join(lines)
    command = command_line()
    header = (
        f"`{command}`, {datetime.date.today().isoformat()}, tensorflow {tf.__version__}, "
        f"keras {keras.__version__}.\n\n"
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
        print("\nwrote benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
