"""The story of a user: train, save, explain with every method, read the report.

Run it with `make demo` or `python examples/demo.py --out demo-output`.

1. Train a small CNN on scikit-learn's handwritten digits and an MLP on its
   breast-cancer table, and save both as `.keras` files, as a training job
   elsewhere would (examples/saved_model.py).
2. Load the files back with `kx.load_model` and explain eight test digits with
   every image method (saliency, Integrated Gradients, SmoothGrad, Grad-CAM,
   Grad-CAM++, occlusion, feature ablation, LIME, DeepSHAP, GradientSHAP,
   KernelSHAP) and four patients with LimeTabular (5000 samples, and
   num_samples="auto"), DeepShap, KernelShap and feature ablation: a PNG figure and the raw `.npz` per method, and one
   self-contained HTML report with all of them; then the permutation
   importance of each measurement over the held-out patients (a global
   explanation), with the global views (summary, dependence, class averages,
   extremes) and one patient's waterfall, force and LIME list views
   (examples/global_views.py).
3. Run the `keras-explain` command on the saved files, as a user types it:
   Integrated Gradients on PNG scans, LIME on CSV rows, and `evaluate` scoring
   saliency maps with Deletion and Insertion. Then every one of the 1,797
   digits is explained with `kx.explain_dataset` into resumable shards (the
   run is interrupted once and resumed) and with `explain-dataset` on a `.npy`
   file (examples/dataset_run.py). A small text classifier is explained
   with LimeText (5000 samples and num_samples="auto"), and a Conv1D one over
   token ids with Integrated Gradients through its Embedding layer, also from
   the command line on a `.npy` of ids, their words highlighted
   (examples/text_model.py).
   Before the command line runs, every digit explanation is scored with Deletion, Insertion and MuFidelity
   (examples/evaluation.py); the report's cards show the scores.
4. Train again with `kx.callbacks.ExplanationLogger` next to Keras's
   TensorBoard callback, logging Deletion and MuFidelity per epoch
   (examples/fit_callback.py).
5. Write an index.html that links everything, and print where it is.

Everything it needs ships with the installed packages: no download.
"""

import argparse
import glob
import html
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dataset_run  # noqa: E402  (examples/dataset_run.py)
import evaluation  # noqa: E402  (examples/evaluation.py)
import fit_callback  # noqa: E402  (examples/fit_callback.py)
import global_views  # noqa: E402  (examples/global_views.py)
import numpy as np  # noqa: E402
import saved_model  # noqa: E402  (examples/saved_model.py)
import text_model  # noqa: E402  (examples/text_model.py)
from sklearn.datasets import load_digits  # noqa: E402

import keras_explain as kx  # noqa: E402


