"""Watch explanations evolve while a model trains, next to the loss curves.

A user's training script: a CNN on scikit-learn's digits, with Keras's
TensorBoard callback and keras_explain's ExplanationLogger writing to the same
log directory. Afterwards:

    tensorboard --logdir demo-output/logs

shows the loss curves (runs "train" and "validation") and, in the run
"explanations", the Integrated Gradients overlays of eight validation digits
per epoch (Images tab), how much they changed since the previous epoch and
their Deletion and MuFidelity scores (Scalars tab). PNG files of every epoch are in logs/explanations/png/.

Run: python examples/fit_callback.py --out demo-output --epochs 6

The script builds its own model on purpose (the benchmarks share theirs
through benchmarks/common.py): it is meant to be copied as it is.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import keras_explain as kx  # noqa: E402


def digits(seed=0):
    data = load_digits()
    x = (data.images / 16.0).astype("float32")[..., None]
    order = np.random.default_rng(seed).permutation(len(x))
    split = int(0.8 * len(x))
    return (x[order[:split]], data.target[order[:split]]), (x[order[split:]], data.target[order[split:]])


def train(out, epochs=6, seed=0, verbose=0):
    """Train with TensorBoard and ExplanationLogger; return the log directory."""
    (x_train, y_train), (x_val, y_val) = digits(seed)
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
        metrics=["accuracy"],
    )
    log_dir = os.path.join(out, "logs")
    callbacks = [
        keras.callbacks.TensorBoard(log_dir),
        # Explain the same eight validation digits, for their true class, every epoch.
        kx.callbacks.ExplanationLogger(
            kx.IntegratedGradients(model, steps=32),
            (x_val[:8], y_val[:8]),
            log_dir,
            formats=("tensorboard", "png", "npz"),
            # Is the explanation right? One scalar per metric and epoch.
            metrics=[kx.metrics.Deletion(steps=16), kx.metrics.MuFidelity(grid_size=4, nb_samples=64, random_state=0)],
        ),
    ]
    model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=64,
        verbose=verbose,
        callbacks=callbacks,
    )
    return log_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    parser.add_argument("--epochs", type=int, default=6, help="epochs (default: 6)")
    args = parser.parse_args()
    log_dir = train(args.out, args.epochs, verbose=2)
    print(f"explanations per epoch in {os.path.join(log_dir, 'explanations')}; view with:")
    print(f"  tensorboard --logdir {log_dir}")


if __name__ == "__main__":
    main()
