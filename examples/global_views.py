"""Global and local views: what matters across many examples, and one prediction's walk.

Used by examples/demo.py; run on its own it trains the breast-cancer MLP
(examples/saved_model.py) and writes the views of its held-out patients:

    python examples/global_views.py --out global-views
"""

import argparse
import os

import numpy as np

import keras_explain as kx


def write_views(out, table, rows_train, features, held_out, saliency=None, importance=None):
    """Write the global and local views as PNGs; return index rows (title, png, summary).

    Args:
        out: output folder.
        table: the breast-cancer MLP.
        rows_train: its training rows (the DeepShap background).
        features: the feature names.
        held_out: the held-out patients, explained for the global views.
        saliency: optional saliency Explanation of digits, for the image views.
        importance: optional PermutationImportance Explanation, drawn as bars.
    """
    rows = []

    def keep(figure, stem, title, line):
        figure.savefig(os.path.join(out, stem + ".png"), dpi=110)
        rows.append({"title": title, "png": stem + ".png", "summary": line})
        print(f"  {stem:>30}: {line}")

    patients = kx.DeepShap(table, rows_train[:100]).explain(held_out)
    patients.annotate(feature_names=features, class_names=["malignant", "benign"])
    overall = patients.summary()  # kept in the explanation: saved with it
    patients.save(os.path.join(out, "patients-deepshap-held-out.npz"))
    strongest = [overall.feature_names[j] for j in overall.order[:3]]
    keep(kx.viz.summary_plot(patients), "patients-beeswarm",
         f"{len(patients)} held-out patients: DeepSHAP summary (beeswarm)",
         "strongest by mean |attribution|: " + ", ".join(strongest))  # fmt: skip
    dependence = kx.viz.dependence_plot(patients, strongest[0])
    colour = dependence.keras_explain_data["color_by"]
    keep(dependence, "patients-dependence", f"held-out patients: dependence on {strongest[0]}",
         f"coloured by {colour}" if colour else "no interaction found")  # fmt: skip
    waterfall = kx.viz.waterfall_plot(patients, 0)
    data = waterfall.keras_explain_data
    keep(waterfall, "patients-waterfall", "held-out patient #0: waterfall",
         f"E[f] {data['base']:.3f} + {data['values'].sum():+.3f} = f(x) {data['score']:.3f}")  # fmt: skip
    keep(kx.viz.force_plot(patients, 0), "patients-force", "held-out patient #0: force plot",
         f"from the base value {data['base']:.3f} ({data['base_source']}) to f(x) {data['score']:.3f}")  # fmt: skip
    lime = kx.LimeTabular(table, rows_train, feature_names=features, class_names=["malignant", "benign"],
                          random_state=0).explain(held_out[:1])  # fmt: skip
    keep(kx.viz.lime_list_plot(lime, 0), "patients-lime-list", "held-out patient #0: LIME's notebook view",
         f"{len(lime.as_list(0))} features listed")  # fmt: skip
    if importance is not None:
        bars = kx.viz.summary_plot(importance)
        keep(bars, "patients-importance-bars", "held-out patients: permutation importance (bar)",
             f"top importance {bars.keras_explain_data['values'][0]:.3f}")  # fmt: skip
    if saliency is not None:
        averages = kx.viz.class_average_plot(saliency)
        keep(averages, "digits-class-averages", "digits: mean |saliency| per class",
             f"{len(averages.keras_explain_data['classes'])} classes")  # fmt: skip
        extremes = kx.viz.extremes_sheet(saliency, k=3)
        found = extremes.keras_explain_data
        keep(extremes, "digits-extremes", "digits: highest and lowest explained scores",
             f"highest #{found['highest'][0]}, lowest #{found['lowest'][0]}")  # fmt: skip
    return rows, patients


def write_pages(out, held_out_shap, importance, digits, run_command):
    """The report's global sections, `keras-explain summarize` on the saved patients, the notebook views.

    Args:
        out: output folder.
        held_out_shap: the DeepShap explanation `write_views` returns.
        importance: the PermutationImportance explanation.
        digits: an image explanation, shown as a notebook shows it.
        run_command: runs `keras-explain` with a list of arguments.

    Returns:
        list of the HTML pages written.
    """
    report = kx.report.write_html(
        [held_out_shap, importance],
        os.path.join(out, "global.html"),
        max_samples=4,
        title="keras_explain: what matters across the held-out patients",
    )
    print(f"\nwrote the report with global sections {report}")
    summary = os.path.join(out, "reports", "summary")
    run_command(
        ["summarize", os.path.join(out, "patients-deepshap-held-out.npz"), "--out", summary, "--max-features", "8"]
    )
    # What a notebook shows when each of these ends a cell.
    views = [e._repr_html_() for e in (held_out_shap, importance, digits)]
    page = os.path.join(out, "notebook-views.html")
    with open(page, "w", encoding="utf-8") as handle:
        handle.write('<!doctype html><meta charset="utf-8"><title>notebook views</title>' + "<hr>".join(views))
    print(f"wrote what a notebook shows for three explanations {page}")
    return [report, page]


def main():
    import saved_model  # examples/saved_model.py

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="global-views")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    path, _, rows_train, _, features = saved_model.train_table(args.out, args.seed)
    held_out, _ = saved_model.held_out_table(args.seed)
    write_views(args.out, kx.load_model(path), rows_train, features, np.asarray(held_out))


if __name__ == "__main__":
    main()