def image_explainers(model, background, seed):
    """Every image method, with the settings a user would start from."""
    # 2x2 blocks of an 8x8 digit: 16 groups for feature ablation and KernelSHAP.
    blocks = (np.arange(8)[:, None] // 2) * 4 + np.arange(8)[None, :] // 2
    return {
        "saliency": kx.GradientSaliency(model),
        "integrated_gradients": kx.IntegratedGradients(model, steps=64),
        # The fewest Gauss-Legendre steps that bring each digit's gap under 1e-3.
        "integrated_gradients_auto": kx.IntegratedGradients(model, steps="auto", rule="gauss_legendre"),
        "smoothgrad": kx.SmoothGrad(kx.GradientSaliency(model), samples=32, random_state=seed),
        "gradcam": kx.GradCAM(model),
        "gradcam_plus_plus": kx.GradCAMPlusPlus(model),
        "occlusion": kx.Occlusion(model, window=(2, 2), strides=(1, 1)),
        "feature_ablation": kx.FeatureAblation(model, feature_groups=blocks),
        "lime_image": kx.LimeImage(
            model,
            num_samples=1000,
            segmentation="slic",
            segmentation_options={"n_segments": 16, "compactness": 0.1},
            random_state=seed,
        ),
        "deepshap": kx.DeepShap(model, background),
        "gradientshap": kx.GradientShap(model, background, samples=200, random_state=seed),
        # Draws until the mean map's standard error is within 20 % of its norm (expected
        # gradients are noisy: 5 % takes thousands of draws on these digits).
        "gradientshap_auto": kx.GradientShap(
            model, background, samples="auto", tolerance=0.2, max_samples=1024, random_state=seed
        ),
        "kernel_shap": kx.KernelShap(model, background[:20], feature_groups=blocks, random_state=seed),
    }


def table_explainers(model, training, names, classes, seed):
    """The tabular methods: LIME on the training statistics, SHAP on a background."""
    return {
        "lime_tabular": kx.LimeTabular(
            model, training, feature_names=names, class_names=classes, random_state=seed
        ),
        # As many samples as each row needs: its top 5 weights stable, their standard
        # errors within 10 % of the largest (5 % takes about lime's 5000 here).
        "lime_tabular_auto": kx.LimeTabular(
            model, training, feature_names=names, class_names=classes, num_samples="auto", tolerance=0.1,
            random_state=seed,
        ),
        "deepshap": kx.DeepShap(model, training[:100]),
        "kernel_shap": kx.KernelShap(model, training[:50], random_state=seed),  # every coalition
        "feature_ablation": kx.FeatureAblation(model, baseline=training.mean(axis=0)),
    }


def summary(e, labels=None):
    """One line of what an explanation says and how well it checks out."""
    text = f"{len(e)} inputs, explained outputs {e.targets.tolist()}"
    if labels is not None:
        text += f", true labels {np.asarray(labels).tolist()}"
    for key, name in (
        ("completeness_gap", "completeness gap"),
        ("additivity_gap", "additivity gap"),
    ):
        if key in e.extras:
            text += f"; largest {name} {np.abs(e.extras[key]).max():.1e}"
    if "steps" in e.extras:
        text += f"; steps per input {np.asarray(e.extras['steps']).tolist()}"
    if "samples_used" in e.extras:
        text += f"; samples per input {np.asarray(e.extras['samples_used']).tolist()}"
    if "score" in e.extras:
        text += f"; surrogate R2 {np.mean(e.extras['score']):.2f} on average"
    return text


def explain_all(out, explainers, x, prefix, labels=None, **plot_options):
    """Explain `x` with each explainer; write PNG and .npz; return explanations and rows."""
    explanations, rows = [], []
    for name, explainer in explainers.items():
        start = time.perf_counter()
        e = explainer.explain(x)
        seconds = time.perf_counter() - start
        stem = f"{prefix}-{name}"
        e.plot(save=os.path.join(out, stem + ".png"), **plot_options)
        e.save(os.path.join(out, stem + ".npz"))
        line = summary(e, labels)
        print(f"  {name:>22}: {seconds:5.2f} s  {line}")
        explanations.append(e)
        rows.append({"title": f"{prefix}: {name}", "png": stem + ".png", "summary": line})
    return explanations, rows


def write_index(out, report, figures, cli_reports, log_dir):
    """A small page linking the report, the figures, the command's reports and the logs."""
    link = lambda path: html.escape(os.path.relpath(path, out))  # noqa: E731
    cards = "".join(
        f"<section><h2>{html.escape(row['title'])}</h2><p>{html.escape(row['summary'])}</p>"
        f"<img src=\"{html.escape(row['png'])}\" alt=\"{html.escape(row['title'])}\"></section>"
        for row in figures
    )
    commands = "".join(f'<li><a href="{link(p)}">{link(p)}</a></li>' for p in cli_reports)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>keras_explain demo</title><style>body{font-family:sans-serif;max-width:980px;"
        "margin:2em auto}img{max-width:100%;border:1px solid #ddd}section{margin-bottom:2em}"
        "</style></head><body><h1>keras_explain demo</h1>"
        f'<p>The report with every method: <a href="{link(report)}">{link(report)}</a>.</p>'
        f"<p>The global report, the notebook views and the reports written by the keras-explain "
        f"command:</p><ul>{commands}</ul>"
        f"<p>Explanations logged during training: <code>tensorboard --logdir "
        f"{html.escape(log_dir)}</code></p>{cards}</body></html>"
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
    out = args.out
    os.makedirs(out, exist_ok=True)

    # 1. Train and save.
    start = time.perf_counter()
    digits_path, accuracy, images, labels, x_train = saved_model.train_digits(out, args.seed)
    print(f"trained and saved {digits_path}: test accuracy {accuracy:.1%}")
    table_path, table_accuracy, rows_train, patients, features = saved_model.train_table(
        out, args.seed
    )
    print(f"trained and saved {table_path}: test accuracy {table_accuracy:.1%}")
    print(f"  ({time.perf_counter() - start:.1f} s)")

    # 2. Load the files back and explain with every method.
    digits = kx.load_model(digits_path)
    x = (images[:8] / 16.0).astype("float32")[..., None]
    background = x_train[np.random.default_rng(args.seed).choice(len(x_train), 100, replace=False)]
    print(f"\nexplaining {len(x)} test digits with every image method:")
    digit_explanations, figures = explain_all(
        out, image_explainers(digits, background, args.seed), x, "digits", labels[:8]
    )
    table = kx.load_model(table_path)
    classes = ["malignant", "benign"]
    print(f"\nexplaining {len(patients)} patients with the tabular methods:")
    table_explanations, table_figures = explain_all(
        out,
        table_explainers(table, rows_train, features, classes, args.seed),
        patients,
        "patients",
        feature_names=features,
    )
    # What matters across the held-out patients: a global explanation.
    held_out, diagnoses = saved_model.held_out_table(args.seed)
    importance = kx.PermutationImportance(table, metric="accuracy", random_state=args.seed)
    global_view = importance.explain(held_out, diagnoses)
    global_view.annotate(feature_names=features)
    global_view.plot(save=os.path.join(out, "patients-permutation_importance.png"))
    order = np.argsort(-global_view.attributions[0])[:3]
    line = "accuracy drop when shuffled: " + ", ".join(
        f"{features[j]} {global_view.attributions[0, j]:.3f}" for j in order
    )
    print(f"  {'permutation_importance':>22}: {line}")
    table_figures.append(
        {"title": "patients: permutation_importance", "png": "patients-permutation_importance.png",
         "summary": line}
    )  # fmt: skip
    for e in digit_explanations:
        e.annotate(class_names=saved_model.DIGITS)
    print(f"\nglobal views over the {len(held_out)} held-out patients and local views of one:")
    saliency = next(e for e in digit_explanations if e.method == "saliency")
    view_rows, held_out_shap = global_views.write_views(
        out, table, rows_train, features, held_out, saliency=saliency, importance=global_view
    )
    table_figures += view_rows
    print("\nhow faithful each digit explanation is (kx.metrics, shown on the report's cards):")
    evaluation.score(digits, digit_explanations, seed=args.seed)
    for e in table_explanations:
        e.annotate(class_names=e.class_names or classes)
        if "feature_names" not in e.extras:
            e.annotate(feature_names=features)
    report = kx.report.write_html(
        digit_explanations + table_explanations,
        os.path.join(out, "report.html"),
        title="keras_explain: every method on two small models",
        description="Eight handwritten digits (a CNN) and four breast-cancer patients (an MLP), "
        "explained by each method of keras_explain.",
    )
    print(f"\nwrote the report {report}")
    pages = global_views.write_pages(out, held_out_shap, global_view, saliency, saved_model.run)

    # 3. The command line on the saved files.
    reports = os.path.join(out, "reports")
    scans, class_file = saved_model.write_scans(out, images, labels)
    saved_model.run(
        ["explain", digits_path, *scans, "--method", "integrated_gradients",
         "--class-names", class_file, "--out", os.path.join(reports, "digits")]
    )  # fmt: skip
    saved_model.run(
        ["explain", table_path, os.path.join(out, "patients.csv"), "--method", "lime_tabular",
         "--training-data", os.path.join(out, "train.csv"), "--num-samples", "2000",
         "--class-names", os.path.join(out, "diagnoses.txt"),
         "--out", os.path.join(reports, "cancer"), "--format", "png,html,json"]
    )  # fmt: skip
    saved_model.run(
        ["evaluate", digits_path, *scans, "--method", "saliency", "--metrics", "deletion,insertion",
         "--metric-option", "steps=16", "--class-names", class_file,
         "--out", os.path.join(reports, "evaluate"), "--format", "npz,html"]
    )  # fmt: skip

    # Every digit, streamed into resumable shards (interrupted once, resumed).
    print("\nevery digit with explain_dataset, and the explain-dataset command:")
    every_digit = (load_digits().images / 16.0).astype("float32")[..., None]
    dataset_rows, _ = dataset_run.explain_all_digits(
        out, digits, every_digit, digits_path, saved_model.run, class_names=saved_model.DIGITS
    )
    figures += dataset_rows

    # A text model, explained word by word.
    print("\nsmall text classifiers explained with LimeText and, over token ids, with Integrated Gradients:")
    text_rows, _ = text_model.explain_texts(out, seed=args.seed)
    token_rows, _ = text_model.explain_token_ids(out, seed=args.seed)
    figures += text_rows + token_rows

    # 4. Explanations during training.
    start = time.perf_counter()
    log_dir = fit_callback.train(out, epochs=4, seed=args.seed)
    print(f"\ntrained again with ExplanationLogger in {time.perf_counter() - start:.1f} s")

    cli_reports = sorted(glob.glob(os.path.join(reports, "*", "*.html")))
    index = write_index(out, report, figures + table_figures, pages + cli_reports, log_dir)
    print(f"\nTensorBoard: tensorboard --logdir {log_dir}")
    print(f"open file://{os.path.abspath(index)}")


if __name__ == "__main__":
    main()
