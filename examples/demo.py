"""Train a tiny CNN on scikit-learn's digits and explain it with every method.

Run it with `make demo` or `python examples/demo.py --out demo-output`. It
writes, for each method, a PNG figure (input, heatmap, overlay for eight test
digits) and the raw explanation (.npz), plus an index.html that shows them,
then trains again with `kx.callbacks.ExplanationLogger` writing TensorBoard
logs (examples/fit_callback.py).
Everything it needs ships with the installed packages: no download.
"""

import argparse
import html
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import fit_callback  # noqa: E402  (examples/fit_callback.py)
import keras_explain as kx  # noqa: E402


def load_data(seed):
    """Digits as (N, 8, 8, 1) floats in [0, 1], split 80/20."""
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target
    order = np.random.default_rng(seed).permutation(len(x))
    split = int(0.8 * len(x))
    return x[order[:split]], y[order[:split]], x[order[split:]], y[order[split:]]


def train(x_train, y_train, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="last_conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ],
        name="digits_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=20, batch_size=64, verbose=0)
    return model


def explainers(model, seed):
    """Every method, with the settings a user would start from."""
    return {
        "saliency": kx.GradientSaliency(model),
        "integrated_gradients": kx.IntegratedGradients(model, steps=64),
        "smoothgrad": kx.SmoothGrad(kx.GradientSaliency(model), samples=32, random_state=seed),
        "gradcam": kx.GradCAM(model),
        "lime_image": kx.LimeImage(
            model,
            num_samples=1000,
            segmentation="slic",
            segmentation_options={"n_segments": 16},
            random_state=seed,
        ),
    }


def write_index(out, rows, accuracy):
    """A small self-contained index page linking each method's figure."""
    cards = []
    for row in rows:
        cards.append(
            f"<section><h2>{html.escape(row['method'])}</h2>"
            f"<p>{html.escape(row['summary'])}</p>"
            f"<img src=\"{html.escape(row['png'])}\" alt=\"{html.escape(row['method'])}\">"
            f"<p><a href=\"{html.escape(row['npz'])}\">raw explanation (.npz)</a></p></section>"
        )
    page = (
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>keras_explain demo</title>"
        "<style>body{font-family:sans-serif;max-width:980px;margin:2em auto}"
        "img{max-width:100%;border:1px solid #ddd}section{margin-bottom:2em}</style></head><body>"
        "<h1>keras_explain demo: a CNN on scikit-learn digits</h1>"
        f"<p>Test accuracy {accuracy:.1%}. Each figure shows, per digit, the input, the "
        "attribution map (red supports the predicted class, blue opposes it) and the overlay.</p>"
        + "".join(cards)
        + "</body></html>"
    )
    path = os.path.join(out, "index.html")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    start = time.perf_counter()
    x_train, y_train, x_test, y_test = load_data(args.seed)
    model = train(x_train, y_train, args.seed)
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
    print(f"trained {model.name} in {time.perf_counter() - start:.1f} s: test accuracy {accuracy:.1%}")

    samples = x_test[:8]
    rows = []
    for name, explainer in explainers(model, args.seed).items():
        start = time.perf_counter()
        e = explainer.explain(samples)
        seconds = time.perf_counter() - start
        png = f"{name}.png"
        e.plot(save=os.path.join(args.out, png))
        npz = os.path.basename(e.save(os.path.join(args.out, name)))
        summary = f"{len(e)} digits, predicted {e.targets.tolist()}, labels {y_test[:8].tolist()}"
        if "completeness_gap" in e.extras:
            summary += f"; largest completeness gap {np.abs(e.completeness_gap).max():.2e}"
        print(f"{name:>22}: {seconds:.2f} s -> {os.path.join(args.out, png)}")
        rows.append({"method": name, "png": png, "npz": npz, "summary": summary})
    index = write_index(args.out, rows, accuracy)

    start = time.perf_counter()
    log_dir = fit_callback.train(args.out, epochs=4, seed=args.seed)
    print(
        f"trained again with ExplanationLogger in {time.perf_counter() - start:.1f} s: "
        f"tensorboard --logdir {log_dir}"
    )
    print(f"open {os.path.abspath(index)}")


if __name__ == "__main__":
    main()
