"""A user's story: train a model, save it as .keras, explain it with keras-explain, open the report.

Run it with `make demo` or `python examples/saved_model.py --out demo-output`.
Like every example it builds its own models on purpose, so that it can be
copied as it is; demo.py reuses this module's training functions.

1. Train a small CNN on scikit-learn's handwritten digits and save it as
   `digits.keras`, as a training job elsewhere would.
2. Write a few test digits as 32x32 PNG files (the scans someone sends you)
   and the class names as a text file.
3. Run the command a user types, on the saved file:
   `keras-explain explain digits.keras scans/*.png --method integrated_gradients ...`
   and the same with LIME's superpixels.
4. Train a small table model on scikit-learn's breast-cancer data, save it, and
   explain CSV rows whose header names the features.
5. Print where the self-contained reports are; with --screenshot, take a
   picture of the first one with headless Chromium (the README's docs/report.png).

Everything it needs ships with the installed packages: no download.
"""

import argparse
import glob
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def train_digits(out, seed):
    """A CNN on 8x8 digits in [0, 1], softmax output, saved as digits.keras."""
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    order = np.random.default_rng(seed).permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="last_conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="digits_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x[train], digits.target[train], epochs=20, batch_size=64, verbose=0)
    accuracy = model.evaluate(x[test], digits.target[test], verbose=0)[1]
    path = os.path.join(out, "digits.keras")
    model.save(path)
    return path, accuracy, digits.images[test], digits.target[test], x[train]


def write_scans(out, images, labels, count=8):
    """Test digits as 32x32 grey PNG files, named after their label."""
    folder = os.path.join(out, "scans")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        pixels = np.round(images[i] / 16.0 * 255.0).astype(np.uint8)
        path = os.path.join(folder, f"scan-{i}-{DIGITS[labels[i]]}.png")
        Image.fromarray(pixels).resize((32, 32), Image.Resampling.NEAREST).save(path)
        paths.append(path)
    names = os.path.join(out, "classes.txt")
    with open(names, "w", encoding="utf-8") as handle:
        handle.write("\n".join(DIGITS) + "\n")
    return paths, names


#: The first eight measurements of the breast-cancer table keep the tables short.
TABLE_COLUMNS = list(range(8))


def _table_split(seed):
    data = load_breast_cancer()
    x = data.data[:, TABLE_COLUMNS].astype("float32")
    order = np.random.default_rng(seed).permutation(len(x))
    return data, x, order[:400], order[400:]


def held_out_table(seed):
    """The rows and labels train_table held out, (169, 8) and (169,)."""
    data, x, _, test = _table_split(seed)
    return x[test], data.target[test]


def train_table(out, seed):
    """An MLP on the breast-cancer table, saved as cancer.keras, with CSV rows to explain."""
    data, x, train, test = _table_split(seed)
    columns = TABLE_COLUMNS
    mean, scale = x.mean(axis=0), x.std(axis=0)
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((len(columns),))
    scaled = keras.layers.Normalization(mean=mean, variance=scale**2)(inputs)
    hidden = keras.layers.Dense(16, activation="relu")(scaled)
    model = keras.Model(
        inputs, keras.layers.Dense(2, activation="softmax")(hidden), name="cancer_mlp"
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x[train], data.target[train], epochs=40, batch_size=32, verbose=0)
    accuracy = model.evaluate(x[test], data.target[test], verbose=0)[1]
    path = os.path.join(out, "cancer.keras")
    model.save(path)
    header = ",".join(f'"{data.feature_names[j]}"' for j in columns)
    for name, rows in (("patients.csv", x[test[:4]]), ("train.csv", x[train])):
        np.savetxt(
            os.path.join(out, name), rows, delimiter=",", header=header, comments="", fmt="%.6g"
        )
    with open(os.path.join(out, "diagnoses.txt"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(data.target_names) + "\n")
    return path, accuracy, x[train], x[test[:4]], [data.feature_names[j] for j in columns]


def command():
    """`keras-explain` when installed next to this Python, else `python -m keras_explain`."""
    script = os.path.join(os.path.dirname(sys.executable), "keras-explain")
    if os.access(script, os.X_OK):
        return [script]
    return [sys.executable, "-m", "keras_explain"]


def run(arguments):
    shown = ["keras-explain"] + arguments
    print("\n$ " + " ".join(shlex.quote(a) for a in shown), flush=True)
    start = time.perf_counter()
    subprocess.run(command() + arguments, check=True)
    return time.perf_counter() - start


def screenshot(page, target, width=1280, height=1370):
    """A PNG of `page` taken by headless Chromium, or None when it is not installed."""
    binary = next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
    )
    if binary is None:
        return None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={os.path.abspath(target)}",
                "file://" + os.path.abspath(page),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return target


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--screenshot", metavar="PNG", help="also save a screenshot of the first report"
    )
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    out = args.out

    start = time.perf_counter()
    model, accuracy, images, labels, _ = train_digits(out, args.seed)
    print(
        f"trained and saved {model} in {time.perf_counter() - start:.1f} s: test accuracy {accuracy:.1%}"
    )
    scans, names = write_scans(out, images, labels)
    print(f"wrote {len(scans)} scans to {os.path.dirname(scans[0])} and the class names to {names}")

    reports = os.path.join(out, "reports", "digits")
    scan_glob = sorted(glob.glob(os.path.join(out, "scans", "*.png")))
    run(
        [
            "explain",
            model,
            *scan_glob,
            "--method",
            "integrated_gradients",
            "--class-names",
            names,
            "--out",
            reports,
        ]
    )
    run(
        [
            "explain",
            model,
            *scan_glob,
            "--method",
            "lime_image",
            "--class-names",
            names,
            "--out",
            reports,
            "--num-samples",
            "500",
            "--option",
            "segmentation=slic",
            "--option",
            "segmentation_options={'n_segments': 16, 'compactness': 0.1}",
            "--format",
            "png,html",
        ]
    )

    table, accuracy, _, _, _ = train_table(out, args.seed)
    print(f"\ntrained and saved {table}: test accuracy {accuracy:.1%}")
    tables = os.path.join(out, "reports", "cancer")
    tabular = [
        "explain",
        table,
        os.path.join(out, "patients.csv"),
        "--class-names",
        os.path.join(out, "diagnoses.txt"),
        "--out",
        tables,
        "--format",
        "png,html,json",
    ]
    run(
        tabular
        + [
            "--method",
            "lime_tabular",
            "--training-data",
            os.path.join(out, "train.csv"),
            "--num-samples",
            "2000",
        ]
    )

    first = os.path.join(reports, "integrated_gradients.html")
    if args.screenshot:
        taken = screenshot(first, args.screenshot)
        print(f"\nscreenshot: {taken}" if taken else "\nno screenshot: Chromium is not installed")
    print("\nopen the reports in a browser:")
    for page in sorted(glob.glob(os.path.join(out, "reports", "*", "*.html"))):
        print(f"  file://{os.path.abspath(page)}")


if __name__ == "__main__":
    main()
