"""What `explain` writes to `--out`: the contact sheets, the report, the `.npz` and the JSON."""

import json
import os

import numpy as np

from keras_explain.cli.progress import Progress

#: Inputs on one page of a contact sheet.
PER_PAGE = 48

#: Per-input extras of an explanation copied into the JSON summary when present.
_SUMMARY_EXTRAS = (
    "completeness_gap",
    "additivity_gap",
    "expected_value",
    "score",
    "intercept",
    "local_pred",
)


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
            )
        )
        bar.close()
    return written


def prediction_text(explanation, i, class_names):
    """What the model predicted for input `i` and which output was explained, in words."""
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


def _sample_summary(explanation, i, names, notes, name_of, top):
    """The JSON summary of input `i`: its prediction, target and per-input figures."""
    predictions = explanation.predictions
    target = int(explanation.targets[i])
    row = {
        "index": i,
        "input": names[i],
        "note": notes[i],
        "target": target,
        "target_name": name_of(target),
        "attribution_sum": float(np.sum(explanation.attributions[i], dtype=np.float64)),
    }
    if predictions.ndim == 2 and predictions.shape[1] > 1:
        predicted = int(np.argmax(predictions[i]))
        order = np.argsort(-predictions[i], kind="stable")[:top]
        row.update(
            predicted=predicted,
            predicted_name=name_of(predicted),
            score=float(predictions[i, predicted]),
            target_score=float(predictions[i, target]),
            top=[
                {"output": int(k), "name": name_of(int(k)), "score": float(predictions[i, k])}
                for k in order
            ],
        )
    elif predictions.ndim == 2:
        row["output"] = float(predictions[i, 0])
    for key in _SUMMARY_EXTRAS:
        value = explanation.extras.get(key)
        if (
            isinstance(value, np.ndarray)
            and value.dtype.kind in "fiu"
            and len(value) == len(explanation)
            and value.ndim in (1, 2)
        ):
            row.setdefault(key, float(value[i] if value.ndim == 1 else value[i, 0]))
    if explanation.attributions.ndim == 2:
        from keras_explain.report import feature_rows

        row["features"] = [
            {"feature": label, "value": value, "weight": weight}
            for label, value, weight in feature_rows(
                explanation, i, explanation.attributions.shape[1]
            )
        ]
    return row


def write_json(explanation, path, class_names, top=5):
    """Write predictions, targets and per-input summaries as JSON; return the path."""
    from keras_explain.explanation import jsonable

    names = explanation.extras.get("input_names") or [f"#{i}" for i in range(len(explanation))]
    notes = explanation.extras.get("input_notes") or [None] * len(explanation)

    def name_of(k):
        return class_names[k] if class_names is not None and 0 <= k < len(class_names) else None

    samples = [
        _sample_summary(explanation, i, names, notes, name_of, top)
        for i in range(len(explanation))
    ]
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
