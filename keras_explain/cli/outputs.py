"""What `explain` writes to `--out`: the contact sheets, the report, the `.npz` and the JSON."""

import json
import os

import numpy as np

from keras_explain.cli.progress import Progress

#: Inputs on one page of a contact sheet.
PER_PAGE = 48

def write_outputs(explanation, args, formats, class_names, model_path, show_progress):
    """Write the chosen files to --out; return their paths."""
    from keras_explain import report, viz

    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, explanation.method)
    written = []
    if "npz" in formats:
        written.append(explanation.save(base + ".npz"))
    if "json" in formats:
        written.append(write_json(explanation, base + ".json", class_names))
    pages = -(-len(explanation) // PER_PAGE)
    for suffix in ("png", "pdf"):
        if suffix in formats:
            bar = Progress(f"writing {suffix} pages", pages, show_progress)
            written += viz.write_contact_sheet(
                explanation,
                f"{base}.{suffix}",
                per_page=PER_PAGE,
                progress=bar,
                class_names=class_names,
            )
            bar.close()
    if "html" in formats:
        bar = Progress("writing report", len(explanation), show_progress)
        written.append(
            report.write_html(
                explanation,
                base + ".html",
                title=f"{explanation.method} on {os.path.basename(model_path)}",
                class_names=class_names,
                progress=bar,
                # Token ids read as the words of the method's vocabulary (lime_text's option).
                vocabulary=(explanation.config or {}).get("vocabulary"),
            )
        )
        bar.close()
    return written


def prediction_text(explanation, i, class_names):
    """What the model predicted for example `i` and which output was explained, in words."""
    from keras_explain.viz import output_label

    predictions = explanation.predictions
    target = int(explanation.targets[i])
    if predictions.ndim != 2 or predictions.shape[1] == 1:
        value = float(predictions[i].reshape(-1)[0])
        return f"output {value:.4g}; explained output {target}"
    predicted = int(np.argmax(predictions[i]))
    text = (
        f"predicted {output_label(predicted, class_names)} ({float(predictions[i, predicted]):.3g})"
    )
    if target == predicted:
        return text + ", the explained output"
    return (
        text
        + f"; explained {output_label(target, class_names)} ({float(predictions[i, target]):.3g})"
    )


def write_json(explanation, path, class_names, top=5):
    """Write predictions, targets and per-example summaries (`card.example_summary`) as JSON."""
    from keras_explain.explanation import jsonable
    from keras_explain.render.card import example_summary

    samples = [example_summary(explanation, i, class_names, top) for i in range(len(explanation))]
    summary = {
        "format": "keras_explain.cli.summary",
        "version": 1,
        "method": explanation.method,
        "config": explanation.config,
        "model": explanation.extras.get("model_file"),
        "class_names": class_names,
        "feature_names": explanation.extras.get("feature_names"),
        "attributions_shape": list(explanation.attributions.shape),
        "samples": samples,
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(jsonable(summary), handle, indent=1, allow_nan=True)
    return path
