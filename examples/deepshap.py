"""SHAP values for a digits CNN and a breast-cancer MLP with DeepShap and GradientShap.

Run it with `python examples/deepshap.py --out deepshap-output`, or call
`run(out_dir)` (the demo does). It trains two small models on data that
ships with scikit-learn (nothing is downloaded), explains a few test inputs
against 100 training rows, checks that the SHAP values add up to
f(x) - E[f(background)], and writes one figure per explanation.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402

import keras_explain as kx  # noqa: E402


def digits_model(seed=0):
    """A small CNN trained on digits: (model, x_train, x_test)."""
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    order = np.random.default_rng(seed).permutation(len(x))
    train, test = order[:1400], order[1400:]
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="digits_cnn",
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(x[train], digits.target[train], epochs=15, batch_size=64, verbose=0)
    return model, x[train], x[test]


def cancer_model(seed=0):
    """An MLP trained on breast_cancer: (model, x_train, x_test, feature names)."""
    data = load_breast_cancer()
    order = np.random.default_rng(seed).permutation(len(data.data))
    train, test = order[:450], order[450:]
    mean, std = data.data[train].mean(axis=0), data.data[train].std(axis=0)
    x = ((data.data - mean) / std).astype("float32")
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((30,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ],
        name="cancer_mlp",
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x[train], data.target[train], epochs=30, batch_size=32, verbose=0)
    return model, x[train], x[test], list(data.feature_names)


def run(out_dir, seed=0):
    """Train, explain and plot; returns a list of (title, png path).

    Args:
        out_dir: folder for the figures (created if missing).
        seed: random seed. Defaults to 0.
    """
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    figures = []

    model, x_train, x_test = digits_model(seed)
    background = x_train[rng.choice(len(x_train), 100, replace=False)]
    explainer = kx.DeepShap(model, background)
    start = time.perf_counter()
    e = explainer.explain(x_test[:6])
    print(
        f"DeepShap, digits CNN: {len(e)} digits x 100 background rows in "
        f"{time.perf_counter() - start:.2f} s (first call, includes compiling); "
        f"predicted {e.targets.tolist()}; largest additivity gap "
        f"{np.abs(e.additivity_gap).max():.1e}"
    )
    path = os.path.join(out_dir, "deepshap_digits.png")
    e.plot(save=path)
    figures.append(("DeepShap on a digits CNN", path))

    gradient = kx.GradientShap(model, background, samples=200, random_state=seed)
    g = gradient.explain(x_test[:6], targets=e.targets)
    print(
        f"GradientShap, same digits: largest additivity gap {np.abs(g.additivity_gap).max():.1e} "
        f"(additive only in expectation)"
    )
    path = os.path.join(out_dir, "gradientshap_digits.png")
    g.plot(save=path)
    figures.append(("GradientShap on the same digits", path))

    model, x_train, x_test, names = cancer_model(seed)
    background = x_train[rng.choice(len(x_train), 100, replace=False)]
    e = kx.DeepShap(model, background).explain(x_test[:3])
    total = e.attributions.sum(axis=1)
    difference = e.predictions[np.arange(len(e)), e.targets] - e.expected_value
    print(
        "DeepShap, breast_cancer MLP: sum of SHAP values "
        f"[{', '.join(f'{v:.5f}' for v in total)}] == f(x) - E[f(background)] "
        f"[{', '.join(f'{v:.5f}' for v in difference)}]"
    )
    path = os.path.join(out_dir, "deepshap_breast_cancer.png")
    e.plot(save=path, feature_names=names)
    figures.append(("DeepShap on a breast-cancer MLP", path))
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="deepshap-output", help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args()
    for title, path in run(args.out, args.seed):
        print(f"{title}: {path}")


if __name__ == "__main__":
    main()
